#!/bin/sh
# tests/bench/prepare.sh: install what the benchmark needs and prepare its
# data once, in $AMBER_BENCH_DIR (default /var/tmp/amber-bench):
#
#   data/base     Debian's linux-source-6.1, extracted, plus a 256 MiB
#                 random file (AES-256-CTR of zeros under a fixed key, so
#                 every run and every machine gets the same bytes)
#   data/changed  a copy of base with about 500 files modified (a line
#                 inserted in the middle), 100 added and 100 removed; the
#                 choice depends only on the sorted file list
#   data/ready    written last; its presence means the data is complete
#
# Re-running is cheap: nothing is redone once data/ready exists.
# Exit 0 when ready, 1 on failure (e.g. packages missing and not root).
set -eu

D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
RANDOM_NAME=amber-bench-random.bin
RANDOM_SIZE=268435456
# Fixed key and IV: the "random" file is reproducible.
RANDOM_KEY=616d6265722d62656e63682d72616e646f6d2d66696c652d6b65792d30303031
RANDOM_IV=00000000000000000000000000000000
FIXED_MTIME=@1767225600		# 2026-01-01T00:00:00Z, for changed files

say() { echo "prepare: $*" >&2; }
die() { echo "prepare: $*" >&2; exit 1; }

# Packages: command -> Debian package.
need_pkgs() {
	missing=""
	for pair in restic:restic borg:borgbackup hyperfine:hyperfine \
	    rsync:rsync openssl:openssl fusermount3:fuse3 \
	    pkg-config:pkg-config cc:gcc xz:xz-utils; do
		cmd=${pair%%:*} pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
	done
	[ -x /usr/bin/time ] || missing="$missing time"
	[ -f /usr/src/linux-source-6.1.tar.xz ] || missing="$missing linux-source-6.1"
	pkg-config --exists fuse3 2>/dev/null || missing="$missing libfuse3-dev"
	# borg mount needs pyfuse3 or llfuse (borgbackup's Recommends).
	/usr/bin/python3 -c 'import pyfuse3' 2>/dev/null ||
	    /usr/bin/python3 -c 'import llfuse' 2>/dev/null ||
	    missing="$missing python3-pyfuse3"
	echo "$missing"
}

missing=$(need_pkgs)
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		die "missing packages:$missing; run as root:" \
		    "apt-get install$missing"
	fi
	say "installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 ||
	    { apt-get update -q >&2 &&
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2; } ||
	    die "apt-get install$missing failed"
	missing=$(need_pkgs)
	[ -z "$missing" ] || die "still missing:$missing"
fi

if [ -f "$D/data/ready" ]; then
	say "data ready in $D/data"
	exit 0
fi

mkdir -p "$D/data"
cd "$D/data"
rm -rf base changed extract

say "extracting /usr/src/linux-source-6.1.tar.xz"
mkdir extract
tar -xJf /usr/src/linux-source-6.1.tar.xz -C extract
top=$(ls extract)
[ "$(echo "$top" | wc -l)" -eq 1 ] || die "unexpected tarball layout: $top"
mv "extract/$top" base
rmdir extract

say "adding the 256 MiB random file"
head -c $RANDOM_SIZE /dev/zero |
    openssl enc -aes-256-ctr -nosalt -K $RANDOM_KEY -iv $RANDOM_IV \
    >"base/$RANDOM_NAME"
[ "$(stat -c %s "base/$RANDOM_NAME")" -eq $RANDOM_SIZE ] ||
    die "random file has the wrong size"
touch -d $FIXED_MTIME "base/$RANDOM_NAME"
sha256sum <"base/$RANDOM_NAME" | cut -d' ' -f1 >random.sha256

say "copying base to changed"
cp -a base changed

# The change list depends only on the sorted list of regular files.
(cd base && find . -type f ! -name $RANDOM_NAME | LC_ALL=C sort) >files.list
n=$(wc -l <files.list)
[ "$n" -gt 10000 ] || die "only $n files in the tree"
awk -v n="$n" '
BEGIN { sm = int(n / 500); sr = int(n / 100) }
{
	if (NR % sm == 0 && nm < 500) { print "M " $0; nm++; next }
	if (NR % sr == 7 && nr < 100) { print "R " $0; nr++; next }
	if (NR % sr == 3 && na < 100) { print "A " $0; na++ }
}' files.list >changes.list

say "modifying, adding and removing files in changed"
i=0
while read -r op path; do
	i=$((i + 1))
	f="changed/$path"
	case $op in
	M)	# insert a line in the middle: content-defined chunking must
		# keep the chunks before and after it
		size=$(stat -c %s "$f")
		half=$((size / 2))
		{ head -c $half "$f"
		  printf '\n/* amber-bench change %d */\n' $i
		  tail -c +$((half + 1)) "$f"; } >"$f.tmp"
		chmod --reference="$f" "$f.tmp"
		touch -d $FIXED_MTIME "$f.tmp"
		mv "$f.tmp" "$f" ;;
	R)	rm "$f" ;;
	A)	# a new file beside an existing one: its text with a header,
		# and for every other one 12 KiB of fixed pseudo-random text
		new="$(dirname "$f")/amber-bench-new-$i.c"
		{ printf '/* amber-bench added file %d */\n' $i
		  cat "$f"
		  if [ $((i % 2)) -eq 0 ]; then
			head -c 9216 /dev/zero |
			    openssl enc -aes-256-ctr -nosalt \
			    -K $RANDOM_KEY -iv "$(printf '%032x' $i)" |
			    base64
		  fi; } >"$new"
		touch -d $FIXED_MTIME "$new" ;;
	esac
done <changes.list

nm=$(grep -c '^M' changes.list)
nr=$(grep -c '^R' changes.list)
na=$(grep -c '^A' changes.list)
nfiles=$(find base -type f | wc -l)
nentries=$(find base | wc -l)
bytes=$(du -sb --apparent-size base | cut -f1)
cfiles=$(find changed -type f | wc -l)
centries=$(find changed | wc -l)
cbytes=$(du -sb --apparent-size changed | cut -f1)
[ "$cfiles" -eq $((nfiles + na - nr)) ] ||
    die "changed has $cfiles files, expected $((nfiles + na - nr))"
# The deepest regular file (most path components, then sorted): the
# benchmark copies it out of each mount.
deep=$(cd changed && find . -type f | awk -F/ '{ print NF "\t" $0 }' |
    LC_ALL=C sort -k1,1nr -k2 | head -n 1 | cut -f2 | sed 's|^\./||')
{
	echo "files=$nfiles"
	echo "entries=$nentries"
	echo "bytes=$bytes"
	echo "changed_files=$cfiles"
	echo "changed_entries=$centries"
	echo "changed_bytes=$cbytes"
	echo "modified=$nm"
	echo "added=$na"
	echo "removed=$nr"
	echo "random=$RANDOM_NAME"
	echo "random_sha256=$(cat random.sha256)"
	echo "deep=$deep"
} >ready.tmp
mv ready.tmp ready
say "data ready in $D/data:"
cat ready >&2
