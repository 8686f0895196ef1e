/*
 * forge_gitlab.c: the GitLab reader.  Endpoints (API v4, relative to
 * /projects/:id, :id being the %-encoded path): the project, the CI
 * configuration files on the default branch (.gitlab-ci.yml, or the
 * project's ci_config_path, and the local files it includes), pipelines
 * newer than the previous snapshot's with their jobs, trigger jobs and
 * job traces, pipeline schedules, CI/CD variables, environments,
 * deployments, protected branches, hooks and releases.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge_gitlab.h"
#include "http.h"

#define GL_MAX_CONFIG_FILES 64
#define GL_CONFIG_MAX ((size_t)4 << 20)

static int
is_finished(const char *status)
{
	static const char *const done[] = {
		"success", "failed", "canceled", "skipped", "manual",
	};
	size_t i;

	if (status == NULL)
		return 1;
	for (i = 0; i < sizeof(done) / sizeof(done[0]); i++)
		if (strcmp(status, done[i]) == 0)
			return 1;
	return 0;
}

/*
 * This is a line scanner, not a YAML parser: it can only miss a file
 * (which the docs say), never fetch one from outside the project.
 */
int
forge_gitlab_includes(const char *text, size_t len, json_t *queue)
{
	const char *p = text;
	const char *end = text + len;
	int in_include = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *e = eol != NULL ? eol : end;
		const char *v = NULL;
		const char *s = p;
		char path[1024];
		int has_dash;
		size_t n;

		if (s < e && *s != ' ' && *s != '\t' && *s != '-' && *s != '#')
			in_include = (size_t)(e - s) >= 8 &&
			    strncmp(s, "include:", 8) == 0;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		has_dash = s < e && *s == '-';
		if (has_dash)
			s++;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if ((size_t)(e - s) > 6 && strncmp(s, "local:", 6) == 0)
			v = s + 6;
		else if ((size_t)(e - s) > 8 && strncmp(s, "include:", 8) == 0)
			v = s + 8;
		else if (in_include && has_dash)
			v = s;
		if (v != NULL) {
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			n = (size_t)(e - v);
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\r' ||
			    v[n - 1] == '\t'))
				n--;
			if (n >= 2 && (v[0] == '\'' || v[0] == '"') &&
			    v[n - 1] == v[0]) {
				v++;
				n -= 2;
			}
			while (n > 0 && *v == '/') {
				v++;
				n--;
			}
			/* Wildcards and remote includes are not followed. */
			if (n > 0 && n < sizeof(path) &&
			    memchr(v, '*', n) == NULL &&
			    memchr(v, ':', n) == NULL &&
			    memchr(v, ' ', n) == NULL &&
			    ((n > 4 && memcmp(v + n - 4, ".yml", 4) == 0) ||
			    (n > 5 && memcmp(v + n - 5, ".yaml", 5) == 0))) {
				json_t *js;

				memcpy(path, v, n);
				path[n] = '\0';
				/* Not UTF-8 (or a NUL inside): not a path. */
				if (memchr(v, '\0', n) == NULL &&
				    (js = json_string(path)) != NULL &&
				    json_array_append_new(queue, js) < 0)
					return -ENOMEM;
			}
		}
		p = e + 1;
	}
	return 0;
}

