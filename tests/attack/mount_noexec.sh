#!/bin/sh
# A snapshot holds what its writer put there, perhaps a host holding only
# an ingest key: nothing stored runs from the mount by accident.  A stored
# executable cannot be run through a mount (EACCES), nor a stored ELF
# binary; with -o exec it can.  (Before, both ran.)
. "$(dirname "$0")/../mount/lib.sh"

mk_store S
mkdir -p src
printf '#!/bin/sh\ntouch "$1"\n' >src/run.sh
cp /bin/true src/true
chmod 755 src/run.sh src/true
ingest S --dir "s=$T/src"

mount_fg S M
d=M/snapshots/$SNAP/files/s
[ -x /bin/sh ] || fail "no /bin/sh"
"$d/run.sh" "$T/ran" 2>err && fail "a stored script ran from the mount"
[ -e "$T/ran" ] && fail "a stored script ran from the mount"
grep -q "Permission denied" err || fail "not EACCES: $(cat err)"
"$d/true" 2>err && fail "a stored binary ran from the mount"
grep -q "Permission denied" err || fail "not EACCES: $(cat err)"
grep " $T/M " /proc/mounts | grep -q noexec ||
    fail "not noexec: $(grep " $T/M " /proc/mounts)"
# Reading it is fine: that is what a backup is for.
cmp -s "$d/run.sh" src/run.sh || fail "cannot read the script"
unmount "$T/M" "$FSPID"

mount_fg S M2 -o exec
"M2/snapshots/$SNAP/files/s/run.sh" "$T/ran" || fail "-o exec: did not run"
[ -e "$T/ran" ] || fail "-o exec: the script did not run"
exit 0
