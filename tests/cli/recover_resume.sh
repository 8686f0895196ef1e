#!/bin/sh
# recover_resume.sh: failures in the middle of a run.  A 503 and a 429
# (Retry-After) are retried and do not show; a push and the hooks that
# keep failing make the run exit 3, naming each, while everything else
# is recovered.  The next run, the forge healed, does only what was left
# (found by reading the target, no journal: the default branch the new
# project still lacks is set without --update), and a third does nothing.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/recover_common.inc"

rc_store
rc_start
TO=gitlab:https://gitlab.example.org/grp
cat >"$FORGE/faults.json" <<'J'
[{"method": "POST", "path": "/api/v4/projects", "status": 503, "count": 1},
 {"method": "POST", "path": "/variables", "status": 429, "count": 1,
  "retry_after": 1},
 {"method": "POST", "path": "git-receive-pack", "status": 500, "count": 100},
 {"method": "POST", "path": "/hooks", "status": 500, "count": 100},
 {"method": "PUT", "path": "/api/v4/projects/grp%2Fapp", "status": 502,
  "count": 100}]
J
expect 3 "$AMBER" recover "$S" latest --to "$TO" --all --yes
err_has "grp/app: NOT RECOVERED: "
grep -q "failed: ref refs/heads/main: refs/heads/main: not pushed" "$T/err" || fail "the failed push is not named: $(cat "$T/err")"
[ "$(grep -c '^POST /api/v4/projects$' "$FORGE/req.log")" -eq 2 ] ||
    fail "the 503 was not retried once"
[ "$(grep -c '^POST /api/v4/projects/grp%2Fapp/variables' "$FORGE/req.log")" -eq 3 ] ||
    fail "the 429 was not retried once"
[ "$(grep -c '^POST /api/v4/projects/grp%2Fapp/hooks' "$FORGE/req.log")" -eq 3 ] ||
    fail "the hook's 500 was not retried a bounded number of times (3 tries)"
err_has "failed: hook https://hooks.example.org/ci: POST "
err_has "HTTP 500"
[ "$(state 'len(P["grp/app"]["variables"])')" -eq 2 ] || fail "variables not recovered"
[ "$(state 'len(P["grp/app"]["pipeline_schedules"])')" -eq 1 ] || fail "schedule not recovered"
[ "$(state 'len(P["grp/app"]["hooks"])')" -eq 0 ] || fail "a hook despite the failure"
[ "$(state 'P["grp/app"]["default_branch"]')" = None ] || fail "a default branch despite the failure"
[ -z "$(refs_of "$FORGE/git/grp/app.git")" ] || fail "refs despite the failure"

# The forge heals: the next run does only what is left.
rm "$FORGE/faults.json"
# The default branch the target lacks is filled in, without --update.
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --dry-run
out_has "create    settings         default_branch  (main)"
n=$(log_lines)
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --yes
err_has "grp/app: recovered"
writes "$n" | sed 's/ .*git-receive-pack/ git-receive-pack/' | sort >"$T/w"
printf '%s\n' "POST /api/v4/projects/grp%2Fapp/hooks" "POST git-receive-pack" \
    "PUT /api/v4/projects/grp%2Fapp" | sort >"$T/w.want"
cmp -s "$T/w" "$T/w.want" || { diff "$T/w.want" "$T/w"; fail "the resumed run did more or less than what was left"; }
refs_of "$T/src/app.git" | grep -v merge-requests >"$T/want"
refs_of "$FORGE/git/grp/app.git" >"$T/got"
cmp -s "$T/want" "$T/got" || fail "refs differ after the resume"
[ "$(state 'len(P["grp/app"]["hooks"])')" -eq 1 ] || fail "hook not recovered"
[ "$(state 'len(P["grp/app"]["variables"])')" -eq 2 ] || fail "variables duplicated"
[ "$(state 'len(P["grp/app"]["pipeline_schedules"])')" -eq 1 ] || fail "schedule duplicated"

n=$(log_lines)
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --yes --update
err_has "grp/app: unchanged"
[ -z "$(writes "$n")" ] || fail "a third run wrote: $(writes "$n")"
exit 0
