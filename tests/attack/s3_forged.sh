#!/usr/bin/env bash
# On the test RGW: W1 (an ingest key, and PutObject) adds a pack holding a
# forged copy of a known chunk and 20 junk copies; W2 (PutObject only)
# adds copies of every genuine pack's table in junk.  From a fresh index
# the file reads right; verify --read-data, which reads packs whole,
# names the forgery, each junk copy and each copied table.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "${AMBER_TOP:-$(dirname "$0")/../..}/tests/s3/lib.sh"
FORGE="$top/$B/tests/attack_forge"
[ -x "$AMBER" ] || fail "$AMBER not built"
[ -x "$FORGE" ] || fail "no forger at $FORGE"
s3_store atk st "attack test"

mkdir -p "$T/d" "$T/w"
printf 'genuine: db_password=hunter2\n' >"$T/d/secret.txt"
"$AMBER" init "$S" --retention 1d --kdf log2n=10,r=8,p=1 >/dev/null 2>&1 ||
    fail "init"
"$AMBER" key new-ingest "$S" --label rogue --output "$T/key" >/dev/null 2>&1 ||
    fail "key new-ingest"
"$AMBER" ingest "$S" --dir d="$T/d" -q || fail "ingest"

put() { # KEY FILE
	s3req PUT "/atk/st/$1" --data-binary @"$2" \
	    -H "Content-MD5: $(openssl md5 -binary <"$2" | base64)"
	[ "$HTTP" = 200 ] || fail "PUT $1: HTTP $HTTP $(cat "$T/b")"
}

printf 'forged: db_password=attacker\n' >"$T/forged"
printf 'junk\n' >"$T/junk"
"$FORGE" chunk "$T/key" "$T/w" "$T/d/secret.txt" "$T/forged" >"$T/w1" &&
"$FORGE" chunk "$T/key" "$T/w" "$T/d/secret.txt" "$T/junk" 20 >>"$T/w1" ||
    fail "forge chunk"
s3req GET "/atk?prefix=st%2Fpacks%2F"
grep -o '<Key>st/packs/[^<]*</Key>' "$T/b" | sed 's#<Key>st/##; s#</Key>##' \
    >"$T/genuine"
[ -s "$T/genuine" ] || fail "no pack listed"
while read -r p; do
	s3req GET "/atk/st/$p"
	[ "$HTTP" = 200 ] || fail "GET $p"
	mkdir -p "$T/w/$(dirname "$p")"
	cp "$T/b" "$T/w/$p"
	"$FORGE" table "$T/w" "$p" >>"$T/w2" || fail "forge table $p"
done <"$T/genuine"
while read -r p; do put "$p" "$T/w/$p"; done <"$T/w1"
while read -r p; do put "$p" "$T/w/$p"; done <"$T/w2"

rm -rf "$XDG_CACHE_HOME"
"$AMBER" cat "$S" latest:files/d/secret.txt >"$T/out" 2>"$T/err" ||
    fail "cat: $(cat "$T/err")"
cmp -s "$T/out" "$T/d/secret.txt" || fail "cat gave $(cat "$T/out")"

"$AMBER" verify "$S" --read-data >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 5 ] || fail "verify exited $rc: $(cat "$T/out" "$T/err")"
grep -F "$(head -n 1 "$T/w1")" "$T/out" | grep -q "not the chunk its id names" ||
    fail "verify does not name the forgery: $(cat "$T/out")"
while read -r p; do
	grep -qF "$p" "$T/out" || fail "verify does not name $p"
done <"$T/w1"
while read -r p; do
	grep -F "$p" "$T/out" | grep -q "copied into another pack" ||
	    fail "verify does not name the copied table $p: $(cat "$T/out")"
done <"$T/w2"
exit 0
