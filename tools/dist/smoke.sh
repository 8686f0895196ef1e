#!/bin/sh
# tools/dist/smoke.sh: use the installed package's /usr/bin/amber and
# /usr/bin/amberfs as a user would: make a local store, ingest a small
# directory, mount it, read a file back, unmount.  .ci/run runs it after
# `apt-get install ./build/amber_*.deb`; `make check` does not (it
# needs the package installed, and root for apt).  A few seconds; any
# failure exits non-zero with a line saying what failed.
set -eu
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
for b in /usr/bin/amber /usr/bin/amberfs; do
	[ -x $b ] || fail "$b is not installed"
done
dpkg-query -W -f='${Status}' amber 2>/dev/null | grep -q "ok installed" ||
    fail "the package amber is not installed"
T=$(mktemp -d /tmp/amber-smoke.XXXXXX) || fail "mktemp"
cleanup() {
	if grep -q " $T/mnt fuse" /proc/mounts 2>/dev/null; then
		fusermount3 -u "$T/mnt" 2>/dev/null || umount -l "$T/mnt"
	fi
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
export XDG_CACHE_HOME="$T/cache" AMBER_PASSPHRASE="package smoke test"
unset AMBER_PASSPHRASE_FILE

mkdir -p "$T/src/sub" "$T/mnt"
echo "read back through the installed amberfs" >"$T/src/sub/hello.txt"
/usr/bin/amber init "$T/store" --kdf log2n=10,r=8,p=1 -q ||
    fail "amber init"
/usr/bin/amber ingest "$T/store" --dir src="$T/src" -q || fail "amber ingest"
/usr/bin/amberfs "$T/store" "$T/mnt" || fail "amberfs did not mount"
grep -q " $T/mnt fuse.amberfs " /proc/mounts ||
    fail "$T/mnt is not an amberfs mount: $(grep " $T/mnt " /proc/mounts)"
cmp "$T/src/sub/hello.txt" "$T/mnt/latest/files/src/sub/hello.txt" ||
    fail "the file read through the mount differs"
fusermount3 -u "$T/mnt" || fail "fusermount3 -u"
! grep -q " $T/mnt " /proc/mounts || fail "still mounted after unmount"
# What else the package put in place.
for m in man1/amber.1 man1/amberfs.1 man5/amber-store.5; do
	[ -s /usr/share/man/$m.gz ] || fail "no /usr/share/man/$m.gz"
done
bash -c '. /usr/share/bash-completion/completions/amber &&
    complete -p amber' >/dev/null || fail "the bash completion does not load"
getent passwd amber >/dev/null || fail "no user amber"
# The units as systemd reads them (the binary and man pages they name).
if command -v systemd-analyze >/dev/null && command -v man >/dev/null; then
	systemd-analyze verify /lib/systemd/system/amber-ingest@.timer \
	    /lib/systemd/system/amber-ingest@.service ||
	    fail "systemd-analyze verify amber-ingest@"
fi
echo "smoke: the installed package ingested, mounted and read back"
