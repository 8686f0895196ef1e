#!/bin/sh
# ingest_metrics.sh: amber ingest --metrics-file writes a Prometheus
# textfile collector file after every run, with the names of amber(1),
# METRICS: a successful run (its time, duration, bytes, files, warnings,
# exit status, each source fresh); a source that cannot be read counted
# 1, then 2, then back to 0 once read (with a passphrase it is carried
# forward, stale; with an ingest key it fails, left out, and counts the
# same); a run that commits nothing (wrong passphrase, no store) keeping
# the last success time and the per-source counts, from the old file or,
# when that is gone, the local cache; a damaged or planted old file read
# within bounds; a path that cannot be written is named before the run,
# which still makes its snapshot, and ends with exit 1.
# With promtool: `promtool check metrics` on each kind of file, and
# `promtool test rules` with the series names and labels taken from the
# files ingest wrote: the stale-for-two-runs and no-snapshot-for-26-h
# alerts fire on them.
. "$AMBER_TOP/tests/cli/lib.sh"
command -v python3 >/dev/null || { echo "python3 is needed"; exit 77; }

S=$T/store
P=$T/prom
F=$P/amber-ingest.prom
new_store "$S"
mkdir -p "$T/a" "$T/b" "$P"
printf 'hello\n' >"$T/a/f"
printf 'abc\n' >"$T/b/g"

# check FILE STATUS BEFORE AFTER SUCCESS_LO SUCCESS_HI [SOURCE=RUNS,FAILED
# ...]: the file's samples, parsed: every ingest gauge once, the exit
# status, the run's duration within the run, the last success within
# [SUCCESS_LO, SUCCESS_HI] ("-": absent), and exactly these sources.
# Prints the parsed samples as NAME VALUE lines into $T/samples.
check() {
	python3 - "$@" >"$T/samples" <<'EOF' || fail "metrics file: $(cat "$1")"
import re, sys
path, status, before, after, lo, hi = sys.argv[1:7]
want_src = {}
for a in sys.argv[7:]:
    name, v = a.split("=")
    runs, failed = v.split(",")
    want_src[name] = (int(runs), int(failed))
samples, types, helps = {}, {}, {}
src = {"amber_source_stale_runs": {}, "amber_source_failed": {}}
text = open(path).read()
assert text.endswith("\n"), text
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, name, typ = line.split(" ")
        assert name not in types, "two TYPE lines: " + name
        types[name] = typ
        continue
    if line.startswith("# HELP "):
        helps[line.split(" ")[2]] = 1
        continue
    assert not line.startswith("#"), line
    m = re.fullmatch(r'([a-z_]+)\{source="([A-Za-z0-9._/-]+)"\} (\S+)', line)
    if m:
        assert m.group(2) not in src[m.group(1)], "twice: " + line
        src[m.group(1)][m.group(2)] = float(m.group(3))
        continue
    m = re.fullmatch(r"([a-z_]+) (\S+)", line)
    assert m, line
    assert m.group(1) not in samples, "twice: " + line
    samples[m.group(1)] = float(m.group(2))
want = {"amber_ingest_duration_seconds", "amber_ingest_bytes_read",
        "amber_ingest_bytes_added", "amber_ingest_files",
        "amber_ingest_warnings", "amber_ingest_exit_status"}
if lo != "-":
    want.add("amber_ingest_last_success_timestamp_seconds")
assert set(samples) == want, samples
names = want | {n for n in src if src[n]}
assert all(types[n] == "gauge" and n in helps for n in names), types
assert samples["amber_ingest_exit_status"] == int(status), samples
d = samples["amber_ingest_duration_seconds"]
assert 0 < d <= int(after) - int(before) + 1, d
if lo != "-":
    t = samples["amber_ingest_last_success_timestamp_seconds"]
    assert int(lo) <= t <= int(hi) + 1, (lo, t, hi)
got = {}
for n in set(src["amber_source_stale_runs"]) | set(src["amber_source_failed"]):
    got[n] = (int(src["amber_source_stale_runs"][n]),
              int(src["amber_source_failed"][n]))
assert got == want_src, (got, want_src)
for n, v in sorted(samples.items()):
    print(n, int(v) if v == int(v) else v)
EOF
}

