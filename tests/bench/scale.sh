#!/bin/sh
# tests/bench/scale.sh: how the cost of everyday commands grows with the
# length of the history (issue 19, "Scale").  As root (the mount).
#
# One tree of SCALE_FILES (default 2000) small files; each snapshot
# changes one file.  scrypt at log2n=10, so that unlocking is cheap and
# what is left is the history's share.  At each size of SCALE_SIZES
# (default "10 100 1000"), the median of BENCH_REPEAT (default 3) runs:
#
#   ingest_ms      an incremental ingest (one file changed); each run
#                  adds a snapshot, so a size is measured at +0..+2
#   snapshots_ms   amber snapshots STORE (listing every snapshot)
#   max_age_ms     amber snapshots STORE --max-age 1h (the monitoring
#                  form)
#   mount_ls_ms    amberfs started, to the first `ls MNT/snapshots` done
#   mount_rss_kb   the mount's resident set after that ls (VmRSS)
#
# then one line per figure with its ratio to the first size.  Nothing is
# asserted; the answers are checked (the listing has as many lines as
# the store has snapshots, the mount lists them all).  The store is kept
# in $AMBER_BENCH_DIR/scale and grown from where it is (BENCH_FRESH=1
# starts again).
# Environment: AMBER_BENCH_DIR, AMBER, AMBERFS, BENCH_REPEAT, BENCH_FRESH,
# SCALE_SIZES, SCALE_FILES.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
W=$D/scale
REPEAT=${BENCH_REPEAT:-3}
SIZES=${SCALE_SIZES:-10 100 1000}
FILES=${SCALE_FILES:-2000}
AMBER=${AMBER:-$top/build/amber}
AMBERFS=${AMBERFS:-$top/build/amberfs}
export AMBER_PASSPHRASE=amber-bench-scale XDG_CACHE_HOME=$W/cache

say() { echo "bench-scale: $*" >&2; }
die() { echo "bench-scale: $*" >&2; exit 1; }
now_ns() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

[ "$(id -u)" -eq 0 ] || die "run as root (the mount)"
[ -x "$AMBER" ] && [ -x "$AMBERFS" ] || die "build first: $AMBER, $AMBERFS"
M=$W/mnt
cleanup() {
	grep -q " $M fuse" /proc/mounts 2>/dev/null && fusermount3 -u "$M"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ "${BENCH_FRESH:-0}" = 1 ] || [ ! -f "$W/ready" ] ||
    [ "$(cat "$W/ready")" != "$FILES" ]; then
	rm -rf "$W"
	mkdir -p "$W/src" "$M" || die "cannot make $W"
	i=0
	while [ $i -lt "$FILES" ]; do
		d=$W/src/d$((i / 100))
		[ -d "$d" ] || mkdir "$d"
		printf 'file %d\n%s\n' $i "$(seq $i $((i + 20)))" >"$d/f$i"
		i=$((i + 1))
	done
	"$AMBER" init --kdf log2n=10,r=8,p=1 "$W/S" >/dev/null 2>&1 ||
	    die "init failed"
	echo "$FILES" >"$W/ready"
fi
mkdir -p "$M"

count() { "$AMBER" snapshots "$W/S" 2>/dev/null | grep -c .; }
# one: change one file, ingest it as snapshot number N (one hour apart).
one() {
	f=$(($1 % FILES))
	echo "change $1" >>"$W/src/d$((f / 100))/f$f"
	t=$(date -u -d "2026-01-01 00:00:00 UTC + $1 hours" +%Y-%m-%dT%H:%M:%SZ)
	"$AMBER" ingest "$W/S" --dir tree="$W/src" --time "$t" -q ||
	    die "ingest $1 failed"
}

n=$(count)
first=""
printf '%-8s %10s %12s %10s %11s %12s\n' snapshots ingest_ms snapshots_ms \
    max_age_ms mount_ls_ms mount_rss_kb
for size in $SIZES; do
	if [ "$n" -lt "$size" ]; then
		say "growing the history to $size snapshots"
		while [ "$n" -lt "$size" ]; do n=$((n + 1)); one $n; done
	fi
	ing="" snp="" age="" mnt="" rss=""
	r=0
	while [ $r -lt "$REPEAT" ]; do
		n=$((n + 1))
		t0=$(now_ns); one $n; t1=$(now_ns)
		ing="$ing $(ms "$t0" "$t1")"
		t0=$(now_ns)
		c=$("$AMBER" snapshots "$W/S" | grep -c .)
		t1=$(now_ns)
		[ "$c" -eq "$n" ] || die "snapshots lists $c, not $n"
		snp="$snp $(ms "$t0" "$t1")"
		t0=$(now_ns)
		"$AMBER" snapshots "$W/S" --max-age 1h >/dev/null 2>&1
		t1=$(now_ns)
		age="$age $(ms "$t0" "$t1")"
		rm -f "$W/ready.fifo"
		mkfifo "$W/ready.fifo"
		t0=$(now_ns)
		"$AMBERFS" "$W/S" "$M" -f -o ready_fd=3 3>"$W/ready.fifo" \
		    2>"$W/amberfs.log" &
		pid=$!
		[ "$(timeout 60 head -c 1 "$W/ready.fifo" | wc -c)" -eq 1 ] ||
		    die "amberfs did not start: $(cat "$W/amberfs.log")"
		c=$(ls "$M/snapshots" | grep -vc '^latest$')
		t1=$(now_ns)
		[ "$c" -ge "$n" ] || die "the mount lists $c snapshots, not $n"
		mnt="$mnt $(ms "$t0" "$t1")"
		rss="$rss $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
		fusermount3 -u "$M"
		wait "$pid"
		r=$((r + 1))
	done
	line="$(median $ing) $(median $snp) $(median $age) $(median $mnt) \
$(median $rss)"
	printf '%-8s %10s %12s %10s %11s %12s\n' "$size" $line
	[ -n "$first" ] || first=$line
	last=$line
done
# shellcheck disable=SC2086
set -- $first
f1=$1 f2=$2 f3=$3 f4=$4 f5=$5
# shellcheck disable=SC2086
set -- $last
printf 'largest / smallest size: ingest %.2f, snapshots %.2f, max-age %.2f, mount+ls %.2f, mount RSS %.2f\n' \
    "$(echo "$1 / $f1" | bc -l)" "$(echo "$2 / $f2" | bc -l)" \
    "$(echo "$3 / $f3" | bc -l)" "$(echo "$4 / $f4" | bc -l)" \
    "$(echo "$5 / $f5" | bc -l)"
