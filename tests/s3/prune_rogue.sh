#!/usr/bin/env bash
# tests/s3/prune_rogue.sh: a rogue ingest host (an ingest key and the
# README's least-privilege ingest credentials) against a store whose
# policy keeps the last 2 snapshots of each key, on S3 with the README's
# lifecycle rule.  It tries to shorten the policy (a policy object it
# cannot sign; amber policy set with its key), to flood out the genuine
# snapshots (many junk snapshots of its own), and to make kept data expire
# (a delete marker, a shorter lock, a record of expiry it cannot sign).
# After the locks end, a prune by the passphrase holder and the lifecycle
# rule: the genuine key's last 2 snapshots restore byte for byte, the
# policy is unchanged, verify is clean.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
export RGW_LC_DEBUG_INTERVAL=3
s3_store rgb st "rogue test"
s3_lifecycle rgb st/
IK=INGEST0000000000000A IS=ingest0secret0000000000000000000000000000
s3_user ingest $IK $IS
s3_ingest_policy rgb <<'P'
 {"Sid": "OwnerReads", "Effect": "Allow",
 "Principal": {"AWS": ["arn:aws:iam:::user/amber"]},
 "Action": ["s3:GetObject", "s3:GetObjectVersion"],
 "Resource": ["arn:aws:s3:::rgb/*"]},
 {"Sid": "IngestDeletesNothing", "Effect": "Deny",
 "Principal": {"AWS": ["arn:aws:iam:::user/ingest"]},
 "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration",
  "s3:PutBucketPolicy", "s3:BypassGovernanceRetention"],
 "Resource": ["arn:aws:s3:::rgb", "arn:aws:s3:::rgb/*"]}
P
asingest() { AWS_ACCESS_KEY_ID=$IK AWS_SECRET_ACCESS_KEY=$IS "$@"; }
asingest_req() { AWS_ACCESS_KEY_ID=$IK AWS_SECRET_ACCESS_KEY=$IS s3req "$@"; }

"$AMBER" init "$S" --retention 8s --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init"
"$AMBER" policy set "$S" --keep-last 2 >/dev/null || fail "policy set"
"$AMBER" policy show "$S" >"$T/policy.before" || fail "policy show"
"$AMBER" key new-ingest "$S" --out "$T/good.key" >/dev/null 2>&1 || fail "new-ingest good"
"$AMBER" key new-ingest "$S" --out "$T/rogue.key" >/dev/null 2>&1 || fail "new-ingest rogue"

mkdir -p "$T/src"
for d in 1 2 3; do
	head -c 60000 /dev/urandom >"$T/src/day$d"
	asingest "$AMBER" ingest "$S" --key-file "$T/good.key" --dir src="$T/src" \
	    >"$T/ing" 2>&1 || fail "genuine ingest $d: $(cat "$T/ing")"
	id[$d]=$(sed -n 's/^snapshot .* (\([0-9a-f]*\)) committed.*/\1/p' "$T/ing")
	[ -n "${id[$d]}" ] || fail "no snapshot id in: $(cat "$T/ing")"
	cp -a "$T/src" "$T/day$d"
	sleep 1
done

# Rogue: a flood of junk snapshots, newer than the genuine ones.
mkdir -p "$T/junk"
for j in 1 2 3 4 5 6; do
	head -c 3000 /dev/urandom >"$T/junk/j"
	asingest "$AMBER" ingest "$S" --key-file "$T/rogue.key" --dir junk="$T/junk" \
	    -q || fail "rogue ingest $j"
	sleep 1
done
# Rogue: a shorter policy, which it cannot sign.
asingest "$AMBER" policy set "$S" --key-file "$T/rogue.key" --keep-last 1 >/dev/null 2>&1 &&
    fail "an ingest key set a policy"
head -c 120 /dev/urandom >"$T/forged"
hex=$(sha256sum "$T/forged" | cut -c1-64)
asingest_req PUT "/rgb/st/policies/$hex" --data-binary @"$T/forged"
[ "$HTTP" = 200 ] || fail "rogue could not even add an object: $HTTP"
# Rogue: hide or shorten what the genuine key's snapshots need, and
# claim (unsigned) that they expired.
s3req GET "/rgb?prefix=st%2Fpacks%2F&versions="
pk=$(grep -o '<Key>st/packs/[^<]*' "$T/b" | head -n 1 | cut -c6-)
pv=$(tr -d '\r\n' <"$T/b" | grep -o "<Key>$pk</Key><VersionId>[^<]*" | sed 's/.*<VersionId>//')
asingest_req DELETE "/rgb/$pk"
[ "$HTTP" = 403 ] || fail "rogue put a delete marker: $HTTP"
body="<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>$(date -u -d '@'$(( $(date +%s) + 2 )) +%Y-%m-%dT%H:%M:%SZ)</RetainUntilDate></Retention>"
asingest_req PUT "/rgb/$pk?retention=&versionId=$pv" --data-binary "$body" \
    -H "Content-MD5: $(s3_md5 "$body")"
[ "$HTTP" = 403 ] || fail "rogue shortened a lock: $HTTP"
head -c 200 /dev/urandom >"$T/record"
asingest_req PUT "/rgb/st/pruned/$(sha256sum "$T/record" | cut -c1-64)" --data-binary @"$T/record"

t_last=$(date +%s)
"$AMBER" policy show "$S" >"$T/policy.after" 2>/dev/null || fail "policy show after"
cmp -s "$T/policy.before" "$T/policy.after" || fail "the policy changed: $(cat "$T/policy.after")"

# The passphrase holder prunes once every lock has ended.
sleep $((t_last + 17 - $(date +%s)))
"$AMBER" prune "$S" --grace 0s --json >"$T/run.json" 2>"$T/err" || fail "prune: $(cat "$T/err")"
python3 - "$T/run.json" <<'PY' || fail "prune figures"
import json, sys
r = json.load(open(sys.argv[1]))
print({k: r[k] for k in ("snapshots_kept", "snapshots", "packs", "delete_markers", "locked")})
# 3 genuine + 6 rogue; each key keeps its last 2.
assert r["snapshots_kept"] == 4 and r["snapshots"] == 5, r
PY
s3_lifecycle_wait rgb st%2F 60
rm -rf "$T/cache"
for d in 2 3; do
	"$AMBER" restore "$S" "${id[$d]}" "$T/r$d" -q || fail "restore genuine day $d"
	diff -r "$T/day$d" "$T/r$d/files/src" >&2 || fail "genuine day $d differs"
done
"$AMBER" restore "$S" "${id[1]}" "$T/r1" -q 2>/dev/null && fail "day 1 should have expired"
"$AMBER" verify "$S" --read-data >"$T/out" 2>&1 || { cat "$T/out"; fail "verify"; }
echo "s3 prune rogue ok"
