/*
 * forge_fetch.c: fetch-and-store steps shared by forge_gitlab.c and
 * forge_github.c.  The rule they implement: what the forge fails to give
 * is recorded (the snapshot is then partial) and the reader goes on;
 * only a failure of the store itself ends the source.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge_fetch.h"
#include "http.h"

#define FORGE_LOG_DEFAULT ((size_t)64 << 20)
#define FORGE_ARTIFACT_DEFAULT ((size_t)256 << 20)

static int
env_size(const char *name, size_t dflt, size_t *v, const char **bad)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long n;

	*v = dflt;
	if (s == NULL || s[0] == '\0')
		return 0;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] < '0' || s[0] > '9') {
		*bad = name;
		return -EINVAL;
	}
	*v = (size_t)n;
	return 0;
}

int
forge_fetch_opts_env(struct forge_fetch_opts *o, const char **bad)
{
	size_t v;
	int r;

	if ((r = env_size("AMBER_FORGE_RUNS", 20, &o->first_runs, bad)) < 0 ||
	    (r = env_size("AMBER_FORGE_MAX_RUNS", 1000, &o->max_new_runs,
	    bad)) < 0 ||
	    (r = env_size("AMBER_FORGE_MAX_LOG", FORGE_LOG_DEFAULT,
	    &o->max_log, bad)) < 0)
		return r;
	if ((r = env_size("AMBER_FORGE_NAMES_ONLY", 0, &v, bad)) < 0)
		return r;
	o->is_names_only = v != 0;
	if ((r = env_size("AMBER_FORGE_LOGS", 1, &v, bad)) < 0)
		return r;
	o->has_logs = v != 0;
	if ((r = env_size("AMBER_FORGE_ARTIFACTS", 0, &v, bad)) < 0 ||
	    (r = env_size("AMBER_FORGE_MAX_ARTIFACT", FORGE_ARTIFACT_DEFAULT,
	    &o->max_artifact, bad)) < 0)
		return r;
	o->has_artifacts = v != 0;
	o->skip = getenv("AMBER_FORGE_SKIP");
	return 0;
}

int
forge_fetch_wants(const struct forge_fetch *f, const char *what)
{
	size_t n = strcspn(what, " /");
	const char *p = f->opts.skip;

	while (p != NULL && *p != '\0') {
		size_t k = strcspn(p, ",");

		if (k == n && strncmp(p, what, n) == 0)
			return 0;
		p += k;
		if (*p == ',')
			p++;
	}
	return 1;
}

int
forge_fetch_init(struct forge_fetch *f, struct src_ctx *c,
    struct forge_out *o, struct forge_http *h,
    const struct forge_fetch_opts *opts)
{
	json_t *state = NULL;
	json_t *u;
	int r;

	memset(f, 0, sizeof(*f));
	f->c = c;
	f->o = o;
	f->h = h;
	f->opts = *opts;
	if ((f->still_unfinished = json_array()) == NULL)
		return -ENOMEM;
	if ((r = forge_out_prev_max(o, "runs", &f->prev_max_run)) < 0)
		return r;
	r = forge_out_prev_json(o, "_state.json", &state);
	if (r == -ENOENT || r == -EBADMSG) {
		/* No state (first time, or an exported directory before). */
		r = 0;
	} else if (r == 0) {
		u = json_object_get(state, "unfinished_runs");
		if (json_is_array(u))
			f->unfinished = json_incref(u);
	}
	json_decref(state);
	return r;
}

void
forge_fetch_fini(struct forge_fetch *f)
{
	json_decref(f->unfinished);
	json_decref(f->still_unfinished);
	f->unfinished = NULL;
	f->still_unfinished = NULL;
}

static void
scrub(json_t *j, int how, int is_names_only)
{
	if (how == FORGE_FETCH_SECRETS)
		forge_json_scrub(j, 0);
	else if (how == FORGE_FETCH_VALUES)
		forge_json_scrub(j, is_names_only);
}

/* Record ${r} from forge_http_* (not a store failure) and return 0. */
static int
record(struct forge_fetch *f, const char *what, int r,
    const struct err *e)
{
	if (r == -ENOMEM)
		return r;
	return forge_out_error(f->o, what, e);
}

/* What forge_fetch_json() and forge_fetch_list() share. */
static int
fetch(struct forge_fetch *f, const char *what, const char *url,
    int is_list, const char *key, const char *path, int how, uint32_t mode,
    json_t **out)
{
	struct err e;
	json_t *j = NULL;
	int r;

	if (out != NULL)
		*out = NULL;
	if (!forge_fetch_wants(f, what))
		return 0;
	if (is_list)
		r = forge_http_get_all(f->h, url, key, 0, &j, &e);
	else
		r = forge_http_get_json(f->h, url, &j, &e);
	if (r == -ENOENT && (how & FORGE_FETCH_GONE_OK))
		return 0;
	if (r < 0)
		return record(f, what, r, &e);
	scrub(j, how & 0xff, f->opts.is_names_only);
	if (path != NULL && (r = forge_out_put_json(f->o, path, j, mode)) < 0)
		goto out;
	if (out != NULL) {
		*out = j;
		j = NULL;
	}
out:
	json_decref(j);
	return r;
}

