#!/bin/sh
# amber prune on a local --immutable store (amber-store(5), PRUNING):
# --dry-run deletes nothing and its figures are the bytes that a real
# prune frees (checked against the files); a pack left mostly dead is
# repacked (its live chunk copied into a new pack, the old one deleted),
# unless --repack-threshold 0; the grace period spares young
# packs; a held prune lock (a writer running) stops it; after a prune
# every kept snapshot reads back (cat, restore, diff), the expired ones
# are gone, verify is clean, and a rerun has nothing to do; a kept
# snapshot that W2 deletes without the passphrase is still damage.
. "$(dirname "$0")/lib.sh"
S=$T/store
D=$T/src
need_immutable
expect 0 "$AMBER" init "$S" --immutable --kdf "$KDF"
mkdir -p "$D"
printf 'shared by every snapshot\n' >"$D/shared"

# bytes DIR: the sum of the sizes of the regular files below DIR.
bytes() {
	find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

expect 2 "$AMBER" prune "$S" --grace soon
for t in 101 -1 x 5x ""; do
	expect 2 "$AMBER" prune "$S" --repack-threshold "$t"
	err_has "a percentage from 0 to 100"
done
expect 1 "$AMBER" prune "$S" --dry-run
err_has "no retention policy"

# Five days; each adds a big file of its own and keeps the earlier ones
# until day 4, which drops days 1 and 2.  Each day's tree is saved.
for d in 1 2 3 4 5; do
	head -c $((200000 + d * 1000)) /dev/urandom >"$D/big$d"
	[ "$d" = 4 ] && rm -f "$D/big1" "$D/big2"
	expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time "2026-02-0${d}T12:00:00Z"
	cp -a "$D" "$T/day$d"
done
expect 0 "$AMBER" policy set "$S" --keep-last 2
# Every object the ingests and the policy wrote is immutable, as
# --immutable means: prune must meet them so.
find "$S/packs" "$S/snapshots" "$S/keys" "$S/policies" -type f \
    -exec lsattr {} + | grep -v -q -- '-i-' &&
    fail "an object of the store is not immutable"
expect 0 "$AMBER" snapshots "$S"
[ "$(grep -c ' expired$' "$T/out")" = 3 ] || { cat "$T/out"; fail "not 3 expired"; }

find "$S" -type f | sort >"$T/files.before"
total_before=$(bytes "$S")

# With the default grace (1d) every pack is young: only manifests go.
expect 0 "$AMBER" prune "$S" --dry-run --json
python3 - "$T/out" <<'PY' || fail "default grace"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["dry_run"] and p["snapshots"] == 3 and p["packs"] == 0, p
assert p["packs_young"] > 0, p
PY

expect 0 "$AMBER" prune "$S" --dry-run --grace 0s --json
cp "$T/out" "$T/dry.json"
find "$S" -type f | sort >"$T/files.dry"
cmp -s "$T/files.before" "$T/files.dry" || fail "--dry-run changed the store"
# The figures add up to the sizes of the objects listed, less the new
# pack.  big2's pack goes; big1's is repacked: day 1's pack also holds
# "shared", which the kept snapshots use, and is otherwise dead.
python3 - "$T/dry.json" "$S" <<'PY' || fail "dry-run figures"
import json, os, sys
p = json.load(open(sys.argv[1]))
objs = p["objects"]
assert p["snapshots"] == 3 and p["packs"] >= 2, p
assert p["repack_threshold"] == 50, p
assert sum(o["bytes"] for o in objs) == p["snapshot_bytes"] + p["pack_bytes"] + p["pack_bytes_repacked"], p
assert p["freed_bytes"] == p["snapshot_bytes"] + p["pack_bytes"] + p["pack_bytes_repacked"] - p["pack_bytes_written"], p
for o in objs:
    assert os.path.getsize(os.path.join(sys.argv[2], o["object"])) == o["bytes"], o
assert 202000 <= p["pack_bytes"] < 210000, p   # big2 and small tree packs
# big1's pack: one pack repacked, one live chunk ("shared") copied
rep = [o for o in objs if o["repacked"]]
assert len(rep) == 1 and p["packs_repacked"] == 1, p
assert 201000 <= p["pack_bytes_repacked"] < 202000, p
assert p["chunks_copied"] == 1 and 0 < p["bytes_copied"] < 200, p
assert p["packs_written"] == 1 and p["pack_bytes_written"] < 400, p
PY
# --repack-threshold 0: no repacking; big1's pack stays whole.
expect 0 "$AMBER" prune "$S" --dry-run --grace 0s --repack-threshold 0 --json
python3 - "$T/out" "$T/dry.json" <<'PY' || fail "--repack-threshold 0"
import json, sys
p = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
assert p["packs_repacked"] == 0 and p["packs_written"] == 0, p
assert not any(o["repacked"] for o in p["objects"]), p
assert p["freed_bytes"] == d["freed_bytes"] - d["pack_bytes_repacked"] + d["pack_bytes_written"], (p, d)
PY
# At 1% it is repacked too: "shared" is some 50 of its 201263 bytes.
expect 0 "$AMBER" prune "$S" --dry-run --grace 0s --repack-threshold 1 --json
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["packs_repacked"] == 1, p' "$T/out" ||
    fail "--repack-threshold 1"
expect 0 "$AMBER" prune "$S" --dry-run --grace 0s
out_has "would delete 3 of 5 snapshots"
out_has "would repack 1 packs"
out_has "(repacked)"
out_has "would be freed"

# A writer holds the prune lock (shared): prune refuses, deletes nothing.
flock -o -s "$S/tmp/prune.lock" sleep 30 &
lockpid=$!
i=0
while flock -n -x "$S/tmp/prune.lock" true 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "the test's lock holder never took the lock"
	sleep 0.1
done
expect 1 "$AMBER" prune "$S" --grace 0s
err_has "a writer is running"
kill "$lockpid"
wait "$lockpid" 2>/dev/null
find "$S" -type f | sort >"$T/files.busy"
cmp -s "$T/files.before" "$T/files.busy" || fail "a refused prune changed the store"

# The real prune frees what the dry run said (plus the record it adds).
expect 0 "$AMBER" prune "$S" --grace 0s --json
python3 - "$T/out" "$T/dry.json" <<'PY' || fail "prune figures differ from the dry run"
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
for k in ("snapshots", "packs", "freed_bytes", "pack_bytes_live",
          "packs_repacked", "pack_bytes_written", "bytes_copied"):
    assert a[k] == b[k], (k, a[k], b[k])
assert not a["dry_run"]
PY
freed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["freed_bytes"])' "$T/dry.json")
record=$(bytes "$S/pruned")
total_after=$(bytes "$S")
[ $((total_before - total_after + record)) = "$freed" ] ||
    fail "freed $((total_before - total_after + record)) bytes, the dry run said $freed"
