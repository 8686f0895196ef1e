# tests/mount/lib.sh: shared set-up for the mount tests.  Every mount
# test sources it first thing, so that none can hang, leave a mount
# behind or skip silently in CI.  It
#  - re-runs the test under a hard timeout (MOUNT_TEST_TIMEOUT, 600 s);
#  - exits 77 (skip) without /dev/fuse, fusermount3 or a working FUSE
#    mount; tests/run.sh turns that into a failure in CI;
#  - makes a private temporary directory $T, cds there, and sets
#    AMBER_PASSPHRASE and XDG_CACHE_HOME inside it;
#  - installs a trap that unmounts every mount and kills every daemon the
#    test started, then removes $T.
# Daemons run in the foreground and write one byte to a readiness fd once
# mounted, so nothing here sleeps and hopes.

if [ -z "${AMBER_MOUNT_TIMED:-}" ]; then
	AMBER_MOUNT_TIMED=1 exec timeout -k 10 "${MOUNT_TEST_TIMEOUT:-600}" \
	    sh "$0" "$@"
fi

: "${AMBER:?AMBER must name the amber binary}"
: "${AMBERFS:?AMBERFS must name the amberfs binary}"

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }
# within SECONDS CMD...: retry CMD (0.1 s apart) until it succeeds.
within() {
	n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

[ -c /dev/fuse ] || skip "no /dev/fuse"
# libfuse opens /dev/fuse itself before it asks fusermount3 to mount.
[ -r /dev/fuse ] && [ -w /dev/fuse ] ||
    skip "/dev/fuse is not open to $(id -un) (mode $(stat -c %a /dev/fuse))"
command -v fusermount3 >/dev/null 2>&1 || skip "no fusermount3"
[ -x "$AMBER" ] || fail "no amber binary at $AMBER"
[ -x "$AMBERFS" ] || fail "no amberfs binary at $AMBERFS"

T=$(mktemp -d /tmp/amber-mount.XXXXXX) || fail "mktemp"
MOUNTS=""
PIDS=""
export AMBER_PASSPHRASE="mount test passphrase"
export XDG_CACHE_HOME="$T/cache"
unset AMBER_PASSPHRASE_FILE
cd "$T" || fail "cd $T"

cleanup() {
	for m in $MOUNTS; do
		if grep -q " $m fuse" /proc/mounts 2>/dev/null; then
			fusermount3 -u "$m" 2>/dev/null ||
			    fusermount3 -uz "$m" 2>/dev/null
		fi
	done
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap 'cleanup' EXIT
trap 'exit 1' INT TERM HUP

# mk_store DIR: a new store with cheap KDF parameters.
mk_store() {
	"$AMBER" init --kdf log2n=10,r=8,p=1 "$1" >"$T/init.log" 2>&1 ||
	    { cat "$T/init.log"; fail "amber init $1"; }
}

# ingest STORE ARGS...: one snapshot; the snapshot's name goes to $SNAP.
ingest() {
	s=$1
	shift
	"$AMBER" ingest "$s" "$@" -q >"$T/ingest.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { cat "$T/ingest.log"; fail "amber ingest: exit $rc"; }
	SNAP=$("$AMBER" snapshots "$s" | tail -n 1 | awk '{print $1}')
	[ -n "$SNAP" ] || fail "no snapshot name after ingest"
}

# mount_fg STORE MOUNTPOINT [amberfs options...]: mount in the foreground
# (in the background of this shell); waits for the readiness byte and
# sets $FSPID.  Fails if the daemon exits first.
mount_fg() {
	s=$1
	m=$2
	shift 2
	mkdir -p "$m"
	m=$(cd "$m" && pwd)
	rm -f "$T/ready"
	mkfifo "$T/ready" || fail "mkfifo"
	"$AMBERFS" "$s" "$m" -f -o ready_fd=3 "$@" 3>"$T/ready" \
	    2>>"$T/amberfs.log" &
	FSPID=$!
	PIDS="$PIDS $FSPID"
	MOUNTS="$MOUNTS $m"
	n=$(timeout 60 head -c 1 "$T/ready" | wc -c)
	if [ "$n" -ne 1 ]; then
		cat "$T/amberfs.log" >&2
		pat="device not found\|Operation not permitted\|fusermount"
		if grep -q "$pat" "$T/amberfs.log"; then
			skip "FUSE mounts do not work here"
		fi
		fail "amberfs did not report ready"
	fi
}

# unmount MOUNTPOINT PID: fusermount3 -u, then the daemon must exit.
unmount() {
	fusermount3 -u "$1" || fail "fusermount3 -u $1"
	daemon_exits "$2"
}

# daemon_exits PID: the unmounted daemon PID exits, with status 0, within
# 10 s.
daemon_exits() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "amberfs $1 still running after unmount"
		sleep 0.1
	done
	wait "$1"
	rc=$?
	[ $rc -eq 0 ] || fail "amberfs exited $rc after unmount"
}

# rss PID: "RssAnon RssFile" of PID, in KiB.
rss() {
	awk '/^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} END {print a, f}' \
	    /proc/"$1"/status
}

# rss_limit KIB: set $limit, the RssAnon bound a test checks, to KIB.  Under
# ASan the shadow memory and quarantine are anonymous memory too: the test
# still runs, the bound is not checked.
rss_limit() {
	limit=$1
	if ldd "$AMBERFS" 2>/dev/null | grep -q 'libasan\|libubsan'; then
		note "sanitizer build: RssAnon reported, not bounded"
		limit=999999999
	fi
}

# meta DIR: one sorted line of metadata per entry below DIR (directory
# sizes depend on the file system, so they are left out).
meta() {
	(cd "$1" && find . -mindepth 1 \
	    \( -type d -printf '%P %y %m %U %G %T@\n' \) -o \
	    -printf '%P %y %m %U %G %s %T@ %l\n') | LC_ALL=C sort
}

# same_tree A B: equal contents (symlinks not followed; fifos, which
# diff(1) always calls different, and device nodes "dev-*", which a nodev
# mount does not open, by metadata only) and metadata.
same_tree() {
	diff -r --no-dereference -x fifo -x 'dev-*' "$1" "$2" \
	    >"$T/diff.out" 2>&1 ||
	    { head -n 20 "$T/diff.out"; fail "diff -r $1 $2"; }
	meta "$1" >"$T/meta.a"
	meta "$2" >"$T/meta.b"
	cmp -s "$T/meta.a" "$T/meta.b" ||
	    { diff "$T/meta.a" "$T/meta.b" | head -n 20;
	      fail "metadata differs: $1 $2"; }
}
