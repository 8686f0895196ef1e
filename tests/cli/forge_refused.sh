#!/bin/sh
# forge_refused.sh: a forge that refuses the token (HTTP 401) fails the
# pipeline source as a refused forge token, in both forms of the command
# (--pipeline and --sources) and in both summaries (text and JSON): it is
# never taken for the store's "wrong passphrase or key" (exit 4).  The
# previous snapshot's copy is kept, stale, and the exit status is 3.
. "$AMBER_TOP/tests/forge/lib.sh"

github_start github-v1
export AMBER_GITHUB_TOKEN=$TOKEN
ingest_ok first --pipeline gh=github:octo/app
printf 'pipeline gh github:octo/app\n' >"$T/sources"

export AMBER_GITHUB_TOKEN=expired-token
refused() { # WHAT PATTERN FILE: FILE matches PATTERN, and names no key
	grep -q "$2" "$3" || { cat "$3"; fail "$1: the refused token is not named"; }
	if grep -q 'wrong passphrase or key' "$3"; then
		cat "$3"; fail "$1: a refused forge token is called a wrong key"
	fi
}

ingest --pipeline gh=github:octo/app
[ "$RC" -eq 3 ] || { cat "$T/err"; fail "--pipeline: exit $RC, not 3"; }
refused --pipeline 'pipelines/gh: github:octo/app: the forge refused the token (the previous' "$T/err"
grep -q '^  pipelines/gh: failed, previous copy kept$' "$T/err" ||
    { cat "$T/err"; fail "--pipeline: the summary does not keep the copy"; }

ingest --sources "$T/sources"
[ "$RC" -eq 3 ] || { cat "$T/err"; fail "--sources: exit $RC, not 3"; }
refused --sources '^  stale    pipelines/gh: the forge refused the token (previous copy kept)$' "$T/err"

ingest --sources "$T/sources" --json
[ "$RC" -eq 3 ] || { cat "$T/err"; fail "--sources --json: exit $RC, not 3"; }
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["sources"]
assert s == [{"source": "pipelines/gh", "origin": "github:octo/app",
              "status": "stale", "warnings": 2,
              "error": "the forge refused the token"}], s' "$T/out" ||
    fail "--sources --json: $(cat "$T/out")"

ingest --pipeline gh=github:octo/app --json
[ "$RC" -eq 3 ] || { cat "$T/err"; fail "--pipeline --json: exit $RC, not 3"; }
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["sources"]
assert s == [{"source": "pipelines/gh", "warnings": 2, "failed": True,
              "stale": True}], s' "$T/out" ||
    fail "--pipeline --json: $(cat "$T/out")"
refused "--pipeline --json" 'the forge refused the token' "$T/err"

restore_to "$T/a" gh
diff -r "$EXP/github-1" "$T/a/gh" || fail "the previous copy was not kept"
server_stop
echo ok
