#!/bin/sh
# Ingest keys: new-ingest writes a 0600 key file; with --key-file, ingest
# works and every reading command is refused (exit 4); a key file of
# another store is refused, garbage is an error; list shows the keys;
# revoke flags the key's later snapshots.
. "$(dirname "$0")/lib.sh"
new_store_src
new_store "$T/other"
printf 'data\n' >"$D/f"

expect 0 "$AMBER" key new-ingest "$S" --label host-a --output "$T/ing.key"
[ "$(stat -c %a "$T/ing.key")" = 600 ] || fail "key file mode $(stat -c %a "$T/ing.key")"
[ -s "$T/ing.key" ] || fail "empty key file"
# Never over an existing file.
expect 1 "$AMBER" key new-ingest "$S" --output "$T/ing.key"
expect 0 "$AMBER" key new-ingest "$S"
[ -s "$T/out" ] || fail "new-ingest to stdout wrote nothing"
expect 0 "$AMBER" key new-ingest "$T/other" --output "$T/other.key"

# The ingest key adds snapshots without the passphrase...
# (Dated now: one dated before its key was made would be flagged.)
expect 0 env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/ing.key" \
    --dir "src=$D" --json
first=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"][:12])' "$T/out")
# ...and reads nothing.
for c in "snapshots $S" "ls $S latest" "cat $S latest:files/src/f" \
    "restore $S latest $T/r" "verify $S"; do
	# shellcheck disable=SC2086
	expect 4 env -u AMBER_PASSPHRASE "$AMBER" $c --key-file "$T/ing.key"
done
[ -e "$T/r" ] && fail "restore with an ingest key created its target"
expect 4 env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" \
    --key-file "$T/other.key" --dir "src=$D"
printf 'not a key\n' >"$T/garbage"
expect 1 env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" \
    --key-file "$T/garbage" --dir "src=$D"
err_has "$T/garbage"
expect 1 "$AMBER" ls "$S" latest --key-file "$T/no-such-key"

# The passphrase reads what the ingest key wrote.
expect 0 "$AMBER" cat "$S" latest:files/src/f
[ "$(cat "$T/out")" = data ] || fail "content: $(cat "$T/out")"

expect 0 "$AMBER" key list "$S"
[ "$(grep -c ' ingest ' "$T/out")" -eq 2 ] || fail "list: $(cat "$T/out")"
[ "$(grep -c ' passphrase ' "$T/out")" -eq 1 ] || fail "list: $(cat "$T/out")"
out_has "host-a"
expect 0 "$AMBER" key list "$S" --json
id=$(python3 -c '
import json, sys
k = [k for k in json.load(open(sys.argv[1])) if k.get("label") == "host-a"]
assert len(k) == 1 and k[0]["type"] == "ingest" and not k[0]["revoked"]
print(k[0]["id"])
' "$T/out") || fail "list --json: $(cat "$T/out")"

expect 1 "$AMBER" key revoke "$S" ffffffffffffffff
err_has "no such ingest key"
expect 0 "$AMBER" key revoke "$S" "$(echo "$id" | cut -c1-10)"
expect 1 "$AMBER" key revoke "$S" "$id"
err_has "revoked already"
expect 0 env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/ing.key" \
    --dir "src=$D" --json
second=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"][:12])' "$T/out")
expect 0 "$AMBER" snapshots "$S"
grep -q " $first .*revoked" "$T/out" &&
    fail "a snapshot from before the revocation is flagged: $(cat "$T/out")"
grep -q " $second .*\[revoked\]" "$T/out" ||
    fail "a snapshot after the revocation is not flagged: $(cat "$T/out")"
expect 0 "$AMBER" key list "$S"
grep -q 'host-a \[revoked ' "$T/out" || fail "list after revoke: $(cat "$T/out")"
exit 0
