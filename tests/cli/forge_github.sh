#!/bin/sh
# forge_github.sh: pipeline metadata from the GitHub REST API (fixture
# server): the stored tree equals tests/forge/expected/github-1; workflow
# files decoded from base64; a 403 primary rate limit waited out; job logs
# followed through a redirect to another origin that never sees the token;
# a second ingest stores exactly the change (expected/github-2).
. "$AMBER_TOP/tests/forge/lib.sh"

export GITHUB_TOKEN=$TOKEN
github_start github-v1
ingest_ok first --pipeline gh=github:octo/app
restored_as "$T/a" gh github-1 first
[ "$(requests '^api .* auth=no')" -eq 0 ] || fail "an API request went without the token"
[ "$(requests '^blob .* auth=yes')" -eq 0 ] || fail "the token went to the log host"
[ "$(requests '^blob GET /logs/')" -eq 3 ] || fail "logs not fetched through the redirect"
[ "$(requests '/actions/workflows?')" -eq 2 ] || fail "the 403 rate limit was not waited out"
[ "$(requests '/actions/runs?.*page=2')" -eq 1 ] || fail "Link rel=next not followed"
grep -q '"secret"' "$T/a/gh/hooks.json" && fail "hook secret stored"
grep -q '"name": "NPM_TOKEN"' "$T/a/gh/variables.json" || fail "secret names missing"
server_stop

github_start github-v1 github-v2
ingest_ok second --pipeline gh=github:octo/app
restored_as "$T/b" gh github-2 second
[ "$(requests '/actions/runs/3000[01]/')" -eq 0 ] || fail "old runs fetched again"
(cd "$T" && diff -rq a b | sed 's/^Only in a/Only in OLD/; s/^Only in b/Only in NEW/' | sort) >"$T/changes"
diff "$EXP/github-changes.txt" "$T/changes" || fail "the change between snapshots is not the fixture's"
echo ok
