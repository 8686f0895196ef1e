#!/bin/sh
# Start-up: a deleted index is rebuilt at mount (mode 0700), -o index=DIR
# is honoured, the passphrase comes from -o passphrase_file, then
# AMBER_PASSPHRASE_FILE, then AMBER_PASSPHRASE, and without any of them
# and no terminal it is an error, not a hang.  Without -f, amberfs returns
# only once mounted, or with the error and its exit status (1, or 4 for a
# wrong passphrase), leaving no process behind; fusermount3 -u then ends
# the daemon.
. "$AMBER_TOP/tests/mount/lib.sh"

mk_store S
mkdir src
echo content >src/f
ingest S --dir d="$T/src"
M=$T/m
mkdir -p "$M"
M=$(cd "$M" && pwd)

# daemons_on MOUNTPOINT: pids of amberfs processes serving MOUNTPOINT.
daemons_on() {
	for p in $(pgrep -x amberfs); do
		cat /proc/"$p"/cmdline 2>/dev/null | tr '\0' ' ' |
		    grep -q " $1 " && echo "$p"
	done
}

note "a deleted index is rebuilt at mount"
idx=$(find "$XDG_CACHE_HOME/amber" -name data.mdb | head -n 1)
[ -n "$idx" ] || fail "no index after ingest under $XDG_CACHE_HOME/amber"
rm -rf "$XDG_CACHE_HOME/amber"
mount_fg S "$M"
[ "$(cat "$M/latest/files/d/f")" = content ] || fail "content after rebuild"
idx=$(find "$XDG_CACHE_HOME/amber" -name data.mdb | head -n 1)
[ -n "$idx" ] || fail "index not recreated"
[ "$(stat -c %a "$(dirname "$idx")")" = 700 ] ||
    fail "index dir mode $(stat -c %a "$(dirname "$idx")")"
unmount "$M" "$FSPID"

note "-o index=DIR"
mount_fg S "$M" -o index="$T/myindex"
[ -f "$T/myindex/data.mdb" ] || fail "no index in -o index=DIR"
[ "$(cat "$M/latest/files/d/f")" = content ] || fail "content with index="
unmount "$M" "$FSPID"

note "passphrase sources"
good=$AMBER_PASSPHRASE
printf '%s\n' "$good" >pass.good
printf 'wrong\n' >pass.bad
mount_fg S "$M" -o passphrase_file="$T/pass.good"
unmount "$M" "$FSPID"
AMBER_PASSPHRASE=wrong mount_fg S "$M" -o passphrase_file="$T/pass.good"
unmount "$M" "$FSPID"
env -u AMBER_PASSPHRASE AMBER_PASSPHRASE_FILE="$T/pass.good" \
    "$AMBERFS" S "$M" -o cache_size=8M || fail "AMBER_PASSPHRASE_FILE"
[ -n "$(daemons_on "$M")" ] || fail "no daemon after a daemonized mount"
PIDS="$PIDS $(daemons_on "$M")"
MOUNTS="$MOUNTS $M"
[ "$(cat "$M/latest/files/d/f")" = content ] || fail "daemon content"
fusermount3 -u "$M" || fail "fusermount3 -u"
i=0
while [ -n "$(daemons_on "$M")" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "daemon left running after fusermount3 -u"
	sleep 0.1
done

note "as /etc/fstab mounts it: mount.fuse3 STORE MOUNTPOINT -t amberfs"
PATH="$(dirname "$AMBERFS"):$PATH" /sbin/mount.fuse3 "$T/S" "$M" -t amberfs \
    -o "passphrase_file=$T/pass.good,rw,noatime,nofail" ||
    fail "mount.fuse3"
PIDS="$PIDS $(daemons_on "$M")"
grep " $M fuse.amberfs ro," /proc/mounts >/dev/null ||
    fail "fstab-style mount: $(grep " $M " /proc/mounts)"
[ "$(cat "$M/latest/files/d/f")" = content ] || fail "fstab-style content"
fusermount3 -u "$M" || fail "fusermount3 -u"

note "amber mount runs amberfs"
"$AMBER" mount S "$M" -o passphrase_file="$T/pass.good" || fail "amber mount"
PIDS="$PIDS $(daemons_on "$M")"
[ "$(cat "$M/latest/files/d/f")" = content ] || fail "amber mount content"
fusermount3 -u "$M" || fail "fusermount3 -u after amber mount"

note "start-up errors are reported before detaching"
"$AMBERFS" S "$M" -o passphrase_file="$T/pass.bad" 2>err
rc=$?
[ $rc -eq 4 ] || fail "wrong passphrase: exit $rc"
grep -q "wrong passphrase" err || fail "wrong passphrase: $(cat err)"
env -u AMBER_PASSPHRASE setsid "$AMBERFS" S "$M" </dev/null 2>err
rc=$?
[ $rc -eq 1 ] || fail "no passphrase: exit $rc"
grep -q "passphrase" err || fail "no passphrase: $(cat err)"
"$AMBERFS" "$T/nostore" "$M" 2>err
rc=$?
[ $rc -eq 1 ] || fail "no store: exit $rc"
grep -q "no store" err || fail "no store: $(cat err)"
"$AMBERFS" S "$T/no/such/dir" 2>err
rc=$?
[ $rc -eq 1 ] || fail "bad mount point: exit $rc"
[ -s err ] || fail "bad mount point: no message"
"$AMBERFS" S "$M" -o cache_size=lots 2>err
rc=$?
[ $rc -eq 2 ] || fail "bad cache_size: exit $rc"
"$AMBERFS" S "$M" -o read_ahead=2T 2>err
rc=$?
[ $rc -eq 2 ] || fail "bad read_ahead: exit $rc"
grep -q "read_ahead" err || fail "bad read_ahead: $(cat err)"
"$AMBERFS" S "$M" -o no_such_option 2>err
rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc"
grep -q "no_such_option" err || fail "unknown option: $(cat err)"
"$AMBERFS" S 2>err
rc=$?
[ $rc -eq 2 ] || fail "missing mount point: exit $rc"
grep -q "usage" err || fail "no usage line"
grep -q " $M " /proc/mounts && fail "mounted after a failed start"
[ -z "$(daemons_on "$M")" ] || fail "a failed start left a process"
"$AMBERFS" --help >out || fail "--help"
grep -q "passphrase_file" out || fail "--help lacks passphrase_file"
echo ok
