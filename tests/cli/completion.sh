#!/bin/sh
# The bash completion (tools/completion/amber.bash), sourced in bash and
# called as bash calls it (COMP_WORDS split where bash splits, at ':' and
# '='): commands, subcommands, each command's options, directories for
# stores, and snapshot ids from `amber snapshots --cached-ids`, which
# needs no passphrase, prompts for nothing and creates nothing.
. "$(dirname "$0")/lib.sh"
TOP=${AMBER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v bash >/dev/null || { echo "no bash"; exit 77; }

S=$T/store
new_store "$S"
mkdir -p "$T/src/sub" "$T/stuff"
echo hello >"$T/src/a"
: >"$T/storefile"

# --cached-ids: nothing before this machine has an index of the store,
# and it makes none.
expect 0 "$AMBER" snapshots "$S" --cached-ids
[ ! -s "$T/out" ] || fail "ids printed before any index exists"
[ ! -e "$T/cache" ] || fail "--cached-ids created the cache directory"
expect 0 "$AMBER" ingest "$S" --dir src="$T/src" -q
expect 0 "$AMBER" ingest "$S" --dir src="$T/src" --tag two -q
expect 0 "$AMBER" snapshots "$S" --json
ids=$(sed -n 's/.*"id": "\([0-9a-f]\{12\}\).*/\1/p' "$T/out" | sort)
[ "$(echo "$ids" | wc -l)" -eq 2 ] || fail "two snapshots expected: $ids"

# No passphrase, no terminal (stdin is /dev/null): the ids, short.
( unset AMBER_PASSPHRASE; expect 0 "$AMBER" snapshots "$S" --cached-ids ) ||
    exit 1
[ "$(sort "$T/out")" = "$ids" ] ||
    fail "--cached-ids printed $(cat "$T/out"), not $ids"
expect 0 "$AMBER" snapshots "$S" --cached-ids --index-dir "$T/none"
[ ! -s "$T/out" ] || fail "ids printed from an index that does not exist"
[ ! -e "$T/none" ] || fail "--cached-ids created the index directory"
expect 2 "$AMBER" snapshots s3://bucket/prefix --cached-ids
err_has "reads only local stores"
expect 1 "$AMBER" snapshots "$T/stuff" --cached-ids
expect 0 "$AMBER" help
cmds=$(sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p' "$T/out" | sort | tr '\n' ' ')

cat >"$T/t.bash" <<'EOF'
set -u
. "$TOP/tools/completion/amber.bash"
complete -p amber >/dev/null || { echo "FAIL: no complete -F for amber"; exit 1; }
n=0
# c WANT WORD...: complete the last WORD of "amber WORD..." and compare
# the sorted candidates, one line each, with WANT ("" for none).
c() {
	local want=$1 got
	shift
	COMP_WORDS=("$AMBER" "$@")
	COMP_CWORD=$#
	COMP_LINE="$AMBER $*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_amber
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort)
	want=$(printf '%s' "$want" | tr ' ' '\n' | sed '/^$/d' | sort)
	n=$((n + 1))
	if [ "$got" != "$want" ]; then
		echo "FAIL: amber $*<TAB>: got [$(echo $got)], want [$(echo $want)]"
		exit 1
	fi
}
# has WORD...: the candidates of "amber WORD..." include every one of
# the words in $HAS.
has() {
	local w
	COMP_WORDS=("$AMBER" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_amber
	for w in $HAS; do
		printf '%s\n' "${COMPREPLY[@]}" | grep -qx -- "$w" ||
		    { echo "FAIL: amber $*<TAB> lacks $w: ${COMPREPLY[*]}"; exit 1; }
	done
	n=$((n + 1))
}

c "$CMDS help" ''
c "snapshots" sn
c "--help --version" -
c "init ingest index" help i
c "add new-ingest list revoke" key ''
c "rebuild" index r
c "--long" ls --l
c "--recursive" ls --rec
c "--read-data" verify --r
c "--cached-ids" snapshots --ca
c "--overwrite" restore "$T/store" latest "$T/x" --ov
c "--new-passphrase-file" key add --new
HAS="--json --max-age --index-dir --passphrase-file --key-file --help" \
    has snapshots --
HAS="-l -R -b -h -q --long --escape" has ls "$T/store" -
HAS="--dir --repo --pipeline --sources --tag --time --exclude --one-file-system" \
    has ingest "$T/store" --

# Stores, targets and mount points are directories; s3:// is left alone.
c "$T/store $T/stuff" init "$T/st"
c "$T/store $T/stuff" key list "$T/st"
c "$T/store $T/stuff" index sync "$T/st"
c "" snapshots s3 : //bucket/st
c "$T/src $T/store $T/stuff" restore "$T/store" latest "$T/s"
c "$T/src $T/store $T/stuff" mount "$T/store" "$T/s"
# Option arguments: files, directories, NAME=PATH after the '='.
c "$T/storefile" ingest "$T/store" --sources "$T/storef"
c "$T/src/sub" ingest "$T/store" --dir src = "$T/src/s"
c "" ingest "$T/store" --dir sr
c "$T/src/sub" ingest "$T/store" --index-dir "$T/src/s"
c "$T/src/sub" ingest "$T/store" --index-dir = "$T/src/s"
c "" ingest "$T/store" --time 20

# Snapshots: latest and the ids the index holds; --expect takes ids.
c "latest $IDS" ls "$T/store" ''
c "latest $IDS" ls -l --json "$T/store" ''
c "latest" cat "$T/store" l
c "latest $IDS" restore "$T/store" ''
c "$IDS" verify "$T/store" --expect ''
first=${IDS%% *}
c "$first" verify "$T/store" --expect "${first%??????}"
c "" key revoke "$T/store" ''
# The PATH inside a snapshot is sealed: nothing.
c "" ls "$T/store" latest : fi
c "" cat "$T/store" latest :
# Another index (none there), another store (no index), s3://: nothing.
c "" ls --index-dir "$T/none" "$T/store" ''
c "" ls "$T/stuff" ''
c "" ls s3 : //bucket/prefix ''
# Not a command, or past the last argument: nothing.
c "" frobnicate ''
c "" snapshots "$T/store" extra
echo "$n completions checked"
EOF
T=$T TOP=$TOP AMBER=$AMBER CMDS=$cmds IDS=$(echo $ids) \
    bash --norc --noprofile "$T/t.bash" >"$T/bash.out" 2>&1
rc=$?
cat "$T/bash.out"
[ $rc -eq 0 ] || fail "completion checks failed"
grep -q "completions checked" "$T/bash.out" || fail "the checks did not run"
[ ! -e "$T/none" ] || fail "completion created an index directory"
exit 0
