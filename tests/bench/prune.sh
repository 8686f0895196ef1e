#!/bin/sh
# tests/bench/prune.sh: the cost of `amber prune` on a local store against
# `restic forget --prune` on the same history (issue 16, "Performance").
# Not part of `make check`; figures are printed, never asserted.
#
#   sh tests/bench/prune.sh
#
# A synthetic history: 200 small files (512 B to 8 KiB) in 10 directories;
# each snapshot rewrites 2 of them and adds one (prune_gen.py), one an
# hour from 2026-01-01T00:00:00Z (so 1000 snapshots span 41 days).  Both
# tools ingest the same bytes, amber with `ingest --time`, restic with
# `backup --time` (TZ=UTC for both), each on its own copy of the tree, the
# two histories built side by side.  The store and repository are copied
# aside at each N of BENCH_PRUNE_N, then, for each N, on a fresh copy
# with the page cache warm (every file read just before):
#
#   unlock   amber key list / restic cat config: opening the store and the
#            KDF alone (amber: scrypt at BENCH_PRUNE_KDF; restic: its own
#            calibrated scrypt), the share every command pays
#   dry      amber prune --dry-run / restic forget --prune --dry-run
#   prune    amber prune / restic forget --prune, with
#            --keep-last 10 --keep-daily 7 (amber: policy set, grace 0s,
#            since every pack is minutes old; restic: --group-by host,
#            as amber groups by writer key, and the "again" tree below
#            is backed up from another path)
#   again    10 more snapshots (the next steps), then the same prune: the
#            cost of a prune that frees a few snapshots, at each N
#
# Wall time and peak RSS (GNU time's %M, "Maximum resident set size") for
# each; "beyond KDF" is prune's peak RSS less unlock's.  Checked: both
# tools keep the same number of snapshots, amber verify is clean after
# the prune, and the newest snapshot restores equal to the source tree.
# Both repack packs that are partly unused: restic at its default
# --max-unused 5%, amber at its default --repack-threshold 50 (packs
# less than half live).  To see what amber's repack costs and saves,
# give BENCH_PRUNE_OLD a wrapper that runs the same binary with
# --repack-threshold 0 after "prune STORE".
#
# Environment:
#   AMBER_BENCH_DIR      work directory (default /var/tmp/amber-bench);
#                        everything goes in its prune/ subdirectory
#   AMBER                the binary (default build/amber; copied first)
#   BENCH_PRUNE_N        history lengths to measure (default "100 1000")
#   BENCH_PRUNE_KDF      amber's scrypt (default log2n=14,r=8,p=1: 16 MiB)
#   BENCH_PRUNE_BUDGET   seconds allowed to build the histories (default
#                        900); a length not reached in time is reported
#                        and skipped
#   BENCH_REPEAT         rounds of measures; medians are printed (default 3)
#   BENCH_PRUNE_OLD      another amber binary (e.g. an older build) to
#                        measure beside AMBER, round by round, in a column
#                        of its own ("amber-old")
#   BENCH_FRESH=1        rebuild the histories even if they are there
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
W=$D/prune
AMBER=${AMBER:-$top/build/amber}
NS=${BENCH_PRUNE_N:-100 1000}
KDF=${BENCH_PRUNE_KDF:-log2n=14,r=8,p=1}
BUDGET=${BENCH_PRUNE_BUDGET:-900}
REPEAT=${BENCH_REPEAT:-3}
OLD=${BENCH_PRUNE_OLD:-}
POLICY="--keep-last 10 --keep-daily 7"
GEN=$top/tests/bench/prune_gen.py
export TZ=UTC LC_ALL=C
export AMBER_PASSPHRASE=amber-bench-passphrase
export RESTIC_PASSWORD=amber-bench-passphrase
unset AMBER_PASSPHRASE_FILE RESTIC_PASSWORD_FILE RESTIC_PASSWORD_COMMAND

