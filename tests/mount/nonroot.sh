#!/bin/sh
# A user other than root mounts a store through fusermount3: the mount is
# theirs alone (root included is kept out, as FUSE does without
# allow_other), files read back with their stored owners and modes,
# writes give EROFS, git clones the stored mirror (its directory shows as
# the user's own, or git would refuse it), and fusermount3 -u by that user
# ends the daemon.  Then root mounts with allow_other, and both root and
# the other user clone the mirror, each seeing it as their own.
# Needs root to set up the user's side; /dev/fuse must be open to users
# (Debian's default is 0666; where it is not, as on some CI machines, the
# test opens it for its own run and puts the mode back).
. "$AMBER_TOP/tests/mount/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to act as another user"
command -v setpriv >/dev/null 2>&1 || skip "no setpriv"
U=65534
G=65534
id -u nobody >/dev/null 2>&1 || skip "no user nobody"
as_user() {
	setpriv --reuid=$U --regid=$G --clear-groups \
	    env HOME="$T/home" XDG_CACHE_HOME="$T/ucache" "$@"
}

old_mode=$(stat -c %a /dev/fuse)
restore_fuse() { chmod "$old_mode" /dev/fuse 2>/dev/null; }
trap 'cleanup; restore_fuse' EXIT
case $old_mode in
*6) ;;
*) chmod 0666 /dev/fuse || skip "cannot open /dev/fuse to users" ;;
esac

chmod 0755 "$T"
mk_store S
mkdir -p src/sub
echo secret >src/sub/f
chmod 0600 src/sub/f
ln -s sub/f src/link
command -v git >/dev/null 2>&1 || fail "no git"
git init -q -b main gitsrc || fail "git init"
echo one >gitsrc/a
git -C gitsrc add a &&
    git -C gitsrc -c user.name=t -c user.email=t@x commit -qm one ||
    fail "git commit"
head_want=$(git -C gitsrc rev-parse HEAD)
ingest S --dir d="$T/src" --repo r="$T/gitsrc"
chmod -R a+rX S
mkdir -p home ucache m out
chown $U:$G home ucache m out

note "the user mounts"
rm -f ready
mkfifo ready
as_user "$AMBERFS" "$T/S" "$T/m" -f -o ready_fd=3 3>ready \
    2>>amberfs.log &
FSPID=$!
PIDS="$PIDS $FSPID"
MOUNTS="$MOUNTS $T/m"
n=$(timeout 60 head -c 1 ready | wc -c)
[ "$n" -eq 1 ] || { cat amberfs.log >&2; fail "no ready byte"; }
grep -q " $T/m fuse.amberfs .*user_id=$U" /proc/mounts ||
    fail "not mounted as user $U: $(grep "$T/m" /proc/mounts)"

note "it reads back as stored, for that user"
[ "$(as_user cat "$T/m/latest/files/d/sub/f")" = secret ] ||
    fail "cat as the user"
[ "$(as_user stat -c '%u %a' "$T/m/latest/files/d/sub/f")" = "0 600" ] ||
    fail "owner and mode: $(as_user stat -c '%u %a' \
	"$T/m/latest/files/d/sub/f")"
[ "$(as_user readlink "$T/m/latest/files/d/link")" = sub/f ] ||
    fail "symlink"
as_user cp -a "$T/m/latest/files/d/sub" "$T/out/" || fail "cp -a"
cmp -s "$T/out/sub/f" src/sub/f || fail "cp -a gave other bytes"
if as_user sh -c "echo x >'$T/m/latest/files/d/new'" 2>err; then
	fail "a write succeeded"
fi
grep -qi "read-only" err || fail "write: $(cat err)"

note "the user clones the stored mirror"
[ "$(as_user stat -c %u "$T/m/latest/repos/r.git")" = $U ] ||
    fail "mirror owner for the user: $(as_user stat -c %u \
	"$T/m/latest/repos/r.git")"
as_user git clone -q "$T/m/latest/repos/r.git" "$T/out/clone" 2>err ||
    fail "git clone as the user: $(cat err)"
[ "$(as_user git -C "$T/out/clone" rev-parse HEAD)" = "$head_want" ] ||
    fail "the clone's HEAD"

note "others, root included, are kept out"
if ls "$T/m/latest/" >/dev/null 2>err; then
	fail "root could list another user's mount"
fi
grep -q "Permission denied" err || fail "root: $(cat err)"

note "fusermount3 -u by the user ends the daemon"
as_user fusermount3 -u "$T/m" || fail "fusermount3 -u as the user"
daemon_exits "$FSPID"

note "root mounts with allow_other: each user clones the mirror as theirs"
mount_fg S "$T/m2" -o allow_other
[ "$(stat -c %u "$T/m2/latest/repos/r.git")" = 0 ] ||
    fail "mirror owner for root: $(stat -c %u "$T/m2/latest/repos/r.git")"
[ "$(as_user stat -c %u:%g "$T/m2/latest/repos/r.git")" = $U:$G ] ||
    fail "mirror owner for the user: $(as_user stat -c %u:%g \
	"$T/m2/latest/repos/r.git")"
[ "$(stat -c %u "$T/m2/latest/repos/r.git")" = 0 ] ||
    fail "root sees the user's ids after the user looked"
git clone -q "$T/m2/latest/repos/r.git" "$T/clone-root" 2>err ||
    fail "git clone as root: $(cat err)"
as_user git clone -q "$T/m2/latest/repos/r.git" "$T/out/clone2" 2>err ||
    fail "git clone as the user: $(cat err)"
[ "$(as_user git -C "$T/out/clone2" rev-parse HEAD)" = "$head_want" ] ||
    fail "the user's clone's HEAD"
unmount "$T/m2" "$FSPID"
exit 0
