#!/bin/sh
# tests/bench/run.sh: amber against restic and borg on the same data, in
# one run (`make bench`; not part of `make check`).  Issues 2 and 3,
# "Performance".
#
#   sh tests/bench/run.sh
#
# Environment:
#   AMBER_BENCH_DIR  cache of data and runs (default /var/tmp/amber-bench)
#   AMBER, AMBERFS   the binaries (default build/amber, build/amberfs)
#   BENCH_TOOLS      which of "amber restic borg" to run (default all)
#   BENCH_PARTS      which of "ingest mount ceiling git" to run (default
#                    all; git is issue 4's benchmark, in git.sh)
#   BENCH_AMBERFS_OPTS  extra options for amberfs (e.g. "-o cache_size=...")
#   BENCH_REPEAT     how many times the measurements that vary most from
#                    one run to the next are taken (the first ingest, cold
#                    find, the read on a fresh mount, the ceiling with
#                    1 MiB read-ahead);
#                    the median is reported, every value is recorded
#                    (default 3)
#
# Must run as root: it drops the page cache, sets the FUSE mount's
# read-ahead and installs packages (tests/bench/prepare.sh).  Every run
# gets fresh repositories in $AMBER_BENCH_DIR/runs/<time>/; the table goes
# to stdout and to $AMBER_BENCH_DIR/results-<time>.txt, raw figures to
# runs/<time>/data.tsv.  Figures are only printed, never asserted; what is
# asserted is that every tool gave the right answers (file counts, the
# 256 MiB file's hash, the deep file's bytes, what diff -r reports), and a
# wrong answer is listed under "Problems" and makes the exit status 1.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/bench
D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
B=${B:-build}
AMBER=${AMBER:-$top/$B/amber}
AMBERFS=${AMBERFS:-$top/$B/amberfs}
TOOLS=${BENCH_TOOLS:-amber restic borg}
PARTS=${BENCH_PARTS:-ingest mount ceiling git}
AMBERFS_OPTS=${BENCH_AMBERFS_OPTS:-}
REPEAT=${BENCH_REPEAT:-3}
PASS=amber-bench-passphrase

say() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] ||
    die "run as root (drops caches, sets read_ahead_kb, installs packages)"
sh "$here/prepare.sh" || die "data preparation failed"

# Facts about the data, from prepare.sh.
fact() { sed -n "s/^$1=//p" "$D/data/ready"; }
BYTES=$(fact bytes)
CBYTES=$(fact changed_bytes)
ENTRIES=$(fact changed_entries)
N_MOD=$(fact modified)
N_ADD=$(fact added)
N_REM=$(fact removed)
RANDOM_NAME=$(fact random)
RANDOM_SHA=$(fact random_sha256)
DEEP=$(fact deep)

