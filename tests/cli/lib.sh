# tests/cli/lib.sh: sourced by every tests/cli/*.sh.  Gives each test its
# own temporary directory $T (removed at exit), a cheap KDF, a passphrase
# in the environment, the cache (index) inside $T, and small helpers.
# Exit 0: pass, 77: skip, anything else: fail.
set -u
AMBER=${AMBER:-}
if [ -z "$AMBER" ] || [ ! -x "$AMBER" ]; then
	echo "FAIL: \$AMBER ($AMBER) is not an executable" >&2
	exit 1
fi
T=$(mktemp -d /tmp/amber-cli.XXXXXX) || exit 1
cleanup() {
	# Store objects are read-only; make everything removable first.
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
export XDG_CACHE_HOME="$T/cache"
export AMBER_PASSPHRASE="correct horse battery staple"
unset AMBER_PASSPHRASE_FILE AMBER_NEW_PASSPHRASE AMBER_NEW_PASSPHRASE_FILE
unset POSIXLY_CORRECT
export LC_ALL=C
KDF=log2n=10,r=8,p=1

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# need_immutable: skip the test (exit 77, saying why) unless it runs as
# root (CAP_LINUX_IMMUTABLE) with chattr and lsattr on a file system of
# $T that has the immutable attribute; then lift the attribute from
# everything below $T before the cleanup removes it.
need_immutable() {
	[ "$(id -u)" = 0 ] ||
	    { echo "needs root (CAP_LINUX_IMMUTABLE)"; exit 77; }
	command -v lsattr >/dev/null && command -v chattr >/dev/null ||
	    { echo "needs lsattr and chattr (Debian: e2fsprogs)"; exit 77; }
	touch "$T/probe"
	chattr +i "$T/probe" 2>/dev/null ||
	    { echo "the file system of $T has no immutable attribute"; exit 77; }
	chattr -i "$T/probe"
	trap 'chattr -R -i "$T" 2>/dev/null; cleanup' EXIT
}

# expect STATUS COMMAND...: run COMMAND (stdin from /dev/null, so that a
# prompt can never hang), keep its output in $T/out and $T/err, and fail
# unless it exits with STATUS.
expect() {
	_want=$1
	shift
	"$@" </dev/null >"$T/out" 2>"$T/err"
	_got=$?
	if [ "$_got" -ne "$_want" ]; then
		echo "--- stdout:" >&2; head -c 4000 "$T/out" >&2
		echo "--- stderr:" >&2; head -c 4000 "$T/err" >&2
		fail "expected exit $_want, got $_got: $*"
	fi
}

# out_has TEXT / err_has TEXT: the last command's stdout/stderr holds TEXT.
out_has() {
	grep -q -F -- "$1" "$T/out" || {
		cat "$T/out" >&2; fail "stdout lacks '$1'"; }
}
err_has() {
	grep -q -F -- "$1" "$T/err" || {
		cat "$T/err" >&2; fail "stderr lacks '$1'"; }
}

# new_store DIR: a fresh store with the test passphrase and a cheap KDF.
new_store() {
	expect 0 "$AMBER" init "$1" --kdf "$KDF"
}

# new_store_src: S=$T/store, a fresh store (new_store), and D=$T/src, an
# empty source directory.
new_store_src() {
	S=$T/store
	D=$T/src
	new_store "$S"
	mkdir -p "$D"
}

# big_src: new_store_src, and in $D three 15 MB random files and
# sub/small: enough chunks for several packs.
big_src() {
	new_store_src
	mkdir -p "$D/sub"
	for i in 1 2 3; do head -c 15000000 /dev/urandom >"$D/big$i"; done
	echo small >"$D/sub/small"
}

# listing DIR: a NUL-separated, sorted record of everything below DIR
# (and DIR itself as "."): path, type, mode, owner, size (not for
# directories), mtime to the nanosecond, link count, symlink target.
listing() {
	(cd "$1" && find . \( -type d -printf '%p|%y|%m|%U:%G|-|%T@|%n|\0' \) \
	    -o -printf '%p|%y|%m|%U:%G|%s|%T@|%n|%l\0') | sort -z
}

# same_tree A B: equal listings, and every regular file's bytes equal.
same_tree() {
	listing "$1" >"$T/list.a"
	listing "$2" >"$T/list.b"
	if ! cmp -s "$T/list.a" "$T/list.b"; then
		tr '\0' '\n' <"$T/list.a" >"$T/list.a.txt"
		tr '\0' '\n' <"$T/list.b" >"$T/list.b.txt"
		diff "$T/list.a.txt" "$T/list.b.txt" | head -40 >&2
		fail "listings of $1 and $2 differ"
	fi
	(cd "$1" && find . -type f -exec sh -c '
		for f; do cmp -s -- "$f" "$0/$f" || { echo "differs: $f"; exit 1; }; done
	    ' "$2" {} +) >&2 || fail "file contents of $1 and $2 differ"
}

# failed_put STORE INGEST-ARGS...: amber ingest STORE INGEST-ARGS with
# every linkat(2), the call that puts a pack into place, failing with
# ENOSPC (strace's fault injection): exit 1, the store's message and not
# a source's, no snapshot, nothing left in STORE/tmp/.  Without strace,
# says so (a failure in CI, which needs every part).
failed_put() {
	fp_s=$1
	shift
	if ! command -v strace >/dev/null; then
		[ "${CI:-}" != true ] ||
		    fail "strace is missing (Debian: strace), CI needs every part"
		echo "no strace: the failed put is not tried"
		return 0
	fi
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -o /dev/null -e trace=linkat \
	    -e inject=linkat:error=ENOSPC \
	    "$AMBER" ingest "$fp_s" "$@" </dev/null >"$T/out" 2>"$T/err"
	fp_rc=$?
	[ $fp_rc -eq 1 ] ||
	    { cat "$T/err" >&2; fail "a failed put: exit $fp_rc, not 1"; }
	err_has "link: No space left on device"
	# The store failed, not the source: whether the put failed while
	# the files were read or at the commit, no source is blamed.
	grep -q -e "writing to the store failed" -e "commit failed" "$T/err" ||
	    { cat "$T/err" >&2; fail "the failure is not the store's"; }
	! grep -q "not in this snapshot" "$T/err" ||
	    { cat "$T/err" >&2; fail "the store's failure blamed a source"; }
	[ -z "$(ls "$fp_s/snapshots" 2>/dev/null)" ] ||
	    fail "a failed put committed a snapshot"
	[ -z "$(ls "$fp_s/tmp" | grep -v '^prune.lock$')" ] ||
	    fail "a failed put left $(ls "$fp_s/tmp") in tmp/"
}
