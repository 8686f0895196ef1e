#!/bin/sh
# A user other than root mounts a store through fusermount3: the mount is
# theirs alone (root included is kept out, as FUSE does without
# allow_other), files read back with their stored owners and modes,
# writes give EROFS, and fusermount3 -u by that user ends the daemon.
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
ingest S --dir d="$T/src"
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

note "others, root included, are kept out"
if ls "$T/m/latest/" >/dev/null 2>err; then
	fail "root could list another user's mount"
fi
grep -q "Permission denied" err || fail "root: $(cat err)"

note "fusermount3 -u by the user ends the daemon"
as_user fusermount3 -u "$T/m" || fail "fusermount3 -u as the user"
i=0
while kill -0 "$FSPID" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "amberfs still running after unmount"
	sleep 0.1
done
wait "$FSPID"
rc=$?
[ $rc -eq 0 ] || fail "amberfs exited $rc"
exit 0
