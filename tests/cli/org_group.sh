#!/bin/sh
# org_group.sh: `amber ingest --sources` over a GitLab group with
# subgroups (30 repositories, served by tests/forge/org_server.py over
# git http-backend, with their pipelines and wikis), then a second run
# after one repository is deleted upstream, one gets new commits, one's
# git URL breaks and one's API answers 500: the deleted one is in the
# older snapshot only and named as vanished, the new commits are in the
# newer one only, the broken ones are carried forward and marked stale
# (exit 3), and everything else is stored.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/org_common.inc"
S=$T/store

projects=
i=1
for sub in "" "" "" "" "" "" "" "" "" "" sub1/ sub1/ sub1/ sub1/ sub1/ \
    sub1/ sub1/ sub1/ sub1/ sub1/ sub1/deep/ sub1/deep/ sub1/deep/ \
    sub1/deep/ sub1/deep/ sub2/ sub2/ sub2/ sub2/ sub2/; do
	p=grp/${sub}r$(printf %02d $i)
	org_repo "$p" 3
	projects="$projects{\"path\":\"$p\",\"pipelines\":[$((i * 10))]},"
	i=$((i + 1))
done
org_repo other/x 1
org_repo grp/r01.wiki 1
forge_json() {
	org_forge "{\"per_page\":7,\"projects\":[$projects
	    {\"path\":\"grp/wiki1\",\"wiki\":true},
	    {\"path\":\"grp/nowiki\",\"wiki\":true,\"archived\":true},
	    {\"path\":\"other/x\"}]}"
}
# grp/wiki1 and grp/nowiki need repositories too
org_repo grp/wiki1 1
org_repo grp/nowiki 1
org_repo grp/wiki1.wiki 2
forge_json
org_start
mkdir -p "$T/notes"
echo "runbook" >"$T/notes/README"
cat >"$T/sources" <<E
# the whole group, and a directory
gitlab-group $URL/grp/
dir notes $T/notes
E

new_store "$S"
expect 0 "$AMBER" ingest "$S" --sources "$T/sources" --jobs 8
err_has "gitlab-group $URL/grp: 32 repositories"
err_has "ok       repos/grp.sub1.deep.r23"
"$AMBER" ls "$S" latest:repos >"$T/repos1" || fail "ls repos"
[ "$(grep -c -v '\.git$' "$T/repos1")" -eq 33 ] ||
    { cat "$T/repos1" >&2; fail "32 repositories and one wiki expected"; }
grep -qx grp.sub2.r30.git "$T/repos1" || fail "no mirror of grp.sub2.r30"
grep -qx grp.wiki1.wiki "$T/repos1" || fail "the wiki of grp/wiki1 missing"
grep -q nowiki.wiki "$T/repos1" && fail "a wiki that does not exist stored"
grep -q other "$T/repos1" && fail "a project outside the group stored"
"$AMBER" ls "$S" latest:pipelines >"$T/pipes1" || fail "ls pipelines"
[ "$(wc -l <"$T/pipes1")" -eq 32 ] || fail "32 pipeline sources expected"
expect 0 "$AMBER" cat "$S" latest:pipelines/grp.sub1.r12/runs/120.json
out_has '"id": 120'
expect 0 "$AMBER" cat "$S" latest:repos/grp.sub1.deep.r22/branches/main/f3
out_has "grp/sub1/deep/r22 3"
expect 0 "$AMBER" cat "$S" latest:files/notes/README
out_has runbook
SNAP1=$("$AMBER" snapshots "$S" | tail -n 1 | awk '{print $1}')

# Upstream: r15 deleted, r07 gets two commits, r12's repository breaks,
# r20's API fails.
projects=$(printf '%s' "$projects" |
    sed 's|{"path":"grp/sub1/r15","pipelines":\[150\]},||;
	s|{"path":"grp/sub1/r20","pipelines":\[200\]}|{"path":"grp/sub1/r20","fail":500}|')
forge_json
rm -rf "$FORGE/git/grp/sub1/r15.git" "$FORGE/git/grp/sub1/r12.git"
org_commits grp/r07 4 5
# Both runs must not share a second (snapshot names).
sleep 1
expect 3 "$AMBER" ingest "$S" --sources "$T/sources" --json
python3 - "$T/out" <<'P' || fail "the JSON summary"
import json, sys
s = json.load(open(sys.argv[1]))
st = {x["source"]: x["status"] for x in s["sources"]}
assert s["vanished"] == ["repos/grp.sub1.r15"], s["vanished"]
assert st["repos/grp.sub1.r12"] == "stale", st
assert st["pipelines/grp.sub1.r20"] == "stale", st
assert "repos/grp.sub1.r15" not in st and "pipelines/grp.sub1.r15" not in st
bad = [k for k, v in st.items() if v != "ok" and k not in
       ("repos/grp.sub1.r12", "pipelines/grp.sub1.r20")]
assert not bad, bad
assert s["stale"] == 2 and s["groups"][0]["repositories"] == 31, s
P
SNAP2=$("$AMBER" snapshots "$S" | tail -n 1 | awk '{print $1}')
[ "$SNAP1" != "$SNAP2" ] || fail "no second snapshot"
# The deleted repository: in the older snapshot only.
expect 0 "$AMBER" cat "$S" "$SNAP1:repos/grp.sub1.r15/branches/main/f1"
out_has "grp/sub1/r15 1"
expect 1 "$AMBER" ls "$S" "$SNAP2:repos/grp.sub1.r15"
"$AMBER" ls "$S" "$SNAP2:pipelines" | grep -q r15 &&
    fail "pipelines of the deleted repository in the new snapshot"
# The new commits: in the newer snapshot only.
expect 0 "$AMBER" cat "$S" "$SNAP2:repos/grp.r07/branches/main/f5"
out_has "grp/r07 5"
expect 1 "$AMBER" cat "$S" "$SNAP1:repos/grp.r07/branches/main/f5"
# The broken ones: the previous copy, flagged stale.
expect 0 "$AMBER" cat "$S" "$SNAP2:repos/grp.sub1.r12/branches/main/f3"
out_has "grp/sub1/r12 3"
expect 0 "$AMBER" cat "$S" "$SNAP2:pipelines/grp.sub1.r20/runs/200.json"
"$AMBER" snapshots "$S" --json >"$T/snaps.json" || fail "snapshots --json"
python3 - "$T/snaps.json" <<'P' || fail "stale flags in the snapshot"
import json, sys
s = json.load(open(sys.argv[1]))[-1]
stale = sorted("%s/%s" % (x["kind"], x["name"]) for x in s["sources"]
               if x["stale"])
assert stale == ["pipelines/grp.sub1.r20", "repos/grp.sub1.r12",
                 "repos/grp.sub1.r12.git"], stale
P

# The text summary says the same.
sleep 1
expect 3 "$AMBER" ingest "$S" --sources "$T/sources"
err_has "stale    repos/grp.sub1.r12"
err_has "stale    pipelines/grp.sub1.r20"
err_has "64 sources: 62 ok, 0 partial, 2 stale, 0 failed; 0 vanished"
exit 0