stamp=$(date -u +%Y-%m-%dT%H%MZ)
RUN=$D/runs/$stamp
[ -e "$RUN" ] && RUN=$RUN-$$
mkdir -p "$RUN" "$D/src" "$D/bin"
DATA=$RUN/data.tsv
: >"$DATA"
RESULTS=$D/results-${RUN##*/}.txt
SRC=$D/src/linux
MNT=$RUN/mnt
mkdir -p "$MNT"

# Old runs keep their logs and figures, not their repositories.
for old in "$D"/runs/*; do
	[ "$old" = "$RUN" ] && continue
	rm -rf "$old/amber-store" "$old/restic-repo" "$old/borg-repo" \
	    "$old/amber-cache" "$old/restic-cache" "$old/borg-home" 2>/dev/null
done

has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
rec() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$DATA"; }
problem() { p_tool=$1; shift; rec "$p_tool" problem "$*"; say "PROBLEM $p_tool: $*"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
mbs() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / 1e6 / s : 0) }'; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
warm_tree() { tar -C "$1" -cf - . | cat >/dev/null; }

# timed NAME TOOL CMD...: run CMD in $D/src with TOOL's environment under
# GNU time, output in $RUN/NAME.log; sets T_WALL, T_CPU (user+sys, s),
# T_RSS (peak, KiB) and T_RC.
timed() {
	name=$1 tool=$2
	shift 2
	# shellcheck disable=SC2046
	(cd "$D/src" && /usr/bin/time -f '%e %U %S %M' -o "$RUN/$name.time" \
	    env $(tool_env "$tool") "$@" >"$RUN/$name.log" 2>&1)
	T_RC=$?
	timed_read "$name"
}

# timed_read NAME: $T_WALL, $T_CPU and $T_RSS (KiB) from GNU time's
# $RUN/NAME.time.
timed_read() {
	set -- $(tail -n 1 "$RUN/$1.time")
	T_WALL=$1
	T_CPU=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')
	T_RSS=$4
}

# rec_phase NAME PHASE LOG STORE: after a timed ingest, record under NAME
# its wall and CPU time, peak RSS and STORE's size; if it failed
# ($T_RC), the problem with the end of its LOG instead, and return 1.
rec_phase() {
	if [ "$T_RC" -ne 0 ]; then
		problem "$1" "ingest $2: exit $T_RC: $(tail -n 3 "$3" |
		    tr '\n' ' ')"
		return 1
	fi
	rec "$1" "$2"_wall "$T_WALL"
	rec "$1" "$2"_cpu "$T_CPU"
	rec "$1" "$2"_rss_kb "$T_RSS"
	rec "$1" "$2"_store "$(du -sb "$4" | cut -f1)"
}

rec host cpus "$(nproc)"
rec host cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
rec host mem_gib "$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)"
rec host kernel "$(uname -r)"
rec host load_start "$(load)"
rec host bytes "$BYTES"
rec host changed_bytes "$CBYTES"
rec host versions "restic $(restic version | cut -d' ' -f2), $(borg --version), $(hyperfine --version), $(openssl version | cut -d' ' -f1-2), commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
rec host data "linux-source-6.1 + 256 MiB random: $(fact files) files, $BYTES bytes; changed: $N_MOD modified, $N_ADD added, $N_REM removed"

if has "$TOOLS" amber && { [ ! -x "$AMBER" ] || [ ! -x "$AMBERFS" ]; }; then
	problem amber "not built ($AMBER, $AMBERFS): run make first"
	TOOLS=$(echo " $TOOLS " | sed 's/ amber / /')
elif has "$TOOLS" amber; then
	# Others rebuild build/ while we run: use a copy taken now.
	mkdir -p "$RUN/bin"
	cp "$AMBER" "$RUN/bin/amber" && cp "$AMBERFS" "$RUN/bin/amberfs" ||
	    die "cannot copy $AMBER and $AMBERFS"
	rec host amber_built "$(date -u -r "$AMBER" +%Y-%m-%dT%H:%M:%SZ)"
	AMBER=$RUN/bin/amber
	AMBERFS=$RUN/bin/amberfs
fi

# ---- environment of each tool: fresh repository and caches per run ------

tool_env() { # tool: prints env assignments
	case $1 in
	amber)	echo "AMBER_PASSPHRASE=$PASS XDG_CACHE_HOME=$RUN/amber-cache" ;;
	restic)	echo "RESTIC_PASSWORD=$PASS RESTIC_REPOSITORY=$RUN/restic-repo" \
		    "RESTIC_CACHE_DIR=$RUN/restic-cache" ;;
	borg)	echo "BORG_PASSPHRASE=$PASS BORG_BASE_DIR=$RUN/borg-home" \
		    "BORG_FUSE_IMPL=pyfuse3,llfuse" \
		    "BORG_RELOCATED_REPO_ACCESS_IS_OK=yes" ;;
	esac
}
store_of() {
	case $1 in
	amber) echo "$RUN/amber-store" ;;
	restic) echo "$RUN/restic-repo" ;;
	borg) echo "$RUN/borg-repo" ;;
	esac
}
cache_of() {
	case $1 in
	amber) echo "$RUN/amber-cache" ;;
	restic) echo "$RUN/restic-cache" ;;
	borg) echo "$RUN/borg-home" ;;
	esac
}
run_tool() { # tool cmd...: run cmd in $D/src with the tool's environment
	t=$1; shift
	(cd "$D/src" && env $(tool_env "$t") "$@")
}

init_tool() {
	case $1 in
	amber) run_tool amber "$AMBER" init --kdf log2n=14,r=8,p=1 \
		    "$RUN/amber-store" ;;
	restic) run_tool restic restic init ;;
	borg) run_tool borg borg init --encryption=repokey "$RUN/borg-repo" ;;
	esac
}

ingest_cmd() { # tool phase: prints the command line (run in $D/src)
	case $1 in
	amber) echo "$AMBER ingest $RUN/amber-store --dir linux=$SRC" ;;
	restic) echo "restic backup --host bench linux" ;;
	borg) # archive names sort in ingest order in the mount
		case $2 in first) a=a-first ;; *) a=b-$2 ;; esac
		echo "borg create --compression zstd,3 $RUN/borg-repo::$a linux" ;;
	esac
}

n_snapshots() {
	case $1 in
	amber) run_tool amber "$AMBER" snapshots "$RUN/amber-store" |
		grep -c '[0-9]T[0-9]' ;;
	restic) run_tool restic restic snapshots --json |
		grep -o '"short_id"' | wc -l ;;
	borg) run_tool borg borg list --short "$RUN/borg-repo" | wc -l ;;
	esac
}

# ---- ingest --------------------------------------------------------------

# ingest_record tool phase: after a timed ingest (T_* set), record its
# figures, its cache's size and amber's summary line; 1 if it failed.
ingest_record() {
	rec_phase "$1" "$2" "$RUN/$1-ingest-$2.log" "$(store_of "$1")" ||
	    return 1
	# Caches: disk used, not apparent size (LMDB maps are sparse).
	rec "$1" "$2"_cache "$(du -s -B1 "$(cache_of "$1")" 2>/dev/null |
	    cut -f1)"
	[ "$1" = amber ] && rec amber "$2"_summary \
	    "$(tail -n 1 "$RUN/$1-ingest-$2.log" | sed 's/^ *//')"
	return 0
}

