/*
 * ingest.c: the ingest pipeline (ingest.h), for the sources of the
 * command line and of a sources file alike.  The run has three steps
 * after the caller has parsed its arguments (a bad sources file is exit 2
 * with its line number, and nothing is written):
 *
 *  1. plan: every named source is a job; every gitlab-group and
 *     github-org is expanded through the forge's listing
 *     (forge_discover.c) into repositories, their wikis and their
 *     pipeline sources; a repository whose clone URL is off the forge's
 *     hosts (and those --allow-clone-host adds) fails at once, unfetched;
 *  2. fetch every git repository into its local mirror cache, and read
 *     every pipeline source of a forge API dry, recording the forge's
 *     answers on a tape (src_forge_prefetch(), forge_tape.h), --jobs at
 *     a time, in threads (network, git and store reads only; no writer);
 *  3. read every source into the store, one after the other, a pipeline
 *     source from its tape (no request), then commit one snapshot.
 *
 * Why fetch in parallel and store in sequence: the store writer is one
 * thread at a time (store.h), and its own pool of threads already
 * compresses and seals chunks on every core; what leaves cores idle is
 * waiting on the network: git's fetch, and the forge's API answers.  The
 * pipeline reader interleaves its requests with its writes, so it runs
 * twice: dry in step 2, where it asks and records, and in step 3, where
 * it is answered from the tape and writes; it asks the same things both
 * times (same answers, same previous snapshot), so the snapshot is what
 * one live read would store, whatever the threads' timing.  Bounds: the
 * tapes are unlinked files in the store's cache directory, so answers
 * waiting for step 3 cost disk, not memory: at most INGEST_TAPES_MAX
 * (ingesti.h) wait, one descriptor and a stdio buffer each; the sources
 * beyond are read live in step 3.  The forge's rate limits are shared by
 * every thread (forge_http.h).
 *
 * A source that fails is carried forward from the newest snapshot (when
 * the key can read it) and flagged stale; one that vanished from its
 * group's listing is not carried (older snapshots keep it) and is named
 * in the summary.  A listing that fails is not a vanishing: every source
 * of that group is then carried forward, stale.  Progress goes to stderr
 * on a terminal, the summary to stderr, or to stdout with --json.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "forge_discover.h"
#include "forge_http.h"
#include "forge_tape.h"
#include "hex.h"
#include "ingest.h"
#include "ingesti.h"
#include "source.h"
#include "sources.h"
#include "src_git.h"
#include "store.h"
#include "url.h"

#define CMD "amber ingest"
#define TABLE_LISTING "org-listing"	/* local cache: a group's names */
#define TABLE_STALE "stale-runs"	/* "KIND/NAME" -> decimal count */
#define TABLE_RUN "ingest-run"	/* KEY_SUCCESS -> decimal Unix time */
#define KEY_SUCCESS "last-success"
#define CACHE_NUM_MAX 20	/* digits of a cached number */
#define TIME_MAX 253402300799LL	/* 9999-12-31T23:59:59Z */
#define PROGRESS_NS 250000000L	/* at most 4 updates a second */

double
ingest_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the plan ----------------------------------------------------------- */

static struct job *
job_find(const struct run *o, uint8_t kind, const char *name)
{
	for (size_t i = 0; i < o->n_jobs; i++)
		if (o->jobs[i].kind == kind &&
		    strcmp(o->jobs[i].name, name) == 0)
			return &o->jobs[i];
	return NULL;
}

/*
 * Would ${name} of ${kind} clash with a job already planned?  A
 * repository NAME also takes NAME.git.
 */
static int
is_taken(const struct run *o, uint8_t kind, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < o->n_jobs; i++) {
		const struct job *j = &o->jobs[i];
		size_t m = strlen(j->name);

		if (j->kind != kind)
			continue;
		if (strcmp(j->name, name) == 0)
			return 1;
		if (kind == STORE_REPOS && ((n == m + 4 &&
		    strncmp(name, j->name, m) == 0 &&
		    strcmp(name + m, ".git") == 0) || (m == n + 4 &&
		    strncmp(j->name, name, n) == 0 &&
		    strcmp(j->name + n, ".git") == 0)))
			return 1;
	}
	return 0;
}

