#!/bin/sh
# git_mtime.sh: the entries of a branch or tag inherit its directory's
# mtime, the tip's commit time (STORE_ENTRY_MTIME_INHERIT).  restore and
# ls show that time for files, symlinks and directories, from any
# starting path; two branches that share a subtree show each its own
# time.  Since no stored tree depends on the time, a commit that
# changes one deep file stores only the trees on that file's path: the
# second ingest adds a small fraction of what re-storing every directory
# of the branch would (what it did when the tip's time was in each
# entry).
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/git_common.inc"

S=$T/store
jget() { # KEY: a top-level field of the JSON object in $T/out
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	    "$T/out" "$1"
}

# 20 x 20 directories, a file in each: 421 trees below the branch.
git init -q "$T/src" || fail "git init"
(
cd "$T/src" || exit 1
set -e
for a in $(seq 10 29); do
	for b in $(seq 10 29); do
		mkdir -p "d$a/e$b"
		echo "file $a $b" >"d$a/e$b/f.txt"
	done
done
ln -s ../d10/e10/f.txt d11/link
when 1
git add -A
git commit -q -m one
git branch old
when 2
echo changed >>d29/e29/f.txt
git commit -q -a -m two
git tag -a -m "tag two" v2
) || fail "building the repository"
t_old=$(git -C "$T/src" log -1 --format=%ct old)
t_main=$(git -C "$T/src" log -1 --format=%ct main)
[ "$t_old" != "$t_main" ] || fail "the two tips share a time"

new_store "$S"
expect 0 "$AMBER" ingest "$S" --repo r="$T/src" --json

# restore of a branch: every file, symlink and directory has the tip's
# time; the other branch, restored beside it, has its own.
expect 0 "$AMBER" restore "$S" latest:repos/r/branches "$T/b"
for br in main:$t_main old:$t_old; do
	d=$T/b/branches/${br%%:*}
	want=${br#*:}
	find "$d" -exec stat -c '%Y %n' {} + | grep -v "^$want " >"$T/bad"
	[ -s "$T/bad" ] && { head -5 "$T/bad" >&2; fail "$d: mtime not $want"; }
	[ "$(find "$d" -type f | wc -l)" = 400 ] || fail "$d: not 400 files"
done
[ -L "$T/b/branches/main/d11/link" ] || fail "symlink lost"

# Restoring from deeper down gives the same times.
expect 0 "$AMBER" restore "$S" latest:repos/r/branches/old/d29/e29/f.txt "$T/one"
[ "$(stat -c %Y "$T/one/f.txt")" = "$t_old" ] || fail "one file's mtime"
expect 0 "$AMBER" restore "$S" latest:repos/r/branches/main/d10 "$T/sub"
[ "$(stat -c %Y "$T/sub/d10/e10/f.txt")" = "$t_main" ] ||
    fail "mtime of a file below a restored subdirectory"
[ "$(stat -c %Y "$T/sub/d10")" = "$t_main" ] || fail "subdirectory mtime"
# A tag's directory: its commit's time.
expect 0 "$AMBER" restore "$S" latest:repos/r/tags/v2/d10/e10 "$T/tag"
[ "$(stat -c %Y "$T/tag/e10/f.txt")" = "$t_main" ] || fail "tag mtime"

# ls: -l and --json show the effective time, listing or naming one entry.
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
expect 0 "$AMBER" ls "$S" latest:repos/r/branches/old/d10/e10 --json
out_has "\"mtime\":\"$(iso "$t_old")\""
out_has "\"mtime_sec\":$t_old,"
expect 0 "$AMBER" ls "$S" latest:repos/r/branches/old/d10/e10/f.txt --json
out_has "\"mtime_sec\":$t_old,"
expect 0 "$AMBER" ls "$S" latest:repos/r/branches/main -R -l
grep -c "$(iso "$t_main")" "$T/out" >"$T/n"
[ "$(cat "$T/n")" = "$(wc -l <"$T/out")" ] || fail "ls -R -l: a time not the tip's"
grep -q "$(iso "$t_old")" "$T/out" && fail "ls -R -l of main shows old's time"
expect 0 "$AMBER" ls "$S" latest:repos/r/branches -l
grep -q "$(iso "$t_old") old\$" "$T/out" || fail "ls -l branches: old's time"
grep -q "$(iso "$t_main") main\$" "$T/out" || fail "ls -l branches: main's time"

# One commit changing one deep file: only the trees on its path are new.
# The cost of re-storing every tree of the branch: ingest the same trees
# under a new tip whose tree is new everywhere (every file changed).
(cd "$T/src" && when 3 && echo again >>d20/e20/f.txt &&
    git commit -q -a -m three) || fail "commit three"
expect 0 "$AMBER" ingest "$S" --repo r="$T/src" --json
small=$(jget added)
expect 0 "$AMBER" restore "$S" latest:repos/r/branches/main/d20/e20/f.txt "$T/three"
[ "$(stat -c %Y "$T/three/f.txt")" = "$(git -C "$T/src" log -1 --format=%ct)" ] ||
    fail "mtime after the second ingest"
(cd "$T/src" && when 4 &&
    for f in d*/e*/f.txt; do echo all >>"$f"; done &&
    git commit -q -a -m four) || fail "commit four"
expect 0 "$AMBER" ingest "$S" --repo r="$T/src" --json
all=$(jget added)
echo "added: one file changed $small, every file changed $all"
[ "$small" -gt 0 ] && [ "$all" -gt 0 ] || fail "no added figures"
[ $((small * 10)) -lt "$all" ] ||
    fail "one changed file added $small bytes, every file $all"
exit 0
