/*
 * test_metrics.c: tools/cli/metrics.c (compiled in here, as the tools are
 * not a library): the exact text of a file (one HELP and TYPE per name,
 * samples of a name together, label values escaped, numbers without an
 * exponent), the names refused, and the atomic write (the file whole,
 * no .tmp left, a missing directory an error that leaves nothing).
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

int
main(void)
{
	test_render();
	test_write();
	return check_done("test_metrics");
}
