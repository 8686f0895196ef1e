#!/usr/bin/env bash
# tests/s3/doctor.sh: `amber doctor` tells safe credentials from unsafe
# ones.  The bucket owner can put delete markers (a warning, exit 1); an
# ingest user restricted by the least-privilege bucket policy of
# the README (S3 and Object Lock) cannot do anything destructive (exit 0); a bucket
# without Object Lock is reported loudly.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_start
s3_bucket lkb lock
s3_bucket plain plain

# Owner: the lock holds, but a delete marker can be put; no default rule.
"$AMBER" doctor s3://lkb/st >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out" "$T/err"
[ $rc = 1 ] || fail "owner: exit $rc, want 1"
grep -q '^ok       delete an object version: AccessDenied' "$T/out" || fail "owner: version delete not refused"
grep -q '^ok       shorten an object.s retention: AccessDenied' "$T/out" || fail "owner: shortening not refused"
grep -q '^WARNING  put a delete marker: SUCCEEDED' "$T/out" || fail "owner: delete marker not reported"
grep -q '^WARNING  bucket default retention is COMPLIANCE: none' "$T/out" || fail "owner: missing default rule not reported"
grep -q '^WARNING  lifecycle removes versions under delete markers: NONE' "$T/out" || fail "owner: missing lifecycle not reported"
grep -q '^ok       lifecycle expires current versions: none' "$T/out" || fail "owner: no expiration rule, yet reported"
# The canary exists, locked, and our delete marker was taken away again.
s3req GET "/lkb?prefix=st%2Fdoctor%2F&versions="
grep -q '<Version><Key>st/doctor/canary-' "$T/b" || fail "no canary"
grep -q '<DeleteMarker>' "$T/b" && fail "doctor left its delete marker behind"

# The least-privilege ingest user of the README, and a default rule.
s3_user ingest INGEST0000000000000A ingest0secret0000000000000000000000000000
s3_user reader READER00000000000000 reader0secret0000000000000000000000000000
s3_ingest_policy lkb <<'P'
 {"Sid": "AmberRead", "Effect": "Allow",
 "Principal": {"AWS": ["arn:aws:iam:::user/reader"]},
 "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket",
  "s3:ListBucketVersions"],
 "Resource": ["arn:aws:s3:::lkb", "arn:aws:s3:::lkb/*"]}
P
rule='<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>'
s3req PUT "/lkb?object-lock=" --data-binary "$rule"
[ "$HTTP" = 200 ] || fail "put default rule: $HTTP"
AWS_ACCESS_KEY_ID=INGEST0000000000000A AWS_SECRET_ACCESS_KEY=ingest0secret0000000000000000000000000000 \
    "$AMBER" doctor s3://lkb/st >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out" "$T/err"
[ $rc = 0 ] || fail "ingest user: exit $rc, want 0"
[ "$(grep -c '^ok ' "$T/out")" = 6 ] || fail "ingest user: want 6 ok lines"
grep -q WARNING "$T/out" && fail "ingest user: unexpected warning"
AWS_ACCESS_KEY_ID=INGEST0000000000000A AWS_SECRET_ACCESS_KEY=ingest0secret0000000000000000000000000000 \
    "$AMBER" doctor --json -q s3://lkb/st >"$T/json" 2>"$T/err" || fail "--json: exit $?"
[ "$(grep -c '"unsafe": *false' "$T/json")" = 6 ] || fail "--json: $(cat "$T/json")"
grep -q '"http_status": *403, *"detail": *"AccessDenied"' "$T/json" || fail "--json fields: $(cat "$T/json")"
[ ! -s "$T/err" ] || fail "-q still printed: $(cat "$T/err")"

# The same least-privilege user can run amber itself: ingest, list, verify.
export AMBER_PASSPHRASE="doctor test" XDG_CACHE_HOME="$T/cache"
"$AMBER" init s3://lkb/st2 --retention 1d --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init st2"
mkdir -p "$T/src"
echo data >"$T/src/a"
AWS_ACCESS_KEY_ID=INGEST0000000000000A AWS_SECRET_ACCESS_KEY=ingest0secret0000000000000000000000000000 \
    "$AMBER" ingest s3://lkb/st2 --dir src="$T/src" -q || fail "ingest as the ingest user"
echo more >>"$T/src/a"
AWS_ACCESS_KEY_ID=INGEST0000000000000A AWS_SECRET_ACCESS_KEY=ingest0secret0000000000000000000000000000 \
    "$AMBER" ingest s3://lkb/st2 --dir src="$T/src" -q || fail "second ingest as the ingest user"
AWS_ACCESS_KEY_ID=INGEST0000000000000A AWS_SECRET_ACCESS_KEY=ingest0secret0000000000000000000000000000 \
    "$AMBER" verify s3://lkb/st2 --read-data || fail "verify as the ingest user"
[ "$("$AMBER" snapshots s3://lkb/st2 | wc -l)" = 2 ] || fail "want 2 snapshots"
# The reader of the README restores, and cannot write.
AWS_ACCESS_KEY_ID=READER00000000000000 AWS_SECRET_ACCESS_KEY=reader0secret0000000000000000000000000000 \
    "$AMBER" restore s3://lkb/st2 latest:files/src "$T/r" --index-dir "$T/ixr" 2>/dev/null ||
    fail "restore as the reader"
cmp "$T/src/a" "$T/r/src/a" || fail "reader restored other bytes"
AWS_ACCESS_KEY_ID=READER00000000000000 AWS_SECRET_ACCESS_KEY=reader0secret0000000000000000000000000000 \
    "$AMBER" ingest s3://lkb/st2 --dir src="$T/src" -q --index-dir "$T/ixr" 2>"$T/err"
rc=$?
[ $rc != 0 ] && [ $rc -lt 128 ] || fail "ingest as the reader: exit $rc"
grep -q 'access denied' "$T/err" || fail "reader ingest: no clear message: $(cat "$T/err")"

# No Object Lock at all.
"$AMBER" doctor s3://plain/st >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out" "$T/err"
[ $rc = 1 ] || fail "plain bucket: exit $rc, want 1"
grep -q '^WARNING  bucket has Object Lock: NO' "$T/out" || fail "plain bucket: no lock warning"

# Not an S3 store; no such bucket.
"$AMBER" doctor "$T" 2>/dev/null
[ $? = 2 ] || fail "local store: want exit 2"
"$AMBER" doctor s3://nobucket/x 2>"$T/err"
[ $? = 1 ] && grep -q 'no such bucket' "$T/err" || fail "missing bucket: $(cat "$T/err")"
echo ok
