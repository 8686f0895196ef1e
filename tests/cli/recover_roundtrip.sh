#!/bin/sh
# recover_roundtrip.sh: the whole round trip of issue 18 on a GitLab
# group of 30 projects.  The group is built on the fixture forge (A) by
# recovering a made-up snapshot; then it is backed up the way a user
# does, by amber ingest from the forge (--repo and --pipeline against its
# API and git), and the forge is lost: a new, empty one (B) takes its
# place.  amber recover of that backup onto B must give every project
# back: every ref equal (forge A never took refs/merge-requests/*: GitLab
# refuses them, and recover_gitlab.sh checks the plan names them), and
# project settings, variables, schedules with
# their variables, protected branches, environments and hooks equal
# field by field (ids aside), pages of 4 followed.  A rerun writes
# nothing, and a dry run on a fresh forge writes nothing.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/recover_common.inc"
N=30

# 30 repositories from one: each has a branch and a tag of its own, on a
# commit of its own.
rc_repo "$T/base.git"
tree=$(git -C "$T/base.git" rev-parse 'main^{tree}')
main=$(git -C "$T/base.git" rev-parse main)
mkdir -p "$T/src"
args=
i=1
while [ $i -le $N ]; do
	r=r$(printf %02d $i)
	cp -r "$T/base.git" "$T/src/$r.git" || fail "copy $r"
	c=$(git -C "$T/src/$r.git" commit-tree "$tree" -p "$main" \
	    -m "work on $r") || fail "commit in $r"
	git -C "$T/src/$r.git" update-ref "refs/heads/feature-$i" "$c" &&
	    git -C "$T/src/$r.git" tag "t$i" "$c" || fail "refs of $r"
	rc_pipes "$T/pipes/$r"
	vis=private
	[ $((i % 3)) -eq 1 ] && vis=internal
	[ $((i % 3)) -eq 2 ] && vis=public
	sed -i -e "s|\"internal\"|\"$vis\"|" \
	    -e "s|\"the app\"|\"project $i\"|" "$T/pipes/$r/project.json"
	sed -i "s|https://deploy.example.org|https://deploy.example.org/$i|" \
	    "$T/pipes/$r/variables.json"
	sed -i -e "s|\"0 2 \* \* \*\"|\"$i 2 * * *\"|" \
	    -e "s|\"full\"|\"mode-$i\"|" "$T/pipes/$r/schedules.json"
	sed -i "s|https://app.example.org|https://app$i.example.org|" \
	    "$T/pipes/$r/environments.json"
	sed -i "s|https://hooks.example.org/ci|https://hooks.example.org/ci/$i|" \
	    "$T/pipes/$r/hooks.json"
	args="$args --repo $r=$T/src/$r.git --pipeline $r=$T/pipes/$r"
	i=$((i + 1))
done
S0=$T/made-up
new_store "$S0"
# shellcheck disable=SC2086
expect 0 "$AMBER" ingest "$S0" $args

# Forge A: the organisation as it was.
FA=$T/forge-a
FORGE=$FA
mkdir -p "$FA/git"
rc_start '{"groups": ["src"], "per_page": 4}'
expect 0 "$AMBER" recover "$S0" latest --to gitlab:https://h/src --all --yes
URL_A=$URL

# The backup, as a user makes it: from the forge's API and git.
args=
i=1
while [ $i -le $N ]; do
	r=r$(printf %02d $i)
	args="$args --repo $r=$URL_A/git/src/$r.git"
	args="$args --pipeline $r=gitlab:$URL_A/src/$r"
	i=$((i + 1))
done
S=$T/backup
new_store "$S"
# shellcheck disable=SC2086
expect 0 "$AMBER" ingest "$S" $args
rc_stop

# Forge B: the group is empty.  The recovery follows the README's
# runbook (After an incident) from a new machine: nothing but the
# store's location, the passphrase in a file and the token; the
# snapshots, the plan, then the run.
FB=$T/forge-b
FORGE=$FB
mkdir -p "$FB/git"
rc_start '{"groups": ["src"], "per_page": 4}'
printf '%s\n' "$AMBER_PASSPHRASE" >"$T/pass"
chmod 600 "$T/pass"
unset AMBER_PASSPHRASE
export AMBER_PASSPHRASE_FILE=$T/pass XDG_CACHE_HOME=$T/new-machine
expect 0 "$AMBER" snapshots "$S"
[ "$(grep -c . "$T/out")" -eq 1 ] || fail "one snapshot expected"
expect 0 "$AMBER" recover "$S" latest --to gitlab:https://h/src --all \
    --dry-run
[ -z "$(writes)" ] || fail "the dry run wrote: $(writes | head -n 3)"
[ "$(grep -c '^ *create    project' "$T/out")" -eq $N ] ||
    fail "the plan does not create $N projects"
expect 0 "$AMBER" recover "$S" latest --to gitlab:https://h/src --all --yes
[ "$(grep -c ': recovered' "$T/err")" -eq $N ] ||
    fail "not $N projects recovered: $(grep -v ': recovered' "$T/err" | head)"

# Every ref, but the merge-request ones.
i=1
while [ $i -le $N ]; do
	r=r$(printf %02d $i)
	refs_of "$FA/git/src/$r.git" | grep -v merge-requests >"$T/want"
	refs_of "$FB/git/src/$r.git" >"$T/got"
	[ -s "$T/got" ] || fail "$r: no refs on the new forge"
	cmp -s "$T/want" "$T/got" ||
	    { diff "$T/want" "$T/got"; fail "$r: refs differ"; }
	grep -q "refs/heads/feature-$i\$" "$T/got" || fail "$r: no feature-$i"
	grep -q "refs/notes/commits\$" "$T/got" || fail "$r: no notes"
	i=$((i + 1))
done

# The settings and every item, field by field, ids aside.
python3 - "$FA/state.json" "$FB/state.json" "$N" <<'PY' ||
import json, sys
a = json.load(open(sys.argv[1]))["projects"]
b = json.load(open(sys.argv[2]))["projects"]
n = int(sys.argv[3])
want = sorted("src/r%02d" % i for i in range(1, n + 1))
assert sorted(a) == want, ("forge A", sorted(a))
assert sorted(b) == want, ("forge B", sorted(b))
def items(p, kind):
    out = []
    for it in p[kind]:
        it = {k: v for k, v in it.items() if k != "id"}
        out.append(json.dumps(it, sort_keys=True))
    return sorted(out)
kinds = ("variables", "pipeline_schedules", "protected_branches",
         "environments", "hooks")
counted = {k: 0 for k in kinds}
for path in want:
    pa, pb = a[path], b[path]
    for f in ("visibility", "description", "default_branch", "archived"):
        assert pa[f] == pb[f], (path, f, pa[f], pb[f])
    for k in kinds:
        ia, ib = items(pa, k), items(pb, k)
        assert ia == ib, (path, k, ia, ib)
        counted[k] += len(ia)
# Nothing vacuous: forge A had every kind in every project.
for k, c in counted.items():
    assert c >= n, ("too few", k, c)
assert a["src/r07"]["visibility"] == "internal"
assert a["src/r08"]["visibility"] == "public"
assert a["src/r09"]["description"] == "project 9"
PY
    fail "forge B is not forge A"

# A rerun writes nothing.
n=$(log_lines)
expect 0 "$AMBER" recover "$S" latest --to gitlab:https://h/src --all --yes
[ -z "$(writes "$n")" ] || fail "the rerun wrote: $(writes "$n" | head -n 3)"
[ "$(grep -c ': unchanged' "$T/err")" -eq $N ] || fail "not all unchanged"
exit 0