int
forge_fetch_json(struct forge_fetch *f, const char *what, const char *url,
    const char *path, int how, uint32_t mode, json_t **out)
{
	return fetch(f, what, url, 0, NULL, path, how, mode, out);
}

int
forge_fetch_list(struct forge_fetch *f, const char *what, const char *url,
    const char *key, const char *path, int how, uint32_t mode, json_t **out)
{
	return fetch(f, what, url, 1, key, path, how, mode, out);
}

int
forge_fetch_newer(struct forge_fetch *f, const char *what, const char *url,
    const char *key, uint64_t above, json_t **out)
{
	struct err e;
	int r;

	*out = NULL;
	r = forge_http_get_newer(f->h, url, key, above, above > 0 ?
	    f->opts.max_new_runs : f->opts.first_runs, out, &e);
	return r < 0 ? record(f, what, r, &e) : 0;
}

int
forge_fetch_runs(struct forge_fetch *f, const char *url, const char *key,
    int (*run)(void *ctx, json_t *item), int (*again)(void *ctx, uint64_t id),
    void *ctx)
{
	json_t *list = NULL;
	json_t *v;
	uint64_t id;
	size_t i;
	int r;

	if (!forge_fetch_wants(f, "runs"))
		return 0;
	if ((r = forge_fetch_newer(f, "runs", url, key, f->prev_max_run,
	    &list)) < 0)
		return r;
	json_array_foreach(list, i, v)
		if ((r = run(ctx, v)) < 0)
			goto out;
	i = 0;
	while (forge_fetch_next_unfinished(f, &i, &id))
		if ((r = again(ctx, id)) < 0)
			goto out;
out:
	json_decref(list);
	return r;
}

int
forge_fetch_deployments(struct forge_fetch *f, const char *url,
    json_t **out)
{
	json_t *list = NULL;
	uint64_t above;
	int r;

	if (out != NULL)
		*out = NULL;
	if (!forge_fetch_wants(f, "deployments"))
		return 0;
	if ((r = forge_out_prev_max(f->o, "deployments", &above)) < 0 ||
	    (r = forge_fetch_newer(f, "deployments", url, NULL, above,
	    &list)) < 0)
		return r;
	if ((r = forge_fetch_put_items(f, list, "deployments")) == 0 &&
	    out != NULL) {
		*out = list;
		list = NULL;
	}
	json_decref(list);
	return r;
}

int
forge_fetch_next_unfinished(struct forge_fetch *f, size_t *i, uint64_t *id)
{
	char path[64];
	json_t *v;

	for (; *i < json_array_size(f->unfinished); (*i)++) {
		v = json_array_get(f->unfinished, *i);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			continue;
		snprintf(path, sizeof(path), "runs/%lld.json",
		    (long long)json_integer_value(v));
		if (forge_out_has(f->o, path))
			continue;
		*id = (uint64_t)json_integer_value(v);
		(*i)++;
		return 1;
	}
	return 0;
}

int
forge_fetch_config_name(struct forge_fetch *f, const char *name,
    int keep_slash, char *enc, size_t cap)
{
	struct err e;
	int r;

	if (forge_json_is_safe_path(name) && http_url_encode(name,
	    strlen(name), keep_slash, enc, cap) == 0)
		return 1;
	e.status = 0;
	snprintf(e.msg, sizeof(e.msg), "unusable file name %.200s", name);
	if ((r = forge_out_error(f->o, "config", &e)) < 0)
		return r;
	return 0;
}

int
forge_fetch_put_item(struct forge_fetch *f, json_t *item, const char *dir,
    uint64_t *id)
{
	char path[96];
	int r;

	if (forge_json_id(item, "id", id) < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%llu.json", dir,
	    (unsigned long long)*id);
	if ((r = forge_out_put_json(f->o, path, item, 0644)) < 0)
		return r;
	return 1;
}

int
forge_fetch_put_items(struct forge_fetch *f, json_t *items, const char *dir)
{
	json_t *v;
	size_t i;
	int r;

	json_array_foreach(items, i, v) {
		uint64_t id;

		if ((r = forge_fetch_put_item(f, v, dir, &id)) < 0)
			return r;
	}
	return 0;
}

const char *
forge_fetch_url(struct forge_fetch_proj *p, const char *fmt, ...)
{
	char path[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    forge_http_url(p->f->h, p->url, sizeof(p->url), "%s%s", p->under,
	    path) < 0)
		p->url[0] = '\0';
	return p->url;
}

