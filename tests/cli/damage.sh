#!/bin/sh
# A flipped byte in a pack: verify --read-data exits 5 naming the pack;
# restore and cat fail with a clear error naming the file and leave no
# wrong bytes (no partial file; an existing copy is left as it was).
# verify --expect: a known id passes, an unknown one fails.
. "$(dirname "$0")/lib.sh"
new_store_src
python3 -c '
import random, sys
sys.stdout.buffer.write(random.Random(11).randbytes(6 << 20))
' >"$D/big" || fail "python3"
expect 0 "$AMBER" ingest "$S" --dir "src=$D" --json
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$T/out") ||
    fail "ingest --json: $(cat "$T/out")"

expect 0 "$AMBER" verify "$S" --read-data
expect 0 "$AMBER" verify "$S" --expect "$id"
expect 0 "$AMBER" verify "$S" --expect "$(echo "$id" | cut -c1-12)"
expect 5 "$AMBER" verify "$S" --expect 0123456789abcdef0123456789abcdef
out_has "0123456789abcdef"

# A good copy restored before the damage.
expect 0 "$AMBER" restore "$S" latest:files/src "$T/good"
cmp "$D/big" "$T/good/src/big" || fail "restore before damage"

# Flip one byte in the middle of the biggest pack (store objects are
# read-only: make it writable first).
pack=$(find "$S/packs" -type f -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
[ -n "$pack" ] || fail "no pack under $S/packs"
chmod u+w "$pack"
python3 - "$pack" <<'PY' || fail "flip"
import os, sys
p = sys.argv[1]
n = os.path.getsize(p)
with open(p, "r+b") as f:
    f.seek(n // 2)
    b = f.read(1)
    f.seek(n // 2)
    f.write(bytes([b[0] ^ 0x40]))
PY

expect 5 "$AMBER" verify "$S" --read-data
out_has "$(basename "$pack")"
expect 5 "$AMBER" verify "$S" --read-data --json
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert any(sys.argv[2] in (l.get("object") or "") for l in lines), lines
assert lines[-1]["problems"] >= 1 and lines[-1]["ok"] is False, lines[-1]
' "$T/out" "$(basename "$pack")" || fail "verify --json: $(cat "$T/out")"

# Restore: a clear error naming the file, and no file with wrong bytes.
rm -rf "$XDG_CACHE_HOME"	# no help from cached plaintext
expect 1 "$AMBER" restore "$S" latest:files/src "$T/bad"
err_has "files/src/big"
err_has "damaged"
[ -e "$T/bad/src/big" ] && fail "a damaged file was left in place"
find "$T/bad" -name '.amber-restore*' | grep -q . && fail "temporary left"
expect 1 "$AMBER" restore "$S" latest:files/src "$T/bad2" --json
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["errors"] == 1 and o["ok"] is False and o["entries"] == 1, o
' "$T/out" || fail "restore --json: $(cat "$T/out")"
# Over an existing good copy, with --overwrite: the copy is untouched.
expect 1 "$AMBER" restore "$S" latest:files/src "$T/good" --overwrite
cmp "$D/big" "$T/good/src/big" || fail "the good copy was changed"

# cat fails too; what it wrote before the damage is a prefix of the truth.
"$AMBER" cat "$S" latest:files/src/big >"$T/cat" 2>"$T/err" </dev/null &&
    fail "cat of a damaged file succeeded"
err_has "files/src/big"
size=$(stat -c %s "$T/cat")
[ "$size" -lt "$(stat -c %s "$D/big")" ] || fail "cat wrote everything"
cmp -n "$size" "$D/big" "$T/cat" || fail "cat wrote wrong bytes"
exit 0
