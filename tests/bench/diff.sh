#!/bin/sh
# tests/bench/diff.sh: the cost of `amber diff` (issue 17, "Performance").
# As root, after tests/bench/prepare.sh (run here if its data is missing).
#
# On the bench data (linux-source-6.1 + 256 MiB, then the changed tree:
# 500 modified, 100 added, 100 removed), in one run, each the median of
# BENCH_REPEAT (default 3) runs:
#
#   amber_diff        amber diff STORE A B, a new process each time (so
#                     the key derivation is in it), store in the page cache
#   amber_walk_ms     the part of it after unlock (diff --verbose)
#   mount_fresh_diff  diff -rq A B over a fresh amberfs mount, the store in
#                     the page cache (a new amberfs process each run)
#   mount_warm_diff   diff -rq A B again on one mount that ran it once
#   restic_diff       restic diff A B on the same two trees (restic's own
#                     cache warm, repository in the page cache)
#   one_file_*        amber diff B C, C being B with one file changed:
#                     the whole command, the part after unlock, and an
#                     unlock alone (amber snapshots -q) for the KDF's share
#
# Answers are checked: amber diff --stat against prepare.sh's counts, and
# one changed file for B C.  Timings are printed, never asserted.  The
# store, restic repository and source copy are kept in
# $AMBER_BENCH_DIR/diff and reused while the data and the KDF are the
# same (BENCH_FRESH=1 remakes them).
# Environment: AMBER_BENCH_DIR, AMBER, AMBERFS, BENCH_REPEAT, BENCH_FRESH.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
W=$D/diff
REPEAT=${BENCH_REPEAT:-3}
AMBER=${AMBER:-$top/build/amber}
AMBERFS=${AMBERFS:-$top/build/amberfs}
PASS=amber-bench-passphrase
KDF=log2n=14,r=8,p=1
A=2026-01-01T00:00:00Z
B=2026-01-02T00:00:00Z
C=2026-01-03T00:00:00Z

