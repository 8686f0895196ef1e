# tests/bench/git.sh: the git part of the benchmark (issue 4), sourced by
# tests/bench/run.sh, whose helpers (rec, problem, timed, tool_env, ...)
# it uses.
#
# Data, made once in $AMBER_BENCH_DIR/data/git: a.git, a repository of
# successive states of the linux-source tree in 300 commits, and b.git,
# the same with 10 more commits on main (git_history.py says how; the
# ids are the same on every machine).
#
# Per tool, the source is $D/src/linux.git, first a copy of a.git, then
# fetched up to b.git.  amber ingests it with --repo; the alternative a
# user would script is `git clone --mirror --no-local` (fetch, later)
# followed by restic or borg on the mirror.  Measured: both ingests, the
# store size, and `git clone` from each tool's mount.

GIT_COMMITS_ADD=200
GIT_COMMITS_MOD=100
GIT_MOD_PER_COMMIT=20
GIT_NEW_COMMITS=10

git_prepare() {
	G=$D/data/git
	[ -f "$G/ready" ] && return 0
	say "git: building the repository (once)"
	rm -rf "$G"
	mkdir -p "$G"
	# Everything but directories and the random file, symlinks included.
	(cd "$D/data/base" && find . ! -type d ! -name "$RANDOM_NAME" |
	    LC_ALL=C sort) >"$G/all.list"
	git init -q --bare -b main "$G/a.git" || return 1
	/usr/bin/python3 "$here/git_history.py" "$D/data/base" "$G/all.list" a |
	    git -C "$G/a.git" fast-import --quiet || return 1
	# fast-import packs without good deltas: repack as a forge would.
	git -C "$G/a.git" repack -a -d -q || return 1
	git clone -q --mirror "$G/a.git" "$G/b.git" || return 1
	git -C "$G/b.git" remote remove origin
	/usr/bin/python3 "$here/git_history.py" "$D/data/base" "$G/all.list" b |
	    git -C "$G/b.git" fast-import --quiet || return 1
	{
		echo "commits_a=$(git -C "$G/a.git" rev-list --count main)"
		echo "commits_b=$(git -C "$G/b.git" rev-list --count main)"
		echo "refs=$(git -C "$G/a.git" for-each-ref | wc -l)"
		echo "size_a=$(du -sb "$G/a.git" | cut -f1)"
		echo "main_b=$(git -C "$G/b.git" rev-parse main)"
	} >"$G/ready.tmp"
	rm -f "$G/all.list"
	mv "$G/ready.tmp" "$G/ready"
	say "git: repository ready: $(tr '\n' ' ' <"$G/ready")"
}

git_store_of() { echo "$RUN/git-$1-store"; }
git_env() { # tool: the tool's environment with the git repositories
	case $1 in
	amber)	echo "AMBER_PASSPHRASE=$PASS XDG_CACHE_HOME=$RUN/git-amber-cache" ;;
	restic)	echo "RESTIC_PASSWORD=$PASS RESTIC_REPOSITORY=$RUN/git-restic-store" \
		    "RESTIC_CACHE_DIR=$RUN/git-restic-cache" ;;
	borg)	echo "BORG_PASSPHRASE=$PASS BORG_BASE_DIR=$RUN/git-borg-home" \
		    "BORG_FUSE_IMPL=pyfuse3,llfuse" \
		    "BORG_RELOCATED_REPO_ACCESS_IS_OK=yes" ;;
	esac
}

# git_timed NAME TOOL SCRIPT: run the shell SCRIPT in $RUN/git-TOOL (where
# the scripted alternative keeps its mirror) under GNU time.
git_timed() {
	mkdir -p "$RUN/git-$2"
	# shellcheck disable=SC2046
	(cd "$RUN/git-$2" && /usr/bin/time -f '%e %U %S %M' \
	    -o "$RUN/$1.time" env $(git_env "$2") AMBER="$AMBER" \
	    SRC_GIT="$D/src/linux.git" STORE="$(git_store_of "$2")" \
	    sh -c "$3" >"$RUN/$1.log" 2>&1)
	T_RC=$?
	timed_read "$1"
}

