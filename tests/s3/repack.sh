#!/usr/bin/env bash
# tests/s3/repack.sh: amber prune repacks mostly dead packs on S3
# (amber-store(5), PRUNING on S3), under the README's prune credentials,
# with locks of seconds and a lifecycle "day" of seconds.
#
# Round 1: day 1's data pack P1 holds a big file that only day 1 has and
# a small one, K, in every snapshot.  Once every lock has ended, a dry
# run and then a prune (keep-last 2) repack P1: K is copied into a new
# pack, and P1 is marked with the expired manifests and packs.
# Round 2: day 6's pack P6 (a big file and L, kept) is repacked while it
# is still locked (day 8 reused L, lengthening it) and day 6's manifest
# is not: the new packs are locked at least as long, P6 is left.
# Then an ingest from another machine, whose index still locates L in
# P6, reuses it and lengthens P6's lock; a prune after P6's first lock
# has ended leaves it (locked), one after the new lock has ended marks
# it.  After the lifecycle rule: neither P1 nor P6 has a version left,
# the bucket's packs hold little beyond the kept files, every kept
# snapshot (the other machine's too) restores byte for byte, and verify
# is clean.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_prune_store rpk "repack test"
D=$T/src

BIG=150000
"$AMBER" init "$S" --retention 8s --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init"
mkdir -p "$D/keep"
head -c 4000 /dev/urandom >"$D/keep/K"

packs() { s3_versions rpk st%2Fpacks%2F; LC_ALL=C sort "$T/cur" >"$T/packs.$1"; }
# The data pack an ingest wrote: the one new pack above BIG bytes.
new_big() {
	LC_ALL=C join -v 2 "$T/packs.$1" "$T/packs.$2" | awk -v b=$BIG '$2 > b { print $1 }'
}
# The retain-until of a key's current version, in seconds.
until_of() {
	s3req HEAD "/rpk/$1" -I
	[ "$HTTP" = 200 ] || fail "HEAD $1: $HTTP"
	date -d "$(s3hdr x-amz-object-lock-retain-until-date)" +%s
}
sleep_to() { local w=$(($1 - $(date +%s))); [ $w -gt 0 ] && sleep $w; return 0; }
ingest() { # DAY [ingest args]
	local d=$1
	shift
	"$AMBER" ingest "$S" --dir "src=$D" --time "2026-03-$(printf %02d "$d")T12:00:00Z" -q "$@" ||
	    fail "ingest day $d"
	rm -rf "$T/day$d"
	cp -a "$D" "$T/day$d"
}
json() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# ---- round 1: a mostly dead pack whose lock has ended ----------------
packs 0
for d in 1 2 3 4 5; do
	rm -f "$D"/big*
	head -c $BIG /dev/urandom >"$D/big$d"
	ingest $d
	[ "$d" = 1 ] && packs 1
done
P1=$(new_big 0 1)
[ -n "$P1" ] || fail "no data pack of day 1"
"$AMBER" policy set "$S" --keep-last 2 >/dev/null || fail "policy set"
t_last=$(date +%s)
packs before
# Every lock has ended: 8 s + 8 s of grace after the last ingest.
sleep_to $((t_last + 18))
prune "$S" --grace 0s --dry-run --json >"$T/dry.json" 2>"$T/err" || fail "dry run: $(cat "$T/err")"
packs dry
cmp -s "$T/packs.before" "$T/packs.dry" || fail "--dry-run wrote or marked a pack"
prune "$S" --grace 0s --json >"$T/r1.json" 2>"$T/err" || fail "prune: $(cat "$T/err")"
prune "$S" --grace 0s --dry-run >"$T/dry2.txt" 2>&1 || fail "dry run (text)"
python3 - "$T/dry.json" "$T/r1.json" "${P1#st/}" <<'PY' || fail "round 1 figures"
import json, sys
d, r = (json.load(open(f)) for f in sys.argv[1:3])
p1 = sys.argv[3]
print(r)
assert r["packs_repacked"] >= 1 and r["packs_written"] >= 1, r
assert r["chunks_copied"] >= 1 and r["locked"] == 0, r
assert any(o["object"] == p1 and o["repacked"] for o in r["objects"]), (p1, r)
assert r["delete_markers"] == r["snapshots"] + r["packs"] + r["packs_repacked"], r
assert r["freed_bytes"] == (r["snapshot_bytes"] + r["pack_bytes"] +
    r["pack_bytes_repacked"] - r["pack_bytes_written"]), r
for k in ("snapshots", "packs", "packs_repacked", "pack_bytes_repacked",
          "packs_written", "pack_bytes_written", "chunks_copied",
          "freed_bytes", "objects"):
    assert d[k] == r[k], (k, d[k], r[k])
PY
s3_versions rpk st%2F
grep -q "^M true $P1 " "$T/v" || fail "no marker on P1"
# The prune's own dry run now has nothing to repack.
grep -q 'repack' "$T/dry2.txt" && { cat "$T/dry2.txt"; fail "a second repack of the same packs"; }
# Once the lifecycle rule has removed what was marked: P1 is gone, its
# chunk K reads from the new pack, verify is clean (this index forgot
# P1's locations; a fresh one never saw P1).
s3_lifecycle_wait rpk st%2F 90
s3_versions rpk st%2F
grep -q " $P1 " "$T/v" && fail "a version of P1 is left"
"$AMBER" verify "$S" --read-data >"$T/out" 2>&1 || { cat "$T/out"; fail "verify after round 1"; }
for d in 4 5; do
	"$AMBER" restore "$S" "2026-03-0${d}T12:00:00Z" "$T/r$d" --index-dir "$T/ixR" -q || fail "restore day $d"
	diff -r "$T/day$d" "$T/r$d/files/src" >&2 || fail "day $d differs after round 1"
