#!/bin/sh
# Depth: a tree 1024 directories deep is stored whole; one deeper is
# stored down to that depth, with a warning (exit 3) instead of a crash.
. "$AMBER_TOP/tests/cli/ingest_common.inc"

mk() { # DIR DEPTH: a chain of DEPTH directories "d", a file at the bottom
	python3 - "$1" "$2" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for _ in range(int(sys.argv[2])):
    os.mkdir('d', dir_fd=fd)
    nfd = os.open('d', os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
with open(os.open('bottom', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd),
          'w') as f:
    f.write('deep\n')
PY
}
S=$T/store
mkdir -p "$T/ok" "$T/deep"
mk "$T/ok" 1024 || fail "mk ok"
mk "$T/deep" 1500 || fail "mk deep"
init_store "$S"

"$AMBER" ingest "$S" --dir ok="$T/ok" --json >"$T/o.json" 2>"$T/err"
rc=$?
cat "$T/err"
[ $rc -eq 0 ] || fail "1024 levels: exit $rc"
[ "$(jget "$T/o.json" files)" = 1025 ] || fail "files $(jget "$T/o.json" files)"
path=files/ok$(printf '/d%.0s' $(seq 1024))/bottom
"$AMBER" cat "$S" "latest:$path" >"$T/bottom" || fail "cat bottom"
[ "$(cat "$T/bottom")" = deep ] || fail "bottom content"

"$AMBER" ingest "$S" --dir deep="$T/deep" --json >"$T/o.json" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "1500 levels: exit $rc"
grep -q 'too deeply nested' "$T/err" || fail "no warning"
[ "$(jget "$T/o.json" files)" = 1025 ] || fail "files $(jget "$T/o.json" files)"
"$AMBER" verify "$S" >"$T/v" 2>&1 || { cat "$T/v"; fail verify; }
echo ok
