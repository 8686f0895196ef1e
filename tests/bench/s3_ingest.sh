#!/usr/bin/env bash
# tests/bench/s3_ingest.sh: a first ingest into S3 (the test RGW on
# 127.0.0.1) against its ceiling, in one run (issue 19, "Into S3").
#
# The data: the bench's 256 MiB random file and the kernel tree's
# Documentation/ (tests/bench/prepare.sh), in the page cache.  For each of
# REPEAT rounds, each on a fresh store or bucket:
#   local   amber ingest into a local store (its packs are the ceiling's bytes)
#   put     the ceiling: that store's packs PUT by curl, UPLOADS at once
#           (xargs -P), into a bucket with Object Lock, as amber's are
#   s3      amber ingest into s3://BUCKET/PREFIX (--uploads UPLOADS)
#   restic  restic 0.14's S3 backend on the same gateway
# Prints the medians, and amber's S3 wall time as a ratio to the larger of
# local and put (goal: at most 1.25), and to restic's.  The gateway shares
# the CPUs with the client, as it would on one small host.
#
#   bash tests/bench/s3_ingest.sh [AMBER ...]     (default: build/amber)
#   REPEAT=3 UPLOADS=4 AMBER_BENCH_DIR=/var/tmp/amber-bench
# With several binaries, each is timed in every round (an A/B); the put,
# local and restic figures come from the first.  Each amber S3 ingest's
# CPU time (user+sys, from time(1)) is printed too: a figure that the
# other load on the machine disturbs less than wall time.  So is the
# gateway's (ceph-mon, ceph-osd and radosgw, from /proc), and from both the
# CPU floor: (amber's CPU + the gateway's) / the number of CPUs, the wall
# time below which the run cannot go on this machine however well it
# overlaps its work.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
top=$(cd "$(dirname "$0")/../.." && pwd)
export AMBER_TOP=$top
export RGW_STORE_GB=${RGW_STORE_GB:-16}
. "$top/tests/s3/lib.sh"
REPEAT=${REPEAT:-3}
UPLOADS=${UPLOADS:-4}
base=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}/data/base
rnd=$base/amber-bench-random.bin
[ -f "$rnd" ] && [ -d "$base/Documentation" ] ||
    fail "no bench data: run tests/bench/prepare.sh"
[ $# -gt 0 ] || set -- "$AMBER"
command -v restic >/dev/null || fail "restic is not installed"

now_ns() { date +%s%N; }
ncpu=$(nproc)
gw_ticks() { # the gateway's CPU so far, in clock ticks (user+sys)
	cat "$T"/rgw/pids/* 2>/dev/null | while read -r p; do
		sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null
	done | awk '{ t += $12 + $13 } END { print t + 0 }'
}
hz=$(getconf CLK_TCK)
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The data, in a directory of its own, read once into the page cache.
mkdir -p "$T/data"
cp -r "$base/Documentation" "$rnd" "$T/data/" || fail "copying the data"
tar -C "$T/data" -cf - . | cat >/dev/null
bytes=$(du -sb "$T/data" | cut -f1)

s3_start
export AMBER_PASSPHRASE=s3bench XDG_CACHE_HOME=$T/cache
export RESTIC_PASSWORD=s3bench
declare -A runs
add() { runs[$1]="${runs[$1]:-} $2"; }

# put_packs dir bucket: PUT every pack under dir, UPLOADS at once.  Each
# PUT signs its body's SHA-256 (the pack's name) and sends it as the
# checksum too, as amber's do, so that the gateway verifies the same
# hashes on both sides.
put_packs() {
	export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	find "$1/packs" -type f | sed "s|^$1/||" | while read -r k; do
		h=${k##*/}
		printf '%s %s %s\n' "$k" "$h" \
		    "$(printf "$(printf '%s' "$h" | sed 's/../\\x&/g')" | base64)"
	done | xargs -P "$UPLOADS" -L 1 sh -c 'curl -sS -f -o /dev/null \
	    --aws-sigv4 "aws:amz:us-east-1:s3" \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: $4" -H "x-amz-checksum-sha256: $5" \
	    -T "$1/$3" "$S3_ENDPOINT/$2/$3"' put "$1" "$2"
}