static int
has_string(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static int
gl_config(struct forge_fetch_proj *g, const char *main_file)
{
	struct forge_fetch *f = g->f;
	json_t *queue = NULL;
	json_t *seen = NULL;
	uint8_t *body = NULL;
	struct err e;
	char enc[2048];
	char path[1100];
	size_t len;
	size_t i;
	int r = -ENOMEM;

	if (!forge_fetch_wants(f, "config"))
		return 0;
	if ((queue = json_array()) == NULL || (seen = json_array()) == NULL ||
	    json_array_append_new(queue, json_string(main_file)) < 0)
		goto out;
	for (i = 0; i < json_array_size(queue); i++) {
		const char *file = json_string_value(json_array_get(queue, i));

		if (file == NULL || has_string(seen, file))
			continue;
		if (json_array_size(seen) >= GL_MAX_CONFIG_FILES)
			break;
		if (json_array_append_new(seen, json_string(file)) < 0)
			goto out;
		snprintf(path, sizeof(path), "config/%s", file);
		if ((r = forge_fetch_config_name(f, file, 0, enc,
		    sizeof(enc))) < 0)
			goto out;
		if (r == 0)
			continue;
		forge_fetch_url(g, "/repository/files/%s/raw?ref=%s", enc,
		    g->ref);
		r = forge_http_get(f->h, g->url, GL_CONFIG_MAX, &body, &len,
		    &e);
		if (r == -ENOENT && i == 0) {
			/* No CI file at all is a fact, not a failure. */
			r = 0;
			continue;
		}
		if (r < 0) {
			if (r == -ENOMEM ||
			    (r = forge_out_error(f->o, path, &e)) < 0)
				goto out;
			continue;
		}
		if ((r = forge_fetch_put(f, path, body, len, 0644)) < 0 ||
		    (r = forge_gitlab_includes((const char *)body, len, queue)) < 0)
			goto out;
		free(body);
		body = NULL;
	}
	r = 0;
out:
	free(body);
	json_decref(queue);
	json_decref(seen);
	return r;
}

/* A job that never started has no trace to fetch. */
static int
has_trace(const json_t *job)
{
	const json_t *v = json_object_get(job, "started_at");

	return v != NULL && !json_is_null(v);
}

/* Whether a job kept an artifacts archive (not only its trace). */
static int
has_archive(const json_t *job)
{
	const json_t *a = json_object_get(job, "artifacts");
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v) {
		const char *t = forge_json_str(v, "file_type");

		if (t != NULL && strcmp(t, "archive") == 0)
			return 1;
	}
	return 0;
}

/* A job's trace, if it started, and its artifacts archive if asked. */
static int
gl_job(struct forge_fetch_proj *g, json_t *job, uint64_t id)
{
	struct forge_fetch *f = g->f;
	unsigned long long jid = (unsigned long long)id;
	char path[64];
	int r;

	if (has_trace(job) && (r = forge_fetch_log(f, id, forge_fetch_url(g,
	    "/jobs/%llu/trace", jid))) < 0)
		return r;
	if (!f->opts.has_artifacts || !has_archive(job))
		return 0;
	snprintf(path, sizeof(path), "artifacts/%llu.zip", jid);
	return forge_fetch_file(f, path, forge_fetch_url(g,
	    "/jobs/%llu/artifacts", jid), path, f->opts.max_artifact);
}

/*
 * Fetch pipeline ${pid} with its jobs and their traces (and artifacts
 * archives when asked).  A run whose
 * jobs or logs could not all be fetched is fetched again next time, as
 * an unfinished one is.
 */
static int
gl_run(struct forge_fetch_proj *g, uint64_t pid)
{
	struct forge_fetch *f = g->f;
	unsigned long long id = (unsigned long long)pid;
	size_t n_errors = forge_out_n_errors(f->o);
	json_t *run = NULL;
	json_t *bridges = NULL;
	char what[64];
	char path[64];
	int r;

	snprintf(what, sizeof(what), "runs/%llu", id);
	snprintf(path, sizeof(path), "runs/%llu.json", id);
	/*
	 * A run that vanished (deleted on the forge) keeps its stored copy
	 * and is not asked for again.
	 */
	if ((r = forge_fetch_json(f, what, forge_fetch_url(g,
	    "/pipelines/%llu", id), path, FORGE_FETCH_RAW |
	    FORGE_FETCH_GONE_OK, 0644, &run)) < 0)
		goto out;
	if (run == NULL)
		return forge_fetch_run_done(f, pid,
		    forge_out_n_errors(f->o) == n_errors);
	if ((r = forge_fetch_jobs(g, pid, forge_fetch_url(g,
	    "/pipelines/%llu/jobs?per_page=100&include_retried=true", id),
	    NULL, gl_job)) < 0)
		goto out;
	/*
	 * Trigger jobs (downstream pipelines) are listed apart; a GitLab
	 * without the endpoint (404) simply has none.
	 */
	snprintf(what, sizeof(what), "jobs of runs/%llu", id);
	if ((r = forge_fetch_list(f, what, forge_fetch_url(g,
	    "/pipelines/%llu/bridges?per_page=100", id), NULL, NULL,
	    FORGE_FETCH_RAW | FORGE_FETCH_GONE_OK, 0, &bridges)) < 0)
		goto out;
	if ((r = forge_fetch_put_items(f, bridges, "jobs")) < 0)
		goto out;
	r = forge_fetch_run_done(f, pid,
	    is_finished(forge_json_str(run, "status")) &&
	    forge_out_n_errors(f->o) == n_errors);
out:
	json_decref(run);
	json_decref(bridges);
	return r;
}

