#!/bin/sh
# The size limits of issue 15, kept: no file of fs/, store/ or tools/
# over 1,200 lines, and no function over 120 (from the line of its
# opening brace to that of its closing one).  A function is found as
# STYLE.md writes it: its name at the start of a line, and its body
# between a '{' and a '}' alone at the start of their lines.
. "$(dirname "$0")/lib.sh"
TOP=${AMBER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP" || exit 1
FILE_MAX=1200
FUNC_MAX=120

# long_functions FILE...: "LINES FILE NAME" for each function too long.
long_functions() {
	awk -v max="$FUNC_MAX" '
	FNR == 1 { name = ""; start = 0 }
	/^[a-z_][a-z_0-9]*\(/ { name = $0; sub(/\(.*/, "", name) }
	/^\{/ { start = FNR }
	/^\}/ && start {
		if (FNR - start > max)
			print FNR - start, FILENAME, name "()"
		start = 0
	}' "$@"
}

find fs store tools -name '*.[ch]' | sort >"$T/files"
[ -s "$T/files" ] || fail "no source files under $TOP"

# The check can fail: a function made too long here must be named.
{
	printf 'static int\ntoo_long(void)\n{\n'
	i=0
	while [ $i -lt $((FUNC_MAX + 1)) ]; do
		printf '\tx++;\n'
		i=$((i + 1))
	done
	printf '}\n'
} >"$T/long.c"
long_functions "$T/long.c" | grep -q 'too_long()' ||
    fail "a function of $((FUNC_MAX + 1)) lines went unnoticed"

bad=""
while read -r f; do
	n=$(wc -l <"$f")
	[ "$n" -gt "$FILE_MAX" ] && bad="$bad
$f: $n lines (at most $FILE_MAX)"
done <"$T/files"
while read -r f; do
	case "$f" in *.c) long_functions "$f" ;; esac
done <"$T/files" >"$T/long"
while read -r n f name; do
	bad="$bad
$f: $name is $n lines (at most $FUNC_MAX)"
done <"$T/long"
[ -z "$bad" ] || fail "too long:$bad"
exit 0
