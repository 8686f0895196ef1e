#!/bin/sh
# The two ways W1 could still move a trusted snapshot's name after the
# snapshot flags (snap_namesteal.sh): a trusted snapshot of its own in
# the same second, forked below the existing one (it names older parents
# and an earlier commit time, as two ingests that commit at once would);
# and a second parentless snapshot, which makes the store's first one
# (by an ingest key) flagged too.  Before this change each took the
# existing snapshot's name T and pushed it to T-2; now a machine that has
# shown a trusted snapshot's name keeps it (the index remembers it), and
# the newcomer takes T-2.  A fresh index names them as any new machine
# would: that bound is the man page's (amber-store(5), Names).
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/attack/snap_common.inc"

# id_of JSON: the id in an ingest --json summary.
id_of() {
	python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["id"])' "$1" || fail "no id in $(cat "$1")"
}

# names STORE ARGS...: amber snapshots --json into $T/names.json.
names() {
	snap_list "$T/names.json" "$@"
}

# w1_prepares STORE LABEL KEYFILE PARENT: a new ingest key (LABEL, into
# KEYFILE) and, a second later, W1's snapshot of src/f "forged" dated
# that second ($when) with PARENT (rogue_make: not added yet, its id in
# $ID), made before the genuine one so that it claims the earlier commit
# time; src/f is "genuine" again after.
w1_prepares() {
	expect 0 "$AMBER" key new-ingest "$1" --label "$2" --output "$3"
	sleep 1
	when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	echo forged >"$T/src/f"
	rogue_make "$1" "$3" "$4" --dir "src=$T/src" --time "$when"
	echo genuine >"$T/src/f"
}

# --- 1. A trusted fork below an existing snapshot, in its second.
S=$T/store
snap_store "$S"
expect 0 "$AMBER" ingest "$S" --dir "src=$T/src" --time 2026-01-01T00:00:00Z --json
cp "$T/out" "$T/p.json"
P=$(id_of "$T/p.json")
w1_prepares "$S" host-a "$T/k" "$P"
F=$ID
expect 0 "$AMBER" ingest "$S" --dir "src=$T/src" --time "$when" --json
cp "$T/out" "$T/g.json"
G=$(id_of "$T/g.json")
names "$S"
[ "$(snap_field "$T/names.json" "$G" name)" = "$when" ] ||
    fail "the genuine snapshot is not named $when: $(cat "$T/names.json")"
rogue_add "$S"
names "$S"
[ "$(snap_field "$T/names.json" "$G" name)" = "$when" ] ||
    fail "the genuine snapshot lost its name $when to W1's fork: $(cat "$T/names.json")"
[ "$(snap_field "$T/names.json" "$F" name)" = "$when-2" ] ||
    fail "W1's fork is not $when-2: $(cat "$T/names.json")"
expect 0 "$AMBER" cat "$S" "$when:files/src/f"
[ "$(cat "$T/out")" = genuine ] || fail "$when is W1's fork"
expect 0 "$AMBER" cat "$S" "latest:files/src/f"
[ "$(cat "$T/out")" = genuine ] || fail "latest is W1's fork"
# index rebuild keeps the names shown (they are no copy of the store).
expect 0 "$AMBER" index rebuild "$S"
names "$S"
[ "$(snap_field "$T/names.json" "$G" name)" = "$when" ] ||
    fail "index rebuild forgot the name shown: $(cat "$T/names.json")"
# A machine that never showed a name orders by the store alone.
names "$S" --index-dir "$T/fresh"
a=$(snap_field "$T/names.json" "$G" name)
b=$(snap_field "$T/names.json" "$F" name)
[ "$a$b" = "$when-2$when" ] || [ "$a$b" = "$when$when-2" ] ||
    fail "fresh index: names $a and $b"

# --- 2. The store's first snapshot, by an ingest key, and a second root.
S2=$T/store2
new_store "$S2"
w1_prepares "$S2" host-b "$T/k2" ""
R=$ID
key_ingest "$S2" "$T/k2" --dir "src=$T/src" --time "$when"
G2=$ID
names "$S2"
[ "$(snap_field "$T/names.json" "$G2" name)" = "$when" ] ||
    fail "the first snapshot is not named $when: $(cat "$T/names.json")"
[ "$(snap_field "$T/names.json" "$G2" parentless)" = false ] ||
    fail "the store's only snapshot is flagged parentless"
rogue_add "$S2"
names "$S2"
[ "$(snap_field "$T/names.json" "$G2" parentless)" = true ] ||
    fail "two roots by ingest keys, and the first is not flagged"
[ "$(snap_field "$T/names.json" "$G2" name)" = "$when" ] ||
    fail "the first snapshot lost its name $when: $(cat "$T/names.json")"
[ "$(snap_field "$T/names.json" "$R" name)" = "$when-2" ] ||
    fail "W1's second root is not $when-2: $(cat "$T/names.json")"
exit 0
