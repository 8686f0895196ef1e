#!/bin/sh
# forge_artifacts.sh: AMBER_FORGE_ARTIFACTS=1 also keeps the artifacts
# archives (artifacts/<job id>.zip on GitLab, artifacts/<artifact id>.zip
# on GitHub), byte for byte, fetched through the redirect to the storage
# host without the token; without it only their metadata is kept.
. "$AMBER_TOP/tests/forge/lib.sh"

export AMBER_FORGE_ARTIFACTS=1
export GITHUB_TOKEN=$TOKEN AMBER_GITLAB_TOKEN=$TOKEN
github_start github-v1 github-artifacts
ingest_ok github --pipeline gh=github:octo/app
restore_to "$T/a" gh
cmp "$FX/github-artifacts/bodies/artifact-11.zip" "$T/a/gh/artifacts/11.zip" ||
    fail "GitHub artifact differs"
[ "$(requests '^blob GET /artifacts/11.zip.* auth=no')" -eq 1 ] ||
    fail "GitHub artifact not fetched from the storage host without the token"
server_stop

gitlab_start gitlab-v1 gitlab-artifacts
ingest_ok gitlab --pipeline gl=gitlab:https://gitlab.example.com/grp/app
restore_to "$T/b" gl
cmp "$FX/gitlab-artifacts/bodies/artifacts-5000.zip" "$T/b/gl/artifacts/5000.zip" ||
    fail "GitLab artifact differs"
[ "$(ls "$T/b/gl/artifacts")" = 5000.zip ] || fail "artifacts of jobs without an archive"
[ "$(requests '^blob .* auth=yes')" -eq 0 ] || fail "the token went to the storage host"
echo ok
