#!/bin/sh
# W1 (an ingest key) knows a file's plaintext and seals other bytes under
# that chunk's id and key, in a pack of its own, while the genuine copy
# lies in a pack that a prune leaves mostly dead.  The repack must not
# count on the forged copy (its pack stays, and is all "live"): it must
# copy the genuine blob, checked, before it deletes the old pack.  After
# the prune every kept file reads back genuine from a fresh index and
# from the prune's own, restore too, and verify --read-data names the
# forged pack (the only damage).  A repack that took any location of a
# live chunk on trust would have deleted the only genuine copy.  A rerun
# has nothing to repack: the new pack, and the forged ones, are all
# live.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/common.inc"

# The genuine secret shares a pack with a big file that then expires.
printf 'second genuine secret: api_key=0123456789abcdef\n' >"$T/d/secret2.txt"
head -c 200000 /dev/urandom >"$T/d/big"
sleep 1
expect 0 "$AMBER" ingest "$S" --dir "d=$T/d"
find "$S/packs" -type f | sort >"$T/packs.before"
rm "$T/d/big"
sleep 1
expect 0 "$AMBER" ingest "$S" --dir "d=$T/d"
expect 0 "$AMBER" policy set "$S" --keep-last 1

printf 'forged: api_key=attacker\n' >"$T/forged"
"$FORGE" chunk "$KEY" "$S" "$T/d/secret2.txt" "$T/forged" 3 >"$T/packs" ||
    fail "forge chunk"
[ "$(wc -l <"$T/packs")" -eq 3 ] || fail "forger wrote $(wc -l <"$T/packs")"
# The index of the machine that prunes knows the forged packs (a rebuild
# reads every pack, as after another machine's prune), so they count as
# referenced: each holds a location of a chunk the kept snapshot uses.
expect 0 "$AMBER" index rebuild "$S"
expect 0 "$AMBER" cat "$S" latest:files/d/secret2.txt
cmp -s "$T/out" "$T/d/secret2.txt" || fail "before prune: cat gave $(cat "$T/out")"

expect 0 "$AMBER" prune "$S" --grace 0s --json
cp "$T/out" "$T/prune.json"
for how in old fresh; do
	[ $how = fresh ] && fresh_index
	expect 0 "$AMBER" cat "$S" latest:files/d/secret2.txt
	cmp -s "$T/out" "$T/d/secret2.txt" ||
	    fail "$how index: cat gave $(cat "$T/out")"
	rm -rf "$T/r"
	expect 0 "$AMBER" restore "$S" latest "$T/r"
	diff -r "$T/d" "$T/r/files/d" >&2 || fail "$how index: restore differs"
done
python3 - "$T/prune.json" "$T/packs" <<'PY' || fail "the genuine copy was not repacked"
import json, sys
p = json.load(open(sys.argv[1]))
forged = set(open(sys.argv[2]).read().split())
assert not forged & {o["object"] for o in p["objects"]}, p
assert p["packs_repacked"] == 1 and p["chunks_copied"] == 1, p
PY
# The big file's pack went; every forged one stays (all its entries are
# of a live chunk).
big_pack=$(python3 -c 'import json,sys; print([o["object"] for o in json.load(open(sys.argv[1]))["objects"] if o["repacked"] and o["bytes"] > 200000][0])' "$T/prune.json") ||
    fail "the big file's pack was not repacked"
grep -qF "$big_pack" "$T/packs.before" || fail "repacked $big_pack, not the big file's pack"
[ -e "$S/$big_pack" ] && fail "$big_pack is still there"
while read -r p; do
	[ -e "$S/$p" ] || [ -e "$p" ] || fail "forged pack $p is gone"
done <"$T/packs"

expect 5 "$AMBER" verify "$S" --read-data
while read -r p; do
	grep -qF "$(basename "$p")" "$T/out" || fail "verify does not name $p"
done <"$T/packs"
grep -q "missing" "$T/out" && fail "verify reports missing data: $(cat "$T/out")"

expect 0 "$AMBER" prune "$S" --grace 0s --repack-threshold 100 --json
python3 - "$T/out" <<'PY' || fail "a rerun repacked"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["packs_repacked"] == 0 and p["packs_written"] == 0, p
PY
exit 0
