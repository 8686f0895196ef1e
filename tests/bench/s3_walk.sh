#!/usr/bin/env bash
# tests/bench/s3_walk.sh: a walk of a snapshot mounted from S3 (the test
# RGW on 127.0.0.1), where every read is a request.  Ingests the kernel
# tree's Documentation/ and fs/ from the bench data (tests/bench/prepare.sh),
# then, for each amberfs given, mounts twice with a fresh index (as another
# machine would: the index knows no pack's kind) and times `find` over the
# snapshot, printing how many packs of trees were copied by then.
#
#   bash tests/bench/s3_walk.sh [AMBERFS ...]    (default: build/amberfs)
#
# Example, against the build before the copies of tree packs:
#   bash tests/bench/s3_walk.sh /tmp/amberfs.before build/amberfs
# Figures are only printed.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
top=$(cd "$(dirname "$0")/../.." && pwd)
export AMBER_TOP=$top
. "$top/tests/s3/lib.sh"
data=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}/data/base
[ -d "$data/Documentation" ] || fail "no bench data: run tests/bench/prepare.sh"
[ $# -gt 0 ] || set -- "$AMBERFS"
s3_store walkbench store "walk"
"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 >/dev/null ||
    fail "init"
"$AMBER" ingest "$S" --dir doc="$data/Documentation" --dir fs="$data/fs" -q ||
    fail "ingest"
dirs=$(find "$data/Documentation" "$data/fs" -type d | wc -l)
mkdir "$T/m"
for bin in "$@"; do
	ix=$T/ix.$RANDOM
	for round in 1 2; do
		"$bin" "$S" "$T/m" -o index="$ix" || fail "$bin did not mount"
		S3_CLEANUP_EXTRA="fusermount3 -u '$T/m' 2>/dev/null"
		ls "$T/m/latest/files/" >/dev/null
		t0=$(date +%s%N)
		n=$(find "$T/m/latest/files" | wc -l)
		t1=$(date +%s%N)
		printf '%s, mount %d: find of %d entries (%d directories) ' \
		    "$bin" "$round" "$n" "$dirs"
		printf 'in %d ms; %d pack(s) of trees copied\n' \
		    $(( (t1 - t0) / 1000000 )) \
		    "$(ls "$ix/trees" 2>/dev/null | wc -l)"
		sleep 2
		fusermount3 -u "$T/m" || fail "unmount"
		S3_CLEANUP_EXTRA=
	done
done
