#!/bin/sh
# The kernel keeps link targets (FUSE_CAP_CACHE_SYMLINKS, fs/ops.c): a
# path walked through a link many times asks the daemon for its target
# once, where each walk asked again before (22,000 READLINKs for the 112
# links of a diff -r of two linux trees).  latest, whose target changes,
# is a new node for each new latest snapshot, so it still follows news.
# Requests are counted in the daemon's -d output.
. "$AMBER_TOP/tests/mount/lib.sh"

mk_store S
mkdir -p src/dir/sub
echo one >src/dir/sub/f
ln -s dir/sub src/link
ln -s sub/f src/dir/flink
ingest S --dir m="$T/src"
snap1=$SNAP

M=$T/m
mount_fg S "$M" -d
R=$M/latest/files/m
i=0
while [ $i -lt 20 ]; do
	[ "$(cat "$R/link/f")" = one ] || fail "read through link/, walk $i"
	[ "$(cat "$R/dir/flink")" = one ] || fail "read through flink, walk $i"
	[ "$(readlink "$R/link")" = dir/sub ] || fail "readlink link, walk $i"
	i=$((i + 1))
done
# Each store link once; latest at most twice (its walk and readlink).
n=$(grep -c 'opcode: READLINK' "$T/amberfs.log")
[ "$n" -ge 2 ] || fail "the -d log shows $n READLINKs: not counted?"
[ "$n" -le 4 ] || fail "$n READLINKs for 3 links walked 20 times each"

echo two >src/dir/sub/f
ingest S --dir m="$T/src"
snap2=$SNAP
latest_is() { [ "$(readlink "$M/latest")" = "snapshots/$1" ]; }
[ "$snap2" != "$snap1" ] || fail "same snapshot name twice"
# A lookup of the new name rescans; latest follows within its 1 s timeout.
ls "$M/snapshots/$snap2" >/dev/null || fail "new snapshot not found"
within 5 latest_is "$snap2" || fail "latest stays at $(readlink "$M/latest")"
within 5 sh -c "[ \"\$(cat '$R/link/f')\" = two ]" ||
    fail "latest/…/link/f does not follow the new snapshot"
[ "$(cat "$M/snapshots/$snap1/files/m/link/f")" = one ] ||
    fail "the old snapshot through its link"
unmount "$M" "$FSPID"
echo ok
