#!/bin/sh
# tests/bench/recover.sh: `amber recover` of N repositories (default 100,
# 5 commits each, with GitLab pipeline metadata: 3 variables, a schedule,
# a protected branch, an environment, a hook) from a local store onto the
# fixture forge (tests/forge/recover_server.py), with a cold index, then
# a no-change rerun; against the scripted alternative, measured in the
# same run: clone each mirror from an amberfs mount and `git push
# --mirror` it, in a shell loop, metadata left out (its projects are
# made beforehand, as the script cannot).
#     AMBER=build/amber AMBERFS=build/amberfs AMBER_TOP=. [JOBS=4] \
#         sh tests/bench/recover.sh [N]
set -u
AMBER=$(cd "$(dirname "$AMBER")" && pwd)/$(basename "$AMBER")
AMBERFS=${AMBERFS:-$(dirname "$AMBER")/amberfs}
JOBS=${JOBS:-4}
N=${1:-100}
T=$(mktemp -d /tmp/amber-bench-recover.XXXXXX)
cleanup() { chmod -R u+rwX "$T"; rm -rf "$T"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
export XDG_CACHE_HOME=$T/cache AMBER_PASSPHRASE=bench
. "$AMBER_TOP/tests/cli/org_common.inc"
. "$AMBER_TOP/tests/cli/recover_common.inc"
bench_cleanup() {
	[ -n "${M:-}" ] && grep -q " $M fuse" /proc/mounts 2>/dev/null &&
	    fusermount3 -u "$M"
	rc_cleanup
}
trap bench_cleanup EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

args=
i=1
while [ $i -le "$N" ]; do
	org_repo "src/r$i" 5
	rc_pipes "$T/pipes/r$i"
	args="$args --repo r$i=$FORGE/git/src/r$i.git --pipeline r$i=$T/pipes/r$i"
	i=$((i + 1))
done
S=$T/S
"$AMBER" init --kdf log2n=10,r=8,p=1 "$S" >/dev/null || fail init
# shellcheck disable=SC2086
"$AMBER" ingest "$S" $args >/dev/null 2>&1 || fail ingest
FORGE=$T/target
mkdir -p "$FORGE/git"
rc_start '{"groups": ["grp"], "per_page": 100, "lazy_state": true}'

rm -rf "$XDG_CACHE_HOME"
t0=$(now)
"$AMBER" recover "$S" latest --to gitlab:https://h/grp --all --yes -q --jobs "$JOBS" \
    2>"$T/err" || { tail "$T/err"; fail "recover"; }
t1=$(now)
"$AMBER" recover "$S" latest --to gitlab:https://h/grp --all --yes -q --jobs "$JOBS" \
    2>"$T/err" || { tail "$T/err"; fail "rerun"; }
t2=$(now)
api=$(grep -c /api/ "$FORGE/req.log")
rc_stop

# The scripted alternative, projects made beforehand.
FORGE=$T/target2
mkdir -p "$FORGE/git"
projs=
i=1
while [ $i -le "$N" ]; do
	projs="$projs\"grp/r$i\": {},"
	i=$((i + 1))
done
rc_start "{\"groups\": [\"grp\"], \"projects\": {${projs%,}}}"
M=$T/m
mkdir -p "$M"
rm -rf "$XDG_CACHE_HOME"	# a cold mount, as recover had a cold index
mkfifo "$T/ready"
"$AMBERFS" "$S" "$M" -f -o ready_fd=3 3>"$T/ready" 2>"$T/amberfs.log" &
[ "$(timeout 60 head -c 1 "$T/ready" | wc -c)" -eq 1 ] ||
    fail "amberfs did not start: $(cat "$T/amberfs.log")"
auth="Authorization: Basic $(printf 'oauth2:%s' "$TOKEN" | base64 -w0)"
t3=$(now)
i=1
while [ $i -le "$N" ]; do
	git clone -q --mirror "$M/latest/repos/r$i.git" "$T/c/r$i.git" &&
	git -C "$T/c/r$i.git" -c http.extraHeader="$auth" push -q --mirror \
	    "$URL/git/grp/r$i.git" || fail "script r$i"
	i=$((i + 1))
done
t4=$(now)
fusermount3 -u "$M"

printf '%-34s %8s\n' "run ($N repositories)" seconds
printf '%-34s %8.2f  (%s API requests in both runs)\n' \
    "amber recover --jobs $JOBS, cold index" "$(secs "$t0" "$t1")" "$api"
printf '%-34s %8.2f\n' "amber recover, no-change rerun" "$(secs "$t1" "$t2")"
printf '%-34s %8.2f\n' "script: clone from mount + push" "$(secs "$t3" "$t4")"
