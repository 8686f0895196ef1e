#!/bin/sh
# Snapshots ingested while the store is mounted appear: a lookup of an
# unknown name under snapshots/ rescans at once, latest follows within its
# one-second timeout, SIGHUP rescans (seen through latest alone, which
# triggers nothing itself), and a listing of snapshots/ shows news.
# by-date/ and by-source/ lead to the same content.
. "$AMBER_TOP/tests/mount/lib.sh"

mk_store S
mkdir src
echo one >src/f

note "an empty store mounts; its first snapshot appears"
M=$T/m
mount_fg S "$M"
[ -z "$(ls "$M/snapshots")" ] || fail "snapshots/ of an empty store"
[ -e "$M/latest" ] && fail "latest in an empty store"
[ "$(ls "$M")" = "$(printf 'by-date\nby-source\nby-writer\nsnapshots')" ] ||
    fail "top level of an empty store: $(ls "$M")"
ingest S --dir d="$T/src"
snap1=$SNAP
# The lookup of latest, absent until now, rescans.
[ "$(readlink "$M/latest")" = "snapshots/$snap1" ] || fail "latest at start"
ls "$M/snapshots" >/dev/null

echo two >src/f
ingest S --dir d="$T/src"
snap2=$SNAP
[ "$snap2" != "$snap1" ] || fail "same name twice"
# No waiting: the lookup itself finds the new snapshot.
[ "$(cat "$M/snapshots/$snap2/files/d/f")" = two ] ||
    fail "new snapshot not found by lookup"
[ "$(cat "$M/snapshots/$snap1/files/d/f")" = one ] || fail "old snapshot"
latest_is() { [ "$(readlink "$M/latest")" = "snapshots/$1" ]; }
within 5 latest_is "$snap2" || fail "latest stays at $(readlink "$M/latest")"
[ "$(cat "$M/latest/files/d/f")" = two ] || fail "latest content"

echo three >src/f
ingest S --dir d="$T/src"
snap3=$SNAP
# Without SIGHUP latest would stay put for the 60 s of the periodic check.
sleep 1.5
latest_is "$snap2" || fail "latest moved before SIGHUP"
kill -HUP "$FSPID" || fail "kill -HUP"
within 10 latest_is "$snap3" || fail "SIGHUP: latest stays at $snap2"
kill -0 "$FSPID" || fail "SIGHUP killed the daemon"

echo four >src/f
ingest S --dir d="$T/src"
snap4=$SNAP
listed() { ls "$M/snapshots" | grep -qx "$1"; }
within 5 listed "$snap4" || fail "ls snapshots/ does not show $snap4"

note "by-date and by-source"
date=$(echo "$snap3" | sed 's|^\(....\)-\(..\)-\(..\)T\(.*\)$|\1/\2/\3/\4|')
[ -L "$M/by-date/$date" ] || fail "no by-date/$date"
[ "$(readlink "$M/by-date/$date")" = "../../../../snapshots/$snap3" ] ||
    fail "by-date target $(readlink "$M/by-date/$date")"
[ "$(cat "$M/by-date/$date/files/d/f")" = three ] || fail "by-date content"
[ "$(cat "$M/by-source/files/d/$snap1/f")" = one ] || fail "by-source 1"
[ "$(cat "$M/by-source/files/d/$snap3/f")" = three ] || fail "by-source 3"
[ "$(ls "$M/by-source/files/d" | wc -l)" -eq 4 ] ||
    fail "by-source lists $(ls "$M/by-source/files/d")"
[ "$(readlink "$M/by-source/files/d/$snap2")" = \
    "../../../snapshots/$snap2/files/d" ] || fail "by-source target"
ls "$M/snapshots/2001-01-01T00:00:00Z" 2>/dev/null && fail "phantom snapshot"

note "SIGTERM unmounts and exits 0"
kill -TERM "$FSPID"
wait "$FSPID"
rc=$?
[ $rc -eq 0 ] || fail "exit $rc after SIGTERM"
grep -q " $M " /proc/mounts && fail "still mounted after SIGTERM"
echo ok
