/*
 * test_metrics.c: tools/cli/metrics.c (compiled in here, as the tools are
 * not a library): the exact text of a file (one HELP and TYPE per name,
 * samples of a name together, label values escaped, numbers without an
 * exponent), the names refused, and the atomic write (the file whole,
 * no .tmp left, a missing directory an error that leaves nothing), and
 * a file read back by metrics_scan() (escapes undone, anything odd
 * skipped).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "../../tools/cli/metrics.c"

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_render(void)
{
	static const char want[] =
	    "# HELP amber_source_stale_runs Runs stale; a \\\\ here.\n"
	    "# TYPE amber_source_stale_runs gauge\n"
	    "amber_source_stale_runs{source=\"repos/web\"} 2\n"
	    "amber_source_stale_runs{source=\"a\\\"b\\\\c\\nd\"} 0\n"
	    "# HELP amber_x_seconds When.\n"
	    "# TYPE amber_x_seconds gauge\n"
	    "amber_x_seconds 1765080000.25\n"
	    "# HELP amber_big Big.\n"
	    "# TYPE amber_big counter\n"
	    "amber_big 12345678901234\n"
	    "# HELP amber_odd Odd.\n"
	    "# TYPE amber_odd gauge\n"
	    "amber_odd NaN\n"
	    "amber_odd -Inf\n"
	    "amber_odd -3\n";
	struct metrics *m = NULL;
	char *text = NULL;
	size_t len = 0;

	CHECK(metrics_new(&m) == 0);
	CHECK(metrics_put(m, "amber_source_stale_runs", "gauge",
	    "Runs stale; a \\ here.", "source", "repos/web", 2) == 0);
	CHECK(metrics_put(m, "amber_x_seconds", "gauge", "When.", NULL, NULL,
	    1765080000.25) == 0);
	CHECK(metrics_put(m, "amber_source_stale_runs", "gauge", "ignored",
	    "source", "a\"b\\c\nd", 0) == 0);
	CHECK(metrics_put(m, "amber_big", "counter", "Big.", NULL, NULL,
	    12345678901234.0) == 0);
	CHECK(metrics_put(m, "amber_odd", "gauge", "Odd.", NULL, NULL,
	    NAN) == 0);
	CHECK(metrics_put(m, "amber_odd", "gauge", "Odd.", NULL, NULL,
	    -INFINITY) == 0);
	CHECK(metrics_put(m, "amber_odd", "gauge", "Odd.", NULL, NULL,
	    -3) == 0);
	/* Refused: bad names, a newline in HELP, an unknown type. */
	CHECK(metrics_put(m, "9lives", "gauge", "h", NULL, NULL, 1) ==
	    -EINVAL);
	CHECK(metrics_put(m, "a-b", "gauge", "h", NULL, NULL, 1) == -EINVAL);
	CHECK(metrics_put(m, "", "gauge", "h", NULL, NULL, 1) == -EINVAL);
	CHECK(metrics_put(m, "ok", "gauge", "h", "a:b", "v", 1) == -EINVAL);
	CHECK(metrics_put(m, "ok", "gauge", "h", "l", NULL, 1) == -EINVAL);
	CHECK(metrics_put(m, "ok", "gauge", "two\nlines", NULL, NULL, 1) ==
	    -EINVAL);
	CHECK(metrics_put(m, "ok", "histogram", "h", NULL, NULL, 1) ==
	    -EINVAL);
	CHECK(render(m, &text, &len) == 0);
	CHECK(text != NULL && len == strlen(want) && strcmp(text, want) == 0);
	if (text != NULL && strcmp(text, want) != 0)
		fprintf(stderr, "got:\n%s", text);
	free(text);
	metrics_free(m);
	metrics_free(NULL);
}

