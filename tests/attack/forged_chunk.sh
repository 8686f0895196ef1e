#!/bin/sh
# W1 (an ingest key) knows a file's plaintext and seals other bytes under
# that chunk's id and key, in a pack the listing meets first.  Readers
# must return the genuine bytes from a fresh index, never the forgery,
# and verify --read-data must name the forged pack with the snapshot and
# path it touches.  (Before the identity check, `amber cat` on a fresh
# index printed the attacker's bytes and verify reported nothing.)
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/common.inc"

printf 'forged: db_password=attacker, replicas=0\n' >"$T/forged"
"$FORGE" chunk "$KEY" "$S" "$T/d/secret.txt" "$T/forged" >"$T/packs" ||
    fail "forge chunk"
pack=$(cat "$T/packs")

for how in fresh rebuilt; do
	if [ $how = fresh ]; then
		fresh_index
	else
		expect 0 "$AMBER" index rebuild "$S"
	fi
	expect 0 "$AMBER" cat "$S" latest:files/d/secret.txt
	cmp -s "$T/out" "$T/d/secret.txt" ||
	    fail "$how index: cat gave $(cat "$T/out")"
	grep -q "attacker" "$T/out" && fail "forged bytes returned"
done

fresh_index
expect 5 "$AMBER" verify "$S" --read-data
out_has "$pack"
out_has "d/secret.txt"
grep -F "$pack" "$T/out" | grep -q "not the chunk its id names" ||
    fail "verify does not say what is wrong with $pack: $(cat "$T/out")"

# restore, too, gives the genuine bytes.
fresh_index
expect 0 "$AMBER" restore "$S" latest:files/d/secret.txt "$T/r"
cmp -s "$T/r/secret.txt" "$T/d/secret.txt" || fail "restore gave forged bytes"
exit 0
