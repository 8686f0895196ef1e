#!/bin/sh
# tests/bench/ab/git_ab.sh: amber binaries compared on the git part of the
# benchmark (issue 19's git goals), interleaved in the same run, with
# restic's scripted alternative beside them.  Needs the history that
# tests/bench/git.sh builds once in $AMBER_BENCH_DIR/data/git.
#
#   git_ab.sh whole N BIN...    N rounds; each round, for each BIN and then
#                               restic: a fresh copy of a.git, the first
#                               ingest, a fetch of b.git's 10 new commits,
#                               the second ingest.  restic: git clone
#                               --mirror --no-local + restic backup, then
#                               git fetch + restic backup (as git.sh).
#   git_ab.sh mirror N BIN...   the clone and mirror part of a first ingest
#                               alone: the first BIN ingests a.git as
#                               repos/linux once; each run ingests it again
#                               as repos/linux2 into a copy of that store
#                               and cache (the browsable trees are found in
#                               the cache; the clone and the mirror's pack
#                               are new).
#
# Prints "LABEL PHASE WALL USER SYS" per run (GNU time); take medians.
set -u
D=${AMBER_BENCH_DIR:-/var/tmp/amber-bench}
G=$D/data/git
W=$D/git-ab
export AMBER_PASSPHRASE=amber-bench-passphrase
export RESTIC_PASSWORD=$AMBER_PASSPHRASE
[ $# -ge 3 ] || { echo "usage: git_ab.sh whole|mirror N BIN..." >&2; exit 2; }
[ -f "$G/ready" ] || { echo "git_ab.sh: no $G (run git.sh once)" >&2; exit 2; }
mode=$1
n=$2
shift 2

# timed OUT CMD...: run CMD under GNU time; print "wall user sys".
timed() {
	/usr/bin/time -f "%e %U %S" -o "$W/t" "$@" >"$W/log" 2>&1 ||
	    { echo "git_ab.sh: failed: $*" >&2; tail -n 3 "$W/log" >&2; }
	cat "$W/t"
}

whole_one() { # bin|restic
	rm -rf "$W/src" "$W/s" "$W/c" "$W/m" "$W/rc"
	git clone -q --mirror "$G/a.git" "$W/src"
	if [ "$1" = restic ]; then
		export RESTIC_REPOSITORY="$W/s" RESTIC_CACHE_DIR="$W/rc"
		restic init -q >/dev/null
		f=$(cd "$W" && timed sh -c "git clone -q --mirror --no-local \
		    '$W/src' m && restic backup -q --host b m")
		git -C "$W/src" fetch -q --prune "$G/b.git" '+refs/*:refs/*'
		s=$(cd "$W" && timed sh -c "git -C m fetch -q --prune origin &&
		    restic backup -q --host b m")
	else
		export XDG_CACHE_HOME="$W/c"
		"$1" init --kdf log2n=14,r=8,p=1 "$W/s" >/dev/null
		f=$(timed "$1" ingest "$W/s" --repo linux="$W/src")
		git -C "$W/src" fetch -q --prune "$G/b.git" '+refs/*:refs/*'
		s=$(timed "$1" ingest "$W/s" --repo linux="$W/src")
	fi
	echo "$1 first $f"
	echo "$1 changed $s"
}

rm -rf "$W"
mkdir -p "$W"
case $mode in
whole)
	for _ in $(seq "$n"); do
		for b in "$@" restic; do
			whole_one "$b"
		done
	done ;;
mirror)
	git clone -q --mirror "$G/a.git" "$W/src"
	XDG_CACHE_HOME=$W/c0 "$1" init --kdf log2n=14,r=8,p=1 "$W/s0" \
	    >/dev/null
	XDG_CACHE_HOME=$W/c0 "$1" ingest "$W/s0" --repo linux="$W/src" \
	    >/dev/null 2>&1 || { echo "git_ab.sh: setup failed" >&2; exit 1; }
	for _ in $(seq "$n"); do
		for b in "$@"; do
			rm -rf "$W/s" "$W/c"
			cp -a "$W/s0" "$W/s"
			cp -a "$W/c0" "$W/c"
			echo "$b mirror $(XDG_CACHE_HOME=$W/c timed "$b" ingest \
			    "$W/s" --repo linux2="$W/src")"
		done
	done ;;
*)
	echo "usage: git_ab.sh whole|mirror N BIN..." >&2
	exit 2 ;;
esac
rm -rf "$W"
