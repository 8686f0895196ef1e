#!/bin/sh
# forge_gone.sh: a run stored while unfinished and since deleted on the
# forge (404) keeps its stored copy, is not an error, and is not asked for
# again; a run listing with nothing new stores nothing new.
. "$AMBER_TOP/tests/forge/lib.sh"

export AMBER_GITLAB_TOKEN=$TOKEN
SPEC=gitlab:https://gitlab.example.com/grp/app/-/pipelines
gitlab_start gitlab-v1
ingest_ok first --pipeline gl=$SPEC
server_stop

gitlab_start gitlab-v1 gitlab-gone
ingest_ok second --pipeline gl=$SPEC
[ "$(requests '/pipelines/1002 ')" -eq 1 ] || fail "unfinished run not asked for"
restore_to "$T/a" gl
[ -e "$T/a/gl/_errors.json" ] && fail "a deleted run was recorded as an error"
cmp "$EXP/gitlab-1/runs/1002.json" "$T/a/gl/runs/1002.json" ||
    fail "the stored copy of the deleted run changed"
grep -q '"unfinished_runs": \[\]' "$T/a/gl/_state.json" ||
    fail "the deleted run is still to be fetched again"
# Nothing else changed: only _state.json differs from the first snapshot.
diff -r -x _state.json "$EXP/gitlab-1" "$T/a/gl" || fail "more than the state changed"
echo ok
