#!/bin/sh
# tools/demo.sh: what `make demo` runs.  Makes a local store in a fresh
# temporary directory, ingests something real (this machine's
# /usr/share/doc, and this repository's own git history when it is a git
# checkout), changes a file and ingests again, then mounts the history
# and shows it: the dated tree, latest, a diff between the two dates, and
# a file copied out.  Leaves the store behind for you to explore.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
AMBER="$top/$B/amber"
AMBERFS="$top/$B/amberfs"
demo=$(mktemp -d /tmp/amber-demo.XXXXXX)
store="$demo/store"
mnt="$demo/mnt"
export AMBER_PASSPHRASE=demo XDG_CACHE_HOME="$demo/cache"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

docs=/usr/share/doc
work="$demo/work"
mkdir -p "$work"
cp -a "$docs" "$work/doc"

echo "amber demo in $demo (passphrase: demo)"
run "$AMBER" init --kdf log2n=14,r=8,p=1 "$store"
set -- --dir "doc=$work/doc"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1 &&
    [ -n "$(git -C "$top" rev-parse --verify -q HEAD 2>/dev/null)" ]; then
	set -- "$@" --repo "amber=$top"
fi
run "$AMBER" ingest "$store" --tag demo "$@"
sleep 1
say "echo 'a change made after the first backup' >> $work/doc/demo-note.txt"
echo 'a change made after the first backup' >> "$work/doc/demo-note.txt"
run "$AMBER" ingest "$store" --tag demo "$@"
run "$AMBER" snapshots "$store"
run "$AMBER" verify "$store"

if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null 2>&1; then
	mkdir -p "$mnt"
	run "$AMBERFS" "$store" "$mnt"
	trap 'fusermount3 -u "$mnt" 2>/dev/null || true' EXIT
	run ls "$mnt" "$mnt/snapshots"
	run ls -l "$mnt/latest/files/doc" | head -n 12
	first=$(ls "$mnt/snapshots" | head -n 1)
	say "diff -r --no-dereference $mnt/snapshots/$first/files/doc $mnt/latest/files/doc"
	diff -r --no-dereference "$mnt/snapshots/$first/files/doc" \
	    "$mnt/latest/files/doc" || true
	if [ -d "$mnt/latest/repos/amber" ]; then
		run ls "$mnt/latest/repos/amber" "$mnt/latest/repos/amber.git"
	fi
	f=$(cd "$mnt/latest/files/doc" && find . -type f -name 'copyright' | head -n 1)
	if [ -n "$f" ]; then
		run cp "$mnt/latest/files/doc/$f" "$demo/copied-copyright"
		run head -n 5 "$demo/copied-copyright"
	fi
	run fusermount3 -u "$mnt"
	trap - EXIT
else
	echo "(no /dev/fuse here: showing the history with amber ls instead)"
	run "$AMBER" ls "$store" latest:files/doc
fi
echo
echo "The store is in $store; mount it again with:"
echo "  AMBER_PASSPHRASE=demo XDG_CACHE_HOME=$demo/cache $AMBERFS $store $mnt"
