#!/bin/sh
# After the upgrade to format 2, W1 adds a format 1 pack (a table not
# bound to its pack) holding a forged copy of a known chunk.  A store of
# format 2 never held such a pack: it is not indexed, the genuine bytes
# are read, and verify names it.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/common.inc"

printf 'forged in the old format\n' >"$T/forged"
"$FORGE" v1chunk "$KEY" "$S" "$T/d/secret.txt" "$T/forged" >"$T/packs" ||
    fail "forge v1chunk"
fresh_index
expect 0 "$AMBER" cat "$S" latest:files/d/secret.txt
cmp -s "$T/out" "$T/d/secret.txt" || fail "cat gave $(cat "$T/out")"
err_has "a format 1 pack in a format 2 store"
expect 5 "$AMBER" verify "$S" --read-data
out_has "$(cat "$T/packs")"
exit 0
