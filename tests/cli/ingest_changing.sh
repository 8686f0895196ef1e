#!/bin/sh
# A file that grows while it is read: a warning names it, the entry is
# kept (flagged partial) and the snapshot commits with exit 3.  Once it
# stops changing, the next ingest is whole again (exit 0).
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
D=$T/src/t
mkdir -p "$D"
echo steady >"$D/steady"
head -c $((128 << 20)) /dev/zero | tr '\0' 'a' >"$D/growing"
init_store "$S"
# Append all the time: reading 128 MiB takes far longer than one append.
( while [ ! -e "$T/stop" ]; do echo more >>"$D/growing"; done ) &
writer=$!
"$AMBER" ingest "$S" --dir t="$D" --json >"$T/out.json" 2>"$T/err"
rc=$?
touch "$T/stop"
wait $writer
cat "$T/err"
[ $rc -eq 3 ] || fail "ingest exited $rc, expected 3"
grep -q '^amber ingest: warning: files/t/growing: changed while being read$' \
    "$T/err" || fail "no warning naming growing"
[ "$(jget "$T/out.json" warnings)" = 1 ] || fail "warnings != 1"
"$AMBER" cat "$S" latest:files/t/steady >"$T/steady" || fail "cat steady"
[ "$(cat "$T/steady")" = steady ] || fail "steady content"

"$AMBER" ingest "$S" --dir t="$D" --json >"$T/out.json" ||
    fail "ingest of the settled tree exited $?"
"$AMBER" restore "$S" latest:files/t "$T/r" || fail restore
cmp "$D/growing" "$T/r/t/growing" || fail "growing differs"
echo ok
