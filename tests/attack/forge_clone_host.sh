#!/bin/sh
# forge_clone_host.sh: a hostile forge lists clone URLs that point away
# from itself: file:// to a repository on the ingest host, http:// to
# another host name, and a URL whose "host" before an '@' is the forge's
# but whose real host is another one.  None is cloned: each is refused
# with a warning naming the repository and the URL, the rest of the run
# goes on, and the exit status is 3.  Nor does git follow the forge's
# own host when it redirects a listed repository (grp/jump) elsewhere.
# --allow-clone-host HOST (or
# allow-clone-host=HOST on the line) lets a host through.  The forge is
# tests/forge/org_server.py on 127.0.0.1; "localhost" is the other host.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/org_common.inc"
S=$T/store

org_repo grp/good 2
org_repo grp/far 1
org_repo org/fine 1
# What the attacker wants copied into the backup: a repository that only
# the ingest host can read.
mkdir -p "$T/private"
git init -q --bare -b main "$T/private/secret.git"
printf 'commit refs/heads/main\ncommitter t <t@example.org> 1700000000 +0000\ndata 1\nx\nM 100644 inline SECRET\ndata 16\nprivate-content\n\n' |
    git -C "$T/private/secret.git" fast-import --quiet || fail "fast-import"
org_start
PORT=${URL##*:}
org_forge "{\"projects\":[{\"path\":\"grp/good\"},
    {\"path\":\"grp/local\",\"clone_url\":\"file://$T/private/secret.git\"},
    {\"path\":\"grp/other\",\"clone_url\":\"http://localhost:$PORT/git/grp/far.git\"},
    {\"path\":\"grp/trick\",\"clone_url\":\"http://127.0.0.1:$PORT@localhost:$PORT/git/grp/far.git\"},
    {\"path\":\"grp/jump\"},
    {\"path\":\"org/fine\"},
    {\"path\":\"org/evil\",\"clone_url\":\"file://$T/private/secret.git\"}],
    \"redirect\":{\"grp/jump\":\"http://localhost:$PORT/git/grp/far.git\"}}"
export AMBER_GITHUB_API=$URL
cat >"$T/sources" <<E
gitlab-group $URL/grp pipelines=no wiki=no
github-org org pipelines=no wiki=no
E

new_store "$S"
# A host is a host: no userinfo, path or scheme slips in through it.
expect 2 "$AMBER" ingest "$S" --sources "$T/sources" \
    --allow-clone-host "x@localhost"
expect 2 "$AMBER" ingest "$S" --sources "$T/sources" \
    --allow-clone-host "file:///"
expect 3 "$AMBER" ingest "$S" --sources "$T/sources" --json
for w in "repos/grp.local: file://$T/private/secret.git: the clone URL is refused" \
    "repos/grp.other: http://localhost:$PORT/git/grp/far.git: the clone URL is refused" \
    "repos/grp.trick: http://localhost:$PORT/git/grp/far.git: the clone URL is refused" \
    "repos/org.evil: file://$T/private/secret.git: the clone URL is refused"; do
	err_has "$w"
done
err_has "--allow-clone-host"
"$AMBER" ls "$S" latest:repos >"$T/repos" || fail "ls repos"
printf 'grp.good\ngrp.good.git\norg.fine\norg.fine.git\n' >"$T/want"
cmp -s "$T/repos" "$T/want" ||
    { diff "$T/want" "$T/repos" >&2; fail "refused URLs were cloned"; }
python3 - "$T/out" <<'P' || fail "the JSON summary"
import json, sys
s = json.load(open(sys.argv[1]))
st = {x["source"]: x["status"] for x in s["sources"]}
for r in ("repos/grp.local", "repos/grp.other", "repos/grp.trick",
          "repos/org.evil", "repos/grp.jump"):
    assert st[r] == "failed", (r, st)
assert st["repos/grp.good"] == "ok" and st["repos/org.fine"] == "ok", st
assert s["vanished"] == [], s
P
grep -rq private-content "$XDG_CACHE_HOME" &&
    fail "the private repository reached the local mirror cache"
# Nothing of the attacker's choosing ran: no request for a path the
# listing did not name as the forge's own.
grep -q 'GET /git/grp/far.git' "$T/req.log" &&
    fail "git fetched from the other host"

# The user may allow a host, on the command line or on the line.
sleep 1
expect 3 "$AMBER" ingest "$S" --sources "$T/sources" --allow-clone-host localhost
"$AMBER" ls "$S" latest:repos >"$T/repos" || fail "ls repos"
grep -qx grp.other "$T/repos" || fail "--allow-clone-host: not cloned"
grep -qx grp.trick "$T/repos" || fail "--allow-clone-host: trick not cloned"
grep -q grp.local "$T/repos" && fail "--allow-clone-host let file: through"
grep -q org.evil "$T/repos" && fail "--allow-clone-host let file: through"
sed -i 's|^gitlab-group .*|& allow-clone-host=LOCALHOST|' "$T/sources"
expect 0 "$AMBER" ingest "$S" --sources "$T/sources" --check
sleep 1
expect 3 "$AMBER" ingest "$S" --sources "$T/sources"
"$AMBER" ls "$S" latest:repos >"$T/repos" || fail "ls repos"
grep -qx grp.other "$T/repos" || fail "allow-clone-host=: not cloned"
err_has "repos/org.evil"
exit 0