say() { echo "bench-prune: $*" >&2; }
die() { echo "bench-prune: $*" >&2; exit 1; }
warm() { find "$@" -type f -exec cat {} + >/dev/null 2>&1; }
bytes() { du -sb "$1" | cut -f1; }
# when I: the time of step I, for amber (RFC 3339) and restic.
when_amber() { date -u -d "2026-01-01 00:00:00 UTC + $1 hours" +%Y-%m-%dT%H:%M:%SZ; }
when_restic() { date -u -d "2026-01-01 00:00:00 UTC + $1 hours" '+%Y-%m-%d %H:%M:%S'; }

[ -x "$AMBER" ] || die "build first: $AMBER"
command -v restic >/dev/null || die "restic is needed (Debian: restic)"
[ -x /usr/bin/time ] || die "GNU time is needed (Debian: time)"
command -v python3 >/dev/null || die "python3 is needed"
max=0
for n in $NS; do
	case "$n" in '' | *[!0-9]* | 0) die "BENCH_PRUNE_N: '$n' is not a count" ;; esac
	[ "$n" -gt "$max" ] && max=$n
done
mkdir -p "$W/bin" || die "cannot make $W"
# Others rebuild build/ while we run: use a copy taken now.
cp "$AMBER" "$W/bin/amber.new" && mv "$W/bin/amber.new" "$W/bin/amber" ||
    die "cannot copy $AMBER"
AMBER=$W/bin/amber

# ---- the histories ----------------------------------------------------

stamp="gen $(md5sum <"$GEN" | cut -c1-12) kdf=$KDF n=$NS"
# build TOOL: one history, copied aside at each N; stop at the budget.
# TOOL_init makes the empty store, TOOL_snap I takes snapshot I of $src,
# and TOOL_keep DIR copies the store into DIR.
build() {
	tool=$1
	src=$W/h/$tool-src
	rm -rf "$src"
	mkdir -p "$src"
	"${tool}_init" || return 1
	t0=$(date +%s)
	i=0
	while [ "$i" -lt "$max" ]; do
		python3 "$GEN" "$src" "$i" || return 1
		"${tool}_snap" "$i" || return 1
		i=$((i + 1))
		case " $NS " in *" $i "*)
			rm -rf "$W/h/$tool-$i"
			mkdir -p "$W/h/$tool-$i"
			"${tool}_keep" "$W/h/$tool-$i"
			echo "$i" >"$W/h/$tool-$i/ready"
			say "$tool: $i snapshots in $(($(date +%s) - t0)) s" ;;
		esac
		[ $(($(date +%s) - t0)) -lt "$BUDGET" ] ||
		    { say "$tool: budget spent at $i snapshots"; return 0; }
	done
}
amber_init() {
	rm -rf "$W/h/amber-store" "$W/h/amber-ix"
	"$AMBER" init "$W/h/amber-store" --kdf "$KDF" -q
}
amber_snap() {
	"$AMBER" ingest "$W/h/amber-store" --index-dir "$W/h/amber-ix" \
	    --dir "src=$src" --time "$(when_amber "$1")" -q
}
# amber keeps the source tree too, for the "again" step.
amber_keep() {
	cp -a "$W/h/amber-store" "$1/store"
	cp -a "$W/h/amber-ix" "$1/ix"
	cp -a "$src" "$1/src"
}
restic_init() {
	rm -rf "$W/h/restic-repo" "$W/h/restic-cache"
	export RESTIC_REPOSITORY=$W/h/restic-repo RESTIC_CACHE_DIR=$W/h/restic-cache
	restic init -q
}
restic_snap() {
	(cd "$src" && restic backup -q --host bench --time "$(when_restic "$1")" .)
}
restic_keep() {
	cp -a "$W/h/restic-repo" "$1/repo"
	cp -a "$W/h/restic-cache" "$1/cache"
}

