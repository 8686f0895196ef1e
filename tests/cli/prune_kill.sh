#!/bin/sh
# amber prune on a local --immutable store, SIGKILLed at every point
# where it changes the store (issue 16): before each of its unlinkat(2),
# linkat(2) and fsync(2) calls in turn (those of the new pack that the
# repack of a mostly dead pack writes among them), killed by strace's fault
# injection, so every kill point is hit, in the same order on every run.
# Each round starts from a copy of the same store (and of its index) and
# kills the prune up to three times at the same point, so that later
# runs start from a half-done one.  After every kill:
#   - every kept snapshot restores byte for byte, and verify is clean;
#   - no object that the policy keeps lost its immutable attribute;
#   - the next ingest (in a copy of the store and its index) of files
#     that only expired snapshots held stores them again, readable:
#     it must not dedup against a pack the killed prune deleted.
# Then a prune without a kill finishes the job: exactly the objects that
# --dry-run listed before are gone, one new pack of the size it said
# holds what was repacked (however many runs were killed after writing
# theirs), the bytes freed are the bytes it said, a rerun has nothing
# to do, and verify --read-data is clean.
# Needs root (CAP_LINUX_IMMUTABLE), chattr/lsattr and strace.
. "$AMBER_TOP/tests/cli/lib.sh"

need_immutable
command -v strace >/dev/null ||
    { echo "needs strace, to kill at each point (Debian: strace)"; exit 77; }

# Every round has a directory of its own: the store and its index (the
# index is found through XDG_CACHE_HOME, by the store's id).
B=$T/base
S=$B/store
D=$T/src
mkdir -p "$B"
export XDG_CACHE_HOME="$B/cache"
expect 0 "$AMBER" init "$S" --immutable --kdf "$KDF"
mkdir -p "$D" "$T/revive"
printf 'shared by every snapshot\n' >"$D/shared"
# Six days, a file of their own each; day 4 drops big1 and big2, whose
# packs then only expired snapshots reference (keep-last 2: days 5, 6),
# but for "shared" in big1's: that pack is repacked.
for d in 1 2 3 4 5 6; do
	head -c $((100000 + d * 1000)) /dev/urandom >"$D/big$d"
	if [ "$d" = 4 ]; then
		mv "$D/big1" "$D/big2" "$T/revive/"
	fi
	expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time "2026-02-0${d}T12:00:00Z"
	cp -a "$D" "$T/day$d"
done
expect 0 "$AMBER" policy set "$S" --keep-last 2
expect 0 "$AMBER" prune "$S" --dry-run --grace 0s --json
cp "$T/out" "$T/dry.json"
python3 - "$T/dry.json" "$S" "$T/dry.list" <<'PY' || fail "dry-run figures"
import json, os, sys
p = json.load(open(sys.argv[1]))
assert p["snapshots"] == 4 and p["packs"] >= 2, p
assert p["pack_bytes"] >= 102000, p   # big2; big1 shares a pack with "shared"
assert p["packs_repacked"] == 1 and p["pack_bytes_repacked"] >= 101000, p
assert p["packs_written"] == 1 and p["chunks_copied"] == 1, p
assert sum(o["bytes"] for o in p["objects"]) == p["freed_bytes"] + p["pack_bytes_written"], p
with open(sys.argv[3], "w") as f:
    for o in sorted(p["objects"], key=lambda o: o["object"]):
        assert os.path.getsize(os.path.join(sys.argv[2], o["object"])) == o["bytes"], o
        f.write(o["object"] + "\n")
PY
(cd "$S" && find . -type f ! -path './tmp/*' ! -path './pruned/*' |
    sed 's|^\./||' | sort) >"$T/all.list"
# What the policy keeps: every object but those the dry run listed.
comm -23 "$T/all.list" "$T/dry.list" >"$T/kept.list"
(cd "$S" && while read -r f; do echo "$f $(stat -c %s "$f")"; done) \
    <"$T/all.list" >"$T/sizes"
freed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["freed_bytes"])' "$T/dry.json")
written=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pack_bytes_written"])' "$T/dry.json")
[ "$(wc -l <"$T/kept.list")" -ge 5 ] || fail "too few kept objects"

# fresh DIR: a copy of the base store and its index in DIR, every object
# immutable again (cp does not copy the attribute).
fresh() {
	rm -rf "$1"
	cp -a "$B" "$1" || fail "copy to $1"
	(cd "$1/store" && find config keys policies snapshots packs \
	    -type f -exec chattr +i {} +) || fail "chattr in $1"
}

