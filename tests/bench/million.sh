#!/bin/sh
# tests/bench/million.sh: a tree of one million small files, amber against
# restic in the same run (issue 19, "Scale": "a first ingest and a rerun of
# a one-million-file tree").  As root (the mount).
#
# The tree (million_gen.py, made once in $AMBER_BENCH_DIR/million/tree):
# MILLION_FILES (default 1,000,000) files of 64 to 2,048 bytes, every one
# different, 100 to a directory.  For each tool, with a fresh repository
# and cache, and the tree in the page cache (read once before each first
# ingest; both tools warm):
#
#   first      the first ingest
#   unchanged  the same tree again
#   changed    every 1,000th file rewritten (1,000 files), again
#
# each timed by GNU time (wall, user+sys CPU, peak RSS), with the store's
# size after it.  Then amber's mount: amberfs started, `find` over the
# snapshot (cold mount, store in the page cache) and again, against `find`
# over the plain tree; the mount's peak RSS.  BENCH_REPEAT (default 1)
# runs of the whole, medians reported; every value is kept in the run's
# data.tsv.  Nothing is asserted on time; the answers are checked: each
# tool lists 3 snapshots, the mount's find counts every file and
# directory, and a sample of files reads back as the tree holds them.
#
# Environment: AMBER_BENCH_DIR, AMBER, AMBERFS, MILLION_FILES,
# BENCH_REPEAT, BENCH_TOOLS (subset of "amber restic").
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
W=$D/million
N=${MILLION_FILES:-1000000}
REPEAT=${BENCH_REPEAT:-1}
TOOLS=${BENCH_TOOLS:-amber restic}
AMBER=${AMBER:-$top/build/amber}
AMBERFS=${AMBERFS:-$top/build/amberfs}
PASS=amber-bench-passphrase

say() { echo "bench-million: $*" >&2; }
die() { echo "bench-million: $*" >&2; exit 1; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

[ "$(id -u)" -eq 0 ] || die "run as root (the mount)"
for t in $TOOLS; do
	case $t in
	amber) [ -x "$AMBER" ] && [ -x "$AMBERFS" ] ||
		die "amber not built ($AMBER): run make first" ;;
	restic) command -v restic >/dev/null ||
		die "no restic (tests/bench/prepare.sh installs it)" ;;
	*) die "BENCH_TOOLS: unknown tool $t" ;;
	esac
done
command -v python3 >/dev/null || die "no python3"
[ -x /usr/bin/time ] || die "no GNU time (apt-get install time)"

