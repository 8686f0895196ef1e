/*
 * cmd_ingest.c: `amber ingest STORE SOURCE...`.  It checks every argument
 * before touching the store (bad source names are usage errors), opens
 * and unlocks the store, runs the source readers one after the other
 * through one store writer, and commits everything they produced as one
 * snapshot.  A reader's warnings make the run partial (exit 3) without
 * stopping it; a source that fails as a whole is carried forward from the
 * newest snapshot (flagged stale) when it was there.  Progress goes to
 * stderr on a terminal, the summary to stderr, or to stdout with --json.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "org.h"
#include "source.h"
#include "store.h"
#include "url.h"

#define CMD "amber ingest"
#define PROGRESS_NS 250000000L	/* at most 4 updates a second */

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
    "  --tag T                tag the snapshot (repeatable)\n"
    "  --host H               the host name to record (default: this host)\n"
    "  --time RFC3339         the snapshot's time (default: now)\n"
    "  --exclude PATTERN      skip files matching the fnmatch(3) PATTERN\n"
    "                         (name or path below the source; repeatable)\n"
    "  --exclude-file F       read patterns from F, one a line\n"
    "  --one-file-system      do not descend into other file systems\n"
    "  --json                 print the summary as JSON on stdout\n"
    CLI_COMMON_HELP
    CLI_S3_HELP
    "\n"
    "Exit status: 0 done; 3 committed, but some input could not be read;\n"
    "1 failure; 2 usage; 4 wrong passphrase or key.\n";

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
};

/* One source named on the command line. */
struct src_arg {
	uint8_t kind;		/* enum store_kind */
	char *name;		/* malloc'd "NAME\0WHERE" */
	const char *where;	/* PATH, LOCATION or SPEC, in ${name}'s block */
	uint64_t n_warnings;	/* warnings while reading it */
	int err;		/* the reader's failure, or 0 */
	int is_stale;		/* failed, carried forward */
};

/* A growing array of strings (borrowed or owned, as the user says). */
struct strv {
	char **v;
	size_t n;
	size_t cap;
};

struct ingest {
	struct src_ctx ctx;
	struct cli_common com;
	struct src_arg *src;
	size_t n_src;
	struct strv tags;
	struct strv excludes;	/* owned copies */
	const char *host;
	const char *time_arg;
	int is_one_file_system;
	/* The progress thread, on a terminal. */
	pthread_t thread;
	pthread_cond_t cond;
	int has_thread;
	int is_done;		/* guarded by ctx.lock */
	struct timespec t0;
};

void
src_warn(struct src_ctx *c, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	/* Paths can be long (deep trees): no fixed-size buffer. */
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->lock);
	c->progress.n_warnings++;
	if (c->is_line_shown) {
		fputs("\r\033[K", stderr);
		c->is_line_shown = 0;
	}
	/* As cli_warn(), which would cut a long message. */
	fprintf(stderr, "%s: warning: %s\n", CMD,
	    n >= 0 ? msg : "(out of memory for a warning)");
	pthread_mutex_unlock(&c->lock);
	if (n >= 0)
		free(msg);
}

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

static double
elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- arguments -------------------------------------------------------- */

/* [A-Za-z0-9._-]+, not starting with a dot (DESIGN.md). */
static int
is_valid_name(const char *s, size_t len)
{
	if (len == 0 || len > STORE_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-'))
			return 0;
	}
	return 1;
}

static const char *
opt_name(uint8_t kind)
{
	return kind == STORE_FILES ? "--dir" : kind == STORE_REPOS ?
	    "--repo" : "--pipeline";
}

/* Parse NAME=WHERE of a source option; prints and returns 2 if bad. */
static int
add_source(struct ingest *in, uint8_t kind, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct src_arg *v;
	struct src_arg *a;
	size_t nlen;

	if (eq == NULL || eq[1] == '\0') {
		cli_err(CMD, "%s %s: expected NAME=%s", opt_name(kind), arg,
		    kind == STORE_FILES ? "PATH" : kind == STORE_REPOS ?
		    "LOCATION" : "SPEC");
		return CLI_EXIT_USAGE;
	}
	nlen = (size_t)(eq - arg);
	if (!is_valid_name(arg, nlen)) {
		cli_err(CMD, "%s %s: bad source name (use [A-Za-z0-9._-], "
		    "not starting with a dot, at most %d bytes)",
		    opt_name(kind), arg, STORE_NAME_MAX);
		return CLI_EXIT_USAGE;
	}
	if ((v = realloc(in->src, (in->n_src + 1) * sizeof(*v))) == NULL)
		return CLI_EXIT_ERROR;
	in->src = v;
	a = &v[in->n_src];
	memset(a, 0, sizeof(*a));
	if ((a->name = strdup(arg)) == NULL)
		return CLI_EXIT_ERROR;
	a->name[nlen] = '\0';
	a->where = a->name + nlen + 1;
	a->kind = kind;
	in->n_src++;
	return 0;
}

