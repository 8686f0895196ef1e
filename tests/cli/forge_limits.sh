#!/bin/sh
# forge_limits.sh: bounds.  A forge slower than AMBER_FORGE_TIMEOUT gives
# a timeout, and a rate limit that resets later than AMBER_FORGE_MAX_WAIT
# allows is not waited for: both are recorded in _errors.json (exit 3)
# and the ingest ends promptly.
. "$AMBER_TOP/tests/forge/lib.sh"

export AMBER_GITLAB_TOKEN=$TOKEN AMBER_FORGE_TIMEOUT=3 AMBER_FORGE_RETRIES=-1
gitlab_start gitlab-v1 gitlab-limits
t0=$(date +%s)
ingest --pipeline gl=gitlab:https://gitlab.example.com/grp/app
t1=$(date +%s)
[ "$RC" -eq 3 ] || { cat "$T/err"; fail "ingest exited $RC, not 3"; }
# The 429 of the variables (Retry-After: 1) is the only wait allowed.
[ $((t1 - t0)) -lt 30 ] || fail "took $((t1 - t0)) s: waited on a bound"
grep -q 'warning: releases: GET .*/releases?per_page=100: .*[Tt]imeout' "$T/err" ||
    { cat "$T/err"; fail "no timeout reported"; }
grep -q 'warning: environments: .*rate limited (HTTP 403), retry in 3[0-9][0-9][0-9] s' "$T/err" ||
    { cat "$T/err"; fail "long rate limit not reported"; }
[ "$(requests '/environments?')" -eq 1 ] || fail "asked again within the rate limit"
restore_to "$T/a" gl
python3 - "$T/a/gl/_errors.json" <<'PY' || fail "_errors.json"
import json, sys
errs = {e["what"]: e for e in json.load(open(sys.argv[1]))}
assert sorted(errs) == ["environments", "releases"], errs
assert errs["releases"]["status"] == 0, errs
assert errs["environments"]["status"] == 403, errs
PY
[ -e "$T/a/gl/environments.json" ] && fail "environments.json stored"
[ -e "$T/a/gl/runs/1002.json" ] || fail "runs missing"
echo ok
