/*
 * summary.c: the summary of an ingest run (ingesti.h): on stderr, lines
 * for humans (sources that were not ok, the snapshot's name and
 * figures), or with --json one object on stdout (amber(1), ingest).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ingest.h"
#include "ingesti.h"
#include "sources.h"
#include "store.h"
#include "url.h"

#define CMD "amber ingest"

static const char *const status_names[] = {
	"ok", "partial", "stale", "failed", "absent",
};

size_t
ingest_count(const struct run *o, enum status st)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n_jobs; i++)
		n += o->jobs[i].st == st;
	return n;
}

/* The lines of a sources file's run (amber-sources(5)): every source. */
static void
lines_sources(const struct run *o)
{
	fprintf(stderr, "  %zu sources: %zu ok, %zu partial, %zu stale, "
	    "%zu failed; %zu vanished\n",
	    o->n_jobs - ingest_count(o, ST_ABSENT), ingest_count(o, ST_OK),
	    ingest_count(o, ST_PARTIAL), ingest_count(o, ST_STALE),
	    ingest_count(o, ST_FAILED), o->n_vanished);
	for (size_t i = 0; i < o->n_groups; i++) {
		const struct group *g = &o->groups[i];

		if (g->err < 0)
			fprintf(stderr, "  %s %s: listing failed: %s\n",
			    sources_type_name(g->e->type), g->e->where,
			    g->why.msg);
		else
			fprintf(stderr, "  %s %s: %zu repositor%s\n",
			    sources_type_name(g->e->type), g->e->where,
			    g->repos.n, g->repos.n == 1 ? "y" : "ies");
	}
	for (size_t i = 0; i < o->n_jobs; i++) {
		const struct job *j = &o->jobs[i];

		if (j->st == ST_ABSENT)
			continue;
		fprintf(stderr, "  %-8s %s/%s", status_names[j->st],
		    store_kind_name(j->kind), j->name);
		if (j->st == ST_STALE || j->st == ST_FAILED)
			fprintf(stderr, ": %s%s", j->why.msg, j->st == ST_STALE ?
			    " (previous copy kept)" : "");
		else if (j->st == ST_PARTIAL)
			fprintf(stderr, " (see the warnings above)");
		fputc('\n', stderr);
	}
	for (size_t i = 0; i < o->n_vanished; i++)
		fprintf(stderr, "  %-8s %s (no longer listed; older snapshots "
		    "keep it)\n", "vanished", o->vanished[i]);
}

/* The lines of a command-line run (amber(1)): only what went wrong. */
static void
lines_args(const struct run *o)
{
	for (size_t i = 0; i < o->n_jobs; i++) {
		const struct job *j = &o->jobs[i];

		if (j->err)
			fprintf(stderr, "  %s/%s: failed%s\n",
			    store_kind_name(j->kind), j->name,
			    j->st == ST_STALE ? ", previous copy kept" :
			    ", left out");
		else if (j->n_warnings)
			fprintf(stderr, "  %s/%s: partial, %" PRIu64 " "
			    "unreadable or changed input%s (see the "
			    "warnings above)\n", store_kind_name(j->kind),
			    j->name, j->n_warnings,
			    j->n_warnings == 1 ? "" : "s");
	}
}

static void
summary_text(const struct run *o, const char *hex, const char *name,
    const struct store_writer_stats *st, double secs)
{
	const struct src_progress *p = &o->ctx.progress;
	char rd[32];
	char add[32];

	cli_size_human(p->n_bytes, rd, sizeof(rd));
	cli_size_human(st->bytes_stored, add, sizeof(add));
	fprintf(stderr, "snapshot %s (%.16s) committed\n", name, hex);
	fprintf(stderr, "  %" PRIu64 " files, %s read, %s added, %.1f s",
	    p->n_files, rd, add, secs);
	if (o->opts->is_sources_file)
		fprintf(stderr, " (listing %.1f s, fetching %.1f s with %zu "
		    "jobs, storing %.1f s)", o->t_discover, o->t_fetch,
		    o->opts->n_jobs_max, o->t_store);
	fprintf(stderr, ", %" PRIu64 " warning%s\n", p->n_warnings,
	    p->n_warnings == 1 ? "" : "s");
	if (o->opts->is_sources_file)
		lines_sources(o);
	else
		lines_args(o);
}

