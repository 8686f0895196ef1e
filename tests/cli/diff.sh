#!/bin/sh
# diff.sh: amber diff between real snapshots.  A tree with a file whose
# content changes, one removed, one added, one whose mode alone changes,
# a file that becomes a directory, a symbolic link retargeted and a deep
# subtree that does not change; the exact listing, the trees read (the
# unchanged subtree is not), a PATH argument, --json parsed by python3,
# --stat figures, the exit statuses (0 same, 1 different, 2 trouble, 4
# wrong passphrase).  Then a git branch whose tip moves: the inherited
# mtime is reported once, on the branch's directory.
. "$AMBER_TOP/tests/cli/lib.sh"
command -v python3 >/dev/null || { echo "python3 is needed"; exit 77; }

new_store_src

mkdir -p "$D/keep/a/b/c/d/e/f/g/h" "$D/sub"
printf 'old\n' >"$D/content"		# 4 bytes, then 9
printf 'gone!\n' >"$D/removed"		# 6 bytes
printf 'mode\n' >"$D/modeonly"
printf 'file\n' >"$D/typechange"	# 5 bytes, then a directory
printf 'deep\n' >"$D/keep/a/b/c/d/e/f/g/h/leaf"
printf 'same\n' >"$D/sub/same"
ln -s content "$D/link"
expect 0 "$AMBER" ingest "$S" --dir s="$D" --time 2026-01-01T00:00:00Z -q

printf 'new text\n' >"$D/content"
rm "$D/removed"
printf 'hello, world\n' >"$D/added"	# 13 bytes
chmod 0600 "$D/modeonly"
rm "$D/typechange"
mkdir "$D/typechange"
printf 'inner\n' >"$D/typechange/inner"	# 6 bytes
ln -sf sub "$D/link"
expect 0 "$AMBER" ingest "$S" --dir s="$D" --time 2026-01-02T00:00:00Z -q
A=2026-01-01T00:00:00Z
B=2026-01-02T00:00:00Z

# The listing, in tree order; the source's root directory changed its
# mtime ('m'); keep/ and sub/ did not change and are not listed.
expect 1 "$AMBER" diff "$S" "$A" "$B" --verbose
cat >"$T/want" <<'EOF'
m    files/s/
+    files/s/added
M    files/s/content
M    files/s/link
m    files/s/modeonly
-    files/s/removed
T    files/s/typechange/
+    files/s/typechange/inner
EOF
diff "$T/want" "$T/out" >&2 || fail "diff listing differs"
# Trees read: the root, files/, files/s/ on each side, typechange/:
# nothing below keep/ (nine levels) nor sub/.
err_has "amber diff: 7 trees read, 8 changes"

# The other way round.
expect 1 "$AMBER" diff "$S" "$B" "$A"
grep -q -x -F -- '-    files/s/added' "$T/out" || fail "reverse: added"
grep -q -x -F -- '+    files/s/removed' "$T/out" || fail "reverse: removed"
grep -q -x -F -- '-    files/s/typechange/inner' "$T/out" ||
    fail "reverse: the directory's content"

# The same snapshot twice, an id prefix, and latest: no difference.
id=$("$AMBER" snapshots "$S" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:12])' 2>/dev/null ||
    "$AMBER" snapshots "$S" | awk 'NR == 1 { print $2 }')
expect 0 "$AMBER" diff "$S" "$A" "$id"
[ ! -s "$T/out" ] || fail "a snapshot differs from itself"
expect 1 "$AMBER" diff "$S" "$id" latest
[ "$(wc -l <"$T/out")" -eq 8 ] || fail "latest is not the second snapshot"

# PATH: a file that became a directory, an unchanged subtree, a path
# only in B, a path in neither.
expect 1 "$AMBER" diff "$S" "$A" "$B" files/s/typechange
printf 'T    files/s/typechange/\n+    files/s/typechange/inner\n' >"$T/want"
diff "$T/want" "$T/out" >&2 || fail "PATH: listing differs"
expect 0 "$AMBER" diff "$S" "$A" "$B" /files/s/keep/ --verbose
[ ! -s "$T/out" ] || fail "PATH: unchanged subtree listed"
err_has "amber diff: 0 trees read"
expect 1 "$AMBER" diff "$S" "$A" "$B" files/s/added
printf '+    files/s/added\n' >"$T/want"
diff "$T/want" "$T/out" >&2 || fail "PATH: added file"
expect 2 "$AMBER" diff "$S" "$A" "$B" files/s/nowhere
err_has "files/s/nowhere: in neither snapshot"
expect 2 "$AMBER" diff "$S" "$A" "$B" files/../etc
err_has "PATH may not hold '..'"

# --json: one object per line, exact fields.
expect 1 "$AMBER" diff "$S" "$A" "$B" --json
python3 - "$T/out" <<'EOF' || fail "--json output"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
got = [(r["change"], r["path"], r["type"]) for r in rows]
want = [("m", "files/s", "dir"), ("+", "files/s/added", "file"),
        ("M", "files/s/content", "file"), ("M", "files/s/link", "symlink"),
        ("m", "files/s/modeonly", "file"), ("-", "files/s/removed", "file"),
        ("T", "files/s/typechange", "dir"),
        ("+", "files/s/typechange/inner", "file")]
assert got == want, got
by = {r["path"]: r for r in rows}
assert by["files/s/content"]["old_size"] == 4, by["files/s/content"]
assert by["files/s/content"]["size"] == 9, by["files/s/content"]
assert by["files/s/typechange"]["old_type"] == "file"
assert by["files/s/removed"]["type"] == "file"
assert "size" not in by["files/s/removed"]
EOF