# ingest_round tool: one first ingest of $SRC into a new repository,
# its figures added to the tool's lists (FW_tool, FC_tool, FR_tool).
ingest_round() {
	rm -rf "$(store_of "$1")" "$(cache_of "$1")"
	if ! init_tool "$1" >"$RUN/$1-init.log" 2>&1; then
		problem "$1" "init failed: $(tail -n 3 "$RUN/$1-init.log" |
		    tr '\n' ' ')"
		return 1
	fi
	warm_tree "$SRC"
	# shellcheck disable=SC2046
	timed "$1-ingest-first" "$1" $(ingest_cmd "$1" first)
	[ "$T_RC" -eq 0 ] || { rec_phase "$1" first "$RUN/$1-ingest-first.log"; return 1; }
	eval "FW_$1=\"\${FW_$1:-} $T_WALL\" FC_$1=\"\${FC_$1:-} $T_CPU\"" \
	    "FR_$1=\"\${FR_$1:-} $T_RSS\""
}

# bench_ingest: the ingest part, for every tool of $TOOLS.  The first
# ingest is made REPEAT times per tool, the tools taking turns round by
# round so that each round sees the machine as the others do, each into
# a new repository; the medians are reported with every run.  The last
# repositories stay for the changed tree and for the mounts.
bench_ingest() {
	rsync -a --delete "$D/data/base/" "$SRC/"
	k=1
	while [ $k -le "$REPEAT" ]; do
		for t in $TOOLS; do
			has "${TOOLS_FAILED:-}" "$t" && continue
			if [ $k -eq 1 ]; then
				say "$t: ingest"
				rec "$t" load_ingest "$(load)"
			fi
			ingest_round "$t" || TOOLS_FAILED="${TOOLS_FAILED:-} $t"
		done
		k=$((k + 1))
	done
	for t in $TOOLS; do
		has "${TOOLS_FAILED:-}" "$t" && continue
		eval "walls=\$FW_$t cpus=\$FC_$t rsss=\$FR_$t"
		T_WALL=$(median $walls) T_CPU=$(median $cpus)
		T_RSS=$(median $rsss) T_RC=0
		rec "$t" first_wall_runs "${walls# }"
		rec "$t" first_cpu_runs "${cpus# }"
		rec "$t" first_rss_runs "${rsss# }"
		ingest_record "$t" first || TOOLS_FAILED="${TOOLS_FAILED:-} $t"
	done
	rsync -a --delete "$D/data/changed/" "$SRC/"
	for t in $TOOLS; do
		has "${TOOLS_FAILED:-}" "$t" && continue
		warm_tree "$SRC"
		# shellcheck disable=SC2046
		timed "$t-ingest-changed" "$t" $(ingest_cmd "$t" changed)
		ingest_record "$t" changed || {
			TOOLS_FAILED="${TOOLS_FAILED:-} $t"
			continue
		}
		n=$(n_snapshots "$t" 2>/dev/null)
		[ "${n:-0}" -eq 2 ] ||
		    problem "$t" "lists ${n:-no} snapshots, not 2"
	done
}

