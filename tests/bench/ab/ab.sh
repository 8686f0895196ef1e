#!/bin/bash
# tests/bench/ab/ab.sh: two builds of amber (OLD_SRC, NEW_SRC: checkouts
# with build/amber and build/amberfs built) compared on ONE store made by
# the old amber, interleaved ABAB, as root, after tests/bench/prepare.sh.
# Made for issue 14 (91a95f5 against 6859ce5, the identity check); the
# old build must write a format the new one reads.
#
#   ab.sh setup          binaries copied, store made (old amber), indexes
#                        copied and warmed, plain diff -r reference
#   ab.sh rounds N       N rounds; each round: old slot then new slot, each
#                        slot = cat-on-fresh-mount, ceiling, cold find,
#                        diff -r, amber cat
#   ab.sh report         medians and every run from $W/ab.tsv
#
# Measurement methods follow tests/bench/run.sh (m_cat_mount, m_find,
# m_diff, bench_ceiling); helpers are copied from it because run.sh runs
# its whole benchmark at top level and cannot be sourced.
set -u
D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
W=$D/ab
OLD_SRC=${OLD_SRC:?set OLD_SRC to the old checkout (built)}
NEW_SRC=${NEW_SRC:?set NEW_SRC to the new checkout (built)}
CEIL_C=${CEIL_C:-$(cd "$(dirname "$0")/.." && pwd)/fuse_ceiling.c}
PASS=amber-bench-passphrase
export AMBER_PASSPHRASE=$PASS XDG_CACHE_HOME=$W/cache
STORE=$W/store
MNT=$W/mnt
SRC=$D/src/linux
TSV=$W/ab.tsv
LOG=$W/logs
mkdir -p "$W" "$MNT" "$LOG"

fact() { sed -n "s/^$1=//p" "$D/data/ready"; }
RANDOM_NAME=$(fact random)
RANDOM_SHA=$(fact random_sha256)
ENTRIES=$(fact changed_entries)

say() { echo "ab: $(date -u +%H:%M:%S) $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
mbs() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / 1e6 / s : 0) }'; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
warm_dir() { tar -C "$1" -cf - . | cat >/dev/null; }
rec() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%H:%M:%S)" "$1" "$2" "$3" "$4" "$(load)" >>"$TSV"; }
problem() { say "PROBLEM: $*"; printf 'PROBLEM\t%s\n' "$*" >>"$W/problems.txt"; }

amberfs_of() { echo "$W/bin/$1/amberfs"; }
amber_of() { echo "$W/bin/$1/amber"; }
idx_of() { echo "$W/idx-$1"; }

