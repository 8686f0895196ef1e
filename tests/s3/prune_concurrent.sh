#!/usr/bin/env bash
# tests/s3/prune_concurrent.sh: an ingest runs while objects expire, and
# loses nothing (amber-store(5), PRUNING on S3).  Rounds of ingest (its own
# index, which knows every pack it ever wrote) of sources where a file
# comes back after snapshots without it, so that an ingest reuses packs
# that only expired snapshots referenced; meanwhile prunes run every
# second or two (lock 3 s + 3 s of grace, a lifecycle day of 2 s), so
# such a pack is marked, and removed, while ingests reuse it.  An ingest
# either lengthens the pack's lock before it commits (the lifecycle rule
# then leaves the version) or finds it gone and fails without committing
# (and the next round writes it again).  At the end every snapshot the
# policy keeps restores byte for byte and verify is clean.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
export RGW_LC_DEBUG_INTERVAL=2
s3_start
s3_bucket pcc lock
export AMBER_PASSPHRASE="concurrent test" XDG_CACHE_HOME="$T/cache"
S=s3://pcc/st
s3_lifecycle pcc st/
"$AMBER" init "$S" --retention 3s --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init"
"$AMBER" policy set "$S" --keep-last 2 >/dev/null || fail "policy set"

mkdir -p "$T/src"
head -c 40000 /dev/urandom >"$T/comeback"
ROUNDS=12
(
	for r in $(seq 1 $ROUNDS); do
		head -c 2000 /dev/urandom >"$T/src/each"
		# present in rounds 1, 5, 9: absent long enough to expire
		if [ $((r % 4)) = 1 ]; then cp "$T/comeback" "$T/src/comeback"; else rm -f "$T/src/comeback"; fi
		if "$AMBER" ingest "$S" --index-dir "$T/ixA" --dir src="$T/src" >"$T/ing.$r" 2>&1; then
			id=$(sed -n 's/^snapshot .* (\([0-9a-f]*\)) committed.*/\1/p' "$T/ing.$r")
			cp -a "$T/src" "$T/snap.$id"
			echo "$r $id" >>"$T/committed"
		else
			echo "$r failed: $(grep -v warning "$T/ing.$r" | head -n 2 | tr '\n' ' ')" >>"$T/failed"
		fi
		sleep 1.5
	done
	touch "$T/ingest.done"
) &
ING=$!
S3_CLEANUP_EXTRA="kill $ING 2>/dev/null"
n_prunes=0
while [ ! -e "$T/ingest.done" ]; do
	"$AMBER" prune "$S" --grace 0s >>"$T/prunes" 2>&1 || { cat "$T/prunes"; fail "a prune failed"; }
	n_prunes=$((n_prunes + 1))
	sleep 1
done
wait $ING
cat "$T/committed"
[ -e "$T/failed" ] && cat "$T/failed"
[ "$(wc -l <"$T/committed")" -ge $((ROUNDS - 3)) ] || fail "too few ingests committed"
grep -v 'is gone\|^$' "$T/failed" 2>/dev/null | grep -q . && fail "an ingest failed for another reason"
grep -q '^marked packs/' "$T/prunes" || fail "no pack was marked during the run: the race was not tried"
echo "$n_prunes prunes, $(grep -c '^marked packs/' "$T/prunes") packs marked during the run"

# Locks end, a last prune, the lifecycle rule finishes.
sleep 7
"$AMBER" prune "$S" --grace 0s >>"$T/prunes" 2>&1 || fail "last prune"
s3_lifecycle_wait pcc st%2F 60
# Kept: the last 2 committed.  Each restores byte for byte.
rm -rf "$T/cache"
"$AMBER" snapshots "$S" >"$T/out" 2>&1 || fail "snapshots"
[ "$(wc -l <"$T/out")" = 2 ] || { cat "$T/out"; fail "not 2 snapshots"; }
tail -n 2 "$T/committed" | while read -r r id; do
	"$AMBER" restore "$S" "$id" "$T/r.$id" -q || fail "restore round $r ($id)"
	diff -r "$T/snap.$id" "$T/r.$id/files/src" >&2 || fail "round $r differs"
done || exit 1
"$AMBER" verify "$S" --read-data >"$T/out" 2>&1 || { cat "$T/out"; fail "verify"; }
echo "s3 prune concurrent ok"
