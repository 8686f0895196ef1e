#!/bin/sh
# Two ingests into one store at once both succeed, both snapshots are
# listed under the names the ingests printed (commits take turns, so a
# name once shown never changes), and each restores right.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
init_store "$S"
for s in a b; do
	mkdir -p "$T/src/$s/sub"
	head -c 4000000 /dev/urandom >"$T/src/$s/data"
	head -c 1000000 /dev/urandom >"$T/src/$s/sub/more"
	# Some data in common, so both dedup against the same chunks.
	yes common | head -c 2000000 >"$T/src/$s/common"
done
# Prime the store's index once, so both runs start from the same state.
"$AMBER" snapshots "$S" >/dev/null || fail "snapshots"

"$AMBER" ingest "$S" --dir a="$T/src/a" --json >"$T/a.json" 2>"$T/a.err" &
pa=$!
"$AMBER" ingest "$S" --dir b="$T/src/b" --json >"$T/b.json" 2>"$T/b.err" &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
cat "$T/a.err" "$T/b.err"
[ $ra -eq 0 ] || fail "ingest a exited $ra"
[ $rb -eq 0 ] || fail "ingest b exited $rb"
ida=$(jget "$T/a.json" id)
idb=$(jget "$T/b.json" id)
[ "$ida" != "$idb" ] || fail "same id"

"$AMBER" snapshots "$S" --json >"$T/snaps.json" || fail "snapshots"
python3 -c 'import json, sys
ids = sorted(s["id"] for s in json.load(open(sys.argv[1])))
assert ids == sorted(sys.argv[2:]), ids' "$T/snaps.json" "$ida" "$idb" ||
    fail "snapshots: $(cat "$T/snaps.json")"
na=$(jget "$T/a.json" name)
nb=$(jget "$T/b.json" name)
python3 -c 'import json, sys
names = {s["id"]: s["name"] for s in json.load(open(sys.argv[1]))}
for i, n in zip(sys.argv[2::2], sys.argv[3::2]):
    assert names[i] == n, (n, names[i])' "$T/snaps.json" "$ida" "$na" \
    "$idb" "$nb" || fail "a printed name is not the name listed"
"$AMBER" restore "$S" "$na:files/a" "$T/r" || fail "restore a"
"$AMBER" restore "$S" "$nb:files/b" "$T/r" || fail "restore b"
tree_cmp "$T/src/a" "$T/r/a"
tree_cmp "$T/src/b" "$T/r/b"
"$AMBER" verify "$S" >"$T/verify" 2>&1 || { cat "$T/verify"; fail verify; }
echo ok
