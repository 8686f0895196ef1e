#!/bin/sh
# recover_refuse.sh: what exists on the target is not overwritten: a
# project whose settings and a variable differ, and whose main branch
# has diverged, is left as it is (exit 3, saying why) until --update
# changes the settings and the variable, and --force moves the branch.
# A branch behind the snapshot moves by fast-forward without --force.
# --map recovers under another name, untouched projects stay untouched,
# and bad arguments are refused before anything is read.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/recover_common.inc"

rc_store
rc_start '{"groups": ["grp"], "projects": {
  "grp/app": {"visibility": "private", "description": "not the app",
    "default_branch": "main",
    "variables": [{"key": "DEPLOY_URL", "value": "https://elsewhere",
      "environment_scope": "*", "variable_type": "env_var",
      "protected": false, "masked": false, "raw": false}]},
  "grp/app2": {"visibility": "internal", "description": "the app",
    "default_branch": "main"}, "grp/bystander": {"description": "keep me"}}}'
TO=gitlab:https://gitlab.example.org/grp
SRC=$T/src/app.git
D=$FORGE/git/grp/app.git
# grp/app's main has diverged; grp/app2's main is behind the snapshot's.
git -C "$SRC" cat-file commit main >/dev/null || fail "no main"
div=$(git -C "$SRC" commit-tree -m diverged "$(git -C "$SRC" rev-parse 'main^{tree}')")
git -C "$SRC" push -q "$D" "$div:refs/heads/main" || fail "seed app"
git -C "$SRC" push -q "$FORGE/git/grp/app2.git" "main~1:refs/heads/main" ||
    fail "seed app2"

expect 0 "$AMBER" recover "$S" latest --to "$TO" --repo app --dry-run
out_has "keep      settings         grp/app  (differs: description, visibility)"
out_has "keep      ref              refs/heads/main  (not a fast-forward (give --force))"
out_has "keep      variable         DEPLOY_URL  (differs: value)"
out_has "push      ref              refs/heads/dev  (new)"
grep -q "create    project" "$T/out" && fail "plans to create an existing project"

expect 3 "$AMBER" recover "$S" latest --to "$TO" --repo app --yes
err_has "grp/app: NOT RECOVERED: "
err_has "left as it is on the target"
[ "$(git -C "$D" rev-parse refs/heads/main)" = "$div" ] || fail "main moved without --force"
[ "$(git -C "$D" rev-parse refs/heads/dev)" = "$(git -C "$SRC" rev-parse dev)" ] ||
    fail "dev was not pushed"
[ "$(state 'P["grp/app"]["description"]')" = "not the app" ] || fail "description overwritten"
[ "$(state '[v["value"] for v in P["grp/app"]["variables"] if v["key"] == "DEPLOY_URL"]')" = \
    "['https://elsewhere']" ] || fail "variable overwritten without --update"

expect 3 "$AMBER" recover "$S" latest --to "$TO" --repo app --yes --update
err_has "not a fast-forward (give --force)"
[ "$(state 'P["grp/app"]["description"]')" = "the app" ] || fail "--update did not update"
[ "$(state 'P["grp/app"]["visibility"]')" = internal ] || fail "--update: visibility"
[ "$(state '[v["value"] for v in P["grp/app"]["variables"] if v["key"] == "DEPLOY_URL"]')" = \
    "['https://deploy.example.org']" ] || fail "--update: variable"
[ "$(git -C "$D" rev-parse refs/heads/main)" = "$div" ] || fail "main moved without --force"

expect 0 "$AMBER" recover "$S" latest --to "$TO" --repo app --yes --update --force --jobs 1
[ "$(git -C "$D" rev-parse refs/heads/main)" = "$(git -C "$SRC" rev-parse main)" ] ||
    fail "--force did not move main"
expect 0 "$AMBER" recover "$S" latest --to "$TO" --repo app --dry-run
grep -q "^  keep\|^  push\|^  update\|^  create" "$T/out" && fail "not settled: $(cat "$T/out")"

# --map: the snapshot's app onto grp/app2, whose main is behind.
expect 0 "$AMBER" recover "$S" latest --to "$TO" --repo app --map app=app2 --dry-run
out_has "grp/app2  (from repos/app.git and pipelines/app)"
out_has "push      ref              refs/heads/main  (fast-forward)"
expect 0 "$AMBER" recover "$S" latest --to "$TO" --repo app --map 'a*=a*2' --yes --update
refs_of "$SRC" | grep -v merge-requests >"$T/want"
refs_of "$FORGE/git/grp/app2.git" >"$T/got"
cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got"; fail "app2 refs differ"; }
[ "$(state 'P["grp/bystander"]["description"]')" = "keep me" ] || fail "bystander touched"
[ -z "$(refs_of "$FORGE/git/grp/bystander.git")" ] || fail "bystander pushed to"

# Refusals before any request.
n=$(log_lines)
expect 2 "$AMBER" recover "$S" latest --to "$TO" --dry-run
err_has "--all or --repo"
expect 2 "$AMBER" recover "$S" latest --to "$TO" --all --map 'app=a/b' --dry-run
err_has "--map app=a/b"
expect 2 "$AMBER" recover "$S" latest --to "$TO" --all --jobs 0 --dry-run
err_has "--jobs 0: a number from 1 to 64"
expect 2 "$AMBER" recover "$S" latest --to "ftp:x" --all --dry-run
err_has "gitlab:https://HOST/GROUP"
expect 2 "$AMBER" recover "$S" latest --to "$TO" --repo 'nomatch*' --dry-run
err_has "no repository matches"
expect 1 "$AMBER" recover "$S" latest --to gitlab:https://gitlab.example.org/nogroup --all --dry-run
err_has "nogroup"
AMBER_GITLAB_API=http://gitlab.example.org/api/v4 expect 2 "$AMBER" recover "$S" latest --to "$TO" --all --dry-run
err_has "refusing to send GITLAB_TOKEN over plain http"
[ -z "$(writes "$n")" ] || fail "a refused run wrote: $(writes "$n")"
exit 0
