#!/bin/sh
# Hard-link groups are per source: two sources whose groups have the
# same ordinals restore as separate inodes, in a whole-snapshot restore
# and in a restore of the files/ directory.
. "$(dirname "$0")/lib.sh"
S=$T/store
new_store "$S"
mkdir -p "$T/a" "$T/b"
printf 'one\n' >"$T/a/x"
ln "$T/a/x" "$T/a/y"
printf 'two\n' >"$T/b/x"
ln "$T/b/x" "$T/b/y"
printf 'three\n' >"$T/b/z"
expect 0 "$AMBER" ingest "$S" --dir "a=$T/a" --dir "b=$T/b"
check() { # DIR holding a/ and b/
	ia=$(stat -c %i "$1/a/x")
	ib=$(stat -c %i "$1/b/x")
	[ "$(stat -c %i "$1/a/y")" = "$ia" ] || fail "$1: a/y is not a/x"
	[ "$(stat -c %i "$1/b/y")" = "$ib" ] || fail "$1: b/y is not b/x"
	[ "$ia" != "$ib" ] || fail "$1: a/x and b/x are one inode"
	[ "$(cat "$1/b/y")" = two ] || fail "$1: b/y: $(cat "$1/b/y")"
	[ "$(stat -c %h "$1/b/z")" = 1 ] || fail "$1: b/z has links"
}
expect 0 "$AMBER" restore "$S" latest "$T/r1"
check "$T/r1/files"
expect 0 "$AMBER" restore "$S" latest:files "$T/r2"
check "$T/r2/files"
exit 0
