#!/bin/sh
# W1 writes a manifest with no parents dated in the second of an existing
# snapshot: before this change it took that snapshot's name T (it came
# first in the DAG) and pushed the genuine one to T-2.  Now it is flagged
# parentless, comes after every trusted snapshot of that second, and the
# genuine snapshot keeps its name, on the old index and on a fresh one.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/attack/snap_common.inc"

S=$T/store
snap_store "$S"
# The store's first snapshot: the owner's import of old data.
expect 0 "$AMBER" ingest "$S" --dir "src=$T/src" --time 2026-01-01T00:00:00Z
expect 0 "$AMBER" key new-ingest "$S" --label host-a --output "$T/k"
key_ingest "$S" "$T/k" --dir "src=$T/src"
G=$ID
snap_list "$T/before.json" "$S"
name=$(snap_field "$T/before.json" "$G" name)
case $name in *Z) ;; *) fail "unexpected name $name" ;; esac

echo forged >"$T/src/f"
rogue_root "$S" "$T/k" --dir "src=$T/src" --time "$name"
R=$ID
names_kept "$S" "$G" "$R" "$name"
expect 0 "$AMBER" cat "$S" "latest:files/src/f"
[ "$(cat "$T/out")" = genuine ] || fail "latest is the rogue snapshot"
expect 0 "$AMBER" cat "$S" "$name:files/src/f"
[ "$(cat "$T/out")" = genuine ] || fail "$name is the rogue snapshot"
exit 0
