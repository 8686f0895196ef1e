#!/bin/sh
# org_more.sh: the rest of `amber ingest --sources` over a fixture forge:
# a no-change rerun costs one ref listing per repository (no fetch); a
# group listing that fails carries every repository of the group forward,
# stale, and calls none vanished; a GitHub organisation with include=,
# exclude=, archived=no and pipelines=no; with an ingest key (which
# cannot read the previous snapshot) a failure is recorded as failed,
# and what vanished is told from the listing the last run saw.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/org_common.inc"
S=$T/store

for p in grp/a grp/b grp/sub/c org/keep org/keep-too org/skip-me org/old; do
	org_repo "$p" 2
done
org_forge '{"projects":[{"path":"grp/a"},{"path":"grp/b"},
    {"path":"grp/sub/c"},{"path":"org/keep"},{"path":"org/keep-too"},
    {"path":"org/skip-me"},{"path":"org/old","archived":true}]}'
org_start
export AMBER_GITHUB_API=$URL
cat >"$T/sources" <<E
gitlab-group $URL/grp pipelines=no
github-org example.org/org include=keep* include=skip-* exclude=skip-* archived=no pipelines=no
E
# github-org takes an organisation name or https://HOST/ORG
expect 2 "$AMBER" ingest "$S" --sources "$T/sources" --check
sed -i "s|github-org example.org/org|github-org org|" "$T/sources"

new_store "$S"
expect 0 "$AMBER" ingest "$S" --sources "$T/sources"
err_has "gitlab-group $URL/grp: 3 repositories"
err_has "github-org org: 2 repositories"
"$AMBER" ls "$S" latest:repos | grep -v '\.git$' >"$T/l1"
printf 'grp.a\ngrp.b\ngrp.sub.c\norg.keep\norg.keep-too\n' >"$T/want"
cmp -s "$T/l1" "$T/want" || { diff "$T/want" "$T/l1" >&2; fail "repos"; }
expect 1 "$AMBER" ls "$S" latest:pipelines

# No change upstream: one ref listing per repository, no fetch.
: >"$T/req.log"
sleep 1
expect 0 "$AMBER" ingest "$S" --sources "$T/sources" --jobs 2
[ "$(grep -c 'GET /git/.*/info/refs' "$T/req.log")" -eq 5 ] ||
    { cat "$T/req.log" >&2; fail "not one ref listing per repository"; }
[ "$(grep -c 'POST /git/' "$T/req.log")" -le 5 ] ||
    { cat "$T/req.log" >&2; fail "fetched although nothing changed"; }
# One new commit: that repository alone fetches.
org_commits grp/b 3 3
: >"$T/req.log"
sleep 1
expect 0 "$AMBER" ingest "$S" --sources "$T/sources"
[ "$(grep -c 'GET /git/grp/b.git/info/refs' "$T/req.log")" -eq 2 ] ||
    { cat "$T/req.log" >&2; fail "grp/b: no fetch after a new commit"; }
expect 0 "$AMBER" cat "$S" latest:repos/grp.b/branches/main/f3

# The listing fails: carried forward, stale, nothing vanished.
org_forge '{"fail_listing":500,"projects":[]}'
sleep 1
expect 3 "$AMBER" ingest "$S" --sources "$T/sources" --json
python3 - "$T/out" <<'P' || fail "listing failure summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["vanished"] == [], s["vanished"]
assert [g["status"] for g in s["groups"]] == ["failed", "failed"], s
st = {x["source"]: x["status"] for x in s["sources"]}
assert st == {"repos/grp.a": "stale", "repos/grp.b": "stale",
              "repos/grp.sub.c": "stale", "repos/org.keep": "stale",
              "repos/org.keep-too": "stale"}, st
P
expect 0 "$AMBER" cat "$S" latest:repos/grp.b/branches/main/f3

# An ingest key cannot read what it would carry: recorded as failed.
expect 0 "$AMBER" key new-ingest "$S" --output "$T/ingest.key"
org_forge '{"projects":[{"path":"grp/a"},{"path":"grp/gone"}]}'
printf 'gitlab-group %s/grp pipelines=no\n' "$URL" >"$T/s2"
sleep 1
expect 3 "$AMBER" ingest "$S" --sources "$T/s2" --key-file "$T/ingest.key"
err_has "failed   repos/grp.gone"
err_has "ok       repos/grp.a"
# ... but still names what vanished, from the listing it saw last time.
org_forge '{"projects":[{"path":"grp/a"}]}'
sleep 1
expect 0 "$AMBER" ingest "$S" --sources "$T/s2" --key-file "$T/ingest.key"
err_has "vanished repos/grp.gone"
exit 0
