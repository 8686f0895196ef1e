/*
 * cmd_ingest.c: `amber ingest STORE SOURCE...` and `amber ingest STORE
 * --sources FILE`: the arguments only.  Every argument, and the sources
 * file, is checked before the store is touched (a bad source name or a
 * bad line is a usage error, exit 2, and nothing is written).  The
 * sources of the command line become a plan of one group, the same
 * struct sources that a sources file gives, and either is run by the one
 * ingest pipeline (ingest.c), which opens the store, reads the sources,
 * commits one snapshot and prints the summary.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd.h"
#include "ingest.h"
#include "metrics.h"
#include "sources.h"
#include "store.h"

#define CMD "amber ingest"
#define FILE_MAX ((size_t)16 << 20)	/* a sources file */

/* The options of both forms: the snapshot's own, then the run's. */
#define HELP_SNAPSHOT							\
    "  --tag T                tag the snapshot (repeatable)\n"		\
    "  --host H               the host name to record (default: this host)\n" \
    "  --time RFC3339         the snapshot's time (default: now)\n"

#define HELP_RUN							\
    "  --json                 print the summary as JSON on stdout\n"	\
    "  --metrics-file F       write the run's figures to F for Prometheus'\n" \
    "                         textfile collector, whatever the outcome\n" \
    "  --uploads N            put N packs at once, on threads of their\n" \
    "                         own (default: 4 on S3; on a local store the\n" \
    "                         sealing threads write them)\n"		\
    CLI_COMMON_HELP							\
    CLI_S3_HELP

static const char usage[] =
    "usage: amber ingest STORE SOURCE... [OPTIONS]\n"
    "\n"
    "Take one snapshot of the sources.  SOURCE is any of (each repeatable;\n"
    "names are [A-Za-z0-9._-]+, not starting with a dot, unique per kind):\n"
    "  --dir NAME=PATH        a directory tree, stored as files/NAME\n"
    "  --repo NAME=LOCATION   a git repository, as repos/NAME and\n"
    "                         repos/NAME.git\n"
    "  --pipeline NAME=SPEC   pipeline metadata, as pipelines/NAME\n"
    "  --sources FILE         every source FILE names (amber-sources(5));\n"
    "                         see amber ingest --sources F --help\n"
    "\n"
    "options:\n"
    HELP_SNAPSHOT
    "  --exclude PATTERN      skip files matching the fnmatch(3) PATTERN\n"
    "                         (name or path below the source; repeatable)\n"
    "  --exclude-file F       read patterns from F, one a line\n"
    "  --one-file-system      do not descend into other file systems\n"
    HELP_RUN
    "\n"
    "Exit status: 0 done; 3 committed, but some input could not be read;\n"
    "1 failure; 2 usage; 4 wrong passphrase or key.\n";

static const char usage_sources[] =
    "usage: amber ingest STORE --sources FILE [OPTIONS]\n"
    "\n"
    "Take one snapshot of every source FILE names (amber-sources(5)):\n"
    "directories, git repositories, pipeline sources, and the repositories\n"
    "of GitLab groups and GitHub organisations.\n"
    "\n"
    "options:\n"
    "  --sources FILE         the sources file\n"
    "  --jobs N               fetch N repositories or pipeline sources at once\n"
    "                         (default 4)\n"
    "  --allow-clone-host H   clone from host H too, when a forge lists it\n"
    "                         (repeatable; H is HOST or HOST:PORT)\n"
    "  --check                only check FILE, then exit (0 valid, 2 not)\n"
    HELP_SNAPSHOT
    HELP_RUN
    "\n"
    "Exit status: 0 done; 3 committed, but a source is stale, failed or\n"
    "partial; 1 failure; 2 usage or a bad sources file; 4 wrong key.\n";

enum {
	OPT_DIR = CLI_OPT_FIRST_PRIVATE,
	OPT_REPO,
	OPT_PIPELINE,
	OPT_TAG,
	OPT_HOST,
	OPT_TIME,
	OPT_EXCLUDE,
	OPT_EXCLUDE_FILE,
	OPT_ONE_FILE_SYSTEM,
	OPT_SOURCES,
	OPT_JOBS,
	OPT_CHECK,
	OPT_ALLOW_CLONE_HOST,
	OPT_METRICS_FILE,
	OPT_UPLOADS,
};

/* A growing array of strings (borrowed or owned, as the user says). */
struct strv {
	char **v;
	size_t n;
	size_t cap;
};

