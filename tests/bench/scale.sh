#!/bin/sh
# tests/bench/scale.sh: how the cost of everyday commands grows with the
# length of the history (issue 19, "Scale").  As root (the mount).
#
# One tree of SCALE_FILES (default 2000) small files; each snapshot
# changes one file.  scrypt at log2n=10, so that unlocking is cheap and
# what is left is the history's share.  At each size of SCALE_SIZES
# (default "10 100 1000"), the median of BENCH_REPEAT (default 3) runs:
#
#   ingest_ms      an incremental ingest (one file changed), into a copy
#                  of the store at that size, after another ingest
#   snapshots_ms   amber snapshots STORE (listing every snapshot)
#   max_age_ms     amber snapshots STORE --max-age 1h (the monitoring
#                  form)
#   mount_ls_ms    amberfs started, to the first `ls MNT/snapshots` done
#   mount_rss_kb   the mount's resident set after that ls (VmRSS)
#   ing_cpu, age_cpu  the CPU time of the ingest and of the --max-age
#                  listing (ms, perf stat's task-clock: wall time is at
#                  the mercy of whatever else the machine runs)
#   mnt_cpu        the mount's CPU time to that point (ms, in clock ticks)
#
# then one line per figure with its ratio to the first size.  Nothing is
# asserted; the answers are checked (the listing has as many lines as
# the store has snapshots, the mount lists them all).
#
# The history is built once and kept in $AMBER_BENCH_DIR/scale (BENCH_FRESH=1
# starts again): the store grown from the last size to the next, by a
# cheap loop (scale_grow.c: each snapshot carries the sources of the
# newest forward, its manifest made as a writer makes it and put
# straight to the store, well under a millisecond each) and an
# ingest for the first snapshot and the last of each size, and at each
# size a copy of it (hard links: objects
# are written once and never changed) with the index as it stood.  Each
# run starts from that copy, so every run at a size sees the same store,
# and the sizes can be measured in any order and again.
#
# With SCALE_BASE=DIR (a build directory of another tree, e.g. the
# commit before a change), each run is made by both builds in turn, each
# with an index of its own, and a second table gives the other build's
# figures: before and after in the same run.
# Environment: AMBER_BENCH_DIR, AMBER, AMBERFS, BENCH_REPEAT, BENCH_FRESH,
# SCALE_SIZES, SCALE_FILES, SCALE_BASE.
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
command -v perf >/dev/null || die "needs perf (linux-perf), for CPU times"
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

count() { "$AMBER" snapshots "$1" 2>/dev/null | grep -c .; }
# one S N: change one file, ingest it into S as snapshot number N (one
# hour apart).
one() {
	f=$(($2 % FILES))
	echo "change $2" >>"$W/src/d$((f / 100))/f$f"
	t=$(date -u -d "2024-01-01 00:00:00 UTC + $2 hours" +%Y-%m-%dT%H:%M:%SZ)
	${TIMER:-} "$AMBER" ingest "$1" --dir tree="$W/src" --time "$t" -q ||
	    die "ingest $2 failed"
}

# The cheap loop (scale_grow.c), built against the build measured.
G=$W/scale_grow
grow() {
	[ -x "$G" ] || cc -O2 -std=c17 -D_GNU_SOURCE -I"$top/store" \
	    -I"$top/store/include" \
	    -o "$G" "$top/tests/bench/scale_grow.c" \
	    "$(dirname "$AMBER")/libstore.a" -pthread -llmdb -lzstd \
	    -lcrypto -lcurl -lexpat -ljansson || die "scale_grow does not build"
	"$G" "$@"
}

# The history: $W/at.SIZE (a store, and its index in cache/) for each
# size.  The first snapshot is an ingest of the tree; the others carry
# its sources forward (scale_grow), but for the last of each size, an
# ingest again.
n=$(count "$W/S")
for size in $(printf '%s\n' $SIZES | sort -n); do
	[ -d "$W/at.$size" ] && continue
	[ "$n" -le "$size" ] || die "the store is past $size: BENCH_FRESH=1"
	say "growing the history to $size snapshots"
	[ "$n" -gt 0 ] || { n=1; one "$W/S" 1; }
	if [ "$n" -lt $((size - 1)) ]; then
		grow "$W/S" "$n" $((size - 1)) || die "scale_grow failed"
		n=$((size - 1))
	fi
	while [ "$n" -lt "$size" ]; do n=$((n + 1)); one "$W/S" $n; done
	mkdir "$W/at.tmp" && cp -al "$W/S" "$W/at.tmp/S" &&
	    cp -a "$W/cache" "$W/at.tmp/cache" && mv "$W/at.tmp" "$W/at.$size" ||
	    die "cannot copy the store at $size"
done

[ "$REPEAT" -gt 0 ] || exit 0

# timed CMD...: run CMD, its CPU time (every thread, user and system:
# perf's task-clock) left for cpu_ms.
timed() { perf stat -x, -e task-clock -o "$W/cpu" "$@"; }
cpu_ms() { awk -F, '/task-clock/ { printf "%.1f\n", $1 }' "$W/cpu"; }

