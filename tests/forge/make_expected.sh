#!/bin/sh
# tests/forge/make_expected.sh: regenerate tests/forge/expected/ from the
# fixtures by running the ingests the tests run (gitlab-1, gitlab-2,
# github-1, github-2, the change lists and gitlab-errors.json).  Review
# the result with `git diff` before committing: the tests compare against
# it, so a wrong expected file hides a bug.
#   AMBER=$PWD/build/amber AMBER_TOP=$PWD sh tests/forge/make_expected.sh
. "$AMBER_TOP/tests/forge/lib.sh"

OUT=$AMBER_TOP/tests/forge/expected
export AMBER_GITLAB_TOKEN=$TOKEN GITHUB_TOKEN=$TOKEN

# two FORGE NAME SPEC APIPATH: two ingests (v1, v1+v2) into $T/FORGE.
two() {
	rm -rf "$T/a" "$T/b"
	server_start "$1-v1"
	export AMBER_GITLAB_API=$API/api/v4 AMBER_GITHUB_API=$API
	ingest --pipeline "$2=$3"
	[ "$RC" -eq 0 ] || { cat "$T/err"; fail "$1 first ingest: $RC"; }
	restore_to "$T/a" "$2"
	server_stop
	server_start "$1-v1" "$1-v2"
	export AMBER_GITLAB_API=$API/api/v4 AMBER_GITHUB_API=$API
	ingest --pipeline "$2=$3"
	[ "$RC" -eq 0 ] || { cat "$T/err"; fail "$1 second ingest: $RC"; }
	restore_to "$T/b" "$2"
	server_stop
	rm -rf "$OUT/$1-1" "$OUT/$1-2"
	cp -R "$T/a/$2" "$OUT/$1-1"
	cp -R "$T/b/$2" "$OUT/$1-2"
	(cd "$T" && diff -rq a b |
	    sed 's/^Only in a/Only in OLD/; s/^Only in b/Only in NEW/' |
	    sort) >"$OUT/$1-changes.txt"
}

mkdir -p "$OUT"
two gitlab gl gitlab:https://gitlab.example.com/grp/app
"$AMBER" init --kdf log2n=10,r=8,p=1 "$T/S2" >/dev/null 2>&1 || fail "init"
mv "$T/S" "$T/S1" && mv "$T/S2" "$T/S"
two github gh github:octo/app

mv "$T/S" "$T/S3"
"$AMBER" init --kdf log2n=10,r=8,p=1 "$T/S" >/dev/null 2>&1 || fail "init"
server_start gitlab-v1 gitlab-errors
export AMBER_GITLAB_API=$API/api/v4
ingest --pipeline gl=gitlab:https://gitlab.example.com/grp/app
[ "$RC" -eq 3 ] || fail "errors ingest: $RC"
rm -rf "$T/a"
restore_to "$T/a" gl
sed "s/127\.0\.0\.1:$API_PORT/127.0.0.1:PORT/g" "$T/a/gl/_errors.json" \
    >"$OUT/gitlab-errors.json"
echo "expected trees written to $OUT; review with git diff"
