#!/bin/sh
# No include cycle between the files of fs/, store/ and tools/.  A file
# and its header (x.c and x.h) count as one module; every #include "y.h"
# of either is an edge to module y (the header found as the compiler
# finds it: beside the including file first, else in the same top-level
# folder, else in store/include/).  tsort(1) then names any loop, such as
# the one issue 15 found (a helper of cmd_ingest.c that seven other files
# called, through cmd_ingest.c's own header).
. "$(dirname "$0")/lib.sh"
TOP=${AMBER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP" || exit 1

find fs store tools -name '*.[ch]' | sort >"$T/files"
[ -s "$T/files" ] || fail "no source files under $TOP"

while read -r f; do
	d=${f%/*}
	top=${f%%/*}
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' \
	    "$f" | while read -r inc; do
		h=""
		if [ -f "$d/$inc" ]; then
			h="$d/$inc"
		else
			h=$(grep -m 1 "^$top/.*/${inc##*/}\$\|^$top/${inc##*/}\$" \
			    "$T/files")
			[ -n "$h" ] || h=$(grep -m 1 "/${inc##*/}\$" "$T/files")
		fi
		[ -n "$h" ] || continue	# a test's or a system's header
		from=${f%.[ch]} to=${h%.[ch]}
		[ "$from" = "$to" ] || echo "$from $to"
	done
done <"$T/files" >"$T/edges"
[ -s "$T/edges" ] || fail "no #include found: the parser is broken"

# The check can fail: a loop made here must be named.
printf 'a b\nb c\nc a\n' | tsort >/dev/null 2>"$T/self" &&
    fail "tsort accepted a loop"
grep -q loop "$T/self" || fail "tsort says no loop: $(cat "$T/self")"

if ! tsort "$T/edges" >/dev/null 2>"$T/err"; then
	fail "include cycle: $(tr '\n' ' ' <"$T/err")"
fi
[ -s "$T/err" ] && fail "tsort: $(cat "$T/err")"
exit 0
