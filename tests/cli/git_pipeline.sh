#!/bin/sh
# git_pipeline.sh: blob contents are asked of git cat-file ahead of being
# read (up to 32 at once).  A directory of many files, with repeated and
# empty contents, is stored exactly; a damaged object in the middle of it
# (in the local mirror cache) is named, left out, and every other file
# keeps its own bytes: nothing is read out of step after git fails.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/git_common.inc"

S=$T/store
git init -q "$T/src" || fail "git init"
(
cd "$T/src" || exit 1
set -e
mkdir -p many sub/deeper
for i in $(seq 100 199); do
	case $((i % 7)) in
	0) : >"many/f$i" ;;				# empty, repeated
	1) echo "same content" >"many/f$i" ;;		# repeated
	*) seq 1 "$i" | sed "s/^/$i /" >"many/f$i" ;;	# its own
	esac
done
for i in $(seq 1 40); do echo "deep $i" >"sub/deeper/g$i"; done
echo top >top.txt
when 1
git add -A
git commit -q -m many
) || fail "building the repository"
new_store "$S"
expect 0 "$AMBER" ingest "$S" --repo p="$T/src"
expect 0 "$AMBER" restore "$S" latest:repos/p/branches/main "$T/r1"
archive_tree "$T/src" main "$T/a1"
diff -r "$T/a1" "$T/r1/main" >&2 || fail "restored tree differs from git's"

# A damaged object in the local mirror cache, in the middle of many/: a
# fresh index whose cache is a copy of the source's loose objects, one of
# them damaged.  The mirror's refs are those of the last snapshot, whose
# packs are reused, so only the browsable trees read objects.
D=$T/index
mkdir -p "$D/git"
cp -a "$T/src/.git" "$D/git/p" || fail "copying the cache"
oid=$(git -C "$T/src" rev-parse HEAD:many/f150)
f=$D/git/p/objects/$(echo "$oid" | cut -c1-2)/$(echo "$oid" | cut -c3-)
[ -f "$f" ] || fail "f150 is not a loose object"
chmod u+w "$f" && printf 'garbage, not zlib' >"$f" || fail "corrupting"
expect 3 "$AMBER" ingest "$S" --index-dir "$D" --repo p="$T/src"
err_has "$oid"
err_has "many/f150"
expect 0 "$AMBER" restore "$S" --index-dir "$D" latest:repos/p/branches/main "$T/r2"
[ ! -e "$T/r2/main/many/f150" ] || fail "the damaged file was stored"
[ -f "$T/r2/main/many/f151" ] || fail "the file after the damaged one is missing"
rm "$T/a1/many/f150"
diff -r "$T/a1" "$T/r2/main" >&2 || fail "files around the damaged one differ"

# The same in a pack: git fails reading the object (cat-file may die
# with answers pending), and the files after it are still right.
D=$T/index2
mkdir -p "$D/git"
cp -a "$T/src/.git" "$D/git/p" || fail "copying the cache"
git --git-dir="$D/git/p" repack -q -a -d || fail "repack"
git --git-dir="$D/git/p" prune-packed
idx=$(ls "$D/git/p/objects/pack/"*.idx)
off=$(git show-index <"$idx" | awk -v o="$oid" '$2 == o { print $1 }')
[ -n "$off" ] || fail "f150 not in the pack"
chmod u+w "${idx%.idx}.pack" || fail "chmod"
printf 'XXXXXXXX' | dd of="${idx%.idx}.pack" bs=1 seek=$((off + 4)) \
    conv=notrunc 2>/dev/null || fail "dd"
expect 3 "$AMBER" ingest "$S" --index-dir "$D" --repo p="$T/src"
err_has "$oid"
err_has "many/f150"
expect 0 "$AMBER" restore "$S" --index-dir "$D" latest:repos/p/branches/main "$T/r3"
[ ! -e "$T/r3/main/many/f150" ] || fail "the damaged packed file was stored"
diff -r "$T/a1" "$T/r3/main" >&2 || fail "files around the damaged packed one differ"
exit 0
