#!/usr/bin/env bash
# tests/attack/s3_signed_payload.sh: amber's S3 PUTs sign the SHA-256 of
# their body (x-amz-content-sha256, a signed header), never
# UNSIGNED-PAYLOAD, so whoever sits on the path cannot change what is
# stored under a request amber signed.
#
# A proxy on 127.0.0.1 between amber and the test RGW records every
# request: each PUT with a body must carry x-amz-content-sha256 equal to
# the SHA-256 of the bytes it sent, among the signed headers.  Then the
# proxy turns hostile and flips one byte of every pack it forwards: the
# ingest fails and no such pack is stored.  Last, RGW itself is shown to
# refuse a body that does not match the signed hash (no Content-MD5 to
# catch it), which is what makes the signature worth sending.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/../s3/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
command -v python3 >/dev/null 2>&1 || { echo "python3 not installed" >&2; exit 77; }
s3_start
s3_bucket signed lock
export AMBER_PASSPHRASE="signed test" XDG_CACHE_HOME="$T/cache" AMBER_S3_RETRIES=0

cat >"$T/proxy.py" <<'PY'
# proxy.py UPSTREAM_PORT LOG PORTFILE [tamper]: forward HTTP/1.1 to
# 127.0.0.1:UPSTREAM_PORT; log "METHOD PATH CLAIMED ACTUAL SIGNED" per
# request with a body; with "tamper", flip the last byte of PUT bodies
# under /packs/.
import hashlib, http.client, http.server, sys, threading
up, logf, portf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tamper = len(sys.argv) > 4
lock = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "expect",
       "proxy-connection", "te", "upgrade"}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def relay(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if body:
            claimed = self.headers.get("x-amz-content-sha256", "-")
            auth = self.headers.get("Authorization", "")
            signed = "x-amz-content-sha256" in auth.split("SignedHeaders=")[-1].split(",")[0]
            with lock, open(logf, "a") as f:
                f.write("%s %s %s %s %s\n" % (self.command, self.path.split("?")[0],
                        claimed, hashlib.sha256(body).hexdigest(), "signed" if signed else "unsigned"))
            if tamper and self.command == "PUT" and "/packs/" in self.path:
                body = body[:-1] + bytes([body[-1] ^ 1])
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        c = http.client.HTTPConnection("127.0.0.1", up, timeout=60)
        c.request(self.command, self.path, body=body if body else None, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", r.getheader("Content-Length", str(len(data))))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()
    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = relay

s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portf + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os
os.rename(portf + ".tmp", portf)
s.serve_forever()
PY

proxy_pid=
S3_CLEANUP_EXTRA='[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null'
start_proxy() { # [tamper]
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
	rm -f "$T/port"
	python3 "$T/proxy.py" "${S3_ENDPOINT##*:}" "$T/log" "$T/port" "$@" &
	proxy_pid=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
	[ -s "$T/port" ] || fail "proxy did not start"
	export AMBER_S3_ENDPOINT="http://127.0.0.1:$(cat "$T/port")"
}

mkdir -p "$T/src"
head -c 3000000 /dev/urandom >"$T/src/blob"
echo small >"$T/src/small"

# 1. Every PUT body is signed by its SHA-256.
start_proxy
"$AMBER" init s3://signed/st --retention 1d --kdf log2n=10,r=8,p=1 >/dev/null 2>"$T/err" ||
    fail "init: $(cat "$T/err")"
"$AMBER" ingest s3://signed/st --dir src="$T/src" -q 2>"$T/err" || fail "ingest: $(cat "$T/err")"
cat "$T/log"
grep -q '^PUT /signed/st/packs/' "$T/log" || fail "no pack PUT seen"
grep -q '^PUT /signed/st/snapshots/' "$T/log" || fail "no snapshot PUT seen"
n=0
while read -r m p claimed actual signed; do
	[ "$m" = PUT ] || continue
	n=$((n + 1))
	[ "$claimed" = "$actual" ] || fail "$p: x-amz-content-sha256 is $claimed, the body's SHA-256 $actual"
	[ "$signed" = signed ] || fail "$p: x-amz-content-sha256 not among the signed headers"
done <"$T/log"
echo "# $n PUT bodies signed by their SHA-256"

# 2. A proxy that changes a pack's bytes gets the PUT refused.
: >"$T/log"
start_proxy tamper
echo changed >>"$T/src/small"
head -c 1000000 /dev/urandom >"$T/src/blob2"
"$AMBER" ingest s3://signed/st --dir src="$T/src" -q 2>"$T/err" && fail "ingest through a tampering proxy succeeded"
cat "$T/err"
grep -q '^PUT /signed/st/packs/' "$T/log" || fail "no pack PUT went through the tampering proxy"
export AMBER_S3_ENDPOINT=$S3_ENDPOINT
s3req GET "/signed?prefix=st%2Fpacks%2F&versions="
for p in $(awk '$1 == "PUT" && $2 ~ /\/packs\// { print $2 }' "$T/log"); do
	k=${p#/signed/}
	grep -q "<Key>$k</Key>" "$T/b" && fail "tampered $k was stored"
done
"$AMBER" verify s3://signed/st --read-data >/dev/null 2>"$T/err" || fail "verify: $(cat "$T/err")"

# 3. RGW checks the signed hash against the body.
body=$T/body
printf 'the bytes that were signed' >"$body"
h=$(sha256sum <"$body" | cut -d' ' -f1)
HTTP=$(curl -sS --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $h" \
    -X PUT -o "$T/b" -w '%{http_code}' --data-binary 'other bytes, same length!!' \
    "$S3_ENDPOINT/signed/st/probe")
grep -q XAmzContentSHA256Mismatch "$T/b" || fail "RGW took a body that does not match the signed hash: HTTP $HTTP $(cat "$T/b")"
HTTP=$(curl -sS --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $h" \
    -X PUT -o "$T/b" -w '%{http_code}' --data-binary @"$body" "$S3_ENDPOINT/signed/st/probe")
[ "$HTTP" = 200 ] || fail "RGW refused the matching body: HTTP $HTTP $(cat "$T/b")"
echo "ok: PUT bodies signed, a changed body refused"