/*
 * The names each source takes in the snapshot must be unique per kind; a
 * repository NAME also takes NAME.git.  Prints and returns 2 on a clash.
 */
static int
check_unique(const struct ingest *in)
{
	for (size_t i = 0; i < in->n_src; i++) {
		const struct src_arg *a = &in->src[i];

		for (size_t j = 0; j < i; j++) {
			const struct src_arg *b = &in->src[j];
			size_t la = strlen(a->name);
			size_t lb = strlen(b->name);
			int is_clash;

			if (a->kind != b->kind)
				continue;
			is_clash = strcmp(a->name, b->name) == 0;
			if (a->kind == STORE_REPOS && !is_clash)
				is_clash = (la == lb + 4 &&
				    strncmp(a->name, b->name, lb) == 0 &&
				    strcmp(a->name + lb, ".git") == 0) ||
				    (lb == la + 4 &&
				    strncmp(b->name, a->name, la) == 0 &&
				    strcmp(b->name + la, ".git") == 0);
			if (is_clash) {
				cli_err(CMD, "%s %s: the name clashes with %s "
				    "%s", opt_name(a->kind), a->name,
				    opt_name(b->kind), b->name);
				return CLI_EXIT_USAGE;
			}
		}
	}
	return 0;
}

/* Read patterns from ${path}, one a line; empty and '#' lines skipped. */
static int
read_exclude_file(struct ingest *in, const char *path)
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
		    strv_add(&in->excludes, p) < 0) {
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

static int
parse_args(struct ingest *in, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "pipeline", required_argument, NULL, OPT_PIPELINE },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "time", required_argument, NULL, OPT_TIME },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE },
		{ "one-file-system", no_argument, NULL, OPT_ONE_FILE_SYSTEM },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	int r;

	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
	    NULL)) != -1) {
		char *p;

		if (cli_common_opt(&in->com, opt, optarg))
			continue;
		switch (opt) {
		case OPT_DIR:
		case OPT_REPO:
		case OPT_PIPELINE:
			r = add_source(in, opt == OPT_DIR ? STORE_FILES :
			    opt == OPT_REPO ? STORE_REPOS : STORE_PIPELINES,
			    optarg);
			if (r)
				return r;
			break;
		case OPT_TAG:
			if (!cli_tag_ok(optarg)) {
				cli_err(CMD, "--tag: a tag is 1 to 255 "
				    "printable characters");
				return CLI_EXIT_USAGE;
			}
			if (strv_add(&in->tags, optarg) < 0)
				return CLI_EXIT_ERROR;
			break;
		case OPT_HOST:
			if (!cli_tag_ok(optarg)) {
				cli_err(CMD, "--host: 1 to 255 printable "
				    "characters");
				return CLI_EXIT_USAGE;
			}
			in->host = optarg;
			break;
		case OPT_TIME:
			in->time_arg = optarg;
			break;
		case OPT_EXCLUDE:
			if ((p = strdup(optarg)) == NULL ||
			    strv_add(&in->excludes, p) < 0) {
				free(p);
				return CLI_EXIT_ERROR;
			}
			break;
		case OPT_EXCLUDE_FILE:
			if ((r = read_exclude_file(in, optarg)) != 0)
				return r;
			break;
		case OPT_ONE_FILE_SYSTEM:
			in->is_one_file_system = 1;
			break;
		default:
			return cli_usage(argv[0], usage, 1);
		}
	}
	if (in->com.is_help)
		return -1;
	if (argc - optind != 1) {
		if (argc - optind < 1)
			cli_err(CMD, "no STORE given");
		else
			cli_err(CMD, "unexpected argument '%s'",
			    argv[optind + 1]);
		return cli_usage(argv[0], usage, 1);
	}
	if (in->n_src == 0) {
		cli_err(CMD, "no source given (--dir, --repo, --pipeline)");
		return cli_usage(argv[0], usage, 1);
	}
	return check_unique(in);
}

/* ---- progress --------------------------------------------------------- */

