#!/bin/sh
# Issue 14, item 8: the mount never runs a writer's program.  A host
# holding only an ingest key (W1) commits, with its own writer
# (rogue_tree.c), a snapshot holding
#  - repos/evil.git: a bare repository with the "owned by whoever looks"
#    flag, whose config sets core.pager and core.fsmonitor to a script
#    and which has a pre-push hook;
#  - files/proj: a work tree stored with the victim's uid, whose
#    .git/config sets core.fsmonitor and core.pager;
#  - files/flagged: a root-owned work tree that carries the flag itself,
#    as does its .git.
# The victim (nobody) runs git through an allow_other mount, as a shell
# prompt would: the script must never run.  The mirror must still work.
. "$AMBER_TOP/tests/mount/lib.sh"
. "$AMBER_TOP/tests/attack/rogue.inc"

[ "$(id -u)" -eq 0 ] || skip "needs root to act as another user"
for c in git setpriv script cc pkg-config; do
	command -v $c >/dev/null 2>&1 || skip "no $c"
done
id -u nobody >/dev/null 2>&1 || skip "no user nobody"
U=$(id -u nobody)
G=$(id -g nobody)
rogue_build
chmod 0711 "$T"
mkdir -m 1777 marks vhome
victim() {
	setpriv --reuid="$U" --regid="$G" --clear-groups \
	    env -i PATH="$PATH" HOME="$T/vhome" TERM=xterm "$@"
}
# The attacker's program: it leaves a mark when anything runs it.
cat >evil.sh <<EOS
#!/bin/sh
echo "ran: \$*" >>"$T/marks/ran"
cat
EOS
chmod 0755 evil.sh
payload() { printf '[core]\n\tpager = %s pager %s\n' "$T/evil.sh" "$1"
	printf '\tfsmonitor = %s fsmonitor %s\n' "$T/evil.sh" "$1"
	printf '\thooksPath = hooks\n'; }
gitc() { git -c user.name=w -c user.email=w@x -c init.defaultBranch=main \
    "$@"; }

note "the attacker's trees, on its own disk"
mkdir w
gitc init -q w/proj && echo hi >w/proj/a && gitc -C w/proj add a &&
    gitc -C w/proj commit -qm one || fail "git commit"
gitc clone -q --bare w/proj w/evil.git || fail "git clone --bare"
cp -a w/proj w/flagged
payload proj >>w/proj/.git/config
payload flagged >>w/flagged/.git/config
payload mirror >>w/evil.git/config
mkdir -p w/evil.git/hooks
printf '#!/bin/sh\necho "ran: pre-push" >>"%s/marks/ran"\n' "$T" \
    >w/evil.git/hooks/pre-push
chmod 0755 w/evil.git/hooks/pre-push
chown -R "$U:$G" w/proj

note "the payload is live on a plain disk"
victim git -C "$T/w/proj" status >/dev/null 2>&1
grep -q fsmonitor marks/ran || fail "the fsmonitor payload does not run"
script -qec "git -C '$T/w/evil.git' log" /dev/null >/dev/null 2>&1
grep -q "pager mirror" marks/ran || fail "the pager payload does not run"
victim script -qec "git -C '$T/w/proj' log" /dev/null >/dev/null 2>&1
grep -q "pager proj" marks/ran ||
    fail "the pager payload does not run for the victim (no pty?)"
rm -f marks/ran

note "W1 commits the rogue snapshot with an ingest key"
mk_store S
"$AMBER" key new-ingest S --label rogue --output "$T/ikey" >/dev/null 2>&1 ||
    fail "key new-ingest"
env -u AMBER_PASSPHRASE "$T/rogue_tree" S "$T/ikey" \
    "repos/evil.git=$T/w/evil.git" flag:repos/evil.git \
    "files/proj=$T/w/proj" \
    "files/flagged=$T/w/flagged" flag:files/flagged \
    flag:files/flagged/.git >rogue.out || fail "rogue_tree"
SNAP=$("$AMBER" snapshots S | tail -n 1 | awk '{print $1}')
[ -n "$SNAP" ] || fail "no snapshot"
victim git init -q --bare "$T/vhome/dst.git" || fail "git init dst"

mount_fg S m -o allow_other
R="$T/m/snapshots/$SNAP"

note "the victim runs git in the mount"
victim script -qec "git -C '$R/repos/evil.git' log" /dev/null \
    >/dev/null 2>&1
victim script -qec "git -C '$R/repos/evil.git' log -1" /dev/null \
    >/dev/null 2>&1
victim git -C "$R/repos/evil.git" push -q "$T/vhome/dst.git" \
    HEAD:refs/heads/copy >/dev/null 2>&1
victim git -C "$R/files/proj" status >/dev/null 2>&1
victim script -qec "git -C '$R/files/proj' log" /dev/null >/dev/null 2>&1
victim git -C "$R/files/flagged" status >/dev/null 2>&1
victim script -qec "git -C '$R/files/flagged' log" /dev/null \
    >/dev/null 2>&1
if [ -e marks/ran ]; then
	cat marks/ran >&2
	fail "git in the mount ran the writer's program"
fi

note "the mirror still serves git, owned by whoever looks"
want=$(git -C w/evil.git rev-parse HEAD)
got=$(victim git -C "$R/repos/evil.git" rev-parse HEAD) ||
    fail "git cannot read the mirror"
[ "$got" = "$want" ] || fail "mirror HEAD $got, want $want"
[ "$(victim stat -c %u "$R/repos/evil.git")" = "$U" ] ||
    fail "the mirror is not the viewer's"
[ "$(stat -c %u "$R/repos/evil.git")" = 0 ] ||
    fail "the mirror is not root's for root"
victim git -C "$T/vhome/dst.git" rev-parse copy >/dev/null 2>&1 ||
    fail "push from the mirror failed"
note "the flag is not honoured elsewhere; stored owners stay"
[ "$(victim stat -c %u "$R/files/flagged/.git")" = 0 ] ||
    fail "files/flagged/.git shows the viewer's uid"
[ "$(victim stat -c %u "$R/files/proj/.git")" = "$U" ] ||
    fail "files/proj/.git lost its stored uid"
note "the config git reads is amberfs's; amber cat gives the stored one"
for c in "$R/repos/evil.git/config" "$R/files/proj/.git/config"; do
	grep -q evil.sh "$c" && fail "$c: the writer's config is served"
	grep -q 'hooksPath = /dev/null' "$c" || fail "$c: hooks not off"
done
"$AMBER" cat S "$SNAP:files/proj/.git/config" | grep -q evil.sh ||
    fail "amber cat does not give the stored config"
unmount "$T/m" "$FSPID"
echo ok