/* Set why ${j} fails, for its warning and the summary. */
static void
job_why(struct job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
job_why(struct job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->why.msg, sizeof(j->why.msg), fmt, ap);
	va_end(ap);
}

static int
job_add(struct run *o, uint8_t kind, const char *name, const char *where,
    const struct sources_entry *e, int is_wiki)
{
	struct job *v;
	struct job *j;

	if (is_taken(o, kind, name)) {
		src_warn(&o->ctx, "%s/%s (%s %s): the name is taken by another "
		    "source; left out", store_kind_name(kind), name,
		    sources_type_name(e->type), e->where);
		return 0;
	}
	if ((v = realloc(o->jobs, (o->n_jobs + 1) * sizeof(*v))) == NULL)
		return -ENOMEM;
	o->jobs = v;
	j = &v[o->n_jobs];
	memset(j, 0, sizeof(*j));
	if ((j->name = strdup(name)) == NULL ||
	    (j->where = strdup(where)) == NULL) {
		free(j->name);
		return -ENOMEM;
	}
	j->kind = kind;
	j->e = e;
	j->is_wiki = is_wiki;
	o->n_jobs++;
	return 0;
}

/* This source (kind, name) in the previous snapshot, or NULL. */
static const struct store_source *
prev_source(const struct run *o, uint8_t kind, const char *name)
{
	if (o->prev == NULL)
		return NULL;
	for (size_t i = 0; i < o->prev->n_sources; i++)
		if (o->prev->sources[i].kind == kind &&
		    strcmp(o->prev->sources[i].name, name) == 0)
			return &o->prev->sources[i];
	return NULL;
}

static int
is_prefixed(const char *name, const char *prefix)
{
	return strncasecmp(name, prefix, strlen(prefix)) == 0;
}

