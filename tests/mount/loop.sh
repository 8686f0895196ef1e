#!/bin/sh
# The session loop (fs/loop.c) in each of its modes: the default (threads
# that pass the device on before a read, polling it 200 us after a
# request), one thread (-s), no polling (-o busy_poll=0) and two threads
# (-o max_threads=2).  In each: four readers at once get every byte of
# their files, a find lists the whole tree, an idle daemon uses no CPU
# (the polling follows requests and stops), and SIGINT or SIGTERM ends it
# with exit 0 and the mount gone.  A bad busy_poll is a usage error, and
# a bad option is reported as one before any passphrase is asked for.
. "$AMBER_TOP/tests/mount/lib.sh"

mk_store S
mkdir -p src/a/b src/c
for i in 1 2 3 4; do
	head -c $((3 * 1024 * 1024 + i * 4099)) /dev/urandom >"src/big$i"
done
i=0
while [ $i -lt 300 ]; do
	echo "file $i" >"src/a/b/f$i"
	echo "other $i" >"src/c/g$i"
	i=$((i + 1))
done
ingest S --dir d="$T/src"
M=$T/m
mkdir -p "$M"
M=$(cd "$M" && pwd)
want=$(cd src && find . | LC_ALL=C sort | md5sum)

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

n=0
for mode in "" "-s" "-o busy_poll=0" "-o max_threads=2"; do
	n=$((n + 1))
	note "mode ${mode:-default}"
	# shellcheck disable=SC2086
	mount_fg S "$M" $mode
	d=$M/latest/files/d
	readers=""
	for i in 1 2 3 4; do
		cat "$d/big$i" >"$T/got$i" &
		readers="$readers $!"
	done
	for j in $readers; do
		wait "$j" || fail "${mode:-default}: a reader failed"
	done
	for i in 1 2 3 4; do
		cmp -s "$T/got$i" "src/big$i" ||
		    fail "${mode:-default}: big$i read back differs"
	done
	got=$(cd "$d" && find . | LC_ALL=C sort | md5sum)
	[ "$got" = "$want" ] || fail "${mode:-default}: find lists another tree"
	# Idle: at most 0.1 s of CPU in 2 s (polling would take all 2 s).
	sleep 0.5
	t0=$(cpu_ticks "$FSPID")
	sleep 2
	t1=$(cpu_ticks "$FSPID")
	[ $((t1 - t0)) -le 10 ] ||
	    fail "${mode:-default}: idle daemon used $((t1 - t0)) ticks in 2 s"
	if [ $((n % 2)) -eq 0 ]; then sig=INT; else sig=TERM; fi
	kill -$sig "$FSPID"
	wait "$FSPID"
	rc=$?
	[ $rc -eq 0 ] || fail "${mode:-default}: exit $rc after SIG$sig"
	grep -q " $M " /proc/mounts && fail "${mode:-default}: mounted after SIG$sig"
done

note "bad busy_poll values are usage errors"
for v in lots -1 100001 ""; do
	"$AMBERFS" S "$M" -o busy_poll="$v" 2>err
	rc=$?
	[ $rc -eq 2 ] || fail "busy_poll=$v: exit $rc"
	grep -q "busy_poll" err || fail "busy_poll=$v: $(cat err)"
done
grep -q " $M " /proc/mounts && fail "mounted after a bad busy_poll"

note "options are checked before the passphrase is asked for"
for o in busy_pol=1 busy_poll=lots cache_size=x; do
	env -u AMBER_PASSPHRASE -u AMBER_PASSPHRASE_FILE \
	    "$AMBERFS" S "$M" -o "$o" </dev/null 2>err
	rc=$?
	[ $rc -eq 2 ] || fail "-o $o without a passphrase: exit $rc: $(cat err)"
	grep -q "${o%%=*}" err || fail "-o $o: the message does not name it: $(cat err)"
	grep -qi "passphrase" err && fail "-o $o: asked for a passphrase: $(cat err)"
done
grep -q " $M " /proc/mounts && fail "mounted after a bad option"
echo ok