int
forge_fetch_jobs(struct forge_fetch_proj *p, uint64_t run, const char *url,
    const char *key,
    int (*job)(struct forge_fetch_proj *p, json_t *item, uint64_t id))
{
	json_t *jobs = NULL;
	json_t *v;
	char what[64];
	size_t i;
	int r;

	snprintf(what, sizeof(what), "jobs of runs/%llu",
	    (unsigned long long)run);
	if ((r = forge_fetch_list(p->f, what, url, key, NULL, FORGE_FETCH_RAW,
	    0, &jobs)) < 0)
		return r;
	json_array_foreach(jobs, i, v) {
		uint64_t id;

		if ((r = forge_fetch_put_item(p->f, v, "jobs", &id)) < 0 ||
		    (r == 1 && (r = job(p, v, id)) < 0))
			break;
	}
	json_decref(jobs);
	return r < 0 ? r : 0;
}

int
forge_fetch_end(struct forge_fetch_proj *p)
{
	int r;

	if ((r = forge_fetch_list(p->f, "hooks", forge_fetch_url(p,
	    "/hooks?per_page=100"), NULL, "hooks.json", FORGE_FETCH_SECRETS,
	    0644, NULL)) < 0 ||
	    (r = forge_fetch_list(p->f, "releases", forge_fetch_url(p,
	    "/releases?per_page=100"), NULL, "releases.json",
	    FORGE_FETCH_RAW, 0644, NULL)) < 0)
		return r;
	return forge_fetch_state(p->f);
}

int
forge_fetch_begin(struct forge_fetch *f, const char *url, const char *file,
    json_t **out)
{
	/* Kept from the previous snapshot, and added to. */
	static const char *const carried[] = {
		"runs", "jobs", "logs", "artifacts", "deployments",
	};
	struct err e;
	size_t i;
	int r;

	*out = NULL;
	for (i = 0; i < sizeof(carried) / sizeof(carried[0]); i++)
		if ((r = forge_out_carry(f->o, carried[i])) < 0)
			return r;
	if ((r = forge_http_get_json(f->h, url, out, &e)) < 0) {
		if (r != -ENOMEM)
			src_warn(f->c, "%s", e.msg);
		return r;
	}
	return forge_out_put_json(f->o, file, *out, 0644);
}

int
forge_fetch_file(struct forge_fetch *f, const char *what, const char *url,
    const char *path, size_t max)
{
	struct err e;
	uint8_t *body = NULL;
	size_t len;
	int r;

	if (!forge_fetch_wants(f, what))
		return 0;
	r = forge_http_get(f->h, url, max, &body, &len, &e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return record(f, what, r, &e);
	r = forge_out_put(f->o, path, body, len, 0644);
	free(body);
	return r;
}

int
forge_fetch_log(struct forge_fetch *f, uint64_t job, const char *url)
{
	char path[64];
	char what[64];

	if (!f->opts.has_logs)
		return 0;
	snprintf(path, sizeof(path), "logs/%llu.log", (unsigned long long)job);
	snprintf(what, sizeof(what), "logs/%llu", (unsigned long long)job);
	return forge_fetch_file(f, what, url, path, f->opts.max_log);
}

int
forge_fetch_put(struct forge_fetch *f, const char *path, const void *buf,
    size_t len, uint32_t mode)
{
	struct err e;
	int r;

	if ((r = forge_out_put(f->o, path, buf, len, mode)) != -EINVAL)
		return r;
	e.status = 0;
	snprintf(e.msg, sizeof(e.msg), "%.300s: a file and a directory of "
	    "that name", path);
	return forge_out_error(f->o, "config", &e);
}

int
forge_fetch_run_done(struct forge_fetch *f, uint64_t id, int is_finished)
{
	if (is_finished)
		return 0;
	if (json_array_append_new(f->still_unfinished,
	    json_integer((json_int_t)id)) < 0)
		return -ENOMEM;
	return 0;
}

static int
cmp_ids(const void *a, const void *b)
{
	json_int_t x = json_integer_value(*(json_t *const *)a);
	json_int_t y = json_integer_value(*(json_t *const *)b);

	return (x > y) - (x < y);
}

int
forge_fetch_state(struct forge_fetch *f)
{
	json_t *state = NULL;
	json_t **v = NULL;
	json_t *sorted = NULL;
	size_t n;
	size_t i;
	int r = -ENOMEM;

	/* Runs left out this time: the runs to fetch again stay the same. */
	if (!forge_fetch_wants(f, "runs") && f->unfinished != NULL &&
	    json_array_extend(f->still_unfinished, f->unfinished) < 0)
		return -ENOMEM;
	n = json_array_size(f->still_unfinished);

	/* Sorted, so that the same set always gives the same bytes. */
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		v[i] = json_array_get(f->still_unfinished, i);
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_ids);
	if ((sorted = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append(sorted, v[i]) < 0)
			goto out;
	if ((state = json_pack("{s:O}", "unfinished_runs", sorted)) == NULL)
		goto out;
	if ((r = forge_out_put_json(f->o, "_state.json", state, 0644)) == 0)
		r = forge_out_cache_state(f->o, state);
out:
	json_decref(state);
	json_decref(sorted);
	free(v);
	return r;
}
