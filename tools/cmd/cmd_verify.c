/*
 * cmd_verify.c: `amber verify STORE`, which checks the snapshot DAG and
 * every referenced tree and chunk (and, with --read-data, that every
 * object authenticates), prints each problem on its own line, and exits
 * 5 when it found any.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cmd.h"
#include "metrics.h"
#include "store.h"

static const char usage[] =
    "usage: amber verify STORE [--read-data] [--expect ID] [--json]\n"
    "                    [--metrics-file F]\n"
    "\n"
    "Check that every snapshot is reachable and its chain intact, that\n"
    "every referenced tree and chunk is present and every tree decodes;\n"
    "with --read-data, that every object in the store authenticates.\n"
    "Each problem is printed on stdout; the exit status is 5 if any was\n"
    "found.\n"
    "\n"
    "  --read-data          read and authenticate every object\n"
    "  --expect ID          fail unless snapshot ID (a hex id or prefix,\n"
    "                       recorded elsewhere) is present\n"
    "  --json               one JSON object per problem, then a summary\n"
    "  --metrics-file F     write the run's figures to F for Prometheus'\n"
    "                       textfile collector (F.tmp, then renamed)\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

enum {
	OPT_READ_DATA = CLI_OPT_FIRST_PRIVATE,
	OPT_EXPECT,
	OPT_METRICS_FILE,
};

struct verify_ctx {
	int is_json;
	int is_failed;		/* an output error */
};

