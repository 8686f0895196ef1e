#!/bin/sh
# git_hostile.sh: unusual and hostile repositories: empty, shallow,
# detached HEAD, odd ref names (encoded unambiguously, too long ones
# warned about but kept in the mirror), a large blob (streamed, bytes
# intact), sha256 objects, a corrupt object (a clear error naming it,
# while the other sources of the run are stored), and a damaged local
# mirror cache (dropped, then cloned afresh).
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/git_common.inc"

S=$T/store
new_store "$S"

# Empty: a valid empty mirror, empty branches/ and tags/, no HEAD link.
git init -q "$T/empty" || fail "git init"
expect 0 "$AMBER" ingest "$S" --repo e="$T/empty"
expect 0 "$AMBER" restore "$S" latest:repos/e.git "$T/me"
[ -z "$(git -C "$T/me/e.git" for-each-ref)" ] || fail "empty: refs"
fsck_clean "$T/me/e.git"
git clone -q "$T/me/e.git" "$T/ce" 2>/dev/null || fail "clone of empty"
expect 0 "$AMBER" ls "$S" latest:repos/e/branches
[ ! -s "$T/out" ] || fail "empty: branches/ not empty"
expect 0 "$AMBER" ls "$S" latest:repos/e
[ "$(cat "$T/out")" = "$(printf 'branches\ntags')" ] ||
    fail "empty: browsable root is $(cat "$T/out")"

# Shallow: what exists plus the shallow file.
make_repo "$T/src" 40
git clone -q --depth 3 "file://$T/src" "$T/shallow" || fail "shallow clone"
expect 0 "$AMBER" ingest "$S" --repo s="$T/shallow"
expect 0 "$AMBER" restore "$S" latest:repos/s.git "$T/ms"
[ -f "$T/ms/s.git/shallow" ] || fail "shallow file not stored"
cmp -s "$T/ms/s.git/shallow" "$T/shallow/.git/shallow" ||
    fail "shallow file differs"
refs_same "$T/shallow" "$T/ms/s.git"
fsck_clean "$T/ms/s.git"
n=$(git -C "$T/shallow" rev-list --count --all)
[ "$(git -C "$T/ms/s.git" rev-list --count --all)" = "$n" ] ||
    fail "shallow history"
[ "$n" -lt "$(git -C "$T/src" rev-list --count --all)" ] ||
    fail "the shallow clone is not shallow"

# Odd ref names, a detached HEAD, refs to a blob and a tree.
git clone -q "$T/src" "$T/odd" || fail "clone"
long=$(printf 'x%.0s' $(seq 1 130))
(cd "$T/odd" && set -e
    git branch 'a/b'
    git branch 'a%2Fb'
    git branch 'ünï/cödé'
    git branch "deep/$long/$long"
    git tag 'v1/rc%1'
    git checkout -q --detach HEAD~2) || fail "odd refs"
expect 3 "$AMBER" ingest "$S" --repo o="$T/odd"
err_has "ref refs/heads/deep/xxx"
expect 0 "$AMBER" restore "$S" latest:repos/o "$T/mo"
B=$T/mo/o
[ -d "$B/branches/a%2Fb" ] && [ -d "$B/branches/a%252Fb" ] ||
    fail "a/b and a%2Fb must map to two names"
[ -d "$B/branches/ünï%2Fcödé" ] || fail "unicode branch"
[ -d "$B/tags/v1%2Frc%251" ] || fail "tag v1/rc%1"
[ -d "$B/HEAD" ] && [ ! -L "$B/HEAD" ] || fail "detached HEAD: no directory"
rm -rf "$T/arch"
archive_tree "$T/odd" HEAD "$T/arch"
diff -r --no-dereference -x .gitlink "$T/arch" "$B/HEAD" >&2 ||
    fail "detached HEAD tree"
