# tests/forge/lib.sh: sourced by tests/cli/forge_*.sh.  A temporary
# directory with a fresh store, the fixture server (tests/forge/server.py)
# on 127.0.0.1, and helpers.  Everything is removed on exit; the server
# also stops by itself.
set -u
: "${AMBER:?AMBER must name the amber binary}"
: "${AMBER_TOP:?AMBER_TOP must name the source tree}"
command -v python3 >/dev/null || { echo "no python3"; exit 77; }

T=$(mktemp -d /tmp/amber-forge.XXXXXX)
SRV_PID=
cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

FX=$AMBER_TOP/tests/forge/fixtures
EXP=$AMBER_TOP/tests/forge/expected
TOKEN=fixture-token-1
export AMBER_PASSPHRASE=forge-test XDG_CACHE_HOME=$T/cache
export AMBER_FORGE_RETRIES=1 AMBER_FORGE_MAX_WAIT=10
unset GITLAB_TOKEN GITHUB_TOKEN AMBER_GITLAB_TOKEN AMBER_GITHUB_TOKEN \
    AMBER_GITLAB_API AMBER_GITHUB_API AMBER_FORGE_RUNS AMBER_FORGE_MAX_RUNS \
    AMBER_FORGE_NAMES_ONLY AMBER_FORGE_LOGS AMBER_FORGE_MAX_LOG \
    AMBER_FORGE_TIMEOUT AMBER_FORGE_SKIP AMBER_FORGE_ARTIFACTS \
    AMBER_FORGE_MAX_ARTIFACT AMBER_PASSPHRASE_FILE
# libcurl honours proxy variables: the fixture server is reached directly.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# server_start FIXTURE...: serve the fixture sets (later ones override),
# requiring $TOKEN; sets API (base URL) and BLOB; logs to $T/req.log.
server_start() {
	rm -f "$T/port" "$T/req.log"
	set -- $(for d; do printf ' --fixtures %s' "$FX/$d"; done)
	python3 "$AMBER_TOP/tests/forge/server.py" "$@" --port-file "$T/port" \
	    --log "$T/req.log" --token "$TOKEN" --timeout 300 &
	SRV_PID=$!
	i=0
	while [ ! -s "$T/port" ]; do
		i=$((i + 1))
		[ $i -gt 600 ] && fail "the fixture server did not start"
		sleep 0.05
	done
	read -r API_PORT BLOB_PORT <"$T/port"
	API=http://127.0.0.1:$API_PORT
	BLOB=http://127.0.0.1:$BLOB_PORT
	: >"$T/req.log"
}

# gitlab_start FIXTURE... / github_start FIXTURE...: server_start, and the
# forge's API variable pointing at the server.
gitlab_start() {
	server_start "$@"
	export AMBER_GITLAB_API=$API/api/v4
}

github_start() {
	server_start "$@"
	export AMBER_GITHUB_API=$API
}

server_stop() {
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=
}

# ingest ARGS...: amber ingest S ARGS, output in $T/out and $T/err,
# status in $RC.
ingest() {
	"$AMBER" ingest "$T/S" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# rc_ok WHAT: fail, showing $T/err, unless the last ingest ($RC) exited 0.
rc_ok() {
	[ "$RC" -eq 0 ] || { cat "$T/err"; fail "$1 exited $RC"; }
}

# ingest_ok WHICH ARGS...: ingest ARGS, then rc_ok "WHICH ingest" (WHICH
# is first, second...).
ingest_ok() {
	_which=$1
	shift
	ingest "$@"
	rc_ok "$_which ingest"
}

# restore_to DIR NAME: restore latest:pipelines/NAME into DIR.
restore_to() {
	"$AMBER" restore "$T/S" "latest:pipelines/$2" "$1" >/dev/null 2>"$T/rerr" ||
	    { cat "$T/rerr" >&2; fail "restore of pipelines/$2"; }
}

# restored_as DIR NAME EXPECTED WHICH: restore_to DIR NAME, and the tree
# must equal expected/EXPECTED (WHICH names the snapshot: first, second).
restored_as() {
	restore_to "$1" "$2"
	diff -r "$EXP/$3" "$1/$2" ||
	    fail "$4 snapshot differs from expected/$3"
}

# requests PATTERN: how many logged requests match the grep pattern.
requests() {
	grep -c -- "$1" "$T/req.log"
}

"$AMBER" init --kdf log2n=10,r=8,p=1 "$T/S" >/dev/null 2>&1 ||
    fail "amber init"
