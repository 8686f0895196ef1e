#!/bin/sh
# W1 (an ingest key) plants junk under the chunk id of a file it expects
# someone to back up later (a public file: it knows the plaintext).  An
# honest host then backs that file up from a fresh index: it must not
# take the junk for a stored copy and leave its snapshot without the
# data.  (Before, the honest ingest deduplicated against the junk and
# the file could not be read back.)
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/common.inc"

mkdir -p "$T/pub"
printf 'a public file, e.g. a licence text everyone has\n' >"$T/pub/COPYING"
printf 'junk\n' >"$T/junk"
"$FORGE" chunk "$KEY" "$S" "$T/pub/COPYING" "$T/junk" 3 >"$T/packs" ||
    fail "forge chunk"

# The honest host, another machine: a fresh index, its own passphrase.
fresh_index
expect 0 "$AMBER" ingest "$S" --dir "pub=$T/pub"
expect 0 "$AMBER" cat "$S" latest:files/pub/COPYING
cmp -s "$T/out" "$T/pub/COPYING" || fail "cat gave $(cat "$T/out")"
# And from yet another machine.
fresh_index
expect 0 "$AMBER" cat "$S" latest:files/pub/COPYING
cmp -s "$T/out" "$T/pub/COPYING" || fail "fresh index: cat gave $(cat "$T/out")"

# A copy this machine checked once is trusted after: a second ingest
# of a changed tree stores nothing again for that file.
echo more >"$T/pub/other"
expect 0 "$AMBER" ingest "$S" --dir "pub=$T/pub"
expect 0 "$AMBER" cat "$S" latest:files/pub/COPYING
cmp -s "$T/out" "$T/pub/COPYING" || fail "second snapshot: $(cat "$T/out")"
exit 0