static int
vanished_add(struct run *o, const char *what)
{
	char **v = realloc(o->vanished, (o->n_vanished + 1) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	o->vanished = v;
	if ((v[o->n_vanished] = strdup(what)) == NULL)
		return -ENOMEM;
	o->n_vanished++;
	return 0;
}

/*
 * Without a previous snapshot to read (an ingest key), what vanished is
 * told by the listing the last committed run saw, kept in the local cache
 * (TABLE_LISTING, see listing_remember()): a hint, so a lost cache only
 * means that nothing is named as vanished.
 */
static int
vanished_from_cache(struct run *o)
{
	for (size_t k = 0; k < o->n_groups; k++) {
		struct group *g = &o->groups[k];
		char *val = NULL;
		size_t vlen;
		int r = 0;

		if (g->err < 0 || store_cache_get(o->ctx.s, TABLE_LISTING,
		    g->e->where, strlen(g->e->where), (void **)&val,
		    &vlen) < 0)
			continue;
		/* "NAME\n" records; anything else ends the reading. */
		for (size_t i = 0; r == 0 && i < vlen;) {
			char *nl = memchr(val + i, '\n', vlen - i);
			char what[STORE_NAME_MAX + 16];
			size_t n;

			if (nl == NULL)
				break;
			n = (size_t)(nl - (val + i));
			*nl = '\0';
			if (store_source_name_ok(val + i, n) &&
			    job_find(o, STORE_REPOS, val + i) == NULL) {
				snprintf(what, sizeof(what), "repos/%s",
				    val + i);
				r = vanished_add(o, what);
			}
			i += n + 1;
		}
		free(val);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Remember, once the snapshot commits, the repositories each listing
 * gave (and the wikis found), for vanished_from_cache() next time.
 */
static void
listing_remember(struct run *o)
{
	for (size_t k = 0; k < o->n_groups; k++) {
		struct group *g = &o->groups[k];
		char *buf = NULL;
		size_t len = 0;
		FILE *f;

		if (g->err < 0 || (f = open_memstream(&buf, &len)) == NULL)
			continue;
		for (size_t i = 0; i < o->n_jobs; i++)
			if (o->jobs[i].e == g->e && o->jobs[i].kind ==
			    STORE_REPOS && o->jobs[i].st != ST_ABSENT)
				fprintf(f, "%s\n", o->jobs[i].name);
		if (fclose(f) == 0)
			store_writer_cache_put(o->ctx.w, TABLE_LISTING,
			    g->e->where, strlen(g->e->where), buf, len);
		free(buf);
	}
}

/*
 * Expand every group and organisation.  A listing that fails makes its
 * group's previous sources jobs that fail at once (so that they are
 * carried forward, stale); a listing that succeeds makes the previous
 * sources it no longer holds vanished.
 */
static int
plan(struct run *o)
{
	const struct sources *s = o->src;
	int r;

	/* Named sources first: they win a clash with a listed one. */
	for (size_t i = 0; i < s->n; i++) {
		const struct sources_entry *e = &s->v[i];
		uint8_t kind = e->type == SOURCES_DIR ? STORE_FILES :
		    e->type == SOURCES_REPO ? STORE_REPOS : STORE_PIPELINES;

		if (e->name != NULL &&
		    (r = job_add(o, kind, e->name, e->where, e, 0)) < 0)
			return r;
	}
	if ((o->groups = calloc(s->n, sizeof(*o->groups))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		const struct sources_entry *e = &s->v[i];
		struct group *g;

		if (e->name != NULL)
			continue;
		g = &o->groups[o->n_groups++];
		g->e = e;
		if (forge_discover_prefix(e, g->prefix, sizeof(g->prefix)) < 0)
			g->prefix[0] = '\0';
		g->err = forge_discover(e, o->opts->allow, o->opts->n_allow, &g->repos,
		    &g->why);
		if (g->err == -ENOMEM)
			return g->err;
		if (g->err < 0) {
			src_warn(&o->ctx, "%s %s: the listing failed: %s; its "
			    "repositories are carried forward",
			    sources_type_name(e->type), e->where, g->why.msg);
			continue;
		}
		for (size_t k = 0; k < g->repos.n_bad; k++)
			src_warn(&o->ctx, "%s %s: %s: not a valid source name "
			    "or URL; left out", sources_type_name(e->type),
			    e->where, g->repos.bad[k]);
		for (size_t k = 0; k < g->repos.n; k++) {
			const struct forge_repo *p = &g->repos.v[k];
			char wname[STORE_NAME_MAX + 1];
			size_t n0 = o->n_jobs;

			if ((r = job_add(o, STORE_REPOS, p->name, p->clone_url,
			    e, 0)) < 0)
				return r;
			if (p->refused != NULL && o->n_jobs > n0) {
				/* Listed, so not vanished; but not cloned. */
				o->jobs[o->n_jobs - 1].err = -EPERM;
				job_why(&o->jobs[o->n_jobs - 1],
				    "%s", p->refused);
			}
			snprintf(wname, sizeof(wname), "%s.wiki", p->name);
			if (p->wiki_url != NULL && (r = job_add(o, STORE_REPOS,
			    wname, p->wiki_url, e, 1)) < 0)
				return r;
			if (p->pipeline_spec != NULL && (r = job_add(o,
			    STORE_PIPELINES, p->name, p->pipeline_spec, e,
			    0)) < 0)
				return r;
		}
	}
	if (o->prev == NULL)
		return vanished_from_cache(o);
	/* What each group held in the previous snapshot and holds no more. */
	for (size_t i = 0; i < o->prev->n_sources; i++) {
		const struct store_source *ps = &o->prev->sources[i];
		size_t n = strlen(ps->name);
		char what[STORE_NAME_MAX + 16];

		if (ps->kind == STORE_FILES || (ps->kind == STORE_REPOS &&
		    n > 4 && strcmp(ps->name + n - 4, ".git") == 0))
			continue;
		for (size_t k = 0; k < o->n_groups; k++) {
			struct group *g = &o->groups[k];

			if (g->prefix[0] == '\0' ||
			    !is_prefixed(ps->name, g->prefix) ||
			    job_find(o, ps->kind, ps->name) != NULL)
				continue;
			if (g->err < 0) {
				/* Not a vanishing: carry it, stale. */
				if ((r = job_add(o, ps->kind, ps->name,
				    ps->origin, g->e, 0)) < 0)
					return r;
				o->jobs[o->n_jobs - 1].err = g->err;
				job_why(&o->jobs[o->n_jobs - 1],
				    "the listing failed");
			} else if (ps->kind == STORE_REPOS) {
				snprintf(what, sizeof(what), "repos/%s",
				    ps->name);
				if ((r = vanished_add(o, what)) < 0)
					return r;
			}
			break;
		}
	}
	return 0;
}

/* ---- step 2: fetching in parallel ------------------------------------- */

/* A repository a listing gave is held to its forge's host (src_git.h). */
static unsigned
job_git_flags(const struct job *j)
{
	return j->e->name == NULL ? SRC_GIT_LISTED : 0;
}

/*
 * Record the forge's answers for the pipelines source ${j} on a tape
 * (src_forge_prefetch()), unless INGEST_TAPES_MAX wait already: the
 * store phase then reads it without a request, or from the network.
 */
static void
prefetch(struct run *o, struct job *j)
{
	struct src_ctx dry;
	int is_slot;

	pthread_mutex_lock(&o->ctx.lock);
	if ((is_slot = o->n_tapes < o->n_tapes_max))
		o->n_tapes++;
	pthread_mutex_unlock(&o->ctx.lock);
	if (!is_slot)
		return;
	memset(&dry, 0, sizeof(dry));
	dry.s = o->ctx.s;
	dry.is_verbose = o->ctx.is_verbose;
	dry.is_dry = 1;
	pthread_mutex_init(&dry.lock, NULL);
	/* Out of memory: the store phase reads it from the network. */
	(void)src_forge_prefetch(&dry, j->name, j->where,
	    prev_source(o, j->kind, j->name), store_index_dir(o->ctx.s),
	    &j->tape);
	pthread_mutex_destroy(&dry.lock);
}

static void *
fetch_main(void *arg)
{
	struct run *o = arg;

	for (;;) {
		struct job *j;
		size_t i;
		int r;

		pthread_mutex_lock(&o->ctx.lock);
		i = o->next++;
		pthread_mutex_unlock(&o->ctx.lock);
		if (i >= o->n_jobs)
			break;
		j = &o->jobs[i];
		if (j->kind == STORE_PIPELINES && j->err == 0)
			prefetch(o, j);
		if (j->kind != STORE_REPOS || j->err != 0)
			continue;
		if (j->is_wiki && prev_source(o, STORE_REPOS,
		    j->name) == NULL && (r = src_git_has_heads(j->name,
		    j->where, job_git_flags(j))) <= 0) {
			/* No wiki now and none before: nothing to keep. */
			j->is_absent = r == 0;
			j->fetch_err = r;
			continue;
		}
		j->fetch_err = src_git_fetch(&o->ctx, j->name, j->where,
		    job_git_flags(j));
	}
	return NULL;
}

static void
fetch_all(struct run *o)
{
	pthread_t th[INGEST_JOBS_MAX];
	size_t n = o->opts->n_jobs_max;
	size_t started = 0;
	struct rlimit rl;

	o->next = 0;
	o->n_tapes = 0;
	o->n_tapes_max = INGEST_TAPES_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY && rl.rlim_cur / 4 < o->n_tapes_max)
		o->n_tapes_max = (size_t)(rl.rlim_cur / 4);
	if (n > o->n_jobs)
		n = o->n_jobs;
	for (size_t i = 0; i < n; i++)
		if (pthread_create(&th[started], NULL, fetch_main, o) == 0)
			started++;
	if (started == 0)
		fetch_main(o);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* ---- step 3: storing in sequence -------------------------------------- */

static uint64_t
warnings_now(struct run *o)
{
	uint64_t n;

	pthread_mutex_lock(&o->ctx.lock);
	n = o->ctx.progress.n_warnings;
	pthread_mutex_unlock(&o->ctx.lock);
	return n;
}

/* Carry ${j} forward from the previous snapshot; the sources it added. */
static size_t
carry_forward(struct run *o, struct job *j, struct store_source *out)
{
	const struct store_source *p = prev_source(o, j->kind, j->name);
	char mirror[STORE_NAME_MAX + 8];
	size_t n = 0;

	if (p != NULL) {
		out[n] = *p;
		/* Not one more manifest with an older version's token. */
		url_redact(p->origin, out[n].origin, sizeof(out[n].origin));
		out[n++].flags |= STORE_SOURCE_STALE | STORE_SOURCE_PARTIAL;
	}
	if (j->kind == STORE_REPOS) {
		snprintf(mirror, sizeof(mirror), "%s.git", j->name);
		if ((p = prev_source(o, j->kind, mirror)) != NULL) {
			out[n] = *p;
			url_redact(p->origin, out[n].origin,
			    sizeof(out[n].origin));
			out[n++].flags |= STORE_SOURCE_STALE |
			    STORE_SOURCE_PARTIAL;
		}
	}
	return n;
}

/*
 * Why the source ${j} failed with ${r}, for its warning and the summary.
 * A reader's -EACCES is a permission on its input, never the store's
 * wrong key that cli_strerror() names, and a forge's refused token has
 * its own code (forge_http.h).
 */
static const char *
job_strerror(const struct job *j, int r)
{
	if (r == -FORGE_ETOKEN)
		return "the forge refused the token";
	if (r == -EIO && j->kind == STORE_REPOS)
		return "git failed (see its messages above)";
	if (r == -EIO && j->kind == STORE_PIPELINES)
		return "the forge failed us (see the warning above)";
	if (r == -EAGAIN && j->kind == STORE_PIPELINES)
		return "the forge's rate limit resets later than "
		    "AMBER_FORGE_MAX_WAIT allows (see the warning above)";
	if (r == -EACCES || r == -EIO)
		return strerror(-r);
	return cli_strerror(r);
}

/* src_git_reuse() of ${j}'s two sources from the previous snapshot. */
static int
git_reuse(struct run *o, struct job *j, struct store_source out[2])
{
	char mirror[STORE_NAME_MAX + 8];

	snprintf(mirror, sizeof(mirror), "%s.git", j->name);
	return src_git_reuse(&o->ctx, j->name, j->where, job_git_flags(j),
	    prev_source(o, STORE_REPOS, j->name),
	    prev_source(o, STORE_REPOS, mirror), out);
}

static void
store_all(struct run *o)
{
	for (size_t i = 0; i < o->n_jobs; i++) {
		struct job *j = &o->jobs[i];
		struct store_source *out = &o->out[o->n_out];
		uint64_t w0 = warnings_now(o);
		char shown[SHOWN_MAX];
		size_t got = 1;
		int r;

		if (j->is_absent) {
			j->st = ST_ABSENT;
			continue;
		}
		if (j->err != 0) {
			r = j->err;
		} else if (j->kind == STORE_FILES) {
			struct src_dir_opts d;

			memset(&d, 0, sizeof(d));
			d.excludes = (const char *const *)j->e->excludes;
			d.n_excludes = j->e->n_excludes;
			d.is_one_file_system = j->e->is_one_file_system;
			r = src_dir_read(&o->ctx, j->name, j->where, &d, out);
		} else if (j->kind == STORE_REPOS) {
			got = 2;
			if (j->fetch_err < 0)
				r = j->fetch_err;
			else if (j->fetch_err == 1 && git_reuse(o, j, out) == 0)
				r = 0;	/* unchanged upstream: as stored */
			else
				r = src_git_read_fetched(&o->ctx, j->name,
				    j->where, job_git_flags(j), out);
		} else {
			r = src_forge_read(&o->ctx, j->name, j->where,
			    prev_source(o, j->kind, j->name), j->tape, out);
			forge_tape_free(j->tape);
			j->tape = NULL;
		}
		if (r < 0 && (o->store_err = store_writer_error(o->ctx.w)) < 0)
			return;	/* the store failed, not this source */
		if (r < 0) {
			j->err = r;
			if (j->why.msg[0] == '\0')
				job_why(j, "%s", job_strerror(j, r));
			got = carry_forward(o, j, out);
			j->st = got > 0 ? ST_STALE : ST_FAILED;
			url_redact(j->where, shown, sizeof(shown));
			src_warn(&o->ctx, "%s/%s: %s: %s%s",
			    store_kind_name(j->kind), j->name, shown, j->why.msg,
			    got > 0 ? " (the previous snapshot's copy is "
			    "kept, flagged stale)" : " (not in this "
			    "snapshot)");
		} else {
			for (size_t k = 0; k < got; k++)
				if (out[k].flags & STORE_SOURCE_PARTIAL)
					j->st = ST_PARTIAL;
		}
		j->n_warnings = warnings_now(o) - w0;
		if (j->st == ST_OK && j->n_warnings > 0)
			j->st = ST_PARTIAL;
		o->n_out += got;
	}
}

/* ---- what the run leaves for the metrics ------------------------------ */

/*
 * The number under ${key} in ${table} of the local cache: 1 to
 * CACHE_NUM_MAX decimal digits, at most ${max}.  Anything else (a record
 * damaged or planted) is -EBADMSG and reads as none; a miss is -ENOENT.
 */
static int
cache_num_get(struct store *s, const char *table, const char *key,
    uint64_t max, uint64_t *out)
{
	char *val = NULL;
	size_t vlen = 0;
	uint64_t v = 0;
	int r;

	if ((r = store_cache_get(s, table, key, strlen(key), (void **)&val,
	    &vlen)) < 0)
		return r;
	r = vlen > 0 && vlen <= CACHE_NUM_MAX ? 0 : -EBADMSG;
	for (size_t i = 0; r == 0 && i < vlen; i++) {
		if (val[i] < '0' || val[i] > '9' ||
		    v > (UINT64_MAX - 9) / 10)
			r = -EBADMSG;
		else
			v = v * 10 + (uint64_t)(val[i] - '0');
	}
	free(val);
	if (r == 0 && v > max)
		r = -EBADMSG;
	if (r == 0)
		*out = v;
	return r;
}

/* Put ${v} under ${key} in ${table}, written only if the commit is. */
static void
cache_num_put(struct run *o, const char *table, const char *key,
    uint64_t v)
{
	char buf[CACHE_NUM_MAX + 1];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	/* A lost record only restarts a count: a hint, like the others. */
	(void)store_writer_cache_put(o->ctx.w, table, key, strlen(key), buf,
	    (size_t)n);
}

/*
 * Each source's state for the metrics, into res->sources: its count of
 * consecutive runs not read (stale or failed) taken from the local cache
 * and counted on, or back to 0, and the new count put for the commit.
 */
static int
sources_state(struct run *o, struct ingest_result *res)
{
	struct ingest_source_state *v;

	if ((v = calloc(o->n_jobs + 1, sizeof(*v))) == NULL)
		return -ENOMEM;
	res->sources = v;
	res->n_sources = 0;
	for (size_t i = 0; i < o->n_jobs; i++) {
		const struct job *j = &o->jobs[i];
		struct ingest_source_state *ss = &v[res->n_sources];
		uint64_t n = 0;

		if (j->st == ST_ABSENT)
			continue;
		snprintf(ss->path, sizeof(ss->path), "%s/%s",
		    store_kind_name(j->kind), j->name);
		if (j->st == ST_STALE || j->st == ST_FAILED) {
			if (cache_num_get(o->ctx.s, TABLE_STALE, ss->path,
			    INGEST_STALE_RUNS_MAX, &n) < 0)
				n = 0;
			if (n < INGEST_STALE_RUNS_MAX)
				n++;
		}
		ss->n_stale_runs = n;
		ss->is_failed = j->st == ST_FAILED;
		cache_num_put(o, TABLE_STALE, ss->path, n);
		res->n_sources++;
	}
	return 0;
}

void
ingest_result_fini(struct ingest_result *res)
{
	if (res == NULL)
		return;
	free(res->sources);
	res->sources = NULL;
	res->n_sources = 0;
}

/*
 * The committed snapshot's unique name, from the index brought up to date
 * (a snapshot committed at the same second by someone else may name ours
 * NAME-2); the bare time if the index cannot say (or the key cannot read
 * the snapshots).
 */
static void
snap_name(struct store *s, const char *hex, int64_t t, char *name,
    size_t cap)
{
	struct store_snap_list *l = NULL;
	const struct store_snap *sn;
	uint8_t id[STORE_HASH_LEN];

	store_time_format(t, name, cap);
	/* The commit brought the index's records up to date. */
	if (store_is_reader(s) && hex_decode(hex, id, sizeof(id)) == 0 &&
	    store_snap_name_of(s, id, name, cap) == 0)
		return;
	if (store_is_reader(s) && store_index_sync(s, 0) == 0 &&
	    store_snapshots(s, &l) == 0 && store_snap_find(l, hex, &sn) == 0)
		snprintf(name, cap, "%s", sn->name);
	store_snap_list_free(l);
}

/* ---- progress ------------------------------------------------------------ */

static void *
progress_main(void *arg)
{
	struct run *o = arg;
	struct src_ctx *c = &o->ctx;
	struct timespec until;

	pthread_mutex_lock(&c->lock);
	while (!o->is_done) {
		char bytes[32];
		char rate[32];
		double t = ingest_now() - o->t0;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += PROGRESS_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&o->cond, &c->lock, &until);
		if (o->is_done)
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
progress_start(struct run *o)
{
	if (o->opts->com->is_quiet || !isatty(2))
		return;
	if (pthread_create(&o->thread, NULL, progress_main, o) == 0)
		o->has_thread = 1;
}

static void
progress_stop(struct run *o)
{
	if (!o->has_thread)
		return;
	pthread_mutex_lock(&o->ctx.lock);
	o->is_done = 1;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->ctx.lock);
	pthread_join(o->thread, NULL);
	o->has_thread = 0;
}

/* ---- the run ------------------------------------------------------------- */

static void
run_fini(struct run *o)
{
	progress_stop(o);
	store_writer_free(o->ctx.w);
	for (size_t i = 0; i < o->n_jobs; i++) {
		free(o->jobs[i].name);
		free(o->jobs[i].where);
		forge_tape_free(o->jobs[i].tape);
	}
	free(o->jobs);
	for (size_t i = 0; i < o->n_groups; i++)
		forge_repos_fini(&o->groups[i].repos);
	free(o->groups);
	for (size_t i = 0; i < o->n_vanished; i++)
		free(o->vanished[i]);
	free(o->vanished);
	free(o->out);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->ctx.lock);
}

/*
 * Steps 1 to 3 (see the top of this file) into o->out; the store is open
 * and o->prev set.  Prints and returns the exit status on failure, else 0.
 */
static int
run_steps(struct run *o)
{
	double t = ingest_now();
	int r;

	if ((r = plan(o)) < 0) {
		cli_err(CMD, "%s", cli_strerror(r));
		return cli_exit_status(r);
	}
	o->t_discover = ingest_now() - t;
	if ((o->out = calloc(2 * o->n_jobs + 1, sizeof(*o->out))) == NULL) {
		cli_err(CMD, "%s", cli_strerror(-ENOMEM));
		return CLI_EXIT_ERROR;
	}
	progress_start(o);
	t = ingest_now();
	fetch_all(o);
	o->t_fetch = ingest_now() - t;
	if ((r = store_writer_new(o->ctx.s, &o->ctx.w)) < 0) {
		cli_err(CMD, "%s: %s", o->opts->location, cli_strerror(r));
		return cli_exit_status(r);
	}
	t = ingest_now();
	store_all(o);
	o->t_store = ingest_now() - t;
	progress_stop(o);
	if (o->store_err < 0) {
		cli_err(CMD, "%s: writing to the store failed: %s; nothing "
		    "committed", o->opts->location, cli_strerror(o->store_err));
		return cli_exit_status(o->store_err);
	}
	if (o->n_out == 0) {
		cli_err(CMD, "no source could be read; nothing committed");
		return CLI_EXIT_ERROR;
	}
	return 0;
}

int
ingest_run(const struct ingest_opts *opts, const struct sources *src)
{
	struct run o;
	struct store *s = NULL;
	struct store_snap_list *list = NULL;
	struct store_snap_new sn;
	struct store_writer_stats st;
	uint8_t id[STORE_HASH_LEN];
	char hex[2 * STORE_HASH_LEN + 1];
	char name[STORE_SNAP_NAME_LEN];
	char host[256];
	struct ingest_result *res = opts->result;
	uint64_t t_ok = 0;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&sn, 0, sizeof(sn));
	pthread_mutex_init(&o.ctx.lock, NULL);
	pthread_cond_init(&o.cond, NULL);
	o.t0 = ingest_now();
	o.opts = opts;
	o.src = src;
	sn.time_sec = opts->time_sec;
	sn.time_nsec = opts->time_nsec;
	sn.host = opts->host;
	if (sn.host == NULL) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		sn.host = host;
	}
	cli_raise_fd_limit();
	if ((r = cli_open(CMD, opts->location, opts->com, 1, &s)) != 0)
		goto out;
	o.ctx.s = s;
	if (res != NULL && cache_num_get(s, TABLE_RUN, KEY_SUCCESS, TIME_MAX,
	    &t_ok) == 0)
		res->t_success = (int64_t)t_ok;
	/* An ingest key's snapshot dated before its parents or its key is
	 * flagged (amber-store(5)): old data is the master's to import. */
	if (!store_is_reader(s) &&
	    sn.time_sec < (int64_t)time(NULL) - STORE_SNAP_SLACK)
		cli_warn(CMD, "--time is in the past: a snapshot of an ingest "
		    "key dated before its parents or its key is flagged, and "
		    "never latest; import old data with the passphrase");
	/* Needs a reader key; an ingest key carries nothing forward. */
	if (store_is_reader(s) && store_snap_recent(s, INT64_MAX, &list) == 0 &&
	    store_snap_find(list, "latest", &o.prev) < 0)
		o.prev = NULL;
	if ((r = run_steps(&o)) != 0)
		goto out;
	listing_remember(&o);
	t_ok = (uint64_t)time(NULL);
	if (res != NULL) {
		if ((r = sources_state(&o, res)) < 0) {
			cli_err(CMD, "%s", cli_strerror(r));
			r = cli_exit_status(r);
			goto out;
		}
		cache_num_put(&o, TABLE_RUN, KEY_SUCCESS, t_ok);
	}
	sn.tags = opts->tags;
	sn.n_tags = opts->n_tags;
	sn.sources = o.out;
	sn.n_sources = o.n_out;
	if ((r = store_writer_commit(o.ctx.w, &sn, id)) < 0) {
		cli_err(CMD, "%s: commit failed: %s", opts->location,
		    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	store_writer_stats(o.ctx.w, &st);
	if (res != NULL) {
		res->is_committed = 1;
		res->t_success = (int64_t)t_ok;
		res->n_bytes_added = st.bytes_stored;
	}
	hex_encode(id, sizeof(id), hex);
	snap_name(s, hex, sn.time_sec, name, sizeof(name));
	ingest_summary(&o, hex, name, &st);
	r = o.ctx.progress.n_warnings || ingest_count(&o, ST_STALE) ||
	    ingest_count(&o, ST_FAILED) || ingest_count(&o, ST_PARTIAL) ?
	    CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
	if (res != NULL) {
		res->n_bytes_read = o.ctx.progress.n_bytes;
		res->n_files = o.ctx.progress.n_files;
		res->n_warnings = o.ctx.progress.n_warnings;
		if (!res->is_committed)
			ingest_result_fini(res);
	}
	run_fini(&o);
	store_snap_list_free(list);
	store_close(s);
	return r;
}
