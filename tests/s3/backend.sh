#!/usr/bin/env bash
# tests/s3/backend.sh: the S3 backend against a real RGW with Object Lock,
# through build/tests/test_s3 (tests/unit/test_s3.c) in phases, with
# tampering by plain curl in between.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
bin="$top/$B/tests/test_s3"
[ -x "$bin" ] || fail "$bin not built"
s3_start
s3_bucket lkb lock
s3_bucket plain plain
# curl resolves *.localhost to the loopback: virtual-host addressing works.
export S3_ENDPOINT_VHOST=${S3_ENDPOINT/127.0.0.1/localhost}

AMBER_S3_PAGE_KEYS=7 "$bin" write lkb plain || fail "write phase"

# The store's default retention was set on the bucket by create.
s3req GET "/lkb?object-lock="
grep -q '<Mode>COMPLIANCE</Mode>' "$T/b" && grep -q '<Days>1</Days>' "$T/b" ||
    fail "bucket default retention not set: $(cat "$T/b")"
# Every object was written with COMPLIANCE retention: the store's (1 day)
# plus a grace period (a quarter of it, at least a day) ahead.
s3req HEAD /lkb/st/config -I
[ "$(s3hdr x-amz-object-lock-mode)" = COMPLIANCE ] || fail "config not locked"
until1=$(s3hdr x-amz-object-lock-retain-until-date)
u=$(date -d "$until1" +%s) || fail "bad retain-until $until1"
now=$(date +%s)
[ $((u - now)) -gt 172000 ] && [ $((u - now)) -lt 173200 ] ||
    fail "retain-until $until1 is not two days ahead"
# The locked version cannot be deleted, even by the owner.
v=$(s3hdr x-amz-version-id)
s3req DELETE "/lkb/st/config?versionId=$v"
[ "$HTTP" = 403 ] || fail "deleting a locked version gave $HTTP"

# Tamper: overwrite config, hide packs/00/a behind a delete marker.
printf 'EVIL!\n' >"$T/evil"
s3req PUT /lkb/st/config -T "$T/evil"
[ "$HTTP" = 200 ] || fail "overwrite gave $HTTP"
s3req DELETE /lkb/st/packs/00/a
[ "$HTTP" = 204 ] || fail "delete marker gave $HTTP"
s3req GET /lkb/st/packs/00/a
[ "$HTTP" = 404 ] || fail "hidden key still readable plainly ($HTTP)"

"$bin" read lkb 2>"$T/read.err" || { cat "$T/read.err"; fail "read phase"; }
grep -q 'a delete marker hides st/packs/00/a' "$T/read.err" ||
    fail "no warning about the delete marker: $(cat "$T/read.err")"
grep -q 'st/config was overwritten' "$T/read.err" ||
    fail "no warning about the overwrite: $(cat "$T/read.err")"

# protect() with 3 days lengthens the original version's lock (2 days
# left) to 3 days + 1 day of grace; called again, it leaves it alone.
"$bin" protect lkb 3 || fail "protect phase"
s3req GET "/lkb?prefix=st%2Fpacks%2F00%2Fa&versions="
v=$(grep -o '<Version><Key>st/packs/00/a</Key><VersionId>[^<]*' "$T/b" | sed 's/.*<VersionId>//')
[ -n "$v" ] || fail "no version of packs/00/a: $(cat "$T/b")"
s3req HEAD "/lkb/st/packs/00/a?versionId=$v" -I
until2=$(s3hdr x-amz-object-lock-retain-until-date)
u=$(date -d "$until2" +%s)
[ $((u - now)) -gt $((4 * 86400 - 400)) ] || fail "protect did not lengthen the retention ($until2)"
sleep 1
"$bin" protect lkb 3 || fail "protect phase 2"
s3req HEAD "/lkb/st/packs/00/a?versionId=$v" -I
[ "$(s3hdr x-amz-object-lock-retain-until-date)" = "$until2" ] ||
    fail "protect lengthened a lock that had enough time left"
# The overwrite of config is not the one protect extends.
s3req GET "/lkb?prefix=st%2Fconfig&versions="
newest=$(grep -o '<Version><Key>st/config</Key><VersionId>[^<]*' "$T/b" | head -n 1 | sed 's/.*<VersionId>//')
s3req HEAD "/lkb/st/config?versionId=$newest" -I
# (it has the bucket's default rule: one day)
u=$(date -d "$(s3hdr x-amz-object-lock-retain-until-date)" +%s)
[ $((u - now)) -lt $((2 * 86400)) ] || fail "the overwrite got a longer lock from protect"
# An endpoint that is a web server but not S3: a clear message, exit 1.
if [ -x "$AMBER" ] && command -v python3 >/dev/null; then
	# The server takes a port of the kernel's choosing and writes it
	# down: a port picked here could be another test's by then.
	timeout 60 python3 -c '
import http.server, os, sys
os.chdir(sys.argv[1])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[2] + ".tmp", "w") as f: f.write(str(s.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()' "$T" "$T/wport" >/dev/null 2>&1 &
	S3_CLEANUP_EXTRA="kill $! 2>/dev/null"
	for i in $(seq 1 100); do [ -s "$T/wport" ] && break; sleep 0.1; done
	wport=$(cat "$T/wport" 2>/dev/null) || fail "the web server did not start"
	curl -s -o /dev/null "http://127.0.0.1:$wport/" || fail "the web server does not answer"
	AMBER_S3_ENDPOINT=http://127.0.0.1:$wport AMBER_PASSPHRASE=x \
	    "$AMBER" snapshots s3://bucket/x >/dev/null 2>"$T/err"
	rc=$?
	[ $rc = 1 ] || fail "wrong endpoint: exit $rc"
	grep -q 'does not answer like an S3 server' "$T/err" || fail "wrong endpoint: $(cat "$T/err")"
fi
echo "ok"