git_bench_tool() { # tool
	t=$1
	say "git: $t"
	rec "git-$t" load "$(load)"
	rm -rf "$D/src/linux.git"
	git clone -q --mirror "$D/data/git/a.git" "$D/src/linux.git" || return 1
	case $t in
	amber)
		init='"$AMBER" init --kdf log2n=14,r=8,p=1 "$STORE" >/dev/null'
		first='"$AMBER" ingest "$STORE" --repo linux="$SRC_GIT"'
		again=$first ;;
	restic)
		init='restic init >/dev/null'
		first='git clone -q --mirror --no-local "$SRC_GIT" linux.git &&
		    restic backup --host bench linux.git'
		again='git -C linux.git fetch -q --prune origin &&
		    restic backup --host bench linux.git' ;;
	borg)
		init='borg init --encryption=repokey "$STORE" 2>/dev/null'
		first='git clone -q --mirror --no-local "$SRC_GIT" linux.git &&
		    borg create --compression zstd,3 "$STORE::a-first" linux.git'
		again='git -C linux.git fetch -q --prune origin &&
		    borg create --compression zstd,3 "$STORE::b-changed" linux.git' ;;
	esac
	git_timed "git-$t-init" "$t" "$init" ||
	    { problem "git-$t" "init: $(tail -n 2 "$RUN/git-$t-init.log")"; return 1; }
	for phase in first changed; do
		if [ $phase = changed ]; then
			git -C "$D/src/linux.git" fetch -q --prune \
			    "$D/data/git/b.git" '+refs/*:refs/*' || return 1
			cmd=$again
		else
			cmd=$first
		fi
		git_timed "git-$t-$phase" "$t" "$cmd"
		rec_phase "git-$t" $phase "$RUN/git-$t-$phase.log" \
		    "$(git_store_of "$t")" || return 1
	done
	git_clone_from_mount "$t"
}

# git_clone_from_mount tool: mount the tool's git store, clone the newest
# mirror out of it, and check that it has the source's refs.
git_clone_from_mount() {
	t=$1
	log=$RUN/git-$t-mount.log
	# shellcheck disable=SC2046
	case $t in
	amber) env $(git_env amber) "$AMBERFS" "$(git_store_of amber)" \
		"$MNT" -f >>"$log" 2>&1 & ;;
	restic) env $(git_env restic) restic mount "$MNT" >>"$log" 2>&1 & ;;
	borg) env $(git_env borg) borg mount -f "$(git_store_of borg)" \
		"$MNT" >>"$log" 2>&1 & ;;
	esac
	gpid=$!
	case $t in
	amber) sd=$MNT/snapshots; rel=repos/linux.git ;;
	restic) sd=$MNT/snapshots; rel=linux.git ;;
	borg) sd=$MNT; rel=linux.git ;;
	esac
	i=0
	while [ -z "$(snapshots_in "$sd" | tail -n 1)" ] && [ $i -lt 3000 ] &&
	    kill -0 $gpid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	repo=$sd/$(snapshots_in "$sd" | tail -n 1)/$rel
	rm -rf "$RUN/git-clone"
	drop_caches
	t0=$(now_ns)
	if git clone -q "$repo" "$RUN/git-clone" >>"$log" 2>&1; then
		t1=$(now_ns)
		rec "git-$t" clone_s "$(secs "$t0" "$t1")"
		a=$(git ls-remote "$repo" 2>/dev/null | md5sum)
		b=$(git ls-remote "$D/src/linux.git" | md5sum)
		[ "$a" = "$b" ] || problem "git-$t" "the mounted mirror's refs" \
		    "differ from the source's"
		[ "$(git -C "$RUN/git-clone" rev-parse HEAD)" = \
		    "$(git -C "$D/src/linux.git" rev-parse HEAD)" ] ||
		    problem "git-$t" "the clone's HEAD is not the source's"
	else
		problem "git-$t" "git clone $repo failed: $(tail -n 2 "$log" |
		    tr '\n' ' ')"
	fi
	rm -rf "$RUN/git-clone"
	fusermount3 -u "$MNT" >>"$log" 2>&1 || umount "$MNT" >>"$log" 2>&1
	i=0
	while kill -0 $gpid 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 $gpid 2>/dev/null && { kill -INT $gpid; sleep 2; kill $gpid; }
	wait $gpid 2>/dev/null
	return 0
}

bench_git() {
	if ! git_prepare; then
		problem git "could not build the benchmark repository"
		return 1
	fi
	rec git data "$(tr '\n' ' ' <"$D/data/git/ready")"
	for t in $TOOLS; do
		git_bench_tool "$t"
	done
}
