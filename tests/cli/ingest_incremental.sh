#!/bin/sh
# A second ingest reads only what changed (size, mtime, ctime, inode):
# the summary's bytes read say so, and the snapshot is still right.
# Losing the local cache costs a full read, not a wrong snapshot.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

S=$T/store
D=$T/src/t
init_store "$S"
python3 - "$D" <<'PY'
import os, random, sys
d = sys.argv[1]
os.makedirs(os.path.join(d, 'sub'))
r = random.Random(7)
for name, size in (('a.bin', 200000), ('b.bin', 300000),
                   ('sub/c.bin', 100000)):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(bytes(r.getrandbits(8) for _ in range(size)))
PY
# Files changed less than two seconds before they are read are read
# again next time (timestamp granularity): let these age.
sleep 3

ingest() { # EXPECTED-BYTES-READ
	"$AMBER" ingest "$S" --dir t="$D" --json >"$T/out.json" 2>"$T/err"
	rc=$?
	cat "$T/err"
	[ $rc -eq 0 ] || fail "ingest exited $rc"
	got=$(jget "$T/out.json" bytes)
	[ "$got" = "$1" ] || fail "read $got bytes, expected $1"
}

ingest 600000
ingest 0
added=$(jget "$T/out.json" added)
[ "$added" -lt 20000 ] || fail "an unchanged ingest added $added bytes"

# Append to one file, add one, and rewrite one in place keeping its size
# and mtime (only the ctime tells).
head -c 1000 /dev/zero >>"$D/b.bin"
head -c 5000 /dev/urandom >"$D/sub/d.bin"
python3 - "$D/sub/c.bin" <<'PY'
import os, sys
st = os.stat(sys.argv[1])
with open(sys.argv[1], 'r+b') as f:
    f.write(b'rewritten in place')
os.utime(sys.argv[1], ns=(st.st_atime_ns, st.st_mtime_ns))
PY
ingest $((301000 + 5000 + 100000))
"$AMBER" restore "$S" latest:files/t "$T/r1" || fail "restore"
tree_cmp "$D" "$T/r1/t"

# The cache is only a hint: without it everything is read again.
rm -rf "$XDG_CACHE_HOME"
ingest $((200000 + 301000 + 100000 + 5000))
"$AMBER" verify "$S" >"$T/verify" 2>&1 || { cat "$T/verify"; fail verify; }
echo ok
