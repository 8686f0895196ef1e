#!/bin/sh
# amber diff bounds what a hostile store costs it.  A host holding only
# an ingest key (W1) commits, with its own writer (rogue_tree.c), a
# snapshot with files/mid, 1500 levels deep, and files/deep, 2100 levels
# deep, past STORE_DEPTH_MAX (2048 below the snapshot's root).  diff
# against an empty snapshot lists all of mid, names the tree too deep to
# enter with its path, and exits 2 (trouble), not 1.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/attack/rogue.inc"

rogue_build
S=$T/store
new_store "$S"
mkdir "$T/empty"
expect 0 "$AMBER" ingest "$S" --dir e="$T/empty" --time 2026-01-01T00:00:00Z -q
expect 0 "$AMBER" key new-ingest "$S" --label rogue --output "$T/ikey"
env -u AMBER_PASSPHRASE "$T/rogue_tree" "$S" "$T/ikey" \
    deep:files/mid=1500 deep:files/deep=2100 >"$T/rogue.out" ||
    fail "rogue_tree"
new=$(cut -c1-12 "$T/rogue.out")

expect 2 "$AMBER" diff "$S" 2026-01-01T00:00:00Z "$new"
mid="files/mid$(printf '/d%.0s' $(seq 1500))/f"
deep_has "$T/out" "+    $mid" "the deepest file of mid is not listed" -x
deep_has "$T/err" "deeper than any real tree" \
    "the tree too deep is not named"
deep_has "$T/err" "B:files/deep/d/d/d" \
    "the too deep tree's path is not named"
[ "$(grep -c '^+    files/deep/' "$T/out")" -le 2048 ] ||
    fail "went deeper than 2048 levels"
# The same bound in --stat, which prints no paths.
expect 2 "$AMBER" diff "$S" 2026-01-01T00:00:00Z "$new" --stat
echo ok
