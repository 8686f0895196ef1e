#!/usr/bin/env bash
# snap_namesteal on the test RGW: W1, with its ingest key and the
# bucket's credentials, reads the store's config and keys, writes a
# manifest that names no parent, dated in the second of a genuine
# snapshot, and PUTs it (and its packs) into the bucket.  Before this
# change it took the genuine snapshot's name T (which became T-2); now it
# is flagged parentless and named after it, on the old index and a fresh
# one, and latest stays the genuine snapshot.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$AMBER_TOP/tests/s3/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
. "$AMBER_TOP/tests/attack/snap_common.inc"
s3_store snaps st "s3 name steal"

mkdir -p "$T/src"
echo genuine >"$T/src/f"
"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 >"$T/init.out" 2>&1 ||
    { cat "$T/init.out"; fail "init"; }
"$AMBER" ingest "$S" --dir src="$T/src" --time 2026-01-01T00:00:00Z -q ||
    fail "the owner's import"
"$AMBER" key new-ingest "$S" --label host-a --output "$T/k" 2>/dev/null ||
    fail "new-ingest"
key_ingest "$S" "$T/k" --dir "src=$T/src"
G=$ID
"$AMBER" snapshots "$S" --json >"$T/before.json" || fail "snapshots"
name=$(snap_field "$T/before.json" "$G" name)
case $name in *Z) ;; *) fail "unexpected name $name" ;; esac

# W1: a local store made of the bucket's config and keys, with no
# snapshot, to ingest into; then what that made goes to the bucket.
s3req GET "/snaps?prefix=st%2Fkeys%2F"
[ "$HTTP" = 200 ] || fail "list keys/: HTTP $HTTP"
python3 -c 'import re, sys
for k in re.findall(r"<Key>([^<]*)</Key>", open(sys.argv[1]).read()):
	print(k)' "$T/b" >"$T/keys"
[ -s "$T/keys" ] || fail "no keys/ in the bucket"
mkdir -p "$T/w1/keys" "$T/w1/snapshots" "$T/w1/packs" "$T/w1/tmp"
for k in st/config $(cat "$T/keys"); do
	s3req GET "/snaps/$k"
	[ "$HTTP" = 200 ] || fail "get $k: HTTP $HTTP"
	cp "$T/b" "$T/w1/${k#st/}"
done
echo forged >"$T/src/f"
env -u AMBER_PASSPHRASE "$AMBER" ingest "$T/w1" --key-file "$T/k" \
    --index-dir "$T/w1.idx" --dir "src=$T/src" --time "$name" --json \
    >"$T/rogue.json" 2>"$T/rogue.err" || { cat "$T/rogue.err"; fail "rogue"; }
R=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' \
    "$T/rogue.json")
(cd "$T/w1" && find packs snapshots -type f) >"$T/new"
while read -r f; do
	md5=$(openssl md5 -binary "$T/w1/$f" | base64)
	s3req PUT "/snaps/st/$f" --data-binary @"$T/w1/$f" \
	    -H "Content-MD5: $md5"
	[ "$HTTP" = 200 ] || fail "put $f: HTTP $HTTP $(cat "$T/b")"
done <"$T/new"

names_kept "$S" "$G" "$R" "$name"
"$AMBER" cat "$S" latest:files/src/f >"$T/out" || fail "cat latest"
[ "$(cat "$T/out")" = genuine ] || fail "latest is the rogue snapshot"
exit 0
