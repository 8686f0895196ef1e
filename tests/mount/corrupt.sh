#!/bin/sh
# A damaged pack gives EIO on the files whose data it holds, one log line
# naming the object, and no wrong bytes; every other file, in the same
# snapshot or another, still reads correctly.
. "$AMBER_TOP/tests/mount/lib.sh"

mk_store S
mkdir -p one two
seq 1 2000 >one/numbers
echo "small" >one/small
ingest S --dir one="$T/one"
snapA=$SNAP
find S/packs -type f | sort >packs.before

# Incompressible, so its chunks fill the new pack; a fixed seed, so the
# case is the same on every run.
python3 -c 'import random, sys
r = random.Random(7)
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(2 << 20)))' \
    >two/big
echo "also new" >two/note
ingest S --dir one="$T/one" --dir two="$T/two"
snapB=$SNAP
find S/packs -type f | sort >packs.after
new=$(comm -13 packs.before packs.after)
[ -n "$new" ] || fail "the second ingest wrote no pack"
pack=$(ls -S $new | head -n 1)
size=$(stat -c %s "$pack")
[ "$size" -gt 2000000 ] || fail "largest new pack is only $size bytes"

# Flip one byte in the middle of the pack: inside the big file's data.
chmod u+w "$pack"
python3 - "$pack" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(0, 2)
    mid = f.tell() // 2
    f.seek(mid)
    b = f.read(1)
    f.seek(mid)
    f.write(bytes([b[0] ^ 0x55]))
PY

M=$T/m
mount_fg S "$M"
B=$M/snapshots/$snapB/files

# The damaged file: EIO, and not one byte that differs from the source.
cat "$B/two/big" >"$T/got" 2>"$T/err" && fail "reading the damaged file worked"
grep -q "Input/output error" "$T/err" || fail "not EIO: $(cat "$T/err")"
cmp -s "$T/got" two/big && fail "EIO, yet every byte was returned"
cmp "$T/got" two/big 2>&1 | grep -q "EOF on $T/got" ||
    fail "wrong bytes were returned before the error"
grep -q "packs/" "$T/amberfs.log" || fail "no log line naming the pack"

# Everything else still reads, in both snapshots.
cmp "$M/snapshots/$snapA/files/one/numbers" one/numbers || fail "A numbers"
cmp "$M/snapshots/$snapA/files/one/small" one/small || fail "A small"
cmp "$B/one/numbers" one/numbers || fail "B numbers (old pack)"
ls "$B/two" >/dev/null || fail "cannot list two/"
# The read error did not take the mount down.
cat "$B/two/big" >/dev/null 2>&1 && fail "second read of the damaged file"
cmp "$B/one/small" one/small || fail "mount broken after the error"
unmount "$M" "$FSPID"
echo ok
