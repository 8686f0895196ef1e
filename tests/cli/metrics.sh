#!/bin/sh
# metrics.sh: amber verify --metrics-file writes a Prometheus textfile
# collector file: its samples parsed (the time of the run, its duration,
# the problems and the exit status), replaced atomically (a new file
# renamed over the old one, nothing left beside it, a planted .tmp link
# not followed, mode 0644 whatever the umask), a run that could not check
# still recorded, and a path that cannot be written refused at once with
# a clear error.  With promtool (Debian: prometheus), `promtool check
# metrics` on the file, and `promtool check rules` and `promtool test
# rules` on tools/dist/amber.rules.yml.
. "$AMBER_TOP/tests/cli/lib.sh"
command -v python3 >/dev/null || { echo "python3 is needed"; exit 77; }

S=$T/store
P=$T/prom
F=$P/amber-verify.prom
new_store "$S"
mkdir -p "$T/src" "$P"
printf 'x\n' >"$T/src/f"
expect 0 "$AMBER" ingest "$S" --dir src="$T/src" -q

# check FILE PROBLEMS STATUS BEFORE AFTER: the file's samples, parsed.
# PROBLEMS "-" means the sample must be absent.
check() {
	python3 - "$@" <<'EOF' || fail "metrics file: $(cat "$1")"
import re, sys
path, problems, status, before, after = sys.argv[1:]
samples, types = {}, {}
for line in open(path).read().splitlines():
    if line.startswith("# TYPE "):
        _, _, name, typ = line.split(" ")
        types[name] = typ
        continue
    if line.startswith("#"):
        assert line.startswith("# HELP "), line
        continue
    m = re.fullmatch(r"([a-z_]+) (\S+)", line)
    assert m, line
    assert m.group(1) not in samples, "twice: " + line
    samples[m.group(1)] = float(m.group(2))
want = {"amber_verify_last_run_timestamp_seconds",
        "amber_verify_duration_seconds", "amber_verify_exit_status"}
if problems != "-":
    want.add("amber_verify_problems")
assert set(samples) == want, samples
assert all(types[n] == "gauge" for n in want), types
t = samples["amber_verify_last_run_timestamp_seconds"]
assert int(before) <= t <= int(after) + 1, (before, t, after)
d = samples["amber_verify_duration_seconds"]
assert 0 <= d <= int(after) - int(before) + 1, d
assert samples["amber_verify_exit_status"] == int(status), samples
if problems != "-":
    assert samples["amber_verify_problems"] == int(problems), samples
EOF
}

t0=$(date +%s)
expect 0 "$AMBER" verify "$S" --metrics-file "$F"
t1=$(date +%s)
check "$F" 0 0 "$t0" "$t1"
[ "$(stat -c %a "$F")" = 644 ] || fail "mode $(stat -c %a "$F")"
ino=$(stat -c %i "$F")

# Damage (an expected head that is missing): 1 problem, exit 5.  The file
# is a new one renamed into place, and no .tmp is left.  A symbolic link
# planted at F.tmp is removed, not written through; the umask does not
# make the file unreadable to the collector.
printf 'victim\n' >"$T/victim"
ln -s "$T/victim" "$F.tmp"
t0=$(date +%s)
(umask 077 && exec "$AMBER" verify "$S" --metrics-file "$F" \
    --expect 0123456789abcdef) </dev/null >"$T/out" 2>"$T/err"
rc=$?
t1=$(date +%s)
[ $rc -eq 5 ] || fail "damage: exit $rc, $(cat "$T/err")"
check "$F" 1 5 "$t0" "$t1"
[ "$(stat -c %i "$F")" != "$ino" ] || fail "the file was rewritten in place"
[ "$(cat "$T/victim")" = victim ] || fail "written through the .tmp link"
[ ! -e "$F.tmp" ] && [ ! -L "$F.tmp" ] || fail "$F.tmp left behind"
[ "$(stat -c %a "$F")" = 644 ] || fail "umask 077: mode $(stat -c %a "$F")"
[ "$(ls "$P")" = amber-verify.prom ] || fail "other files in $P: $(ls "$P")"

# A reader never sees part of a file: read it while runs replace it.
i=0
while [ $i -lt 15 ]; do
	"$AMBER" verify "$S" -q --metrics-file "$F" </dev/null >/dev/null 2>&1
	i=$((i + 1))
done &
writer=$!
python3 - "$F" "$writer" <<'EOF' || fail "a reader saw a partial file"
import os, sys
path, pid = sys.argv[1], int(sys.argv[2])
n = 0
while True:
    alive = os.path.exists("/proc/%d" % pid)
    text = open(path).read()
    assert text.endswith("\n") and "amber_verify_exit_status " in text, text
    n += 1
    if not alive:
        break
print(n, "reads")
EOF
wait $writer

# A run that could not check (wrong passphrase): recorded with its exit
# status, without a problem count.
t0=$(date +%s)
AMBER_PASSPHRASE=wrong expect 4 "$AMBER" verify "$S" --metrics-file "$F"
t1=$(date +%s)
check "$F" - 4 "$t0" "$t1"

# Paths that cannot be written: refused before the check, exit 2, the
# old file left as it was.
cp "$F" "$T/before"
expect 2 "$AMBER" verify "$S" --metrics-file "$T/no/such/dir/x.prom"
err_has "--metrics-file $T/no/such/dir/x.prom: cannot write there: No such file or directory"
expect 2 "$AMBER" verify "$S" --metrics-file "$P"
err_has "cannot write there: Is a directory"
expect 2 "$AMBER" verify "$S" --metrics-file "$T/src/f/x.prom"
err_has "cannot write there: Not a directory"
expect 2 "$AMBER" verify "$S" --metrics-file ""
err_has "--metrics-file : cannot write there"
cmp -s "$F" "$T/before" || fail "a refused run changed the file"
expect 0 "$AMBER" verify --help
out_has "--metrics-file F"

if ! command -v promtool >/dev/null 2>&1; then
	# CI installs it (.ci/run); elsewhere it is optional.
	[ "${CI:-}" = true ] && fail "no promtool in CI (Debian: prometheus)"
	echo "ok (promtool checks skipped: no promtool; Debian: prometheus)"
	exit 0
fi
expect 5 "$AMBER" verify "$S" --metrics-file "$F" --expect 0123456789abcdef
promtool check metrics <"$F" >"$T/pt" 2>&1 ||
    { cat "$T/pt" "$F" >&2; fail "promtool check metrics"; }
[ ! -s "$T/pt" ] || { cat "$T/pt" >&2; fail "promtool check metrics: lint"; }
promtool check rules "$AMBER_TOP/tools/dist/amber.rules.yml" >"$T/pt" 2>&1 ||
    { cat "$T/pt" >&2; fail "promtool check rules"; }
grep -q "SUCCESS: 3 rules found" "$T/pt" || { cat "$T/pt"; fail "3 rules"; }
promtool test rules "$AMBER_TOP/tests/cli/metrics_rules.test.yml" \
    >"$T/pt" 2>&1 || { cat "$T/pt" >&2; fail "promtool test rules"; }
# The rules use the names amber(1) documents under METRICS.
for n in $(grep -o 'amber_[a-z_]*' "$AMBER_TOP/tools/dist/amber.rules.yml" |
    sort -u); do
	grep -q "^\.It Va $n\( \|\$\)" "$AMBER_TOP/man/amber.1" ||
	    fail "amber.1 METRICS lacks $n"
done
echo ok
