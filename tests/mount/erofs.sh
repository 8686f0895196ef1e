#!/bin/sh
# Every write-type operation fails with EROFS, inside snapshots and at the
# top level, even when the options ask for rw; -o allow_other brings
# default_permissions with it, so other users get only what the stored
# modes allow.
. "$AMBER_TOP/tests/mount/lib.sh"

mk_store S
mkdir -p src/dir/sub
echo data >src/file
echo secret >src/dir/secret
chmod 0600 src/dir/secret
chmod 0755 src src/dir
ln -s file src/link
ingest S --dir w="$T/src"

M=$T/m
mount_fg S "$M" -o rw
grep " $M fuse.amberfs ro," /proc/mounts >/dev/null ||
    fail "not mounted ro: $(grep " $M " /proc/mounts)"
grep " $M fuse.amberfs [^ ]*nosuid,nodev" /proc/mounts >/dev/null ||
    fail "not nosuid,nodev: $(grep " $M " /proc/mounts)"

python3 - "$M" "$SNAP" <<'PY' || fail "some write did not give EROFS"
import errno, os, sys
m, snap = sys.argv[1], sys.argv[2]
w = os.path.join(m, "snapshots", snap, "files", "w")
bad = 0

def expect(what, fn, *args):
    global bad
    try:
        fn(*args)
    except OSError as e:
        if e.errno == errno.EROFS:
            return
        print(f"{what}: {os.strerror(e.errno)} instead of EROFS")
        bad += 1
        return
    print(f"{what}: succeeded")
    bad += 1

for d in (w, os.path.join(w, "dir"), m, os.path.join(m, "snapshots")):
    expect("create in " + d, os.open, os.path.join(d, "new"),
           os.O_CREAT | os.O_WRONLY, 0o644)
    expect("mkdir in " + d, os.mkdir, os.path.join(d, "newdir"))
    expect("mkfifo in " + d, os.mkfifo, os.path.join(d, "newfifo"))
    expect("symlink in " + d, os.symlink, "x", os.path.join(d, "newlink"))
f = os.path.join(w, "file")
expect("open O_WRONLY", os.open, f, os.O_WRONLY)
expect("open O_RDWR", os.open, f, os.O_RDWR)
expect("open O_TRUNC", os.open, f, os.O_RDONLY | os.O_TRUNC)
expect("open O_APPEND", os.open, f, os.O_WRONLY | os.O_APPEND)
expect("unlink", os.unlink, f)
expect("unlink symlink", os.unlink, os.path.join(w, "link"))
expect("rmdir", os.rmdir, os.path.join(w, "dir", "sub"))
expect("rmdir snapshot", os.rmdir, os.path.join(m, "snapshots", snap))
expect("rename", os.rename, f, os.path.join(w, "moved"))
expect("rename top", os.rename, os.path.join(m, "by-date"),
       os.path.join(m, "x"))
expect("link", os.link, f, os.path.join(w, "hard"))
expect("truncate", os.truncate, f, 0)
expect("chmod", os.chmod, f, 0o777)
expect("chmod dir", os.chmod, w, 0o777)
expect("chown", os.chown, f, 1, 1)
expect("utime", os.utime, f, (0, 0))
expect("utime top", os.utime, m, (0, 0))
expect("setxattr", os.setxattr, f, "user.x", b"1")
expect("removexattr", os.removexattr, f, "user.x")
with open(f, "rb") as fh:
    assert fh.read() == b"data\n"
sys.exit(1 if bad else 0)
PY

# The shell's own words for it.
touch "$M/snapshots/$SNAP/files/w/new" 2>"$T/err" && fail "touch worked"
grep -q "Read-only file system" "$T/err" || fail "touch: $(cat "$T/err")"
rm -f "$M/snapshots/$SNAP/files/w/file" 2>"$T/err" && fail "rm worked"
grep -q "Read-only file system" "$T/err" || fail "rm: $(cat "$T/err")"
unmount "$M" "$FSPID"

note "allow_other implies default_permissions"
chmod 0755 "$T"
mount_fg S "$M" -o allow_other
grep " $M fuse.amberfs [^ ]*default_permissions" /proc/mounts >/dev/null ||
    fail "allow_other without default_permissions: $(grep " $M " /proc/mounts)"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	w=$M/snapshots/$SNAP/files/w
	setpriv --reuid=65534 --regid=65534 --clear-groups cat "$w/file" \
	    >"$T/out" 2>&1 || fail "nobody cannot read 0644: $(cat "$T/out")"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    cat "$w/dir/secret" >"$T/out" 2>&1 &&
	    fail "nobody read a 0600 file of root"
	grep -q "Permission denied" "$T/out" || fail "secret: $(cat "$T/out")"
	cat "$w/dir/secret" >/dev/null || fail "root cannot read secret"
fi
unmount "$M" "$FSPID"
echo ok
