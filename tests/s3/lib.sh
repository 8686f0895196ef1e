# tests/s3/lib.sh: sourced (by bash) by every S3 test.  s3_start brings up
# a private RGW (tests/s3/rgw.sh) in the test's own temporary directory and
# arranges for it to be stopped on exit; s3req talks S3 directly, with
# curl's SigV4, for tampering and for checks the code under test must not
# be trusted with.
#
#   . "$AMBER_TOP/tests/s3/lib.sh"; s3_start     # exits 77 without radosgw
#   s3_bucket NAME lock|plain
#   s3req METHOD PATH [curl args]   -> $HTTP (status), $T/h, $T/b
#   s3hdr NAME                      -> a header of the last s3req
#   s3_prune_user BUCKET            -> prune() under the README's prune user
#   s3_versions BUCKET PREFIX       -> $T/v (every version), $T/cur (current)
top=${AMBER_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
B=${B:-build}
AMBER=${AMBER:-$top/$B/amber}
AMBERFS=${AMBERFS:-$top/$B/amberfs}
T=$(mktemp -d /tmp/amber-s3.XXXXXX)
RGW="$top/tests/s3/rgw.sh"

s3_cleanup() {
	local rc=$?
	[ -n "${S3_CLEANUP_EXTRA:-}" ] && eval "$S3_CLEANUP_EXTRA"
	bash "$RGW" stop "$T/rgw" >/dev/null 2>&1
	rm -rf "$T"
	exit $rc
}
trap s3_cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }

# A start that fails (a daemon that dies or is slow on a loaded machine, a
# port taken between check and bind) is tried again, twice, on new ports;
# the reason of each failure is printed last, where run.sh's tail shows it.
s3_start() {
	local rc try
	for try in 1 2 3; do
		bash "$RGW" start "$T/rgw" >"$T/rgw.out" 2>&1
		rc=$?
		[ $rc -eq 0 ] && break
		cat "$T/rgw.out" >&2
		if [ $rc -eq 77 ]; then
			echo "radosgw not installed" >&2
			exit 77
		fi
		grep '^rgw.sh:' "$T/rgw.out" | sed "s/^/start $try of 3: /" >>"$T/rgw.why"
		bash "$RGW" stop "$T/rgw" >/dev/null 2>&1
	done
	if [ $rc -ne 0 ]; then
		cat "$T/rgw.why" >&2
		exit $rc
	fi
	set -a
	. "$T/rgw/env"
	set +a
	export AMBER_S3_ENDPOINT=$S3_ENDPOINT
}