# ---- mounts --------------------------------------------------------------

MPID=
SAMPLER=
mount_start() { # tool
	case $1 in
	amber)
		# shellcheck disable=SC2086
		env $(tool_env amber) "$AMBERFS" "$RUN/amber-store" "$MNT" -f \
		    $AMBERFS_OPTS >>"$RUN/amber-mount.log" 2>&1 &
		;;
	restic)
		env $(tool_env restic) restic mount "$MNT" \
		    >>"$RUN/restic-mount.log" 2>&1 & ;;
	borg)
		env $(tool_env borg) borg mount -f "$RUN/borg-repo" "$MNT" \
		    >>"$RUN/borg-mount.log" 2>&1 & ;;
	esac
	MPID=$!
	(
		while kill -0 $MPID 2>/dev/null; do
			sample_rss $MPID
			sleep 0.2
		done
	) >>"$RUN/$1-rss.samples" 2>/dev/null &
	SAMPLER=$!
}
sample_rss() { # pid: prints "RssAnon RssFile VmHWM" in KiB
	awk '/^(VmHWM|RssAnon|RssFile):/ { v[$1] = $2 }
	    END { if (v["VmHWM:"] != "")
		print v["RssAnon:"], v["RssFile:"], v["VmHWM:"] }' \
	    "/proc/$1/status" 2>/dev/null
}
snapdir_of() {
	case $1 in
	amber|restic) echo "$MNT/snapshots" ;;
	borg) echo "$MNT" ;;
	esac
}
root_in() { # tool snapshot-dir: the tree's root inside a snapshot
	case $1 in
	amber) echo "$2/files/linux" ;;
	*) echo "$2/linux" ;;
	esac
}
snapshots_in() { # dir: snapshot names, oldest first, without "latest"
	ls "$1" 2>/dev/null | grep -v '^latest$' | LC_ALL=C sort
}
# mount_ready tool: wait until a snapshot can be listed; prints seconds
# since $M_T0.  Returns 1 if the mount died or took over 300 s.
mount_ready() {
	sd=$(snapdir_of "$1")
	while :; do
		if ! kill -0 "$MPID" 2>/dev/null; then
			return 1
		fi
		first=$(snapshots_in "$sd" | head -n 1)
		if [ -n "$first" ] &&
		    [ -n "$(ls "$sd/$first" 2>/dev/null)" ]; then
			secs "$M_T0" "$(now_ns)"
			return 0
		fi
		if [ $(( ($(now_ns) - M_T0) / 1000000000 )) -gt 300 ]; then
			return 1
		fi
		sleep 0.005
	done
}
mount_stop() { # tool
	sample_rss "$MPID" >>"$RUN/$1-rss.samples"
	fusermount3 -u "$MNT" >>"$RUN/$1-umount.log" 2>&1 ||
	    umount "$MNT" >>"$RUN/$1-umount.log" 2>&1
	i=0
	while kill -0 "$MPID" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$MPID" 2>/dev/null; then
		# Leaving no process behind is amber's promise (issue 3);
		# for the others it is only worth a note.
		msg="mount process still running 20 s after unmount"
		if [ "$1" = amber ]; then
			problem "$1" "$msg"
		else
			rec "$1" note "$msg; sent SIGINT"
		fi
		kill -INT "$MPID" 2>/dev/null
		sleep 2
		kill "$MPID" 2>/dev/null
		umount -l "$MNT" 2>/dev/null
	fi
	wait "$MPID" 2>/dev/null
	kill "$SAMPLER" 2>/dev/null
	wait "$SAMPLER" 2>/dev/null
	MPID=
}
# mount_fresh tool [keep]: drop caches (unless "keep"), start the mount,
# wait; sets M_LS.
mount_fresh() {
	[ -n "$MPID" ] && mount_stop "$1"
	[ "${2:-}" = keep ] || drop_caches
	M_T0=$(now_ns)
	mount_start "$1"
	if ! M_LS=$(mount_ready "$1"); then
		problem "$1" "mount did not come up: $(tail -n 3 \
		    "$RUN/$1-mount.log" | tr '\n' ' ')"
		mount_stop "$1"
		return 1
	fi
	return 0
}

