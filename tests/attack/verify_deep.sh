#!/bin/sh
# Issue 14, item 11: verify names every tree it does not check.  A host
# holding only an ingest key (W1) commits, with its own writer
# (rogue_tree.c), a snapshot with two chains of directories: files/mid,
# 1500 levels deep, whose deepest file's chunk is in no pack, and
# files/deep, 2100 levels deep, past what amber restore accepts (2048
# below the snapshot's root).  verify must report the lost chunk with its
# path, and name the tree too deep to check, and exit 5.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/attack/rogue.inc"

rogue_build
S=$T/store
new_store "$S"
expect 0 "$AMBER" key new-ingest "$S" --label rogue --output "$T/ikey"
env -u AMBER_PASSPHRASE "$T/rogue_tree" "$S" "$T/ikey" \
    deep:files/mid=1500 deep:files/deep=2100 >"$T/rogue.out" ||
    fail "rogue_tree"

expect 5 "$AMBER" verify "$S"
mid="files/mid$(printf '/d%.0s' $(seq 1500))/f"
deep="files/deep$(printf '/d%.0s' $(seq 2047))"
grep -q -F "missing: in no pack" "$T/out" ||
    { cat "$T/out" "$T/err"; fail "the lost chunk is not reported"; }
deep_has "$T/out" ":$mid)" "the lost chunk's path is not named"
deep_has "$T/out" "nested deeper than 2048" "the tree too deep is not named"
deep_has "$T/out" ":$deep)" "the too deep tree's path is not named"
[ "$(wc -l <"$T/out")" -eq 2 ] ||
    { cut -c1-300 "$T/out"; fail "expected two problems"; }
# restore refuses what verify did not check, and reads what it did.
expect 1 "$AMBER" restore "$S" latest:files/deep "$T/r"
err_has "too deep"
echo ok
