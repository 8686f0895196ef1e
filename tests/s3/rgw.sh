#!/usr/bin/env bash
# tests/s3/rgw.sh: a throwaway one-node Ceph RADOS Gateway (S3 with Object
# Lock) on 127.0.0.1 for amber's tests: one mon, one memstore OSD, radosgw;
# no mgr, no cephx, no systemd.  Everything (config, data, logs, sockets,
# pid files) lives in DIR.
#
#   rgw.sh start DIR     bring it up on free ports, write DIR/env; exit 0
#                        when S3 answers and the user exists
#   rgw.sh stop DIR      stop our daemons (by recorded PID, checked against
#                        their command line) and remove DIR (RGW_KEEP=1 keeps it)
#   rgw.sh restart-rgw DIR   kill radosgw alone and start it again
#   rgw.sh kill-rgw DIR      kill radosgw alone (KILL)
#   rgw.sh start-rgw DIR     start radosgw again after kill-rgw
#   rgw.sh status DIR    exit 0 if all three daemons live
#   RGW_LC_DEBUG_INTERVAL=N rgw.sh start DIR   a lifecycle "day" lasts N s
#   rgw.sh               (no arguments, as run.sh calls it) a self-test:
#                        start, check S3 answers, stop, check nothing is left
#
# Exit 77 when the Ceph daemons are not installed (Debian: ceph-mon ceph-osd
# radosgw ceph-common).  DIR/env holds S3_ENDPOINT, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION, CEPH_CONF, RGW_DIR.
#
# Ports are picked at random among free ones, so several runs can share the
# machine.  Settings that matter (learned the hard way, see
# shared/recipes/rgw-local.md): radosgw needs "ms mon client mode = crc
# secure" without cephx; a short paxos interval makes start-up take ~2 s
# instead of ~15; stop radosgw before the OSD or it hangs in shutdown; KILL
# the memstore OSD rather than let it dump its RAM store.
# run.sh starts every tests/s3/*.sh with sh; this script needs bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

die() { echo "rgw.sh: $*" >&2; exit 1; }
log() { echo "rgw.sh: $*" >&2; }

