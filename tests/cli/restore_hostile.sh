#!/bin/sh
# Restore of a hostile tree equals its source: names with newlines,
# invalid UTF-8, 255 bytes, spaces and leading dashes; hard links;
# dangling and escaping symlinks; a fifo; a sparse file; empty files and
# directories; 3000 files in one directory; mtimes before 1970 and with
# nanoseconds; odd modes; (as root) owners and a device node.
. "$(dirname "$0")/lib.sh"
new_store_src

mkdir -p "$D/sub/deeper/deepest" "$D/empty-dir" "$D/many" "$D/ro-dir"
nl=$(printf 'new\nline')
bad=$(printf 'bad\377\376utf8')
long=$(printf 'n%.0s' $(seq 255))
printf 'hello\n' >"$D/$nl"
printf 'invalid\n' >"$D/$bad"
printf 'long\n' >"$D/$long"
mkdir "$D/$bad-dir"
printf 'inside\n' >"$D/$bad-dir/$nl"
printf 'spaces\n' >"$D/ a  b "
printf 'dash\n' >"$D/-rf"
printf 'dashdash\n' >"$D/--help"
printf 'tab\n' >"$D/$(printf 'a\tb')"
printf 'back\n' >"$D/back\\slash"
printf 'star\n' >"$D/*"
: >"$D/empty-file"
printf 'deep\n' >"$D/sub/deeper/deepest/file"
# A file bigger than a chunk, and a sparse one with data in the middle.
python3 -c '
import random, sys
r = random.Random(7)
sys.stdout.buffer.write(r.randbytes(3 << 20))
' >"$D/sub/random.bin" || fail "python3"
truncate -s 64M "$D/sparse"
printf 'in the middle' | dd of="$D/sparse" bs=1 seek=33554432 conv=notrunc \
    2>/dev/null
# Hard links: three names, one in another directory; and a second group.
printf 'linked\n' >"$D/link1"
ln "$D/link1" "$D/link2"
ln "$D/link1" "$D/sub/link3"
printf 'pair\n' >"$D/sub/pair-a"
ln "$D/sub/pair-a" "$D/pair-b"
# Symlinks: dangling, escaping, absolute, to a directory, to itself.
ln -s does/not/exist "$D/dangling"
ln -s ../../../../../../etc/passwd "$D/escape"
ln -s /etc "$D/absolute"
ln -s sub "$D/to-sub"
ln -s self "$D/self"
ln -s "$nl" "$D/to-newline"
mkfifo "$D/fifo"
(cd "$D/many" && seq 1 3000 | xargs touch) || fail "touch"
printf 'ro\n' >"$D/ro-dir/file"
# Modes.
chmod 0751 "$D/sub"
chmod 0600 "$D/link1"
chmod 4755 "$D/sub/pair-a"
chmod 1777 "$D/empty-dir"
chmod 0444 "$D/ro-dir/file"
# Owners and device nodes need root.
if [ "$(id -u)" -eq 0 ]; then
	mknod "$D/null" c 1 3
	mknod "$D/blk" b 7 200
	chown 1234:5678 "$D/-rf"
	chown -h 4321:8765 "$D/dangling"
	chown 99:99 "$D/sub/deeper"
	chmod 0000 "$D/empty-file"
fi
# Times, last, directories after their content: before 1970, with
# nanoseconds, far in the future.
touch -d '1960-02-29 12:34:56.123456789 UTC' "$D/-rf"
touch -d '1969-12-31 23:59:59.999999999 UTC' "$D/$nl"
touch -d '2001-09-09 01:46:40.000000001 UTC' "$D/sub/random.bin"
touch -d '2100-01-01 00:00:00.5 UTC' "$D/link1"
touch -h -d '1999-12-31 23:59:59.25 UTC' "$D/dangling" "$D/escape"
touch -d '2010-10-10 10:10:10.101010101 UTC' "$D/fifo"
touch -d '1980-01-01 00:00:00 UTC' "$D/sub/deeper/deepest" "$D/sub/deeper"
touch -d '1990-05-05 05:05:05.555 UTC' "$D/many" "$D/$bad-dir" "$D/sub"
touch -d '1970-01-01 00:00:00 UTC' "$D/empty-dir"
chmod 0555 "$D/ro-dir"
touch -d '2020-02-02 02:02:02.020202020 UTC' "$D/ro-dir" "$D"

expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time 2026-11-27T03:00:00Z

# One source restored into a new (nested) TARGET.
expect 0 "$AMBER" restore "$S" latest:files/src "$T/res/a"
[ "$(ls -A "$T/res/a")" = src ] || fail "restore placed: $(ls -A "$T/res/a")"
same_tree "$D" "$T/res/a/src"

# Hard links are one inode again; the sparse file is sparse again.
i1=$(stat -c %i "$T/res/a/src/link1")
[ "$(stat -c %i "$T/res/a/src/link2")" = "$i1" ] || fail "link2 not linked"
[ "$(stat -c %i "$T/res/a/src/sub/link3")" = "$i1" ] || fail "link3 not linked"
[ "$(stat -c %i "$T/res/a/src/pair-b")" = "$(stat -c %i "$T/res/a/src/sub/pair-a")" ] ||
    fail "pair not linked"
blocks=$(stat -c %b "$T/res/a/src/sparse")
[ "$blocks" -lt 1024 ] || fail "sparse file takes $blocks blocks"

# Again over itself with --overwrite (read-only directories, hard links
# and all): the same result.
expect 1 "$AMBER" restore "$S" latest:files/src "$T/res/a"
expect 0 "$AMBER" restore "$S" latest:files/src "$T/res/a" --overwrite
same_tree "$D" "$T/res/a/src"
[ "$(stat -c %i "$T/res/a/src/link2")" = "$(stat -c %i "$T/res/a/src/link1")" ] ||
    fail "link2 not linked after --overwrite"

# The whole snapshot: TARGET/files/src.
expect 0 "$AMBER" restore "$S" 2026-11-27T03:00:00Z "$T/res/b"
[ "$(ls -A "$T/res/b")" = files ] || fail "whole restore: $(ls -A "$T/res/b")"
same_tree "$D" "$T/res/b/files/src"

# One file, one directory with an odd name, one symlink, by exact names.
expect 0 "$AMBER" restore "$S" "latest:files/src/$nl" "$T/res/c"
cmp "$D/$nl" "$T/res/c/$nl" || fail "single file"
expect 0 "$AMBER" restore "$S" "latest:files/src/$bad-dir" "$T/res/c"
same_tree "$D/$bad-dir" "$T/res/c/$bad-dir"
expect 0 "$AMBER" restore "$S" "latest:files/src/escape" "$T/res/c"
[ "$(readlink "$T/res/c/escape")" = ../../../../../../etc/passwd ] ||
    fail "escape symlink target"
expect 0 "$AMBER" restore "$S" "latest:files/src/-rf" "$T/res/c"
cmp "$D/-rf" "$T/res/c/-rf" || fail "-rf"
# A hard link restored alone is a plain file with the group's content.
expect 0 "$AMBER" restore "$S" latest:files/src/sub/link3 "$T/res/c"
cmp "$D/link1" "$T/res/c/link3" || fail "link3 alone"

# Nothing was written outside the targets, and no temporary is left.
[ "$(ls -A "$T/res")" = "$(printf 'a\nb\nc')" ] || fail "stray: $(ls -A "$T/res")"
find "$T/res" -name '.amber-restore*' | grep -q . && fail "temporary files left"
exit 0
