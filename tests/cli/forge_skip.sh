#!/bin/sh
# forge_skip.sh: AMBER_FORGE_SKIP names parts not to fetch (say, what a
# read-only role may not read), so that a run without them is complete
# (exit 0) rather than partial; AMBER_FORGE_LOGS=0 fetches no logs.
. "$AMBER_TOP/tests/forge/lib.sh"

export GITHUB_TOKEN=$TOKEN AMBER_FORGE_SKIP=hooks,secrets,protected_branches
export AMBER_FORGE_LOGS=0
github_start github-v1
ingest --pipeline gh=github:octo/app
rc_ok "ingest"
[ "$(requests '/hooks\|/secrets\|/branches\|/logs')" -eq 0 ] ||
    fail "asked for a skipped part"
restore_to "$T/a" gh
for f in hooks.json protected_branches.json logs; do
	[ -e "$T/a/gh/$f" ] && fail "$f stored though skipped"
done
grep -q '"secrets"' "$T/a/gh/variables.json" && fail "secrets stored though skipped"
grep -q '"name": "REGION"' "$T/a/gh/variables.json" || fail "variables lost"
diff -r -x hooks.json -x protected_branches.json -x logs -x variables.json \
    "$EXP/github-1" "$T/a/gh" || fail "the rest differs"
echo ok
