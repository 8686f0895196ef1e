#!/bin/sh
# Arguments: bad or clashing source names and other usage errors exit 2
# before anything is written; a wrong passphrase exits 4; a source that
# cannot be read fails alone (exit 3, carried forward when it can be);
# --time, --host, --tag are recorded; excludes leave out what they match.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
D=$T/src/d
mkdir -p "$D/sub/top" "$D/top" "$D/keep"
for f in a.o b.c sub/x.o sub/top/y keep/skip1 keep/z top/t; do
	echo "$f" >"$D/$f"
done
init_store "$S"
listing() { find "$S" "$XDG_CACHE_HOME" -type f 2>/dev/null | sort; }
"$AMBER" snapshots "$S" >/dev/null || fail "snapshots"
listing >"$T/before"

usage_err() { # ARGS...: amber ingest STORE ARGS... must exit 2, writing nothing
	"$AMBER" ingest "$S" "$@" >"$T/u.out" 2>"$T/u.err"
	rc=$?
	[ $rc -eq 2 ] || { cat "$T/u.err"; fail "exit $rc, not 2, for: $*"; }
	[ -s "$T/u.err" ] || fail "no message for: $*"
	listing | cmp -s - "$T/before" || fail "something was written for: $*"
}
long=$(printf '%0256d' 0)
usage_err --dir .hidden="$D"
usage_err --dir a/b="$D"
usage_err --dir =$D
usage_err --dir "a b=$D"
usage_err --dir "$long=$D"
usage_err --dir a
usage_err --dir a=
usage_err --dir a="$D" --dir a="$D"
usage_err --repo r="$D" --repo r.git="$D"
usage_err --dir a="$D" --time yesterday
usage_err --dir a="$D" --tag ""
usage_err --dir a="$D" --exclude-file "$T/nonexistent"
usage_err --dir a="$D" --no-such-option
usage_err
"$AMBER" ingest >/dev/null 2>&1
[ $? -eq 2 ] || fail "no STORE: not exit 2"
"$AMBER" ingest --help >"$T/help" || fail "--help"
grep -q -- --one-file-system "$T/help" || fail "--help lacks options"

AMBER_PASSPHRASE=wrong "$AMBER" ingest "$S" --dir a="$D" 2>"$T/err"
rc=$?
[ $rc -eq 4 ] || fail "wrong passphrase: exit $rc"
listing | cmp -s - "$T/before" || fail "wrong passphrase wrote something"

# Only source missing: nothing to commit.
"$AMBER" ingest "$S" --dir a="$T/nonexistent" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "missing only source: exit $rc"
"$AMBER" snapshots "$S" --json >"$T/s.json" || fail "snapshots"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' \
    "$T/s.json")" = 0 ] || fail "a snapshot was committed"

# Recorded metadata, and excludes: by name, by path, anchored, from a file.
printf '# comment\n\nkeep/skip*\r\n' >"$T/excl"
"$AMBER" ingest "$S" --dir a="$D" --dir b="$D/keep" --tag one --tag two \
    --host hostX --time 2001-02-03T04:05:06.5+01:00 --exclude '' --exclude '*.o' \
    --exclude /top --exclude-file "$T/excl" --json >"$T/o.json" ||
    fail "ingest exited $?"
[ "$(jget "$T/o.json" name)" = 2001-02-03T03:05:06Z ] ||
    fail "name $(jget "$T/o.json" name)"
"$AMBER" snapshots "$S" --json >"$T/s.json" || fail "snapshots"
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))[-1]
assert s["host"] == "hostX", s
assert s["tags"] == ["one", "two"], s
assert s["time"] == 981169506, s
assert sorted(x["name"] for x in s["sources"]) == ["a", "b"], s' "$T/s.json" ||
    fail "snapshot: $(cat "$T/s.json")"
"$AMBER" restore "$S" 2001-02-03T03:05:06Z:files/a "$T/r" || fail restore
(cd "$T/r/a" && find . | sort) >"$T/got"
printf '%s\n' . ./b.c ./keep ./keep/z ./sub ./sub/top ./sub/top/y >"$T/want"
diff "$T/want" "$T/got" || fail "excludes"

# One source unreadable: the other commits, exit 3, and the failed one
# is carried forward from the previous snapshot, flagged stale.
mv "$D/keep" "$T/keep.moved"
"$AMBER" ingest "$S" --dir a="$D" --dir b="$D/keep" --json >"$T/o.json" \
    2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "one missing source: exit $rc"
grep -q 'files/b' "$T/err" || fail "the failed source is not named"
python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
assert o["partial"] is True, o
assert o["sources"] == [{"source": "files/b", "warnings": 1,
    "failed": True, "stale": True}], o' "$T/o.json" ||
    fail "summary: $(cat "$T/o.json")"
"$AMBER" cat "$S" latest:files/b/z >"$T/z" || fail "stale copy of b"
[ "$(cat "$T/z")" = keep/z ] || fail "stale copy content"
echo ok