# The measurements, on a mount or on the plain trees.  Each takes the
# tool name and paths; cold ones drop the page cache first.
# m_find tool root: cold find, on a fresh mount each time (a mount keeps
# what it has listed), then warm.
m_find() {
	runs=
	for i in $(seq "$REPEAT"); do
		if [ "$i" -gt 1 ] && [ "$1" != plain ]; then
			mount_fresh "$1" || return 1
		fi
		drop_caches
		t0=$(now_ns)
		n=$(find "$2" | wc -l)
		t1=$(now_ns)
		runs="$runs $(secs "$t0" "$t1")"
	done
	rec "$1" find_cold "$(median $runs)"
	rec "$1" find_cold_runs "${runs# }"
	rec "$1" find_count "$n"
	[ "$n" -eq "$ENTRIES" ] ||
	    problem "$1" "find lists $n entries, the tree has $ENTRIES"
	hyperfine -N --warmup 1 --runs 5 --export-json "$RUN/$1-find.json" \
	    "find $2" >"$RUN/$1-find-warm.log" 2>&1 &&
	rec "$1" find_warm "$(/usr/bin/python3 -c '
import json, sys
print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' \
	    "$RUN/$1-find.json")"
}
m_cat() { # tool file
	drop_caches
	for w in cold warm; do
		t0=$(now_ns)
		dd if="$2" of=/dev/null bs=1M status=none ||
		    problem "$1" "reading $2 failed"
		t1=$(now_ns)
		rec "$1" cat_${w}_mbs "$(mbs 268435456 "$(secs "$t0" "$t1")")"
	done
	sum=$(sha256sum <"$2" | cut -d' ' -f1)
	[ "$sum" = "$RANDOM_SHA" ] ||
	    problem "$1" "the 256 MiB file reads back with sha256 $sum"
}
# m_cat_mount tool file: the first read of the file through a mount just
# started, with the tool's store in the page cache: what the file system
# itself achieves, to compare with the FUSE ceiling (which serves from
# memory); m_cat's cold read is bound by the disk as much as by the mount.
m_cat_mount() {
	runs=
	for i in $(seq "$REPEAT"); do
		tar -C "$(store_of "$1")" -cf - . | cat >/dev/null
		mount_fresh "$1" keep || return 1
		t0=$(now_ns)
		dd if="$2" of=/dev/null bs=1M status=none ||
		    problem "$1" "reading $2 failed"
		t1=$(now_ns)
		runs="$runs $(mbs 268435456 "$(secs "$t0" "$t1")")"
	done
	rec "$1" cat_mount_mbs "$(median $runs)"
	rec "$1" cat_mount_runs "${runs# }"
}
m_cp() { # tool file
	drop_caches
	rm -f "$RUN/deep.copy"
	t0=$(now_ns)
	cp "$2" "$RUN/deep.copy"
	t1=$(now_ns)
	rec "$1" cp_deep_ms "$(awk -v a="$t0" -v b="$t1" \
	    'BEGIN { printf "%.1f", (b - a) / 1e6 }')"
	cmp -s "$RUN/deep.copy" "$D/data/changed/$DEEP" ||
	    problem "$1" "cp of $DEEP gives other bytes"
}
# m_diff tool old new: diff -r between two trees.  diff follows the tree's
# symlinks to directories, so it reports more than prepare.sh changed; the
# plain trees' output is the reference, and every mount must give exactly
# the same output once the two roots are replaced by OLD and NEW.
m_diff() {
	drop_caches
	t0=$(now_ns)
	LC_ALL=C diff -r "$2" "$3" >"$RUN/$1-diff.out" 2>"$RUN/$1-diff.err"
	rc=$?
	t1=$(now_ns)
	rec "$1" diff_s "$(secs "$t0" "$t1")"
	awk -v o="$2" -v n="$3" -f "$top/tests/bench/oldnew.awk" \
	    "$RUN/$1-diff.out" "$RUN/$1-diff.err" >"$RUN/$1-diff.norm"
	nd=$(grep -c -e '^diff -r ' -e '^Binary files ' "$RUN/$1-diff.norm")
	no=$(grep -c '^Only in OLD' "$RUN/$1-diff.norm")
	nn=$(grep -c '^Only in NEW' "$RUN/$1-diff.norm")
	rec "$1" diff_found "$nd modified, $nn added, $no removed"
	if [ "$1" = plain ]; then
		[ $rc -eq 1 ] && [ "$nd" -ge "$N_MOD" ] && [ "$no" -ge "$N_REM" ] &&
		    [ "$nn" -ge "$N_ADD" ] ||
		    problem plain "diff -r (exit $rc) finds $nd modified," \
			"$nn added, $no removed; expected at least $N_MOD," \
			"$N_ADD, $N_REM"
	elif ! cmp -s "$RUN/plain-diff.norm" "$RUN/$1-diff.norm"; then
		problem "$1" "diff -r (exit $rc) between the snapshots differs" \
		    "from diff -r of the plain trees: $(diff \
		    "$RUN/plain-diff.norm" "$RUN/$1-diff.norm" | wc -l) lines" \
		    "(see $RUN/$1-diff.norm)"
	fi
}

