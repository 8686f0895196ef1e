#!/bin/sh
# forge_gitlab.sh: pipeline metadata from the GitLab API (fixture server):
# the stored tree equals tests/forge/expected/gitlab-1; pagination by Link
# and by X-Next-Page, a 429 answered by waiting, the token on every API
# request; a second ingest after the forge changed stores exactly the
# change (expected/gitlab-2, expected/gitlab-changes.txt), carries the
# runs it did not fetch again and fetches the unfinished run again.
. "$AMBER_TOP/tests/forge/lib.sh"

export AMBER_GITLAB_TOKEN=$TOKEN
SPEC=gitlab:https://gitlab.example.com/grp/app

gitlab_start gitlab-v1
ingest_ok first --pipeline gl=$SPEC
restored_as "$T/a" gl gitlab-1 first
[ "$(requests ' auth=no')" -eq 0 ] || fail "an API request went without the token"
# 429 then 200: the variables were asked for twice, and stored.
[ "$(requests '/variables?')" -eq 2 ] || fail "the 429 was not retried once"
# Both kinds of pagination were followed.
[ "$(requests '/pipelines?.*page=2')" -eq 1 ] || fail "Link rel=next not followed"
[ "$(requests '/pipelines/1002/jobs?.*page=2')" -eq 1 ] ||
    fail "X-Next-Page not followed"
# A remote include and a template are not fetched; local ones are.
[ "$(requests 'lint.yml\|SAST')" -eq 0 ] || fail "fetched a remote include"
# Variable values are kept (encrypted in the store), files mode 0600.
grep -q '"value": "glpat-s3cr3t-value"' "$T/a/gl/variables.json" ||
    fail "variable value not stored"
[ "$(stat -c %a "$T/a/gl/variables.json")" = 600 ] || fail "variables.json mode"
server_stop

gitlab_start gitlab-v1 gitlab-v2
ingest_ok second --pipeline gl=$SPEC
restored_as "$T/b" gl gitlab-2 second
# Old runs are carried, not fetched again (their routes now answer 500).
[ "$(requests '/pipelines/100[01] ')" -eq 0 ] || fail "old runs fetched again"
[ "$(requests '/pipelines/1002 ')" -eq 1 ] || fail "unfinished run not fetched again"
# The listing stopped at the newest stored run: no second page.
[ "$(requests '/pipelines?.*page=2')" -eq 0 ] || fail "listing went past stored runs"
(cd "$T" && diff -rq a b | sed 's/^Only in a/Only in OLD/; s/^Only in b/Only in NEW/' | sort) >"$T/changes"
diff "$EXP/gitlab-changes.txt" "$T/changes" || fail "the change between snapshots is not the fixture's"
echo ok
