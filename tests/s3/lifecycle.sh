#!/usr/bin/env bash
# tests/s3/lifecycle.sh: the facts about RGW (16.2) that amber's freeing of
# space on S3 relies on, checked with curl alone (amber-store(5), PRUNING):
#  1. a NoncurrentVersionExpiration rule removes noncurrent versions whose
#     Object Lock retain-until has passed, and skips those still locked;
#  2. an Expiration rule on current versions puts delete markers on locked
#     objects too (so amber's doctor warns about such a rule), and the
#     version under the marker stays readable by versionId;
#  3. ExpiredObjectDeleteMarker removes a marker left with no version;
#  4. a bucket policy that allows s3:DeleteObject and denies
#     s3:DeleteObjectVersion is enforced: such credentials add delete
#     markers, and cannot delete a version, even one whose lock has ended.
# A lifecycle "day" lasts RGW_LC_DEBUG_INTERVAL seconds here.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
DAY=${LC_DAY:-4}
export RGW_LC_DEBUG_INTERVAL=$DAY
s3_start
s3_bucket lkb lock

until_s() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
put() { # KEY SECONDS-LOCKED [user args]: a COMPLIANCE version; prints its id
	local k=$1 s=$2
	shift 2
	s3req PUT "/lkb/$k" --data-binary "data of $k" -H "Content-MD5: $(printf 'data of %s' "$k" | openssl md5 -binary | base64)" \
	    -H "x-amz-object-lock-mode: COMPLIANCE" -H "x-amz-object-lock-retain-until-date: $(until_s "$s")" "$@"
	[ "$HTTP" = 200 ] || fail "put $k: $HTTP $(cat "$T/b")"
	s3hdr x-amz-version-id
}
versions() { # PREFIX -> $T/v: one line a version or marker: kind key id
	s3req GET "/lkb?prefix=$1&versions="
	[ "$HTTP" = 200 ] || fail "list versions: $HTTP"
	{ tr -d '\r\n' <"$T/b"; echo; } | sed -e 's/<Version>/\nV /g' -e 's/<DeleteMarker>/\nM /g' |
	    sed -n 's/^\([VM]\) .*<Key>\([^<]*\)<\/Key><VersionId>\([^<]*\)<.*/\1 \2 \3/p' >"$T/v"
}
has() { grep -q "^$1 $2 $3\$" "$T/v"; }

# nc/a: v1 noncurrent, lock ended.  nc/b: v1 noncurrent, still locked.
# nc/c: locked, under a delete marker.  nc/d: lock ended, under a marker.
a1=$(put nc/a 2); put nc/a 3600 >/dev/null
b1=$(put nc/b 3600); put nc/b 3600 >/dev/null
c1=$(put nc/c 3600)
s3req DELETE /lkb/nc/c; [ "$HTTP" = 204 ] || fail "marker on nc/c: $HTTP"
d1=$(put nc/d 2)
s3req DELETE /lkb/nc/d; [ "$HTTP" = 204 ] || fail "marker on nc/d: $HTTP"
# cur/e: a locked current version under an Expiration rule.
e1=$(put cur/e 3600)

lc='<LifecycleConfiguration>
<Rule><ID>nc</ID><Filter><Prefix>nc/</Prefix></Filter><Status>Enabled</Status>
<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>
<Rule><ID>cur</ID><Filter><Prefix>cur/</Prefix></Filter><Status>Enabled</Status>
<Expiration><Days>1</Days></Expiration></Rule>
</LifecycleConfiguration>'
s3req PUT "/lkb?lifecycle=" --data-binary "$lc" -H "Content-MD5: $(s3_md5 "$lc")"
[ "$HTTP" = 200 ] || fail "put lifecycle: $HTTP $(cat "$T/b")"
s3req GET "/lkb?lifecycle="
[ "$HTTP" = 200 ] || fail "get lifecycle: $HTTP"
grep -q '<NoncurrentDays>1</NoncurrentDays>' "$T/b" || fail "lifecycle not read back: $(cat "$T/b")"

# Wait for the lifecycle passes (one each DAY seconds) to do all they will.
t0=$SECONDS
while :; do
	versions nc%2F
	! has V nc/a "$a1" && ! has V nc/d "$d1" && ! grep -q '^M nc/d ' "$T/v" && break
	[ $((SECONDS - t0)) -lt $((DAY * 15)) ] || break
	sleep 1
