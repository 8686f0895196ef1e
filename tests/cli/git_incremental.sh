#!/bin/sh
# git_incremental.sh: a second ingest after new commits stores one new
# pack holding exactly the new objects beside the first pack; diff -r of
# a branch between the two snapshots shows exactly the commits' changes;
# a file comes out of an old tag; an unchanged repository adds almost
# nothing; a lost local cache or an ingest-only key still gives one new
# pack; a rewound branch (force push) repacks into one clean pack.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/git_common.inc"

# mirror_ok N PACKS WHAT: snapshot N holds the mirror in PACKS packs, and
# restored (to $T/mN) it has the refs of $T/src and passes git fsck.
mirror_ok() {
	_s=$(snap_name "$1")
	[ "$(n_packs "$_s")" = "$2" ] || fail "$3: not $2 packs"
	expect 0 "$AMBER" restore "$S" "$_s:repos/r.git" "$T/m$1"
	refs_same "$T/src" "$T/m$1/r.git"
	fsck_clean "$T/m$1/r.git"
}

S=$T/store
make_repo "$T/src" 200
new_store "$S"
expect 0 "$AMBER" ingest "$S" --repo r="$T/src" --json
added1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["added"])' "$T/out")
git -C "$T/src" for-each-ref --format='%(objectname)' | sort -u >"$T/old.tips"
old_main=$(git -C "$T/src" rev-parse main)

# Ten new commits (one adds a file, one renames one), a new branch, a
# new tag.
commit_n "$T/src" 201 210
(cd "$T/src" && when 1100 && git rm -q bin/dangling &&
    git mv src/f100.c src/renamed.c &&
    git commit -q -m "drop dangling" && git branch later &&
    git tag -a -m later v3.0) || fail "more commits"
expect 0 "$AMBER" ingest "$S" --repo r="$T/src" --json
added2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["added"])' "$T/out")
s1=$(snap_name 1)
s2=$(snap_name 2)
[ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" != "$s2" ] || fail "two snapshots"

# Two packs; the new one holds exactly the objects not reachable before.
mirror_ok 2 2 "second ingest"
want=$(git -C "$T/src" rev-list --objects --all --not $(cat "$T/old.tips") |
    wc -l)
"$AMBER" ls "$S" "$s1:repos/r.git/objects/pack" </dev/null >"$T/p1"
new_idx=$(ls "$T/m2/r.git/objects/pack/" | grep '\.idx$' |
    grep -v -F -f "$T/p1")
[ "$(echo "$new_idx" | wc -l)" = 1 ] || fail "not one new idx: $new_idx"
got=$(git show-index <"$T/m2/r.git/objects/pack/$new_idx" | wc -l)
[ "$got" = "$want" ] || fail "new pack holds $got objects, not $want"
# The increment costs a small fraction of the first ingest.
[ "$added2" -lt $((added1 / 4)) ] ||
    fail "second ingest added $added2 bytes (first: $added1)"

# diff -r between the snapshots shows exactly what the commits changed.
expect 0 "$AMBER" restore "$S" "$s1:repos/r/branches/main" "$T/d1"
expect 0 "$AMBER" restore "$S" "$s2:repos/r/branches/main" "$T/d2"
(cd "$T" && diff -r --no-dereference d1/main d2/main) >"$T/diff.out"
[ $? -eq 1 ] || fail "diff -r found no change"
grep -E '^(Only in|diff -r)' "$T/diff.out" |
    sed -e 's|^diff -r --no-dereference d1/main/\([^ ]*\) .*|\1|' \
    -e 's|^Only in d1/main\(/*\)\([^:]*\): \(.*\)|\2\1\3|' \
    -e 's|^Only in d2/main\(/*\)\([^:]*\): \(.*\)|\2\1\3|' |
    sed 's|^/||' | sort >"$T/changed.got"
git -C "$T/src" diff --no-renames --name-only "$old_main" main | sort >"$T/changed.want"
cmp -s "$T/changed.got" "$T/changed.want" || {
	diff "$T/changed.want" "$T/changed.got" >&2
	fail "diff -r does not show exactly the commits' changes"
}
# The new branch and tag appear; the old snapshot is unchanged.
expect 0 "$AMBER" ls "$S" "$s2:repos/r/branches"
out_has later
expect 0 "$AMBER" ls "$S" "$s1:repos/r/branches"
grep -q later "$T/out" && fail "old snapshot shows a new branch"

# One file out of an old tag, as it was.
expect 0 "$AMBER" restore "$S" "$s1:repos/r/tags/v1.0/src/log.txt" "$T/one"
git -C "$T/src" show v1.0:src/log.txt >"$T/want.log"
cmp -s "$T/one/log.txt" "$T/want.log" || fail "file from tag v1.0"
expect 0 "$AMBER" cat "$S" "$s2:repos/r/tags/v1.0/bin/blob.bin"
cmp -s "$T/out" "$T/src/bin/blob.bin" || fail "amber cat from a tag"

# Nothing changed: the packs are reused as stored, little is added.
expect 0 "$AMBER" ingest "$S" --repo r="$T/src" --json
added3=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["added"])' "$T/out")
[ "$added3" -lt 8192 ] || fail "unchanged repository added $added3 bytes"
s3=$(snap_name 3)
"$AMBER" ls "$S" "$s3:repos/r.git/objects/pack" </dev/null >"$T/p3"
"$AMBER" ls "$S" "$s2:repos/r.git/objects/pack" </dev/null >"$T/p2"
cmp -s "$T/p2" "$T/p3" || fail "unchanged repository changed its packs"

# The local cache lost: the packs are found again in the last snapshot,
# and the next ingest still adds one pack only.
rm -rf "$XDG_CACHE_HOME"
commit_n "$T/src" 211 212
expect 0 "$AMBER" ingest "$S" --repo r="$T/src"
mirror_ok 4 3 "after losing the cache"

# An ingest-only key (which cannot read snapshots back) increments too.
expect 0 "$AMBER" key new-ingest "$S" --output "$T/ingest.key"
commit_n "$T/src" 213 214
expect 0 "$AMBER" ingest "$S" --key-file "$T/ingest.key" --repo r="$T/src"
mirror_ok 5 4 "ingest key"

# A force push (main rewound, a branch deleted): everything repacked into
# one pack with no unreachable object.
(cd "$T/src" && git reset -q --hard HEAD~3 && git branch -q -D later &&
    git tag -d v3.0 >/dev/null && git reflog expire --expire=now --all &&
    git gc -q --prune=now) || fail "rewind"
expect 0 "$AMBER" ingest "$S" --repo r="$T/src"
mirror_ok 6 1 "after a rewind"
# And the older snapshot still restores its own history.
expect 0 "$AMBER" restore "$S" "$s2:repos/r.git" "$T/m2b"
git -C "$T/m2b/r.git" rev-parse -q --verify refs/heads/later >/dev/null ||
    fail "snapshot 2 lost branch later"
fsck_clean "$T/m2b/r.git"
echo "added: first $added1, second $added2, unchanged $added3"
exit 0