for round in $(seq "$REPEAT"); do
	L=$T/local.$round
	"$1" init "$L" --kdf log2n=10,r=8,p=1 >/dev/null || fail "init $L"
	t0=$(now_ns)
	"$1" ingest "$L" --dir data="$T/data" -q || fail "local ingest"
	t1=$(now_ns)
	add local "$(secs "$t0" "$t1")"
	tar -C "$L" -cf - . | cat >/dev/null

	s3_bucket "ceil$round" lock
	g0=$(gw_ticks)
	t0=$(now_ns)
	put_packs "$L" "ceil$round" || fail "curl PUTs"
	t1=$(now_ns)
	g1=$(gw_ticks)
	add put "$(secs "$t0" "$t1")"
	add gwput "$(awk -v a="$g0" -v b="$g1" -v hz="$hz" \
	    'BEGIN { printf "%.2f", (b - a) / hz }')"
	rm -rf "$L"

	i=0
	for bin in "$@"; do
		i=$((i + 1))
		s3_bucket "a$round-$i" lock
		S=s3://a$round-$i/store
		"$bin" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 \
		    >/dev/null || fail "init $S"
		rm -rf "$T/cache"
		g0=$(gw_ticks)
		t0=$(now_ns)
		/usr/bin/time -o "$T/cpu" -f '%U %S' "$bin" ingest "$S" \
		    --dir data="$T/data" -q || fail "$bin: S3 ingest"
		t1=$(now_ns)
		g1=$(gw_ticks)
		add "s3.$i" "$(secs "$t0" "$t1")"
		add "cpu.$i" "$(awk '{ printf "%.2f", $1 + $2 }' "$T/cpu")"
		add "gw.$i" "$(awk -v a="$g0" -v b="$g1" -v hz="$hz" \
		    'BEGIN { printf "%.2f", (b - a) / hz }')"
	done

	s3_bucket "restic$round" plain
	R=s3:$S3_ENDPOINT/restic$round
	restic -r "$R" init -q >/dev/null 2>&1 || fail "restic init"
	t0=$(now_ns)
	restic -r "$R" backup -q "$T/data" >/dev/null || fail "restic backup"
	t1=$(now_ns)
	add restic "$(secs "$t0" "$t1")"
	echo "round $round:$(for k in local put restic; do
	    printf ' %s %s' "$k" "${runs[$k]##* }"; done)$(i=0; for b in "$@"; do
	    i=$((i + 1)); printf ' s3.%d %s' "$i" "${runs[s3.$i]##* }"; done)" >&2
done

m_local=$(median ${runs[local]})
m_put=$(median ${runs[put]})
m_restic=$(median ${runs[restic]})
ceil=$(awk -v a="$m_local" -v b="$m_put" 'BEGIN { print (a > b) ? a : b }')
printf 'data: %d bytes; %d rounds; medians; %d uploads at once\n' \
    "$bytes" "$REPEAT" "$UPLOADS"
printf '%-28s %8s s\n' "local ingest" "$m_local" "curl PUT of its packs" \
    "$m_put" "restic to S3" "$m_restic"
echo "  the gateway's CPU during the PUTs, median $(median ${runs[gwput]}) s"
i=0
for bin in "$@"; do
	i=$((i + 1))
	m=$(median ${runs[s3.$i]})
	printf '%-28s %8s s   /ceiling %.2f (goal <= 1.25)   /restic %.2f\n' \
	    "amber to S3 ($i)" "$m" \
	    "$(awk -v a="$m" -v b="$ceil" 'BEGIN { print a / b }')" \
	    "$(awk -v a="$m" -v b="$m_restic" 'BEGIN { print a / b }')"
	mc=$(median ${runs[cpu.$i]})
	mg=$(median ${runs[gw.$i]})
	echo "  runs:${runs[s3.$i]}; amber's CPU (user+sys), median" \
	    "$mc s:${runs[cpu.$i]}"
	echo "  the gateway's CPU during it, median $mg s:${runs[gw.$i]}"
	awk -v c="$mc" -v g="$mg" -v n="$ncpu" -v m="$m" 'BEGIN {
	    f = (c + g) / n; printf "  CPU floor (amber + gateway) / %d CPUs" \
	    " %.2f s; wall / floor %.2f\n", n, f, m / f }'
done