# run BUILD SIZE K: run K at SIZE with the build in BUILD, from a fresh
# copy; appends to ing snp age mnt rss (wall ms, RSS kB) and ingc agec
# mntc (CPU ms).
run() {
	b=$1 size=$2 k=$3
	R=$W/run
	rm -rf "$R"
	mkdir "$R" && cp -al "$W/at.$size/S" "$R/S" || die "cannot copy"
	c=$W/at.$size/cache
	[ "$b" = new ] || [ ! -d "$c-base" ] || c=$c-base
	cp -a "$c" "$R/cache" || die "cannot copy"
	export XDG_CACHE_HOME=$R/cache
	if [ "$b" = new ]; then A=$AMBER AFS=$AMBERFS
	else A=$BASE/amber AFS=$BASE/amberfs; fi
	# An index of its own, brought up to date before the clock starts.
	"$A" snapshots "$R/S" >/dev/null 2>&1
	# That index, for the next run of that build at that size.
	[ "$b" = new ] || [ "$c" = "$W/at.$size/cache-base" ] ||
	    cp -a "$R/cache" "$W/at.$size/cache-base" || die "cannot copy"
	# An ingest before the one measured, as in a schedule: what the
	# last one changed in the store is what this one finds.
	m=$((size + 1 + 2 * k))
	AMBER=$A one "$R/S" $m
	m=$((m + 1))
	sleep 1.2	# an hour in a schedule; a second settles a stamp
	t0=$(now_ns); AMBER=$A TIMER=timed one "$R/S" $m; t1=$(now_ns)
	ing="$ing $(ms "$t0" "$t1")"
	ingc="$ingc $(cpu_ms)"
	t0=$(now_ns)
	c=$("$A" snapshots "$R/S" | grep -c .)
	t1=$(now_ns)
	[ "$c" -eq $((size + 2)) ] || die "snapshots lists $c, not $((size + 2))"
	snp="$snp $(ms "$t0" "$t1")"
	t0=$(now_ns)
	timed "$A" snapshots "$R/S" --max-age 1h >/dev/null 2>&1
	t1=$(now_ns)
	age="$age $(ms "$t0" "$t1")"
	agec="$agec $(cpu_ms)"
	rm -f "$W/ready.fifo"
	mkfifo "$W/ready.fifo"
	t0=$(now_ns)
	"$AFS" "$R/S" "$M" -f -o ready_fd=3 3>"$W/ready.fifo" \
	    2>"$W/amberfs.log" &
	pid=$!
	[ "$(timeout 60 head -c 1 "$W/ready.fifo" | wc -c)" -eq 1 ] ||
	    die "amberfs did not start: $(cat "$W/amberfs.log")"
	c=$(ls "$M/snapshots" | grep -vc '^latest$')
	t1=$(now_ns)
	[ "$c" -ge $((size + 2)) ] || die "the mount lists $c, not $((size + 2))"
	mnt="$mnt $(ms "$t0" "$t1")"
	rss="$rss $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
	# user + system time in clock ticks (fields 14, 15)
	mntc="$mntc $(awk -v hz="$(getconf CLK_TCK)" \
	    '{ print ($14 + $15) * 1000 / hz }' "/proc/$pid/stat")"
	fusermount3 -u "$M"
	wait "$pid"
}

BASE=${SCALE_BASE:-}
builds=new
[ -z "$BASE" ] || builds="new base"
for b in $builds; do eval "first_$b=''"; done
for size in $SIZES; do
	for b in $builds; do eval "ing_$b='' snp_$b='' age_$b='' mnt_$b='' rss_$b='' ingc_$b='' agec_$b='' mntc_$b=''"; done
	r=0
	while [ $r -lt "$REPEAT" ]; do
		for b in $builds; do
			eval "ing=\$ing_$b snp=\$snp_$b age=\$age_$b mnt=\$mnt_$b rss=\$rss_$b ingc=\$ingc_$b agec=\$agec_$b mntc=\$mntc_$b"
			run "$b" "$size" "$r"
			eval "ing_$b=\$ing snp_$b=\$snp age_$b=\$age mnt_$b=\$mnt rss_$b=\$rss ingc_$b=\$ingc agec_$b=\$agec mntc_$b=\$mntc"
		done
		r=$((r + 1))
	done
	for b in $builds; do
		eval "line=\"\$(median \$ing_$b) \$(median \$snp_$b) \$(median \$age_$b) \$(median \$mnt_$b) \$(median \$rss_$b)\""
		eval "cline=\"\$(median \$ingc_$b) \$(median \$agec_$b) \$(median \$mntc_$b)\""
		eval "out_$b=\"\${out_$b:-}\$(printf '%-8s %10s %12s %10s %11s %12s %9s %9s %9s' $size $line $cline)
\""
		line="$line $cline"
		eval "[ -n \"\$first_$b\" ] || first_$b=\$line"
		eval "last_$b=\$line"
	done
	say "measured $size"
done
for b in $builds; do
	[ "$b" = new ] && echo "build: $AMBER" || echo "build: $BASE/amber"
	printf '%-8s %10s %12s %10s %11s %12s %9s %9s %9s\n' snapshots \
	    ingest_ms snapshots_ms max_age_ms mount_ls_ms mount_rss_kb \
	    ing_cpu age_cpu mnt_cpu
	eval "printf '%s' \"\$out_$b\""
	# shellcheck disable=SC2086
	eval "set -- \$first_$b"
	f1=$1 f2=$2 f3=$3 f4=$4 f5=$5 f6=$6 f7=$7 f8=$8
	# shellcheck disable=SC2086
	eval "set -- \$last_$b"
	printf 'largest / smallest size: ingest %.2f, snapshots %.2f, max-age %.2f, mount+ls %.2f, mount RSS %.2f; CPU: ingest %.2f, max-age %.2f, mount %.2f\n' \
	    "$(echo "$1 / $f1" | bc -l)" "$(echo "$2 / $f2" | bc -l)" \
	    "$(echo "$3 / $f3" | bc -l)" "$(echo "$4 / $f4" | bc -l)" \
	    "$(echo "$5 / $f5" | bc -l)" "$(echo "$6 / ($f6 + 0.001)" | bc -l)" \
	    "$(echo "$7 / ($f7 + 0.001)" | bc -l)" \
	    "$(echo "$8 / ($f8 + 0.001)" | bc -l)"
done
