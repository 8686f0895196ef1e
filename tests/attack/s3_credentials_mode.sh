#!/usr/bin/env bash
# tests/attack/s3_credentials_mode.sh: an S3 credentials file that the
# group or others may access is refused, as ssh refuses such a private
# key, with a message naming the file and its mode; nothing is sent.
# Mode 0600 or 0400 works.  The same holds for amberfs's
# -o credentials_file.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
. "$(dirname "$0")/../s3/lib.sh"
[ -x "$AMBER" ] || fail "$AMBER not built"
s3_start
s3_bucket credmode lock
export AMBER_PASSPHRASE="mode test" XDG_CACHE_HOME="$T/cache" AMBER_S3_RETRIES=0
C=$T/credentials
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$C"
# Only the file may give the keys.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

chmod 600 "$C"
"$AMBER" init s3://credmode/st --retention 1d --kdf log2n=10,r=8,p=1 --s3-credentials "$C" \
    >/dev/null 2>"$T/err" || fail "init with a 0600 file: $(cat "$T/err")"

for m in 644 640 604 620 660 606 602; do
	chmod "$m" "$C"
	"$AMBER" snapshots s3://credmode/st --s3-credentials "$C" >"$T/out" 2>"$T/err"
	rc=$?
	cat "$T/err"
	[ $rc = 4 ] || fail "mode $m: exit $rc, want 4"
	grep -qF "$C" "$T/err" || fail "mode $m: the message does not name the file"
	grep -q "0$m" "$T/err" || fail "mode $m: the message does not give the mode"
done
# The check is on the file read, not on the name: a symlink to a 0644 file.
chmod 644 "$C"
ln -s "$C" "$T/link"
"$AMBER" snapshots s3://credmode/st --s3-credentials "$T/link" >/dev/null 2>"$T/err" &&
    fail "a symlink to a 0644 file was taken"
grep -q "0644" "$T/err" || fail "symlink: $(cat "$T/err")"
if [ -x "$AMBERFS" ]; then
	mkdir -p "$T/mnt"
	S3_CLEANUP_EXTRA='fusermount3 -uz "$T/mnt" 2>/dev/null'
	timeout 20 "$AMBERFS" s3://credmode/st "$T/mnt" -f -o credentials_file="$C" \
	    >/dev/null 2>"$T/err" && fail "amberfs took a 0644 credentials file"
	cat "$T/err"
	grep -q "0644" "$T/err" || fail "amberfs: the message does not give the mode"
	mountpoint -q "$T/mnt" && fail "amberfs mounted"
fi

for m in 600 400 700; do
	chmod "$m" "$C"
	"$AMBER" snapshots s3://credmode/st --s3-credentials "$C" >/dev/null 2>"$T/err" ||
	    fail "mode $m refused: $(cat "$T/err")"
done
echo "ok: group- or world-accessible credentials files refused"