# m_diff_warm tool old new: diff -r with both trees in the page cache (the
# anchor of the first touch below), the median of REPEAT runs.
m_diff_warm() {
	warm_tree "$2"
	warm_tree "$3"
	runs=
	for i in $(seq "$REPEAT"); do
		t0=$(now_ns)
		LC_ALL=C diff -r "$2" "$3" >/dev/null 2>&1
		t1=$(now_ns)
		runs="$runs $(secs "$t0" "$t1")"
	done
	rec "$1" diff_warm_s "$(median $runs)"
	rec "$1" diff_warm_runs "${runs# }"
}
# m_diff_touch tool old new: the first touch (issue 19): diff -r on a
# mount just started, with the store and its index in the page cache, so
# that what is timed is the mount's own work; then the same diff again on
# that mount (the kernel's caches and the mount's now warm).  Medians of
# REPEAT fresh mounts.
m_diff_touch() {
	first= second=
	for i in $(seq "$REPEAT"); do
		# The index too: after the cold runs before it, it would
		# otherwise be read from the disk a page at a time.
		warm_tree "$(store_of "$1")"
		warm_tree "$(cache_of "$1")"
		mount_fresh "$1" keep || return 1
		t0=$(now_ns)
		LC_ALL=C diff -r "$2" "$3" >/dev/null 2>&1
		t1=$(now_ns)
		LC_ALL=C diff -r "$2" "$3" >/dev/null 2>&1
		t2=$(now_ns)
		first="$first $(secs "$t0" "$t1")"
		second="$second $(secs "$t1" "$t2")"
	done
	rec "$1" diff_first_s "$(median $first)"
	rec "$1" diff_first_runs "${first# }"
	rec "$1" diff_second_s "$(median $second)"
}

