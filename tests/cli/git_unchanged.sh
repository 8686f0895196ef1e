#!/bin/sh
# git_unchanged.sh: an unchanged repository costs one `git ls-remote`.
# The first ingest clones, the second records the fetch state; from then
# on, an ingest of an unchanged repository runs git once (ls-remote) and
# takes the previous snapshot's two trees as they were.  A new commit, a
# moved HEAD, another location, or a lost index each make the next
# ingest fetch and read again, and every snapshot restores what upstream
# held at the time.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/git_common.inc"

S=$T/store
make_repo "$T/src" 20
new_store "$S"
# A git that logs how it was called, first in PATH for amber.
mkdir "$T/bin"
printf '#!/bin/sh\necho "$*" >>"%s/git.log"\nexec %s "$@"\n' "$T" \
    "$(command -v git)" >"$T/bin/git"
chmod +x "$T/bin/git"

# ingest LOCATION: one ingest of repos/r, logging git's calls.
ingest() {
	: >"$T/git.log"
	(PATH=$T/bin:$PATH; export PATH
	    expect 0 "$AMBER" ingest "$S" --repo r="$1") || exit 1
}
# only_ls_remote WHEN: the last ingest ran git once, for ls-remote.
only_ls_remote() {
	[ "$(wc -l <"$T/git.log")" -eq 1 ] &&
	    grep -q ' ls-remote ' "$T/git.log" ||
	    { cat "$T/git.log" >&2; fail "$1: more git than one ls-remote"; }
}
# read_again WHEN: the last ingest read the repository.
read_again() {
	grep -q ' for-each-ref ' "$T/git.log" ||
	    { cat "$T/git.log" >&2; fail "$1: the repository was not read"; }
}
# same_as_upstream WHEN: the latest snapshot's mirror has upstream's
# refs and HEAD, and git finds it whole.
same_as_upstream() {
	rm -rf "$T/r"
	expect 0 "$AMBER" restore "$S" latest:repos/r.git "$T/r"
	git -C "$T/src" for-each-ref >"$T/refs.up"
	git --git-dir="$T/r/r.git" for-each-ref >"$T/refs.got"
	cmp -s "$T/refs.up" "$T/refs.got" ||
	    { diff "$T/refs.up" "$T/refs.got" >&2; fail "$1: refs differ"; }
	[ "$(git -C "$T/src" symbolic-ref HEAD)" = \
	    "$(git --git-dir="$T/r/r.git" symbolic-ref HEAD)" ] ||
	    fail "$1: HEAD differs"
	git --git-dir="$T/r/r.git" fsck --no-progress >/dev/null 2>&1 ||
	    fail "$1: git fsck"
}

ingest "$T/src"
read_again "first ingest"
ingest "$T/src"
read_again "second ingest"
ingest "$T/src"
only_ls_remote "third ingest, nothing changed"
same_as_upstream "third ingest"

# A new commit upstream: read again, and it is in the snapshot.
commit_n "$T/src" 21 21
ingest "$T/src"
read_again "after a new commit"
same_as_upstream "after a new commit"
ingest "$T/src"
only_ls_remote "after a new commit, unchanged"
same_as_upstream "after a new commit, unchanged"

# HEAD moved to another branch: read again.
git -C "$T/src" branch other main~3 || fail "branch"
git -C "$T/src" symbolic-ref HEAD refs/heads/other || fail "symbolic-ref"
ingest "$T/src"
read_again "after HEAD moved"
same_as_upstream "after HEAD moved"

# The same repository at another location: read again.
ln -s "$T/src" "$T/link"
ingest "$T/link"
read_again "at another location"
ingest "$T/link"
only_ls_remote "at another location, unchanged"

# A lost index: clone and read again.
rm -rf "$XDG_CACHE_HOME"
ingest "$T/link"
read_again "with a lost index"
same_as_upstream "with a lost index"
expect 0 "$AMBER" verify "$S"
echo ok
