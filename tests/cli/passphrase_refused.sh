#!/bin/sh
# amber and amberfs read passphrases the same way (store/pass.c), so they
# refuse the same ones: empty (from the environment, a file, or a file
# holding only a newline), holding a NUL byte, or longer than 4096 bytes.
# Each is one line on stderr and exit 1, before anything is unlocked or
# mounted.  amberfs used to take all of these and try to unlock with them.
. "$(dirname "$0")/lib.sh"
: "${AMBERFS:?AMBERFS must name the amberfs binary}"
S=$T/store
M=$T/m
mkdir "$M"
new_store "$S"

: >"$T/empty"
printf '\n' >"$T/newline"
printf 'abc\000def\n' >"$T/nul"
head -c 4097 /dev/zero | tr '\0' x >"$T/long"

# refused WHAT CMD...: CMD (run with no AMBER_PASSPHRASE unless CMD sets
# it) exits 1 and says why.
refused() {
	what=$1
	shift
	expect 1 "$@"
	err_has "$what"
	[ "$(wc -l <"$T/err")" -eq 1 ] ||
	    fail "$*: more than one line: $(cat "$T/err")"
}

for f in empty newline nul; do
	refused "empty passphrase" env -u AMBER_PASSPHRASE \
	    "$AMBER" snapshots "$S" --passphrase-file "$T/$f"
	refused "empty passphrase, or one holding a NUL byte" \
	    env -u AMBER_PASSPHRASE "$AMBERFS" "$S" "$M" -f \
	    -o passphrase_file="$T/$f"
	refused "empty passphrase, or one holding a NUL byte" \
	    env -u AMBER_PASSPHRASE AMBER_PASSPHRASE_FILE="$T/$f" \
	    "$AMBERFS" "$S" "$M" -f
done
refused "empty passphrase" env AMBER_PASSPHRASE= "$AMBER" snapshots "$S"
refused "AMBER_PASSPHRASE: empty passphrase" \
    env AMBER_PASSPHRASE= "$AMBERFS" "$S" "$M" -f
refused "passphrase too long" env -u AMBER_PASSPHRASE \
    "$AMBERFS" "$S" "$M" -f -o passphrase_file="$T/long"
refused "passphrase too long" \
    env AMBER_PASSPHRASE="$(cat "$T/long")" "$AMBERFS" "$S" "$M" -f
expect 1 env -u AMBER_PASSPHRASE "$AMBER" snapshots "$S" \
    --passphrase-file "$T/long"
# Nothing was mounted.
grep -q " $M " /proc/mounts && fail "mounted with a refused passphrase"
exit 0