# m_read_touch tool dir: the first touch that no shared inode helps
# (fs/share.h): every file of one snapshot read whole (tar into a pipe)
# on a fresh mount, the store and index in the page cache; for plain, the
# tree warm.  Medians of REPEAT runs.
m_read_touch() {
	runs=
	for i in $(seq "$REPEAT"); do
		if [ "$1" = plain ]; then
			warm_tree "$2"
		else
			warm_tree "$(store_of "$1")"
			warm_tree "$(cache_of "$1")"
			mount_fresh "$1" keep || return 1
		fi
		t0=$(now_ns)
		warm_tree "$2"
		t1=$(now_ns)
		runs="$runs $(secs "$t0" "$t1")"
	done
	rec "$1" read_first_s "$(median $runs)"
	rec "$1" read_first_runs "${runs# }"
}

bench_plain() {
	say "plain: find, cat, cp, diff -r"
	rec plain load_mount "$(load)"
	m_find plain "$D/data/changed"
	m_cat plain "$D/data/changed/$RANDOM_NAME"
	m_cp plain "$D/data/changed/$DEEP"
	m_diff plain "$D/data/base" "$D/data/changed"
	m_diff_warm plain "$D/data/base" "$D/data/changed"
	m_read_touch plain "$D/data/changed"
}

bench_mount() { # tool
	t=$1
	say "$t: mount"
	rec "$t" load_mount "$(load)"
	rm -f "$RUN/$t-rss.samples"
	mount_fresh "$t" || return 1
	rec "$t" first_ls "$M_LS"
	sd=$(snapdir_of "$t")
	old=$(root_in "$t" "$sd/$(snapshots_in "$sd" | head -n 1)")
	new=$(root_in "$t" "$sd/$(snapshots_in "$sd" | tail -n 1)")
	ns=$(snapshots_in "$sd" | wc -l)
	[ "$ns" -eq 2 ] || problem "$t" "the mount shows $ns snapshots"
	dev=$(mountpoint -d "$MNT" 2>/dev/null)
	[ -n "$dev" ] && rec "$t" read_ahead_kb \
	    "$(cat "/sys/class/bdi/$dev/read_ahead_kb" 2>/dev/null)"
	m_find "$t" "$new"
	mount_fresh "$t" || return 1
	rec "$t" first_ls_2 "$M_LS"
	m_cat "$t" "$new/$RANDOM_NAME"
	m_cat_mount "$t" "$new/$RANDOM_NAME"
	mount_fresh "$t" || return 1
	rec "$t" first_ls_3 "$M_LS"
	m_cp "$t" "$new/$DEEP"
	mount_fresh "$t" || return 1
	rec "$t" first_ls_4 "$M_LS"
	m_diff "$t" "$old" "$new"
	[ "$t" = amber ] && m_diff_touch "$t" "$old" "$new"
	[ "$t" = amber ] && m_read_touch "$t" "$new"
	mount_stop "$t"
	# amberfs -f says how long the key derivation took, and the rest.
	[ "$t" = amber ] && sed -n 's/.*key unlocked in \([0-9]*\) ms, then ready in \([0-9]*\) ms.*/\1 \2/p' \
	    "$RUN/amber-mount.log" | head -n 1 | { read -r u rd
	  [ -n "$u" ] && { rec amber unlock_ms "$u"; rec amber ready_ms "$rd"; }; }
	awk 'NF == 3 { if ($1 > a) a = $1; if ($2 > f) f = $2; if ($3 > h) h = $3 }
	    END { print a + 0, f + 0, h + 0 }' "$RUN/$t-rss.samples" |
	{ read -r a f h
	  rec "$t" rss_anon_kb "$a"; rec "$t" rss_file_kb "$f"
	  rec "$t" hwm_kb "$h"; }
}

