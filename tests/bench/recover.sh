#!/bin/sh
# tests/bench/recover.sh: `amber recover` of N repositories (default 100,
# 5 commits each, with GitLab pipeline metadata: 3 variables, a schedule,
# a protected branch, an environment, a hook) from a local store onto the
# fixture forge (tests/forge/recover_server.py), with a cold index, then
# a no-change rerun; against the scripted alternative, measured in the
# same run, alternating with it: clone each mirror from a cold amberfs
# mount and `git push --mirror` it, in a shell loop, metadata left out
# (its projects are made beforehand, as the script cannot).  Each is run
# REPEAT times (default 3); every run and the medians are printed.
# BACKEND=s3 puts the store in a bucket of a private RGW on loopback
# (tests/s3/rgw.sh) instead of a local directory; both sides then read it
# from there, the script through a cold mount of the bucket.
#     AMBER=build/amber AMBERFS=build/amberfs AMBER_TOP=. [JOBS=4] \
#         [REPEAT=3] [BACKEND=local|s3] sh tests/bench/recover.sh [N]
set -u
AMBER=$(cd "$(dirname "$AMBER")" && pwd)/$(basename "$AMBER")
AMBERFS=${AMBERFS:-$(dirname "$AMBER")/amberfs}
JOBS=${JOBS:-4}
REPEAT=${REPEAT:-3}
N=${1:-100}
T=$(mktemp -d /tmp/amber-bench-recover.XXXXXX)
cleanup() { chmod -R u+rwX "$T"; rm -rf "$T"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
export XDG_CACHE_HOME=$T/cache AMBER_PASSPHRASE=bench
. "$AMBER_TOP/tests/cli/org_common.inc"
. "$AMBER_TOP/tests/cli/recover_common.inc"
M=$T/m
BACKEND=${BACKEND:-local}
bench_cleanup() {
	grep -q " $M fuse" /proc/mounts 2>/dev/null && fusermount3 -u "$M"
	[ -d "$T/rgw" ] && bash "$AMBER_TOP/tests/s3/rgw.sh" stop "$T/rgw" \
	    >/dev/null 2>&1
	rc_cleanup
}
trap bench_cleanup EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 }
    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

args=
projs=
i=1
while [ $i -le "$N" ]; do
	org_repo "src/r$i" 5
	rc_pipes "$T/pipes/r$i"
	args="$args --repo r$i=$FORGE/git/src/r$i.git --pipeline r$i=$T/pipes/r$i"
	projs="$projs\"grp/r$i\": {},"
	i=$((i + 1))
done
case $BACKEND in
local)
	S=$T/S
	"$AMBER" init --kdf log2n=10,r=8,p=1 "$S" >/dev/null || fail init ;;
s3)
	bash "$AMBER_TOP/tests/s3/rgw.sh" start "$T/rgw" >"$T/rgw.out" 2>&1 ||
	    { cat "$T/rgw.out"; fail "RGW did not start"; }
	set -a
	. "$T/rgw/env"
	set +a
	export AMBER_S3_ENDPOINT=$S3_ENDPOINT
	[ "$(curl -sS --aws-sigv4 aws:amz:us-east-1:s3 \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	    -H "x-amz-bucket-object-lock-enabled: true" -X PUT -o /dev/null \
	    -w '%{http_code}' "$S3_ENDPOINT/bench")" = 200 ] ||
	    fail "could not create the bucket"
	S=s3://bench/store
	"$AMBER" init --retention 1d --kdf log2n=10,r=8,p=1 "$S" >/dev/null ||
	    fail init ;;
*)	fail "BACKEND must be local or s3, not '$BACKEND'" ;;
esac
# shellcheck disable=SC2086
"$AMBER" ingest "$S" $args >/dev/null 2>&1 || fail ingest
auth="Authorization: Basic $(printf 'oauth2:%s' "$TOKEN" | base64 -w0)"
mkdir -p "$M"
all_a= all_b= all_c=
r=1
while [ $r -le "$REPEAT" ]; do
	FORGE=$T/target.$r
	mkdir -p "$FORGE/git"
	rc_start '{"groups": ["grp"], "per_page": 100, "lazy_state": true}'
	rm -rf "$XDG_CACHE_HOME"
	t0=$(now)
	"$AMBER" recover "$S" latest --to gitlab:https://h/grp --all --yes \
	    -q --jobs "$JOBS" 2>"$T/err" || { tail "$T/err"; fail recover; }
	t1=$(now)
	"$AMBER" recover "$S" latest --to gitlab:https://h/grp --all --yes \
	    -q --jobs "$JOBS" 2>"$T/err" || { tail "$T/err"; fail rerun; }
	t2=$(now)
	api=$(grep -c /api/ "$FORGE/req.log")
	rc_stop

	FORGE=$T/script.$r
	mkdir -p "$FORGE/git"
	rc_start "{\"groups\": [\"grp\"], \"projects\": {${projs%,}}}"
	rm -rf "$XDG_CACHE_HOME" "$T/c" "$T/ready"
	mkfifo "$T/ready"
	t3=$(now)
	"$AMBERFS" "$S" "$M" -f -o ready_fd=3 3>"$T/ready" \
	    2>"$T/amberfs.log" &
	[ "$(timeout 60 head -c 1 "$T/ready" | wc -c)" -eq 1 ] ||
	    fail "amberfs did not start: $(cat "$T/amberfs.log")"
	i=1
	while [ $i -le "$N" ]; do
		git clone -q --mirror "$M/latest/repos/r$i.git" "$T/c/r$i.git" &&
		    git -C "$T/c/r$i.git" -c http.extraHeader="$auth" push -q \
		    --mirror "$URL/git/grp/r$i.git" || fail "script r$i"
		i=$((i + 1))
	done
	t4=$(now)
	fusermount3 -u "$M"
	wait
	rc_stop
	a=$(secs "$t0" "$t1") b=$(secs "$t1" "$t2") c=$(secs "$t3" "$t4")
	printf 'run %d: recover %.2f s (%s API requests with the rerun), ' \
	    "$r" "$a" "$api"
	printf 'rerun %.2f s, script %.2f s; load %s\n' "$b" "$c" \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
	all_a="$all_a $a" all_b="$all_b $b" all_c="$all_c $c"
	r=$((r + 1))
done
ma=$(echo "$all_a" | median) mb=$(echo "$all_b" | median)
mc=$(echo "$all_c" | median)
printf 'median of %d, %d repositories, --jobs %s, %s store:\n' "$REPEAT" \
    "$N" "$JOBS" "$BACKEND"
printf '  amber recover, cold index        %8.2f s\n' "$ma"
printf '  amber recover, no-change rerun   %8.2f s\n' "$mb"
printf '  script: cold mount, clone, push  %8.2f s\n' "$mc"
printf '  recover / script                 %8.2f\n' "$(echo "$ma / $mc" | bc -l)"