lsattr -d "$S"/packs/*/* | grep -v -q -- '-i-' && fail "a kept pack lost the immutable attribute"
# The repacked pack is gone, and a new one holds its live chunk.
find "$S/packs" -type f | sort >"$T/packs.after"
python3 - "$T/dry.json" "$S" "$T/files.before" "$T/packs.after" <<'PY' || fail "the repack"
import json, os, sys
p = json.load(open(sys.argv[1]))
before = set(open(sys.argv[3]).read().split()); after = open(sys.argv[4]).read().split()
for o in p["objects"]:
    assert not os.path.exists(os.path.join(sys.argv[2], o["object"])), o
new = [f for f in after if f not in before]
assert len(new) == 1, new
assert os.path.getsize(new[0]) == p["pack_bytes_written"], new
PY

# Kept snapshots read back whole; expired ones are gone.
expect 0 "$AMBER" snapshots "$S"
[ "$(wc -l <"$T/out")" = 2 ] || { cat "$T/out"; fail "not 2 snapshots left"; }
grep -q 'orphan' "$T/out" && fail "an expired parent shows as orphan"
for d in 4 5; do
	rm -rf "$T/r$d"
	expect 0 "$AMBER" restore "$S" "2026-02-0${d}T12:00:00Z" "$T/r$d"
	diff -r "$T/day$d" "$T/r$d/files/src" >&2 || fail "day $d differs after prune"
	expect 0 "$AMBER" cat "$S" "2026-02-0${d}T12:00:00Z:files/src/big$d"
	cmp -s "$T/out" "$T/day$d/big$d" || fail "cat big$d after prune"
done
expect 1 "$AMBER" ls "$S" "2026-02-01T12:00:00Z"
expect 0 "$AMBER" verify "$S"
expect 0 "$AMBER" verify "$S" --read-data
# An ingest after the prune dedups only against what is left.
printf 'after\n' >"$D/after"
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time "2026-02-06T12:00:00Z"
expect 0 "$AMBER" verify "$S" --read-data
expect 0 "$AMBER" restore "$S" latest "$T/r6"
diff -r "$D" "$T/r6/files/src" >&2 || fail "the ingest after prune differs"

# A rerun deletes what the new policy view expires, and nothing kept.
expect 0 "$AMBER" prune "$S" --grace 0s --json
expect 0 "$AMBER" prune "$S" --grace 0s --json
python3 - "$T/out" <<'PY' || fail "a second rerun had work left"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["snapshots"] == 0 and p["packs"] == 0, p
PY
expect 0 "$AMBER" verify "$S" --read-data

# Another machine (an index of its own) wrote a pack that a prune here
# deletes; its next ingest of the same bytes must not dedup against the
# deleted pack: its index sees the new record and is rebuilt.
S2=$T/store2
IX2=$T/ix2
new_store "$S2"
mkdir -p "$T/s2"
head -c 150000 /dev/urandom >"$T/s2/gone"
cp "$T/s2/gone" "$T/gone.saved"
expect 0 "$AMBER" ingest "$S2" --index-dir "$IX2" --dir "src=$T/s2" --time 2026-03-01T12:00:00Z
rm "$T/s2/gone"
printf 'x\n' >"$T/s2/x"
expect 0 "$AMBER" ingest "$S2" --index-dir "$IX2" --dir "src=$T/s2" --time 2026-03-02T12:00:00Z
expect 0 "$AMBER" policy set "$S2" --keep-last 1
expect 0 "$AMBER" prune "$S2" --grace 0s --json
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["pack_bytes"] >= 150000, p' "$T/out" ||
    fail "the pack of the expired file was not deleted"
cp "$T/gone.saved" "$T/s2/gone"
expect 0 "$AMBER" ingest "$S2" --index-dir "$IX2" --dir "src=$T/s2"
expect 0 "$AMBER" verify "$S2" --index-dir "$IX2" --read-data
rm -rf "$T/r7"
expect 0 "$AMBER" restore "$S2" latest "$T/r7" --index-dir "$IX2"
cmp -s "$T/r7/files/src/gone" "$T/gone.saved" || fail "re-ingested file differs"

# W2 deletes a kept, non-latest snapshot: no signed record names it, so
# verify reports its child's parent missing.
expect 0 "$AMBER" snapshots "$S" --json
victim=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$T/out")
chattr -i "$S/snapshots/$victim"
rm -f "$S/snapshots/$victim"
expect 5 "$AMBER" verify "$S"
out_has "snapshots/$victim: missing"
# A forged record of expiry (junk, unsigned) does not excuse it.
mkdir -p "$S/pruned"
python3 - "$S" "$victim" <<'PY'
import os, sys
v = bytes.fromhex(sys.argv[2])
cfg = open(os.path.join(sys.argv[1], "config"), "rb").read()
rec = b"AMBRPRN1" + cfg[12:28] + (2**31).to_bytes(8, "little") + (1).to_bytes(4, "little") + v + bytes(64)
open(os.path.join(sys.argv[1], "pruned", "e" * 64), "wb").write(rec)
PY
expect 5 "$AMBER" verify "$S"
out_has "snapshots/$victim: missing"
err_has "pruned/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee: not a record of expired snapshots signed"
exit 0