/* forge_fetch_runs() calls back here: a run listed, a run again. */
static int
gl_run_new(void *ctx, json_t *run)
{
	uint64_t id;

	return forge_json_id(run, "id", &id) == 0 ? gl_run(ctx, id) : 0;
}

static int
gl_run_again(void *ctx, uint64_t id)
{
	return gl_run(ctx, id);
}

static int
gl_schedules(struct forge_fetch_proj *g)
{
	struct forge_fetch *f = g->f;
	json_t *list = NULL;
	json_t *all = NULL;
	json_t *v;
	json_t *d;
	size_t i;
	int r;

	if ((r = forge_fetch_list(f, "schedules", forge_fetch_url(g,
	    "/pipeline_schedules?per_page=100"), NULL, NULL, FORGE_FETCH_RAW,
	    0, &list)) < 0 || list == NULL)
		goto out;
	if ((all = json_array()) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* The details carry the schedule's variables; the list does not. */
	json_array_foreach(list, i, v) {
		uint64_t id;

		d = NULL;
		if (forge_json_id(v, "id", &id) == 0 &&
		    (r = forge_fetch_json(f, "schedules", forge_fetch_url(g,
		    "/pipeline_schedules/%llu", (unsigned long long)id),
		    NULL, FORGE_FETCH_RAW, 0, &d)) < 0)
			goto out;
		if (json_array_append_new(all, d != NULL ? d :
		    json_incref(v)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	forge_json_scrub(all, f->opts.is_names_only);
	r = forge_out_put_json(f->o, "schedules.json", all, 0600);
out:
	json_decref(list);
	json_decref(all);
	return r;
}

int
forge_gitlab_read(struct forge_fetch *f, const char *project)
{
	struct forge_fetch_proj *g = NULL;
	json_t *proj = NULL;
	const char *branch;
	const char *cfg;
	int r;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -ENOMEM;
	g->f = f;
	memcpy(g->under, "/projects/", 10);
	if (http_url_encode(project, strlen(project), 0, g->under + 10,
	    sizeof(g->under) - 10) < 0) {
		r = -EINVAL;
		goto out;
	}
	if ((r = forge_fetch_begin(f, forge_fetch_url(g, "%s", ""),
	    "project.json", &proj)) < 0)
		goto out;
	branch = forge_json_str(proj, "default_branch");
	cfg = forge_json_str(proj, "ci_config_path");
	/* "file@group/project" and URLs name configuration kept elsewhere */
	if (cfg == NULL || cfg[0] == '\0' || strchr(cfg, '@') != NULL ||
	    strchr(cfg, ':') != NULL)
		cfg = ".gitlab-ci.yml";
	if (branch != NULL && http_url_encode(branch, strlen(branch), 0,
	    g->ref, sizeof(g->ref)) == 0 && (r = gl_config(g, cfg)) < 0)
		goto out;
	if ((r = forge_fetch_runs(f, forge_fetch_url(g,
	    "/pipelines?order_by=id&sort=desc&per_page=100"), NULL,
	    gl_run_new, gl_run_again, g)) < 0 ||
	    (r = gl_schedules(g)) < 0 ||
	    (r = forge_fetch_list(f, "variables", forge_fetch_url(g,
	    "/variables?per_page=100"), NULL, "variables.json",
	    FORGE_FETCH_VALUES, 0600, NULL)) < 0 ||
	    (r = forge_fetch_list(f, "environments", forge_fetch_url(g,
	    "/environments?per_page=100"), NULL, "environments.json",
	    FORGE_FETCH_RAW, 0644, NULL)) < 0 ||
	    (r = forge_fetch_deployments(f, forge_fetch_url(g, "/deployments?"
	    "order_by=id&sort=desc&per_page=100"), NULL)) < 0 ||
	    (r = forge_fetch_list(f, "protected_branches", forge_fetch_url(g,
	    "/protected_branches?per_page=100"), NULL,
	    "protected_branches.json", FORGE_FETCH_RAW, 0644, NULL)) < 0)
		goto out;
	r = forge_fetch_end(g);
out:
	json_decref(proj);
	free(g);
	return r;
}
