#!/bin/sh
# An unreadable file and an unreadable directory: the snapshot still
# commits, amber ingest exits 3, and the warnings and the summary name
# both.  Root reads everything, so as root the ingest runs as nobody.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
D=$T/src/t
mkdir -p "$D/locked" "$D/ok"
echo secret >"$D/secret.txt"
echo inside >"$D/locked/x"
echo fine >"$D/ok/f"
nl='
'
echo hidden >"$D/bad${nl}name"
chmod 000 "$D/secret.txt" "$D/locked" "$D/bad${nl}name"
init_store "$S"
mkdir -p "$XDG_CACHE_HOME"

set --
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null ||
	    { echo "root reads everything and setpriv is missing"; exit 77; }
	set -- setpriv --reuid=65534 --regid=65534 --clear-groups
	chmod 755 "$T" "$T/src"
	chown -R 65534:65534 "$S" "$XDG_CACHE_HOME"
	"$@" test -r "$AMBER" || { echo "nobody cannot run $AMBER"; exit 77; }
fi

"$@" "$AMBER" ingest "$S" --dir t="$D" --json >"$T/out.json" 2>"$T/err"
rc=$?
cat "$T/err"
[ $rc -eq 3 ] || fail "ingest exited $rc, expected 3"
grep -q '^amber ingest: warning: files/t/secret.txt: ' "$T/err" ||
    fail "no warning naming secret.txt"
grep -q '^amber ingest: warning: files/t/locked: ' "$T/err" ||
    fail "no warning naming locked"
# A name with a newline is escaped: one warning, one line.
grep -q '^amber ingest: warning: files/t/bad\\nname: ' "$T/err" ||
    fail "no escaped warning naming bad\\nname"
[ "$(grep -c . "$T/err")" = 3 ] || fail "not one line per warning"
[ "$(jget "$T/out.json" warnings)" = 3 ] || fail "warnings != 3"
[ "$(jget "$T/out.json" partial)" = true ] || fail "not partial"
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["sources"]
assert s == [{"source": "files/t", "warnings": 3, "failed": False,
              "stale": False}], s' "$T/out.json" || fail "sources: $(cat "$T/out.json")"
# Without --json the summary (stderr) names the partial source too.
"$@" "$AMBER" ingest "$S" --dir t="$D" >"$T/out2" 2>"$T/err2"
rc=$?
[ $rc -eq 3 ] || fail "second ingest exited $rc"
grep -q 'files/t: partial' "$T/err2" || { cat "$T/err2"; fail "summary"; }

"$@" "$AMBER" snapshots "$S" --json >"$T/snaps.json" || fail "snapshots"
python3 -c 'import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 2 and all(s["partial"] for s in l), l' "$T/snaps.json" ||
    fail "snapshots: $(cat "$T/snaps.json")"
# What could be read was stored.
"$@" "$AMBER" cat "$S" "latest:files/t/ok/f" >"$T/f" || fail "cat ok/f"
[ "$(cat "$T/f")" = fine ] || fail "ok/f content"
echo ok
