#!/usr/bin/env bash
# tests/s3/prune.sh: amber prune on S3 (amber-store(5), PRUNING) with a
# retention of seconds and a lifecycle "day" of seconds.  Five snapshots
# of sources that change and vanish, a policy that keeps two: a prune
# while the locks last marks nothing and names each object with the
# time its lock ends; once they end, the expired manifests and the packs
# no kept snapshot references get delete markers (never a version
# delete), and the bucket's NoncurrentVersionExpiration rule removes
# them.  Afterwards the bucket's current versions are exactly the packs
# the kept snapshots need, every kept snapshot restores byte for byte,
# the expired ones are gone and verify is clean.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_prune_store prb "prune test"
D=$T/src

"$AMBER" init "$S" --retention 8s --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init"
mkdir -p "$D/keep" "$D/gone"
printf 'in every snapshot\n' >"$D/keep/shared"
for d in 1 2 3 4 5; do
	head -c $((100000 + d * 1000)) /dev/urandom >"$D/big$d"
	[ "$d" = 4 ] && rm -rf "$D/big1" "$D/big2" "$D/gone"
	[ "$d" -lt 4 ] && head -c 5000 /dev/urandom >"$D/gone/f$d"
	"$AMBER" ingest "$S" --dir "src=$D" --time "2026-02-0${d}T12:00:00Z" -q || fail "ingest $d"
	cp -a "$D" "$T/day$d"
done
t_last=$(date +%s)
"$AMBER" policy set "$S" --keep-last 2 >/dev/null || fail "policy set"

versions() { s3_versions prb "$1"; }

# While every lock lasts: nothing is marked, each object says when.
prune "$S" --grace 0s >"$T/out" 2>"$T/err" || fail "prune while locked: $(cat "$T/err")"
cat "$T/out"
grep -q '^locked snapshots/[0-9a-f]* [0-9]* expires at 20' "$T/out" || fail "no locked manifest reported"
grep -q '^delete markers: 0 added' "$T/out" || fail "markers added while locked"
versions st%2F
grep -q '^M ' "$T/v" && fail "a delete marker while every lock lasts"

# Locks end (8 s + 8 s of grace after the last ingest).
sleep $((t_last + 17 - $(date +%s)))
prune "$S" --grace 0s --dry-run --json >"$T/dry.json" 2>"$T/err" || fail "dry run: $(cat "$T/err")"
versions st%2F
grep -q '^M ' "$T/v" && fail "--dry-run put a marker"
prune "$S" --grace 0s --json >"$T/run.json" 2>"$T/err" || fail "prune: $(cat "$T/err")"
python3 - "$T/dry.json" "$T/run.json" <<'PY' || fail "prune figures"
import json, sys
d, r = (json.load(open(f)) for f in sys.argv[1:])
print(r)
assert r["snapshots"] == 3 and r["packs"] >= 2, r
# Mostly dead packs (day 1's holds 'shared') are repacked and marked.
assert r["delete_markers"] == r["snapshots"] + r["packs"] + r["packs_repacked"], r
assert r["locked"] == 0, r
for k in ("snapshots", "packs", "freed_bytes", "pack_bytes_live",
          "packs_repacked", "pack_bytes_repacked", "pack_bytes_written"):
    assert d[k] == r[k], (k, d[k], r[k])
PY
versions st%2F
[ "$(grep -c '^M ' "$T/v")" = "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["delete_markers"])' "$T/run.json")" ] ||
    fail "markers in the bucket differ from the count"
# Reads see through a marker: every snapshot still reads until the
# lifecycle rule runs; the kept ones whole.
"$AMBER" verify "$S" --read-data >"$T/out" 2>&1 || { cat "$T/out"; fail "verify after the markers"; }

# The lifecycle rule removes the versions under the markers, and then
# the markers.
t0=$SECONDS
while :; do
	versions st%2F
	grep -q '^M \|^V false ' "$T/v" || break
	[ $((SECONDS - t0)) -lt 60 ] || { cat "$T/v"; fail "lifecycle did not remove the marked versions in 60 s"; }
	sleep 1
done
echo "lifecycle removed them in $((SECONDS - t0)) s"
# The current packs are exactly what the kept snapshots need: the packs
# they referenced that stay, and those the repack wrote.
live=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["packs_live"] + r["packs_written"], r["pack_bytes_live"] + r["pack_bytes_written"])' "$T/run.json")
have=$(grep '^st/packs/' "$T/cur" | awk '{ n++; s += $2 } END { print n + 0, s + 0 }')
[ "$have" = "$live" ] || fail "current packs (count bytes) $have, the kept snapshots need $live"
[ "$(grep -c '^st/snapshots/' "$T/cur")" = 2 ] || fail "not 2 manifests left: $(cat "$T/cur")"

# From a fresh index: two snapshots, each restores byte for byte;
# the expired ones are gone; verify is clean; a rerun has nothing to do.
s3_kept 02 4 5
for d in 1 2 3; do
	"$AMBER" restore "$S" "2026-02-0${d}T12:00:00Z" "$T/x$d" -q 2>/dev/null &&
	    fail "expired day $d still restores"
done
"$AMBER" verify "$S" --read-data >"$T/out" 2>&1 || { cat "$T/out"; fail "verify after lifecycle"; }
prune "$S" --grace 0s --json >"$T/again.json" 2>"$T/err" || fail "rerun: $(cat "$T/err")"
python3 - "$T/again.json" <<'PY' || fail "rerun did something"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["delete_markers"] == 0 and r["snapshots"] == 0 and r["packs"] == 0, r
PY
echo "s3 prune ok"
