#!/bin/sh
# amber ingest --uploads N: packs put on threads of their own.  A store
# written with several uploads at once restores byte for byte and
# verifies; a put that fails (strace's fault injection) fails the
# ingest with a message and
# commits no snapshot, and a rerun then completes it; bad values of N
# are usage errors.  The S3 tests (tests/s3/) run the same code with the
# default of 4 uploads against the test RGW.
. "$AMBER_TOP/tests/cli/lib.sh"

big_src

expect 2 "$AMBER" ingest "$S" --dir d="$D" --uploads 0
err_has "--uploads 0: a number from 1 to 64"
expect 2 "$AMBER" ingest "$S" --dir d="$D" --uploads 65
err_has "--uploads 65: a number from 1 to 64"
[ -z "$(ls "$S/snapshots" 2>/dev/null)" ] ||
    fail "a usage error made a snapshot"

# A put that fails: every linkat(2) fails with ENOSPC.
failed_put "$S" --dir d="$D" --uploads 2

# The rerun completes, with three uploads at once.
expect 0 "$AMBER" ingest "$S" --dir d="$D" --uploads 3
[ "$(ls "$S/snapshots" | wc -l)" -eq 1 ] || fail "not one snapshot"
n=$(find "$S/packs" -type f | wc -l)
[ "$n" -ge 3 ] || fail "45 MB of random data in $n pack(s)"
expect 0 "$AMBER" verify "$S" --read-data
expect 0 "$AMBER" restore "$S" latest:files/d "$T/r"
same_tree "$D" "$T/r/d"
echo ok