struct args {
	struct cli_common com;
	int is_sources_file;	/* --sources */
	const char *file;	/* --sources FILE */
	struct sources *src;	/* parsed from FILE */
	struct sources cmdline;	/* --dir, --repo, --pipeline */
	struct strv tags;
	struct strv excludes;	/* owned copies */
	struct strv allow;	/* --allow-clone-host */
	const char *host;
	const char *time_arg;
	const char *metrics_file;	/* --metrics-file */
	size_t n_jobs;		/* --jobs */
	int is_check;		/* --check */
	int is_one_file_system;
};

static int
strv_add(struct strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

static void
strv_free(struct strv *sv, int is_owner)
{
	if (is_owner)
		for (size_t i = 0; i < sv->n; i++)
			free(sv->v[i]);
	free(sv->v);
}

/* ---- the sources of the command line --------------------------------- */

static const char *
opt_name(int type)
{
	return type == SOURCES_DIR ? "--dir" : type == SOURCES_REPO ?
	    "--repo" : "--pipeline";
}

/* Parse NAME=WHERE of a source option; prints and returns 2 if bad. */
static int
add_source(struct args *a, int type, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct sources *cl = &a->cmdline;
	struct sources_entry *v;
	struct sources_entry *e;
	size_t nlen;

	if (eq == NULL || eq[1] == '\0') {
		cli_err(CMD, "%s %s: expected NAME=%s", opt_name(type), arg,
		    type == SOURCES_DIR ? "PATH" : type == SOURCES_REPO ?
		    "LOCATION" : "SPEC");
		return CLI_EXIT_USAGE;
	}
	nlen = (size_t)(eq - arg);
	if (nlen > STORE_NAME_MAX || !store_source_name_ok(arg, nlen)) {
		cli_err(CMD, "%s %s: bad source name (use [A-Za-z0-9._-], "
		    "not starting with a dot, at most %d bytes)",
		    opt_name(type), arg, STORE_NAME_MAX);
		return CLI_EXIT_USAGE;
	}
	if ((v = realloc(cl->v, (cl->n + 1) * sizeof(*v))) == NULL)
		return CLI_EXIT_ERROR;
	cl->v = v;
	e = &v[cl->n];
	memset(e, 0, sizeof(*e));
	/* One block, "NAME\0WHERE": name owns it, where points into it. */
	if ((e->name = strdup(arg)) == NULL)
		return CLI_EXIT_ERROR;
	e->name[nlen] = '\0';
	e->where = e->name + nlen + 1;
	e->type = type;
	cl->n++;
	return 0;
}

/*
 * The names each source takes in the snapshot must be unique per kind; a
 * repository NAME also takes NAME.git.  Prints and returns 2 on a clash.
 */
static int
check_unique(const struct sources *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct sources_entry *a = &cl->v[i];

		for (size_t j = 0; j < i; j++) {
			const struct sources_entry *b = &cl->v[j];
			size_t la = strlen(a->name);
			size_t lb = strlen(b->name);
			int is_clash;

			if (a->type != b->type)
				continue;
			is_clash = strcmp(a->name, b->name) == 0;
			if (a->type == SOURCES_REPO && !is_clash)
				is_clash = (la == lb + 4 &&
				    strncmp(a->name, b->name, lb) == 0 &&
				    strcmp(a->name + lb, ".git") == 0) ||
				    (lb == la + 4 &&
				    strncmp(b->name, a->name, la) == 0 &&
				    strcmp(b->name + la, ".git") == 0);
			if (is_clash) {
				cli_err(CMD, "%s %s: the name clashes with %s "
				    "%s", opt_name(a->type), a->name,
				    opt_name(b->type), b->name);
				return CLI_EXIT_USAGE;
			}
		}
	}
	return 0;
}

/* Read patterns from ${path}, one a line; empty and '#' lines skipped. */
static int
read_exclude_file(struct args *a, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = 0;

	if (f == NULL) {
		cli_err(CMD, "--exclude-file %s: %s", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *p;

		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if ((p = strdup(line)) == NULL ||
		    strv_add(&a->excludes, p) < 0) {
			free(p);
			r = CLI_EXIT_ERROR;
			break;
		}
	}
	if (r == 0 && ferror(f)) {
		cli_err(CMD, "--exclude-file %s: %s", path, strerror(errno));
		r = CLI_EXIT_USAGE;
	}
	free(line);
	fclose(f);
	return r;
}

/* ---- the options ------------------------------------------------------- */

/* 1 if ${argv} holds --sources (the other form of the command), else 0. */
static int
is_sources_file(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--sources") == 0 ||
		    strncmp(argv[i], "--sources=", 10) == 0)
			return 1;
	}
	return 0;
}

