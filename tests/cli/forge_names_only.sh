#!/bin/sh
# forge_names_only.sh: AMBER_FORGE_NAMES_ONLY=1 keeps the names and scopes
# of CI/CD variables (and schedule variables) but not their values;
# AMBER_FORGE_RUNS limits the first ingest to the newest runs.
. "$AMBER_TOP/tests/forge/lib.sh"

export AMBER_GITLAB_TOKEN=$TOKEN AMBER_FORGE_NAMES_ONLY=1 AMBER_FORGE_RUNS=2
gitlab_start gitlab-v1
ingest --pipeline gl=gitlab:https://gitlab.example.com/grp/app
rc_ok "ingest"
restore_to "$T/a" gl
grep -q '"key": "DEPLOY_TOKEN"' "$T/a/gl/variables.json" || fail "variable name lost"
grep -q '"environment_scope": "production"' "$T/a/gl/variables.json" ||
    fail "variable scope lost"
grep -q '"value"' "$T/a/gl/variables.json" && fail "a variable value was stored"
grep -q '"key": "NIGHTLY"' "$T/a/gl/schedules.json" || fail "schedule variable lost"
grep -q '"value"' "$T/a/gl/schedules.json" && fail "a schedule variable value was stored"
[ "$(ls "$T/a/gl/runs")" = "$(printf '1001.json\n1002.json')" ] ||
    fail "AMBER_FORGE_RUNS=2 took: $(ls "$T/a/gl/runs")"
[ "$(requests '/pipelines?.*page=2')" -eq 0 ] || fail "read past the runs needed"
echo ok
