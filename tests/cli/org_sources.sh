#!/bin/sh
# org_sources.sh: sources files are checked strictly before anything is
# written: every file of the fuzz corpus named valid-* passes --check and
# every bad-* one fails with exit 2 and "FILE: line N: ..."; a bad file
# leaves the store without a snapshot; usage mistakes are exit 2.
. "$AMBER_TOP/tests/cli/lib.sh"
S=$T/store
C=$AMBER_TOP/tests/fuzz/corpus/sources
n=0
for f in "$C"/*; do
	case ${f##*/} in
	valid-*) expect 0 "$AMBER" ingest "$S" --sources "$f" --check ;;
	bad-*)
		expect 2 "$AMBER" ingest "$S" --sources "$f" --check
		grep -q "^amber ingest: $f: line [0-9][0-9]*: " "$T/err" ||
		    { cat "$T/err" >&2; fail "no line number for $f"; }
		;;
	*) fail "corpus file $f is neither valid-* nor bad-*" ;;
	esac
	n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n corpus files"

# Exact messages, with the right line.
printf '# header\n\nrepo a /a\n  repo b /b  wiki=yes\n' >"$T/f1"
expect 2 "$AMBER" ingest "$S" --sources "$T/f1" --check
err_has "$T/f1: line 4: repo does not take wiki="
printf 'gitlab-group https://h.example/g\ngithub-org bad/org/x\n' >"$T/f2"
expect 2 "$AMBER" ingest "$S" --sources "$T/f2" --check
err_has "$T/f2: line 2: github-org bad/org/x: not an organisation name"
printf 'dir a /a\npipeline a /p\ndir a /b\n' >"$T/f3"
expect 2 "$AMBER" ingest "$S" --sources "$T/f3" --check
err_has "$T/f3: line 3: dir a: the name clashes with line 1"

# Nothing is written for a bad file, even with a store there.
new_store "$S"
expect 2 "$AMBER" ingest "$S" --sources "$T/f3"
expect 0 "$AMBER" snapshots "$S"
[ -s "$T/out" ] && fail "a snapshot was written for a bad sources file"

# Usage.
printf 'dir a %s\n' "$T" >"$T/ok"
expect 2 "$AMBER" ingest "$S" --sources "$T/ok" --dir b="$T"
err_has "name every source in the file"
expect 2 "$AMBER" ingest "$S" --sources "$T/ok" --jobs 0
err_has "--jobs 0: a number from 1 to 64"
expect 2 "$AMBER" ingest "$S" --sources "$T/missing"
err_has "--sources $T/missing: No such file or directory"
expect 2 "$AMBER" ingest --sources "$T/ok"
err_has "no STORE given"
expect 0 "$AMBER" ingest "$S" --sources "$T/ok" --help
out_has "--jobs N"

# A good file of plain directories: one snapshot, exit 0.
mkdir -p "$T/d1" "$T/d2/skip"
echo one >"$T/d1/f"
echo two >"$T/d2/f"
echo tmp >"$T/d2/skip/x"
git init -q -b main "$T/repo" &&
    echo hello >"$T/repo/hello" && git -C "$T/repo" add hello &&
    git -C "$T/repo" -c user.name=t -c user.email=t@example.org \
    commit -q -m one || fail "git repository"
mkdir -p "$T/export/runs"
echo '{"id": 1}' >"$T/export/runs/1.json"
printf 'dir one %s\ndir two "%s" exclude=skip\nrepo local %s\n' \
    "$T/d1" "$T/d2" "$T/repo" >"$T/dirs"
printf 'pipeline local %s  # same name, another kind\n' "$T/export" >>"$T/dirs"
expect 0 "$AMBER" ingest "$S" --sources "$T/dirs" --tag nightly
err_has "ok       files/two"
err_has "ok       repos/local"
err_has "ok       pipelines/local"
expect 0 "$AMBER" cat "$S" latest:repos/local/branches/main/hello
out_has hello
expect 0 "$AMBER" cat "$S" latest:pipelines/local/runs/1.json
out_has '"id": 1'
expect 0 "$AMBER" cat "$S" latest:files/two/f
out_has two
expect 1 "$AMBER" ls "$S" latest:files/two/skip
expect 0 "$AMBER" snapshots "$S" --json
out_has '"nightly"'
exit 0
