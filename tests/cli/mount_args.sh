#!/bin/sh
# amber mount runs the amberfs beside the amber binary, with our options
# turned into amberfs -o options (commas escaped) and the rest passed on.
# A stand-in amberfs records its arguments; the real one is tested in
# tests/mount/.
. "$(dirname "$0")/lib.sh"
mkdir "$T/bin"
cp "$AMBER" "$T/bin/amber" || fail "copy amber"
cat >"$T/bin/amberfs" <<'FS'
#!/bin/sh
for a; do printf '[%s]' "$a"; done
echo
exit 7
FS
chmod +x "$T/bin/amberfs"

expect 7 "$T/bin/amber" mount STORE MP --passphrase-file "/p,q" \
    --index-dir=/x -f -o allow_other --s3-virtual-host --s3-endpoint URL \
    --s3-credentials C --insecure-http -- --index-dir y
want='[STORE][MP][-o][passphrase_file=/p\,q][-o][index=/x][-f][-o][allow_other][-o][s3_virtual_host][-o][s3_endpoint=URL][-o][credentials_file=C][-o][insecure_http][--][--index-dir][y]'
[ "$(cat "$T/out")" = "$want" ] || fail "amberfs got $(cat "$T/out")"
expect 2 "$T/bin/amber" mount STORE MP --key-file k
err_has "passphrase"
expect 2 "$T/bin/amber" mount STORE MP --s3-endpoint
expect 2 "$T/bin/amber" mount STORE MP --s3-virtual-host=1
expect 2 "$T/bin/amber" mount STORE
expect 0 "$T/bin/amber" mount --help
out_has "usage: amber mount"

# Without an amberfs beside it, the one in PATH; without any, an error.
mkdir "$T/path"
mv "$T/bin/amberfs" "$T/path/amberfs"
expect 7 env PATH="$T/path:$PATH" "$T/bin/amber" mount STORE MP
[ "$(cat "$T/out")" = "[STORE][MP]" ] || fail "PATH amberfs got $(cat "$T/out")"
expect 1 env PATH="$T" "$T/bin/amber" mount STORE MP
err_has "cannot run amberfs"
exit 0
