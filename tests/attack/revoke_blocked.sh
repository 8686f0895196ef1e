#!/bin/sh
# Attack (issue 14, item 3): W1, holding an ingest key and write access,
# writes junk at the name a revocation of its key would take
# (revoked/<key id>, the name of amber 0.x's records) before the owner
# revokes it.  The revocation must still go through (its record's name
# commits to its content, which W1 cannot compute), the junk must be
# ignored with a warning naming it, and the key's later snapshots must
# be flagged [revoked] while those made before stay trusted.
. "$(dirname "$0")/../cli/lib.sh"
new_store_src
printf 'data\n' >"$D/f"
expect 0 "$AMBER" key new-ingest "$S" --label rogue --output "$T/ing.key"
id=$(sed -n 's/^id //p' "$T/ing.key")
[ ${#id} -eq 32 ] || fail "no key id in the key file"
# Snapshot times after the key was registered, one second apart (an
# ingest key's snapshot dated before its registration is flagged).
T1=$(date -u +%Y-%m-%dT%H:%M:%SZ)
expect 0 env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/ing.key" \
    --dir "src=$D" --time "$T1"

# W1 plants junk under the old fixed name (and one that looks like a
# record of the new kind, with a made-up hash).
mkdir -p "$S/revoked"
printf 'AMBRREV1 not a revocation' >"$S/revoked/$id"
printf 'junk' >"$S/revoked/$id.$(printf x | sha256sum | cut -c1-64)"

expect 0 "$AMBER" key revoke "$S" "$id"
expect 0 "$AMBER" key list "$S"
grep -q 'rogue \[revoked ' "$T/out" || fail "not revoked: $(cat "$T/out")"
# The junk is named when the registry is read.
err_has "revoked/$id"
# Exactly one new record, named revoked/<id>.<SHA-256 of its bytes>.
n=0
for f in "$S/revoked/$id".*; do
	h=${f##*.}
	[ "$(sha256sum <"$f" | cut -c1-64)" = "$h" ] && n=$((n + 1))
done
[ $n -eq 1 ] || fail "$n revocation records named by their hash"

while [ "$(date -u +%Y-%m-%dT%H:%M:%SZ)" = "$T1" ]; do sleep 0.2; done
T2=$(date -u +%Y-%m-%dT%H:%M:%SZ)
expect 0 env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/ing.key" \
    --dir "src=$D" --time "$T2"
expect 0 "$AMBER" snapshots "$S"
grep -q "^$T1 .*revoked" "$T/out" &&
    fail "a snapshot from before the revocation is flagged: $(cat "$T/out")"
grep -q "^$T2 .*\\[revoked\\]" "$T/out" ||
    fail "a snapshot after the revocation is not flagged: $(cat "$T/out")"
# ... and never becomes latest.
expect 0 "$AMBER" cat "$S" latest:files/src/f
expect 0 "$AMBER" snapshots "$S" --json
python3 - "$T/out" "$T1" "$T2" <<'PY' || fail "snapshots --json: $(cat "$T/out")"
import json, sys
v = json.load(open(sys.argv[1]))
r = {s["name"]: s["revoked"] for s in v}
assert r[sys.argv[2]] is False, r
assert r[sys.argv[3]] is True, r
PY

# A second revocation is refused: the key is revoked already.
expect 1 "$AMBER" key revoke "$S" "$id"
err_has "revoked already"
exit 0
