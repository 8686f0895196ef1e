#!/bin/sh
# forge_caps.sh: a forge's answers are capped in memory.  A listing page
# over 16 MiB, and a listing whose pages add up to over 128 MiB, are
# refused: the listing fails with an error naming the cap, its group's
# repositories are not taken from it, and the exit status is 3.  A page
# just under the cap still works.
. "$AMBER_TOP/tests/cli/lib.sh"
. "$AMBER_TOP/tests/cli/org_common.inc"
S=$T/store
MiB=1048576

for i in 1 2 3 4 5 6 7 8 9; do
	org_repo "grp/r$i" 1
done
org_start
projects='{"path":"grp/r1"},{"path":"grp/r2"},{"path":"grp/r3"},
    {"path":"grp/r4"},{"path":"grp/r5"},{"path":"grp/r6"},{"path":"grp/r7"},
    {"path":"grp/r8"},{"path":"grp/r9"}'
mkdir -p "$T/notes"
echo note >"$T/notes/n"
printf 'gitlab-group %s/grp pipelines=no wiki=no\ndir notes %s\n' "$URL" \
    "$T/notes" >"$T/sources"
new_store "$S"

# One page of 17 MiB.
org_forge "{\"per_page\":100,\"pad\":$((17 * MiB)),\"projects\":[$projects]}"
expect 3 "$AMBER" ingest "$S" --sources "$T/sources"
err_has "16 MiB"
expect 1 "$AMBER" ls "$S" latest:repos

# Nine pages of 15 MiB: 135 MiB in all.
org_forge "{\"per_page\":1,\"pad\":$((15 * MiB)),\"projects\":[$projects]}"
sleep 1
expect 3 "$AMBER" ingest "$S" --sources "$T/sources"
err_has "128 MiB"
expect 1 "$AMBER" ls "$S" latest:repos

# A page just under the cap: every repository is taken.
org_forge "{\"per_page\":100,\"pad\":$((15 * MiB)),\"projects\":[$projects]}"
sleep 1
expect 0 "$AMBER" ingest "$S" --sources "$T/sources"
err_has "9 repositories"
exit 0
