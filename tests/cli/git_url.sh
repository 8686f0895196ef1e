#!/bin/sh
# git_url.sh: a repository fetched by URL, from a git daemon on
# 127.0.0.1 (stopped by the trap, and by itself after a while), and over
# file://; a re-ingest fetches only what is new, through the local
# mirror cache.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/git_common.inc"

git daemon --help >/dev/null 2>&1 || [ -x "$(git --exec-path)/git-daemon" ] ||
    { echo "git daemon is not installed"; exit 77; }
S=$T/store
mkdir -p "$T/srv"
make_repo "$T/src" 60
git clone -q --bare "$T/src" "$T/srv/r.git" || fail "bare clone"
touch "$T/srv/r.git/git-daemon-export-ok"

port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 300 git daemon --listen=127.0.0.1 --port="$port" --reuseaddr \
    --base-path="$T/srv" --informative-errors "$T/srv" \
    >"$T/daemon.log" 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null; cleanup' EXIT
URL=git://127.0.0.1:$port/r.git
# Wait until the daemon answers (bounded; no blind sleep).
i=0
until git ls-remote "$URL" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/daemon.log" >&2; fail "git daemon"; }
	kill -0 $dpid 2>/dev/null || { cat "$T/daemon.log" >&2;
	    fail "git daemon exited"; }
	sleep 0.1
done

new_store "$S"
expect 0 "$AMBER" ingest "$S" --repo r="$URL" --repo f="file://$T/srv/r.git"
expect 0 "$AMBER" restore "$S" latest:repos/r.git "$T/m1"
refs_same "$T/srv/r.git" "$T/m1/r.git"
fsck_clean "$T/m1/r.git"
expect 0 "$AMBER" restore "$S" latest:repos/f.git "$T/f1"
refs_same "$T/srv/r.git" "$T/f1/f.git"
expect 0 "$AMBER" ls "$S" latest:repos/r/branches
out_has main
out_has feature%2Fx
# The origin is the URL.
expect 0 "$AMBER" snapshots "$S" --json
out_has "$URL"

# New commits pushed to the server; the re-ingest fetches them.
commit_n "$T/src" 61 70
git -C "$T/src" push -q "$T/srv/r.git" main || fail "push"
expect 0 "$AMBER" ingest "$S" --repo r="$URL"
expect 0 "$AMBER" restore "$S" latest:repos/r.git "$T/m2"
refs_same "$T/srv/r.git" "$T/m2/r.git"
fsck_clean "$T/m2/r.git"
[ "$(n_packs latest)" = 2 ] || fail "re-ingest by URL: not two packs"
expect 0 "$AMBER" cat "$S" latest:repos/r/branches/main/src/log.txt
git -C "$T/srv/r.git" show main:src/log.txt | cmp -s - "$T/out" ||
    fail "log.txt after the re-ingest"

# The server is gone: the source fails, the run says so and keeps the
# previous copy (flagged stale); nothing hangs.
kill $dpid
wait $dpid 2>/dev/null
expect 3 "$AMBER" ingest "$S" --repo r="$URL" --dir d="$T/src/src"
err_has "repos/r"
expect 0 "$AMBER" ls "$S" latest:files/d
out_has log.txt
exit 0