static void
put_json(json_t *o)
{
	if (o == NULL)
		return;
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

static void
report(void *ctx, const struct store_problem *p)
{
	struct verify_ctx *v = ctx;
	const char *object = p->object != NULL ? p->object : "?";
	const char *what = p->what != NULL ? p->what : "problem";
	json_t *o;

	if (v->is_json) {
		/* Stored paths are raw bytes: cli_json_bytes() keeps them. */
		o = json_object();
		if (o == NULL ||
		    cli_json_bytes(o, "object", (const uint8_t *)object,
		    strlen(object)) < 0 ||
		    cli_json_bytes(o, "problem", (const uint8_t *)what,
		    strlen(what)) < 0 ||
		    json_object_set_new(o, "referenced", p->is_referenced < 0 ?
		    json_null() : json_boolean(p->is_referenced)) != 0 ||
		    (p->snapshot != NULL && cli_json_bytes(o, "snapshot",
		    (const uint8_t *)p->snapshot, strlen(p->snapshot)) < 0) ||
		    (p->path != NULL && cli_json_bytes(o, "path",
		    (const uint8_t *)p->path, strlen(p->path)) < 0)) {
			json_decref(o);
			v->is_failed = 1;
			return;
		}
		put_json(o);
		return;
	}
	printf("%s: %s", object, what);
	if (p->snapshot != NULL && p->path != NULL) {
		printf(" (affects %s:", p->snapshot);
		name_print(stdout, (const uint8_t *)p->path,
		    strlen(p->path), 1);
		putchar(')');
	} else if (p->snapshot != NULL)
		printf(" (affects snapshot %s)", p->snapshot);
	if (p->is_referenced == 0)
		printf(" (unreferenced)");
	putchar('\n');
	fflush(stdout);
}

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Write the run's figures to ${path} (amber(1), METRICS): its end time,
 * duration and exit status ${status}, and the problems found if the
 * check ran (${has_run}).  Returns 0 or -errno.
 */
static int
write_metrics(const char *path, double t0, int has_run, uint64_t n_problems,
    int status)
{
	struct metrics *m = NULL;
	int r;

	if ((r = metrics_new(&m)) < 0)
		return r;
	if ((r = metrics_put(m, "amber_verify_last_run_timestamp_seconds",
	    "gauge", "When the last amber verify ended (Unix time).", NULL,
	    NULL, clock_s(CLOCK_REALTIME))) < 0 ||
	    (r = metrics_put(m, "amber_verify_duration_seconds", "gauge",
	    "How long the last amber verify took.", NULL, NULL,
	    clock_s(CLOCK_MONOTONIC) - t0)) < 0 ||
	    (has_run && (r = metrics_put(m, "amber_verify_problems", "gauge",
	    "Problems (damage) the last amber verify found.", NULL, NULL,
	    (double)n_problems)) < 0) ||
	    (r = metrics_put(m, "amber_verify_exit_status", "gauge",
	    "Exit status of the last amber verify (0 ok, 5 damage).", NULL,
	    NULL, status)) < 0)
		goto out;
	r = metrics_write(m, path);
out:
	metrics_free(m);
	return r;
}

static int
is_hex(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 2 * STORE_HASH_LEN &&
	    strspn(s, "0123456789abcdefABCDEF") == n;
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "read-data", no_argument, NULL, OPT_READ_DATA },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_ctx v;
	struct cli_common c;
	struct store *s = NULL;
	const char *expect = NULL;
	const char *metrics_file = NULL;
	double t0 = clock_s(CLOCK_MONOTONIC);
	int has_run = 0;
	uint64_t n_problems = 0;
	unsigned flags = 0;
	int opt;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&v, 0, sizeof(v));
	while ((opt = cli_getopt(argc, argv, longopts, &c)) != -1) {
		switch (opt) {
		case OPT_READ_DATA:
			flags |= STORE_VERIFY_READ_DATA;
			break;
		case OPT_EXPECT:
			expect = optarg;
			break;
		case OPT_METRICS_FILE:
			metrics_file = optarg;
			break;
		default:
			return cli_usage(argv[0], usage, 1);
		}
	}
	if ((r = cli_args(argv[0], &c, usage, argc, 1)) >= 0)
		return r;
	if (expect != NULL && !is_hex(expect)) {
		cli_err(argv[0], "--expect %s: not a hex snapshot id", expect);
		return CLI_EXIT_USAGE;
	}
	/* A wrong path is found now, not after an hour of checking. */
	if (metrics_file != NULL && (r = metrics_check_path(metrics_file)) < 0) {
		cli_err(argv[0], "--metrics-file %s: cannot write there: %s",
		    metrics_file, strerror(-r));
		return CLI_EXIT_USAGE;
	}
	v.is_json = c.is_json;
	if ((r = cli_open(argv[0], argv[optind], &c, 1, &s)) != 0)
		goto out;
	r = store_verify(s, flags, expect, report, &v, &n_problems);
	if (r == -ENOENT && expect != NULL) {
		/* A head recorded elsewhere is gone: history was cut. */
		report(&v, &(struct store_problem){ .object = expect,
		    .what = "expected snapshot is missing",
		    .is_referenced = -1 });
		n_problems++;
		r = 0;
	}
	if (r < 0) {
		cli_err(argv[0], "%s: cannot verify: %s", argv[optind],
		    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	has_run = 1;
	if (c.is_json)
		put_json(json_pack("{s:I, s:b}", "problems",
		    (json_int_t)n_problems, "ok", n_problems == 0));
	else if (!c.is_quiet)
		fprintf(stderr, "%s: %llu problem%s found\n", argv[0],
		    (unsigned long long)n_problems, n_problems == 1 ? "" : "s");
	r = n_problems > 0 ? CLI_EXIT_DAMAGE : CLI_EXIT_OK;
	if (v.is_failed) {
		cli_err(argv[0], "out of memory writing JSON");
		r = n_problems > 0 ? CLI_EXIT_DAMAGE : CLI_EXIT_ERROR;
	}
out:
	if (fflush(stdout) != 0 && r == CLI_EXIT_OK)
		r = CLI_EXIT_ERROR;
	store_close(s);
	if (metrics_file != NULL) {
		int mr = write_metrics(metrics_file, t0, has_run, n_problems, r);

		if (mr < 0) {
			cli_err(argv[0], "--metrics-file %s: %s", metrics_file,
			    strerror(-mr));
			if (r == CLI_EXIT_OK)
				r = CLI_EXIT_ERROR;
		}
	}
	return r;
}