if [ $# -eq 0 ]; then
	# Self-test, run by tests/run.sh as "s3/rgw".
	self=$(realpath "$0")
	T=$(mktemp -d /tmp/amber-rgw-self.XXXXXX)
	trap 'bash "$self" stop "$T/rgw"; rm -rf "$T"' EXIT
	bash "$self" start "$T/rgw"
	rc=$?
	[ $rc -eq 0 ] || exit $rc
	. "$T/rgw/env"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$S3_ENDPOINT/")
	[ "$code" = 200 ] || { echo "anonymous GET / gave $code" >&2; exit 1; }
	code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	    -H "x-amz-bucket-object-lock-enabled: true" -X PUT "$S3_ENDPOINT/selftest")
	[ "$code" = 200 ] || { echo "creating a lock bucket gave $code" >&2; exit 1; }
	bash "$self" status "$T/rgw" || { echo "a daemon is down" >&2; exit 1; }
	pids=$(cat "$T"/rgw/pids/* | tr '\n' ' ')
	bash "$self" stop "$T/rgw"
	for p in $pids; do
		if [ -d "/proc/$p/task" ] && [ "$(ls "/proc/$p/task" | wc -l)" -gt 1 ]; then
			echo "daemon $p still running after stop" >&2; exit 1
		fi
	done
	[ ! -e "$T/rgw" ] || { echo "stop left $T/rgw behind" >&2; exit 1; }
	echo "rgw self-test ok"
	exit 0
fi
[ $# -eq 2 ] || die "usage: $0 start|stop|status|kill-rgw|start-rgw|restart-rgw DIR"
ACTION=$1
D=$(realpath -m "$2")
MARK=.amber-rgw
TMO=${RGW_TIMEOUT:-60}

for p in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
	command -v "$p" >/dev/null 2>&1 || {
		[ "$ACTION" = start ] || exit 0
		echo "rgw.sh: $p not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common curl)" >&2
		exit 77
	}
done

# Is PID alive, and one of ours (its command line names DIR/ceph.conf)?
ours() {
	[ -n "${1:-}" ] && [ -r "/proc/$1/cmdline" ] &&
	    tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "-c $D/ceph.conf"
}

# Still running?  A zombie leader with no live threads counts as gone.
alive() {
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] || return 1
	[ "$st" != Z ] || [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -gt 1 ]
}

spawn() { # NAME CMD...: start a daemon in the foreground mode as a job
	local name=$1
	shift
	nohup "$@" -c "$D/ceph.conf" -f </dev/null >>"$D/log/$name.out" 2>&1 &
	echo $! >"$D/pids/$name"
	disown $! 2>/dev/null || true
}

stop_one() { # NAME SIGNAL SECONDS
	local p i
	p=$(cat "$D/pids/$1" 2>/dev/null || true)
	if ! ours "$p"; then rm -f "$D/pids/$1"; return 0; fi
	kill -"$2" "$p" 2>/dev/null || true
	for ((i = 0; i < $3 * 10; i++)); do alive "$p" || break; sleep 0.1; done
	alive "$p" && kill -KILL "$p" 2>/dev/null
	for ((i = 0; i < 50; i++)); do alive "$p" || break; sleep 0.1; done
	rm -f "$D/pids/$1"
}

stop_all() {
	stop_one rgw.a TERM 10
	stop_one osd.0 KILL 5
	stop_one mon.a TERM 5
}

fail() {
	log "$*; last log lines:"
	tail -n 20 "$D"/log/*.out "$D"/log/*.log >&2 2>/dev/null || true
	stop_all
	exit 1
}

wait_for() { # WHAT CMD...: until CMD succeeds, or a daemon dies, or timeout
	local what=$1 n end=$((SECONDS + TMO))
	shift
	until "$@" >/dev/null 2>&1; do
		for n in "$D"/pids/*; do
			alive "$(cat "$n")" || fail "${n##*/} exited while waiting for $what"
		done
		[ $SECONDS -lt $end ] || fail "timed out waiting for $what"
		sleep 0.1
	done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Listening ports come from outside the kernel's ephemeral range, where a
# client's connection (ceph's, curl's) could take them between the check and
# the bind: 20000..(first ephemeral - 1) for radosgw and the mon, 10000..19999
# for the OSD's messenger range.
ephemeral_lo() {
	local lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) || lo=32768
	[ "$lo" -gt 21000 ] 2>/dev/null || lo=32768
	echo "$lo"
}

pick_port() { # a free port in 20000..(first ephemeral port - 1)
	local p i span
	span=$(($(ephemeral_lo) - 20000))
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % span))
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

cephq() { timeout 20 ceph -c "$D/ceph.conf" --connect-timeout 10 "$@"; }

start_rgw() {
	local port
	port=$(sed -n 's/^RGW_PORT=//p' "$D/ports")
	port_free "$port" || fail "port 127.0.0.1:$port is taken"
	spawn rgw.a radosgw -n client.rgw.a
	wait_for radosgw curl -sf -o /dev/null "http://127.0.0.1:$port/"
}

start() {
	local n fsid uuid ak sk rgw_port mon_port osd_lo
	for n in rgw.a osd.0 mon.a; do
		ours "$(cat "$D/pids/$n" 2>/dev/null || true)" && die "$D is running; stop it first"
	done
	if [ -e "$D" ] && [ -n "$(ls -A "$D" 2>/dev/null)" ] && [ ! -e "$D/$MARK" ]; then
		die "$D is not empty and not ours; refusing to wipe it"
	fi
	rm -rf "$D"
	mkdir -p "$D"/log "$D"/run "$D"/pids "$D"/crash "$D"/mon.a "$D"/osd.0 "$D"/rgw.a || die "cannot create $D"
	touch "$D/$MARK"
	rgw_port=${RGW_PORT:-$(pick_port)} || die "no free port"
	mon_port=$(pick_port) || die "no free port"
	[ "$mon_port" != "$rgw_port" ] || mon_port=$(pick_port) || die "no free port"
	osd_lo=$(( (RANDOM % 100) * 100 + 10000 ))
	printf 'RGW_PORT=%s\nMON_PORT=%s\n' "$rgw_port" "$mon_port" >"$D/ports"
	fsid=$(cat /proc/sys/kernel/random/uuid)
	uuid=$(cat /proc/sys/kernel/random/uuid)
	ak=$(tr -dc 'A-Z0-9' </dev/urandom | head -c 20)
	sk=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40)

	cat >"$D/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
