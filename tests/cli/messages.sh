#!/bin/sh
# The exact messages and exit statuses of common mistakes, compared with
# messages.expected beside this script (paths below the test directory
# are shown as $T).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
S=$T/store
new_store "$S"
mkdir "$T/src"
printf 'x\n' >"$T/src/f"
expect 0 "$AMBER" ingest "$S" --dir "src=$T/src" --time 2026-11-27T03:00:00Z

# run ARGS...: append the command, its output and its status to the
# transcript.  The store is always "$S".
run() {
	echo "\$ amber $*" | sed "s|$T|\$T|g"
	"$AMBER" "$@" </dev/null >"$T/o" 2>"$T/e"
	rc=$?
	sed "s|$T|\$T|g; s|^|1> |" "$T/o"
	sed "s|$T|\$T|g; s|^|2> |" "$T/e"
	echo "exit $rc"
}
{
	run
	run frob
	run ls "$S"
	run ls "$S" latest --frob
	run init "$S" --kdf log2n=10,r=8,p=1
	run init "$T/new" --kdf fast
	run init "$T/new" --retention forever
	run snapshots "$T/nowhere"
	run ls "$S" 2001-01-01T00:00:00Z
	run ls "$S" "latest:files/src/nope"
	run ls "$S" "latest:files/src/f/g"
	run ls "$S" "latest:files/../etc"
	run cat "$S" 2026-11-27T03:00:00Z:files/src
	run cat "$S" 2026-11-27T03:00:00Z:files/src/f
	run restore "$S" latest
	run verify "$S" --expect xyz
	run diff "$S" latest
	run diff "$S" latest 2001-01-01T00:00:00Z
	run diff "$S" latest latest:files/src
	run diff "$S" latest latest files/src/nope
	run index frob "$S"
	run key frob "$S"
	run mount "$S"
	run mount "$S" "$T/mnt" --key-file k
	AMBER_PASSPHRASE=wrong run snapshots "$S"
	AMBER_PASSPHRASE=wrong run restore "$S" latest "$T/r"
} >"$T/transcript" 2>&1
if ! diff -u "$here/messages.expected" "$T/transcript" >&2; then
	fail "messages differ from messages.expected"
fi
exit 0
