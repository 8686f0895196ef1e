#!/bin/sh
# forge_dir.sh: --pipeline NAME=DIR stores a directory of exported
# pipeline metadata as it is, under pipelines/NAME.
. "$AMBER_TOP/tests/forge/lib.sh"

mkdir -p "$T/export/runs" "$T/export/config"
printf '{"id": 1, "status": "success"}\n' >"$T/export/runs/1.json"
printf 'stages: [build]\n' >"$T/export/config/.gitlab-ci.yml"
printf 'odd name\n' >"$T/export/with space.txt"
ingest --pipeline ex="$T/export"
rc_ok "ingest"
"$AMBER" ls "$T/S" latest:pipelines >"$T/ls" 2>&1 || fail "amber ls"
grep -q 'ex' "$T/ls" || fail "pipelines/ex not listed"
restore_to "$T/a" ex
diff -r "$T/export" "$T/a/ex" || fail "restored export differs"
echo ok
