#!/bin/sh
# amber snapshots --max-age: the monitoring form reads only the newest
# snapshots from the index's records (issue 19, Scale), and says what the
# full listing says of them.  It lists the snapshots dated within the
# duration and, if it is older, latest; the exit status says whether
# latest is recent enough.  A snapshot dated in the future is listed and
# flagged but never latest; a snapshot committed in the same second as
# another is named -2 in both forms; after the index is deleted, the
# same lines.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
init_store "$S"
mkdir -p "$T/d"
at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
n=0
ing() { # TIME
	n=$((n + 1))
	echo "$n" >"$T/d/f"
	"$AMBER" ingest "$S" --dir d="$T/d" --time "$1" -q ||
	    fail "ingest at $1"
}
# lines DURATION: the listing of --max-age DURATION (status in $rc)
lines() {
	"$AMBER" snapshots "$S" --max-age "$1" >"$T/out" 2>"$T/err"
	rc=$?
}

old=$(at -259200)	# three days ago
ing "$old"
ing "$(at -172800)"	# two days ago
lines 1d
[ "$rc" -eq 1 ] || fail "--max-age 1d: status $rc, newest is 2 days old"
grep -q "more than --max-age" "$T/err" || fail "no message: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "1d lists $(cat "$T/out")"
[ "$(cat "$T/out")" = "$("$AMBER" snapshots "$S" | tail -1)" ] ||
    fail "--max-age and the full listing disagree: $(cat "$T/out")"

now=$(at 0)
ing "$now"
ing "$now"	# the same second: NAME-2
lines 1h
[ "$rc" -eq 0 ] || fail "--max-age 1h: status $rc: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "1h lists $(cat "$T/out")"
grep -q "^$now-2 " "$T/out" || fail "no $now-2 in $(cat "$T/out")"
[ "$(cat "$T/out")" = "$("$AMBER" snapshots "$S" | tail -2)" ] ||
    fail "1h: the forms disagree"
lines 2d12h
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "2d12h lists $(cat "$T/out")"

# Dated in the future: flagged, listed, never latest.
ing "$(at 86400)"
lines 1h
[ "$rc" -eq 0 ] || fail "a future snapshot made latest stale: $rc"
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "future: lists $(cat "$T/out")"
grep -q "future" "$T/out" || fail "the future snapshot is not flagged"
[ "$(cat "$T/out")" = "$("$AMBER" snapshots "$S" | tail -3)" ] ||
    fail "future: the forms disagree"

# The index deleted: the records are made again, the same lines.
cp "$T/out" "$T/before"
rm -rf "$T/cache"
lines 1h
cmp -s "$T/out" "$T/before" || fail "after a rebuild: $(cat "$T/out")"
exit 0