#define COMMON_INGEST_LONGOPTS						\
	CLI_COMMON_LONGOPTS,						\
	CLI_S3_LONGOPTS,						\
	{ "tag", required_argument, NULL, OPT_TAG },			\
	{ "host", required_argument, NULL, OPT_HOST },			\
	{ "time", required_argument, NULL, OPT_TIME },			\
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },	\
	{ "uploads", required_argument, NULL, OPT_UPLOADS }

static const struct option longopts_cmdline[] = {
	COMMON_INGEST_LONGOPTS,
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "repo", required_argument, NULL, OPT_REPO },
	{ "pipeline", required_argument, NULL, OPT_PIPELINE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE },
	{ "one-file-system", no_argument, NULL, OPT_ONE_FILE_SYSTEM },
	{ NULL, 0, NULL, 0 },
};

static const struct option longopts_sources[] = {
	COMMON_INGEST_LONGOPTS,
	{ "sources", required_argument, NULL, OPT_SOURCES },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "allow-clone-host", required_argument, NULL, OPT_ALLOW_CLONE_HOST },
	{ NULL, 0, NULL, 0 },
};

/* One option of either form; prints and returns the exit status if bad. */
static int
parse_opt(struct args *a, int opt, char *arg)
{
	uint64_t n;
	char *p;

	switch (opt) {
	case OPT_DIR:
		return add_source(a, SOURCES_DIR, arg);
	case OPT_REPO:
		return add_source(a, SOURCES_REPO, arg);
	case OPT_PIPELINE:
		return add_source(a, SOURCES_PIPELINE, arg);
	case OPT_TAG:
		if (!cli_tag_ok(arg)) {
			cli_err(CMD, "--tag: a tag is 1 to 255 printable "
			    "characters");
			return CLI_EXIT_USAGE;
		}
		return strv_add(&a->tags, arg) < 0 ? CLI_EXIT_ERROR : 0;
	case OPT_HOST:
		if (!cli_tag_ok(arg)) {
			cli_err(CMD, "--host: 1 to 255 printable characters");
			return CLI_EXIT_USAGE;
		}
		a->host = arg;
		return 0;
	case OPT_TIME:
		a->time_arg = arg;
		return 0;
	case OPT_METRICS_FILE:
		a->metrics_file = arg;
		return 0;
	case OPT_EXCLUDE:
		if ((p = strdup(arg)) == NULL ||
		    strv_add(&a->excludes, p) < 0) {
			free(p);
			return CLI_EXIT_ERROR;
		}
		return 0;
	case OPT_EXCLUDE_FILE:
		return read_exclude_file(a, arg);
	case OPT_ONE_FILE_SYSTEM:
		a->is_one_file_system = 1;
		return 0;
	case OPT_SOURCES:
		if (a->file != NULL) {
			cli_err(CMD, "--sources given twice");
			return CLI_EXIT_USAGE;
		}
		a->file = arg;
		return 0;
	case OPT_JOBS:
		if (cli_u64_parse(arg, INGEST_JOBS_MAX, &n) < 0 || n == 0) {
			cli_err(CMD, "--jobs %s: a number from 1 to %d", arg,
			    INGEST_JOBS_MAX);
			return CLI_EXIT_USAGE;
		}
		a->n_jobs = (size_t)n;
		return 0;
	case OPT_UPLOADS:
		if (cli_u64_parse(arg, STORE_UPLOADS_MAX, &n) < 0 || n == 0) {
			cli_err(CMD, "--uploads %s: a number from 1 to %d", arg,
			    STORE_UPLOADS_MAX);
			return CLI_EXIT_USAGE;
		}
		a->com.uploads = (size_t)n;
		return 0;
	case OPT_CHECK:
		a->is_check = 1;
		return 0;
	case OPT_ALLOW_CLONE_HOST:
		if (!sources_is_host(arg)) {
			cli_err(CMD, "--allow-clone-host %s: not HOST or "
			    "HOST:PORT", arg);
			return CLI_EXIT_USAGE;
		}
		return strv_add(&a->allow, arg) < 0 ? CLI_EXIT_ERROR : 0;
	}
	return CLI_EXIT_USAGE;
}

