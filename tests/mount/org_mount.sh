#!/bin/sh
# org_mount.sh: a GitLab group (tests/forge/org_server.py, git over git
# http-backend) ingested with --sources twice, one repository deleted
# upstream and one given new commits in between; through the mount the
# deleted one is in the older snapshot only (and in by-source with that
# snapshot alone), the new commits are in the newer one only (diff -r of
# the branch shows exactly them, git log of a clone from the mount lists
# them), and pipeline metadata sits beside the repositories.
. "$AMBER_TOP/tests/mount/lib.sh"
. "$AMBER_TOP/tests/cli/org_common.inc"

for p in grp/a grp/b grp/gone grp/sub/c grp/sub/d grp/sub/deep/e; do
	org_repo "$p" 3
done
org_forge '{"projects":[{"path":"grp/a","pipelines":[1,2]},{"path":"grp/b"},
    {"path":"grp/gone"},{"path":"grp/sub/c"},{"path":"grp/sub/d"},
    {"path":"grp/sub/deep/e"}]}'
org_start
printf 'gitlab-group %s/grp\n' "$URL" >"$T/sources"

S=$T/S
mk_store "$S"
ingest "$S" --sources "$T/sources"
S1=$SNAP
org_forge '{"projects":[{"path":"grp/a","pipelines":[1,2,3]},{"path":"grp/b"},
    {"path":"grp/sub/c"},{"path":"grp/sub/d"},{"path":"grp/sub/deep/e"}]}'
rm -rf "$FORGE/git/grp/gone.git"
org_commits grp/sub/c 4 5
sleep 1
"$AMBER" ingest "$S" --sources "$T/sources" >"$T/ingest2.log" 2>&1 ||
    { cat "$T/ingest2.log"; fail "second ingest"; }
grep -q "vanished repos/grp.gone" "$T/ingest2.log" ||
    { cat "$T/ingest2.log"; fail "the summary does not name grp.gone"; }
S2=$("$AMBER" snapshots "$S" | tail -n 1 | awk '{print $1}')
[ "$S1" != "$S2" ] || fail "one snapshot name for two ingests"

M=$T/m
mount_fg "$S" "$M"
O=$M/snapshots/$S1
N=$M/snapshots/$S2
[ -d "$O/repos/grp.gone/branches/main" ] || fail "grp.gone not in $S1"
[ "$(cat "$O/repos/grp.gone/branches/main/f2")" = "grp/gone 2" ] ||
    fail "grp.gone content"
[ ! -e "$N/repos/grp.gone" ] || fail "grp.gone still in $S2"
[ ! -e "$N/pipelines/grp.gone" ] || fail "grp.gone's pipelines still in $S2"
ls "$M/by-source/repos/grp.gone" >"$T/bysrc" || fail "by-source grp.gone"
[ "$(cat "$T/bysrc")" = "$S1" ] ||
    { cat "$T/bysrc"; fail "by-source/repos/grp.gone is not $S1 alone"; }

# The new commits: in the newer snapshot only, and nothing else changed.
diff -r "$O/repos/grp.sub.c/branches/main" "$N/repos/grp.sub.c/branches/main" \
    >"$T/diff.out"
printf 'Only in %s: f4\nOnly in %s: f5\n' "$N/repos/grp.sub.c/branches/main" \
    "$N/repos/grp.sub.c/branches/main" >"$T/diff.want"
cmp -s "$T/diff.out" "$T/diff.want" ||
    { diff "$T/diff.want" "$T/diff.out"; fail "diff -r of grp.sub.c"; }
diff -r "$O/repos/grp.a" "$N/repos/grp.a" >/dev/null ||
    fail "grp.a changed although nothing happened upstream"
git clone -q "$N/repos/grp.sub.c.git" "$T/clone" || fail "clone from mount"
[ "$(git -C "$T/clone" log --format=%s | head -n 1)" = 5 ] ||
    fail "git log of the clone lacks the new commits"
[ "$(git -C "$T/clone" rev-list --count HEAD)" -eq 5 ] || fail "5 commits"

# Pipeline metadata beside the repositories; runs carried and added.
[ -f "$N/pipelines/grp.a/runs/3.json" ] || fail "run 3 missing"
[ -f "$N/pipelines/grp.a/runs/1.json" ] || fail "run 1 not carried"
[ ! -e "$O/pipelines/grp.a/runs/3.json" ] || fail "run 3 in the old one"
[ -d "$M/latest/repos/grp.sub.deep.e.git" ] || fail "latest lacks grp.sub.deep.e"
unmount "$M" "$FSPID"
exit 0