MPID=
mount_start() { # ver
	"$(amberfs_of "$1")" "$STORE" "$MNT" -f -o index="$(idx_of "$1")" \
	    >>"$LOG/mount-$1.log" 2>&1 &
	MPID=$!
}
snapshots_in() { ls "$1" 2>/dev/null | grep -v '^latest$' | LC_ALL=C sort; }
mount_ready() {
	sd=$MNT/snapshots
	while :; do
		kill -0 "$MPID" 2>/dev/null || return 1
		first=$(snapshots_in "$sd" | head -n 1)
		if [ -n "$first" ] && [ -n "$(ls "$sd/$first" 2>/dev/null)" ]; then
			secs "$M_T0" "$(now_ns)"; return 0
		fi
		[ $(( ($(now_ns) - M_T0) / 1000000000 )) -gt 300 ] && return 1
		sleep 0.005
	done
}
mount_stop() {
	[ -n "$MPID" ] || return 0
	fusermount3 -u "$MNT" 2>>"$LOG/umount.log" || umount "$MNT" 2>>"$LOG/umount.log"
	i=0
	while kill -0 "$MPID" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$MPID" 2>/dev/null && { problem "mount $MPID still running"; kill "$MPID"; umount -l "$MNT"; }
	wait "$MPID" 2>/dev/null
	MPID=
}
mount_fresh() { # ver [keep]
	mount_stop
	[ "${2:-}" = keep ] || drop_caches
	M_T0=$(now_ns)
	mount_start "$1"
	M_LS=$(mount_ready) || { problem "$1 mount did not come up"; mount_stop; return 1; }
	FIRST=$MNT/snapshots/$(snapshots_in "$MNT/snapshots" | head -n 1)
	LAST=$MNT/snapshots/$(snapshots_in "$MNT/snapshots" | tail -n 1)
}
cpu_of() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
warm_store() { warm_dir "$STORE"; python3 "$(dirname "$0")/warm_sparse.py" "$(idx_of "$1")"/*.mdb; }

normdiff() { # out err old new
	awk -v o="$3" -v n="$4" -f "$(dirname "$0")/../oldnew.awk" "$1" "$2"
}

# ---- measurements (one slot) --------------------------------------------

m_cat_mount() { # ver round: store (and index) in page cache, fresh mount, dd
	warm_store "$1"
	mount_fresh "$1" keep || return 1
	f=$FIRST/files/linux/$RANDOM_NAME
	c0=$(cpu_of "$MPID")
	t0=$(now_ns)
	dd if="$f" of=/dev/null bs=1M status=none || problem "$1 dd $f failed"
	t1=$(now_ns)
	c1=$(cpu_of "$MPID")
	rec "$1" cat_mount_mbs "$(mbs 268435456 "$(secs "$t0" "$t1")")" "$2"
	rec "$1" cat_mount_cpu_s "$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / t }')" "$2"
	dev=$(mountpoint -d "$MNT")
	rec "$1" read_ahead_kb "$(cat /sys/class/bdi/$dev/read_ahead_kb)" "$2"
	if [ "$2" = 1 ]; then
		sum=$(sha256sum <"$f" | cut -d' ' -f1)
		[ "$sum" = "$RANDOM_SHA" ] || problem "$1 random file sha256 $sum"
	fi
	mount_stop
}
m_ceiling() { # slot round: one 1 MiB read-ahead run, as bench_ceiling
	size=1073741824
	"$D/bin/fuse_ceiling" -o size=$size "$MNT" -f >>"$LOG/ceiling.log" 2>&1 &
	cpid=$!
	i=0
	while [ ! -e "$MNT/data" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	dev=$(mountpoint -d "$MNT")
	drop_caches
	echo 1024 >/sys/class/bdi/$dev/read_ahead_kb
	t0=$(now_ns)
	dd if="$MNT/data" of=/dev/null bs=1M status=none
	t1=$(now_ns)
	rec "$1" ceiling_ra1m_mbs "$(mbs $size "$(secs "$t0" "$t1")")" "$2"
	head -c 4 "$MNT/data" | od -An -tu1 | grep -q '7 *38 *69 *100' ||
	    problem "ceiling served the wrong bytes"
	fusermount3 -u "$MNT"
	wait $cpid
}
m_find() { # ver round: cold find of LAST, as run.sh m_find
	mount_fresh "$1" || return 1
	drop_caches
	c0=$(cpu_of "$MPID")
	t0=$(now_ns)
	n=$(find "$LAST" | wc -l)
	t1=$(now_ns)
	c1=$(cpu_of "$MPID")
	rec "$1" find_cold_s "$(secs "$t0" "$t1")" "$2"
	rec "$1" find_cold_cpu_s "$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / t }')" "$2"
	[ "$n" -eq $((ENTRIES + 2)) ] || problem "$1 find lists $n entries, not $((ENTRIES + 2)) (tree + LAST + LAST/files)"
	mount_stop
}
m_diff() { # ver round: diff -r FIRST LAST, store in page cache, fresh mount
	warm_store "$1"
	mount_fresh "$1" keep || return 1
	o=$FIRST/files/linux n=$LAST/files/linux
	c0=$(cpu_of "$MPID")
	t0=$(now_ns)
	LC_ALL=C diff -r "$o" "$n" >"$LOG/diff-$1.out" 2>"$LOG/diff-$1.err"
	rc=$?
	t1=$(now_ns)
	c1=$(cpu_of "$MPID")
	rec "$1" diff_warm_s "$(secs "$t0" "$t1")" "$2"
	rec "$1" diff_warm_cpu_s "$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / t }')" "$2"
	normdiff "$LOG/diff-$1.out" "$LOG/diff-$1.err" "$o" "$n" >"$LOG/diff-$1-$2.norm"
	cmp -s "$W/plain-diff.norm" "$LOG/diff-$1-$2.norm" ||
	    problem "$1 round $2: diff -r (exit $rc) differs from the plain trees' ($LOG/diff-$1-$2.norm)"
	mount_stop
}
m_amber_cat() { # ver round: amber cat with a warm index, store in page cache
	warm_store "$1"
	t0=$(now_ns)
	/usr/bin/time -f '%U %S' -o "$W/amber-cat.time" \
	    "$(amber_of "$1")" cat --index-dir "$(idx_of "$1")" -q "$STORE" \
	    "$SNAP1:files/linux/$RANDOM_NAME" >"$W/amber-cat.out" 2>>"$LOG/amber-cat-$1.log" ||
	    problem "$1 amber cat failed"
	t1=$(now_ns)
	rec "$1" amber_cat_s "$(secs "$t0" "$t1")" "$2"
	rec "$1" amber_cat_cpu_s "$(awk '{ printf "%.2f", $1 + $2 }' "$W/amber-cat.time")" "$2"
	if [ "$2" = 1 ]; then
		sum=$(sha256sum <"$W/amber-cat.out" | cut -d' ' -f1)
		[ "$sum" = "$RANDOM_SHA" ] || problem "$1 amber cat sha256 $sum"
	fi
	rm -f "$W/amber-cat.out"
}

# ---- phases ---------------------------------------------------------------

setup() {
	for v in old new; do
		mkdir -p "$W/bin/$v"
		s=$OLD_SRC; [ $v = new ] && s=$NEW_SRC
		cp "$s/build/amber" "$s/build/amberfs" "$W/bin/$v/"
		git -C "$s" rev-parse HEAD >"$W/bin/$v/commit"
	done
	mkdir -p "$D/bin"
	cc -std=c17 -O2 -Wall -Wextra -D_GNU_SOURCE $(pkg-config --cflags fuse3) \
	    -o "$D/bin/fuse_ceiling" "$CEIL_C" $(pkg-config --libs fuse3) || exit 1
	rm -rf "$STORE" "$W/cache" "$W"/idx-* "$TSV" "$W/problems.txt"
	mkdir -p "$D/src"
	say "init (old amber)"
	(cd "$D/src" && "$(amber_of old)" init --kdf log2n=14,r=8,p=1 "$STORE") \
	    >"$LOG/init.log" 2>&1 || { cat "$LOG/init.log"; exit 1; }
	for phase in first changed; do
		if [ $phase = first ]; then rsync -a --delete "$D/data/base/" "$SRC/"
		else rsync -a --delete "$D/data/changed/" "$SRC/"; fi
		warm_dir "$SRC"
		say "ingest $phase (old amber)"
		(cd "$D/src" && /usr/bin/time -f '%e s wall %U user %S sys %M KiB' \
		    "$(amber_of old)" ingest "$STORE" --dir linux="$SRC") \
		    >"$LOG/ingest-$phase.log" 2>&1 || { tail "$LOG/ingest-$phase.log"; exit 1; }
		tail -n 2 "$LOG/ingest-$phase.log" >&2
	done
	"$(amber_of old)" snapshots "$STORE" >"$W/snapshots.txt" 2>&1
	cat "$W/snapshots.txt" >&2
	# the index the ingest left: one dir under $W/cache
	idx=$(dirname "$(find "$W/cache" -name data.mdb | head -n 1)")
	[ -d "$idx" ] || { echo "no index found under $W/cache" >&2; exit 1; }
	echo "$idx" >"$W/index-src.txt"
	for v in old new; do cp -a "$idx" "$(idx_of $v)"; done
	# warm each binary's index once (the new one rebuilds the old layout)
	for v in old new; do
		say "warming $v index with a mount"
		warm_store "$v"
		mount_fresh "$v" keep || exit 1
		say "$v first mount ready in $M_LS s"
		find "$LAST" >/dev/null
		basename "$FIRST" >"$W/snap1.txt"
		mount_stop
	done
	# the plain trees' diff -r reference
	say "plain diff -r"
	LC_ALL=C diff -r "$D/data/base" "$D/data/changed" >"$LOG/diff-plain.out" 2>"$LOG/diff-plain.err"
	normdiff "$LOG/diff-plain.out" "$LOG/diff-plain.err" "$D/data/base" "$D/data/changed" >"$W/plain-diff.norm"
	wc -l "$W/plain-diff.norm" >&2
	du -sb "$STORE" "$W"/idx-* >&2
}

rounds() {
	n=$1
	start=$(awk -F'\t' '$2=="old" && $3=="cat_mount_mbs" { r = $5 } END { print r + 0 }' "$TSV" 2>/dev/null)
	SNAP1=$(cat "$W/snap1.txt")
	for r in $(seq $((start + 1)) $((start + n))); do
		for v in old new; do
			say "round $r $v (load $(load))"
			m_cat_mount "$v" "$r"
			m_ceiling "$v" "$r"
			m_find "$v" "$r"
			m_diff "$v" "$r"
			m_amber_cat "$v" "$r"
			tail -n 6 "$TSV" | cut -f2-6 >&2
		done
	done
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
report() {
	for m in cat_mount_mbs cat_mount_cpu_s ceiling_ra1m_mbs find_cold_s find_cold_cpu_s diff_warm_s diff_warm_cpu_s amber_cat_s amber_cat_cpu_s; do
		for v in old new; do
			runs=$(awk -F'\t' -v v=$v -v m=$m '$2 == v && $3 == m { printf "%s ", $4 }' "$TSV")
			printf '%-17s %-4s median %8s   runs: %s\n' "$m" "$v" "$(median $runs)" "$runs"
		done
	done
	echo "load averages at each record (1/5/15 min): min/max of 1-min: $(cut -f6 "$TSV" | awk '{ if (NR == 1 || $1 < a) a = $1; if ($1 > b) b = $1 } END { print a, b }')"
	[ -f "$W/problems.txt" ] && cat "$W/problems.txt"
	return 0
}

case ${1:-} in
setup) setup ;;
rounds) rounds "${2:-5}" ;;
report) report ;;
catrounds) # extra rounds of the cheap ones: cat on a fresh mount, ceiling, amber cat
	TSV=$W/ab-cat.tsv
	SNAP1=$(cat "$W/snap1.txt")
	for r in $(seq 1 "${2:-10}"); do
		for v in old new; do
			say "cat round $r $v (load $(load))"
			m_cat_mount "$v" "$r"
			m_ceiling "$v" "$r"
			m_amber_cat "$v" "$r"
		done
	done ;;
catreport) TSV=$W/ab-cat.tsv; report ;;
*) echo "usage: $0 setup | rounds N | report" >&2; exit 2 ;;
esac
