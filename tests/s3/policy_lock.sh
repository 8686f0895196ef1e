#!/usr/bin/env bash
# tests/s3/policy_lock.sh: `amber policy set` with a longer horizon than
# the policy before lengthens the Object Lock of the snapshots it keeps
# and of every pack they reference, before it reports success (fail
# closed: kept history must not expire under the ingests' shorter locks
# when no ingest runs again; amber-store(5), PRUNING on S3).  A policy
# with a shorter horizon shortens nothing.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_store plk st "policy lock test"
"$AMBER" init "$S" --retention 4s --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 || fail "init"
mkdir -p "$T/src"
for d in 1 2; do
	head -c 20000 /dev/urandom >"$T/src/f$d"
	"$AMBER" ingest "$S" --dir "src=$T/src" -q || fail "ingest $d"
done

# until_of KEY: the retain-until of its current version, in seconds.
until_of() {
	s3req HEAD "/plk/$1" -I
	[ "$HTTP" = 200 ] || fail "HEAD $1: $HTTP"
	date -d "$(s3hdr x-amz-object-lock-retain-until-date)" +%s
}
# check_all MIN: every manifest and pack locked until MIN or later.
check_all() {
	s3_versions plk st%2F
	grep -E '^st/(snapshots|packs)/' "$T/cur" | awk '{ print $1 }' >"$T/keys"
	[ "$(grep -c '^st/snapshots/' "$T/keys")" = 2 ] || fail "not 2 manifests"
	[ "$(grep -c '^st/packs/' "$T/keys")" -ge 2 ] || fail "no packs"
	while read -r k; do
		u=$(until_of "$k")
		[ "$u" -ge "$1" ] || fail "$k locked until $u, not $1 or later"
	done <"$T/keys"
}
# The ingests' locks: 4 s + 4 s of grace.
t0=$(date +%s)
"$AMBER" policy set "$S" --keep-within 10m >"$T/out" 2>&1 || { cat "$T/out"; fail "policy set"; }
cat "$T/out"
# Both snapshots are within 10 minutes: locked 10 minutes past them.
check_all $((t0 - 30 + 600))
grep -q '^locks of 2 kept snapshots and their packs lengthened' "$T/out" || fail "no locks lengthened reported"
# A shorter horizon lengthens nothing and shortens nothing.
"$AMBER" policy set "$S" --keep-last 1 >"$T/out" 2>&1 || { cat "$T/out"; fail "policy set (shorter)"; }
grep -q 'lengthened' "$T/out" && fail "a shorter policy lengthened locks"
check_all $((t0 - 30 + 600))
# Reads are unharmed.
"$AMBER" verify "$S" --read-data >"$T/out" 2>&1 || { cat "$T/out"; fail "verify"; }
echo "s3 policy lock ok"
