#!/bin/sh
# tests/run.sh: run every test that can run here and print one summary
# line, "N passed, N failed, N skipped".  Exit 0 pass, 77 skip, else fail.
# In CI (CI=true) a mount or S3 test that skips counts as a failure.
# TESTS=pattern runs only the tests whose name matches.
#
# Tests run JOBS at a time (default: the number of CPUs plus one; JOBS=1
# runs them one by one).  Each test has its own temporary directory,
# ports and daemons, so they can share the machine; the few listed in
# SERIAL below cannot, and run alone, after the others.  The results are
# printed in the order of the list, whatever order the tests end in, so
# the output of two runs compares line by line.  The longest tests start
# first (start_order below), so that none of them begins last.
B=${B:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
export AMBER="$top/$B/amber" AMBERFS="$top/$B/amberfs" AMBER_TOP="$top" B
pass=0 fail=0 skip=0 failed=""
log=$(mktemp -d /tmp/amber-check.XXXXXX)
mkdir "$log/q" || exit 1

# Tests that must have the machine to themselves; none today.  A name
# goes here only with the reason beside it (a fixed port or path, a
# change to global state), and only if the test cannot be fixed.
SERIAL=""

if [ -z "${JOBS:-}" ]; then
	JOBS=$(($(nproc 2>/dev/null || echo 1) + 1))
fi
case "$JOBS" in
'' | *[!0-9]* | 0)
	echo "tests/run.sh: JOBS must be a positive number, not '$JOBS'" >&2
	exit 2 ;;
esac
if [ -n "${TEST_TIMEOUT:-}" ]; then tmo=$TEST_TIMEOUT; else tmo=900; fi

# quote ARG: ARG as one single-quoted shell word.
quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# add NAME COMMAND...: queue a test, unless TESTS leaves it out.
n=0
add() {
	name=$1
	shift
	case "$name" in *${TESTS:-}*) ;; *) return ;; esac
	n=$((n + 1))
	printf '%s\n' "$name" >"$log/q/$n.name"
	cmd=""
	for a; do cmd="$cmd $(quote "$a")"; done
	printf '%s\n' "$cmd" >"$log/q/$n.cmd"
}

for t in "$top/$B"/tests/test_*; do
	[ -x "$t" ] && add "unit/${t##*/}" "$t"
done
for t in "$top/$B"/tests/fuzz_*; do
	[ -x "$t" ] || continue
	f=${t##*/fuzz_}
	add "fuzz/$f" "$t" "$top/tests/fuzz/corpus/$f"
done
for dir in cli attack mount s3; do
	for t in "$top"/tests/$dir/*.sh; do
		[ -f "$t" ] || continue
		case "$t" in */lib.sh) continue ;; esac
		add "$dir/$(basename "$t" .sh)" sh "$t"
	done
done
for m in "$top"/man/*.[1-8]; do
	[ -f "$m" ] || continue
	add "man/${m##*/}" mandoc -Tlint -W warning "$m"
done

is_serial() {
	[ -n "$SERIAL" ] || return 1
	case " $SERIAL " in *" $(cat "$log/q/$1.name") "*) return 0 ;; esac
	return 1
}

# The order to start them in: the longest first, as the last whole run
# timed them ($B/tests/run-times; tests it did not time count as long),
# so that no long test starts last; without that file, S3, mount and
# attack tests first, then the rest in list order.  Serial tests last.
times="$top/$B/tests/run-times"
start_order() {
	i=1
	while [ $i -le $n ]; do
		if ! is_serial $i; then
			name=$(cat "$log/q/$i.name")
			case "$name" in
			s3/*) k=3 ;; mount/*) k=2 ;; attack/*) k=1 ;; *) k=0 ;;
			esac
			echo "$i $k $name"
		fi
		i=$((i + 1))
	done | awk -v f="$times" '
		BEGIN { while ((getline l < f) > 0) {
			split(l, a, " "); t[a[2]] = a[1]; has = 1 } }
		{ w = has ? ($3 in t ? t[$3] : 1e9) : $2
		  printf "%s %d\n", w, $1 }' |
	    sort -k1,1gr -k2,2n -s | cut -d' ' -f2
	i=1
	while [ $i -le $n ]; do
		is_serial $i && echo $i
		i=$((i + 1))
	done
}

# launch I: start test I in the background; its exit status goes to
# $log/q/I.rc when it ends, and its name and wall time in seconds to
# $log/times.
launch() {
	name=$(cat "$log/q/$1.name")
	out="$log/$(echo "$name" | tr '/ ' '__').log"
	(
		t0=$(date +%s.%N)
		eval "timeout -k 10 $tmo $(cat "$log/q/$1.cmd")" >"$out" 2>&1 \
		    </dev/null
		rc=$?
		t1=$(date +%s.%N)
		echo "$name $t0 $t1" |
		    awk '{ printf "%7.1f %s\n", $3 - $2, $1 }' >>"$log/times"
		echo $rc >"$log/q/$1.rc.tmp"
		mv "$log/q/$1.rc.tmp" "$log/q/$1.rc"
	) &
}

# report I: count and print the result of test I, as the serial runner
# always did.
report() {
	name=$(cat "$log/q/$1.name")
	out="$log/$(echo "$name" | tr '/ ' '__').log"
	rc=$(cat "$log/q/$1.rc")
	if [ "$rc" -eq 77 ]; then
		case "$name" in
		mount/*|s3/*|attack/*)
			if [ "${CI:-}" = true ]; then
				rc=1; echo "skip not allowed in CI" >>"$out"
			fi ;;
		esac
	fi
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS $name"
	elif [ "$rc" -eq 77 ]; then
		skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$out")"
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (exit $rc)"; tail -n 25 "$out" | sed 's/^/    /'
	fi
}

# Start tests while fewer than JOBS run (a serial test only when none
# runs, and nothing beside it); print results in list order as soon as
# each is known.
order=$(start_order)
running=""
n_running=0
printed=1
while [ $printed -le $n ]; do
	still=""
	n_running=0
	for i in $running; do
		if [ ! -e "$log/q/$i.rc" ]; then
			still="$still $i"
			n_running=$((n_running + 1))
		fi
	done
	running=$still
	while [ -n "$order" ]; do
		i=${order%%"
"*}
		if is_serial "$i"; then
			[ $n_running -eq 0 ] || break
		elif [ $n_running -ge "$JOBS" ]; then
			break
		fi
		launch "$i"
		running="$running $i"
		n_running=$((n_running + 1))
		case "$order" in
		*"
"*)	order=${order#*"
"} ;;
		*)	order="" ;;
		esac
		is_serial "$i" && break
	done
	if [ -e "$log/q/$printed.rc" ]; then
		report $printed
		printed=$((printed + 1))
		continue
	fi
	sleep 0.2
done
wait
sort -rn "$log/times" -o "$log/times" 2>/dev/null
# A whole run's times order the next run's start.
if [ -z "${TESTS:-}" ] && [ -s "$log/times" ] && [ -d "$top/$B/tests" ]; then
	cp "$log/times" "$times.tmp" && mv "$times.tmp" "$times"
fi

[ -n "$failed" ] && echo "failed:$failed (logs in $log)"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
