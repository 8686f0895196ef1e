#!/bin/sh
# Issue 14, item 11: amber restore as root brings back what cp -a does,
# set-id bits and device nodes included, and can be told not to.  A host
# holding only an ingest key (W1) ingests a tree holding a set-user-ID
# root shell, a set-group-ID file, a set-group-ID directory and two
# device nodes.  Restored by root:
#  - by default, all of them come back (cp -a's default, kept);
#  - with --no-setuid, the files lose their set-id bits (the directory,
#    where set-group-ID only picks the group of new files, keeps it);
#  - with --no-devices, the device nodes are left out with a note.
. "$AMBER_TOP/tests/cli/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
S=$T/store
D=$T/src/t
new_store "$S"
expect 0 "$AMBER" key new-ingest "$S" --label rogue --output "$T/ikey"
mkdir -p "$D/sgdir"
cp /bin/sh "$D/rootsh"
chmod 4755 "$D/rootsh"
echo g >"$D/sgfile"
chmod 2755 "$D/sgfile"
chmod 2775 "$D/sgdir"
mknod "$D/cdev" c 1 3 && mknod "$D/bdev" b 7 0 ||
    { echo "skip: cannot make device nodes here"; exit 77; }
expect 0 env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/ikey" \
    --dir t="$D" -q

mode() { stat -c %a "$1"; }
kind() { stat -c %F "$1"; }

expect 0 "$AMBER" restore "$S" latest:files/t "$T/all"
[ "$(mode "$T/all/t/rootsh")" = 4755 ] || fail "default: setuid lost"
[ "$(mode "$T/all/t/sgfile")" = 2755 ] || fail "default: setgid lost"
[ "$(kind "$T/all/t/cdev")" = "character special file" ] ||
    fail "default: no char device"
[ "$(kind "$T/all/t/bdev")" = "block special file" ] ||
    fail "default: no block device"

expect 0 "$AMBER" restore "$S" latest:files/t "$T/nosuid" --no-setuid
[ "$(mode "$T/nosuid/t/rootsh")" = 755 ] ||
    fail "--no-setuid: rootsh is $(mode "$T/nosuid/t/rootsh")"
[ "$(mode "$T/nosuid/t/sgfile")" = 755 ] ||
    fail "--no-setuid: sgfile is $(mode "$T/nosuid/t/sgfile")"
[ "$(mode "$T/nosuid/t/sgdir")" = 2775 ] ||
    fail "--no-setuid: sgdir is $(mode "$T/nosuid/t/sgdir")"
[ "$(kind "$T/nosuid/t/cdev")" = "character special file" ] ||
    fail "--no-setuid: no char device"

expect 0 "$AMBER" restore "$S" latest:files/t "$T/nodev" --no-devices --json
[ -e "$T/nodev/t/cdev" ] || [ -L "$T/nodev/t/cdev" ] &&
    fail "--no-devices: char device restored"
[ -e "$T/nodev/t/bdev" ] || [ -L "$T/nodev/t/bdev" ] &&
    fail "--no-devices: block device restored"
err_has "files/t/cdev: device node skipped (--no-devices)"
err_has "files/t/bdev: device node skipped (--no-devices)"
out_has '"warnings":0'
[ "$(mode "$T/nodev/t/rootsh")" = 4755 ] || fail "--no-devices: setuid lost"
cmp "$D/sgfile" "$T/nodev/t/sgfile" || fail "--no-devices: content"

# Both, over an earlier restore.
expect 0 "$AMBER" restore "$S" latest:files/t "$T/all" --overwrite \
    --no-setuid --no-devices
[ "$(mode "$T/all/t/rootsh")" = 755 ] || fail "--overwrite --no-setuid"
echo ok
