#!/bin/sh
# --one-file-system records a mount point as an empty directory and does
# not descend; without it the mounted files are read.  Needs root (to
# mount a tmpfs); skips otherwise.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

D=$T/src/t
mkdir -p "$D/mnt"
echo outside >"$D/f"
[ "$(id -u)" -eq 0 ] || { echo "needs root to mount a tmpfs"; exit 77; }
mount -t tmpfs -o size=1m amber-test "$D/mnt" 2>/dev/null ||
    { echo "cannot mount a tmpfs here"; exit 77; }
trap 'umount "$D/mnt" 2>/dev/null; cleanup' EXIT
echo inside >"$D/mnt/g"
S=$T/store
init_store "$S"
"$AMBER" ingest "$S" --dir t="$D" --one-file-system -q || fail "ingest -x"
"$AMBER" restore "$S" latest:files/t "$T/r1" || fail "restore 1"
[ -d "$T/r1/t/mnt" ] || fail "mount point not recorded"
[ -z "$(ls -A "$T/r1/t/mnt")" ] || fail "descended into the mount"
[ -f "$T/r1/t/f" ] || fail "f missing"
"$AMBER" ingest "$S" --dir t="$D" -q || fail "ingest"
"$AMBER" restore "$S" latest:files/t "$T/r2" || fail "restore 2"
[ "$(cat "$T/r2/t/mnt/g")" = inside ] || fail "mounted file not read"
echo ok
