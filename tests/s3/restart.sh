#!/usr/bin/env bash
# tests/s3/restart.sh: radosgw dies in the middle of an ingest (only the
# gateway: a memstore OSD would lose its data) and comes back two seconds
# later.  The ingest retries through it or fails cleanly (exit 1, a message
# naming the endpoint, no crash); with retries off, an ingest while the
# gateway is down fails cleanly at once; the next ingest completes and the
# store verifies and restores.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_store restart st "restart test"
"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init"

mkdir -p "$T/src"
for i in $(seq 1 40); do head -c 3000000 /dev/urandom >"$T/src/f$i"; done

killed=0
for try in 1 2 3; do
	"$AMBER" ingest "$S" --dir src="$T/src" -q >"$T/ingest.out" 2>&1 &
	pid=$!
	sleep 0.$((2 + try))
	if kill -0 $pid 2>/dev/null; then
		bash "$RGW" kill-rgw "$T/rgw" || fail "kill-rgw"
		killed=1
		sleep 2
		bash "$RGW" start-rgw "$T/rgw" >/dev/null 2>&1 || fail "start-rgw"
	fi
	wait $pid
	rc=$?
	cat "$T/ingest.out"
	[ $rc -lt 128 ] || fail "ingest crashed (exit $rc)"
	[ $rc = 0 ] || [ $rc = 1 ] || fail "ingest exit $rc"
	[ $rc = 1 ] && { grep -q "$S3_ENDPOINT\|127.0.0.1" "$T/ingest.out" || fail "failure does not name the endpoint"; }
	echo "# try $try: ingest exit $rc (gateway killed: $killed)"
	[ $killed = 1 ] && break
	# Too fast to catch: start over with a fresh source name.
	mv "$T/src" "$T/src$try"; mkdir "$T/src"
	for i in $(seq 1 40); do head -c 3000000 /dev/urandom >"$T/src/f$i"; done
done
[ $killed = 1 ] || fail "the ingest was always done before the gateway could be killed"

# Gateway down, no retries: a clean, quick failure.
bash "$RGW" kill-rgw "$T/rgw"
echo x >"$T/src/new"
start=$SECONDS
AMBER_S3_RETRIES=0 "$AMBER" ingest "$S" --dir src="$T/src" -q >"$T/down.out" 2>&1
rc=$?
cat "$T/down.out"
[ $rc = 1 ] || fail "ingest with the gateway down: exit $rc, want 1"
grep -q "cannot reach S3 endpoint" "$T/down.out" || fail "no clear message"
[ $((SECONDS - start)) -lt 30 ] || fail "took too long to fail"
bash "$RGW" start-rgw "$T/rgw" >/dev/null 2>&1 || fail "start-rgw"

# The next ingest completes, and everything reads back.
"$AMBER" ingest "$S" --dir src="$T/src" -q || fail "ingest after the restart"
"$AMBER" verify "$S" --read-data || fail "verify"
"$AMBER" restore "$S" latest:files/src "$T/out" 2>/dev/null || fail "restore"
diff -r "$T/src" "$T/out/src" || fail "restored tree differs"
echo ok