done
echo "lifecycle took $((SECONDS - t0)) s (a day is $DAY s)"
cat "$T/v"
has V nc/a "$a1" && fail "1: noncurrent nc/a v1, lock ended, not removed"
has V nc/b "$b1" || fail "1: noncurrent nc/b v1, locked, was removed"
has V nc/c "$c1" || fail "1: nc/c, locked under a marker, was removed"
has V nc/d "$d1" && fail "1: nc/d, lock ended under a marker, not removed"
grep -q '^M nc/c ' "$T/v" || fail "3: the marker over the locked nc/c went"
grep -q '^M nc/d ' "$T/v" && fail "3: the lone marker of nc/d was not removed"
s3req GET "/lkb/nc/c?versionId=$c1"
[ "$HTTP" = 200 ] && [ "$(cat "$T/b")" = "data of nc/c" ] || fail "nc/c by version: $HTTP"

versions cur%2F
cat "$T/v"
grep -q '^M cur/e ' "$T/v" || fail "2: Expiration put no delete marker on the locked cur/e"
has V cur/e "$e1" || fail "2: the locked cur/e version went"
s3req GET /lkb/cur/e
[ "$HTTP" = 404 ] || fail "2: cur/e by key under a marker: $HTTP, want 404"
s3req GET "/lkb/cur/e?versionId=$e1"
[ "$HTTP" = 200 ] || fail "2: cur/e by version: $HTTP"

# 4: the prune user's policy.
PK=PRUNE000000000000000A PS=prune0secret00000000000000000000000000000
s3_user prune $PK $PS
cat >"$T/policy.json" <<'P'
{"Version": "2012-10-17", "Statement": [{"Sid": "AmberPrune", "Effect": "Allow",
 "Principal": {"AWS": ["arn:aws:iam:::user/prune"]},
 "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:ListBucket",
  "s3:ListBucketVersions", "s3:GetObjectRetention", "s3:DeleteObject",
  "s3:GetLifecycleConfiguration", "s3:GetBucketObjectLockConfiguration"],
 "Resource": ["arn:aws:s3:::lkb", "arn:aws:s3:::lkb/*"]},
 {"Sid": "AmberPruneNoVersions", "Effect": "Deny",
 "Principal": {"AWS": ["arn:aws:iam:::user/prune"]},
 "Action": ["s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration",
  "s3:PutBucketPolicy", "s3:BypassGovernanceRetention"],
 "Resource": ["arn:aws:s3:::lkb", "arn:aws:s3:::lkb/*"]}]}
P
s3_policy lkb "$T/policy.json"
f1=$(put p/f 1); g1=$(put p/g 1)
sleep 2
asprune() { AWS_ACCESS_KEY_ID=$PK AWS_SECRET_ACCESS_KEY=$PS s3req "$@"; }
asprune DELETE "/lkb/p/f?versionId=$f1"
[ "$HTTP" = 403 ] || fail "4: prune user deleted an unlocked version: $HTTP"
del='<Delete><Object><Key>p/f</Key><VersionId>'$f1'</VersionId></Object></Delete>'
asprune POST "/lkb?delete=" --data-binary "$del" -H "Content-MD5: $(s3_md5 "$del")"
grep -q '<Error>.*AccessDenied' "$T/b" || fail "4: multi-delete of a version by the prune user: $HTTP $(cat "$T/b")"
asprune DELETE "/lkb/p/f"
[ "$HTTP" = 204 ] || fail "4: prune user could not add a delete marker: $HTTP"
asprune PUT "/lkb?lifecycle=" --data-binary "$lc" -H "Content-MD5: $(s3_md5 "$lc")"
[ "$HTTP" = 403 ] || fail "4: prune user changed the lifecycle: $HTTP"
asprune GET "/lkb?lifecycle="
[ "$HTTP" = 200 ] || fail "4: prune user cannot read the lifecycle: $HTTP"
versions p%2F
has V p/f "$f1" || fail "4: p/f's version went"
# The owner, with no such Deny, can delete the unlocked version: the
# refusal above came from the policy, not from the lock.
s3req DELETE "/lkb/p/g?versionId=$g1"
[ "$HTTP" = 204 ] || fail "4: owner could not delete an unlocked version: $HTTP"
echo "lifecycle facts ok"
