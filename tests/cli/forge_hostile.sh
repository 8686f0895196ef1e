#!/bin/sh
# forge_hostile.sh: a forge that answers badly: HTML for JSON, a page
# linking to itself, a next page on another origin, an object for a list,
# a workflow file named "../../evil.yml", content that is not base64, a
# file below a file.
# Each is recorded in _errors.json (exit 3); nothing else is harmed, no
# file lands outside the source, and the token never leaves the API.
. "$AMBER_TOP/tests/forge/lib.sh"

export GITHUB_TOKEN=$TOKEN
github_start github-v1 github-hostile
ingest --pipeline gh=github:octo/app
[ "$RC" -eq 3 ] || { cat "$T/err"; fail "ingest exited $RC, not 3"; }
[ "$(requests '^blob')" -eq 0 ] || fail "followed a next page to another origin"
[ "$(requests '/actions/runs?')" -eq 1 ] || fail "followed a page linking to itself"
restore_to "$T/a" gh
python3 - "$T/a/gh/_errors.json" <<'PY' || fail "_errors.json"
import json, sys
errs = [(e["what"], e["error"]) for e in json.load(open(sys.argv[1]))]
want = [
    ("workflows", "not a JSON list"),
    ("runs", "pagination does not end"),
    ("releases", "next page outside the API"),
    ("hooks", "not a JSON list"),
    ("config", "unusable file name ../../evil.yml"),
    ("config", "a.yml/b.yml: a file and a directory of that name"),
    ("config/.github/workflows/ci.yml", "no base64 content"),
]
for what, text in want:
    assert any(w == what and text in e for w, e in errs), (what, text, errs)
assert len(errs) == len(want), errs
PY
[ -e "$T/a/evil.yml" ] || [ -e "$T/evil.yml" ] && fail "a file landed outside"
for f in workflows.json releases.json hooks.json; do
	[ -e "$T/a/gh/$f" ] && fail "$f stored from a bad answer"
done
[ "$(cd "$T/a/gh" && find config -type f)" = config/.github/workflows/a.yml ] ||
    fail "config: only a.yml was good"
# What answered well is there as usual.
diff "$EXP/github-1/variables.json" "$T/a/gh/variables.json" || fail "variables"
diff "$EXP/github-1/repository.json" "$T/a/gh/repository.json" || fail "repository"
echo ok