static void *
progress_main(void *arg)
{
	struct ingest *in = arg;
	struct src_ctx *c = &in->ctx;
	struct timespec until;

	pthread_mutex_lock(&c->lock);
	while (!in->is_done) {
		char bytes[32];
		char rate[32];
		double t = elapsed(&in->t0);

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += PROGRESS_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&in->cond, &c->lock, &until);
		if (in->is_done)
			break;
		cli_size_human(c->progress.n_bytes, bytes, sizeof(bytes));
		cli_size_human(t > 0 ? (uint64_t)((double)c->progress.n_bytes
		    / t) : 0, rate, sizeof(rate));
		fprintf(stderr, "\r%" PRIu64 " files, %s read, %s/s%s\033[K",
		    c->progress.n_files, bytes, rate,
		    c->progress.n_warnings ? ", warnings" : "");
		c->is_line_shown = 1;
	}
	if (c->is_line_shown)
		fputs("\r\033[K", stderr);
	c->is_line_shown = 0;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void
progress_start(struct ingest *in)
{
	if (in->com.is_quiet || !isatty(2))
		return;
	if (pthread_create(&in->thread, NULL, progress_main, in) == 0)
		in->has_thread = 1;
}

static void
progress_stop(struct ingest *in)
{
	if (!in->has_thread)
		return;
	pthread_mutex_lock(&in->ctx.lock);
	in->is_done = 1;
	pthread_cond_signal(&in->cond);
	pthread_mutex_unlock(&in->ctx.lock);
	pthread_join(in->thread, NULL);
	in->has_thread = 0;
}

/* ---- running the sources ---------------------------------------------- */

/* This source (kind, name) in ${snap}, or NULL. */
static const struct store_source *
prev_source(const struct store_snap *snap, uint8_t kind, const char *name)
{
	if (snap == NULL)
		return NULL;
	for (size_t i = 0; i < snap->n_sources; i++)
		if (snap->sources[i].kind == kind &&
		    strcmp(snap->sources[i].name, name) == 0)
			return &snap->sources[i];
	return NULL;
}

/*
 * A source that failed: carry its stored version (or versions, for a
 * repository) forward from the newest snapshot, flagged stale.
 */
static size_t
carry_forward(const struct store_snap *prev, struct src_arg *a,
    struct store_source *out)
{
	const struct store_source *p = prev_source(prev, a->kind, a->name);
	char mirror[STORE_NAME_MAX + 8];
	size_t n = 0;

	if (p != NULL) {
		out[n] = *p;
		/* Not one more manifest with an older version's token. */
		url_redact(p->origin, out[n].origin, sizeof(out[n].origin));
		out[n++].flags |= STORE_SOURCE_STALE | STORE_SOURCE_PARTIAL;
	}
	if (a->kind == STORE_REPOS) {
		snprintf(mirror, sizeof(mirror), "%s.git", a->name);
		if ((p = prev_source(prev, a->kind, mirror)) != NULL) {
			out[n] = *p;
			url_redact(p->origin, out[n].origin,
			    sizeof(out[n].origin));
			out[n++].flags |= STORE_SOURCE_STALE |
			    STORE_SOURCE_PARTIAL;
		}
	}
	a->is_stale = n > 0;
	return n;
}

/* Run every reader; fills ${out} (room for 2 per source) and *${n}. */
static void
run_sources(struct ingest *in, const struct store_snap *prev,
    struct store_source *out, size_t *n)
{
	struct src_dir_opts dopts;

	memset(&dopts, 0, sizeof(dopts));
	dopts.excludes = (const char *const *)in->excludes.v;
	dopts.n_excludes = in->excludes.n;
	dopts.is_one_file_system = in->is_one_file_system;
	*n = 0;
	for (size_t i = 0; i < in->n_src; i++) {
		struct src_arg *a = &in->src[i];
		uint64_t w0;
		size_t got = 1;
		int r;

		pthread_mutex_lock(&in->ctx.lock);
		w0 = in->ctx.progress.n_warnings;
		pthread_mutex_unlock(&in->ctx.lock);

		switch (a->kind) {
		case STORE_FILES:
			r = src_dir_read(&in->ctx, a->name, a->where, &dopts,
			    &out[*n]);
			break;
		case STORE_REPOS:
			r = src_git_read(&in->ctx, a->name, a->where,
			    &out[*n]);
			got = 2;
			break;
		default:
			r = src_forge_read(&in->ctx, a->name, a->where,
			    prev_source(prev, a->kind, a->name), &out[*n]);
			break;
		}
		if (r < 0) {
			char shown[4096];

			a->err = r;
			got = carry_forward(prev, a, &out[*n]);
			/* A location's credentials are never shown (url.h). */
			url_redact(a->where, shown, sizeof(shown));
			src_warn(&in->ctx, "%s/%s: %s: %s%s",
			    cli_kind_name(a->kind), a->name, shown,
			    r == -ENOENT || r == -ENOTDIR || r == -EACCES ?
			    strerror(-r) : cli_strerror(r),
			    a->is_stale ? " (the previous snapshot's copy "
			    "is kept, flagged stale)" : " (not in this "
			    "snapshot)");
		}
		pthread_mutex_lock(&in->ctx.lock);
		a->n_warnings = in->ctx.progress.n_warnings - w0;
		pthread_mutex_unlock(&in->ctx.lock);
		*n += got;
	}
}