say() { echo "bench-diff: $*" >&2; }
die() { echo "bench-diff: $*" >&2; exit 1; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
warm_tree() { tar -C "$1" -cf - . | cat >/dev/null; }
fact() { sed -n "s/^$1=//p" "$D/data/ready"; }

[ "$(id -u)" -eq 0 ] || die "run as root (mounts, page cache)"
[ -x "$AMBER" ] && [ -x "$AMBERFS" ] || die "build first: $AMBER, $AMBERFS"
command -v restic >/dev/null || die "restic is needed (Debian: restic)"
[ -f "$D/data/ready" ] || sh "$top/tests/bench/prepare.sh" ||
    die "prepare.sh failed"
mkdir -p "$W"
# Others rebuild build/ while we run: use a copy taken now.
mkdir -p "$W/bin"
cp "$AMBER" "$W/bin/amber.new" && cp "$AMBERFS" "$W/bin/amberfs" ||
    die "cannot copy the binaries"
mv "$W/bin/amber.new" "$W/bin/amber"
AMBER=$W/bin/amber
AMBERFS=$W/bin/amberfs
export AMBER_PASSPHRASE=$PASS XDG_CACHE_HOME=$W/cache
export RESTIC_PASSWORD=$PASS RESTIC_REPOSITORY=$W/restic-repo \
    RESTIC_CACHE_DIR=$W/restic-cache
MNT=$W/mnt
LOG=$W/logs
mkdir -p "$MNT" "$LOG"
OUT=$W/results-$(date -u +%Y%m%dT%H%M%SZ).txt
: >"$OUT"
rec() { printf '%-22s %s\n' "$1" "$2" | tee -a "$OUT"; }
problems=0
problem() { rec problem "$*"; problems=$((problems + 1)); }

# ---- the stores: A (base), B (changed), C (B and one file) -------------
stamp="$(cat "$D/data/ready" | md5sum | cut -c1-12) kdf=$KDF"
if [ "${BENCH_FRESH:-0}" = 1 ] || [ "$(cat "$W/made" 2>/dev/null)" != "$stamp" ]
then
	say "making the amber store and the restic repository (minutes)"
	chmod -R u+w "$W/store" 2>/dev/null
	rm -rf "$W/store" "$W/cache" "$W/restic-repo" "$W/restic-cache" \
	    "$W/made" "$W/src"
	mkdir -p "$W/src/linux"
	"$AMBER" init "$W/store" --kdf "$KDF" >"$LOG/init.log" 2>&1 ||
	    die "amber init: $(cat "$LOG/init.log")"
	restic init >"$LOG/restic-init.log" 2>&1 ||
	    die "restic init: $(cat "$LOG/restic-init.log")"
	for step in "$A base" "$B changed" "$C one"; do
		set -- $step
		if [ "$2" = one ]; then
			# One file changed: a line appended to the deep file.
			echo "/* one more line */" >>"$W/src/linux/$(fact deep)"
		else
			rsync -a --delete "$D/data/$2/" "$W/src/linux/" ||
			    die "rsync $2"
		fi
		"$AMBER" ingest "$W/store" --dir linux="$W/src/linux" \
		    --time "$1" -q >"$LOG/ingest-$2.log" 2>&1 ||
		    die "amber ingest $2: $(tail -3 "$LOG/ingest-$2.log")"
		[ "$2" = one ] && continue
		(cd "$W/src" && restic backup --host bench --tag "$2" linux) \
		    >"$LOG/restic-$2.log" 2>&1 ||
		    die "restic backup $2: $(tail -3 "$LOG/restic-$2.log")"
	done
	echo "$stamp" >"$W/made"
fi
ra=$(restic snapshots --json --tag base | python3 -c \
    'import json,sys; print(json.load(sys.stdin)[0]["short_id"])') ||
    die "restic snapshots"
rb=$(restic snapshots --json --tag changed | python3 -c \
    'import json,sys; print(json.load(sys.stdin)[0]["short_id"])') ||
    die "restic snapshots"

rec host "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"
rec versions "restic $(restic version | cut -d' ' -f2), amber commit \
$(git -C "$top" rev-parse --short HEAD 2>/dev/null), kdf $KDF"
rec data "$(fact files) files, $(fact bytes) bytes; B: $(fact modified) \
modified, $(fact added) added, $(fact removed) removed"

# ---- answers ----------------------------------------------------------
warm_tree "$W/store"
"$AMBER" diff "$W/store" "$A" "$B" --stat --json >"$LOG/stat.json" 2>&1
rc=$?
[ $rc -eq 1 ] || problem "amber diff --stat A B: exit $rc"
python3 - "$LOG/stat.json" "$(fact modified)" "$(fact added)" \
    "$(fact removed)" <<'EOF' || problem "amber diff --stat A B: $(cat "$LOG/stat.json")"
import json, sys
s = json.load(open(sys.argv[1]))
m, a, r = map(int, sys.argv[2:])
assert s["files_modified"] == m and s["files_added"] == a and \
    s["files_removed"] == r, s
EOF
rec answer_A_B "$(tr -d '{}"' <"$LOG/stat.json" | cut -c1-200)"
"$AMBER" diff "$W/store" "$B" "$C" >"$LOG/one.out" 2>&1
rc=$?
[ $rc -eq 1 ] && [ "$(grep -c '^M    files/linux/' "$LOG/one.out")" -eq 1 ] ||
    problem "amber diff B C (exit $rc): $(head -5 "$LOG/one.out")"

# ---- amber diff A B ---------------------------------------------------
v=
w=
i=0
while [ $i -lt "$REPEAT" ]; do
	t0=$(now_ns)
	"$AMBER" diff "$W/store" "$A" "$B" --verbose >"$LOG/amber-diff.out" \
	    2>"$LOG/amber-diff.err"
	t1=$(now_ns)
	v="$v $(secs "$t0" "$t1")"
	w="$w $(sed -n 's/.* in \([0-9.]*\) ms after unlock.*/\1/p' \
	    "$LOG/amber-diff.err")"
	i=$((i + 1))
done
amber_s=$(median $v)
rec amber_diff "$amber_s s (runs:$v); $(wc -l <"$LOG/amber-diff.out") lines"
rec amber_walk_ms "$(median $w) ms after unlock (runs:$w); $(sed -n \
    's/.*diff: \([0-9]* trees read\).*/\1/p' "$LOG/amber-diff.err")"

# ---- diff -rq over the mount --------------------------------------------
MPID=
mount_start() {
	"$AMBERFS" "$W/store" "$MNT" -f >>"$LOG/amberfs.log" 2>&1 &
	MPID=$!
	n=0
	while [ -z "$(ls "$MNT/snapshots/$A" 2>/dev/null)" ]; do
		kill -0 "$MPID" 2>/dev/null || die "amberfs died: \
$(tail -3 "$LOG/amberfs.log")"
		n=$((n + 1))
		[ $n -lt 30000 ] || die "amberfs not ready after 150 s"
		sleep 0.005
	done
}
mount_stop() {
	fusermount3 -u "$MNT" 2>/dev/null || umount "$MNT"
	wait "$MPID" 2>/dev/null
	MPID=
}
trap '[ -n "$MPID" ] && mount_stop' EXIT
rq() { # prints seconds; output in $LOG/rq.out
	t0=$(now_ns)
	LC_ALL=C diff -rq "$MNT/snapshots/$A/files/linux" \
	    "$MNT/snapshots/$B/files/linux" >"$LOG/rq.out" 2>&1
	t1=$(now_ns)
	secs "$t0" "$t1"
}
v=
i=0
while [ $i -lt "$REPEAT" ]; do
	warm_tree "$W/store"
	mount_start
	v="$v $(rq)"
	mount_stop
	i=$((i + 1))
done
fresh_s=$(median $v)
rec mount_fresh_diff "$fresh_s s (runs:$v); $(wc -l <"$LOG/rq.out") lines"
mount_start
rq >/dev/null
v=
i=0
while [ $i -lt "$REPEAT" ]; do
	v="$v $(rq)"
	i=$((i + 1))
done
mount_stop
warm_s=$(median $v)
rec mount_warm_diff "$warm_s s (runs:$v)"
nq=$(grep -c -e '^Files .* differ$' -e '^Only in ' "$LOG/rq.out")
[ "$nq" -ge $(($(fact modified) + $(fact added) + $(fact removed))) ] ||
    problem "diff -rq over the mount found only $nq differences"

# ---- restic diff --------------------------------------------------------
warm_tree "$W/restic-repo"
restic diff "$ra" "$rb" >/dev/null 2>&1	# its cache, warm
v=
i=0
while [ $i -lt "$REPEAT" ]; do
	t0=$(now_ns)
	restic diff "$ra" "$rb" >"$LOG/restic-diff.out" 2>&1
	t1=$(now_ns)
	v="$v $(secs "$t0" "$t1")"
	i=$((i + 1))
done
restic_s=$(median $v)
rec restic_diff "$restic_s s (runs:$v); $(wc -l <"$LOG/restic-diff.out") lines"

# ---- one changed file -----------------------------------------------------
v=
w=
u=
i=0
while [ $i -lt "$REPEAT" ]; do
	t0=$(now_ns)
	"$AMBER" diff "$W/store" "$B" "$C" --verbose >/dev/null \
	    2>"$LOG/one.err"
	t1=$(now_ns)
	"$AMBER" snapshots "$W/store" -q >/dev/null 2>&1
	t2=$(now_ns)
	v="$v $(secs "$t0" "$t1")"
	u="$u $(secs "$t1" "$t2")"
	w="$w $(sed -n 's/.* in \([0-9.]*\) ms after unlock.*/\1/p' \
	    "$LOG/one.err")"
	i=$((i + 1))
done
rec one_file_total "$(median $v) s (runs:$v)"
rec one_file_after_unlock "$(median $w) ms (runs:$w); $(sed -n \
    's/.*diff: \([0-9]* trees read\).*/\1/p' "$LOG/one.err")"
rec one_file_unlock_only "$(median $u) s (amber snapshots -q; runs:$u)"

rec ratios "$(awk -v a="$amber_s" -v f="$fresh_s" -v w="$warm_s" \
    -v r="$restic_s" 'BEGIN { printf "fresh mount / amber diff %.1fx, \
warm mount / amber diff %.1fx, restic / amber diff %.1fx", f / a, w / a, r / a }')"
rec load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
say "results in $OUT"
[ $problems -eq 0 ]
