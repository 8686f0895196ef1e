#!/bin/sh
# The documentation agrees with the programs and with itself: every
# command has its section and SYNOPSIS line in amber(1), every amberfs
# option of --help is in amberfs(1), both exit-status tables (amber(1)
# and the README's "Exit status") list 0 to 5 with the same meanings
# (0 success, 1 error, 2 usage, 3 partial, 4 wrong passphrase or key, 5
# verify found damage), every page a man page or the README
# names exists in man/, and no document points at a merged-away fragment.
. "$(dirname "$0")/lib.sh"
TOP=${AMBER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MAN=$TOP/man
AMBERFS=${AMBERFS:-$(dirname "$AMBER")/amberfs}

# Every command "amber help" lists has a section and a SYNOPSIS line.
expect 0 "$AMBER" help
cmds=$(sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p' "$T/out")
[ -n "$cmds" ] || fail "amber help lists no commands"
n=0
for c in $cmds; do
	n=$((n + 1))
	grep -qx ".Ss $c" "$MAN/amber.1" || fail "amber.1 has no section for $c"
	grep -q "^\.Cm $c\( \|\$\)" "$MAN/amber.1" ||
	    fail "amber.1 SYNOPSIS lacks $c"
done
[ "$n" -ge 11 ] || fail "amber help lists only $n commands"

# Every option amberfs --help names is in amberfs(1).
expect 0 "$AMBERFS" --help
sed -n '1,/^FUSE options/p' "$T/out" >"$T/fsopts"
grep -o -- '^ *-o [a-z0-9_]*' "$T/fsopts" | sort -u | while read -r _ o; do
	grep -q "^\.It Fl o Cm $o\( \|\$\)" "$MAN/amberfs.1" ||
	    fail "amberfs --help names -o $o, amberfs.1 does not"
done || exit 1
for f in f d s; do
	grep -q -- "^ *-$f " "$T/fsopts" || fail "amberfs --help lacks -$f"
	grep -q "^\.It Fl $f\$" "$MAN/amberfs.1" ||
	    fail "amberfs.1 does not describe -$f"
done

# The exit-status table of amber(1): 0 to 5, in order, nothing else.
sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$MAN/amber.1" |
    sed -n 's/^\.It \([0-9][0-9]*\)$/\1/p' | tr '\n' ' ' >"$T/codes"
[ "$(cat "$T/codes")" = "0 1 2 3 4 5 " ] ||
    fail "amber.1 EXIT STATUS lists: $(cat "$T/codes")"
sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$MAN/amber.1" >"$T/es"
grep -q "^Partial:" "$T/es" || fail "amber.1: 3 is not partial"
grep -q "wrong, or the key lacks the rights" "$T/es" ||
    fail "amber.1: 4 is not a wrong key or missing rights"
grep -A1 '^\.It 5$' "$T/es" | grep -q '^\.Cm verify$' ||
    fail "amber.1: 5 is not verify's damage"

# The README's table says the same.
sed -n 's/^| \([0-9]\) | \(.*\) |$/\1 \2/p' "$TOP/README.md" >"$T/rt"
[ "$(cut -d' ' -f1 "$T/rt" | tr '\n' ' ')" = "0 1 2 3 4 5 " ] ||
    fail "README exit table: $(cat "$T/rt")"
grep -q '^2 usage' "$T/rt" || fail "README: 2 is not usage"
grep -q '^3 partial' "$T/rt" || fail "README: 3 is not partial"
grep -q '^5 `verify` found damage' "$T/rt" || fail "README: 5 is not damage"

# Every page referenced exists (as man/NAME.SECTION).
{
	grep -h '^\.Xr amber' "$MAN"/*.[1-8] | awk '{ print $2 "." $3 }'
	grep -o 'amber[a-z-]*([1-8])' "$TOP/README.md" | tr -d ')' | tr '(' .
} | sort -u >"$T/refs"
[ -s "$T/refs" ] || fail "no cross-references found"
while read -r p; do
	[ -f "$MAN/$p" ] ||
	    fail "$p is referenced but man/$p does not exist"
done <"$T/refs" || exit 1
for p in "$MAN"/*.[1-8]; do
	b=${p##*/}
	[ "$b" = amber.1 ] && continue
	grep -q "^\.Xr ${b%.*} ${b##*.}" "$MAN/amber.1" ||
	    fail "amber.1 SEE ALSO does not name $b"
done

# No document points at a fragment that was merged and removed.
if grep -n 'README-mount\|README-git\|README-s3\|README-pipelines\|amber-[a-z]*\.txt' \
    "$TOP/README.md" "$MAN"/*.[1-8] >"$T/stale"; then
	cat "$T/stale" >&2
	fail "a document names a removed fragment"
fi
exit 0