/* ---- the summary ------------------------------------------------------ */

static void
summary_text(const struct ingest *in, const char *hex, const char *name,
    const struct store_writer_stats *st, double secs)
{
	const struct src_progress *p = &in->ctx.progress;
	char rd[32];
	char add[32];

	cli_size_human(p->n_bytes, rd, sizeof(rd));
	cli_size_human(st->bytes_stored, add, sizeof(add));
	fprintf(stderr, "snapshot %s (%.16s) committed\n", name, hex);
	fprintf(stderr, "  %" PRIu64 " files, %s read, %s added, %.1f s, "
	    "%" PRIu64 " warning%s\n", p->n_files, rd, add, secs,
	    p->n_warnings, p->n_warnings == 1 ? "" : "s");
	for (size_t i = 0; i < in->n_src; i++) {
		const struct src_arg *a = &in->src[i];

		if (a->err)
			fprintf(stderr, "  %s/%s: failed%s\n",
			    cli_kind_name(a->kind), a->name, a->is_stale ?
			    ", previous copy kept" : ", left out");
		else if (a->n_warnings)
			fprintf(stderr, "  %s/%s: partial, %" PRIu64 " "
			    "unreadable or changed input%s (see the "
			    "warnings above)\n", cli_kind_name(a->kind),
			    a->name, a->n_warnings,
			    a->n_warnings == 1 ? "" : "s");
	}
}

static int
summary_json(const struct ingest *in, const char *hex, const char *name,
    const struct store_writer_stats *st, double secs)
{
	const struct src_progress *p = &in->ctx.progress;
	json_t *o = json_object();
	json_t *part = json_array();
	char *s = NULL;
	int r = -ENOMEM;

	if (o == NULL || part == NULL)
		goto out;
	for (size_t i = 0; i < in->n_src; i++) {
		const struct src_arg *a = &in->src[i];
		char path[STORE_NAME_MAX + 16];

		snprintf(path, sizeof(path), "%s/%s", cli_kind_name(a->kind),
		    a->name);
		if (a->err == 0 && a->n_warnings == 0)
			continue;
		if (json_array_append_new(part, json_pack("{s:s,s:I,s:b,s:b}",
		    "source", path, "warnings", (json_int_t)a->n_warnings,
		    "failed", a->err != 0, "stale", a->is_stale)) < 0)
			goto out;
	}
	if (json_object_set_new(o, "id", json_string(hex)) < 0 ||
	    json_object_set_new(o, "name", json_string(name)) < 0 ||
	    json_object_set_new(o, "files",
	    json_integer((json_int_t)p->n_files)) < 0 ||
	    json_object_set_new(o, "bytes",
	    json_integer((json_int_t)p->n_bytes)) < 0 ||
	    json_object_set_new(o, "added",
	    json_integer((json_int_t)st->bytes_stored)) < 0 ||
	    json_object_set_new(o, "seconds", json_real(secs)) < 0 ||
	    json_object_set_new(o, "warnings",
	    json_integer((json_int_t)p->n_warnings)) < 0 ||
	    json_object_set_new(o, "partial",
	    json_boolean(p->n_warnings != 0)) < 0 ||
	    json_object_set(o, "sources", part) < 0)
		goto out;
	if ((s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6))) == NULL)
		goto out;
	printf("%s\n", s);
	r = fflush(stdout) == 0 ? 0 : -EIO;
out:
	free(s);
	json_decref(part);
	json_decref(o);
	return r;
}

/*
 * The committed snapshot's unique name, from the index brought up to date
 * (a snapshot committed at the same second by someone else may name ours
 * NAME-2); the bare time if the index cannot say.
 */
static void
snap_name(struct store *s, const char *hex, int64_t t, char *name,
    size_t cap)
{
	struct store_snap_list *l = NULL;
	const struct store_snap *sn;

	store_time_format(t, name, cap);
	if (store_index_sync(s, 0) == 0 && store_snapshots(s, &l) == 0 &&
	    store_snap_find(l, hex, &sn) == 0)
		snprintf(name, cap, "%s", sn->name);
	store_snap_list_free(l);
}

