#!/bin/sh
# tests/bench/org.sh: `amber ingest --sources` over a fixture GitLab group
# of N small repositories (default 100; tests/forge/org_server.py, git
# over git http-backend, pipeline metadata from its API): a full run, then
# a no-change rerun, for each --jobs value given (default "1 4 8").
#     AMBER=build/amber AMBER_TOP=. sh tests/bench/org.sh [N] [JOBS...]
set -u
AMBER=$(cd "$(dirname "$AMBER")" && pwd)/$(basename "$AMBER")
N=${1:-100}
[ $# -gt 0 ] && shift
JOBS=${*:-1 4 8}
T=$(mktemp -d /tmp/amber-bench-org.XXXXXX)
cleanup() { chmod -R u+rwX "$T"; rm -rf "$T"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
export XDG_CACHE_HOME=$T/cache AMBER_PASSPHRASE=bench
. "$AMBER_TOP/tests/cli/org_common.inc"
projects=
i=1
while [ $i -le "$N" ]; do
	p=grp/s$((i % 5))/r$i
	org_repo "$p" 5
	projects="$projects{\"path\":\"$p\",\"pipelines\":[$i]},"
	i=$((i + 1))
done
org_forge "{\"per_page\":100,\"projects\":[${projects%,}]}"
org_start
echo "gitlab-group $URL/grp" >"$T/sources"
printf '%-6s %-8s %8s %8s %8s %8s %6s\n' jobs run total listing \
    fetching storing API
for j in $JOBS; do
	rm -rf "$T/S" "$T/cache"
	"$AMBER" init --kdf log2n=10,r=8,p=1 "$T/S" >/dev/null ||
	    fail "init"
	for run in full rerun; do
		: >"$T/req.log"
		"$AMBER" ingest "$T/S" --sources "$T/sources" --jobs "$j" \
		    --json >"$T/out" 2>"$T/err" || { cat "$T/err";
		    fail "ingest"; }
		python3 - "$T/out" "$j" "$run" "$(grep -c /api/ "$T/req.log")" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["timing"]
print("%-6s %-8s %7.2fs %7.2fs %7.2fs %7.2fs %6s" % (sys.argv[2],
      sys.argv[3], s["seconds"], t["listing"], t["fetching"],
      t["storing"], sys.argv[4]))
P
	done
done
