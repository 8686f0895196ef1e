#!/usr/bin/env bash
# tests/s3/rogue.sh: a rogue agent holding the very credentials the store
# was written with (the bucket owner's) tries to destroy the history:
# delete every object version (one by one and with a multi-object
# delete), overwrite keys, hide keys behind delete markers, shorten
# retention, downgrade it to GOVERNANCE, suspend versioning, drop the
# bucket's lock rule, delete the bucket.  All of it is refused or
# harmless: afterwards snapshots, verify --read-data, restore (and a
# mount, where FUSE works) show the history intact, and the overwritten and
# hidden keys are named.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_store rogue st "rogue test"

mkdir -p "$T/src/d"
head -c 2000000 /dev/urandom >"$T/src/blob"
for i in 1 2 3 4 5; do echo "line $i" >"$T/src/d/f$i"; done
"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init"
"$AMBER" ingest "$S" --dir src="$T/src" -q || fail "ingest 1"
cp -a "$T/src" "$T/src1"
echo more >>"$T/src/d/f1"
"$AMBER" ingest "$S" --dir src="$T/src" -q || fail "ingest 2"
"$AMBER" snapshots "$S" >"$T/snaps.before" || fail "snapshots"
[ "$(wc -l <"$T/snaps.before")" = 2 ] || fail "want 2 snapshots"

# --- the attack ----------------------------------------------------------
s3req GET "/rogue?prefix=st%2F&versions="
grep -o '<Version><Key>[^<]*</Key><VersionId>[^<]*' "$T/b" |
    sed 's#<Version><Key>\([^<]*\)</Key><VersionId>#\1 #' >"$T/versions"
nv=$(wc -l <"$T/versions")
[ "$nv" -ge 5 ] || fail "only $nv versions listed"
refused=0
while read -r k v; do
	s3req DELETE "/rogue/$k?versionId=$v"
	[ "$HTTP" = 403 ] || fail "DELETE $k version $v: HTTP $HTTP"
	s3req DELETE "/rogue/$k?versionId=$v" -H "x-amz-bypass-governance-retention: true"
	[ "$HTTP" = 403 ] || fail "DELETE $k version $v with bypass: HTTP $HTTP"
	refused=$((refused + 1))
done <"$T/versions"
echo "# $refused version deletes refused"

# Multi-object delete of everything: per-key errors, nothing deleted.
{
	printf '<Delete>'
	while read -r k v; do printf '<Object><Key>%s</Key><VersionId>%s</VersionId></Object>' "$k" "$v"; done <"$T/versions"
	printf '</Delete>'
} >"$T/del.xml"
s3req POST "/rogue?delete=" --data-binary @"$T/del.xml" \
    -H "Content-MD5: $(openssl md5 -binary <"$T/del.xml" | base64)"
[ "$HTTP" = 200 ] || fail "multi-delete: HTTP $HTTP"
grep -q '<Deleted>' "$T/b" && fail "multi-delete deleted something: $(cat "$T/b")"

# Shorten retention, switch to GOVERNANCE: refused.
soon=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d '+5 day' +%Y-%m-%dT%H:%M:%SZ)
read -r k v <"$T/versions"
s3req PUT "/rogue/$k?retention=&versionId=$v" --data-binary \
    "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>$soon</RetainUntilDate></Retention>"
[ "$HTTP" = 403 ] || fail "shortening retention: HTTP $HTTP"
s3req PUT "/rogue/$k?retention=&versionId=$v" --data-binary \
    "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>GOVERNANCE</Mode><RetainUntilDate>$later</RetainUntilDate></Retention>"
[ "$HTTP" = 403 ] || fail "COMPLIANCE -> GOVERNANCE: HTTP $HTTP"

# Suspend versioning, drop the default rule, delete the bucket.
s3req PUT "/rogue?versioning=" --data-binary \
    '<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>'
[ "$HTTP" = 409 ] || fail "suspend versioning: HTTP $HTTP"
s3req PUT "/rogue?object-lock=" --data-binary \
    '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>'
echo "# removing the default rule: HTTP $HTTP (existing objects keep their retention)"
s3req DELETE /rogue
[ "$HTTP" = 409 ] || fail "delete bucket: HTTP $HTTP"

