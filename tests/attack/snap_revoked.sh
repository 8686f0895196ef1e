#!/bin/sh
# A key is revoked after its host was found to write rogue snapshots.
# Its snapshots from after the revocation are flagged revoked and never
# latest (as before); so, now, is every snapshot it made before that was
# flagged already (here one dated before the key existed), which the
# revocation used to accept for good.  The writer shows as revoked.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/attack/snap_common.inc"

S=$T/store
snap_store "$S"
expect 0 "$AMBER" key new-ingest "$S" --label host-a --output "$T/k"
key_ingest "$S" "$T/k" --dir "src=$T/src"
H=$ID
echo forged >"$T/src/f"
key_ingest "$S" "$T/k" --dir "src=$T/src" --time 2020-01-01T00:00:00Z
B=$ID
kid=$(python3 -c 'import sys; print(open(sys.argv[1]).read().split("\nid ")[1][:32])' "$T/k")
expect 0 "$AMBER" key revoke "$S" "$kid"
key_ingest "$S" "$T/k" --dir "src=$T/src"
A=$ID
snap_list "$T/list.json" "$S"
[ "$(snap_field "$T/list.json" "$B" revoked)" = true ] ||
    fail "the revocation accepted a backdated snapshot: $(cat "$T/list.json")"
[ "$(snap_field "$T/list.json" "$H" revoked)" = false ] ||
    fail "a snapshot from before the revocation is flagged revoked"
[ "$(snap_field "$T/list.json" "$H" trusted)" = true ] ||
    fail "a good snapshot from before the revocation is not trusted"
[ "$(snap_field "$T/list.json" "$A" revoked)" = true ] ||
    fail "a snapshot after the revocation is not flagged"
[ "$(snap_field "$T/list.json" "$A" writer.revoked)" = true ] ||
    fail "the writer does not show as revoked"
expect 0 "$AMBER" cat "$S" latest:files/src/f
[ "$(cat "$T/out")" = genuine ] || fail "latest is a revoked key's snapshot"
exit 0
