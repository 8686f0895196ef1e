#!/bin/sh
# The mount's side of the snapshot attacks: W1 adds a snapshot that names
# no parent (the newest).  Before this change the mount's latest pointed
# at it; now latest is the newest trusted snapshot, each snapshot
# directory says who wrote it and why it is flagged (user.amber.writer,
# user.amber.flags), and by-writer/ holds each writer's snapshots.
. "$AMBER_TOP/tests/mount/lib.sh"
expect() { fail "unused"; }
. "$AMBER_TOP/tests/attack/snap_common.inc"

S=$T/store
mk_store "$S"
mkdir -p "$T/src"
echo genuine >"$T/src/f"
"$AMBER" key new-ingest "$S" --label host-a --output "$T/k" 2>/dev/null ||
    fail "new-ingest"
key_ingest "$S" "$T/k" --dir "src=$T/src"
key_ingest "$S" "$T/k" --dir "src=$T/src"
G=$ID
echo forged >"$T/src/f"
# The newest: a second or two after the genuine one (within the minute
# of clock skew forgiven).
rogue_root "$S" "$T/k" --dir "src=$T/src" \
    --time "$(date -u -d @$(($(date +%s) + 2)) +%Y-%m-%dT%H:%M:%SZ)"
R=$ID
"$AMBER" snapshots "$S" --json >"$T/list.json" || fail "snapshots"
gname=$(snap_field "$T/list.json" "$G" name)
rname=$(snap_field "$T/list.json" "$R" name)

mount_fg "$S" "$T/mnt"
[ "$(readlink "$T/mnt/latest")" = "snapshots/$gname" ] ||
    fail "latest -> $(readlink "$T/mnt/latest"), not snapshots/$gname"
kid=$(snap_field "$T/list.json" "$R" writer.key)
[ "$(cat "$T/mnt/latest/files/src/f")" = genuine ] || fail "latest content"
xa() { # FILE NAME: the value of an extended attribute
	python3 -c 'import os, sys
print(os.getxattr(sys.argv[1], sys.argv[2]).decode())' "$1" "$2" ||
	    fail "getxattr $2 $1"
}
[ "$(xa "$T/mnt/snapshots/$rname" user.amber.writer)" = "$kid host-a" ] ||
    fail "writer: $(xa "$T/mnt/snapshots/$rname" user.amber.writer)"
[ "$(xa "$T/mnt/snapshots/$rname" user.amber.flags)" = parentless ] ||
    fail "flags: $(xa "$T/mnt/snapshots/$rname" user.amber.flags)"
[ "$(xa "$T/mnt/snapshots/$rname" user.amber.id)" = "$R" ] || fail "id"
[ -z "$(xa "$T/mnt/snapshots/$gname" user.amber.flags)" ] ||
    fail "the genuine snapshot is flagged"
python3 -c 'import os, sys
n = os.listxattr(sys.argv[1])
assert "user.amber.writer" in n, n
assert os.listxattr(sys.argv[2]) == [], "files have none"' \
    "$T/mnt/snapshots/$gname" "$T/mnt/snapshots/$gname/files/src/f" ||
    fail "listxattr"
# by-writer/: one directory per writer, a link per snapshot it wrote.
w=host-a@$(echo "$kid" | cut -c1-8)
[ "$(ls "$T/mnt/by-writer")" = "$w" ] ||
    fail "by-writer lists: $(ls "$T/mnt/by-writer")"
[ "$(readlink "$T/mnt/by-writer/$w/$rname")" = "../../snapshots/$rname" ] ||
    fail "by-writer/$w/$rname -> $(readlink "$T/mnt/by-writer/$w/$rname")"
[ "$(ls "$T/mnt/by-writer/$w" | wc -l)" -eq 3 ] ||
    fail "by-writer/$w lists $(ls "$T/mnt/by-writer/$w")"
[ "$(cat "$T/mnt/by-writer/$w/$gname/files/src/f")" = genuine ] ||
    fail "by-writer/$w/$gname does not lead to the snapshot"
unmount "$T/mnt" "$FSPID"
exit 0