/* The "sources", "groups" and "vanished" of a sources file's run. */
static int
json_sources(const struct run *o, json_t *root)
{
	json_t *srcs = json_array();
	json_t *van = json_array();
	json_t *grp = json_array();
	int r = -ENOMEM;

	if (srcs == NULL || van == NULL || grp == NULL)
		goto out;
	for (size_t i = 0; i < o->n_jobs; i++) {
		const struct job *j = &o->jobs[i];
		char path[STORE_NAME_MAX + 16];
		char shown[SHOWN_MAX];

		if (j->st == ST_ABSENT)
			continue;
		snprintf(path, sizeof(path), "%s/%s", store_kind_name(j->kind),
		    j->name);
		url_redact(j->where, shown, sizeof(shown));
		if (json_array_append_new(srcs, json_pack("{s:s,s:s,s:s,s:I,"
		    "s:s?}", "source", path, "origin", shown, "status",
		    status_names[j->st], "warnings", (json_int_t)j->n_warnings,
		    "error", j->err ? j->why.msg : NULL)) < 0)
			goto out;
	}
	for (size_t i = 0; i < o->n_vanished; i++)
		if (json_array_append_new(van, json_string(o->vanished[i])) < 0)
			goto out;
	for (size_t i = 0; i < o->n_groups; i++) {
		const struct group *g = &o->groups[i];

		if (json_array_append_new(grp, json_pack("{s:s,s:s,s:s,s:I,"
		    "s:s?}", "type", sources_type_name(g->e->type), "where",
		    g->e->where, "status", g->err < 0 ? "failed" : "ok",
		    "repositories", (json_int_t)g->repos.n, "error",
		    g->err < 0 ? g->why.msg : NULL)) < 0)
			goto out;
	}
	if (json_object_set_new(root, "stale",
	    json_integer((json_int_t)ingest_count(o, ST_STALE))) < 0 ||
	    json_object_set(root, "groups", grp) < 0 ||
	    json_object_set(root, "sources", srcs) < 0 ||
	    json_object_set(root, "vanished", van) < 0)
		goto out;
	r = 0;
out:
	json_decref(srcs);
	json_decref(van);
	json_decref(grp);
	return r;
}

/* The "sources" of a command-line run: those partial or failed. */
static int
json_args(const struct run *o, json_t *root)
{
	json_t *part = json_array();
	int r = -ENOMEM;

	if (part == NULL)
		goto out;
	for (size_t i = 0; i < o->n_jobs; i++) {
		const struct job *j = &o->jobs[i];
		char path[STORE_NAME_MAX + 16];

		snprintf(path, sizeof(path), "%s/%s", store_kind_name(j->kind),
		    j->name);
		if (j->err == 0 && j->n_warnings == 0)
			continue;
		if (json_array_append_new(part, json_pack("{s:s,s:I,s:b,s:b}",
		    "source", path, "warnings", (json_int_t)j->n_warnings,
		    "failed", j->err != 0, "stale", j->st == ST_STALE)) < 0)
			goto out;
	}
	if (json_object_set(root, "sources", part) < 0)
		goto out;
	r = 0;
out:
	json_decref(part);
	return r;
}

static int
summary_json(const struct run *o, const char *hex, const char *name,
    const struct store_writer_stats *st, double secs)
{
	const struct src_progress *p = &o->ctx.progress;
	int is_file = o->opts->is_sources_file;
	json_t *root = json_object();
	char *s = NULL;
	int r = -ENOMEM;

	if (root == NULL ||
	    json_object_set_new(root, "id", json_string(hex)) < 0 ||
	    json_object_set_new(root, "name", json_string(name)) < 0 ||
	    json_object_set_new(root, "files",
	    json_integer((json_int_t)p->n_files)) < 0 ||
	    json_object_set_new(root, "bytes",
	    json_integer((json_int_t)p->n_bytes)) < 0 ||
	    json_object_set_new(root, "added",
	    json_integer((json_int_t)st->bytes_stored)) < 0 ||
	    json_object_set_new(root, "seconds", json_real(secs)) < 0 ||
	    (is_file && json_object_set_new(root, "timing",
	    json_pack("{s:f,s:f,s:f,s:I}", "listing", o->t_discover,
	    "fetching", o->t_fetch, "storing", o->t_store, "jobs",
	    (json_int_t)o->opts->n_jobs_max)) < 0) ||
	    json_object_set_new(root, "warnings",
	    json_integer((json_int_t)p->n_warnings)) < 0 ||
	    json_object_set_new(root, "partial",
	    json_boolean(p->n_warnings != 0)) < 0 ||
	    (is_file ? json_sources(o, root) : json_args(o, root)) < 0)
		goto out;
	/* The command line's form has always had 6 significant digits. */
	if ((s = json_dumps(root, is_file ? JSON_COMPACT :
	    JSON_COMPACT | JSON_REAL_PRECISION(6))) == NULL)
		goto out;
	printf("%s\n", s);
	r = fflush(stdout) == 0 ? 0 : -EIO;
out:
	free(s);
	json_decref(root);
	return r;
}

/* The summary, in the form of the run's kind (ingest.h). */
void
ingest_summary(const struct run *o, const char *hex, const char *name,
    const struct store_writer_stats *st)
{
	const struct cli_common *com = o->opts->com;
	double secs = ingest_now() - o->t0;

	if (com->is_json) {
		if (summary_json(o, hex, name, st, secs) < 0)
			cli_err(CMD, "cannot print the summary");
	} else if (!com->is_quiet) {
		summary_text(o, hex, name, st, secs);
	}
}

