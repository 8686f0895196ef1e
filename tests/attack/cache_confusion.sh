#!/bin/sh
# U, a local user of an allow_other mount, reads a rogue snapshot that W1
# (an ingest key) wrote: its files name the ids of real chunks with wrong
# keys.  Right after root reads its own 0600 file, none of those files may
# give U root's bytes: the caches (decrypted chunks, trees) are keyed on
# what was checked, not on the id.  (Before, the chunk cache was keyed by
# id alone and U read root's file.)
. "$(dirname "$0")/../mount/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (allow_other, another user)"
command -v setpriv >/dev/null 2>&1 || skip "no setpriv"
FORGE="$AMBER_TOP/${B:-build}/tests/attack_forge"
[ -x "$FORGE" ] || fail "no forger at $FORGE"

chmod 755 "$T"	# U must reach the mount point
mk_store S
mkdir -p victim
printf 'anyone may read this\n' >victim/public
printf 'root only: the signing key is 0xC0FFEE\n' >victim/secret
head -c 200000 /dev/urandom >victim/big
chmod 600 victim/secret victim/big
ingest S --dir "v=$T/victim"
victim=$SNAP
"$AMBER" key new-ingest S --label rogue --output key >/dev/null 2>&1 ||
    fail "key new-ingest"
XDG_CACHE_HOME="$T/rogue-host" "$FORGE" confuse key S >forge.out 2>&1 || { cat forge.out; fail "forge"; }
n=$(awk '{print $1}' forge.out)
[ "$n" -ge 2 ] || fail "the forger made $n files"

mount_fg S M -o allow_other
rogue=$(ls M/snapshots | grep -v "^$victim\$" | tail -n 1)
[ -n "$rogue" ] || fail "no rogue snapshot in $(ls M/snapshots)"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

cmp -s M/snapshots/$victim/files/v/secret victim/secret ||
    fail "root cannot read its file"
cmp -s M/snapshots/$victim/files/v/big victim/big || fail "root: big"
as_nobody cat M/snapshots/$victim/files/v/secret >/dev/null 2>&1 &&
    fail "nobody read a 0600 file"
# U can read through the mount at all: what fails below fails for its own
# reason, not for want of access.
as_nobody cat M/snapshots/$victim/files/v/public >out 2>&1 ||
    fail "nobody cannot read a public file: $(cat out)"
got=0
for f in M/snapshots/$rogue/files/rogue/*; do
	if as_nobody cat "$f" >out 2>/dev/null; then
		got=$((got + 1))
		cmp -s out victim/secret && fail "nobody read root's secret via $f"
		head -c 4096 victim/big | cmp -s - out -n 4096 2>/dev/null &&
		    fail "nobody read root's big file via $f"
	fi
done
[ $got -eq 0 ] || fail "$got rogue files gave bytes"
grep -q "authentication failed" "$T/amberfs.log" ||
    fail "the daemon logged no failure: $(tail -n 5 "$T/amberfs.log")"
exit 0
