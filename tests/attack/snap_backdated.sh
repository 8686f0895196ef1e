#!/bin/sh
# W1 backdates a snapshot with its ingest key (amber ingest --time, as
# any client could): before this change it showed as ordinary history,
# became latest when it was the newest, and nothing said which key wrote
# it.  Now it is flagged (before-key: dated before its key's
# registration; before-parent: dated before a parent), never latest, and
# amber snapshots (text and --json) names its writer; amber ingest warns.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/attack/snap_common.inc"

S=$T/store
snap_store "$S"
# The owner imports old data with the master key: trusted, not flagged.
expect 0 "$AMBER" ingest "$S" --dir "src=$T/src" --time 2019-01-01T00:00:00Z \
    --json
G=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' \
    "$T/out")
expect 0 "$AMBER" key new-ingest "$S" --label rogue-host --output "$T/k"

# W1: a snapshot dated 2020, after the genuine one, before its key existed.
echo forged >"$T/src/f"
key_ingest "$S" "$T/k" --dir "src=$T/src" --time 2020-06-01T00:00:00Z
R1=$ID
grep -q 'warning: --time is in the past' "$T/ingest.err" ||
    fail "no warning for --time in the past with an ingest key"
# Not latest, though the newest.
expect 0 "$AMBER" cat "$S" latest:files/src/f
[ "$(cat "$T/out")" = genuine ] || fail "latest is the backdated snapshot"
snap_list "$T/list.json" "$S"
[ "$(snap_field "$T/list.json" "$R1" before_key)" = true ] ||
    fail "a snapshot dated before its key is not flagged: $(cat "$T/list.json")"
[ "$(snap_field "$T/list.json" "$R1" trusted)" = false ] ||
    fail "the backdated snapshot is trusted"
[ "$(snap_field "$T/list.json" "$R1" writer.label)" = rogue-host ] ||
    fail "the writer's label is not shown"
kid=$(snap_field "$T/list.json" "$R1" writer.key)
[ "$(snap_field "$T/list.json" "$G" writer.master)" = true ] ||
    fail "the owner's snapshot is not shown as the master's"
[ "$(snap_field "$T/list.json" "$G" trusted)" = true ] ||
    fail "the owner's import is flagged"
expect 0 "$AMBER" snapshots "$S"
grep "^2020-06-01T00:00:00Z .*rogue-host@$(echo "$kid" | cut -c1-8) .*\[before-key\]" \
    "$T/out" >/dev/null || fail "text listing: $(cat "$T/out")"

# W1 again, with the honest parents a client names: dated before them.
expect 0 "$AMBER" ingest "$S" --dir "src=$T/src" --json
H=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' \
    "$T/out")
key_ingest "$S" "$T/k" --dir "src=$T/src" --time 2020-07-01T00:00:00Z
R2=$ID
snap_list "$T/list.json" "$S"
[ "$(snap_field "$T/list.json" "$R2" before_parent)" = true ] ||
    fail "a snapshot dated before its parent is not flagged"
[ "$(snap_field "$T/list.json" "$H" trusted)" = true ] ||
    fail "the owner's snapshot is flagged"

# W1 dates one in the future: the snapshots of an honest host that name
# it as their parent are not flagged for it (nor is history stalled).
key_ingest "$S" "$T/k" --dir "src=$T/src" --time 2099-01-01T00:00:00Z
expect 0 "$AMBER" key new-ingest "$S" --label host-b --output "$T/kb"
echo later >"$T/src/f"
key_ingest "$S" "$T/kb" --dir "src=$T/src"
B=$ID
snap_list "$T/list.json" "$S"
[ "$(snap_field "$T/list.json" "$B" trusted)" = true ] ||
    fail "a future-dated parent flags its honest child: $(cat "$T/list.json")"
expect 0 "$AMBER" cat "$S" latest:files/src/f
[ "$(cat "$T/out")" = later ] || fail "latest is not the honest host's"
exit 0
