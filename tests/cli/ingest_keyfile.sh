#!/bin/sh
# An ingest key (amber key new-ingest) can ingest, incrementally and with
# dedup, without the passphrase; readers restore what it stored.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
D=$T/src/t
init_store "$S"
"$AMBER" key new-ingest "$S" --label test --output "$T/key" >/dev/null 2>&1 ||
    fail "key new-ingest"
mkdir -p "$D/sub"
head -c 300000 /dev/urandom >"$D/a"
echo small >"$D/sub/b"
sleep 3		# old enough for the incremental cache

ingest() { # EXPECTED-BYTES-READ
	env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/key" \
	    --dir t="$D" --json >"$T/out.json" 2>"$T/err"
	rc=$?
	cat "$T/err"
	[ $rc -eq 0 ] || fail "ingest with the ingest key exited $rc"
	[ "$(jget "$T/out.json" bytes)" = "$1" ] ||
	    fail "read $(jget "$T/out.json" bytes), expected $1"
}
ingest 300006
ingest 0
[ "$(jget "$T/out.json" added)" -lt 20000 ] || fail "no dedup"
# The ingest key cannot read what is stored.
env -u AMBER_PASSPHRASE "$AMBER" cat "$S" --key-file "$T/key" \
    latest:files/t/sub/b >/dev/null 2>&1 && fail "an ingest key read a file"
"$AMBER" restore "$S" latest:files/t "$T/r" || fail "restore"
tree_cmp "$D" "$T/r/t"
echo ok
