#!/bin/sh
# W2 (no key) copies a genuine pack's sealed table into a new pack of
# junk, named by its own hash, that sorts first.  The table opens (its key
# is the store's), but it is bound to the bytes of the pack it was made
# for: a local store's index sees that the copy's bytes are not those,
# and puts its locations after every sound one, so that reads never even
# try them; verify names the copy.  (Before, the junk pack's locations were taken
# and the snapshot could not be read from a fresh index.)
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/common.inc"

for p in $(cd "$S" && find packs -type f); do
	"$FORGE" table "$S" "$p" >>"$T/packs" || fail "forge table $p"
done
fresh_index
expect 0 "$AMBER" cat "$S" latest:files/d/secret.txt
cmp -s "$T/out" "$T/d/secret.txt" || fail "cat gave $(cat "$T/out")"
err_has "a table copied into another pack"
grep -q "locations failed" "$T/err" &&
    fail "a copied table cost a read: $(cat "$T/err")"

expect 5 "$AMBER" verify "$S" --read-data
while read -r p; do
	grep -F "$p" "$T/out" | grep -q "copied into another pack" ||
	    fail "verify does not name $p as a copy: $(cat "$T/out")"
done <"$T/packs"
exit 0
