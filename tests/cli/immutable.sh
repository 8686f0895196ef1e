#!/bin/sh
# A store made with --immutable: every object written afterwards, by
# every command (ingest, key new-ingest), carries the immutable attribute,
# not only what init wrote; and no temporary name is left behind in tmp/
# (an immutable file's names cannot be removed, so the temporary one must
# go before the attribute is set).  Needs root (CAP_LINUX_IMMUTABLE) and a
# file system with the attribute; skips otherwise, saying why.
. "$AMBER_TOP/tests/cli/lib.sh"

need_immutable

is_immutable() { lsattr -d "$1" 2>/dev/null | cut -d' ' -f1 | grep -q i; }

S=$T/store
expect 0 "$AMBER" init "$S" --kdf "$KDF" --immutable
mkdir -p "$T/src"
echo one >"$T/src/f"
expect 0 "$AMBER" ingest "$S" --dir "src=$T/src"
expect 0 "$AMBER" key new-ingest "$S" --label host --output "$T/k"
echo two >"$T/src/f"
env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/k" \
    --dir "src=$T/src" >"$T/out" 2>"$T/err" || fail "ingest with the key: $(cat "$T/err")"
n=0
for f in $(cd "$S" && find config keys snapshots packs -type f); do
	is_immutable "$S/$f" || fail "$f is not immutable: $(lsattr "$S/$f")"
	n=$((n + 1))
done
[ "$(ls "$S/snapshots" | wc -l)" = 2 ] || fail "expected two snapshots"
[ "$n" -ge 6 ] || fail "only $n objects checked"
# (tmp/prune.lock is the writers' lock against amber prune: no object)
left=$(find "$S/tmp" -type f ! -name prune.lock 2>/dev/null | wc -l)
[ "$left" = 0 ] || fail "tmp/ keeps $left temporary names: $(ls -la "$S/tmp")"
# And they hold: even root cannot remove a snapshot without lifting it.
m=$(ls "$S/snapshots" | head -n 1)
rm -f "$S/snapshots/$m" 2>/dev/null
[ -e "$S/snapshots/$m" ] || fail "root removed an immutable manifest"
expect 0 "$AMBER" verify "$S"
echo "ok: $n objects immutable, tmp/ empty"
