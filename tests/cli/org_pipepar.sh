#!/bin/sh
# org_pipepar.sh: the pipeline sources of an organisation are read from
# the forge's API --jobs at a time (issue 19), and the snapshot does not
# depend on it.  The fixture forge counts its project API calls in flight
# (each takes 50 ms): one at a time with --jobs 1, more with --jobs 4,
# none asked twice (the store phase plays the answers back), and both
# runs store the same pipelines, the same sources in the same
# order, and warn alike about a project whose API fails.  Then the forge
# says its rate limit is spent (RateLimit-Remaining: 0, a reset about a
# second on) and answers 429 to calls made after it said so: the run
# waits, every thread with it, and stores everything; spent for longer
# than AMBER_FORGE_MAX_WAIT, it is not waited for.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/org_common.inc"

projects=
for i in 1 2 3 4 5 6 7 8; do
	org_repo "grp/r$i" 2
	projects="$projects{\"path\":\"grp/r$i\",\"pipelines\":[$((i * 10)),$((i * 10 + 1))]},"
done
org_repo grp/bad 1
forge_json() {
	org_forge "{\"api_delay\":0.05,\"stats\":\"$T/stats\"$1,
	    \"projects\":[$projects{\"path\":\"grp/bad\",\"fail\":500}]}"
}
# restart: a fresh fixture forge (its counts start at 0) and sources.
restart() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID"
		wait "$SRV_PID" 2>/dev/null
		SRV_PID=
	fi
	org_start
	echo "gitlab-group $URL/grp wiki=no" >"$T/sources"
}
# stat_of NAME: the forge's count NAME (max_inflight, calls, limited).
stat_of() {
	sleep 0.3	# the server writes its counts after each answer
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	    "$T/stats" "$1"
}

forge_json ""
for j in 1 4; do
	new_store "$T/S$j"
	restart
	: >"$T/req.log"
	expect 3 "$AMBER" ingest "$T/S$j" --sources "$T/sources" --jobs "$j"
	# Asked once, in the parallel phase; the store phase plays it back.
	dup=$(grep ' /api/v4/projects/' "$T/req.log" | sort | uniq -d)
	[ -z "$dup" ] || fail "--jobs $j: $(echo "$dup" | wc -l) API calls" \
	    "asked twice, as $(echo "$dup" | head -n 1)"
	grep 'warning:' "$T/err" | sed "s|$URL|URL|g" >"$T/warn$j"
	eval "max$j=$(stat_of max_inflight)"
	"$AMBER" ls "$T/S$j" latest:pipelines >"$T/ls$j" ||
	    fail "ls pipelines ($j)"
	"$AMBER" restore "$T/S$j" latest:pipelines "$T/r$j" >/dev/null ||
	    fail "restore ($j)"
done
# shellcheck disable=SC2154
[ "$max1" -eq 1 ] || fail "--jobs 1: $max1 API calls at once"
# shellcheck disable=SC2154
[ "$max4" -gt 1 ] || fail "--jobs 4: only $max4 API call at once"
[ "$max4" -le 4 ] || fail "--jobs 4: $max4 API calls at once"
cmp -s "$T/ls1" "$T/ls4" || { diff "$T/ls1" "$T/ls4" >&2;
    fail "--jobs 1 and 4 store different pipeline sources"; }
[ "$(wc -l <"$T/ls1")" -eq 8 ] || { cat "$T/ls1" >&2; fail "not 8 sources"; }
diff -r "$T/r1" "$T/r4" >&2 || fail "--jobs 1 and 4 store different runs"
[ -e "$T/r4/pipelines/grp.r8/runs/81.json" ] || fail "runs of grp/r8 missing"
cmp -s "$T/warn1" "$T/warn4" || { diff "$T/warn1" "$T/warn4" >&2;
    fail "--jobs 1 and 4 warn differently"; }
# The failing project: warned about once (the dry pass is silent).
[ "$(grep -c 'pipelines/grp.bad' "$T/warn4")" -eq 1 ] ||
    { cat "$T/warn4" >&2; fail "grp/bad not warned about once"; }

# Rate limit: spent at the 12th call, for about a second.
forge_json ',"rate_limit":{"after":12,"reset_in":1}'
restart
new_store "$T/R"
t0=$(date +%s%N)
expect 3 "$AMBER" ingest "$T/R" --sources "$T/sources" --jobs 4
t1=$(date +%s%N)
grep 'warning:' "$T/err" | sed "s|$URL|URL|g" >"$T/warnR"
cmp -s "$T/warn1" "$T/warnR" || { diff "$T/warn1" "$T/warnR" >&2;
    fail "rate limited: other warnings than without"; }
[ $(((t1 - t0) / 1000000)) -ge 900 ] || fail "did not wait for the reset"
limited=$(stat_of limited)
# Every thread waits once one is told: no call after that answer gets a
# 429 (one may race the telling); each waiting on its own would take 3.
[ "$limited" -le 1 ] || fail "$limited calls answered 429: not all waited"
"$AMBER" restore "$T/R" latest:pipelines "$T/rR" >/dev/null ||
    fail "restore (rate limited)"
diff -r "$T/r1" "$T/rR" >&2 || fail "rate limited: other runs stored"

# A limit spent for longer than AMBER_FORGE_MAX_WAIT is not waited for:
# the run ends promptly, and a project that cannot be read for it is
# carried forward, stale, saying why.
forge_json ',"rate_limit":{"after":3,"reset_in":60}'
restart
t0=$(date +%s)
AMBER_FORGE_MAX_WAIT=2 expect 3 "$AMBER" ingest "$T/S4" --sources \
    "$T/sources" --jobs 4
[ $(($(date +%s) - t0)) -lt 30 ] || fail "waited beyond AMBER_FORGE_MAX_WAIT"
err_has "beyond the 2 s AMBER_FORGE_MAX_WAIT allows"
err_has "the forge's rate limit resets later than AMBER_FORGE_MAX_WAIT allows (see the warning above) (the previous snapshot's copy is kept, flagged stale)"
echo ok