# --stat: counts and bytes.  Added or changed on B's side: added (13),
# content (9), typechange/inner (6); on A's: content (4), removed (6),
# typechange (5).  Each file is one chunk, none shared across the sides.
expect 1 "$AMBER" diff "$S" "$A" "$B" --stat
cat >"$T/want" <<'EOF'
files:         2 added, 1 removed, 1 modified
dirs:          0 added, 0 removed
others:        0 added, 0 removed, 1 modified
type changed:  1
metadata only: 2
bytes:         28 added, 15 removed
data:          28 added, 15 removed
EOF
diff "$T/want" "$T/out" >&2 || fail "--stat figures differ"
expect 1 "$AMBER" diff "$S" "$A" "$B" --stat --json
python3 - "$T/out" <<'EOF' || fail "--stat --json"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
s = json.loads(lines[0])
want = {"files_added": 2, "files_removed": 1, "files_modified": 1,
        "dirs_added": 0, "dirs_removed": 0, "others_added": 0,
        "others_removed": 0, "others_modified": 1, "type_changed": 1,
        "metadata_only": 2, "bytes_added": 28, "bytes_removed": 15,
        "data_added": 28, "data_removed": 15}
assert s == want, s
EOF

# A file whose content comes back: its chunk is on both sides, so the
# data figures leave it out while the byte figures count it.
cp "$D/added" "$D/copy"
printf 'old\n' >"$D/content"
expect 0 "$AMBER" ingest "$S" --dir s="$D" --time 2026-01-03T00:00:00Z -q
expect 1 "$AMBER" diff "$S" "$B" 2026-01-03T00:00:00Z files/s/copy --stat \
    --json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
assert s["bytes_added"] == 13 and s["data_added"] == 13, s' "$T/out" ||
    fail "a copy's bytes"
expect 1 "$AMBER" diff "$S" "$A" 2026-01-03T00:00:00Z files/s/content \
    --stat --json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
assert s["files_modified"] == 0 and s["metadata_only"] == 1, s' "$T/out" ||
    fail "content back as it was is not metadata only"

# Trouble: bad names, a PATH after the snapshot, usage, wrong passphrase,
# no store.
expect 2 "$AMBER" diff "$S" nope "$B"
err_has "nope: no such snapshot"
expect 2 "$AMBER" diff "$S" "$A" 2025-01-01T00:00:00Z
err_has "2025-01-01T00:00:00Z: no such snapshot"
expect 2 "$AMBER" diff "$S" "$A:files/s" "$B"
err_has "give the path as the fourth argument"
expect 2 "$AMBER" diff "$S" ":x" "$B"
err_has "not a snapshot name or id"
expect 2 "$AMBER" diff "$S" "$A"
err_has "usage: amber diff"
expect 2 "$AMBER" diff "$S" "$A" "$B" x y
expect 2 "$AMBER" diff "$S" "$A" "$B" --no-such-option
AMBER_PASSPHRASE=wrong expect 4 "$AMBER" diff "$S" "$A" "$B"
expect 2 "$AMBER" diff "$T/nostore" "$A" "$B"
[ ! -s "$T/out" ] || fail "output on trouble"
expect 0 "$AMBER" diff --help
out_has "usage: amber diff STORE A B [PATH]"
out_has "--stat"

# Git: a branch whose tip moves.  The files below branches/main inherit
# the tip's time; when one file changes, only it is listed, and the
# branch's directory is 'm' (its own, stored time).  An empty commit
# moves the time and nothing else: branches/main/ alone.
command -v git >/dev/null || { echo "ok (git part skipped: no git)"; exit 0; }
. "$AMBER_TOP/tests/cli/git_common.inc"
G=$T/git
git init -q "$G" || fail "git init"
(
cd "$G" || exit 1
set -e
mkdir -p x/y z
echo one >x/y/f
echo two >z/g
when 1
git add -A
git commit -q -m one
) || fail "building the repository"
expect 0 "$AMBER" ingest "$S" --repo r="$G" --time 2026-02-01T00:00:00Z -q
(cd "$G" && echo changed >x/y/f && when 2 && git commit -q -a -m two) ||
    fail "commit two"
expect 0 "$AMBER" ingest "$S" --repo r="$G" --time 2026-02-02T00:00:00Z -q
expect 1 "$AMBER" diff "$S" 2026-02-01T00:00:00Z 2026-02-02T00:00:00Z \
    repos/r/branches
cat >"$T/want" <<'EOF'
m    repos/r/branches/
m    repos/r/branches/main/
M    repos/r/branches/main/x/y/f
EOF
diff "$T/want" "$T/out" >&2 || fail "git: listing differs"
# The unchanged z/g did take the new time, as ls shows.
expect 0 "$AMBER" ls -l "$S" 2026-02-02T00:00:00Z:repos/r/branches/main/z
out_has "2024-01-01T00:02:00Z g"
(cd "$G" && when 3 && git commit -q --allow-empty -m three) ||
    fail "commit three"
expect 0 "$AMBER" ingest "$S" --repo r="$G" --time 2026-02-03T00:00:00Z -q
expect 1 "$AMBER" diff "$S" 2026-02-02T00:00:00Z 2026-02-03T00:00:00Z \
    repos/r/branches --verbose
printf 'm    repos/r/branches/\nm    repos/r/branches/main/\n' >"$T/want"
diff "$T/want" "$T/out" >&2 || fail "git: empty commit"
err_has "amber diff: 2 trees read"
echo ok