# curl with SigV4.  curl 7.88 needs x-amz-content-sha256 on every request
# and a query string already in canonical order (sorted, k=v).
s3req() {
	local m=$1 p=$2
	shift 2
	HTTP=$(curl -sS --aws-sigv4 "aws:amz:us-east-1:s3" \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	    -X "$m" -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" "$S3_ENDPOINT$p")
}

s3hdr() { grep -i "^$1:" "$T/h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

s3_bucket() { # NAME lock|plain
	if [ "$2" = lock ]; then
		s3req PUT "/$1" -H "x-amz-bucket-object-lock-enabled: true"
	else
		s3req PUT "/$1"
	fi
	[ "$HTTP" = 200 ] || fail "create bucket $1: HTTP $HTTP $(cat "$T/b")"
}

# s3_store BUCKET PATH PASSPHRASE: start the server, create BUCKET with
# object lock, and set S to s3://BUCKET/PATH, a store to be made with that
# passphrase (AMBER_PASSPHRASE; the cache in $T/cache).
s3_store() {
	s3_start
	s3_bucket "$1" lock
	export AMBER_PASSPHRASE="$3" XDG_CACHE_HOME="$T/cache"
	S=s3://$1/$2
}

# s3_prune_store BUCKET PASSPHRASE: s3_store BUCKET st PASSPHRASE under
# the lifecycle rule (s3_lifecycle) and the prune user (s3_prune_user),
# with a lifecycle "day" of RGW_LC_DEBUG_INTERVAL seconds (3 unless set).
s3_prune_store() {
	export RGW_LC_DEBUG_INTERVAL=${RGW_LC_DEBUG_INTERVAL:-3}
	s3_store "$1" st "$2"
	s3_lifecycle "$1" st/
	s3_prune_user "$1"
}

# s3_kept MONTH DAY...: from a fresh index (the cache removed), $S holds
# exactly the snapshots of these days (named 2026-MONTH-0DAYT12:00:00Z),
# and each restores byte for byte as the copy $T/dayDAY.
s3_kept() {
	local m=$1 d
	shift
	rm -rf "$T/cache"
	"$AMBER" snapshots "$S" >"$T/out" 2>&1 || fail "snapshots: $(cat "$T/out")"
	[ "$(wc -l <"$T/out")" = $# ] || { cat "$T/out"; fail "not $# snapshots"; }
	for d in "$@"; do
		"$AMBER" restore "$S" "2026-$m-0${d}T12:00:00Z" "$T/r$d" -q || fail "restore day $d"
		diff -r "$T/day$d" "$T/r$d/files/src" >&2 || fail "day $d differs after the prune"
	done
}

# s3_md5 STRING: its Content-MD5 (S3 requires one on lifecycle and lock
# calls).
s3_md5() { printf %s "$1" | openssl md5 -binary | base64; }

# s3_lifecycle BUCKET PREFIX: the lifecycle rule of the README (markers'
# versions removed after a lifecycle day, lone markers removed).
s3_lifecycle() {
	local lc="<LifecycleConfiguration><Rule><ID>amber</ID><Filter><Prefix>$2</Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>"
	s3req PUT "/$1?lifecycle=" --data-binary "$lc" -H "Content-MD5: $(s3_md5 "$lc")"
	[ "$HTTP" = 200 ] || fail "put lifecycle: $HTTP $(cat "$T/b")"
}

# s3_lifecycle_wait BUCKET PREFIX-ENCODED SECONDS: until no delete marker
# and no noncurrent version is left under the prefix.
s3_lifecycle_wait() {
	local t0=$SECONDS
	while :; do
		s3req GET "/$1?prefix=$2&versions="
		tr -d '\r\n' <"$T/b" | grep -q '<DeleteMarker>\|<IsLatest>false' || break
		[ $((SECONDS - t0)) -lt "$3" ] || fail "lifecycle did not finish in $3 s"
		sleep 1
	done
	echo "lifecycle finished in $((SECONDS - t0)) s"
}

# s3_user UID ACCESS SECRET: another RGW user.
s3_user() {
	radosgw-admin -c "$CEPH_CONF" user create --uid="$1" --display-name="$1" \
	    --access-key="$2" --secret-key="$3" >/dev/null 2>&1 || fail "user create $1"
}

# s3_ingest_statement BUCKET: the README's ingest user's statement of a
# bucket policy (user "ingest": write, read, lengthen locks; no delete),
# for a test's policy to begin with.
s3_ingest_statement() {
	printf '%s' '{"Sid": "AmberIngest", "Effect": "Allow",
 "Principal": {"AWS": ["arn:aws:iam:::user/ingest"]},
 "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:ListBucket",
  "s3:ListBucketVersions", "s3:GetBucketObjectLockConfiguration",
  "s3:GetObjectRetention", "s3:PutObjectRetention"],'
	printf '\n "Resource": ["arn:aws:s3:::%s", "arn:aws:s3:::%s/*"]}' "$1" "$1"
}

# s3_ingest_policy BUCKET: set a bucket policy of the ingest statement
# (s3_ingest_statement) and the statements read from stdin (JSON objects
# separated by commas), kept in $T/policy.json.
s3_ingest_policy() {
	{ printf '{"Version": "2012-10-17", "Statement": ['
	  s3_ingest_statement "$1"
	  printf ',\n'
	  cat
	  printf ']}\n'
	} >"$T/policy.json"
	s3_policy "$1" "$T/policy.json"
}

# s3_policy BUCKET FILE: set the bucket policy in FILE.
s3_policy() {
	s3req PUT "/$1?policy=" --data-binary @"$2"
	[ "$HTTP" = 204 ] || [ "$HTTP" = 200 ] || fail "put policy: $HTTP $(cat "$T/b")"
}

# s3_prune_user BUCKET: the README's prune credentials (user "prune":
# delete markers, never a version delete; tests/s3/lifecycle.sh shows RGW
# enforces the Deny) as the bucket policy, the owner ("amber") allowed to
# read what prune writes, and to lengthen the locks of the packs a repack
# writes when it ingests; prune() runs amber prune as that user.
PK=PRUNE000000000000000A PS=prune0secret00000000000000000000000000000
s3_prune_user() {
	s3_user prune $PK $PS
	cat >"$T/policy.json" <<P
{"Version": "2012-10-17", "Statement": [{"Sid": "AmberPrune", "Effect": "Allow",
 "Principal": {"AWS": ["arn:aws:iam:::user/prune"]},
 "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket",
  "s3:ListBucketVersions", "s3:GetBucketObjectLockConfiguration",
  "s3:GetObjectRetention", "s3:PutObject", "s3:PutObjectRetention",
  "s3:DeleteObject", "s3:GetLifecycleConfiguration"],
 "Resource": ["arn:aws:s3:::$1", "arn:aws:s3:::$1/*"]},
 {"Sid": "OwnerReadsWhatPruneWrote", "Effect": "Allow",
 "Principal": {"AWS": ["arn:aws:iam:::user/amber"]},
 "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention",
  "s3:PutObjectRetention"],
 "Resource": ["arn:aws:s3:::$1/*"]},
 {"Sid": "AmberPruneNoVersionDelete", "Effect": "Deny",
 "Principal": {"AWS": ["arn:aws:iam:::user/prune"]},
 "Action": ["s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration",
  "s3:PutBucketPolicy"],
 "Resource": ["arn:aws:s3:::$1", "arn:aws:s3:::$1/*"]}]}
P
	s3_policy "$1" "$T/policy.json"
}
prune() { AWS_ACCESS_KEY_ID=$PK AWS_SECRET_ACCESS_KEY=$PS "$AMBER" prune "$@"; }

# s3_versions BUCKET PREFIX-ENCODED: $T/v, "V|M latest key id" a line
# (versions and delete markers); $T/cur, "key size" of each current
# version.
s3_versions() {
	s3req GET "/$1?prefix=$2&versions="
	[ "$HTTP" = 200 ] || fail "list versions: $HTTP"
	{ tr -d '\r\n' <"$T/b"; echo; } | sed -e 's/<Version>/\nV /g' -e 's/<DeleteMarker>/\nM /g' |
	    sed -n 's/^\([VM]\) .*<Key>\([^<]*\)<\/Key><VersionId>\([^<]*\)<\/VersionId><IsLatest>\([^<]*\)<.*/\1 \4 \2 \3/p' >"$T/v"
	{ tr -d '\r\n' <"$T/b"; echo; } | sed -e 's/<Version>/\nV /g' |
	    sed -n 's/^V .*<Key>\([^<]*\)<\/Key>.*<IsLatest>true<.*<Size>\([0-9]*\)<.*/\1 \2/p' >"$T/cur"
}
