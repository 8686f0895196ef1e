#!/bin/sh
# A hostile tree survives ingest and restore: names with newlines and
# invalid UTF-8, 255-byte names, hard links, symlinks dangling and
# pointing out, a fifo, sparse files (still sparse), empty files and
# directories, a 3000-file directory, odd modes and mtimes.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
mkdir "$T/src"
n=$(make_tree "$T/src/t") || fail "make_tree"
init_store "$S"

"$AMBER" ingest "$S" --dir t="$T/src/t" --tag rt --json >"$T/out.json" \
    2>"$T/err"
rc=$?
cat "$T/err"
[ $rc -eq 0 ] || fail "ingest exited $rc"
[ ! -s "$T/err" ] || fail "ingest printed on stderr with --json"
[ "$(jget "$T/out.json" files)" = "$n" ] ||
    fail "files: $(jget "$T/out.json" files), expected $n"
[ "$(jget "$T/out.json" warnings)" = 0 ] || fail "warnings"
[ "$(jget "$T/out.json" partial)" = false ] || fail "partial"
name=$(jget "$T/out.json" name)
case "$name" in
[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z*) ;;
*) fail "snapshot name '$name'" ;;
esac
# The content read is the data, not the holes: 64 MiB + 16 MiB of sparse
# files would show if holes were read.
bytes=$(jget "$T/out.json" bytes)
[ "$bytes" -lt $((20 << 20)) ] || fail "read $bytes bytes: holes were read"

# Hard-link ordinals (store.h): entries numbered in preorder from 1 (the
# source root is 0); every name of a group has link = the ordinal of the
# group's first name.  amber ls -R lists in preorder.
"$AMBER" ls "$S" "$name:files/t" -R --json >"$T/ls.json" || fail "ls -R"
python3 - "$T/ls.json" <<'PY' || fail "hard-link ordinals"
import json, sys
first, groups = {}, {}
lines = open(sys.argv[1]).read().splitlines()
for ordinal, line in enumerate(lines, 1):
    e = json.loads(line)
    if 'link' in e:
        first.setdefault(e['link'], ordinal)
        groups.setdefault(e['link'], []).append(e['path'])
for link, o in first.items():
    if link != o:
        sys.exit('group %r: link %d, first name has ordinal %d'
                 % (groups[link], link, o))
sizes = sorted(len(g) for g in groups.values())
if sizes != [2, 3]:
    sys.exit('hard-link groups %r' % groups)
print('%d entries, hard-link groups %r' % (len(lines), sorted(groups.values())))
PY

"$AMBER" restore "$S" "$name:files/t" "$T/restored" ||
    fail "restore exited $?"
tree_cmp "$T/src/t" "$T/restored/t"

# Holes stay holes: 64 MiB apparent, a few blocks allocated.
blocks=$(stat -c %b "$T/restored/t/sparse")
size=$(stat -c %s "$T/restored/t/sparse")
[ "$size" -eq $((64 << 20)) ] || fail "sparse size $size"
[ "$blocks" -lt 2048 ] || fail "sparse file restored with $blocks blocks"
blocks=$(stat -c %b "$T/restored/t/sparse_tail")
[ "$blocks" -lt 2048 ] || fail "sparse_tail restored with $blocks blocks"

# The fifo was recorded as a fifo (and never opened: a read would hang).
[ -p "$T/restored/t/fifo" ] || fail "fifo not restored as a fifo"

"$AMBER" verify "$S" >"$T/verify" 2>&1 || { cat "$T/verify"; fail "verify"; }
echo "ok: $n entries round-tripped"
