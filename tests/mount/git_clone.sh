#!/bin/sh
# git_clone.sh: repositories through the mount: git clone and git fsck
# straight from snapshots/<t>/repos/NAME.git (owned by the mounting user,
# so git's ownership check passes), git log in the clone, diff -r of a
# branch between two snapshots showing exactly the new commits' changes,
# cp of one file out of an old tag, and mtimes equal to the tip's commit
# time.
. "$AMBER_TOP/tests/mount/lib.sh"
GIT_SAFE_DIRECTORY_CHECK=1
. "$AMBER_TOP/tests/cli/git_common.inc"

S=$T/S
mk_store "$S"
make_repo "$T/src" 120
git -C "$T/src" for-each-ref >"$T/refs1"
old_main=$(git -C "$T/src" rev-parse main)
ingest "$S" --repo r="$T/src"
S1=$SNAP
commit_n "$T/src" 121 130
(cd "$T/src" && when 1200 && git mv src/f100.c src/renamed.c &&
    git commit -q -m rename && git tag -a -m v3 v3.0) || fail "commits"
ingest "$S" --repo r="$T/src"
S2=$SNAP
[ "$S1" != "$S2" ] || fail "one snapshot name for two ingests"

M=$T/m
mount_fg "$S" "$M"
R1=$M/snapshots/$S1/repos
R2=$M/snapshots/$S2/repos

# The mirror is owned by us and git works on it in place, read-only.
[ "$(stat -c %u "$R2/r.git/packed-refs")" = "$(id -u)" ] ||
    fail "mirror not owned by the mounting user"
git -C "$R2/r.git" for-each-ref >"$T/refs.m" || fail "for-each-ref on mount"
git -C "$T/src" for-each-ref >"$T/refs2"
cmp -s "$T/refs.m" "$T/refs2" || fail "refs through the mount"
git -C "$R2/r.git" fsck --full --no-progress >"$T/fsck.out" 2>&1 ||
    { cat "$T/fsck.out"; fail "git fsck on the mount"; }
[ ! -s "$T/fsck.out" ] || { cat "$T/fsck.out"; fail "fsck reported"; }

# Clone from each snapshot: the old one has the old refs.
git clone -q --mirror "$R1/r.git" "$T/c1.git" || fail "clone snapshot 1"
git -C "$T/c1.git" for-each-ref >"$T/refs.c1"
cmp -s "$T/refs1" "$T/refs.c1" || fail "refs of the clone of snapshot 1"
git clone -q "$R2/r.git" "$T/c2" || fail "clone snapshot 2"
git -C "$T/c2" log --oneline >"$T/log.c2" || fail "git log in the clone"
[ "$(wc -l <"$T/log.c2")" = "$(git -C "$T/src" rev-list --count main)" ] ||
    fail "git log length in the clone"
git -C "$T/c2" fsck --full --no-progress >/dev/null 2>&1 ||
    fail "fsck of the clone"

# diff -r between the two days: exactly the commits' changes.
(cd "$M/snapshots" && diff -rq --no-dereference \
    "$S1/repos/r/branches/main" "$S2/repos/r/branches/main") \
    >"$T/diff.out"
[ $? -eq 1 ] || fail "diff -r saw no change"
sed -e "s|^Files $S1/repos/r/branches/main/\([^ ]*\) and .*|\1|" \
    -e "s|^Only in [^/]*/repos/r/branches/main\(/*\)\([^:]*\): \(.*\)|\2\1\3|" \
    "$T/diff.out" | sed 's|^/||' | sort >"$T/changed.got"
git -C "$T/src" diff --no-renames --name-only "$old_main" main | sort \
    >"$T/changed.want"
cmp -s "$T/changed.got" "$T/changed.want" || {
	diff "$T/changed.want" "$T/changed.got"
	fail "diff -r through the mount is not exactly the change"
}

# cp one file out of an old tag; mtimes are the tip's commit time.
cp "$R1/r/tags/v1.0/src/log.txt" "$T/log.v1" || fail "cp from a tag"
git -C "$T/src" show v1.0:src/log.txt | cmp -s - "$T/log.v1" ||
    fail "file from tag v1.0"
tip=$(git -C "$T/src" log -1 --format=%ct main)
[ "$(stat -c %Y "$R2/r/branches/main/src/log.txt")" = "$tip" ] ||
    fail "mtime through the mount"
[ "$(readlink "$R2/r/HEAD")" = branches/main ] || fail "HEAD link"
# The mode shows the x bit (test -x asks access(2), which a noexec
# mount answers no to whatever the mode).
stat -c %A "$R2/r/branches/main/bin/run.sh" | grep -q '^-rwxr-xr-x' ||
    fail "x bit through the mount"
[ "$(readlink "$R2/r/branches/main/bin/outside")" = \
    ../../../../etc/passwd ] || fail "symlink through the mount"

unmount "$M" "$FSPID"
exit 0
