#!/bin/sh
# SIGKILL an ingest at random points, ten times over: the store stays
# consistent (amber verify passes) and the next ingest succeeds and
# restores right.  SEED=N replays a run.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

seed=${SEED:-$(date +%s)}
echo "seed $seed (rerun with SEED=$seed)"
S=$T/store
D=$T/src/t
init_store "$S"
python3 - "$D" "$seed" <<'PY'
import os, random, sys
d, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
os.makedirs(os.path.join(d, 'small'))
for i in range(10):
    with open(os.path.join(d, 'big%02d' % i), 'wb') as f:
        f.write(r.randbytes(2 << 20))
for i in range(500):
    with open(os.path.join(d, 'small', 's%03d' % i), 'wb') as f:
        f.write(r.randbytes(r.randrange(0, 20000)))
PY
# A first, whole ingest, timed: each round below adds as much new data,
# so killing within that time hits it at a random point of its work.
t0=$(date +%s.%N)
"$AMBER" ingest "$S" --dir t="$D" -q || fail "first ingest exited $?"
t1=$(date +%s.%N)
delays=$(awk -v s="$seed" -v a="$t0" -v b="$t1" 'BEGIN { srand(s)
    for (i = 0; i < 10; i++) printf "%.3f\n", rand() * (b - a) }')
killed=0
round=0
for d in $delays; do
	round=$((round + 1))
	# New data each round, so every ingest has packs to write.
	head -c $((8 << 20)) /dev/urandom >"$D/new$round"
	"$AMBER" ingest "$S" --dir t="$D" -q >"$T/kill.log" 2>&1 &
	pid=$!
	sleep "$d"
	kill -KILL $pid 2>/dev/null
	wait $pid
	rc=$?
	if [ $rc -eq 137 ]; then
		killed=$((killed + 1))
	elif [ $rc -ne 0 ]; then
		cat "$T/kill.log"
		fail "round $round: ingest exited $rc before the kill"
	fi
	echo "round $round: kill after ${d}s, exit $rc"
done
echo "$killed of 10 ingests killed"
[ $killed -gt 0 ] || fail "no ingest was killed: the timing is off"

"$AMBER" verify "$S" >"$T/verify" 2>&1 || { cat "$T/verify"; fail "verify after kills"; }
"$AMBER" ingest "$S" --dir t="$D" --json >"$T/out.json" ||
    fail "ingest after kills exited $?"
"$AMBER" restore "$S" latest:files/t "$T/r" || fail "restore"
tree_cmp "$D" "$T/r/t"
"$AMBER" verify "$S" >"$T/verify" 2>&1 || { cat "$T/verify"; fail "final verify"; }
echo ok
