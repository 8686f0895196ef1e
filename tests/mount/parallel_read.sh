#!/bin/sh
# Large files read through the mount by several processes at once give
# their own bytes: two readers of one file side by side, one from its
# middle, one of another file with the same first chunks (the read-ahead
# keeps a window per file, known by its first extent and its size), a
# reader jumping about, and buffered and O_DIRECT reads (these reach the
# daemon however much the kernel has cached).  The cache is small, so
# that the read-ahead windows are cut to half of it and chunks are
# evicted and decrypted again while others are read.
. "$AMBER_TOP/tests/mount/lib.sh"

sum() { sha256sum | cut -d' ' -f1; }

mk_store S
mkdir src
head -c $((40 << 20)) /dev/urandom >src/big
# The same first 24 MiB, then other bytes: the same first extents.
{ head -c $((24 << 20)) src/big; head -c $((9 << 20)) /dev/urandom; } \
    >src/twin
ingest S --dir m="$T/src"

M=$T/m
mount_fg S "$M" -o cache_size=8M
B=$M/latest/files/m/big
W=$M/latest/files/m/twin
dd if="$B" bs=1M iflag=direct status=none | sum >o.direct1 &
p1=$!
dd if="$B" bs=128K iflag=direct status=none | sum >o.direct2 &
p2=$!
dd if="$B" bs=1M skip=17 status=none | sum >o.middle &
p3=$!
dd if="$W" bs=256K iflag=direct status=none | sum >o.twin &
p4=$!
# Jumps: 3 MiB pieces at offsets 30, 2, 21, 9 and 36 MiB.
for k in 30 2 21 9 36; do
	dd if="$B" bs=1M skip=$k count=3 iflag=direct status=none
done | sum >o.jumps &
p5=$!
cat "$B" | sum >o.buffered
for p in $p1 $p2 $p3 $p4 $p5; do
	wait $p || fail "reader $p failed"
done

want=$(sum <src/big)
for f in o.direct1 o.direct2 o.buffered; do
	[ "$(cat $f)" = "$want" ] || fail "$f: sha256 $(cat $f), want $want"
done
[ "$(cat o.middle)" = "$(tail -c +$((17 * 1048576 + 1)) src/big | sum)" ] ||
    fail "read from the middle differs"
[ "$(cat o.twin)" = "$(sum <src/twin)" ] || fail "twin differs"
[ "$(cat o.jumps)" = "$(for k in 30 2 21 9 36; do
	dd if=src/big bs=1M skip=$k count=3 status=none; done | sum)" ] ||
    fail "the jumping reader got other bytes"
grep -i "error\|damage\|fail" "$T/amberfs.log" && fail "amberfs logged errors"
unmount "$M" "$FSPID"
echo ok
