#!/bin/sh
# W1 adds 100 junk copies of one chunk, each in its own pack with a valid
# table, all sorting before the genuine one.  Every location is kept and
# tried in turn: the file still reads, from a fresh index and an old one,
# and verify names every junk pack.  (Before, the index kept the first
# location only and the file could not be read.)  The time of the read
# is printed, not asserted.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/common.inc"

N=100
printf 'junk\n' >"$T/junk"
"$FORGE" chunk "$KEY" "$S" "$T/d/secret.txt" "$T/junk" $N >"$T/packs" ||
    fail "forge chunk"
[ "$(wc -l <"$T/packs")" -eq $N ] || fail "forger wrote $(wc -l <"$T/packs")"

# The old index (this machine's) first: it learns the new packs.
expect 0 "$AMBER" cat "$S" latest:files/d/secret.txt
cmp -s "$T/out" "$T/d/secret.txt" || fail "old index: cat gave $(cat "$T/out")"
fresh_index
t0=$(date +%s%N)
expect 0 "$AMBER" cat "$S" latest:files/d/secret.txt
t1=$(date +%s%N)
cmp -s "$T/out" "$T/d/secret.txt" || fail "fresh index: cat gave $(cat "$T/out")"
err_has "of its $((N + 1)) locations failed"
echo "# cat with $N junk copies, fresh index: $(( (t1 - t0) / 1000000 )) ms"

expect 5 "$AMBER" verify "$S" --read-data
while read -r p; do
	grep -qF "$p" "$T/out" || fail "verify does not name $p"
done <"$T/packs"
exit 0