# sample NAME: its value in $T/samples (from the last check).
sample() {
	sed -n "s/^$1 //p" "$T/samples"
}

# run STATUS ENV ARGS...: amber ingest of a and b with the metrics file,
# in the environment changed by env(1) arguments ENV ("" for none);
# $t0 and $t1 around it.
run() {
	_st=$1
	_env=$2
	shift 2
	t0=$(date +%s)
	# shellcheck disable=SC2086 # ENV is words
	expect "$_st" env $_env "$AMBER" ingest "$S" --dir a="$T/a" \
	    --dir b="$T/b" --metrics-file "$F" "$@"
	t1=$(date +%s)
}

# A successful run: every figure, both sources fresh.
run 0 ""
check "$F" 0 "$t0" "$t1" "$t0" "$t1" files/a=0,0 files/b=0,0
[ "$(sample amber_ingest_bytes_read)" = 10 ] ||
    fail "bytes read: $(cat "$T/samples")"
[ "$(sample amber_ingest_files)" -ge 2 ] || fail "files: $(cat "$T/samples")"
[ "$(sample amber_ingest_bytes_added)" -gt 0 ] ||
    fail "bytes added: $(cat "$T/samples")"
[ "$(sample amber_ingest_warnings)" = 0 ] || fail "$(cat "$T/samples")"
[ "$(stat -c %a "$F")" = 644 ] || fail "mode $(stat -c %a "$F")"
cp "$F" "$T/ok.prom"
ok_lo=$t0
ok_hi=$t1

# b cannot be read: carried forward, stale, 1 run; then 2 runs (exit 3).
mv "$T/b" "$T/b-away"
run 3 ""
check "$F" 3 "$t0" "$t1" "$t0" "$t1" files/a=0,0 files/b=1,0
[ "$(sample amber_ingest_warnings)" = 1 ] || fail "$(cat "$T/samples")"
run 3 ""
check "$F" 3 "$t0" "$t1" "$t0" "$t1" files/a=0,0 files/b=2,0
cp "$F" "$T/stale2.prom"
last_lo=$t0
last_hi=$t1

# Runs that commit nothing keep the last success time and the counts:
# a wrong passphrase (exit 4), then no store at all (exit 1).
run 4 AMBER_PASSPHRASE=wrong
check "$F" 4 "$t0" "$t1" "$last_lo" "$last_hi" files/a=0,0 files/b=2,0
[ "$(sample amber_ingest_bytes_read)" = 0 ] || fail "$(cat "$T/samples")"
t0=$(date +%s)
expect 1 "$AMBER" ingest "$T/no-store" --dir a="$T/a" --metrics-file "$F"
t1=$(date +%s)
check "$F" 1 "$t0" "$t1" "$last_lo" "$last_hi" files/a=0,0 files/b=2,0
cp "$F" "$T/failed.prom"
# The old file gone, a failed run that opened the store takes the last
# success from the local cache (only c, which is not there: nothing to
# commit); without file nor store, there is no last success to write.
rm -f "$F"
t0=$(date +%s)
expect 1 "$AMBER" ingest "$S" --dir c="$T/c" --metrics-file "$F"
t1=$(date +%s)
check "$F" 1 "$t0" "$t1" "$last_lo" "$last_hi"
rm -f "$F"
t0=$(date +%s)
expect 1 "$AMBER" ingest "$T/no-store" --dir a="$T/a" --metrics-file "$F"
t1=$(date +%s)
check "$F" 1 "$t0" "$t1" - -
cp "$T/failed.prom" "$F"

# The next committed run counts on: 3; then b is back: 0.
run 3 ""
check "$F" 3 "$t0" "$t1" "$t0" "$t1" files/a=0,0 files/b=3,0
mv "$T/b-away" "$T/b"
run 0 ""
check "$F" 0 "$t0" "$t1" "$t0" "$t1" files/a=0,0 files/b=0,0

# An ingest key carries nothing forward: b fails, left out, and counts
# the same (1, 2; failed 1), which is what the systemd unit runs with.
"$AMBER" key new-ingest "$S" --label m --output "$T/key" >/dev/null 2>&1 ||
    fail "key new-ingest"
