#!/bin/sh
# Attack (issue 14, item 4): W2 (write access, no key) plants key objects
# (keys/<hex>) of the store, which any unlock may run through scrypt:
# 1000 with the genuine key's own (allowed) parameters, and two with
# parameters above the caps (128*r*N > 1 GiB; p > 4).  Above the caps, an
# object is refused with a warning naming it and never run; on a fresh
# machine every other object costs one KDF run at most; once a machine
# has unlocked, the key object that worked is tried first and alone, so
# the planted ones are neither read nor run (the --verbose line counts
# both); --key-id tries the one named and nothing else.
. "$(dirname "$0")/../cli/lib.sh"
S=$T/store
new_store "$S"
mkdir -p "$T/src"
printf 'data\n' >"$T/src/f"
expect 0 "$AMBER" ingest "$S" --dir "src=$T/src"
sid=$(od -An -tx1 -j12 -N16 "$S/config" | tr -d ' \n')
[ ${#sid} -eq 32 ] || fail "no store id in the config"
genuine=$(cd "$S/keys" && ls)
[ ${#genuine} -eq 32 ] || fail "not one key object: $genuine"

# The attacker's objects, well formed, from amber-store(5), KEYS.
python3 - "$S/keys" "$sid" <<'PY' || fail "cannot plant"
import os, sys, struct
d, sid = sys.argv[1], bytes.fromhex(sys.argv[2])
def plant(log2n, r, p, kid=None):
    kid = kid or os.urandom(16)
    obj = (b"AMBRKEY1" + b"\x01" + kid + sid + bytes([log2n]) +
           struct.pack("<II", r, p) + os.urandom(32) + os.urandom(12) +
           os.urandom(48))
    assert len(obj) == 142
    with open(os.path.join(d, kid.hex()), "wb") as f:
        f.write(obj)
for i in range(1000):
    plant(10, 8, 1)
plant(21, 8, 1, bytes.fromhex("00" * 15 + "01"))    # 2 GiB
plant(10, 8, 5, bytes.fromhex("00" * 15 + "02"))    # p = 5
PY
big=00000000000000000000000000000001
wide=00000000000000000000000000000002

rm -rf "$XDG_CACHE_HOME"
# A fresh machine, a wrong passphrase: every usable object is tried,
# none above the caps is run, and each of those is named.
expect 4 env AMBER_PASSPHRASE=wrong "$AMBER" snapshots "$S"
err_has "keys/$big: scrypt parameters log2n=21 r=8 p=1 are above the caps"
err_has "keys/$wide: scrypt parameters log2n=10 r=8 p=5 are above the caps"
expect 4 env AMBER_PASSPHRASE=wrong "$AMBER" snapshots "$S" --verbose
err_has "wrong passphrase"

# The right one on a fresh machine: the key object the config names
# (format 2) first, alone, whatever was planted.
expect 0 "$AMBER" snapshots "$S" --verbose
err_has "unlocked with keys/$genuine (named by the config): 1 key objects read, 1 run through scrypt"
ix=$XDG_CACHE_HOME/amber/$sid
[ "$(cat "$ix/unlock-key")" = "$genuine" ] || fail "key not remembered"

# A passphrase added later is not in the config: on a fresh machine it
# is found by trying, each object run at most once.
expect 0 env AMBER_NEW_PASSPHRASE=later "$AMBER" key add "$S" --kdf "$KDF"
rm -rf "$XDG_CACHE_HOME"
expect 0 env AMBER_PASSPHRASE=later "$AMBER" snapshots "$S" --verbose
err_has "(found by trying, cheapest first): 1004 key objects read"
n=$(sed -n 's/.* read, \([0-9]*\) run through scrypt;.*/\1/p' "$T/err")
[ -n "$n" ] && [ "$n" -ge 2 ] && [ "$n" -le 1003 ] ||
    fail "KDF runs on a fresh machine: '$n'"
rm -rf "$XDG_CACHE_HOME"
expect 0 "$AMBER" snapshots "$S"

# Now remembered: one object read, one KDF run, whatever else is there;
# and the registry, which read each planted object once, reads none.
for cmd in "snapshots $S" "key list $S" "verify $S"; do
	# shellcheck disable=SC2086
	expect 0 "$AMBER" $cmd --verbose
	err_has "unlocked with keys/$genuine (remembered): 1 key objects read, 1 run through scrypt; 0 registry objects read"
done
# ... and a remembered object that no longer works costs one run more.
# (Its last digit changed, to 0, or to 1 where it was 0.)
last=$(cut -c32 "$ix/unlock-key")
if [ "$last" = 0 ]; then last=1; else last=0; fi
printf '%s\n' "$(cut -c1-31 "$ix/unlock-key")$last" >"$ix/unlock-key"
expect 0 "$AMBER" snapshots "$S" --verbose
err_has "unlocked with keys/$genuine (found by trying"
[ "$(cat "$ix/unlock-key")" = "$genuine" ] || fail "key not remembered again"

# --key-id: that object only, remembered or not, by id or prefix.
rm -rf "$XDG_CACHE_HOME"
expect 0 "$AMBER" snapshots "$S" --key-id "$genuine" --verbose
err_has "unlocked with keys/$genuine (given by --key-id): 1 key objects read, 1 run through scrypt"
expect 0 "$AMBER" ls "$S" latest --key-id "$(echo "$genuine" | cut -c1-16)" --verbose
err_has "(given by --key-id): 1 key objects read, 1 run through scrypt"
expect 4 env AMBER_PASSPHRASE=wrong "$AMBER" snapshots "$S" \
    --key-id "$genuine" --verbose
expect 1 "$AMBER" snapshots "$S" --key-id "$big"
err_has "keys/$big: scrypt parameters"
expect 1 "$AMBER" snapshots "$S" --key-id 0000000000000000000000000000000f
err_has "no such key object"
expect 1 "$AMBER" snapshots "$S" --key-id 000000
err_has "give the whole id"
expect 1 "$AMBER" snapshots "$S" --key-id XYZ
# No key object above the caps is made either.
expect 1 env AMBER_NEW_PASSPHRASE=another "$AMBER" key add "$S" \
    --kdf log2n=20,r=16
err_has "above the caps"
expect 1 "$AMBER" init "$T/new" --kdf p=5
err_has "above the caps"
[ -e "$T/new" ] && fail "init above the caps left $T/new"
exit 0
