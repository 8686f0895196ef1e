#!/bin/sh
# tools/deps.sh [demo|check]: install the Debian packages amber needs,
# when run as root; otherwise print the apt-get line.  Quiet when nothing
# is missing.  "demo" is what `make demo` needs: the build dependencies,
# fuse3 and git.  "check" (the default) adds what the tests use: mandoc,
# clang for the fuzz targets, and Ceph, whose radosgw gives the S3 tests a
# real S3 server with Object Lock on 127.0.0.1.
#
# As another user, a missing build dependency is an error (exit 1); a
# missing test package is not: the tests that need it report themselves
# skipped, with the reason.
BUILD="build-essential pkg-config libfuse3-dev fuse3 liblmdb-dev libzstd-dev
libssl-dev libcurl4-openssl-dev libexpat1-dev libjansson-dev git"
TEST="mandoc python3 e2fsprogs rsync attr strace clang libclang-rt-14-dev curl
ceph-mon ceph-osd radosgw ceph-common"
case "${1:-check}" in
demo)	PKGS=$BUILD ;;
check)	PKGS="$BUILD $TEST" ;;
*)	echo "usage: tools/deps.sh [demo|check]" >&2; exit 2 ;;
esac
[ -n "${AMBER_DEPS_EXTRA:-}" ] && PKGS="$PKGS $AMBER_DEPS_EXTRA"
# Elsewhere than Debian there is no package list to read: the build
# fails with pkg-config's own message if a library is missing, and the
# tests that need a program skip.
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "amber: not a Debian system; packages are not checked (tools/deps.sh lists them)" >&2
	exit 0
fi
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}
missing=""
for p in $PKGS; do
	installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "amber: missing packages; as root run:" >&2
	echo "  apt-get install -y$missing" >&2
	for p in $BUILD; do
		case " $missing " in *" $p "*) exit 1 ;; esac
	done
	echo "amber: going on without them; tests that need them will skip" >&2
	exit 0
fi
echo "amber: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null &&
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
