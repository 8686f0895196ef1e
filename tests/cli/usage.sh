#!/bin/sh
# Usage errors exit 2, --help exits 0 on stdout, and every long option a
# command's --help names is in amber(1).
. "$(dirname "$0")/lib.sh"
MAN="${AMBER_TOP:-$(dirname "$0")/../..}/man/amber.1"

expect 2 "$AMBER"
err_has "usage: amber COMMAND"
expect 2 "$AMBER" frobnicate
err_has "unknown command 'frobnicate'"
expect 0 "$AMBER" --version
grep -q '^amber [0-9]' "$T/out" || fail "--version output: $(cat "$T/out")"
expect 0 "$AMBER" help
out_has "restore"
expect 0 "$AMBER" help ls
out_has "usage: amber ls"
expect 2 "$AMBER" help frobnicate

for c in init key ingest snapshots ls cat restore recover verify index mount doctor policy prune; do
	expect 0 "$AMBER" "$c" --help
	grep -q "^usage: amber $c" "$T/out" || fail "$c --help: $(head -2 "$T/out")"
	[ -s "$T/err" ] && fail "$c --help wrote to stderr: $(cat "$T/err")"
	# Every long option of --help is documented in the man page.
	grep -o -- '--[a-z][a-z0-9-]*' "$T/out" | sort -u | while read -r o; do
		grep -qE -- "Fl -${o#--}([^a-z0-9-]|\$)" "$MAN" ||
		    fail "$c --help names $o, amber.1 does not"
	done || exit 1
done

# Wrong arity or unknown options: exit 2, never 0 or 1.
expect 2 "$AMBER" init
expect 2 "$AMBER" init a b
expect 2 "$AMBER" init "$T/s" --no-such-option
expect 2 "$AMBER" init "$T/s" --kdf log2n=banana
expect 2 "$AMBER" init "$T/s" --kdf log2n=10,q=3
expect 2 "$AMBER" init "$T/s" --retention forever
[ -e "$T/s" ] && fail "a refused init created $T/s"
expect 2 "$AMBER" key
expect 2 "$AMBER" key remove "$T/s"
expect 2 "$AMBER" snapshots
expect 2 "$AMBER" snapshots a b
expect 2 "$AMBER" ls "$T/s"
expect 2 "$AMBER" ls "$T/s" latest extra
expect 2 "$AMBER" ls -Z "$T/s" latest
expect 2 "$AMBER" cat "$T/s"
expect 2 "$AMBER" restore "$T/s" latest
expect 2 "$AMBER" restore "$T/s" latest "$T/t" extra
expect 2 "$AMBER" verify
expect 2 "$AMBER" verify "$T/s" --expect not-hex
expect 2 "$AMBER" index "$T/s"
expect 2 "$AMBER" index frob "$T/s"
expect 2 "$AMBER" mount
expect 2 "$AMBER" mount "$T/s"
expect 2 "$AMBER" policy
expect 2 "$AMBER" policy show
expect 2 "$AMBER" policy show "$T/s" extra
expect 2 "$AMBER" prune
expect 2 "$AMBER" prune "$T/s" extra
expect 2 "$AMBER" prune "$T/s" --grace never
exit 0