/*
 * Parse the command line of either form.  Returns 0 (and a->com.is_help
 * may be set: the caller prints the usage), or the exit status of a
 * usage error, printed.
 */
static int
parse_args(struct args *a, int argc, char **argv)
{
	const char *use = a->is_sources_file ? usage_sources : usage;
	int opt;
	int r;

	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS,
	    a->is_sources_file ? longopts_sources : longopts_cmdline,
	    NULL)) != -1) {
		if (cli_common_opt(&a->com, opt, optarg))
			continue;
		if (opt == '?' || opt == ':') {
			if (a->is_sources_file)
				cli_err(CMD, "with --sources, name every "
				    "source in the file; see amber-sources(5)");
			return cli_usage(argv[0], use, 1);
		}
		if ((r = parse_opt(a, opt, optarg)) != 0)
			return r;
	}
	if (a->com.is_help)
		return 0;
	if (argc - optind != 1) {
		if (argc - optind < 1)
			cli_err(CMD, "no STORE given");
		else
			cli_err(CMD, "unexpected argument '%s'",
			    argv[optind + 1]);
		return cli_usage(argv[0], use, 1);
	}
	if (a->is_sources_file)
		return 0;
	if (a->cmdline.n == 0) {
		cli_err(CMD, "no source given (--dir, --repo, --pipeline)");
		return cli_usage(argv[0], use, 1);
	}
	return check_unique(&a->cmdline);
}

