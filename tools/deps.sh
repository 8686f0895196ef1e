#!/bin/sh
# tools/deps.sh: install the Debian packages amber needs to build and test,
# when run as root; otherwise print the apt-get line.  Quiet when nothing
# is missing.  The Ceph packages give the S3 tests a real S3 server with
# Object Lock (radosgw) on 127.0.0.1.
PKGS="build-essential pkg-config libfuse3-dev fuse3 liblmdb-dev libzstd-dev
libssl-dev libcurl4-openssl-dev libexpat1-dev libjansson-dev mandoc git python3
e2fsprogs rsync attr clang libclang-rt-14-dev curl
ceph-mon ceph-osd radosgw ceph-common"
[ -n "${AMBER_DEPS_EXTRA:-}" ] && PKGS="$PKGS $AMBER_DEPS_EXTRA"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "amber: missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "amber: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null &&
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