done

# ---- round 2: a mostly dead pack still locked, reused meanwhile ------
head -c 4000 /dev/urandom >"$D/keep/L"
packs 5
for d in 6 7 8; do
	rm -f "$D"/big*
	head -c $BIG /dev/urandom >"$D/big$d"
	# Day 8 reuses L within the last retention of P6's lock: it
	# lengthens it, past the lock of day 6's manifest.
	[ "$d" = 8 ] && sleep_to $((t6 + 10))
	ingest $d
	[ "$d" = 6 ] && { packs 6; t6=$(date +%s); }
done
P6=$(new_big 5 6)
[ -n "$P6" ] || fail "no data pack of day 6"
# Day 6's manifest is unlocked (it expires), P6 still locked.
sleep_to $((t6 + 18))
u0=$(until_of "$P6")
[ "$u0" -gt "$(date +%s)" ] || fail "P6 not locked"
packs pre2
prune "$S" --grace 0s --json >"$T/r2.json" 2>"$T/err" || fail "prune round 2: $(cat "$T/err")"
python3 - "$T/r2.json" "${P6#st/}" <<'PY' || fail "round 2 figures"
import json, sys
r = json.load(open(sys.argv[1]))
print(r)
assert r["packs_written"] >= 1, r
assert not any(o["object"] == sys.argv[2] for o in r["objects"]), r
assert any(o["object"] == sys.argv[2] for o in r["locked_objects"]), r
PY
s3_versions rpk st%2F
grep -q "^M [a-z]* $P6 " "$T/v" && fail "a marker on P6 while it is locked"
packs post2
LC_ALL=C join -v 2 "$T/packs.pre2" "$T/packs.post2" | awk '{ print $1 }' >"$T/new"
[ -s "$T/new" ] || fail "no new pack written"
while read -r k; do
	[ "$(until_of "$k")" -ge "$u0" ] || fail "new pack $k locked for less than P6 ($u0)"
done <"$T/new"

# Another machine (an index of its own, built now: it locates L in P6
# and in the new pack) ingests within the last retention of P6's lock,
# so it lengthens it.
sleep_to $((u0 - 6))
rm -f "$D"/big*
head -c $BIG /dev/urandom >"$D/big9"
ingest 9 --index-dir "$T/ixB"
u1=$(until_of "$P6")
[ "$u1" -gt "$u0" ] || fail "the other machine's ingest did not lengthen P6's lock ($u0, $u1)"
# P6's first lock has ended, the lengthened one lasts: P6 stays.
sleep_to $((u0 + 1))
prune "$S" --grace 0s --json >"$T/r3.json" 2>"$T/err" || fail "prune round 3: $(cat "$T/err")"
python3 - "$T/r3.json" "${P6#st/}" <<'PY' || fail "round 3 figures"
import json, sys
r = json.load(open(sys.argv[1]))
assert any(o["object"] == sys.argv[2] for o in r["locked_objects"]), r
assert not any(o["object"] == sys.argv[2] for o in r["objects"]), r
PY
s3_versions rpk st%2F
grep -q "^M [a-z]* $P6 " "$T/v" && fail "P6 marked while the other machine's lock lasts"
# Then it goes, as a pack no kept snapshot (in this index) references.
# (A prune of the other machine would repack it again, copying nothing:
# its chunks have their sound copies in the new pack.)
sleep_to $((u1 + 1))
prune "$S" --grace 0s --json >"$T/r4.json" 2>"$T/err" || fail "prune round 4: $(cat "$T/err")"
s3_versions rpk st%2F
grep -q "^M true $P6 " "$T/v" || { cat "$T/r4.json"; fail "no marker on P6 once its lock ended"; }

# ---- after the lifecycle rule -----------------------------------------
s3_lifecycle_wait rpk st%2F 90
s3_versions rpk st%2F
grep -q " $P1 \| $P6 " "$T/v" && fail "a version of P1 or P6 is left"
# The kept snapshots are days 8 and 9: K, L and two big files.  The
# packs left hold those and little more (tables, trees); P1 or P6 (each
# a big file's worth, dead) would be far more.
need=$((4000 + 4000 + 2 * BIG))
have=$(grep '^st/packs/' "$T/cur" | awk '{ s += $2 } END { print s + 0 }')
echo "pack bytes: $have for $need of kept files"
[ "$have" -lt $((need + 30000)) ] || fail "the bucket's packs hold $have bytes for $need bytes kept"
live=$(json "$T/r4.json" 'r["pack_bytes_live"] + r["pack_bytes_written"]')
[ "$have" = "$live" ] || fail "current pack bytes $have, the kept snapshots need $live"

# From a fresh index: both kept snapshots restore byte for byte, verify
# is clean, and a rerun has nothing to do.
s3_kept 03 8 9
"$AMBER" verify "$S" --read-data >"$T/out" 2>&1 || { cat "$T/out"; fail "verify at the end"; }
prune "$S" --grace 0s --json >"$T/again.json" 2>"$T/err" || fail "rerun: $(cat "$T/err")"
[ "$(json "$T/again.json" 'r["delete_markers"] + r["packs_written"]')" = 0 ] ||
    { cat "$T/again.json"; fail "a rerun did something"; }
echo "s3 repack ok"
