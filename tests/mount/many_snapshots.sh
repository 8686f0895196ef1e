#!/bin/sh
# The mount's memory does not grow with snapshots times sources: a store
# of 200 snapshots of 200 sources each (40,000 sources in all, each
# snapshot with a different set, so none shares its list of sources with
# another) mounts, lists snapshots/, by-date/ and by-source/ in full and
# rescans 20 new snapshots with RssAnon under 16 MiB.
#
# The bound: amberfs itself takes about 3 MiB here (libraries, the first
# pages of a few thread stacks and malloc arenas).  The view costs a
# record of a few hundred bytes per snapshot and 4 bytes per (snapshot,
# source) pair: well under 1 MiB for this store.  Decoded manifests cost
# about 1.5 KiB per pair (60 MiB here), and the same again while a rescan
# builds a new list: a mount that kept them fails at once.
. "$AMBER_TOP/tests/mount/lib.sh"

rss_limit 16384

N_SRC=200
mk_store S
mkdir -p src/d
echo data >src/d/f

# snap K H: snapshot K, at hour H of 2026-01-01, of every source but
# s(K mod N_SRC + 1).
snap() {
	skip=$(($1 % N_SRC + 1))
	awk -v n=$N_SRC -v skip=$skip -v dir="$T/src/d" 'BEGIN {
		for (i = 1; i <= n; i++)
			if (i != skip)
				printf "dir s%d %s\n", i, dir
	}' >sources
	t=$(date -u -d "2026-01-01 00:00:00 UTC + $2 hours" \
	    +%Y-%m-%dT%H:%M:%SZ)
	"$AMBER" ingest S --sources sources --time "$t" -q \
	    >"$T/ingest.log" 2>&1 ||
	    { cat "$T/ingest.log"; fail "ingest of snapshot $1"; }
}

# 200 snapshots; the last three in one second (named -2 and -3).
k=0
while [ $k -lt 200 ]; do
	h=$k
	[ $k -lt 197 ] || h=197
	snap $k $h
	k=$((k + 1))
done

M=$T/m
mount_fg S "$M"
set -- $(rss "$FSPID")
note "200 snapshots x 199 sources: RssAnon $1 KiB, RssFile $2 KiB"
[ "$1" -lt $limit ] || fail "RssAnon $1 KiB after mount"

# snapshots/ holds exactly the names amber gives, by-date/ each of them.
"$AMBER" snapshots S | awk '{print $1}' | LC_ALL=C sort >want
[ "$(wc -l <want)" -eq 200 ] || fail "amber snapshots lists $(wc -l <want)"
grep -q 'T05:00:00Z-3$' want || fail "no -3 name in: $(tail -n 3 want)"
ls "$M/snapshots" | LC_ALL=C sort >got
cmp -s want got || { diff want got | head; fail "snapshots/ differs"; }
# Listed from the index's records, without their manifests: a lookup
# (ls -l) loads each: every one a directory.
n=$(ls -l "$M/snapshots" | grep -c '^d')
[ "$n" -eq 200 ] || fail "ls -l snapshots/ shows $n directories (want 200)"
n=$(find "$M/by-date" -type l | wc -l)
[ "$n" -eq 200 ] || fail "by-date holds $n links (want 200)"
n=$(ls "$M/by-date/2026/01/05" | wc -l)
[ "$n" -eq 24 ] || fail "by-date/2026/01/05 lists $n (want 24)"

# by-source/: every source; each in the 199 snapshots that hold it.
n=$(ls "$M/by-source/files" | wc -l)
[ "$n" -eq $N_SRC ] || fail "by-source/files lists $n (want $N_SRC)"
for s in s1 s8 s200; do
	n=$(ls "$M/by-source/files/$s" | wc -l)
	[ "$n" -eq 199 ] || fail "by-source/files/$s lists $n (want 199)"
done
# s8 is not in snapshot 7 (2026-01-01T07:00:00Z), s1 not in the first.
[ ! -e "$M/by-source/files/s8/2026-01-01T07:00:00Z" ] ||
    fail "s8 listed in the snapshot without it"
[ -e "$M/by-source/files/s8/2026-01-01T08:00:00Z" ] || fail "s8 missing"
[ ! -e "$M/by-source/files/s1/2026-01-01T00:00:00Z" ] ||
    fail "s1 listed in the snapshot without it"
l=$(readlink "$M/by-source/files/s8/2026-01-09T05:00:00Z-3")
[ "$l" = "../../../snapshots/2026-01-09T05:00:00Z-3/files/s8" ] ||
    fail "by-source link: $l"
[ "$(cat "$M/by-source/files/s8/2026-01-09T05:00:00Z-3/f")" = data ] ||
    fail "reading through a by-source link"
ls -l "$M/by-source/files/s99" >/dev/null || fail "ls -l by-source"
ino=$(stat -c %i "$M/snapshots/2026-01-05T00:00:00Z")
set -- $(rss "$FSPID")
note "after listing: RssAnon $1 KiB, RssFile $2 KiB"
[ "$1" -lt $limit ] || fail "RssAnon $1 KiB after listing"

# 20 more while mounted: a rescan finds them, slots stay.
while [ $k -lt 220 ]; do
	snap $k $k
	k=$((k + 1))
done
[ -d "$M/snapshots/2026-01-10T03:00:00Z" ] || fail "new snapshot not seen"
n=$(ls "$M/snapshots" | wc -l)
[ "$n" -eq 220 ] || fail "snapshots/ lists $n after the rescan (want 220)"
n=$(ls "$M/by-source/files/s8" | wc -l)
[ "$n" -eq 218 ] || fail "by-source/files/s8 lists $n (want 218)"
[ "$(stat -c %i "$M/snapshots/2026-01-05T00:00:00Z")" = "$ino" ] ||
    fail "a snapshot's inode changed at a rescan"
kill -HUP "$FSPID"
sleep 1
set -- $(rss "$FSPID")
note "220 snapshots, after two rescans: RssAnon $1 KiB, RssFile $2 KiB"
[ "$1" -lt $limit ] || fail "RssAnon $1 KiB after the rescans"
unmount "$M" "$FSPID"
echo ok
