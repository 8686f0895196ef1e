#!/bin/sh
# Opening stores: a missing store, a wrong passphrase (exit 4), no
# passphrase and no terminal (an error, never a hang), passphrase files
# (one trailing newline stripped), key add, init on a non-empty place.
. "$(dirname "$0")/lib.sh"
S=$T/store

expect 1 "$AMBER" snapshots "$T/nothing-here"
err_has "amber snapshots: $T/nothing-here: no amber store here"
mkdir "$T/empty"
expect 1 "$AMBER" ls "$T/empty" latest
err_has "amber ls: $T/empty: no amber store here"

new_store "$S"
out_has "created amber store"
# A second init, here or in a directory with files, changes nothing.
expect 1 "$AMBER" init "$S" --kdf "$KDF"
err_has "not empty"
echo x >"$T/empty/file"
expect 1 "$AMBER" init "$T/empty" --kdf "$KDF"
[ "$(ls "$T/empty")" = file ] || fail "init touched a non-empty directory"

# The right passphrase: an empty store has no snapshots.
expect 0 "$AMBER" snapshots "$S"
[ -s "$T/out" ] && fail "snapshots of an empty store: $(cat "$T/out")"
expect 1 "$AMBER" ls "$S" latest
err_has "no snapshot"

# Wrong passphrases: exit 4 and one clear line, for every command.
for c in snapshots verify; do
	expect 4 env AMBER_PASSPHRASE=wrong "$AMBER" $c "$S"
	err_has "amber $c: wrong passphrase"
done
expect 4 env AMBER_PASSPHRASE=wrong "$AMBER" ls "$S" latest
err_has "amber ls: wrong passphrase"
expect 4 env AMBER_PASSPHRASE=wrong "$AMBER" restore "$S" latest "$T/r"
[ -e "$T/r" ] && fail "restore with a wrong passphrase created its target"

# No passphrase anywhere and no terminal: an error, not a hang.
if command -v setsid >/dev/null; then
	env -u AMBER_PASSPHRASE timeout 20 setsid -w "$AMBER" snapshots "$S" \
	    </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 124 ] && fail "asking for a passphrase without a terminal hung"
	[ $rc -eq 1 ] || fail "no passphrase: exit $rc, want 1"
	err_has "no terminal"
fi

# Passphrase files: one trailing newline is stripped, not two.
printf '%s\n' "$AMBER_PASSPHRASE" >"$T/pass"
env -u AMBER_PASSPHRASE "$AMBER" snapshots "$S" --passphrase-file "$T/pass" \
    </dev/null >/dev/null 2>"$T/err" || fail "--passphrase-file: $(cat "$T/err")"
env -u AMBER_PASSPHRASE AMBER_PASSPHRASE_FILE="$T/pass" "$AMBER" snapshots \
    "$S" </dev/null >/dev/null 2>"$T/err" ||
    fail "AMBER_PASSPHRASE_FILE: $(cat "$T/err")"
printf '%s\n\n' "$AMBER_PASSPHRASE" >"$T/pass2"
expect 4 "$AMBER" snapshots "$S" --passphrase-file "$T/pass2"
# The file wins over the environment.
printf 'wrong\n' >"$T/wrong"
expect 4 "$AMBER" snapshots "$S" --passphrase-file "$T/wrong"
expect 1 "$AMBER" snapshots "$S" --passphrase-file "$T/no-such-file"
err_has "passphrase"

# key add: the new passphrase opens the store, and so does the old one.
printf 'second secret\n' >"$T/new"
expect 0 "$AMBER" key add "$S" --new-passphrase-file "$T/new" --kdf "$KDF"
expect 0 env AMBER_PASSPHRASE="second secret" "$AMBER" snapshots "$S"
expect 0 "$AMBER" snapshots "$S"
expect 0 env AMBER_NEW_PASSPHRASE=third "$AMBER" key add "$S" --kdf "$KDF"
expect 0 env AMBER_PASSPHRASE=third "$AMBER" snapshots "$S"
expect 4 env AMBER_PASSPHRASE=wrong "$AMBER" key add "$S" \
    --new-passphrase-file "$T/new" --kdf "$KDF"
# Adding a key with no new passphrase and no terminal fails cleanly.
if command -v setsid >/dev/null; then
	timeout 20 setsid -w "$AMBER" key add "$S" --kdf "$KDF" \
	    </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 1 ] || fail "key add without a new passphrase: exit $rc"
fi

# The index is a cache: rebuilding it loses nothing.
expect 0 "$AMBER" index rebuild "$S"
expect 0 "$AMBER" index sync "$S"
expect 0 "$AMBER" verify "$S"
exit 0