ms bind port min = $osd_lo
ms bind port max = $((osd_lo + 99))
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
mon cluster log file = $D/log/cluster.log
crash dir = $D/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
paxos propose interval = 0.05
paxos min wait = 0.01
[mon]
mon data = $D/mon.\$id
[osd]
osd data = $D/osd.\$id
osd objectstore = memstore
memstore device bytes = $(( ${RGW_STORE_GB:-4} << 30 ))
[client.rgw.a]
rgw data = $D/rgw.a
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw dns name = localhost
EOF
	# A lifecycle "day" of N seconds, for tests of lifecycle rules; RGW
	# then also runs its lifecycle pass every N seconds at any hour.
	if [ -n "${RGW_LC_DEBUG_INTERVAL:-}" ]; then
		printf 'rgw lc debug interval = %s\nrgw lifecycle work time = 00:00-23:59\n' \
		    "$RGW_LC_DEBUG_INTERVAL" >>"$D/ceph.conf"
	fi
	monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$D/monmap" >/dev/null ||
	    fail "monmaptool failed"
	ceph-mon -c "$D/ceph.conf" --mkfs -i a --monmap "$D/monmap" >"$D/log/mkfs.out" 2>&1 ||
	    fail "mon mkfs failed"
	spawn mon.a ceph-mon -i a
	wait_for mon cephq mon stat
	cephq osd new "$uuid" >/dev/null 2>&1 || fail "ceph osd new failed"
	ceph-osd -c "$D/ceph.conf" -i 0 --mkfs --osd-uuid "$uuid" >>"$D/log/mkfs.out" 2>&1 ||
	    fail "osd mkfs failed"
	spawn osd.0 ceph-osd -i 0
	wait_for "osd up" sh -c "timeout 20 ceph -c '$D/ceph.conf' --connect-timeout 10 osd stat | grep -q ' 1 up'"
	start_rgw
	timeout 60 radosgw-admin -c "$D/ceph.conf" user create --uid=amber --display-name=amber \
	    --access-key="$ak" --secret-key="$sk" >"$D/log/user.json" 2>>"$D/log/admin.out" ||
	    fail "radosgw-admin user create failed"
	cat >"$D/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$rgw_port
AWS_ACCESS_KEY_ID=$ak
AWS_SECRET_ACCESS_KEY=$sk
AWS_REGION=us-east-1
AWS_DEFAULT_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
CEPH_CONF=$D/ceph.conf
RGW_DIR=$D
EOF
	log "up at http://127.0.0.1:$rgw_port (env in $D/env)"
}

case $ACTION in
start) start ;;
stop)
	stop_all
	if [ "${RGW_KEEP:-0}" != 1 ] && [ -e "$D/$MARK" ]; then rm -rf "$D"; fi ;;
kill-rgw) stop_one rgw.a KILL 2 ;;
start-rgw) start_rgw ;;
restart-rgw) stop_one rgw.a KILL 2; start_rgw ;;
status)
	rc=0
	for n in rgw.a osd.0 mon.a; do
		if ours "$(cat "$D/pids/$n" 2>/dev/null || true)"; then echo "$n up"; else echo "$n down"; rc=1; fi
	done
	exit $rc ;;
*) die "usage: $0 start|stop|status|kill-rgw|start-rgw|restart-rgw DIR" ;;
esac