/* Deep trees hold one descriptor per level: allow as many as we may. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
cmd_ingest(int argc, char **argv)
{
	struct ingest in;
	struct store *s = NULL;
	struct store_snap_list *list = NULL;
	const struct store_snap *prev = NULL;
	struct store_source *out = NULL;
	struct store_snap_new sn;
	struct store_writer_stats st;
	struct timespec now;
	uint8_t id[STORE_HASH_LEN];
	char hex[2 * STORE_HASH_LEN + 1];
	char name[STORE_SNAP_NAME_LEN];
	char host[256];
	size_t n_out = 0;
	int r;

	/* A sources file is org.c's business, from start to end. */
	if (org_is_wanted(argc, argv))
		return org_ingest(argc, argv);
	memset(&in, 0, sizeof(in));
	memset(&sn, 0, sizeof(sn));
	pthread_mutex_init(&in.ctx.lock, NULL);
	pthread_cond_init(&in.cond, NULL);
	clock_gettime(CLOCK_MONOTONIC, &in.t0);
	clock_gettime(CLOCK_REALTIME, &now);
	sn.time_sec = now.tv_sec;
	sn.time_nsec = (uint32_t)now.tv_nsec;
	if ((r = parse_args(&in, argc, argv)) != 0) {
		if (r < 0)
			r = cli_usage(argv[0], usage, 0);
		goto out;
	}
	if (in.time_arg != NULL &&
	    store_time_parse(in.time_arg, &sn.time_sec, &sn.time_nsec) < 0) {
		cli_err(CMD, "--time %s: not an RFC 3339 time", in.time_arg);
		r = CLI_EXIT_USAGE;
		goto out;
	}
	if (in.host == NULL) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		in.host = host;
	}
	if ((out = calloc(2 * in.n_src, sizeof(*out))) == NULL) {
		r = CLI_EXIT_ERROR;
		goto out;
	}
	raise_fd_limit();

	if ((r = cli_open(CMD, argv[optind], &in.com, 1, &s)) != 0)
		goto out;
	/* An ingest key's snapshot dated before its parents or its key is
	 * flagged (amber-store(5)): old data is the master's to import. */
	if (!store_is_reader(s) && sn.time_sec < now.tv_sec - STORE_SNAP_SLACK)
		cli_warn(CMD, "--time is in the past: a snapshot of an ingest "
		    "key dated before its parents or its key is flagged, and "
		    "never latest; import old data with the passphrase");
	in.ctx.s = s;
	/* The newest snapshot, for carrying sources forward; optional. */
	if (store_snapshots(s, &list) == 0 &&
	    store_snap_find(list, "latest", &prev) < 0)
		prev = NULL;
	if ((r = store_writer_new(s, &in.ctx.w)) < 0) {
		cli_err(CMD, "%s: %s", argv[optind], cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	progress_start(&in);
	run_sources(&in, prev, out, &n_out);
	progress_stop(&in);
	if (n_out == 0) {
		cli_err(CMD, "no source could be read; nothing committed");
		r = CLI_EXIT_ERROR;
		goto out;
	}
	sn.host = in.host;
	sn.tags = (const char *const *)in.tags.v;
	sn.n_tags = in.tags.n;
	sn.sources = out;
	sn.n_sources = n_out;
	if ((r = store_writer_commit(in.ctx.w, &sn, id)) < 0) {
		cli_err(CMD, "%s: commit failed: %s", argv[optind],
		    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	store_writer_stats(in.ctx.w, &st);
	cli_hex(id, sizeof(id), hex);
	snap_name(s, hex, sn.time_sec, name, sizeof(name));
	if (in.com.is_json) {
		if (summary_json(&in, hex, name, &st, elapsed(&in.t0)) < 0)
			cli_err(CMD, "cannot print the summary");
	} else if (!in.com.is_quiet) {
		summary_text(&in, hex, name, &st, elapsed(&in.t0));
	}
	r = in.ctx.progress.n_warnings ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
	progress_stop(&in);
	store_writer_free(in.ctx.w);
	store_snap_list_free(list);
	store_close(s);
	free(out);
	for (size_t i = 0; i < in.n_src; i++)
		free(in.src[i].name);
	free(in.src);
	strv_free(&in.tags, 0);
	strv_free(&in.excludes, 1);
	pthread_cond_destroy(&in.cond);
	pthread_mutex_destroy(&in.ctx.lock);
	return r;
}