mv "$T/b" "$T/b-away"
run 3 "-u AMBER_PASSPHRASE" --key-file "$T/key"
check "$F" 3 "$t0" "$t1" "$t0" "$t1" files/a=0,0 files/b=1,1
run 3 "-u AMBER_PASSPHRASE" --key-file "$T/key"
check "$F" 3 "$t0" "$t1" "$t0" "$t1" files/a=0,0 files/b=2,1
mv "$T/b-away" "$T/b"

# A damaged or planted old file, read back by a failed run: only well
# formed samples of ours are kept (the first of a series given twice, no
# odd label or value, no line longer than 1 KiB), and the file written is
# valid.
{
	printf '# HELP x y\n# TYPE amber_source_stale_runs counter\n'
	printf 'amber_ingest_last_success_timestamp_seconds 1700000000\n'
	printf 'amber_ingest_last_success_timestamp_seconds NaN\n'
	printf 'amber_ingest_last_success_timestamp_seconds 1e300\n'
	printf 'amber_source_stale_runs{source="files/x"} 5\n'
	printf 'amber_source_stale_runs{source="files/x"} 6\n'
	printf 'amber_source_failed{source="files/x"} 1\n'
	printf 'amber_source_stale_runs{source="a b\\"c"} 1\n'
	printf 'amber_source_stale_runs{source="files/y"} -1\n'
	printf 'amber_source_stale_runs{source="files/y"} 2.5\n'
	printf 'amber_source_stale_runs{source="files/y"} 1e12\n'
	printf 'amber_source_failed{source="files/y"} 2\n'
	printf 'amber_source_stale_runs{other="files/z"} 1\n'
	printf 'amber_source_stale_runs{source="files/x"} 7\n'
	printf 'amber_source_stale_runs{source="files/z"'
	head -c 5000 /dev/zero | tr '\0' 'z'
	printf '"} 1\n'
	printf 'amber_source_stale_runs{source="files/w"} 4'
} >"$F"
head -c 300000 /dev/zero >>"$F"
t0=$(date +%s)
expect 1 "$AMBER" ingest "$T/no-store" --dir a="$T/a" --metrics-file "$F"
t1=$(date +%s)
check "$F" 1 "$t0" "$t1" 1700000000 1700000000 files/x=5,1
cp "$F" "$T/hostile.prom"

# Paths that cannot be written: said before the run, but the backup is
# made all the same (monitoring never stops a backup); the run then
# ends with exit 1, naming the path, and the old file is left as it was.
n_snaps=$(ls "$S/snapshots" | wc -l)
cp "$F" "$T/before"
expect 1 "$AMBER" ingest "$S" --dir a="$T/a" \
    --metrics-file "$T/no/such/dir/x.prom"
err_has "--metrics-file $T/no/such/dir/x.prom: cannot write there: No such file or directory; ingesting all the same"
expect 1 "$AMBER" ingest "$S" --dir a="$T/a" --metrics-file "$P"
err_has "cannot write there: Is a directory"
printf 'dir a %s\n' "$T/a" >"$T/srcs"
expect 1 "$AMBER" ingest "$S" --sources "$T/srcs" --metrics-file "$T/a/f/x"
err_has "cannot write there: Not a directory"
cmp -s "$F" "$T/before" || fail "a run with an unwritable metrics path changed the old file"
[ "$(ls "$S/snapshots" | wc -l)" = "$((n_snaps + 3))" ] ||
    fail "a run with an unwritable metrics path did not make its snapshot"
# --sources takes it too; a bad sources file is still recorded (exit 2).
expect 0 "$AMBER" ingest "$S" --sources "$T/srcs" --metrics-file "$F"
check "$F" 0 "$t0" "$(date +%s)" "$t0" "$(date +%s)" files/a=0,0
printf 'bogus line\n' >"$T/bad-srcs"
expect 2 "$AMBER" ingest "$S" --sources "$T/bad-srcs" --metrics-file "$F"
grep -q '^amber_ingest_exit_status 2$' "$F" || fail "bad sources: $(cat "$F")"
expect 0 "$AMBER" ingest --help
out_has "--metrics-file F"
expect 0 "$AMBER" ingest --sources x --help
out_has "--metrics-file F"
[ "$(ls "$P")" = amber-ingest.prom ] || fail "other files in $P: $(ls "$P")"

