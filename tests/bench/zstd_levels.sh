#!/bin/sh
# zstd_levels.sh [DIR [LEVEL...]]: the table of zstd level, compression
# CPU time and stored size over amber's chunks of DIR (default: the
# bench tree), without and with the sample test for incompressible
# chunks.  Needs `make all` (links build/libstore.a's chunker).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
dir=${1:-$D/src/linux}
[ $# -gt 0 ] && shift
levels=${*:-"-5 -1 1 2 3 4 6"}
bin=$(mktemp -d)/zstd_levels
trap 'rm -rf "$(dirname "$bin")"' EXIT
cc -O2 -std=c17 -D_GNU_SOURCE -I"$top/store" -o "$bin" "$top/tests/bench/zstd_levels.c" \
    "$top/build/libstore.a" -lzstd
list=$(dirname "$bin")/list
find "$dir" -type f | LC_ALL=C sort >"$list"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$bin" $levels <"$list"
# shellcheck disable=SC2086
"$bin" -s $levels <"$list"
