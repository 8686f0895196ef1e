#!/bin/sh
# The daemon's memory does not grow with the files walked: after find(1),
# ls -lR and a read of every file of a 30,000-file snapshot, and of a
# 64 MiB file, its anonymous memory (RssAnon) stays under 64 MiB.  Mapped
# index pages (RssFile) are reported apart: the kernel can drop them.
. "$AMBER_TOP/tests/mount/lib.sh"

rss_limit 65536

mk_store S
mkdir src
i=0
while [ $i -lt 100 ]; do
	mkdir "src/d$i"
	seq 1 300 | sed "s|^|src/d$i/file|" | xargs touch
	i=$((i + 1))
done
find src -type f | head -n 2000 | while read -r f; do
	echo "$f" >"$f"
done
head -c $((64 << 20)) /dev/urandom >src/big
ingest S --dir m="$T/src"

M=$T/m
mount_fg S "$M"
set -- $(rss "$FSPID")
note "after mount: RssAnon $1 KiB, RssFile $2 KiB"
n=$(find "$M/latest/files/m" | wc -l)
[ "$n" -eq 30102 ] || fail "find saw $n entries (want 30102)"
ls -lR "$M/snapshots" >/dev/null || fail "ls -lR"
set -- $(rss "$FSPID")
note "after find and ls -lR: RssAnon $1 KiB, RssFile $2 KiB"
[ "$1" -lt $limit ] || fail "RssAnon $1 KiB after find"
cat $(find "$M/latest/files/m" -type f -name 'file1*') >/dev/null ||
    fail "reading files"
cmp "$M/latest/files/m/big" src/big || fail "big file differs"
set -- $(rss "$FSPID")
note "after reading: RssAnon $1 KiB, RssFile $2 KiB"
[ "$1" -lt $limit ] || fail "RssAnon $1 KiB after reading"
unmount "$M" "$FSPID"
echo ok
