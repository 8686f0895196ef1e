#!/bin/sh
# Retention policies (amber policy, amber-store(5) POLICIES): set needs
# the passphrase and at least one rule; show prints the newest signed
# policy as text and JSON, with no key; junk and an old policy copied
# under a new name change nothing; snapshots marks kept and expired ones;
# a flood of snapshots by one ingest key pushes out none of the master's.
. "$(dirname "$0")/lib.sh"
new_store_src

expect 0 "$AMBER" policy show "$S"
out_has "no policy: every snapshot is kept"
expect 0 "$AMBER" policy show "$S" --json
[ "$(cat "$T/out")" = null ] || fail "policy show --json without a policy: $(cat "$T/out")"
expect 0 "$AMBER" policy --help
out_has "--keep-within"
expect 2 "$AMBER" policy set "$S"
err_has "at least one --keep option"
expect 2 "$AMBER" policy set "$S" --keep-last 0
expect 2 "$AMBER" policy set "$S" --keep-last -1
expect 2 "$AMBER" policy set "$S" --keep-within forever
expect 2 "$AMBER" policy frob "$S"
[ ! -d "$S/policies" ] || [ -z "$(ls "$S/policies")" ] || fail "a refused set wrote a policy"

# An ingest key cannot set a policy, and a wrong passphrase neither.
expect 0 "$AMBER" key new-ingest "$S" --label flood --output "$T/ing.key"
expect 4 env -u AMBER_PASSPHRASE "$AMBER" policy set "$S" --key-file "$T/ing.key" --keep-last 1
err_has "needs the passphrase"
expect 4 env AMBER_PASSPHRASE=wrong "$AMBER" policy set "$S" --keep-last 1

# Three master snapshots on three days.
for d in 01 02 03; do
	printf 'day %s\n' "$d" >"$D/f$d"
	expect 0 "$AMBER" ingest "$S" --dir "src=$D" --time "2026-01-${d}T12:00:00Z"
done
expect 0 "$AMBER" policy set "$S" --keep-last 2 --keep-daily 1 --keep-within 36h
old=$(cat "$T/out")
case $old in policies/*) ;; *) fail "set printed '$old'" ;; esac
[ -f "$S/$old" ] || fail "$old not stored"
expect 0 "$AMBER" policy show "$S"
out_has "policy $old"
out_has "keep-within 129600s"
out_has "keep-last 2"
out_has "keep-daily 1"
expect 0 "$AMBER" policy show "$S" --json
python3 - "$T/out" "$old" <<'PY' || fail "policy show --json"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["object"] == sys.argv[2], p
assert p["keep_last"] == 2 and p["keep_daily"] == 1, p
assert p["keep_within"] == 129600 and p["keep_hourly"] == 0, p
PY
expect 0 "$AMBER" snapshots "$S"
[ "$(grep -c ' expired$' "$T/out")" = 1 ] || { cat "$T/out"; fail "not one expired"; }
grep '^2026-01-01T12:00:00Z .* expired$' "$T/out" >/dev/null || fail "the oldest is not the expired one"
grep '^2026-01-03T12:00:00Z .* keep:last,within,daily$' "$T/out" >/dev/null ||
    { cat "$T/out"; fail "newest not kept by last,within,daily"; }
grep '^2026-01-02T12:00:00Z .* keep:last,within$' "$T/out" >/dev/null ||
    { cat "$T/out"; fail "second not kept by last,within"; }
expect 0 "$AMBER" snapshots "$S" --json
python3 - "$T/out" <<'PY' || fail "snapshots --json keep fields"
import json, sys
v = json.load(open(sys.argv[1]))
assert [s["keep"] for s in v] == [False, True, True], v
assert v[2]["keep_rules"] == ["last", "within", "daily"], v[2]
assert v[0]["keep_rules"] == [], v[0]
PY

# A newer policy counts; the policy show needs no passphrase.
sleep 1
expect 0 "$AMBER" policy set "$S" --keep-last 3
new=$(cat "$T/out")
expect 0 env -u AMBER_PASSPHRASE "$AMBER" policy show "$S"
out_has "policy $new"
out_has "keep-last 3"
expect 0 "$AMBER" snapshots "$S"
[ "$(grep -c ' keep:last$' "$T/out")" = 3 ] || { cat "$T/out"; fail "keep-last 3 not applied"; }

# W2 replays the old policy under another name and adds junk: the
# newest signed time still counts, and the junk is named and ignored.
cp "$S/$old" "$S/policies/0000000000000000000000000000000000000000000000000000000000000000"
head -c 128 /dev/urandom >"$S/policies/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
expect 0 "$AMBER" policy show "$S"
out_has "policy $new"
out_has "keep-last 3"
err_has "policies/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff: not a policy signed by this store's master"
# A policy of another store, signed by its master, is not this one's.
new_store "$T/other"
expect 0 "$AMBER" policy set "$T/other" --keep-last 1
cp "$T/other/$(cat "$T/out")" "$S/policies/1111111111111111111111111111111111111111111111111111111111111111"
expect 0 "$AMBER" policy show "$S"
out_has "keep-last 3"
err_has "policies/1111111111111111111111111111111111111111111111111111111111111111: not a policy"

# A flood: the ingest key writes 6 snapshots now; keep-last 2 keeps two
# of the flood and still two of the master's.
expect 0 "$AMBER" policy set "$S" --keep-last 2
for i in 1 2 3 4 5 6; do
	printf 'junk %s\n' "$i" >"$D/junk"
	expect 0 env -u AMBER_PASSPHRASE "$AMBER" ingest "$S" --key-file "$T/ing.key" --dir "src=$D"
done
expect 0 "$AMBER" snapshots "$S" --json
python3 - "$T/out" <<'PY' || fail "a flood by one key pushed out the master's snapshots"
import json, sys
v = json.load(open(sys.argv[1]))
master = [s for s in v if s["writer"]["master"]]
flood = [s for s in v if not s["writer"]["master"]]
assert len(master) == 3 and len(flood) == 6, (len(master), len(flood))
assert [s["keep"] for s in master] == [False, True, True], master
assert sum(s["keep"] for s in flood) == 2, flood
assert flood[-1]["keep"] and flood[-2]["keep"], flood
PY
exit 0