/* Read and parse the sources file; prints and returns 2 if it is bad. */
static int
load_file(struct args *a)
{
	struct err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if ((f = fopen(a->file, "r")) == NULL) {
		cli_err(CMD, "--sources %s: %s", a->file, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		fclose(f);
		return CLI_EXIT_ERROR;
	}
	len = fread(buf, 1, FILE_MAX + 1, f);
	r = ferror(f);
	fclose(f);
	if (r || len > FILE_MAX) {
		cli_err(CMD, "%s: %s", a->file, r ? "read error" :
		    "larger than 16 MiB");
		free(buf);
		return CLI_EXIT_USAGE;
	}
	r = sources_parse(buf, len, &a->src, &err);
	free(buf);
	if (r == -ENOMEM)
		return CLI_EXIT_ERROR;
	if (r < 0) {
		cli_err(CMD, "%s: %s", a->file, err.msg);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* The sources to run: the file's, or the command line's as one group. */
static const struct sources *
plan_sources(struct args *a)
{
	if (a->is_sources_file)
		return a->src;
	for (size_t i = 0; i < a->cmdline.n; i++) {
		struct sources_entry *e = &a->cmdline.v[i];

		if (e->type != SOURCES_DIR)
			continue;
		e->excludes = a->excludes.v;
		e->n_excludes = a->excludes.n;
		e->is_one_file_system = a->is_one_file_system;
	}
	return &a->cmdline;
}

/* ---- --metrics-file ------------------------------------------------------ */

#define CARRY_MAX ((size_t)1 << 20)	/* samples taken from an old file */
#define LABEL_MAX (STORE_NAME_MAX + 15)	/* "KIND/NAME" */
#define TIME_MAX 253402300799.0	/* 9999-12-31T23:59:59Z */

/* One per-source sample read back from the previous file. */
struct carried {
	char *path;
	int is_failed;		/* amber_source_failed, else stale_runs */
	uint64_t v;
	size_t seq;		/* its place in the file */
};

/* What a run that committed nothing takes from the previous file. */
struct carry {
	double t_success;	/* 0: none */
	struct carried *v;
	size_t n;
	size_t cap;
};

/* A source label as ingest writes it: KIND/NAME of [A-Za-z0-9._-]. */
static int
is_source_label(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= LABEL_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-/") == n;
}

/* metrics_scan()'s callback: keep what is ours and well formed. */
static int
carry_sample(void *ctx, const char *name, const char *label,
    const char *value, double v)
{
	struct carry *c = ctx;
	struct carried *e;
	int is_failed;

	if (label == NULL) {
		if (strcmp(name, "amber_ingest_last_success_timestamp_seconds")
		    == 0 && v > 0 && v <= TIME_MAX && v > c->t_success)
			c->t_success = v;
		return 0;
	}
	if (strcmp(name, "amber_source_failed") == 0)
		is_failed = 1;
	else if (strcmp(name, "amber_source_stale_runs") == 0)
		is_failed = 0;
	else
		return 0;
	if (strcmp(label, "source") != 0 || !is_source_label(value) ||
	    v < 0 || v > (is_failed ? 1 : INGEST_STALE_RUNS_MAX) ||
	    v != (double)(uint64_t)v || c->n >= CARRY_MAX)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;

		if ((e = realloc(c->v, cap * sizeof(*e))) == NULL)
			return -ENOMEM;
		c->v = e;
		c->cap = cap;
	}
	e = &c->v[c->n];
	if ((e->path = strdup(value)) == NULL)
		return -ENOMEM;
	e->is_failed = is_failed;
	e->v = (uint64_t)v;
	e->seq = c->n++;
	return 0;
}

/* By metric, then source, then as read. */
static int
carried_cmp(const void *pa, const void *pb)
{
	const struct carried *a = pa;
	const struct carried *b = pb;
	int d;

	if (a->is_failed != b->is_failed)
		return a->is_failed - b->is_failed;
	if ((d = strcmp(a->path, b->path)) != 0)
		return d;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * Sort what was carried and keep the first sample of each series: a
 * doubled one (not ours: a damaged or planted file) would make the
 * collector refuse the whole file.
 */
static void
carry_unique(struct carry *c)
{
	size_t n = 0;

	if (c->n == 0)
		return;
	qsort(c->v, c->n, sizeof(*c->v), carried_cmp);
	for (size_t i = 0; i < c->n; i++) {
		if (n > 0 && c->v[n - 1].is_failed == c->v[i].is_failed &&
		    strcmp(c->v[n - 1].path, c->v[i].path) == 0) {
			free(c->v[i].path);
			continue;
		}
		c->v[n++] = c->v[i];
	}
	c->n = n;
}

static void
carry_fini(struct carry *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
}

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char help_stale[] =
    "Consecutive runs, up to the last, in which the source could not be "
    "read.";
static const char help_failed[] =
    "1 if the source is not in the last run's snapshot at all, else 0.";

/* The per-source samples: this run's, or those the old file had. */
static int
put_sources(struct metrics *m, const struct ingest_result *res,
    const struct carry *c)
{
	int r = 0;

	if (res->is_committed) {
		for (size_t i = 0; r == 0 && i < res->n_sources; i++)
			r = metrics_put(m, "amber_source_stale_runs", "gauge",
			    help_stale, "source", res->sources[i].path,
			    (double)res->sources[i].n_stale_runs);
		for (size_t i = 0; r == 0 && i < res->n_sources; i++)
			r = metrics_put(m, "amber_source_failed", "gauge",
			    help_failed, "source", res->sources[i].path,
			    res->sources[i].is_failed);
		return r;
	}
	for (size_t i = 0; r == 0 && i < c->n; i++)
		r = metrics_put(m, c->v[i].is_failed ? "amber_source_failed" :
		    "amber_source_stale_runs", "gauge", c->v[i].is_failed ?
		    help_failed : help_stale, "source", c->v[i].path,
		    (double)c->v[i].v);
	return r;
}

/* The run's own figures; the time of the last success if there is one. */
static int
put_gauges(struct metrics *m, const struct ingest_result *res, double t_ok,
    double t0, int status)
{
	const struct {
		const char *name;
		const char *help;
		double v;
	} g[] = {
		{ "amber_ingest_last_success_timestamp_seconds",
		    "When amber ingest last committed a snapshot (Unix time).",
		    t_ok },
		{ "amber_ingest_duration_seconds",
		    "How long the last amber ingest took.",
		    clock_s(CLOCK_MONOTONIC) - t0 },
		{ "amber_ingest_bytes_read",
		    "Bytes the last amber ingest read from its sources.",
		    (double)res->n_bytes_read },
		{ "amber_ingest_bytes_added",
		    "Bytes the last amber ingest added to the store.",
		    (double)res->n_bytes_added },
		{ "amber_ingest_files",
		    "Files the last amber ingest recorded.",
		    (double)res->n_files },
		{ "amber_ingest_warnings",
		    "Warnings the last amber ingest gave.",
		    (double)res->n_warnings },
		{ "amber_ingest_exit_status",
		    "Exit status of the last amber ingest (0 ok, 3 partial).",
		    status },
	};
	int r = 0;

	for (size_t i = t_ok > 0 ? 0 : 1; r == 0 && i < sizeof(g) /
	    sizeof(g[0]); i++)
		r = metrics_put(m, g[i].name, "gauge", g[i].help, NULL, NULL,
		    g[i].v);
	return r;
}

/*
 * Write the run's figures to ${path} (amber(1), METRICS).  A run that
 * committed nothing carries over, from the file it replaces (or the
 * local cache, through ${res}), the time of the last success and the
 * per-source samples.  Returns 0 or -errno.
 */
static int
write_metrics(const char *path, double t0, const struct ingest_result *res,
    int status)
{
	struct metrics *m = NULL;
	struct carry c;
	double t_ok = (double)res->t_success;
	int r;

	memset(&c, 0, sizeof(c));
	if (!res->is_committed) {
		/* An unreadable or damaged old file only loses what it had. */
		if (metrics_scan(path, carry_sample, &c) == -ENOMEM) {
			r = -ENOMEM;
			goto out;
		}
		carry_unique(&c);
		if (c.t_success > t_ok)
			t_ok = c.t_success;
	}
	if ((r = metrics_new(&m)) < 0 ||
	    (r = put_gauges(m, res, t_ok, t0, status)) < 0)
		goto out;
	if ((r = put_sources(m, res, &c)) < 0)
		goto out;
	r = metrics_write(m, path);
out:
	metrics_free(m);
	carry_fini(&c);
	return r;
}

static void
args_fini(struct args *a)
{
	/* The command line's entries borrow all but their name block. */
	for (size_t i = 0; i < a->cmdline.n; i++)
		free(a->cmdline.v[i].name);
	free(a->cmdline.v);
	sources_free(a->src);
	strv_free(&a->tags, 0);
	strv_free(&a->excludes, 1);
	strv_free(&a->allow, 0);
}

int
cmd_ingest(int argc, char **argv)
{
	struct ingest_opts o;
	struct ingest_result res;
	struct args a;
	struct timespec now;
	double t0 = clock_s(CLOCK_MONOTONIC);
	int is_metrics = 0;
	int r;

	memset(&a, 0, sizeof(a));
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	a.is_sources_file = is_sources_file(argc, argv);
	clock_gettime(CLOCK_REALTIME, &now);
	o.time_sec = now.tv_sec;
	o.time_nsec = (uint32_t)now.tv_nsec;
	if ((r = parse_args(&a, argc, argv)) != 0)
		goto out;
	if (a.com.is_help) {
		r = cli_usage(argv[0], a.is_sources_file ? usage_sources :
		    usage, 0);
		goto out;
	}
	/*
	 * A wrong path is said now, not only after the run; but the backup
	 * does not wait on the monitoring: the run goes on, and ends with
	 * exit 1 (at least) when the file cannot be written then either.
	 */
	if (a.metrics_file != NULL && !a.is_check &&
	    (r = metrics_check_path(a.metrics_file)) < 0)
		cli_err(CMD, "--metrics-file %s: cannot write there: %s; "
		    "ingesting all the same", a.metrics_file, strerror(-r));
	is_metrics = a.metrics_file != NULL && !a.is_check;
	if (a.time_arg != NULL &&
	    store_time_parse(a.time_arg, &o.time_sec, &o.time_nsec) < 0) {
		cli_err(CMD, "--time %s: not an RFC 3339 time", a.time_arg);
		r = CLI_EXIT_USAGE;
		goto out;
	}
	if (a.is_sources_file && ((r = load_file(&a)) != 0 || a.is_check))
		goto out;
	o.location = argv[optind];
	o.com = &a.com;
	o.host = a.host;
	o.tags = (const char *const *)a.tags.v;
	o.n_tags = a.tags.n;
	o.allow = (const char *const *)a.allow.v;
	o.n_allow = a.allow.n;
	o.n_jobs_max = a.n_jobs ? a.n_jobs : 4;
	o.is_sources_file = a.is_sources_file;
	o.result = &res;
	r = ingest_run(&o, plan_sources(&a));
out:
	if (is_metrics) {
		int mr = write_metrics(a.metrics_file, t0, &res, r);

		if (mr < 0) {
			cli_err(CMD, "--metrics-file %s: %s", a.metrics_file,
			    strerror(-mr));
			if (r == CLI_EXIT_OK)
				r = CLI_EXIT_ERROR;
		}
	}
	ingest_result_fini(&res);
	args_fini(&a);
	return r;
}
