#!/usr/bin/env bash
# tests/attack/s3_http_endpoint.sh: a plain http:// S3 endpoint is taken
# only for a loopback host (127.0.0.0/8, ::1, localhost); any other host
# needs --insecure-http (amberfs: -o insecure_http), and is refused before
# any connection, with a message naming the endpoint.  Over plain http a
# network attacker reads the access key id and every object name, and
# replays or withholds requests at will.
#
# Nothing may reach the outside: every refused attempt runs in an empty
# network namespace (unshare -n), and under strace where it is installed,
# which must show no AF_INET/AF_INET6 connect() at all.  A loopback
# endpoint is reached directly, never through a proxy named by
# http_proxy or ALL_PROXY.  The accepted
# non-loopback endpoint of the last part is http://0.0.0.0:PORT, which
# Linux connects to the local host: the test RGW on 127.0.0.1.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/../s3/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
unshare -n true 2>/dev/null || { echo "unshare -n not permitted here" >&2; exit 77; }
s3_start
s3_bucket plain plain
export AMBER_PASSPHRASE="http test" XDG_CACHE_HOME="$T/cache" AMBER_S3_RETRIES=0
port=${S3_ENDPOINT##*:}

# Run "$@" with no network at all; $rc, $T/err, $T/trace, $secs.
isolated() {
	local t0=$SECONDS
	if command -v strace >/dev/null 2>&1; then
		unshare -n strace -f -qq -e trace=connect -o "$T/trace" "$@" \
		    >"$T/out" 2>"$T/err"
	else
		unshare -n "$@" >"$T/out" 2>"$T/err"
		: >"$T/trace"
	fi
	rc=$?
	secs=$((SECONDS - t0))
}

# $1: the endpoint as the message must name it; $2...: the command.
refused() {
	local ep=$1
	shift
	isolated "$@"
	cat "$T/err"
	[ $rc = 1 ] || fail "$*: exit $rc, want 1"
	grep -qF "$ep" "$T/err" || fail "$*: the message does not name $ep"
	grep -q -- "--insecure-http\|insecure_http" "$T/err" ||
	    fail "$*: the message does not say how to accept it"
	grep -q 'AF_INET' "$T/trace" && fail "$*: a connection was tried: $(cat "$T/trace")"
	[ $secs -le 3 ] || fail "$*: took $secs s"
	return 0
}

refused http://192.0.2.1:9000 "$AMBER" snapshots s3://plain/st --s3-endpoint http://192.0.2.1:9000
refused http://s3.example.invalid "$AMBER" init s3://plain/st --allow-no-object-lock \
    --kdf log2n=10,r=8,p=1 --s3-endpoint http://s3.example.invalid
# Names that merely look local.
refused http://127.0.0.1.example.invalid:$port "$AMBER" snapshots s3://plain/st \
    --s3-endpoint "http://127.0.0.1.example.invalid:$port"
refused http://localhost.example.invalid "$AMBER" snapshots s3://plain/st \
    --s3-endpoint http://localhost.example.invalid
# From the environment, as a mount from fstab or a timer would have it.
AMBER_S3_ENDPOINT=http://192.0.2.1 refused http://192.0.2.1 "$AMBER" verify s3://plain/st
refused http://192.0.2.1 "$AMBER" doctor s3://plain/st --s3-endpoint http://192.0.2.1
if [ -x "$AMBERFS" ]; then
	mkdir -p "$T/mnt"
	S3_CLEANUP_EXTRA='fusermount3 -uz "$T/mnt" 2>/dev/null'
	refused http://192.0.2.1:80 "$AMBERFS" s3://plain/st "$T/mnt" -f \
	    -o s3_endpoint=http://192.0.2.1:80
	mountpoint -q "$T/mnt" && fail "amberfs mounted"
fi

# With --insecure-http the endpoint is taken, up to the point of
# connecting: here, resolving a name that cannot resolve, in a namespace
# where no query can leave.
isolated "$AMBER" snapshots s3://plain/st --insecure-http --s3-endpoint http://s3.example.invalid
cat "$T/err"
[ $rc = 1 ] || fail "--insecure-http: exit $rc, want 1"
grep -q 'insecure-http' "$T/err" && fail "--insecure-http: still refused"
grep -qi 'resolve' "$T/err" || fail "--insecure-http: no resolver failure reported"
if [ -x "$AMBERFS" ]; then
	isolated "$AMBERFS" s3://plain/st "$T/mnt" -f \
	    -o s3_endpoint=http://s3.example.invalid,insecure_http
	cat "$T/err"
	grep -q 'insecure_http\|insecure-http' "$T/err" && fail "-o insecure_http: still refused"
	grep -qi 'resolve' "$T/err" || fail "-o insecure_http: no resolver failure reported"
fi

# Loopback needs no flag; a non-loopback name needs it, and then works.
"$AMBER" init s3://plain/st --allow-no-object-lock --kdf log2n=10,r=8,p=1 \
    --s3-endpoint "http://localhost:$port" >/dev/null 2>"$T/err" ||
    fail "init via http://localhost: $(cat "$T/err")"
# A proxy named by the environment does not take loopback requests off
# the host (here a dead port on loopback stands for the proxy).
http_proxy=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 \
    "$AMBER" snapshots s3://plain/st --s3-endpoint "http://127.0.0.1:$port" \
    >/dev/null 2>"$T/err" || fail "a loopback endpoint went to http_proxy: $(cat "$T/err")"
refused "http://0.0.0.0:$port" "$AMBER" snapshots s3://plain/st --s3-endpoint "http://0.0.0.0:$port"
"$AMBER" snapshots s3://plain/st --insecure-http --s3-endpoint "http://0.0.0.0:$port" \
    >/dev/null 2>"$T/err" || fail "--insecure-http via 0.0.0.0: $(cat "$T/err")"
echo "ok: plain http refused off loopback, before any connection"
