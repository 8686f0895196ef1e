#!/usr/bin/env bash
# tests/s3/prune_lock.sh: the locks an ingest sets on S3 fail closed
# (amber-store(5), PRUNING on S3).
#  1. With a policy, what an ingest writes is locked until the policy's
#     horizon (here keep-within 300s), not only the config's retention
#     (3s); an ingest holding only an ingest key does the same.
#  2. A pack an ingest reuses is locked again before the manifest that
#     names it is stored: when it is gone (its lock ended and the version
#     was removed, as the lifecycle rule does), the ingest fails and no
#     manifest names it; the index forgets the pack, and the next ingest
#     writes it again.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_start
s3_bucket plk lock
export AMBER_PASSPHRASE="lock test" XDG_CACHE_HOME="$T/cache"
KDF=log2n=10,r=8,p=1

# versions PREFIX -> $T/v: "key id" of every real version.
versions() {
	s3req GET "/plk?prefix=$1&versions="
	[ "$HTTP" = 200 ] || fail "list versions: $HTTP"
	{ tr -d '\r\n' <"$T/b"; echo; } | sed -e 's/<Version>/\nV /g' -e 's/<DeleteMarker>/\nM /g' |
	    sed -n 's/^V .*<Key>\([^<]*\)<\/Key><VersionId>\([^<]*\)<.*/\1 \2/p' >"$T/v"
}
until_of() { # KEY VERSION -> retain-until, epoch seconds
	s3req HEAD "/plk/$1?versionId=$2" -I
	date -u -d "$(s3hdr x-amz-object-lock-retain-until-date)" +%s
}

# 1. keep-within 300s, retention 3s.
"$AMBER" init s3://plk/a --retention 3s --kdf $KDF >/dev/null 2>&1 || fail "init a"
"$AMBER" policy set s3://plk/a --keep-within 300s >/dev/null || fail "policy set"
"$AMBER" key new-ingest s3://plk/a --out "$T/ingest.key" >/dev/null 2>&1 || fail "new-ingest"
mkdir -p "$T/src"
head -c 50000 /dev/urandom >"$T/src/f"
t0=$(date +%s)
"$AMBER" ingest s3://plk/a --key-file "$T/ingest.key" --dir src="$T/src" -q || fail "ingest a"
versions a%2F
grep -q '^a/packs/' "$T/v" || fail "no pack"
grep -E '^a/(packs|snapshots)/' "$T/v" | while read -r k v; do
	u=$(until_of "$k" "$v")
	[ "$u" -ge $((t0 + 300)) ] || fail "$k locked until $u, before the policy's horizon $((t0 + 300))"
done || exit 1

# 2. No policy, retention 3s: the pack's lock ends, its version is
# removed (the owner stands in for the lifecycle rule), and an ingest that
# reuses it must fail before its manifest is stored.
"$AMBER" init s3://plk/b --retention 3s --kdf $KDF >/dev/null 2>&1 || fail "init b"
"$AMBER" ingest s3://plk/b --dir src="$T/src" -q || fail "ingest b"
sleep 7
versions b%2Fpacks%2F
[ -s "$T/v" ] || fail "no packs in b"
while read -r k v; do
	s3req DELETE "/plk/$k?versionId=$v"
	[ "$HTTP" = 204 ] || fail "owner delete of $k after its lock: $HTTP"
done <"$T/v"
versions b%2Fsnapshots%2F
n_before=$(wc -l <"$T/v")
echo "again" >"$T/src/g"
"$AMBER" ingest s3://plk/b --dir src="$T/src" -q 2>"$T/err" &&
    fail "an ingest committed a snapshot reusing removed packs"
cat "$T/err"
versions b%2Fsnapshots%2F
[ "$(wc -l <"$T/v")" = "$n_before" ] || fail "a manifest was stored that names removed packs"
grep -q "is gone" "$T/err" || fail "the failed ingest did not say why"
# The index forgot the removed packs: the next ingest writes them again,
# and what it committed reads back whole.
"$AMBER" ingest s3://plk/b --dir src="$T/src" -q || fail "ingest after the index forgot the packs"
"$AMBER" restore s3://plk/b latest "$T/r" -q || fail "restore"
diff -r "$T/src" "$T/r/files/src" >&2 || fail "restored data differs"
echo "s3 prune locks ok"