static void
test_write(void)
{
	char dir[] = "/tmp/amber-test-metrics.XXXXXX";
	char path[128];
	char tmp[160];
	char bad[160];
	struct metrics *m = NULL;
	struct stat st;
	char *got;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(bad, sizeof(bad), "%s/missing/a.prom", dir);
	CHECK(metrics_new(&m) == 0);
	CHECK(metrics_put(m, "amber_t", "gauge", "T.", NULL, NULL, 1) == 0);
	CHECK(metrics_check_path(path) == 0);
	CHECK(metrics_write(m, path) == 0);
	got = slurp(path);
	CHECK(got != NULL && strcmp(got, "# HELP amber_t T.\n"
	    "# TYPE amber_t gauge\namber_t 1\n") == 0);
	CHECK(lstat(tmp, &st) != 0 && errno == ENOENT);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	/* A stale .tmp (a directory cannot be unlinked: the write fails and
	 * the old file stays). */
	CHECK(mkdir(tmp, 0700) == 0);
	CHECK(metrics_write(m, path) < 0);
	CHECK(rmdir(tmp) == 0);
	got = slurp(path);
	CHECK(got != NULL && strstr(got, "amber_t 1\n") != NULL);
	CHECK(metrics_check_path(bad) == -ENOENT);
	CHECK(metrics_write(m, bad) == -ENOENT);
	CHECK(metrics_check_path(dir) == -EISDIR);
	CHECK(metrics_check_path("") == -ENOENT);
	CHECK(unlink(path) == 0);
	CHECK(rmdir(dir) == 0);
	metrics_free(m);
}

/* metrics_scan()'s callback: the samples, one "NAME|LABEL|VALUE|V\n"
 * each, appended to the string ${ctx}. */
static int
scan_cat(void *ctx, const char *name, const char *label, const char *value,
    double v)
{
	char *out = ctx;
	size_t n = strlen(out);

	snprintf(out + n, 1024 - n, "%s|%s|%s|%g\n", name,
	    label ? label : "-", value ? value : "-", v);
	return strcmp(name, "amber_stop") == 0 ? 7 : 0;
}

static void
test_scan(void)
{
	char dir[] = "/tmp/amber-test-metrics.XXXXXX";
	char path[128];
	char out[1024] = "";
	struct metrics *m = NULL;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a.prom", dir);
	CHECK(metrics_scan(path, scan_cat, out) == -ENOENT);
	/* What metrics_write() wrote reads back, escapes undone. */
	CHECK(metrics_new(&m) == 0);
	CHECK(metrics_put(m, "amber_a", "gauge", "A.", "source",
	    "x\"y\\z\nw", 2) == 0);
	CHECK(metrics_put(m, "amber_b", "gauge", "B.", NULL, NULL,
	    1765080000.5) == 0);
	CHECK(metrics_write(m, path) == 0);
	metrics_free(m);
	CHECK(metrics_scan(path, scan_cat, out) == 0);
	CHECK(strcmp(out, "amber_a|source|x\"y\\z\nw|2\n"
	    "amber_b|-|-|1.76508e+09\n") == 0);
	/* Anything else is skipped: bad names, escapes, quotes, values,
	 * two labels, a line past METRICS_LINE_MAX; a callback's non-zero
	 * stops the reading. */
	if ((f = fopen(path, "w")) != NULL) {
		fputs("9bad 1\namber_c{l=\"\\q\"} 1\namber_c{l=\"x} 1\n"
		    "amber_c{l=\"x\",m=\"y\"} 1\namber_c NaN\namber_c +Inf\n"
		    "amber_c 1x\namber_c  1\namber_c{9=\"x\"} 1\n"
		    "amber_ok 3 1765080000000\n", f);
		for (int i = 0; i < METRICS_LINE_MAX + 10; i++)
			fputc('a', f);
		fputs(" 1\namber_stop 1\namber_after 1\n", f);
		fclose(f);
	}
	out[0] = '\0';
	CHECK(metrics_scan(path, scan_cat, out) == 7);
	CHECK(strcmp(out, "amber_ok|-|-|3\namber_stop|-|-|1\n") == 0);
	CHECK(unlink(path) == 0);
	CHECK(rmdir(dir) == 0);
}

int
main(void)
{
	test_render();
	test_write();
	test_scan();
	return check_done("test_metrics");
}
