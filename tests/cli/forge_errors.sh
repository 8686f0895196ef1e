#!/bin/sh
# forge_errors.sh: a forge that fails part of the way (releases answer
# 500, hooks 403): the snapshot still commits what was fetched, records
# what was not in _errors.json, and amber ingest exits 3 (partial).
. "$AMBER_TOP/tests/forge/lib.sh"

export AMBER_GITLAB_TOKEN=$TOKEN
gitlab_start gitlab-v1 gitlab-errors
ingest --pipeline gl=gitlab:https://gitlab.example.com/grp/app
[ "$RC" -eq 3 ] || { cat "$T/err"; fail "partial ingest exited $RC, not 3"; }
grep -q 'warning: releases: .*HTTP 500' "$T/err" || fail "no warning for the 500"
grep -q 'warning: hooks: .*HTTP 403.*AMBER_GITLAB_TOKEN' "$T/err" ||
    fail "no warning naming the token for the 403"
# A 5xx is retried (AMBER_FORGE_RETRIES=1), a 403 is not.
[ "$(requests '/releases?')" -eq 2 ] || fail "the 500 was not retried once"
[ "$(requests '/hooks?')" -eq 1 ] || fail "the 403 was retried"
restore_to "$T/a" gl
sed "s/127\.0\.0\.1:$API_PORT/127.0.0.1:PORT/g" "$T/a/gl/_errors.json" >"$T/errors"
diff "$EXP/gitlab-errors.json" "$T/errors" || fail "_errors.json"
[ -e "$T/a/gl/releases.json" ] && fail "releases.json stored from a 500"
[ -e "$T/a/gl/hooks.json" ] && fail "hooks.json stored from a 403"
# Everything else is there as in a complete run.
rm "$T/a/gl/_errors.json"
cp "$EXP/gitlab-1/releases.json" "$EXP/gitlab-1/hooks.json" "$T/a/gl/"
diff -r "$EXP/gitlab-1" "$T/a/gl" || fail "what could be fetched differs"
echo ok
