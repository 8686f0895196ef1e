#!/bin/sh
# Restore never writes outside TARGET and never follows a symlink that is
# already there; an existing item is replaced only with --overwrite, and
# then by what the snapshot holds.
. "$(dirname "$0")/lib.sh"
S=$T/store
D=$T/src
O=$T/outside
new_store "$S"
mkdir -p "$D/dir/sub" "$O/victim-dir"
printf 'one\n' >"$D/file"
printf 'two\n' >"$D/dir/file"
printf 'three\n' >"$D/dir/sub/file"
printf 'precious\n' >"$O/victim"
expect 0 "$AMBER" ingest "$S" --dir "src=$D"
snapshot_outside() {
	(cd "$O" && find . -printf '%p %y %m %s %T@\n' | sort && cat victim)
}
snapshot_outside >"$T/outside.before"
check_outside() {
	snapshot_outside >"$T/outside.now"
	cmp -s "$T/outside.before" "$T/outside.now" ||
	    fail "something was written outside the target: $1"
}

# TARGET/src is a symlink to a directory outside.
mkdir "$T/t1"
ln -s "$O/victim-dir" "$T/t1/src"
expect 1 "$AMBER" restore "$S" latest:files/src "$T/t1"
err_has "exists"
check_outside "symlinked item, no --overwrite"
[ -L "$T/t1/src" ] || fail "the symlink in the way was removed without --overwrite"
expect 0 "$AMBER" restore "$S" latest:files/src "$T/t1" --overwrite
check_outside "symlinked item, --overwrite"
[ -L "$T/t1/src" ] && fail "--overwrite left the symlink"
same_tree "$D" "$T/t1/src"

# Symlinks below an existing item: a file and a directory of the
# snapshot are symlinks to the outside in TARGET.
mkdir -p "$T/t2/src"
ln -s "$O/victim" "$T/t2/src/file"
ln -s "$O/victim-dir" "$T/t2/src/dir"
expect 1 "$AMBER" restore "$S" latest:files/src "$T/t2"
check_outside "symlinks below, no --overwrite"
expect 0 "$AMBER" restore "$S" latest:files/src "$T/t2" --overwrite
check_outside "symlinks below, --overwrite"
same_tree "$D" "$T/t2/src"

# A single file over a symlink to a file outside.
mkdir "$T/t3"
ln -s "$O/victim" "$T/t3/file"
expect 1 "$AMBER" restore "$S" latest:files/src/file "$T/t3"
expect 0 "$AMBER" restore "$S" latest:files/src/file "$T/t3" --overwrite
check_outside "single file over a symlink"
[ -L "$T/t3/file" ] && fail "file still a symlink"
cmp "$D/file" "$T/t3/file" || fail "file content"

# TARGET itself is reached through a symlink the user gave: that is fine.
ln -s "$T/t4-real" "$T/t4"
mkdir "$T/t4-real"
expect 0 "$AMBER" restore "$S" latest:files/src/dir "$T/t4"
cmp "$D/dir/sub/file" "$T/t4-real/dir/sub/file" || fail "through TARGET link"

# --overwrite replaces content and types, and merges directories.
mkdir -p "$T/t5/src/dir/sub/file" "$T/t5/src/extra"
printf 'stale content\n' >"$T/t5/src/file"
printf 'stale\n' >"$T/t5/src/dir/file"
expect 1 "$AMBER" restore "$S" latest:files/src "$T/t5"
[ "$(cat "$T/t5/src/file")" = "stale content" ] || fail "replaced without --overwrite"
expect 0 "$AMBER" restore "$S" latest:files/src "$T/t5" --overwrite
cmp "$D/file" "$T/t5/src/file" || fail "content not replaced"
cmp "$D/dir/sub/file" "$T/t5/src/dir/sub/file" || fail "dir in the way of a file"
[ -d "$T/t5/src/extra" ] || fail "--overwrite removed an unrelated directory"

# A whole-snapshot restore refuses before writing anything if one
# top-level item exists.
mkdir -p "$T/t6/files"
expect 1 "$AMBER" restore "$S" latest "$T/t6"
[ -z "$(ls -A "$T/t6/files")" ] || fail "wrote into an existing item"

# TARGET that is a file: a clear error.
: >"$T/t7"
expect 1 "$AMBER" restore "$S" latest:files/src "$T/t7"
err_has "$T/t7"
check_outside "end"
exit 0
