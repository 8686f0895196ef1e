#!/usr/bin/env bash
# tests/s3/roundtrip.sh: a whole store on S3 (RGW with Object Lock):
# init, two ingests, snapshots, verify --read-data, restore of both
# snapshots, a fresh index rebuilt from the bucket alone, and a real mount
# read through amberfs (skipped without FUSE, except in CI), which copies
# the packs of trees into its index directory.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_store rtb store "s3 roundtrip"

# A source with a bit of everything.
mkdir -p "$T/src/sub/deeper" "$T/src/empty"
head -c 3000000 /dev/urandom >"$T/src/big.bin"
printf 'hello\n' >"$T/src/sub/hello.txt"
: >"$T/src/sub/zero"
ln "$T/src/sub/hello.txt" "$T/src/sub/hardlink"
ln -s ../big.bin "$T/src/sub/link"
for i in $(seq 1 50); do echo "file $i" >"$T/src/sub/deeper/f$i"; done

"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 >"$T/init.out" 2>&1 ||
    { cat "$T/init.out"; fail "init"; }
# A second init on the same prefix is refused.
"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 2>"$T/err" &&
    fail "second init succeeded"
"$AMBER" ingest "$S" --dir src="$T/src" -q || fail "ingest 1"
cp -a "$T/src" "$T/src1"
printf 'changed\n' >>"$T/src/sub/hello.txt"
head -c 100000 /dev/urandom >"$T/src/new.bin"
rm "$T/src/sub/deeper/f7"
"$AMBER" ingest "$S" --dir src="$T/src" -q || fail "ingest 2"

"$AMBER" snapshots "$S" >"$T/snaps" || fail "snapshots"
cat "$T/snaps"
[ "$(wc -l <"$T/snaps")" = 2 ] || fail "want 2 snapshots"
first=$(head -n 1 "$T/snaps" | awk '{print $1}')
"$AMBER" verify "$S" --read-data || fail "verify --read-data"

"$AMBER" restore "$S" latest:files/src "$T/r2" || fail "restore latest"
diff -r --no-dereference "$T/src" "$T/r2/src" || fail "latest differs"
"$AMBER" restore "$S" "$first:files/src" "$T/r1" || fail "restore first"
diff -r --no-dereference "$T/src1" "$T/r1/src" || fail "first differs"
[ "$(stat -c %i "$T/r1/src/sub/hello.txt")" = "$(stat -c %i "$T/r1/src/sub/hardlink")" ] ||
    fail "hard link lost"

# Every object in the bucket carries a COMPLIANCE lock.
s3req GET "/rtb?list-type=2&prefix=store%2F"
keys=$(grep -o '<Key>[^<]*' "$T/b" | sed 's/<Key>//')
[ -n "$keys" ] || fail "no objects listed"
n=0
for k in $keys; do
	s3req HEAD "/rtb/$k" -I
	[ "$(s3hdr x-amz-object-lock-mode)" = COMPLIANCE ] || fail "$k is not locked"
	n=$((n + 1))
done
echo "# $n objects, all COMPLIANCE-locked"

# A new index, from the bucket alone.
"$AMBER" snapshots "$S" --index-dir "$T/ix2" >"$T/snaps2" || fail "snapshots, fresh index"
cmp -s "$T/snaps" "$T/snaps2" || fail "fresh index lists other snapshots"

# A real mount, if FUSE works here.
if [ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] &&
    command -v fusermount3 >/dev/null && [ -x "$AMBERFS" ]; then
	mkdir "$T/mnt"
	mkfifo "$T/ready"
	# As from fstab: no environment, endpoint and credentials as options.
	printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$T/creds"
	chmod 600 "$T/creds"
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AMBER_S3_ENDPOINT \
	    "$AMBERFS" "$S" "$T/mnt" -f -o ready_fd=3 -o index="$T/ix3" \
	    -o s3_endpoint="$S3_ENDPOINT" -o credentials_file="$T/creds" \
	    3>"$T/ready" 2>"$T/fs.log" &
	fspid=$!
	S3_CLEANUP_EXTRA="fusermount3 -u '$T/mnt' 2>/dev/null; kill $fspid 2>/dev/null"
	n=$(timeout 60 head -c 1 "$T/ready" | wc -c)
	if [ "$n" != 1 ]; then
		cat "$T/fs.log"
		if [ "${CI:-}" != true ] && grep -q "fuse: device not found\|Operation not permitted" "$T/fs.log"; then
			echo "skip: FUSE mounts do not work here"; exit 77
		fi
		fail "amberfs did not get ready"
	fi
	diff -r --no-dereference "$T/src" "$T/mnt/latest/files/src" || fail "mount differs from source"
	diff -r --no-dereference "$T/src1" "$T/mnt/snapshots/$first/files/src" || fail "mount of first differs"
	cmp "$T/src/big.bin" "$T/mnt/latest/files/src/big.bin" || fail "big file differs"
	# The packs of trees are copied into the index directory (the walk
	# then makes no request per directory): whole, and named right.
	i=0
	while [ -z "$(ls "$T/ix3/trees" 2>/dev/null)" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	copies=$(ls "$T/ix3/trees" 2>/dev/null)
	[ -n "$copies" ] || fail "no copy of a pack of trees in $T/ix3/trees"
	for c in $copies; do
		[ "$(sha256sum <"$T/ix3/trees/$c" | cut -d' ' -f1)" = "$c" ] ||
		    fail "copy $c is not the pack it is named after"
		echo "$keys" | grep -q "^store/packs/${c:0:2}/$c\$" ||
		    fail "copy $c: no such pack in the bucket"
	done
	echo "# $(echo "$copies" | wc -l) pack(s) of trees copied"
	[ "$(find "$T/mnt/snapshots/$first/files/src" | wc -l)" = \
	    "$(find "$T/src1" | wc -l)" ] || fail "find over the mount"
	err=$(touch "$T/mnt/latest/files/src/x" 2>&1) && fail "write to the mount succeeded"
	case $err in *"Read-only file system"*) ;; *) fail "write gave: $err" ;; esac
	fusermount3 -u "$T/mnt" || fail "unmount"
	wait $fspid || fail "amberfs exited $?"
	S3_CLEANUP_EXTRA=
else
	[ "${CI:-}" = true ] && fail "no FUSE in CI"
	echo "# no FUSE: mount part skipped"
fi
echo ok
