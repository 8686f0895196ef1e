#!/usr/bin/env bash
# Attack (issue 14, items 3 and 5) on the test RGW: W1 holds an ingest
# key and S3 PutObject on the store's prefix (the README's ingest
# policy).  It PUTs junk at revoked/<its key id>, the name a revocation
# took before, and an oversized manifest and key object (4 MiB + 1 and
# 4 KiB + 1 bytes: ranged GETs must stop at the cap).  The owner's
# revocation must go through, the later snapshots of the key be flagged,
# and every command name the junk and go on.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/../s3/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_store rev st "revoke test"
mkdir -p "$T/src"
echo data >"$T/src/f"
"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 -q ||
    fail "init"
"$AMBER" key new-ingest "$S" --label rogue --output "$T/ing.key" -q ||
    fail "new-ingest"
id=$(sed -n 's/^id //p' "$T/ing.key")
# Snapshot times after the key was registered, one second apart (an
# ingest key's snapshot dated before its registration is flagged).
T1=$(date -u +%Y-%m-%dT%H:%M:%SZ)
env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/ing.key" \
    --dir "src=$T/src" --time "$T1" -q || fail "ingest 1"

# W1's objects.
printf 'AMBRREV1 junk' >"$T/junk"
s3req PUT "/rev/st/revoked/$id" --data-binary @"$T/junk"
[ "$HTTP" = 200 ] || fail "PUT revoked/$id: HTTP $HTTP"
head -c $((4 * 1024 * 1024 + 1)) /dev/zero >"$T/big"
snap=$(sha256sum <"$T/big" | cut -c1-64)
s3req PUT "/rev/st/snapshots/$snap" --data-binary @"$T/big"
[ "$HTTP" = 200 ] || fail "PUT snapshots/$snap: HTTP $HTTP"
head -c 4097 /dev/zero >"$T/bigkey"
kid=$(printf big | sha256sum | cut -c1-32)
s3req PUT "/rev/st/keys/$kid" --data-binary @"$T/bigkey"
[ "$HTTP" = 200 ] || fail "PUT keys/$kid: HTTP $HTTP"

"$AMBER" key revoke "$S" "$id" 2>"$T/err" ||
    fail "revoke blocked: $(cat "$T/err")"
"$AMBER" key list "$S" >"$T/out" 2>"$T/err" || fail "key list"
grep -q 'rogue \[revoked ' "$T/out" || fail "not revoked: $(cat "$T/out")"
grep -q "revoked/$id: revocation record fails authentication" "$T/err" ||
    fail "junk not named: $(cat "$T/err")"
grep -q "keys/$kid: .*larger than" "$T/err" ||
    fail "big key object not named: $(cat "$T/err")"

while [ "$(date -u +%Y-%m-%dT%H:%M:%SZ)" = "$T1" ]; do sleep 0.2; done
T2=$(date -u +%Y-%m-%dT%H:%M:%SZ)
env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/ing.key" \
    --dir "src=$T/src" --time "$T2" -q || fail "ingest 2"
rm -rf "$XDG_CACHE_HOME"
"$AMBER" snapshots "$S" >"$T/out" 2>"$T/err" || fail "snapshots: $(cat "$T/err")"
grep -q "snapshots/$snap: .*larger than" "$T/err" ||
    fail "big manifest not named: $(cat "$T/err")"
grep -q "^$T1 .*revoked" "$T/out" &&
    fail "a snapshot from before the revocation is flagged: $(cat "$T/out")"
grep -q "^$T2 .*\\[revoked\\]" "$T/out" ||
    fail "a snapshot after the revocation is not flagged: $(cat "$T/out")"
"$AMBER" cat "$S" latest:files/src/f >"$T/out" || fail "cat latest"
[ "$(cat "$T/out")" = data ] || fail "cat: $(cat "$T/out")"
exit 0
