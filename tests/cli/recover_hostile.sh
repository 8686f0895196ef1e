#!/bin/sh
# recover_hostile.sh: a snapshot or a forge that lies.  Control bytes in
# a stored webhook URL do not reach the terminal; a forge that names a
# clone URL on another host gets no push (nor the token); a snapshot
# flagged untrusted (dated in the future) is refused without --force;
# a hostile pipelines source with too many items is refused as a whole.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/recover_common.inc"

rc_repo "$T/src/app.git"
rc_pipes "$T/pipes/app"
printf '[{"url": "https://x.example.org/\\u001b]0;owned\\u0007", "push_events": true}]\n' \
    >"$T/pipes/app/hooks.json"
rc_repo "$T/src/many.git"
rc_repo "$T/src/evil.git"
mkdir -p "$T/pipes/many"
python3 -c 'import json
print(json.dumps([{"key": "V%d" % i, "value": "x"} for i in range(10001)]))' \
    >"$T/pipes/many/variables.json"
S=$T/store
new_store "$S"
expect 0 "$AMBER" ingest "$S" --repo app="$T/src/app.git" \
    --pipeline app="$T/pipes/app" --repo many="$T/src/many.git" \
    --pipeline many="$T/pipes/many" --repo evil="$T/src/evil.git"
rc_start '{"groups": ["grp"], "projects": {"grp/evil": {"default_branch":
  "main", "clone_url": "http://evil.example.org/grp/evil.git"}}}'
TO=gitlab:https://gitlab.example.org/grp

expect 0 "$AMBER" recover "$S" latest --to "$TO" --all --dry-run
out_has "https://x.example.org/?]0;owned?"
grep -q "$(printf '\033')" "$T/out" && fail "an escape reached the output"
out_has "grp/app  (from repos/app.git and pipelines/app)"
out_has "cannot plan: the forge names the clone URL http://evil.example.org/grp/evil.git, not on its own host"
out_has "not recovered: pipelines/many: more than 10000 variables stored"

n=$(log_lines)
expect 3 "$AMBER" recover "$S" latest --to "$TO" --repo evil --yes
err_has "grp/evil: NOT RECOVERED: the forge names the clone URL"
[ -z "$(writes "$n")" ] || fail "wrote for a lying forge: $(writes "$n")"
grep -q "git-" "$FORGE/req.log" && fail "git was run against a lying forge"

# A snapshot dated in the future is flagged untrusted: not without --force.
expect 0 "$AMBER" ingest "$S" --repo app="$T/src/app.git" --time 2099-01-01T00:00:00Z
expect 0 "$AMBER" snapshots "$S" --json
name=$(python3 -c 'import json,sys
print([s["name"] for s in json.load(open(sys.argv[1])) if s["name"].startswith("2099")][0])' "$T/out")
expect 1 "$AMBER" recover "$S" "$name" --to "$TO" --repo app --dry-run
err_has "flagged untrusted"
expect 0 "$AMBER" recover "$S" "$name" --to "$TO" --repo app --dry-run --force
out_has "Plan: a repository of $name onto $TO"
exit 0