# ---- the FUSE ceiling ----------------------------------------------------

bench_ceiling() {
	say "FUSE ceiling"
	cc -std=c17 -O2 -Wall -Wextra -D_GNU_SOURCE \
	    $(pkg-config --cflags fuse3) -o "$D/bin/fuse_ceiling" \
	    "$here/fuse_ceiling.c" $(pkg-config --libs fuse3) ||
	    { problem ceiling "fuse_ceiling does not build"; return 1; }
	size=1073741824
	"$D/bin/fuse_ceiling" -o size=$size "$MNT" -f \
	    >"$RUN/ceiling.log" 2>&1 &
	cpid=$!
	i=0
	while [ ! -e "$MNT/data" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	dev=$(mountpoint -d "$MNT" 2>/dev/null)
	if [ -z "$dev" ]; then
		problem ceiling "did not mount: $(tail -n 1 "$RUN/ceiling.log")"
		kill $cpid 2>/dev/null
		return 1
	fi
	ra=/sys/class/bdi/$dev/read_ahead_kb
	rec ceiling default_read_ahead_kb "$(cat "$ra")"
	runs=
	for step in ra128k $(seq "$REPEAT" | sed 's/^/ra1m/') cached; do
		case $step in
		ra128k) drop_caches ;;
		ra1m*) drop_caches; echo 1024 >"$ra" ;;
		esac
		t0=$(now_ns)
		dd if="$MNT/data" of=/dev/null bs=1M status=none
		t1=$(now_ns)
		m=$(mbs $size "$(secs "$t0" "$t1")")
		case $step in
		ra1m*) runs="$runs $m" ;;
		*) rec ceiling ${step}_mbs "$m" ;;
		esac
	done
	rec ceiling ra1m_mbs "$(median $runs)"
	rec ceiling ra1m_runs "${runs# }"
	head -c 4 "$MNT/data" | od -An -tu1 | grep -q '7 *38 *69 *100' ||
	    problem ceiling "served the wrong bytes"
	fusermount3 -u "$MNT"
	wait $cpid
}

# ---- the run -------------------------------------------------------------

say "run $RUN; tools: $TOOLS; parts: $PARTS"
if has "$PARTS" ingest; then
	bench_ingest
fi
if has "$PARTS" mount; then
	bench_plain
	for t in $TOOLS; do
		# A mount needs the two snapshots of the ingest part.
		has "${TOOLS_FAILED:-}" "$t" && continue
		[ -e "$(store_of "$t")" ] || {
			problem "$t" "no store in this run (BENCH_PARTS lacks ingest?)"
			continue; }
		bench_mount "$t"
	done
fi
has "$PARTS" ceiling && bench_ceiling
if has "$PARTS" git; then
	. "$here/git.sh"
	bench_git
fi
rec host load_end "$(load)"

sh "$here/report.sh" "$DATA" | tee "$RESULTS"
say "results in $RESULTS; raw figures and logs in $RUN"
! grep -q "	problem	" "$DATA"