# Overwrite the config, a key object, a snapshot and a pack; hide another
# pack and the other snapshot behind delete markers.
printf 'rogue junk\n' >"$T/junk"
cfg=st/config
key=$(grep -o '^st/keys/[^ ]*' "$T/versions" | head -n 1)
snap1=$(grep -o '^st/snapshots/[^ ]*' "$T/versions" | head -n 1)
snap2=$(grep -o '^st/snapshots/[^ ]*' "$T/versions" | sed -n 2p)
pack1=$(grep -o '^st/packs/[^ ]*' "$T/versions" | head -n 1)
pack2=$(grep -o '^st/packs/[^ ]*' "$T/versions" | sed -n 2p)
[ -n "$key" ] && [ -n "$snap2" ] && [ -n "$pack2" ] || fail "store objects not found: $(cat "$T/versions")"
for k in "$cfg" "$key" "$snap1" "$pack1"; do
	s3req PUT "/rogue/$k" -T "$T/junk"
	[ "$HTTP" = 200 ] || fail "overwrite $k: HTTP $HTTP"
done
for k in "$pack2" "$snap2"; do
	s3req DELETE "/rogue/$k"
	[ "$HTTP" = 204 ] || fail "delete marker on $k: HTTP $HTTP"
done
s3req GET "/rogue/$cfg"
grep -q 'rogue junk' "$T/b" || fail "the overwrite did not take (test is broken)"

# --- the history is intact ----------------------------------------------
rm -rf "$XDG_CACHE_HOME"	# nothing cached: everything from the bucket
"$AMBER" snapshots "$S" >"$T/snaps.after" 2>"$T/err" || { cat "$T/err"; fail "snapshots after the attack"; }
cmp -s "$T/snaps.before" "$T/snaps.after" ||
    { cat "$T/snaps.before" "$T/snaps.after"; fail "snapshot list changed"; }
"$AMBER" verify "$S" --read-data >"$T/verify.out" 2>"$T/verify.err"
rc=$?
cat "$T/verify.out" "$T/verify.err"
[ $rc = 0 ] || [ $rc = 5 ] || fail "verify exit $rc"
# Every tampered key is named.
for k in "$cfg" "$snap1" "$pack1" "$pack2" "$snap2"; do
	grep -qF "$k" "$T/verify.out" "$T/verify.err" || fail "verify does not name $k"
done
first=$(head -n 1 "$T/snaps.before" | awk '{print $1}')
"$AMBER" restore "$S" latest:files/src "$T/r2" 2>/dev/null || fail "restore latest"
diff -r "$T/src" "$T/r2/src" || fail "latest differs after the attack"
"$AMBER" restore "$S" "$first:files/src" "$T/r1" 2>/dev/null || fail "restore first"
diff -r "$T/src1" "$T/r1/src" || fail "first snapshot differs after the attack"

if [ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] &&
    command -v fusermount3 >/dev/null && [ -x "$AMBERFS" ]; then
	mkdir "$T/mnt"
	mkfifo "$T/ready"
	"$AMBERFS" "$S" "$T/mnt" -f -o ready_fd=3 -o index="$T/ixm" 3>"$T/ready" 2>"$T/fs.log" &
	fspid=$!
	S3_CLEANUP_EXTRA="fusermount3 -u '$T/mnt' 2>/dev/null; kill $fspid 2>/dev/null"
	[ "$(timeout 60 head -c 1 "$T/ready" | wc -c)" = 1 ] || { cat "$T/fs.log"; fail "amberfs not ready"; }
	diff -r "$T/src1" "$T/mnt/snapshots/$first/files/src" || fail "mounted first snapshot differs"
	diff -r "$T/src" "$T/mnt/latest/files/src" || fail "mounted latest differs"
	fusermount3 -u "$T/mnt" || fail "unmount"
	wait $fspid
	S3_CLEANUP_EXTRA=
elif [ "${CI:-}" = true ]; then
	fail "no FUSE in CI"
fi
# An ingest after the attack still works, and joins the history.
echo after >"$T/src/d/f9"
"$AMBER" ingest "$S" --dir src="$T/src" -q 2>/dev/null || fail "ingest after the attack"
[ "$("$AMBER" snapshots "$S" 2>/dev/null | wc -l)" = 3 ] || fail "want 3 snapshots"
echo ok
