#!/bin/sh
# The index is brought up to date from what the store holds, and an
# up-to-date index costs one listing of snapshots/: packs/ is listed again
# only when a snapshot is new or the last listing left a pack unread.
# Two index directories stand for two machines sharing one store.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
init_store "$S"
mkdir -p "$T/d"
echo one >"$T/d/f"
amb() { "$AMBER" "$@" --index-dir "$T/B" 2>>"$T/err"; }
"$AMBER" ingest "$S" --dir d="$T/d" --index-dir "$T/A" -q ||
    fail "ingest one"
[ "$(amb cat "$S" latest:files/d/f)" = one ] || fail "B reads one"

# A pack no snapshot references (an ingest still running or killed) is
# not looked at while every snapshot is indexed.
bad=$(printf 'ab%062d' 0)
mkdir -p "$S/packs/ab"
head -c 5000 /dev/urandom >"$S/packs/ab/$bad"
: >"$T/err"
amb snapshots "$S" >/dev/null || fail "snapshots with a stray pack"
grep -q "$bad" "$T/err" && fail "a stray pack was read: $(cat "$T/err")"

# A new snapshot from elsewhere: packs/ is listed, the stray pack named,
# and the new snapshot's data found.
echo two >"$T/d/f"
"$AMBER" ingest "$S" --dir d="$T/d" --index-dir "$T/A" -q ||
    fail "ingest two"
: >"$T/err"
[ "$(amb cat "$S" latest:files/d/f)" = two ] || fail "B reads two"
grep -q "$bad" "$T/err" || fail "the stray pack was not reported"
[ "$(amb snapshots "$S" | wc -l)" -eq 2 ] || fail "B lists two snapshots"

# The listing left a pack unread: the next sync lists packs/ again.
: >"$T/err"
amb snapshots "$S" >/dev/null || fail "snapshots again"
grep -q "$bad" "$T/err" || fail "an unread pack was not tried again"

# Once a listing reads every pack, the index is clean again.
rm -f "$S/packs/ab/$bad"
amb snapshots "$S" >/dev/null || fail "snapshots, stray pack gone"
head -c 5000 /dev/urandom >"$S/packs/ab/$bad"
: >"$T/err"
amb snapshots "$S" >/dev/null || fail "snapshots, clean index"
grep -q "$bad" "$T/err" && fail "a clean index listed packs/ again"
exit 0