# check_kept DIR WHAT: the kept snapshots read back whole, verify is
# clean, no kept object lost its attribute, and an ingest of the expired
# files (in a copy) stores them readable.
check_kept() {
	_r=$1
	export XDG_CACHE_HOME="$_r/cache"
	for d in 5 6; do
		rm -rf "$T/r"
		expect 0 "$AMBER" restore "$_r/store" "2026-02-0${d}T12:00:00Z" "$T/r"
		diff -r "$T/day$d" "$T/r/files/src" >&2 ||
		    fail "$2: day $d differs"
	done
	expect 0 "$AMBER" cat "$_r/store" "2026-02-06T12:00:00Z:files/src/big6"
	cmp -s "$T/out" "$T/day6/big6" || fail "$2: cat big6"
	expect 0 "$AMBER" verify "$_r/store"
	while read -r f; do
		[ -f "$_r/store/$f" ] || fail "$2: kept object $f is gone"
		lsattr "$_r/store/$f" | cut -d' ' -f1 | grep -q i ||
		    fail "$2: kept object $f lost its immutable attribute"
	done <"$T/kept.list"
	rm -rf "$T/scratch"
	cp -a "$_r" "$T/scratch"
	export XDG_CACHE_HOME="$T/scratch/cache"
	expect 0 "$AMBER" ingest "$T/scratch/store" --dir "src=$T/revive" \
	    --time 2026-02-07T12:00:00Z
	expect 0 "$AMBER" verify "$T/scratch/store" --read-data
	rm -rf "$T/r"
	expect 0 "$AMBER" restore "$T/scratch/store" latest "$T/r"
	diff -r "$T/revive" "$T/r/files/src" >&2 ||
	    fail "$2: an ingest after the kill lost the revived files"
	chattr -R -i "$T/scratch" 2>/dev/null
	rm -rf "$T/scratch"
	export XDG_CACHE_HOME="$_r/cache"
}

# Under ASan (make check SANITIZE=1) LeakSanitizer stops the world with
# ptrace at exit, which fails in a process strace already traces; the
# traced runs leave leak checking to the other tests.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# How many of each call a whole run makes: the kill points.
fresh "$T/count"
export XDG_CACHE_HOME="$T/count/cache"
strace -f -qq -o "$T/trace" -e trace=unlinkat,linkat,fsync \
    "$AMBER" prune "$T/count/store" --grace 0s >"$T/out" 2>"$T/err" ||
    { cat "$T/err" >&2; fail "the traced prune failed"; }
points=""
for call in unlinkat linkat fsync; do
	n=$(grep -cE "^[0-9]+ +$call\(" "$T/trace")
	k=1
	while [ "$k" -le "$n" ]; do
		points="$points $call:$k"
		k=$((k + 1))
	done
done
n_unlink=$(grep -cE '^[0-9]+ +unlinkat\(' "$T/trace")
[ "$n_unlink" -ge "$(wc -l <"$T/dry.list")" ] ||
    fail "the traced prune made $n_unlink unlinks, fewer than the dry run's objects"
chattr -R -i "$T/count"
rm -rf "$T/count"

n_kills=0
for p in $points; do
	call=${p%:*}
	k=${p#*:}
	R=$T/round
	fresh "$R"
	export XDG_CACHE_HOME="$R/cache"
	i=0
	killed=0
	while [ "$i" -lt 3 ]; do
		i=$((i + 1))
		strace -f -qq -o /dev/null -e trace="$call" \
		    -e inject="$call:signal=KILL:when=$k" \
		    "$AMBER" prune "$R/store" --grace 0s >"$T/out" 2>"$T/err"
		rc=$?
		[ "$rc" = 0 ] && break
		[ "$rc" = 137 ] || { cat "$T/err" >&2; fail "$p: prune exited $rc"; }
		n_kills=$((n_kills + 1))
		killed=$((killed + 1))
		flock -n -x "$R/store/tmp/prune.lock" true ||
		    fail "$p: the prune lock outlived the killed prune"
		check_kept "$R" "killed before $call #$k (run $i)"
	done
	# A run without a kill finishes the job.
	expect 0 "$AMBER" prune "$R/store" --grace 0s
	(cd "$R/store" && find . -type f ! -path './tmp/*' ! -path './pruned/*' |
	    sed 's|^\./||' | sort) >"$T/left.list"
	comm -23 "$T/all.list" "$T/left.list" >"$T/gone.list"
	cmp -s "$T/gone.list" "$T/dry.list" || {
		diff "$T/dry.list" "$T/gone.list" >&2
		fail "$p: what went differs from what --dry-run listed"
	}
	comm -13 "$T/all.list" "$T/left.list" >"$T/added.list"
	grep -q -v '^packs/' "$T/added.list" &&
	    fail "$p: the prune added objects beyond pruned/ and packs/"
	[ "$(wc -l <"$T/added.list")" = 1 ] ||
	    fail "$p: not one new pack: $(cat "$T/added.list")"
	added=$(cd "$R/store" && stat -c %s "$(cat "$T/added.list")")
	[ "$added" = "$written" ] ||
	    fail "$p: the new pack has $added bytes, --dry-run said $written"
	gone=$(join "$T/gone.list" "$T/sizes" | awk '{ s += $2 } END { print s + 0 }')
	[ $((gone - added)) = "$freed" ] ||
	    fail "$p: $((gone - added)) bytes went, --dry-run said $freed"
	expect 0 "$AMBER" prune "$R/store" --grace 0s --json
	python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["snapshots"] == 0 and p["packs"] == 0, p' "$T/out" ||
	    fail "$p: a rerun had work left"
	expect 0 "$AMBER" verify "$R/store" --read-data
	check_kept "$R" "after $p, finished"
	echo "$p: killed $killed times, then finished"
	chattr -R -i "$R"
done
[ "$n_kills" -ge 10 ] || fail "only $n_kills kills: the kill points are off"
echo "ok: $n_kills kills over $(echo $points | wc -w) kill points"