STAMP=$(date -u +%Y-%m-%dT%H%MZ)
RUN=$W/runs/$STAMP
mkdir -p "$RUN" "$W/tree" || die "cannot make $RUN"
# Older runs' repositories are large (a million objects): keep only the
# figures of runs before this one.
for old in "$W"/runs/*; do
	[ "$old" = "$RUN" ] && continue
	rm -rf "$old"/amber-* "$old"/restic-* "$old"/bin
done
mkdir -p "$RUN/bin"
cp "$AMBER" "$AMBERFS" "$RUN/bin/" || die "cannot copy the binaries"
AMBER=$RUN/bin/amber
AMBERFS=$RUN/bin/amberfs
DATA=$RUN/data.tsv
: >"$DATA"
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$DATA"; }
PROBLEMS=$RUN/problems
: >"$PROBLEMS"
problem() { say "PROBLEM: $*"; echo "$*" >>"$PROBLEMS"; }

gen() { python3 "$top/tests/bench/million_gen.py" "$W/tree" "$N" "$@"; }
say "the tree: $N files in $W/tree (made once, then checked)"
t0=$(now_ns)
gen || die "million_gen.py failed"
say "tree ready in $(secs "$t0" "$(now_ns)") s"
DIRS=$(find "$W/tree" -type d | wc -l)
ENTRIES=$((N + DIRS))
rec host files "$N"
rec host dirs "$DIRS"
rec host bytes "$(du -s --apparent-size -B1 "$W/tree" | cut -f1)"
rec host load_start "$(cut -d' ' -f1 /proc/loadavg)"
rec host versions "restic $(restic version 2>/dev/null | cut -d' ' -f2), commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null)"

tool_env() {
	case $1 in
	amber) echo "AMBER_PASSPHRASE=$PASS XDG_CACHE_HOME=$RUN/amber-cache" ;;
	restic) echo "RESTIC_PASSWORD=$PASS RESTIC_REPOSITORY=$RUN/restic-repo" \
		"RESTIC_CACHE_DIR=$RUN/restic-cache" ;;
	esac
}
store_of() { echo "$RUN/$1-$([ "$1" = amber ] && echo store || echo repo)"; }
# shellcheck disable=SC2046
run() { t=$1; shift; (cd "$W" && env $(tool_env "$t") "$@"); }

# timed NAME TOOL CMD...: GNU time of CMD, run in $W; sets T_WALL, T_CPU,
# T_RSS (KiB) and T_RC.
timed() {
	name=$1 t=$2
	shift 2
	# shellcheck disable=SC2046
	(cd "$W" && /usr/bin/time -f '%e %U %S %M' -o "$RUN/$name.time" \
	    env $(tool_env "$t") "$@" >"$RUN/$name.log" 2>&1)
	T_RC=$?
	set -- $(tail -n 1 "$RUN/$name.time")
	T_WALL=$1
	T_CPU=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')
	T_RSS=$4
}

ingest() { # tool
	case $1 in
	amber) echo "$AMBER ingest $(store_of amber) --dir tree=$W/tree" ;;
	restic) echo "restic backup --host bench tree" ;;
	esac
}

bench_tool() { # tool round
	t=$1 k=$2
	rm -rf "$(store_of "$t")" "$RUN/$t-cache"
	case $t in
	amber) run amber "$AMBER" init --kdf log2n=14,r=8,p=1 \
		"$(store_of amber)" >"$RUN/$t-init.log" 2>&1 ;;
	restic) run restic restic init >"$RUN/$t-init.log" 2>&1 ;;
	esac || { problem "$t: init failed"; return 1; }
	gen 0 2>/dev/null || die "million_gen.py failed"
	say "$t: reading the tree into the page cache"
	tar -C "$W/tree" -cf - . | cat >/dev/null
	for phase in first unchanged changed; do
		[ $phase = changed ] && { gen "$k" 2>/dev/null || die "gen"; }
		say "$t: $phase ingest (round $k)"
		# shellcheck disable=SC2046
		timed "$t-$phase-$k" "$t" $(ingest "$t")
		if [ "$T_RC" -ne 0 ]; then
			problem "$t $phase: exit $T_RC: $(tail -n 3 \
			    "$RUN/$t-$phase-$k.log" | tr '\n' ' ')"
			return 1
		fi
		rec "$t" "${phase}_wall" "$T_WALL"
		rec "$t" "${phase}_cpu" "$T_CPU"
		rec "$t" "${phase}_rss_kb" "$T_RSS"
		rec "$t" "${phase}_store" "$(du -s -B1 "$(store_of "$t")" | cut -f1)"
	done
	case $t in
	amber) n=$(run amber "$AMBER" snapshots "$(store_of amber)" |
		grep -c '[0-9]T[0-9]') ;;
	restic) n=$(run restic restic snapshots --json |
		grep -o '"short_id"' | wc -l) ;;
	esac
	[ "${n:-0}" -eq 3 ] || problem "$t lists ${n:-no} snapshots, not 3"
}

# The mount: find over the latest snapshot on a fresh mount (the store and
# the index in the page cache), again, and over the plain tree.
bench_mount() { # round
	k=$1
	M=$RUN/mnt
	mkdir -p "$M"
	tar -C "$(store_of amber)" -cf - . | cat >/dev/null
	tar -C "$RUN/amber-cache" -cf - . | cat >/dev/null
	t0=$(now_ns)
	# shellcheck disable=SC2046
	env $(tool_env amber) "$AMBERFS" "$(store_of amber)" "$M" -f \
	    >>"$RUN/amber-mount.log" 2>&1 &
	mpid=$!
	i=0
	until [ -d "$M/latest/files/tree" ]; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 $mpid 2>/dev/null; then
			problem "amberfs did not mount"
			return 1
		fi
		sleep 0.05
	done
	R=$M/latest/files/tree
	t1=$(now_ns)
	n1=$(find "$R" | wc -l)
	t2=$(now_ns)
	n2=$(find "$R" | wc -l)
	t3=$(now_ns)
	rec amber mount_ms "$(( (t1 - t0) / 1000000 ))"
	rec amber find_cold "$(secs "$t1" "$t2")"
	rec amber find_again "$(secs "$t2" "$t3")"
	[ "$n1" -eq "$ENTRIES" ] && [ "$n2" -eq "$ENTRIES" ] ||
	    problem "find over the mount counts $n1 and $n2, not $ENTRIES"
	# A sample of files, one in each 10,000, reads back as in the tree.
	i=0
	while [ $i -lt "$N" ]; do
		p=$(printf 'd%03d/e%02d/f%07d' $((i / 1000)) $((i / 100 % 10)) $i)
		cmp -s "$R/$p" "$W/tree/$p" || problem "$p reads back other bytes"
		i=$((i + 10000))
	done
	rec amber mount_hwm_kb "$(awk '/^VmHWM/ { print $2 }' /proc/$mpid/status)"
	fusermount3 -u "$M" || problem "fusermount3 -u failed"
	wait $mpid
	t0=$(now_ns)
	find "$W/tree" | wc -l >/dev/null
	rec plain find_warm "$(secs "$t0" "$(now_ns)")"
}

k=1
while [ $k -le "$REPEAT" ]; do
	for t in $TOOLS; do
		bench_tool "$t" "$k" || break
		[ "$t" = amber ] && bench_mount "$k"
	done
	k=$((k + 1))
done
rec host load_end "$(cut -d' ' -f1 /proc/loadavg)"

# ---- the table ------------------------------------------------------------
val() { median $(awk -F'\t' -v t="$1" -v f="$2" \
    '$1 == t && $2 == f { print $3 }' "$DATA"); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0)
    print "-"; else printf "%.2f", a / b }'; }
{
	echo "# one million files: amber against restic ($STAMP)"
	echo "# $N files, $DIRS directories, $(val host bytes) bytes;" \
	    "$(awk -F'\t' '$2 == "versions" { print $3 }' "$DATA");" \
	    "medians of $REPEAT; load $(val host load_start) -> $(val host load_end)"
	printf '%-26s %12s %12s %8s\n' figure amber restic ratio
	for phase in first unchanged changed; do
		for f in wall cpu rss_kb store; do
			a=$(val amber "${phase}_$f")
			r=$(val restic "${phase}_$f")
			printf '%-26s %12s %12s %8s\n' "${phase} ${f}" \
			    "${a:--}" "${r:--}" "$(ratio "$a" "$r")"
		done
	done
	a=$(val amber find_cold)
	p=$(val plain find_warm)
	printf '%-26s %12s %12s %8s\n' "mount to first ls (ms)" \
	    "$(val amber mount_ms)" - -
	printf '%-26s %12s %12s %8s\n' "find, fresh mount (s)" "${a:--}" \
	    "plain ${p:--}" "$(ratio "$a" "$p")"
	printf '%-26s %12s %12s %8s\n' "find again (s)" \
	    "$(val amber find_again)" - -
	printf '%-26s %12s %12s %8s\n' "mount peak RSS (KiB)" \
	    "$(val amber mount_hwm_kb)" - -
	if [ -s "$PROBLEMS" ]; then
		echo "# Problems:"
		sed 's/^/#   /' "$PROBLEMS"
	fi
} | tee "$W/results-$STAMP.txt"
[ ! -s "$PROBLEMS" ]
