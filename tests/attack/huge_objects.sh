#!/bin/sh
# Attack (issue 14, item 5): W2 (no key, write access) adds sparse 1 TiB
# objects where amber reads whole objects: a manifest (snapshots/<hex>),
# a key object (keys/<hex>) and a revocation record (revoked/<hex>).
# Every command must go on working, naming each oversized object as
# damage, instead of failing with "out of memory" (or reading 1 TiB).
. "$(dirname "$0")/../cli/lib.sh"
new_store_src
printf 'one\n' >"$D/f"
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time 2026-11-27T03:00:00Z
printf 'two\n' >"$D/f"
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time 2026-11-27T04:00:00Z

# The attacker's objects, under well-formed names.
snap=$(printf huge | sha256sum | cut -c1-64)
kid=$(printf huge | sha256sum | cut -c1-32)
mkdir -p "$S/revoked"
truncate -s 1T "$S/snapshots/$snap" "$S/keys/$kid" "$S/revoked/$kid" ||
    { echo "no sparse files here" >&2; exit 77; }




# From the index as it was, and from a fresh one.
for fresh in no yes; do
	[ $fresh = yes ] && rm -rf "$XDG_CACHE_HOME"
	expect 0 "$AMBER" snapshots "$S"
	out_has 2026-11-27T03:00:00Z
	out_has 2026-11-27T04:00:00Z
	err_has "snapshots/$snap"
	err_has "keys/$kid"
	err_has "revoked/$kid"
	expect 0 "$AMBER" cat "$S" latest:files/src/f
	[ "$(cat "$T/out")" = two ] || fail "content: $(cat "$T/out")"
	expect 0 "$AMBER" ls "$S" 2026-11-27T03:00:00Z
	expect 0 "$AMBER" key list "$S"
	out_has "$(echo "$kid" | cut -c1-16) damaged"
done
expect 0 "$AMBER" index rebuild "$S"
# verify names the manifest as damage (exit 5), and reads no 1 TiB.
expect 5 "$AMBER" verify "$S"
out_has "snapshots/$snap"
expect 5 "$AMBER" verify "$S" --read-data
out_has "snapshots/$snap"
exit 0
