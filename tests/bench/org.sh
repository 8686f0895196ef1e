#!/bin/sh
# tests/bench/org.sh: `amber ingest --sources` over a fixture GitLab group
# of N small repositories (default 100; tests/forge/org_server.py, git
# over git http-backend, pipeline metadata from its API): a full run, then
# a no-change rerun, for each --jobs value given (default "1 4 8").
#     AMBER=build/amber AMBER_TOP=. sh tests/bench/org.sh [N] [JOBS...]
# PARTS (default "table pipelines floor") chooses the parts: the table
# above; the unchanged rerun with pipelines at --jobs 4, medians of
# REPEAT, also with AMBER_BEFORE (another build, e.g. main's) interleaved
# when it is set; and the pipelines=no rerun against its floor.
# API_DELAY (seconds, default 0) makes each project API call of the
# fixture forge take that long, as a forge across a network does.
set -u
AMBER=$(cd "$(dirname "$AMBER")" && pwd)/$(basename "$AMBER")
PARTS=${PARTS:-table pipelines floor}
REPEAT=${REPEAT:-3}
has_part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { print v[int((NR + 1) / 2)] }'; }
N=${1:-100}
[ $# -gt 0 ] && shift
JOBS=${*:-1 4 8}
T=$(mktemp -d /tmp/amber-bench-org.XXXXXX)
cleanup() { chmod -R u+rwX "$T"; rm -rf "$T"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
export XDG_CACHE_HOME=$T/cache AMBER_PASSPHRASE=bench
. "$AMBER_TOP/tests/cli/org_common.inc"
projects=
i=1
while [ $i -le "$N" ]; do
	p=grp/s$((i % 5))/r$i
	org_repo "$p" 5
	projects="$projects{\"path\":\"$p\",\"pipelines\":[$i]},"
	i=$((i + 1))
done
org_forge "{\"per_page\":100,\"api_delay\":${API_DELAY:-0},\"projects\":[${projects%,}]}"
org_start
echo "gitlab-group $URL/grp" >"$T/sources"
has_part table && printf '%-6s %-8s %8s %8s %8s %8s %6s\n' jobs run \
    total listing fetching storing API
has_part table || JOBS=
for j in $JOBS; do
	rm -rf "$T/S" "$T/cache"
	"$AMBER" init --kdf log2n=10,r=8,p=1 "$T/S" >/dev/null ||
	    fail "init"
	for run in full rerun; do
		: >"$T/req.log"
		"$AMBER" ingest "$T/S" --sources "$T/sources" --jobs "$j" \
		    --json >"$T/out" 2>"$T/err" || { cat "$T/err";
		    fail "ingest"; }
		python3 - "$T/out" "$j" "$run" "$(grep -c /api/ "$T/req.log")" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["timing"]
print("%-6s %-8s %7.2fs %7.2fs %7.2fs %7.2fs %6s" % (sys.argv[2],
      sys.argv[3], s["seconds"], t["listing"], t["fetching"],
      t["storing"], sys.argv[4]))
P
	done
done

# The unchanged rerun with pipelines (issue 19: their API calls run
# --jobs at a time), after a full run and one rerun; with AMBER_BEFORE,
# both builds on stores of their own, interleaved.
pipelines_part() {
	_bins=$AMBER
	[ -n "${AMBER_BEFORE:-}" ] && _bins="$(cd "$(dirname "$AMBER_BEFORE")" &&
	    pwd)/$(basename "$AMBER_BEFORE") $AMBER"
	_k=0
	for b in $_bins; do
		_k=$((_k + 1))
		rm -rf "$T/P$_k" "$T/cache$_k"
		XDG_CACHE_HOME=$T/cache$_k "$b" init --kdf log2n=10,r=8,p=1 \
		    "$T/P$_k" >/dev/null || fail "init"
		for run in full rerun; do
			XDG_CACHE_HOME=$T/cache$_k "$b" ingest "$T/P$_k" \
			    --sources "$T/sources" --jobs 4 -q || fail "$run"
		done
		eval "_t$_k="
	done
	for r in $(seq "$REPEAT"); do
		_k=0
		for b in $_bins; do
			_k=$((_k + 1))
			: >"$T/req.log"
			t0=$(now_ms)
			XDG_CACHE_HOME=$T/cache$_k "$b" ingest "$T/P$_k" \
			    --sources "$T/sources" --jobs 4 -q || fail "rerun"
			t1=$(now_ms)
			eval "_t$_k=\"\$_t$_k $((t1 - t0))\""
			eval "_api$_k=$(grep -c /api/ "$T/req.log")"
		done
	done
	_k=0
	for b in $_bins; do
		_k=$((_k + 1))
		eval "_v=\$_t$_k; _a=\$_api$_k"
		# shellcheck disable=SC2086
		printf 'unchanged rerun with pipelines, --jobs 4, %s: %d ms ' \
		    "$b" "$(med $_v)"
		printf '(runs:%s; %s API calls)\n' "$_v" "$_a"
	done
}
has_part pipelines && pipelines_part
has_part floor || exit 0

# The unchanged rerun against its floor (issue 19): with pipelines=no and
# wiki=no, an unchanged rerun at --jobs 4 fetches nothing; the floor is a
# bare `git ls-remote` of every repository, four at a time.  Medians of
# REPEAT (default 3) runs each, interleaved.
echo "gitlab-group $URL/grp pipelines=no wiki=no" >"$T/sources.np"
rm -rf "$T/S" "$T/cache"
"$AMBER" init --kdf log2n=10,r=8,p=1 "$T/S" >/dev/null || fail "init"
"$AMBER" ingest "$T/S" --sources "$T/sources.np" --jobs 4 -q ||
    fail "ingest"
# The first rerun after a clone records each mirror's fetch state
# (amber-git(5)); the steady state of a schedule is the runs after it.
"$AMBER" ingest "$T/S" --sources "$T/sources.np" --jobs 4 -q ||
    fail "first rerun"
i=1
: >"$T/urls"
while [ $i -le "$N" ]; do
	echo "$URL/git/grp/s$((i % 5))/r$i.git" >>"$T/urls"
	i=$((i + 1))
done
a=; l=
for k in $(seq "$REPEAT"); do
	t0=$(now_ms)
	"$AMBER" ingest "$T/S" --sources "$T/sources.np" --jobs 4 -q ||
	    fail "rerun"
	t1=$(now_ms)
	xargs -P 4 -n 1 git ls-remote <"$T/urls" >/dev/null ||
	    fail "git ls-remote"
	t2=$(now_ms)
	a="$a $((t1 - t0))"; l="$l $((t2 - t1))"
done
ma=$(med $a); ml=$(med $l)
printf 'unchanged rerun, pipelines=no, --jobs 4: %d ms (runs:%s)\n' "$ma" "$a"
printf 'git ls-remote of all %d, 4 at a time:  %d ms (runs:%s)\n' "$N" "$ml" "$l"
awk -v a="$ma" -v b="$ml" \
    'BEGIN { printf "ratio %.2f (goal <= 1.2)\n", a / b }'