expect 0 "$AMBER" restore "$S" latest:repos/o.git "$T/mo2"
refs_same "$T/odd" "$T/mo2/o.git"
fsck_clean "$T/mo2/o.git"
[ "$(git -C "$T/mo2/o.git" rev-parse HEAD)" = \
    "$(git -C "$T/odd" rev-parse HEAD)" ] || fail "detached HEAD in mirror"
git -C "$T/mo2/o.git" rev-parse -q --verify "refs/heads/deep/$long/$long" \
    >/dev/null || fail "long ref lost from the mirror"

# A large blob (more than a few chunks), streamed, bytes intact.
git init -q "$T/big" || fail "git init big"
python3 -c 'import random, sys
r = random.Random(7)
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(3 << 20)) * 8)' \
    >"$T/big/big.bin"
(cd "$T/big" && when 1 && git add big.bin && git commit -q -m big) ||
    fail "big commit"
expect 0 "$AMBER" ingest "$S" --repo big="$T/big"
expect 0 "$AMBER" cat "$S" latest:repos/big/branches/main/big.bin
cmp -s "$T/out" "$T/big/big.bin" || fail "big blob bytes"

# sha256 repositories.
if git init -q --object-format=sha256 "$T/s256" 2>/dev/null; then
	(cd "$T/s256" && when 2 && echo x >x && git add x &&
	    git commit -q -m x && git tag -a -m t t1) || fail "sha256 commit"
	expect 0 "$AMBER" ingest "$S" --repo h="$T/s256"
	expect 0 "$AMBER" restore "$S" latest:repos/h.git "$T/mh"
	refs_same "$T/s256" "$T/mh/h.git"
	fsck_clean "$T/mh/h.git"
	expect 0 "$AMBER" cat "$S" latest:repos/h/tags/t1/x
	[ "$(cat "$T/out")" = x ] || fail "sha256 browse"
fi

# A corrupt object: a clear error naming it; the other source is stored.
git init -q "$T/bad" || fail "git init bad"
(cd "$T/bad" && when 3 && echo hello >x && echo fine >y && git add . &&
    git commit -q -m c) || fail "bad commit"
oid=$(git -C "$T/bad" rev-parse HEAD:x)
f=$T/bad/.git/objects/$(echo "$oid" | cut -c1-2)/$(echo "$oid" | cut -c3-)
chmod u+w "$f" && printf 'garbage, not zlib' >"$f" || fail "corrupting"
expect 3 "$AMBER" ingest "$S" --repo bad="$T/bad" --repo good="$T/src"
err_has "$oid"
err_has "repos/bad"
expect 0 "$AMBER" ls "$S" latest:repos
out_has good.git
grep -q '^bad' "$T/out" && fail "a corrupt repository was stored"
expect 0 "$AMBER" restore "$S" latest:repos/good.git "$T/mg"
refs_same "$T/src" "$T/mg/good.git"

# A damaged local mirror cache (not the source): the run names the object
# (the mirror, unchanged, is reused as stored; the tree lacks the file),
# drops the cache, and the next ingest clones afresh and stores it whole.
D=$T/index
mkdir -p "$D/git"
git clone -q --mirror --no-local "$T/big" "$D/git/big" || fail "cache clone"
chmod -R u+w "$D/git/big/objects"
pack=$(ls "$D/git/big/objects/pack/"*.pack)
printf 'XXXXXXXXXXXXXXXXXXXXXXXX' |
    dd of="$pack" bs=1 seek=100000 conv=notrunc 2>/dev/null || fail "dd"
big_oid=$(git -C "$T/big" rev-parse HEAD:big.bin)
expect 3 "$AMBER" ingest "$S" --index-dir "$D" --repo big="$T/big"
err_has "$big_oid"
err_has "local mirror cache"
[ ! -e "$D/git/big" ] || fail "damaged cache kept"
expect 0 "$AMBER" ingest "$S" --index-dir "$D" --repo big="$T/big"
expect 0 "$AMBER" cat "$S" --index-dir "$D" latest:repos/big/branches/main/big.bin
cmp -s "$T/out" "$T/big/big.bin" || fail "big blob after the cache healed"
exit 0
