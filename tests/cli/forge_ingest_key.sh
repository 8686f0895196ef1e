#!/bin/sh
# forge_ingest_key.sh: a host holding only an ingest key cannot read the
# previous snapshot, yet carries runs forward (through the local carry
# cache): its second ingest fetches only what is new, and a reader sees
# the same tree as with the passphrase (expected/gitlab-2).
. "$AMBER_TOP/tests/forge/lib.sh"

"$AMBER" key new-ingest "$T/S" --label ci --output "$T/ing.key" \
    >/dev/null 2>&1 || fail "key new-ingest"
export AMBER_GITLAB_TOKEN=$TOKEN
SPEC=gitlab:https://gitlab.example.com/grp/app
key_ingest() {
	env -u AMBER_PASSPHRASE "$AMBER" ingest "$T/S" --key-file "$T/ing.key" \
	    --pipeline gl=$SPEC >"$T/out" 2>"$T/err"
	RC=$?
}

gitlab_start gitlab-v1
key_ingest
rc_ok "first ingest"
server_stop

gitlab_start gitlab-v1 gitlab-v2
key_ingest
rc_ok "second ingest"
[ "$(requests '/pipelines/100[01] ')" -eq 0 ] || fail "old runs fetched again"
[ "$(requests '/pipelines/1002 ')" -eq 1 ] || fail "unfinished run not fetched again"
restored_as "$T/b" gl gitlab-2 second

# Without the cache (lost, as caches may be), a fresh capture, no damage.
rm -rf "$XDG_CACHE_HOME"
server_stop
gitlab_start gitlab-v1
key_ingest
rc_ok "ingest without a cache"
restore_to "$T/c" gl
diff -r -x _state.json "$EXP/gitlab-1" "$T/c/gl" || fail "fresh capture differs"
echo ok
