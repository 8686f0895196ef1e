#!/bin/sh
# git_config.sh: git works through the configs amberfs serves in place of
# the stored ones (amberfs(1)): a SHA-256 mirror under repos/ and SHA-1
# and SHA-256 work trees backed up under files/ keep their object format,
# so git log, fsck and status work in place and a clone from the mirror
# is whole; the served config is 512 bytes of amberfs's own, while amber
# cat gives the stored one; a file named config beside no HEAD, refs or
# objects is served as stored.
. "$AMBER_TOP/tests/mount/lib.sh"
command -v git >/dev/null 2>&1 || skip "no git"
git init -q --object-format=sha256 s256 2>/dev/null ||
    skip "git without sha256"
gitc() { git -c user.name=t -c user.email=t@x "$@"; }
echo x >s256/x && gitc -C s256 add x && gitc -C s256 commit -qm x ||
    fail "sha256 commit"
gitc init -q w/s1 && echo y >w/s1/y && gitc -C w/s1 add y &&
    gitc -C w/s1 commit -qm y || fail "sha1 commit"
cp -a s256 w/s256
git -C w/s1 config remote.origin.url https://example.com/s1.git
mkdir w/plain && printf 'a = 1\n' >w/plain/config
mk_store S
ingest S --repo h="$T/s256" --dir w="$T/w"
mount_fg S m
R=$T/m/snapshots/$SNAP

[ "$(git -C "$R/repos/h.git" rev-parse HEAD)" = \
    "$(git -C s256 rev-parse HEAD)" ] || fail "sha256 mirror HEAD"
git -C "$R/repos/h.git" fsck --no-progress >fsck.out 2>&1 ||
    { cat fsck.out; fail "fsck of the sha256 mirror"; }
git clone -q "$R/repos/h.git" clone || fail "clone of the sha256 mirror"
cmp clone/x s256/x || fail "clone content"
for d in s1 s256; do
	[ "$(git -C "$R/files/w/$d" rev-parse HEAD)" = \
	    "$(git -C "w/$d" rev-parse HEAD)" ] || fail "$d: HEAD"
	git -C "$R/files/w/$d" log --oneline >/dev/null ||
	    fail "$d: git log in the mount"
	git -C "$R/files/w/$d" status --porcelain >/dev/null 2>&1 ||
	    fail "$d: git status in the mount"
done
c=$R/files/w/s1/.git/config
[ "$(stat -c '%s %a %F' "$c")" = "512 444 regular file" ] ||
    fail "served config: $(stat -c '%s %a %F' "$c")"
grep -q example.com "$c" && fail "the stored config is served"
"$AMBER" cat S "$SNAP:files/w/s1/.git/config" | grep -q example.com ||
    fail "amber cat lost the stored config"
grep -q 'objectformat = sha256' "$R/files/w/s256/.git/config" ||
    fail "sha256 work tree: no objectformat"
grep -q 'bare = true' "$R/repos/h.git/config" || fail "mirror: not bare"
cmp "$R/files/w/plain/config" w/plain/config ||
    fail "a config in no git directory is not served as stored"
unmount "$T/m" "$FSPID"
echo ok
