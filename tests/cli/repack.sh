#!/bin/sh
# amber prune repacks the packs it leaves mostly dead (amber-store(5),
# PRUNING): over eight days, each adding a big file and rewriting a few
# small ones that all days share, and keeping the last two, the old
# packs keep a few live small files among dead big ones.  Pruning a copy
# with --repack-threshold 0 and the store with the default: the repack
# copies the live chunks of several packs into one new pack, the store
# ends smaller than without it by about the dead bytes those packs held,
# every kept snapshot restores byte for byte, the expired ones are gone,
# verify --read-data is clean, an index rebuilt from the store reads the
# same, and a rerun has nothing left to repack.  Needs no root.
. "$(dirname "$0")/lib.sh"
S=$T/store
D=$T/src
new_store "$S"
mkdir -p "$D"

# bytes DIR: the sum of the sizes of the regular files below DIR.
bytes() {
	find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

for d in 1 2 3 4 5 6 7 8; do
	head -c $((60000 + d * 1000)) /dev/urandom >"$D/big$d"
	rm -f "$D/big$((d - 2))"
	# small files: one new each day, kept to the end
	printf 'small file of day %s\n' "$d" >"$D/small$d"
	expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time "2026-03-0${d}T12:00:00Z"
	rm -rf "$T/day$d"
	cp -a "$D" "$T/day$d"
done
expect 0 "$AMBER" policy set "$S" --keep-last 2
cp -a "$S" "$T/plain"
cp -a "$XDG_CACHE_HOME" "$T/plain-cache"

expect 0 "$AMBER" prune "$S" --grace 0s --dry-run --json
cp "$T/out" "$T/dry.json"
XDG_CACHE_HOME="$T/plain-cache" expect 0 "$AMBER" prune "$T/plain" \
    --grace 0s --repack-threshold 0 --json
cp "$T/out" "$T/plain.json"
expect 0 "$AMBER" prune "$S" --grace 0s --json
cp "$T/out" "$T/prune.json"
python3 - "$T/dry.json" "$T/prune.json" "$T/plain.json" <<'PY' || fail "figures"
import json, sys
d, p, z = (json.load(open(f)) for f in sys.argv[1:4])
for k in ("packs_repacked", "pack_bytes_repacked", "packs_written",
          "pack_bytes_written", "bytes_copied", "freed_bytes", "chunks_copied"):
    assert d[k] == p[k], (k, d[k], p[k])
# big1..big6 expire; the packs of days 1 to 6 hold a live small file
# each (and the trees): mostly dead, repacked together into one pack.
assert p["packs_repacked"] >= 5, p
assert p["packs_written"] == 1, p
assert p["chunks_copied"] >= 5, p
assert z["packs_repacked"] == 0 and z["packs_written"] == 0, z
assert p["freed_bytes"] > z["freed_bytes"] + 5 * 60000, (p, z)
PY
after=$(bytes "$S/packs")
plain=$(bytes "$T/plain/packs")
[ "$after" -lt $((plain - 5 * 60000)) ] ||
    fail "with repack the packs hold $after bytes, without $plain"
echo "# packs after prune: $after bytes with repack, $plain without"

check() {
	for d in 7 8; do
		rm -rf "$T/r"
		expect 0 "$AMBER" restore "$S" "2026-03-0${d}T12:00:00Z" "$T/r"
		diff -r "$T/day$d" "$T/r/files/src" >&2 || fail "$1: day $d differs"
	done
	for d in 1 2 3 4 5 6; do
		expect 1 "$AMBER" ls "$S" "2026-03-0${d}T12:00:00Z"
	done
	expect 0 "$AMBER" verify "$S" --read-data
}
check "after the repack"
expect 0 "$AMBER" index rebuild "$S"
check "rebuilt index"

expect 0 "$AMBER" prune "$S" --grace 0s --json
python3 - "$T/out" <<'PY' || fail "a rerun had work left"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["snapshots"] == 0 and p["packs"] == 0 and p["packs_repacked"] == 0, p
PY
# Later expiries leave the new pack dead in turn: it goes like any other.
rm -f "$D"/small*
head -c 70000 /dev/urandom >"$D/big9"
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time "2026-03-09T12:00:00Z"
cp -a "$D" "$T/day09"
head -c 70000 /dev/urandom >"$D/big10"
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time "2026-03-10T12:00:00Z"
cp -a "$D" "$T/day10"
expect 0 "$AMBER" prune "$S" --grace 0s --json
for d in 09 10; do
	rm -rf "$T/r"
	expect 0 "$AMBER" restore "$S" "2026-03-${d}T12:00:00Z" "$T/r"
	diff -r "$T/day$d" "$T/r/files/src" >&2 || fail "day $d differs"
done
expect 0 "$AMBER" verify "$S" --read-data
exit 0
