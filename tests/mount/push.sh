#!/bin/sh
# Once a small file of a directory is read whole, the mount pushes the
# small files after it in that directory into the kernel's page cache
# (fs/push.c): they are resident before anyone reads them, and read back
# byte for byte.  A listing or a find pushes nothing, a file over the
# size limit and the files of another directory are not pushed, and
# what is pushed is what a read would give.  Residency is seen with
# fincore (mincore(2)), which reads nothing.
. "$AMBER_TOP/tests/mount/lib.sh"
command -v fincore >/dev/null || skip "no fincore (util-linux)"

# res FILE: bytes of FILE resident in the page cache.
res() { fincore -n -b -o RES "$1" | tr -d ' '; }

mk_store S
mkdir -p src/d src/e
i=10
while [ $i -lt 50 ]; do
	head -c $((1000 + i * 300)) /dev/urandom >src/d/f$i
	i=$((i + 1))
done
head -c $((600 << 10)) /dev/urandom >src/d/g-large
for n in 1 2 3; do head -c 5000 /dev/urandom >src/e/h$n; done
ingest S --dir m="$T/src"

M=$T/m
mount_fg S "$M"
R=$M/latest/files/m
find "$R" >/dev/null
ls -lR "$R" >/dev/null
for f in "$R"/d/f10 "$R"/d/f49 "$R"/e/h1; do
	[ "$(res "$f")" = 0 ] || fail "$f is resident after a listing alone"
done

cat "$R/d/f10" >/dev/null
i=0
while [ "$(res "$R/d/f49")" = 0 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
n=0
i=11
while [ $i -lt 50 ]; do
	[ "$(res "$R/d/f$i")" != 0 ] && n=$((n + 1))
	i=$((i + 1))
done
[ $n -eq 39 ] || fail "$n of the 39 files after d/f10 were pushed, not 39"
[ "$(res "$R/d/g-large")" = 0 ] || fail "the 600 KiB file was pushed"
for n in 1 2 3; do
	[ "$(res "$R/e/h$n")" = 0 ] || fail "e/h$n (another directory) was pushed"
done
diff -r "$R/d" src/d || fail "the pushed files read back other bytes"
diff -r "$R/e" src/e || fail "e/ reads back other bytes"
grep -i "error\|damage\|fail" "$T/amberfs.log" && fail "amberfs logged errors"
unmount "$M" "$FSPID"
echo ok
