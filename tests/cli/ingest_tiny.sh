#!/bin/sh
# ingest_tiny.sh: 50,000 tiny files, each its own chunk.  A pack closes
# at PACK_ENTRIES_MAX entries as well as at 16 MiB: before, all of them
# went into one pack whose table (2.4 MB) was larger than readers take,
# so the ingest succeeded and, from any other index, every file was
# unreadable and verify found 50,000 problems.  Here: more than one data
# pack, and from a fresh index verify --read-data is clean and the files
# read back.
. "$AMBER_TOP/tests/cli/lib.sh"
command -v python3 >/dev/null || { echo "needs python3"; exit 77; }

S=$T/store
D=$T/src
python3 - "$D" <<'EOF' || fail "making the tree"
import os, sys
top = sys.argv[1]
for d in range(50):
    os.makedirs("%s/d%d" % (top, d))
    for i in range(1000):
        with open("%s/d%d/f%d" % (top, d, i), "w") as f:
            f.write("tiny file %d.%d\n" % (d, i))
EOF
new_store "$S"
expect 0 "$AMBER" ingest "$S" --dir t="$D" -q
n=$(find "$S/packs" -type f | wc -l)
[ "$n" -ge 3 ] || fail "50,000 chunks in $n packs (data and trees)"
# Another machine: a fresh index reads every table.
export XDG_CACHE_HOME=$T/cache2
expect 0 "$AMBER" verify "$S" --read-data
err_has "0 problems found"
expect 0 "$AMBER" cat "$S" latest:files/t/d49/f999
[ "$(cat "$T/out")" = "tiny file 49.999" ] || fail "read back: $(cat "$T/out")"
expect 0 "$AMBER" restore "$S" latest:files/t "$T/r"
diff -r "$D" "$T/r/t" >/dev/null || fail "the restored tree differs"
echo ok