if [ "${BENCH_FRESH:-0}" = 1 ] || [ "$(cat "$W/h/stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$W/h"
	mkdir -p "$W/h"
	say "building histories of up to $max snapshots (budget ${BUDGET} s each)"
	t0=$(date +%s)
	build amber >"$W/h/amber.log" 2>&1 &
	pa=$!
	build restic >"$W/h/restic.log" 2>&1 &
	pr=$!
	wait $pa || die "building amber's history failed: $(tail -n 5 "$W/h/amber.log")"
	wait $pr || die "building restic's history failed: $(tail -n 5 "$W/h/restic.log")"
	echo "$stamp" >"$W/h/stamp"
	echo $(($(date +%s) - t0)) >"$W/h/build-seconds"
	rm -rf "$W/h/amber-src" "$W/h/amber-store" "$W/h/amber-ix" \
	    "$W/h/restic-src" "$W/h/restic-repo" "$W/h/restic-cache"
fi
cat "$W/h/amber.log" "$W/h/restic.log" >&2

# ---- the measurements -------------------------------------------------

RUN=$W/run
LOGS=$W/logs
DATA=$W/data.tsv
: >"$DATA"
rm -rf "$LOGS"
mkdir -p "$LOGS"
rec() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$DATA"; }
problems=""
problem() { problems="$problems
  $*"; say "PROBLEM: $*"; }

# timed NAME CMD...: CMD under GNU time, output in $LOGS/NAME.log; sets
# T_WALL (s), T_RSS (KiB) and T_RC.
timed() {
	name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$LOGS/$name.time" "$@" >"$LOGS/$name.log" 2>&1
	T_RC=$?
	set -- $(tail -n 1 "$LOGS/$name.time")
	T_WALL=$1
	T_RSS=$2
	[ "$T_RC" = 0 ] || problem "$name exited $T_RC: $(tail -n 3 "$LOGS/$name.log")"
}
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# measure_amber TOOL BINARY N REP: one round of amber's figures at N.
measure_amber() {
	tool=$1 bin=$2 n=$3 rep=$4
	tag=$tool-$n-$rep
	rm -rf "$RUN"
	mkdir -p "$RUN"
	cp -a "$W/h/amber-$n" "$RUN/amber"
	S=$RUN/amber/store
	IX="--index-dir $RUN/amber/ix"
	"$bin" policy set "$S" $IX $POLICY -q || problem "$tool policy set"
	before=$(bytes "$S")
	warm "$RUN/amber"
	timed $tag-unlock "$bin" key list "$S" $IX
	rec "$n" "$tool" unlock_s "$rep" "$T_WALL"; rec "$n" "$tool" unlock_rss "$rep" "$T_RSS"
	warm "$RUN/amber"
	timed $tag-dry "$bin" prune "$S" $IX --dry-run --grace 0s --json
	rec "$n" "$tool" dry_s "$rep" "$T_WALL"; rec "$n" "$tool" dry_rss "$rep" "$T_RSS"
	dry_freed=$(json "$LOGS/$tag-dry.log" freed_bytes)
	warm "$RUN/amber"
	timed $tag-prune "$bin" prune "$S" $IX --grace 0s --json
	rec "$n" "$tool" prune_s "$rep" "$T_WALL"; rec "$n" "$tool" prune_rss "$rep" "$T_RSS"
	freed=$(json "$LOGS/$tag-prune.log" freed_bytes)
	[ "$freed" = "$dry_freed" ] ||
	    problem "$tool N=$n: prune freed $freed bytes, --dry-run said $dry_freed"
	after=$(bytes "$S")
	rec "$n" "$tool" freed_bytes "$rep" "$((before - after))"
	rec "$n" "$tool" bytes_after "$rep" "$after"
	rec "$n" "$tool" bytes_before "$rep" "$before"
	kept=$("$bin" snapshots "$S" $IX --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	rec "$n" "$tool" kept "$rep" "$kept"
	"$bin" verify "$S" $IX >"$LOGS/$tag-verify.log" 2>&1 ||
	    problem "$tool N=$n: verify after prune: $(tail -n 3 "$LOGS/$tag-verify.log")"
	"$bin" restore "$S" $IX latest "$RUN/amber-restore" >/dev/null 2>&1 &&
	    diff -r "$RUN/amber/src" "$RUN/amber-restore/files/src" >/dev/null ||
	    problem "$tool N=$n: the newest snapshot does not restore equal"
	rm -rf "$RUN/amber-restore"
	i=$n
	while [ "$i" -lt $((n + 10)) ]; do
		python3 "$GEN" "$RUN/amber/src" "$i" &&
		"$bin" ingest "$S" $IX --dir "src=$RUN/amber/src" \
		    --time "$(when_amber "$i")" -q || problem "$tool: step $i of again"
		i=$((i + 1))
	done
	warm "$RUN/amber"
	timed $tag-again "$bin" prune "$S" $IX --grace 0s --json
	rec "$n" "$tool" again_s "$rep" "$T_WALL"; rec "$n" "$tool" again_rss "$rep" "$T_RSS"
	"$bin" verify "$S" $IX >"$LOGS/$tag-verify2.log" 2>&1 ||
	    problem "$tool N=$n: verify after the second prune"
	rm -rf "$RUN"
}

# measure_restic N REP: one round of restic's figures at N.
measure_restic() {
	n=$1 rep=$2
	tag=restic-$n-$rep
	rm -rf "$RUN"
	mkdir -p "$RUN"
	cp -a "$W/h/restic-$n" "$RUN/restic"
	export RESTIC_REPOSITORY=$RUN/restic/repo RESTIC_CACHE_DIR=$RUN/restic/cache
	before=$(bytes "$RESTIC_REPOSITORY")
	warm "$RUN/restic"
	timed $tag-unlock restic cat config
	rec "$n" restic unlock_s "$rep" "$T_WALL"; rec "$n" restic unlock_rss "$rep" "$T_RSS"
	warm "$RUN/restic"
	timed $tag-dry restic forget --group-by host $POLICY --prune --dry-run
	rec "$n" restic dry_s "$rep" "$T_WALL"; rec "$n" restic dry_rss "$rep" "$T_RSS"
	warm "$RUN/restic"
	timed $tag-prune restic forget --group-by host $POLICY --prune
	rec "$n" restic prune_s "$rep" "$T_WALL"; rec "$n" restic prune_rss "$rep" "$T_RSS"
	after=$(bytes "$RESTIC_REPOSITORY")
	rec "$n" restic freed_bytes "$rep" "$((before - after))"
	rec "$n" restic bytes_after "$rep" "$after"
	rec "$n" restic bytes_before "$rep" "$before"
	rkept=$(restic snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	rec "$n" restic kept "$rep" "$rkept"
	cp -a "$W/h/amber-$n/src" "$RUN/restic-src"
	i=$n
	while [ "$i" -lt $((n + 10)) ]; do
		python3 "$GEN" "$RUN/restic-src" "$i" &&
		(cd "$RUN/restic-src" && restic backup -q --host bench \
		    --time "$(when_restic "$i")" .) || problem "restic: step $i of again"
		i=$((i + 1))
	done
	warm "$RUN/restic"
	timed $tag-again restic forget --group-by host $POLICY --prune
	rec "$n" restic again_s "$rep" "$T_WALL"; rec "$n" restic again_rss "$rep" "$T_RSS"
	rm -rf "$RUN"
}

# The KDF's own share at amber's default (log2n=17,r=8,p=1: 128 MiB),
# for scale: an empty store, unlocked.
rm -rf "$RUN"
mkdir -p "$RUN"
"$AMBER" init "$RUN/default-kdf" -q || problem "amber init with the default KDF"
timed amber-unlock-default "$AMBER" key list "$RUN/default-kdf" --index-dir "$RUN/ix"
default_unlock="$T_WALL s, $((T_RSS / 1024)) MiB peak RSS"

tools="amber"
if [ -n "$OLD" ]; then
	cp "$OLD" "$W/bin/amber-old" || die "cannot copy $OLD"
	tools="amber amber-old"
fi
for n in $NS; do
	if [ ! -f "$W/h/amber-$n/ready" ] || [ ! -f "$W/h/restic-$n/ready" ]; then
		problem "N=$n: not built within the budget (see $W/h/*.log)"
		continue
	fi
	rep=1
	while [ "$rep" -le "$REPEAT" ]; do
		say "N=$n, round $rep of $REPEAT (load $(cut -d' ' -f1-3 /proc/loadavg))"
		for t in $tools; do
			measure_amber "$t" "$W/bin/$t" "$n" "$rep"
		done
		measure_restic "$n" "$rep"
		rep=$((rep + 1))
	done
done
for n in $NS; do
	a=$(awk -F'\t' -v n="$n" '$1 == n && $2 == "amber" && $3 == "kept" { print $5 }' "$DATA" | sort -u)
	r=$(awk -F'\t' -v n="$n" '$1 == n && $2 == "restic" && $3 == "kept" { print $5 }' "$DATA" | sort -u)
	[ "$a" = "$r" ] || problem "N=$n: amber keeps $a snapshots, restic $r"
done

# ---- the table --------------------------------------------------------

python3 - "$DATA" "$KDF" "$REPEAT" <<'PY'
import statistics
import sys
from collections import defaultdict
v = defaultdict(lambda: defaultdict(list))
for line in open(sys.argv[1]):
    n, tool, k, rep, x = line.rstrip("\n").split("\t")
    v[(int(n), k)][tool].append(float(x))
tools = ["amber", "amber-old", "restic"]
tools = [t for t in tools if any(t in d for d in v.values())]
ns = sorted({n for n, _ in v})
rows = [("unlock_s", "unlock alone (KDF), s"),
        ("unlock_rss", "unlock peak RSS, MiB"),
        ("dry_s", "dry run, s"), ("dry_rss", "dry run peak RSS, MiB"),
        ("prune_s", "prune, s"), ("prune_rss", "prune peak RSS, MiB"),
        ("beyond", "prune RSS beyond unlock, MiB"),
        ("kept", "snapshots kept"), ("bytes_before", "store before, MiB"),
        ("freed_bytes", "freed, MiB"), ("bytes_after", "store after, MiB"),
        ("again_s", "+10 snapshots, prune again, s"),
        ("again_rss", "+10, prune again RSS, MiB")]
def med(n, k, t):
    xs = v[(n, k)].get(t)
    return statistics.median(xs) if xs else None
print("amber prune vs restic forget --group-by host --prune, "
      "--keep-last 10 --keep-daily 7;")
print("amber KDF %s; medians of %s rounds, each on fresh copies, page "
      "cache warm" % (sys.argv[2], sys.argv[3]))
head = "%-31s %5s" % ("", "N") + "".join(" %10s" % t for t in tools)
head += " %8s" % "a/restic"
if "amber-old" in tools:
    head += " %8s" % "a/old"
print(head)
for n in ns:
    for k in ("unlock_rss", "dry_rss", "prune_rss", "again_rss"):
        for t in v[(n, k)]:
            v[(n, k)][t] = [x / 1024 for x in v[(n, k)][t]]
    for k in ("bytes_before", "freed_bytes", "bytes_after"):
        for t in v[(n, k)]:
            v[(n, k)][t] = [x / (1 << 20) for x in v[(n, k)][t]]
    for t in tools:
        p, u = v[(n, "prune_rss")].get(t), v[(n, "unlock_rss")].get(t)
        if p and u:
            v[(n, "beyond")][t] = [a - b for a, b in zip(p, u)]
    for k, label in rows:
        line = "%-31s %5d" % (label, n)
        m = {t: med(n, k, t) for t in tools}
        for t in tools:
            x = m[t]
            line += " %10s" % ("-" if x is None else
                               "%.0f" % x if k == "kept" else "%.2f" % x)
        def ratio(a, b):
            return "%.2f" % (a / b) if a is not None and b else "-"
        line += " %8s" % ratio(m.get("amber"), m.get("restic"))
        if "amber-old" in tools:
            line += " %8s" % ratio(m.get("amber"), m.get("amber-old"))
        print(line)
    print()
PY
echo "amber unlock alone at its default KDF (log2n=17,r=8,p=1): $default_unlock"
echo "raw figures: $DATA; logs: $LOGS"
if [ -n "$problems" ]; then
	echo "Problems:$problems"
	exit 1
fi
exit 0