if ! command -v promtool >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && fail "no promtool in CI (Debian: prometheus)"
	echo "ok (promtool checks skipped: no promtool; Debian: prometheus)"
	exit 0
fi
for f in ok stale2 failed hostile; do
	promtool check metrics <"$T/$f.prom" >"$T/pt" 2>&1 ||
	    { cat "$T/pt" "$T/$f.prom" >&2; fail "promtool check metrics $f"; }
	[ ! -s "$T/pt" ] ||
	    { cat "$T/pt" >&2; fail "promtool check metrics $f: lint"; }
done

# The alerts, over series named and labelled as in the files ingest
# wrote: each stale_runs sample of the run that counted 2 becomes a
# series of that value; the last success name of the failed run's file
# becomes a series 25 h old at the start (the alert fires once 26 h and
# its 15 minutes have passed), and that of the good run a fresh one.
series() {	# FILE NAME VALUES
	sed -n "s/^$2{\(.*\)} [0-9]*\$/      - series: '$2{instance=\"h1\",\1}'\n        values: '$3'/p; s/^$2 [0-9.e+]*\$/      - series: '$2{instance=\"h1\"}'\n        values: '$3'/p" "$1"
}
cat >"$T/rules.test.yml" <<EOF
rule_files:
  - $AMBER_TOP/tools/dist/amber.rules.yml
evaluation_interval: 1m
tests:
  - interval: 5m
    input_series:
$(series "$T/failed.prom" amber_ingest_last_success_timestamp_seconds \
    -90000x400)
$(grep '^amber_source_stale_runs{' "$T/stale2.prom" | while read -r l v; do
	printf "      - series: '%s'\n        values: '%s'\n" \
	    "$(echo "$l" | sed 's/{/{instance="h1",/')" "${v}x20"
done)
    alert_rule_test:
      - eval_time: 50m
        alertname: AmberNoRecentSnapshot
        exp_alerts: []
      - eval_time: 80m
        alertname: AmberNoRecentSnapshot
        exp_alerts:
          - exp_labels:
              severity: critical
              instance: h1
            exp_annotations:
              summary: "amber: no snapshot for more than 26 hours on h1"
              description: "The last snapshot amber ingest committed is older than 26 hours, or no amber_ingest_last_success_timestamp_seconds is collected. See the ingest unit's journal and \`amber snapshots STORE\`."
      - eval_time: 5m
        alertname: AmberSourceStale
        exp_alerts:
          - exp_labels:
              severity: warning
              instance: h1
              source: files/b
            exp_annotations:
              summary: "amber: source files/b stale for 2 runs on h1"
              description: "amber ingest could not read files/b in the last 2 runs and carried its previous content forward."
  - interval: 5m
    input_series:
$(series "$T/ok.prom" amber_ingest_last_success_timestamp_seconds 0x400)
$(grep '^amber_source_stale_runs{' "$T/ok.prom" | while read -r l v; do
	printf "      - series: '%s'\n        values: '%s'\n" \
	    "$(echo "$l" | sed 's/{/{instance="h1",/')" "${v}x20"
done)
    alert_rule_test:
      - eval_time: 80m
        alertname: AmberNoRecentSnapshot
        exp_alerts: []
      - eval_time: 5m
        alertname: AmberSourceStale
        exp_alerts: []
EOF
grep -q "amber_source_stale_runs{instance=\"h1\",source=\"files/b\"}" \
    "$T/rules.test.yml" &&
    grep -q "amber_ingest_last_success_timestamp_seconds{instance" \
    "$T/rules.test.yml" || { cat "$T/rules.test.yml"; fail "no series"; }
promtool test rules "$T/rules.test.yml" >"$T/pt" 2>&1 ||
    { cat "$T/pt" "$T/rules.test.yml" >&2; fail "promtool test rules"; }
echo ok
