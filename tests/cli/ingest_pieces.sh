#!/bin/sh
# amber ingest into a local store writes each pack in pieces as it fills
# (store/packstream.c), into a file in tmp/ that is linked into packs/
# when the pack is full.  A put that fails (strace's fault injection on
# linkat(2)) fails the ingest with the store's message, commits nothing
# and leaves nothing in tmp/; an ingest killed while its packs are half
# written leaves its files in tmp/, which the next writer removes; that
# run completes, verifies, restores byte for byte and indexes every pack.
. "$AMBER_TOP/tests/cli/lib.sh"

big_src

tmp_left() { ls "$S/tmp" 2>/dev/null | grep -v '^prune.lock$'; }

failed_put "$S" --dir d="$D"

# Killed with packs half written: the first pack's link waits (strace's
# delay), so its file, and the next pack's, are in tmp/ when the ingest
# dies.
left=
if command -v strace >/dev/null; then
	strace -f -o /dev/null -e trace=linkat \
	    -e inject=linkat:delay_enter=5000000:when=1 \
	    "$AMBER" ingest "$S" --dir d="$D" </dev/null >"$T/out" 2>"$T/err" &
	spid=$!
	n=0
	while [ -z "$(tmp_left)" ] && [ $n -lt 400 ]; do
		sleep 0.01
		n=$((n + 1))
	done
	left=$(tmp_left)
	[ -n "$left" ] || fail "no pack was being written after 4 s"
	pid=$(pgrep -P $spid)
	[ -n "$pid" ] || fail "no ingest under strace"
	kill -9 $pid
	wait $spid 2>/dev/null
	[ -z "$(ls "$S/snapshots" 2>/dev/null)" ] ||
	    fail "a killed ingest committed a snapshot"
fi

# The next run removes what the killed one left, and completes.
expect 0 "$AMBER" ingest "$S" --dir d="$D"
[ -z "$(tmp_left)" ] || fail "left in tmp/ after a rerun: $(tmp_left)"
for f in $left; do
	[ ! -e "$S/tmp/$f" ] || fail "$f of the killed run is still in tmp/"
done
n=$(find "$S/packs" -type f | wc -l)
[ "$n" -ge 3 ] || fail "45 MB of random data in $n pack(s)"
expect 0 "$AMBER" verify "$S" --read-data
expect 0 "$AMBER" restore "$S" latest:files/d "$T/r"
same_tree "$D" "$T/r/d"
echo ok
