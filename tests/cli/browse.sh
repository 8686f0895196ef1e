#!/bin/sh
# snapshots, ls and cat: names with colons in SNAPSHOT:PATH, "-2" names
# for one second, id prefixes, latest and future-dated snapshots, JSON
# output, escaped names on request, errors for missing things.
. "$(dirname "$0")/lib.sh"
new_store_src
mkdir -p "$D/dir/sub"
printf 'alpha\n' >"$D/a.txt"
printf 'beta\n' >"$D/dir/b.txt"
printf 'gamma\n' >"$D/dir/sub/c.txt"
ln -s a.txt "$D/link"
printf 'odd\n' >"$D/$(printf 'x\ny\377')"
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time 2026-11-27T03:00:00Z \
    --tag nightly --host hostA
printf 'alpha 2\n' >"$D/a.txt"
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time 2026-11-27T03:00:00Z
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time 2099-01-01T00:00:00Z

expect 0 "$AMBER" snapshots "$S"
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "3 snapshots: $(cat "$T/out")"
sed -n 1p "$T/out" | grep -q '^2026-11-27T03:00:00Z .*hostA.*nightly.*files/src' ||
    fail "first line: $(sed -n 1p "$T/out")"
sed -n 2p "$T/out" | grep -q '^2026-11-27T03:00:00Z-2 ' ||
    fail "second line: $(sed -n 2p "$T/out")"
sed -n 3p "$T/out" | grep -q '^2099-01-01T00:00:00Z .*\[future\]' ||
    fail "third line: $(sed -n 3p "$T/out")"
expect 0 "$AMBER" snapshots "$S" --json
python3 - "$T/out" >"$T/ids" <<'PY' || fail "snapshots --json: $(cat "$T/out")"
import json, sys
a = json.load(open(sys.argv[1]))
assert [s["name"] for s in a] == ["2026-11-27T03:00:00Z",
    "2026-11-27T03:00:00Z-2", "2099-01-01T00:00:00Z"], a
assert a[0]["host"] == "hostA" and a[0]["tags"] == ["nightly"], a[0]
assert a[0]["sources"][0]["kind"] == "files", a[0]
assert a[0]["sources"][0]["name"] == "src", a[0]
assert a[2]["future"] is True and a[0]["future"] is False, a
assert len(a[0]["id"]) == 64
for s in a:
    print(s["id"])
PY
id1=$(sed -n 1p "$T/ids")

# latest is the newest not in the future: the "-2" one.
expect 0 "$AMBER" cat "$S" latest:files/src/a.txt
[ "$(cat "$T/out")" = "alpha 2" ] || fail "latest: $(cat "$T/out")"
# A name with colons, then PATH after the colon that follows it.
expect 0 "$AMBER" cat "$S" 2026-11-27T03:00:00Z:files/src/a.txt
[ "$(cat "$T/out")" = "alpha" ] || fail "by name: $(cat "$T/out")"
expect 0 "$AMBER" cat "$S" 2026-11-27T03:00:00Z-2:/files//src/./a.txt
[ "$(cat "$T/out")" = "alpha 2" ] || fail "by -2 name: $(cat "$T/out")"
expect 0 "$AMBER" cat "$S" "$(echo "$id1" | cut -c1-10):files/src/a.txt"
[ "$(cat "$T/out")" = "alpha" ] || fail "by id prefix: $(cat "$T/out")"
expect 0 "$AMBER" cat "$S" latest:files/src/link
[ "$(cat "$T/out")" = "a.txt" ] || fail "cat of a symlink: $(cat "$T/out")"

# Errors.
expect 1 "$AMBER" cat "$S" latest:files/src/dir
err_has "is a directory"
expect 1 "$AMBER" cat "$S" latest:files/src/nope
err_has "no such file or directory"
expect 1 "$AMBER" cat "$S" latest:files/src/a.txt/more
expect 1 "$AMBER" ls "$S" 2001-01-01T00:00:00Z
err_has "no such snapshot"
expect 1 "$AMBER" ls "$S" ffffffffffff
expect 2 "$AMBER" ls "$S" latest:files/../files

# ls: the root, a directory, one file, -l, -R, --json.
expect 0 "$AMBER" ls "$S" latest
[ "$(cat "$T/out")" = files ] || fail "ls root: $(cat "$T/out")"
expect 0 "$AMBER" ls "$S" latest:files
[ "$(cat "$T/out")" = src ] || fail "ls files: $(cat "$T/out")"
expect 0 "$AMBER" ls "$S" latest:files/src/dir
[ "$(cat "$T/out")" = "$(printf 'b.txt\nsub')" ] || fail "ls dir: $(cat "$T/out")"
expect 0 "$AMBER" ls "$S" latest:files/src/a.txt -l
grep -q '^-rw-r--r-- .* 8 .* a\.txt$' "$T/out" || fail "ls -l file: $(cat "$T/out")"
expect 0 "$AMBER" ls -l "$S" latest:files/src/link
grep -q '^lrwxrwxrwx .* link -> a\.txt$' "$T/out" || fail "ls -l link: $(cat "$T/out")"
expect 0 "$AMBER" ls -R -b "$S" latest:files/src
cat >"$T/want" <<'W'
a.txt
dir
dir/b.txt
dir/sub
dir/sub/c.txt
link
x\ny\xff
W
diff "$T/want" "$T/out" >&2 || fail "ls -R -b"
expect 0 "$AMBER" ls -R "$S" latest:files/src --json
python3 - "$T/out" <<'PY' || fail "ls --json: $(cat "$T/out")"
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])]
by = {x["path"]: x for x in e}
assert by["dir/sub/c.txt"]["type"] == "file" and by["dir/sub/c.txt"]["size"] == 6
assert by["dir"]["type"] == "dir"
assert by["link"]["type"] == "symlink" and by["link"]["target"] == "a.txt"
odd = [x for x in e if "name_hex" in x]
assert len(odd) == 1 and odd[0]["name_hex"] == "780a79ff", odd
assert by["a.txt"]["mode"] == 0o644
PY
exit 0
