#!/bin/sh
# forge_token.sh: git URLs that carry credentials (https://TOKEN@host/...,
# https://user:password@host/...), from a forge's listing, a sources
# file and --repo.  The repositories are fetched with those credentials
# (the fixture forge demands them), yet the tokens appear in no manifest
# (amber snapshots, --json), in no output (the summaries, a warning about
# a repository that cannot be fetched), in nothing stored, in the local
# cache, and never on git's command line (a git first on PATH logs its
# argv, which is what ps shows).
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/org_common.inc"
S=$T/store

REAL_GIT=$(command -v git) || exit 77
mkdir -p "$T/bin"
cat >"$T/bin/git" <<E
#!/bin/sh
printf '%s\n' "\$*" >>"$T/git-argv.log"
exec "$REAL_GIT" "\$@"
E
chmod +x "$T/bin/git"

org_repo grp/a 2
org_repo grp/b 2
org_repo grp/c 2
org_start
HP=${URL#http://}
org_forge "{\"projects\":[
    {\"path\":\"grp/a\",\"clone_url\":\"http://tokA-1f3e9c@$HP/git/grp/a.git\"},
    {\"path\":\"grp/b\"},{\"path\":\"grp/c\"}],
    \"git_auth\":{\"grp/a\":\"tokA-1f3e9c:\",\"grp/b\":\"userB:tokB-77a0d2\",
    \"grp/c\":\"tokC-5b18e4:\",\"grp/missing\":\"x:tokD-c0ffee\"}}"
cat >"$T/sources" <<E
gitlab-group $URL/grp include=a pipelines=no wiki=no
repo b http://userB:tokB-77a0d2@$HP/git/grp/b.git
repo d http://x:tokD-c0ffee@$HP/git/grp/missing.git
E
TOKENS="tokA-1f3e9c tokB-77a0d2 tokC-5b18e4 tokD-c0ffee"

# no_token FILE WHAT: FILE holds none of the tokens.
no_token() {
	for t in $TOKENS; do
		grep -q -- "$t" "$1" && { grep -- "$t" "$1" | head -3 >&2;
		    fail "$2 shows the token $t"; }
	done
	return 0
}

new_store "$S"
export PATH="$T/bin:$PATH"
# Twice: a clone, then a fetch into the existing mirror cache.
for run in 1 2; do
	expect 3 "$AMBER" ingest "$S" --sources "$T/sources" --json
	cat "$T/out" "$T/err" >"$T/output.$run"
	no_token "$T/output.$run" "ingest --sources (run $run)"
	grep -q "repos/d" "$T/err" || fail "no warning about repos/d"
	sleep 1
	expect 0 "$AMBER" ingest "$S" \
	    --repo "c=http://tokC-5b18e4@$HP/git/grp/c.git"
	cat "$T/out" "$T/err" >>"$T/output.$run"
	no_token "$T/output.$run" "ingest --repo (run $run)"
	sleep 1
done
# The credentials did reach the forge, and were right.
grep -q 'GET /git/grp/a.git/info/refs.* auth=ok' "$T/req.log" ||
    { cat "$T/req.log" >&2; fail "grp/a: no authenticated request"; }
SNAPS=$("$AMBER" snapshots "$S" --json | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["id"][:16])') || fail "snapshots --json"
# Each repository was fetched, with the credentials it needed.
for r in grp.a b c; do
	ok=
	for s in $SNAPS; do
		"$AMBER" cat "$S" "$s:repos/$r/branches/main/f2" \
		    >/dev/null 2>&1 && ok=1
	done
	[ -n "$ok" ] || fail "repos/$r was not stored"
done
expect 0 "$AMBER" snapshots "$S" --json
no_token "$T/out" "amber snapshots --json"
grep -q "\"origin\": *\"http://$HP/git/grp/b.git\"" "$T/out" ||
    { cat "$T/out" >&2; fail "the origin of repos/b is not the bare URL"; }
expect 0 "$AMBER" snapshots "$S"
no_token "$T/out" "amber snapshots"
for r in grp.a b c; do
	for s in $SNAPS; do
		"$AMBER" cat "$S" "$s:repos/$r.git/config" >>"$T/stored" 2>/dev/null
		"$AMBER" ls -R "$S" "$s:repos/$r" >>"$T/stored" 2>/dev/null
	done
done
[ -s "$T/stored" ] || fail "nothing stored to look at"
no_token "$T/stored" "what is stored"
grep -rl -e tokA-1f3e9c -e tokB-77a0d2 -e tokC-5b18e4 -e tokD-c0ffee \
    "$XDG_CACHE_HOME" >"$T/cached" && { cat "$T/cached" >&2;
    fail "the local cache holds a token"; }
[ -s "$T/git-argv.log" ] || fail "the git wrapper logged nothing"
no_token "$T/git-argv.log" "git's command line"
exit 0
