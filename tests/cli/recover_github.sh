#!/bin/sh
# recover_github.sh: amber recover onto a GitHub organisation (the
# fixture forge's GitHub dialect): the repository is created with its
# visibility and description, every ref but refs/pull/* is pushed, the
# default branch set, Actions variables, environments, branch protection
# and hooks created,
# secrets listed for re-entry, and the repository archived last; a
# second run changes nothing.  A GitLab snapshot onto GitHub recovers the
# repository only, and says so.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/recover_common.inc"

rc_repo "$T/src/site.git"
git -C "$T/src/site.git" update-ref refs/pull/7/head \
    "$(git -C "$T/src/site.git" rev-parse dev)"
P=$T/pipes/site
mkdir -p "$P"
cat >"$P/repository.json" <<'J'
{"id": 1, "full_name": "old/site", "private": false, "description": "the site",
 "default_branch": "dev", "archived": true}
J
cat >"$P/variables.json" <<'J'
{"secrets": [{"name": "NPM_TOKEN", "created_at": "2026-01-01T00:00:00Z"}],
 "variables": [{"name": "REGION", "value": "eu-west-1"}],
 "environments": {}}
J
cat >"$P/environments.json" <<'J'
[{"id": 4, "name": "github-pages"}, {"id": 5, "name": "production"}]
J
cat >"$P/hooks.json" <<'J'
[{"id": 8, "name": "web", "active": true, "events": ["push", "release"],
  "config": {"url": "https://hooks.example.org/gh", "content_type": "json",
    "insecure_ssl": "0"}}]
J
cat >"$P/protected_branches.json" <<'J'
{"dev": {"url": "https://api.example/x",
  "required_status_checks": {"url": "x", "strict": true, "contexts": ["ci"],
    "checks": [{"context": "ci", "app_id": null}]},
  "enforce_admins": {"url": "x", "enabled": true},
  "required_pull_request_reviews": {"url": "x", "dismiss_stale_reviews": false,
    "require_code_owner_reviews": true, "required_approving_review_count": 2},
  "required_linear_history": {"enabled": true},
  "allow_force_pushes": {"enabled": false},
  "allow_deletions": {"enabled": false}}}
J
rc_pipes "$T/pipes/app"
rc_repo "$T/src/app.git"
S=$T/store
new_store "$S"
expect 0 "$AMBER" ingest "$S" --repo site="$T/src/site.git" \
    --pipeline site="$P" --repo app="$T/src/app.git" \
    --pipeline app="$T/pipes/app"
rc_start '{"orgs": ["org"], "per_page": 1}'
TO=github:org

expect 0 "$AMBER" recover "$S" latest --to "$TO" --repo site --dry-run
out_has "create    project          org/site  (public; default branch dev; archived at the end)"
out_has "leave-out ref              refs/pull/7/head  (the forge refuses refs/pull/*)"
out_has "re-enter  secret           NPM_TOKEN"
out_has "create    variable         REGION"
out_has "create    environment      production"
out_has "create    hook             https://hooks.example.org/gh"
out_has "create    protected-branch dev"
[ -z "$(writes)" ] || fail "the dry run wrote: $(writes)"

expect 0 "$AMBER" recover "$S" latest --to "$TO" --repo site --yes
err_has "org/site: recovered"
D=$FORGE/git/org/site.git
refs_of "$T/src/site.git" | grep -v refs/pull/ >"$T/want"
refs_of "$D" >"$T/got"
cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got"; fail "refs differ"; }
[ "$(git -C "$D" symbolic-ref HEAD)" = refs/heads/dev ] || fail "HEAD"
[ "$(state '(P["org/site"]["visibility"], P["org/site"]["description"], P["org/site"]["default_branch"], P["org/site"]["archived"])')" = \
    "('public', 'the site', 'dev', True)" ] || fail "settings: $(state 'P["org/site"]')"
[ "$(state 'P["org/site"]["variables"]')" = "[{'name': 'REGION', 'value': 'eu-west-1'}]" ] ||
    fail "variables"
[ "$(state 'sorted(e["name"] for e in P["org/site"]["environments"])')" = \
    "['github-pages', 'production']" ] || fail "environments"
[ "$(state '[(h["config"], h["events"], h["active"]) for h in P["org/site"]["hooks"]]')" = \
    "[({'content_type': 'json', 'insecure_ssl': '0', 'url': 'https://hooks.example.org/gh'}, ['push', 'release'], True)]" ] ||
    fail "hooks: $(state 'P["org/site"]["hooks"]')"
[ "$(state '[(b["name"], b["protection"]["required_status_checks"]["strict"], b["protection"]["required_status_checks"]["contexts"], b["protection"]["enforce_admins"], b["protection"]["required_pull_request_reviews"]["required_approving_review_count"], b["protection"]["required_pull_request_reviews"]["require_code_owner_reviews"], b["protection"]["required_linear_history"], b["protection"]["allow_force_pushes"]) for b in P["org/site"]["protected_branches"]]')" = \
    "[('dev', True, ['ci'], {'enabled': True}, 2, True, {'enabled': True}, {'enabled': False})]" ] ||
    fail "branch protection: $(state 'P["org/site"]["protected_branches"]')"
grep -q "auth=bad" "$FORGE/req.log" && fail "a request went without the token"

n=$(log_lines)
expect 0 "$AMBER" recover "$S" latest --to "$TO" --repo site --yes
err_has "org/site: unchanged"
[ -z "$(writes "$n")" ] || fail "the second run wrote: $(writes "$n")"

# GitLab's metadata does not go to GitHub: the repository does.
# Both at once (--jobs 4): site is done, app is new.
expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --yes
err_has "note: pipelines from GitLab: only the repository is recovered onto GitHub"
err_has "org/site: unchanged"
err_has "org/app: recovered"
refs_of "$T/src/app.git" >"$T/want"
refs_of "$FORGE/git/org/app.git" >"$T/got"
cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got"; fail "app refs differ"; }
[ "$(state 'P["org/app"]["variables"]')" = "[]" ] || fail "GitLab variables went to GitHub"
exit 0
