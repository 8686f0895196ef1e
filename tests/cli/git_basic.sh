#!/bin/sh
# git_basic.sh: ingest a rich repository (hundreds of commits, branches
# with '/' and '%' in their names, every kind of tag, notes, a custom
# ref, merges, renames, a binary file, an executable, symlinks leading
# out, an LFS pointer, a submodule) and check both forms: the restored
# mirror has the same refs, passes git fsck --full and clones; the
# browsable trees equal what git archive writes for each branch and tag.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/git_common.inc"

S=$T/store
make_repo "$T/src"
# A work tree checkout and a bare copy are both valid locations.
git clone -q --bare "$T/src" "$T/bare.git" || fail "bare clone"
new_store "$S"
# A fresh clone's pack is stored as it is, without a second pack-objects
# (a git on PATH that logs what amber runs; git's own children run from
# its exec path).
mkdir "$T/bin"
cat >"$T/bin/git" <<EOF
#!/bin/sh
echo "\$*" >>"$T/git.log"
exec "$(command -v git)" "\$@"
EOF
chmod +x "$T/bin/git"
expect 0 env PATH="$T/bin:$PATH" "$AMBER" ingest "$S" --repo r="$T/src" \
    --repo b="$T/bare.git"
grep -q '^clone --mirror ' "$T/git.log" || fail "the git shim saw no clone"
! grep -q ' pack-objects ' "$T/git.log" ||
    fail "first ingest ran pack-objects over a fresh clone"

# The mirror: refs, HEAD, fsck, clone, history.
expect 0 "$AMBER" restore "$S" latest:repos/r.git "$T/m"
refs_same "$T/src" "$T/m/r.git"
fsck_clean "$T/m/r.git"
[ "$(git -C "$T/m/r.git" symbolic-ref HEAD)" = refs/heads/main ] ||
    fail "mirror HEAD is not refs/heads/main"
git clone -q "$T/m/r.git" "$T/clone" || fail "git clone of the mirror"
[ "$(git -C "$T/clone" rev-list --count HEAD)" = \
    "$(git -C "$T/src" rev-list --count main)" ] || fail "history differs"
[ "$(git -C "$T/m/r.git" notes show main~1 2>/dev/null)" = "a note" ] ||
    [ "$(git -C "$T/m/r.git" notes show v1.0)" = "a note" ] ||
    fail "note lost"
expect 0 "$AMBER" restore "$S" latest:repos/b.git "$T/mb"
refs_same "$T/bare.git" "$T/mb/b.git"
fsck_clean "$T/mb/b.git"
# The mirror holds exactly one self-contained pack, and only files.
[ "$(n_packs latest)" = 1 ] || fail "first ingest: not one pack"
# ... holding what the refs reach and nothing else.
want=$(git -C "$T/src" rev-list --objects --all | wc -l)
got=$(git show-index <"$(ls "$T/m/r.git/objects/pack/"*.idx)" | wc -l)
[ "$got" = "$want" ] || fail "first pack holds $got objects, not $want"
for f in HEAD config packed-refs objects/pack objects/info refs; do
	[ -e "$T/m/r.git/$f" ] || fail "mirror lacks $f"
done

# The browsable trees.
expect 0 "$AMBER" restore "$S" latest:repos/r "$T/b"
B=$T/b/r
[ "$(readlink "$B/HEAD")" = branches/main ] || fail "HEAD symlink"
for d in main topic feature%2Fx 100%25done; do
	[ -d "$B/branches/$d" ] || fail "no branches/$d"
done
[ "$(ls "$B/branches" | wc -l)" = 4 ] || fail "not 4 branches"
for t in v1.0 v2.0 release%2F2024 v2.0-signed treetag; do
	[ -d "$B/tags/$t" ] || fail "no tags/$t"
done
[ -f "$B/tags/blobtag" ] || fail "tags/blobtag is not a file"
cmp -s "$B/tags/blobtag" "$T/src/.gitmodules" || fail "tags/blobtag bytes"
[ "$(ls "$B/tags" | wc -l)" = 6 ] || fail "not 6 tags"

# Each branch and tag equals git's own rendering, but for submodules,
# which git archive writes as empty directories and we mark.
check_rev() { # DIR REV
	rm -rf "$T/arch"
	archive_tree "$T/src" "$2" "$T/arch"
	if [ -d "$1/vendor/lib" ]; then
		[ "$(cat "$1/vendor/lib/.gitlink")" = \
		    1234567890abcdef1234567890abcdef12345678 ] ||
		    fail "$1: submodule commit"
		[ "$(ls -A "$1/vendor/lib")" = .gitlink ] ||
		    fail "$1: submodule dir holds more than .gitlink"
	fi
	diff -r --no-dereference -x .gitlink "$T/arch" "$1" >&2 ||
	    fail "$1 differs from git archive $2"
}
check_rev "$B/branches/main" main
check_rev "$B/branches/topic" topic
check_rev "$B/branches/feature%2Fx" feature/x
check_rev "$B/branches/100%25done" 100%done
check_rev "$B/tags/v1.0" v1.0
check_rev "$B/tags/v2.0-signed" v2.0-signed
check_rev "$B/tags/release%2F2024" release/2024

# Modes, symlinks, LFS pointers, mtimes.
M=$B/branches/main
[ -x "$M/bin/run.sh" ] || fail "run.sh lost its x bit"
[ "$(stat -c %a "$M/bin/run.sh")" = 755 ] || fail "run.sh mode"
[ "$(stat -c %a "$M/src/log.txt")" = 644 ] || fail "log.txt mode"
[ -L "$M/bin/outside" ] || fail "bin/outside is not a symlink"
[ "$(readlink "$M/bin/outside")" = ../../../../etc/passwd ] ||
    fail "outside target"
[ "$(readlink "$M/bin/dangling")" = no/such/target ] || fail "dangling"
head -1 "$M/art/logo.psd" | grep -q '^version https://git-lfs' ||
    fail "LFS pointer not stored as is"
cmp -s "$M/bin/blob.bin" "$T/src/bin/blob.bin" || fail "binary file"
tip=$(git -C "$T/src" log -1 --format=%ct main)
[ "$(stat -c %Y "$M/src/log.txt")" = "$tip" ] || fail "mtime is not $tip"
[ "$(stat -c %Y "$M/vendor")" = "$tip" ] || fail "dir mtime"
ttip=$(git -C "$T/src" log -1 --format=%ct topic)
[ "$(stat -c %Y "$B/branches/topic/topic.txt")" = "$ttip" ] ||
    fail "topic mtime"
[ "$(stat -c %u:%g "$M/src/log.txt")" = "$(id -u):$(id -g)" ] ||
    fail "restored owner"
exit 0
