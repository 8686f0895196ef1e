#!/bin/sh
# forge_token.sh: an expired or wrong token is a clear failure of the
# source (HTTP 401, the variable named), made after one request; the
# ingest exits 3 and the previous snapshot's copy of the source is kept.
# A token is never sent over plain http to a host other than this one.
. "$AMBER_TOP/tests/forge/lib.sh"

github_start github-v1
export AMBER_GITHUB_TOKEN=$TOKEN
ingest_ok first --pipeline gh=github:octo/app

: >"$T/req.log"
export AMBER_GITHUB_TOKEN=expired-token
ingest --pipeline gh=github:octo/app
[ "$RC" -eq 3 ] || { cat "$T/err"; fail "ingest with an expired token exited $RC, not 3"; }
grep -q 'HTTP 401: Bad credentials (the token in AMBER_GITHUB_TOKEN is missing, expired or revoked)' "$T/err" ||
    { cat "$T/err"; fail "the 401 is not reported clearly"; }
[ "$(requests .)" -eq 1 ] || fail "went on after a 401"
restore_to "$T/a" gh
diff -r "$EXP/github-1" "$T/a/gh" || fail "the previous copy was not kept"

# No token at all: also a 401 from the fixture server, naming the variable.
unset AMBER_GITHUB_TOKEN
ingest --pipeline gh=github:octo/app
grep -q 'HTTP 401.*AMBER_GITHUB_TOKEN' "$T/err" || fail "missing token not reported"
server_stop

# A token over plain http to another host is refused before any request.
export AMBER_GITHUB_TOKEN=$TOKEN AMBER_GITHUB_API=http://forge.invalid
ingest --pipeline gh=github:octo/app
[ "$RC" -eq 3 ] || fail "cleartext refusal exited $RC"
grep -q 'refusing to send AMBER_GITHUB_TOKEN over plain http' "$T/err" ||
    fail "cleartext token not refused"
echo ok
