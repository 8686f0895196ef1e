#!/bin/sh
# recover_gitlab.sh: amber recover onto a GitLab group (the fixture
# forge): the dry run writes nothing and plans every part; the run
# creates the project, pushes every ref but the merge-request one, and
# recreates variables, the schedule with its variable, the protected
# branch, the environment and the hook, field by field; names-only
# variables and the hook's secret are listed; a second run changes
# nothing; the token never shows in output or on git's command line.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/recover_common.inc"

rc_store
rc_start
TO=gitlab:https://gitlab.example.org/grp

# The plan.
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --dry-run
out_has "grp/app  (from repos/app.git and pipelines/app)"
out_has "create    project          grp/app"
out_has "push      ref              refs/heads/main  (new)"
out_has "push      ref              refs/notes/commits  (new)"
out_has "push      ref              refs/tags/v1  (new)"
out_has "leave-out ref              refs/merge-requests/1/head"
out_has "create    hook             https://hooks.example.org/ci"
out_has "re-enter  variable         API_KEY"
out_has "create    schedule         nightly"
out_has "create    protected-branch main"
out_has "create    environment      production"
out_has "create    variable         KUBECONFIG scope production"
[ -z "$(writes)" ] || fail "the dry run wrote: $(writes)"
[ ! -e "$FORGE/git/grp/app.git" ] || fail "the dry run created the repository"
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --dry-run --json
python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
p = j["projects"][0]
assert p["path"] == "grp/app" and p["source"] == "app", p
acts = {(a["action"], a["part"], a["name"]) for a in p["actions"]}
assert ("create", "project", "grp/app") in acts, acts
assert ("leave-out", "ref", "refs/merge-requests/1/head") in acts, acts
assert not any(k.startswith("_") for a in p["actions"] for k in a), p
' "$T/out" || fail "the JSON plan is wrong"

# No terminal, no --yes: nothing written.
expect 2 "$AMBER" recover "$S" latest --to "$TO" --all
err_has "give --yes"
[ -z "$(writes)" ] || fail "wrote without --yes"

# The run.
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --yes
err_has "grp/app: recovered"
D=$FORGE/git/grp/app.git
refs_of "$T/src/app.git" | grep -v merge-requests >"$T/want"
refs_of "$D" >"$T/got"
cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got"; fail "refs differ"; }
[ "$(git -C "$D" symbolic-ref HEAD)" = refs/heads/main ] || fail "HEAD"
git -C "$D" fsck --no-progress --no-dangling >/dev/null 2>&1 || fail "fsck of the pushed repository"
[ "$(state 'P["grp/app"]["visibility"]')" = internal ] || fail visibility
[ "$(state 'P["grp/app"]["description"]')" = "the app" ] || fail description
[ "$(state 'P["grp/app"]["default_branch"]')" = main ] || fail default_branch
[ "$(state 'sorted((v["key"], v["environment_scope"], v["variable_type"], v["protected"], v["masked"], v.get("raw"), v["value"]) for v in P["grp/app"]["variables"])')" = \
    "[('DEPLOY_URL', '*', 'env_var', False, False, False, 'https://deploy.example.org'), ('KUBECONFIG', 'production', 'file', True, False, True, 'apiVersion: v1\\n')]" ] ||
    fail "variables: $(state 'P["grp/app"]["variables"]')"
[ "$(state '[(s["description"], s["ref"], s["cron"], s["cron_timezone"], s["active"], s["variables"]) for s in P["grp/app"]["pipeline_schedules"]]')" = \
    "[('nightly', 'main', '0 2 * * *', 'UTC', True, [{'key': 'MODE', 'value': 'full', 'variable_type': 'env_var'}])]" ] ||
    fail "schedules: $(state 'P["grp/app"]["pipeline_schedules"]')"
[ "$(state '[(b["name"], b["push_access_levels"], b["merge_access_levels"], b["allow_force_push"]) for b in P["grp/app"]["protected_branches"]]')" = \
    "[('main', [{'access_level': 40}], [{'access_level': 30}], False)]" ] ||
    fail "protected branches: $(state 'P["grp/app"]["protected_branches"]')"
[ "$(state '[(e["name"], e["external_url"], e["tier"]) for e in P["grp/app"]["environments"]]')" = \
    "[('production', 'https://app.example.org', 'production')]" ] ||
    fail "environments"
[ "$(state '[(h["url"], h["push_events"], h["pipeline_events"], h["enable_ssl_verification"]) for h in P["grp/app"]["hooks"]]')" = \
    "[('https://hooks.example.org/ci', True, True, True)]" ] || fail "hooks"
grep -q "auth=bad" "$FORGE/req.log" && fail "a request went without the token"
grep -q "$TOKEN" "$T/out" "$T/err" && fail "the token was printed"

# Again: nothing to do, nothing written.
n=$(log_lines)
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --yes
err_has "grp/app: unchanged"
[ -z "$(writes "$n")" ] || fail "the second run wrote: $(writes "$n")"
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --dry-run
out_has "unchanged:"
out_has "re-enter  variable         API_KEY"
grep -q "^  create\|^  push\|^  update" "$T/out" && fail "a rerun plans writes: $(cat "$T/out")"
exit 0
