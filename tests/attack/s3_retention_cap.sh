#!/usr/bin/env bash
# tests/attack/s3_retention_cap.sh: W1 (the ingest credentials) tries to
# lock junk for ten years.  The README's ingest bucket policy caps
# retain-until with s3:object-lock-remaining-retention-days; this test
# takes that policy from README.md as it is, applies it to the test RGW,
# and records what RGW does with the cap.
#
# What it asserts is what Ceph RGW 16.2 does, and what the README says
# of it: the condition is ignored (the ten-year PUT and the ten-year
# PutObjectRetention both succeed), while the rest of the policy holds
# (the ingest user ingests, and cannot delete a version).  Should a later
# RGW enforce the cap, this test fails so that the README gets corrected.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/../s3/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_store capb st "cap test"
IK=INGEST0000000000000A
IS=ingest0secret0000000000000000000000000000

# The policy of the README, with this test's users and bucket.
awk '/^A bucket policy that does this/ { on = 1 } on && /^```json/ { p = 1; next }
    p && /^```/ { exit } p' "$top/README.md" >"$T/readme.json"
[ -s "$T/readme.json" ] || fail "no policy found in README.md"
grep -q '"s3:object-lock-remaining-retention-days"' "$T/readme.json" ||
    fail "the README's ingest policy does not cap retain-until"
cap=$(sed -n 's/.*"s3:object-lock-remaining-retention-days": *"\([0-9]*\)".*/\1/p' "$T/readme.json")
[ -n "$cap" ] || fail "no numeric cap in the README's policy"
sed -e 's#arn:aws:iam::111122223333:user/amber-ingest#arn:aws:iam:::user/ingest#g' \
    -e 's#arn:aws:iam::111122223333:user/amber-restore#arn:aws:iam:::user/reader#g' \
    -e 's#arn:aws:s3:::backups/amber/#arn:aws:s3:::capb/st/#g' \
    -e 's#arn:aws:s3:::backups#arn:aws:s3:::capb#g' "$T/readme.json" >"$T/policy.json"
grep -q '111122223333\|backups' "$T/policy.json" && fail "placeholders left: $(cat "$T/policy.json")"

for u in ingest:$IK:$IS reader:READER00000000000000:reader0secret0000000000000000000000000000; do
	IFS=: read -r uid ak sk <<<"$u"
	radosgw-admin -c "$CEPH_CONF" user create --uid="$uid" --display-name="$uid" \
	    --access-key="$ak" --secret-key="$sk" >/dev/null 2>&1 || fail "user create $uid"
done
"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init"
s3req PUT "/capb?policy=" --data-binary @"$T/policy.json"
[ "$HTTP" = 204 ] || [ "$HTTP" = 200 ] || fail "put the README's policy: $HTTP $(cat "$T/b")"

# The policy lets the ingest user do its work (amber locks for 2 days).
mkdir -p "$T/src"
echo data >"$T/src/a"
AWS_ACCESS_KEY_ID=$IK AWS_SECRET_ACCESS_KEY=$IS \
    "$AMBER" ingest "$S" --dir src="$T/src" -q 2>"$T/err" ||
    fail "ingest as the ingest user under the README's policy: $(cat "$T/err")"

# W1 locks junk for ten years, past the cap.
AWS_ACCESS_KEY_ID=$IK AWS_SECRET_ACCESS_KEY=$IS
decade=$(date -u -d '+3650 day' +%Y-%m-%dT%H:%M:%SZ)
inside=$(date -u -d "+$((cap - 2)) day" +%Y-%m-%dT%H:%M:%SZ)
printf 'junk' >"$T/junk"
md5=$(openssl md5 -binary <"$T/junk" | base64)
lockput() { # KEY UNTIL
	s3req PUT "/capb/st/$1" --data-binary @"$T/junk" -H "Content-MD5: $md5" \
	    -H "x-amz-object-lock-mode: COMPLIANCE" -H "x-amz-object-lock-retain-until-date: $2"
}
lockput packs/00/inside "$inside"
[ "$HTTP" = 200 ] || fail "a lock within the cap was refused: HTTP $HTTP $(cat "$T/b")"
lockput packs/00/decade "$decade"
put_decade=$HTTP
body="<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>$decade</RetainUntilDate></Retention>"
s3req PUT "/capb/st/packs/00/inside?retention=" --data-binary "$body" \
    -H "Content-MD5: $(printf '%s' "$body" | openssl md5 -binary | base64)"
retention_decade=$HTTP
s3req GET "/capb/st/packs/00/decade?retention="
echo "# RGW: PUT locked 3650 days past a $cap-day cap: HTTP $put_decade;" \
    "PutObjectRetention to 3650 days: HTTP $retention_decade; retention now: $(grep -o '<RetainUntilDate>[^<]*' "$T/b")"
if [ "$put_decade" = 403 ] && [ "$retention_decade" = 403 ]; then
	fail "RGW now enforces s3:object-lock-remaining-retention-days: correct README.md (S3 and Object Lock) and this test"
fi
[ "$put_decade" = 200 ] || fail "ten-year PUT: HTTP $put_decade (neither what RGW 16.2 did nor a refusal by the cap)"
[ "$retention_decade" = 200 ] || fail "ten-year PutObjectRetention: HTTP $retention_decade"
grep -q "<RetainUntilDate>${decade%%T*}" "$T/b" || fail "the ten-year lock is not there: $(cat "$T/b")"

# The rest of the README's policy holds for W1: no version can be deleted.
s3req GET "/capb?prefix=st%2Fpacks%2F00%2Fdecade&versions="
v=$(grep -o '<VersionId>[^<]*' "$T/b" | head -n 1 | cut -d'>' -f2)
s3req DELETE "/capb/st/packs/00/decade?versionId=$v"
[ "$HTTP" = 403 ] || fail "W1 deleted a version: HTTP $HTTP"
echo "ok: RGW 16.2 ignores the retention cap of the README's policy, as the README says"
