#!/bin/sh
# tests/bench/report.sh: print the benchmark's table from the raw figures
# that tests/bench/run.sh writes (runs/<time>/data.tsv: tool, key, value).
#
#	sh tests/bench/report.sh DATA.tsv
#
# Missing figures print as "-"; ratios are amber's figure over the other's.
set -eu
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: report.sh DATA.tsv" >&2; exit 2; }
run=$(basename "$(dirname "$1")")

awk -F '\t' -v run="$run" '
{
	v[$1, $2] = $3
	if ($2 == "problem")
		probs[++np] = $1 ": " $3
	if ($2 == "note")
		notes[++nn] = $1 ": " $3
}
function has(t, k) { return ((t, k) in v) && v[t, k] != "" }
function num(t, k) { return has(t, k) ? v[t, k] + 0 : -1 }
function f(t, k, fmt) { return has(t, k) ? sprintf(fmt, v[t, k]) : "-" }
function mib(t, k) { return has(t, k) ? sprintf("%.0f", v[t, k] / 1024) : "-" }
function mb(t, k) { return has(t, k) ? sprintf("%.0f", v[t, k] / 1e6) : "-" }
function ratio(a, b) { return (a >= 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
function max2(a, b) { return a > b ? a : b }
function rate(bytes, t, k) {
	return num(t, k) > 0 ? sprintf("%.0f", bytes / 1e6 / num(t, k)) : "-"
}
END {
	printf "amber benchmark %s\n", run
	printf "host: %s CPUs, %s, %s GiB RAM, kernel %s\n", v["host", "cpus"],
	    v["host", "cpu"], v["host", "mem_gib"], v["host", "kernel"]
	printf "load average (1/5/15 min): start %s, end %s\n",
	    v["host", "load_start"], v["host", "load_end"]
	printf "versions: %s%s\n", v["host", "versions"],
	    has("host", "amber_built") ? ", amber built " v["host", "amber_built"] : ""
	printf "data: %s\n\n", v["host", "data"]

	printf "%-15s %7s %7s %6s %8s %9s %9s  %s\n", "INGEST", "wall s",
	    "cpu s", "MB/s", "RSS MiB", "store MB", "cache MB", "load (1 min)"
	nt = split("amber restic borg", tools, " ")
	for (i = 1; i <= nt; i++) {
		t = tools[i]
		if (!has(t, "first_wall") && !has(t, "load_ingest"))
			continue
		for (p = 1; p <= 2; p++) {
			ph = p == 1 ? "first" : "changed"
			by = p == 1 ? v["host", "bytes"] : v["host", "changed_bytes"]
			printf "%-15s %7s %7s %6s %8s %9s %9s  %s\n",
			    t " " ph, f(t, ph "_wall", "%.2f"),
			    f(t, ph "_cpu", "%.2f"), rate(by, t, ph "_wall"),
			    mib(t, ph "_rss_kb"), mb(t, ph "_store"),
			    mb(t, ph "_cache"),
			    p == 1 ? substr(v[t, "load_ingest"], 1, 4) : ""
		}
	}
	printf "\n"
	for (i = 1; i <= nt; i++)
		if (has(tools[i], "first_wall_runs"))
			printf "%s first ingest, medians of: wall [%s] cpu [%s] " \
			    "RSS KiB [%s]\n", tools[i],
			    v[tools[i], "first_wall_runs"],
			    v[tools[i], "first_cpu_runs"],
			    v[tools[i], "first_rss_runs"]
	if (has("amber", "first_summary"))
		printf "amber ingest says: first: %s; changed: %s\n\n",
		    v["amber", "first_summary"], f("amber", "changed_summary", "%s")
	ra = max2(num("amber", "first_rss_kb"), num("amber", "changed_rss_kb"))
	for (i = 2; i <= nt; i++) {
		o = tools[i]
		if (!has("amber", "first_wall") || !has(o, "first_wall"))
			continue
		ro = max2(num(o, "first_rss_kb"), num(o, "changed_rss_kb"))
		# The goals of issue 19: wall and CPU against restic, the store
		# against restic, peak RSS against borg.
		g = o == "restic"
		printf "amber/%s: first ingest wall %s%s, changed wall %s%s, " \
		    "cpu %s%s, store %s%s, peak RSS %s%s\n", o,
		    ratio(num("amber", "first_wall"), num(o, "first_wall")),
		    g ? " (goal <= 0.40)" : "",
		    ratio(num("amber", "changed_wall"), num(o, "changed_wall")),
		    g ? " (goal <= 0.30)" : "",
		    ratio(num("amber", "first_cpu"), num(o, "first_cpu")),
		    g ? " (goal <= 0.40)" : "",
		    ratio(num("amber", "changed_store"), num(o, "changed_store")),
		    g ? " (goal <= 1.02)" : "", ratio(ra, ro),
		    o == "borg" ? " (goal <= 1)" : ""
	}
	printf "\n%-7s %8s %9s %9s %8s %8s %8s %8s %8s %8s %8s\n", "MOUNT",
	    "1st ls s", "find cold", "find warm", "cat cold", "cat warm",
	    "cp deep", "diff -r", "RssAnon", "RssFile", "peak RSS"
	printf "%-7s %8s %9s %9s %8s %8s %8s %8s %8s %8s %8s\n", "", "",
	    "s", "s", "MB/s", "MB/s", "ms", "s", "MiB", "MiB", "MiB"
	nm = split("plain amber restic borg", mt, " ")
	for (i = 1; i <= nm; i++) {
		t = mt[i]
		if (!has(t, "find_cold") && !has(t, "first_ls"))
			continue
		printf "%-7s %8s %9s %9s %8s %8s %8s %8s %8s %8s %8s\n", t,
		    f(t, "first_ls", "%.3f"), f(t, "find_cold", "%.2f"),
		    f(t, "find_warm", "%.3f"), f(t, "cat_cold_mbs", "%d"),
		    f(t, "cat_warm_mbs", "%d"), f(t, "cp_deep_ms", "%.1f"),
		    f(t, "diff_s", "%.1f"), mib(t, "rss_anon_kb"),
		    mib(t, "rss_file_kb"), mib(t, "hwm_kb")
	}
	if (has("ceiling", "ra128k_mbs"))
		printf "\nFUSE ceiling (1 GiB in-memory file, dd bs=1M): " \
		    "%s MB/s with %s KiB read-ahead, %s MB/s with 1 MiB, " \
		    "%s MB/s from the kept page cache\n",
		    v["ceiling", "ra128k_mbs"],
		    v["ceiling", "default_read_ahead_kb"],
		    v["ceiling", "ra1m_mbs"], v["ceiling", "cached_mbs"]
	if (has("amber", "first_ls")) {
		printf "amber mount: read_ahead_kb %s; first ls on restarts " \
		    "%s %s %s s; diff -r found %s\n",
		    f("amber", "read_ahead_kb", "%s"), f("amber", "first_ls_2", "%s"),
		    f("amber", "first_ls_3", "%s"), f("amber", "first_ls_4", "%s"),
		    f("amber", "diff_found", "%s")
		printf "amber mount start: key unlocked in %s ms (KDF), then " \
		    "ready in %s ms; first ls less the KDF %s ms (process " \
		    "start, store open, mount, and the polling by run.sh)\n",
		    f("amber", "unlock_ms", "%s"), f("amber", "ready_ms", "%s"),
		    has("amber", "unlock_ms") ? sprintf("%.0f", \
		    num("amber", "first_ls") * 1000 - num("amber", "unlock_ms")) : "-"
		printf "cat of the 256 MiB file on a fresh mount, store in the " \
		    "page cache (MB/s):"
		for (i = 2; i <= nm; i++)
			if (has(mt[i], "cat_mount_mbs"))
				printf " %s %s", mt[i], v[mt[i], "cat_mount_mbs"]
		printf "\n"
		if (has("amber", "diff_first_s"))
			printf "first touch: diff -r on a fresh mount, store in " \
			    "the page cache %s s [%s], again on that mount %s s; " \
			    "plain trees warm %s s [%s]; first/plain %s " \
			    "(goal <= 2)\n", v["amber", "diff_first_s"],
			    f("amber", "diff_first_runs", "%s"),
			    f("amber", "diff_second_s", "%s"),
			    f("plain", "diff_warm_s", "%s"),
			    f("plain", "diff_warm_runs", "%s"),
			    ratio(num("amber", "diff_first_s"),
			    num("plain", "diff_warm_s"))
		if (has("amber", "read_first_s"))
			printf "first touch, one snapshot read whole (tar | cat) " \
			    "on a fresh mount, store in the page cache %s s " \
			    "[%s]; plain tree warm %s s [%s]; first/plain %s " \
			    "(no goal: shared inodes do not help here)\n",
			    v["amber", "read_first_s"],
			    f("amber", "read_first_runs", "%s"),
			    f("plain", "read_first_s", "%s"),
			    f("plain", "read_first_runs", "%s"),
			    ratio(num("amber", "read_first_s"),
			    num("plain", "read_first_s"))
		printf "medians of repeated runs; each run:"
		for (i = 1; i <= nm; i++)
			if (has(mt[i], "find_cold_runs"))
				printf " find cold %s [%s];", mt[i],
				    v[mt[i], "find_cold_runs"]
		for (i = 2; i <= nm; i++)
			if (has(mt[i], "cat_mount_runs"))
				printf " cat fresh mount %s [%s];", mt[i],
				    v[mt[i], "cat_mount_runs"]
		if (has("ceiling", "ra1m_runs"))
			printf " ceiling 1 MiB RA [%s]", v["ceiling", "ra1m_runs"]
		printf "\n"
		printf "amber vs goals: first ls %s s (goal <= 0.05 + KDF); " \
		    "find cold /restic %s (goal <= 0.20), /borg %s; " \
		    "find warm /plain %s (goal <= 2); " \
		    "cat cold /ceiling(1 MiB RA) %s, store cached %s " \
		    "(goal >= 0.50); " \
		    "cat warm /plain %s; diff -r /plain %s (goal <= 1.5); " \
		    "RssAnon %s MiB (goal < 64)\n",
		    f("amber", "first_ls", "%.3f"),
		    ratio(num("amber", "find_cold"), num("restic", "find_cold")),
		    ratio(num("amber", "find_cold"), num("borg", "find_cold")),
		    ratio(num("amber", "find_warm"), num("plain", "find_warm")),
		    ratio(num("amber", "cat_cold_mbs"), num("ceiling", "ra1m_mbs")),
		    ratio(num("amber", "cat_mount_mbs"), num("ceiling", "ra1m_mbs")),
		    ratio(num("amber", "cat_warm_mbs"), num("plain", "cat_warm_mbs")),
		    ratio(num("amber", "diff_s"), num("plain", "diff_s")),
		    mib("amber", "rss_anon_kb")
	}
	if (has("git", "data")) {
		printf "\n%-7s %8s %7s %8s %10s %9s %9s  (git: %s)\n", "GIT",
		    "first s", "cpu s", "RSS MiB", "+10 cmt s", "store MB",
		    "clone s", v["git", "data"]
		ng = split("amber restic borg", gt, " ")
		for (i = 1; i <= ng; i++) {
			t = "git-" gt[i]
			if (!has(t, "load"))
				continue
			printf "%-7s %8s %7s %8s %10s %9s %9s\n", gt[i],
			    f(t, "first_wall", "%.2f"), f(t, "first_cpu", "%.2f"),
			    mib(t, "first_rss_kb"), f(t, "changed_wall", "%.2f"),
			    mb(t, "changed_store"), f(t, "clone_s", "%.2f")
		}
		printf "(restic and borg: git clone --mirror --no-local, later " \
		    "git fetch, then a backup of the mirror)\n"
		for (i = 2; i <= ng; i++) {
			o = "git-" gt[i]
			if (!has("git-amber", "changed_wall") || !has(o, "changed_wall"))
				continue
			printf "amber/%s: +10 commits %s (goal <= 0.50), " \
			    "first %s (goal <= 1), " \
			    "store %s, clone %s\n", gt[i],
			    ratio(num("git-amber", "changed_wall"), num(o, "changed_wall")),
			    ratio(num("git-amber", "first_wall"), num(o, "first_wall")),
			    ratio(num("git-amber", "changed_store"), num(o, "changed_store")),
			    ratio(num("git-amber", "clone_s"), num(o, "clone_s"))
		}
	}
	if (has("git-amber", "changed_store") && has("amber", "first_store") &&
	    has("git-restic", "changed_store"))
		printf "git store goal: amber %s MB <= restic %s MB + one " \
		    "compressed tree, ~%s MB (the amber directory store less the " \
		    "256 MiB random file)\n", mb("git-amber", "changed_store"),
		    mb("git-restic", "changed_store"),
		    sprintf("%.0f", (num("amber", "first_store") - 268435456) / 1e6)
	if (nn)
		printf "\nNotes:\n"
	for (i = 1; i <= nn; i++)
		printf "  %s\n", notes[i]
	printf "\nProblems:%s\n", np ? "" : " none"
	for (i = 1; i <= np; i++)
		printf "  %s\n", probs[i]
}' "$1"
