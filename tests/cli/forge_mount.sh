#!/bin/sh
# forge_mount.sh: the acceptance check, on the mount: after the
# forge changed, `diff -r` between the two snapshots' pipelines/NAME shows
# exactly the change (expected/gitlab-changes.txt), runs carried forward
# read back byte for byte, and latest is complete.  Without FUSE it skips,
# except in CI (CI=true), where it fails like the tests in tests/mount.
. "$AMBER_TOP/tests/forge/lib.sh"

no_fuse() {
	[ "${CI:-}" = true ] && fail "no FUSE in CI: $*"
	echo "skip: $*"
	exit 77
}
[ -c /dev/fuse ] || no_fuse "no /dev/fuse"
[ -r /dev/fuse ] && [ -w /dev/fuse ] ||
    no_fuse "/dev/fuse is not open to $(id -un) (mode $(stat -c %a /dev/fuse))"
command -v fusermount3 >/dev/null 2>&1 || no_fuse "no fusermount3"
: "${AMBERFS:?AMBERFS must name the amberfs binary}"

export AMBER_GITLAB_TOKEN=$TOKEN
SPEC=gitlab:https://gitlab.example.com/grp/app
gitlab_start gitlab-v1
ingest_ok first --pipeline gl=$SPEC
server_stop
gitlab_start gitlab-v1 gitlab-v2
ingest_ok second --pipeline gl=$SPEC
server_stop
"$AMBER" snapshots "$T/S" >"$T/snaps" 2>&1 || fail "amber snapshots"
S1=$(sed -n 1p "$T/snaps" | awk '{print $1}')
S2=$(sed -n 2p "$T/snaps" | awk '{print $1}')
[ -n "$S1" ] && [ -n "$S2" ] || { cat "$T/snaps"; fail "two snapshots expected"; }

M=$T/m
mkdir -p "$M"
mkfifo "$T/ready" || fail "mkfifo"
"$AMBERFS" "$T/S" "$M" -f -o ready_fd=3 3>"$T/ready" 2>"$T/amberfs.log" &
FSPID=$!
unmount() {
	grep -q " $M fuse" /proc/mounts 2>/dev/null && fusermount3 -u "$M"
	kill "$FSPID" 2>/dev/null
	wait "$FSPID" 2>/dev/null
	cleanup
}
trap unmount EXIT
n=$(timeout 60 head -c 1 "$T/ready" | wc -c)
if [ "$n" -ne 1 ]; then
	cat "$T/amberfs.log" >&2
	grep -q "fuse: device not found\|Operation not permitted\|fusermount" \
	    "$T/amberfs.log" && no_fuse "FUSE mounts do not work here"
	fail "amberfs did not report ready"
fi

# On failure, show what the daemon said (a crash shows as ENOTCONN here).
mfail() {
	tail -n 30 "$T/amberfs.log" >&2
	fail "$@"
}
A=$M/snapshots/$S1/pipelines/gl
B=$M/snapshots/$S2/pipelines/gl
diff -r "$EXP/gitlab-1" "$A" || mfail "first snapshot on the mount"
diff -r "$EXP/gitlab-2" "$M/latest/pipelines/gl" || mfail "latest on the mount"
# Same form as tests/cli/forge_gitlab.sh writes from two restores.
diff -rq "$A" "$B" |
    sed "s|$A|OLD/gl|g; s|$B|NEW/gl|g; s|^Files OLD|Files a|; s| and NEW/gl| and b/gl|" |
    LC_ALL=C sort >"$T/changes"
LC_ALL=C sort "$EXP/gitlab-changes.txt" >"$T/changes.exp"
diff "$T/changes.exp" "$T/changes" || mfail "diff -r on the mount shows more or less than the change"
for f in runs/1000.json runs/1001.json jobs/5011.json logs/5011.log; do
	cmp "$A/$f" "$B/$f" || mfail "carried $f differs"
done
echo ok
