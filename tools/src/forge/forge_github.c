/*
 * forge_github.c: the GitHub reader.  Endpoints (relative to
 * /repos/OWNER/REPO): the repository, the workflow files on the default
 * branch (contents of .github/workflows), workflows, workflow runs newer
 * than the previous snapshot's with their jobs, job logs (a redirect to
 * another host, followed without the token) and artifacts' metadata,
 * Actions secrets (names: GitHub never returns values) and variables of
 * the repository and of each environment, environments, deployments with
 * their statuses, protected branches with their protection, hooks (the
 * secret removed) and releases.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge_github.h"
#include "http.h"

#define GH_MAX_WORKFLOW_FILES 256

/* The workflow files (.yml, .yaml in .github/workflows), base64. */
static int
gh_config(struct forge_fetch_proj *g)
{
	struct forge_fetch *f = g->f;
	json_t *list = NULL;
	json_t *file = NULL;
	json_t *v;
	uint8_t *data = NULL;
	struct err e;
	char enc[1024];
	char path[1100];
	size_t n = 0;
	size_t len;
	size_t i;
	int r;

	if (!forge_fetch_wants(f, "config"))
		return 0;
	r = forge_http_get_json(f->h, forge_fetch_url(g,
	    "/contents/.github/workflows?ref=%s", g->ref), &list, &e);
	if (r == -ENOENT)
		return 0;	/* no workflows: nothing to keep */
	if (r < 0)
		return r == -ENOMEM ? r : forge_out_error(f->o, "config", &e);
	if (!json_is_array(list)) {
		json_decref(list);
		return 0;
	}
	json_array_foreach(list, i, v) {
		const char *p = forge_json_str(v, "path");
		const char *type = forge_json_str(v, "type");
		const char *content;
		const char *encoding;
		size_t pl;

		if (p == NULL || type == NULL || strcmp(type, "file") != 0)
			continue;
		pl = strlen(p);
		if (!((pl > 4 && strcmp(p + pl - 4, ".yml") == 0) ||
		    (pl > 5 && strcmp(p + pl - 5, ".yaml") == 0)))
			continue;
		if (++n > GH_MAX_WORKFLOW_FILES)
			break;
		snprintf(path, sizeof(path), "config/%s", p);
		if ((r = forge_fetch_config_name(f, p, 1, enc,
		    sizeof(enc))) < 0)
			goto out;
		if (r == 0)
			continue;
		json_decref(file);
		file = NULL;
		if ((r = forge_fetch_json(f, path, forge_fetch_url(g,
		    "/contents/%s?ref=%s", enc, g->ref), NULL,
		    FORGE_FETCH_RAW, 0, &file)) < 0)
			goto out;
		if (file == NULL)
			continue;
		content = forge_json_str(file, "content");
		encoding = forge_json_str(file, "encoding");
		free(data);
		data = NULL;
		if (content == NULL || encoding == NULL ||
		    strcmp(encoding, "base64") != 0 ||
		    forge_json_b64(content, strlen(content), &data,
		    &len) < 0) {
			e.status = 200;
			snprintf(e.msg, sizeof(e.msg), "%.200s: no base64 "
			    "content in the answer", p);
			if ((r = forge_out_error(f->o, path, &e)) < 0)
				goto out;
			continue;
		}
		if ((r = forge_fetch_put(f, path, data, len, 0644)) < 0)
			goto out;
	}
	r = 0;
out:
	free(data);
	json_decref(file);
	json_decref(list);
	return r;
}

/* A job's log, once the job has started (the one thing a job keeps). */
static int
gh_job(struct forge_fetch_proj *g, json_t *job, uint64_t id)
{
	const char *status = forge_json_str(job, "status");

	if (status == NULL || strcmp(status, "queued") == 0 ||
	    strcmp(status, "waiting") == 0 || strcmp(status, "pending") == 0)
		return 0;
	return forge_fetch_log(g->f, id, forge_fetch_url(g,
	    "/actions/jobs/%llu/logs", (unsigned long long)id));
}

/* A run's jobs, their logs and its artifacts' metadata. */
static int
gh_run(struct forge_fetch_proj *g, json_t *run)
{
	struct forge_fetch *f = g->f;
	size_t n_errors = forge_out_n_errors(f->o);
	json_t *arts = NULL;
	json_t *a;
	const char *status;
	unsigned long long id;
	uint64_t rid;
	char what[64];
	char path[64];
	size_t i;
	int r;

	if (forge_json_id(run, "id", &rid) < 0)
		return 0;
	id = (unsigned long long)rid;
	snprintf(path, sizeof(path), "runs/%llu.json", id);
	if ((r = forge_out_put_json(f->o, path, run, 0644)) < 0 ||
	    (r = forge_fetch_jobs(g, rid, forge_fetch_url(g,
	    "/actions/runs/%llu/jobs?per_page=100&filter=all", id), "jobs",
	    gh_job)) < 0)
		return r;
	snprintf(what, sizeof(what), "artifacts of runs/%llu", id);
	snprintf(path, sizeof(path), "artifacts/%llu.json", id);
	if ((r = forge_fetch_list(f, what, forge_fetch_url(g,
	    "/actions/runs/%llu/artifacts?per_page=100", id), "artifacts",
	    path, FORGE_FETCH_RAW, 0644, &arts)) < 0)
		goto out;
	/* The archives answer with a redirect, as logs do. */
	json_array_foreach(f->opts.has_artifacts ? arts : NULL, i, a) {
		uint64_t aid;
		json_t *x = json_object_get(a, "expired");

		if (forge_json_id(a, "id", &aid) < 0 || json_is_true(x))
			continue;
		snprintf(path, sizeof(path), "artifacts/%llu.zip",
		    (unsigned long long)aid);
		if ((r = forge_fetch_file(f, path, forge_fetch_url(g,
		    "/actions/artifacts/%llu/zip", (unsigned long long)aid),
		    path, f->opts.max_artifact)) < 0)
			goto out;
	}
	status = forge_json_str(run, "status");
	r = forge_fetch_run_done(f, rid, status != NULL &&
	    strcmp(status, "completed") == 0 &&
	    forge_out_n_errors(f->o) == n_errors);
out:
	json_decref(arts);
	return r;
}

/* A run of the previous snapshot's unfinished ones, read again. */
static int
gh_run_again(void *ctx, uint64_t id)
{
	struct forge_fetch_proj *g = ctx;
	struct forge_fetch *f = g->f;
	size_t n_errors = forge_out_n_errors(f->o);
	json_t *run = NULL;
	char what[64];
	int r;

	snprintf(what, sizeof(what), "runs/%llu", (unsigned long long)id);
	/* A deleted run keeps its stored copy; no more asking. */
	if ((r = forge_fetch_json(f, what, forge_fetch_url(g,
	    "/actions/runs/%llu", (unsigned long long)id), NULL,
	    FORGE_FETCH_RAW | FORGE_FETCH_GONE_OK, 0, &run)) < 0)
		return r;
	if (run == NULL)
		return forge_fetch_run_done(f, id,
		    forge_out_n_errors(f->o) == n_errors);
	r = gh_run(g, run);
	json_decref(run);
	return r;
}

/* A run of the listing: forge_fetch_runs() calls back here. */
static int
gh_run_new(void *ctx, json_t *run)
{
	return gh_run(ctx, run);
}

/*
 * The secrets and variables listed under ${at} ("/actions" or
 * "/environments/NAME"), as members "secrets" and "variables" of ${obj};
 * ${of} ends their names in _errors.json ("" or " of environment NAME").
 */
static int
gh_values(struct forge_fetch_proj *g, const char *at, const char *of,
    json_t *obj)
{
	static const char *const keys[] = { "secrets", "variables" };
	json_t *l;
	char what[400];
	size_t i;
	int r;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(what, sizeof(what), "%s%s", keys[i], of);
		if ((r = forge_fetch_list(g->f, what, forge_fetch_url(g,
		    "%s/%s?per_page=100", at, keys[i]), keys[i], NULL,
		    FORGE_FETCH_VALUES, 0, &l)) < 0)
			return r;
		if (l != NULL && json_object_set_new(obj, keys[i], l) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * variables.json: {"secrets": [...], "variables": [...], "environments":
 * {NAME: {"secrets": [...], "variables": [...]}}}.  Secrets are names and
 * dates only: GitHub never returns their values.
 */
static int
gh_variables(struct forge_fetch_proj *g, json_t *envs)
{
	struct forge_fetch *f = g->f;
	json_t *all = NULL;
	json_t *per_env = NULL;
	json_t *v;
	char enc[600];
	char at[640];
	char of[340];
	size_t i;
	int r = -ENOMEM;

	if (!forge_fetch_wants(f, "variables") &&
	    !forge_fetch_wants(f, "secrets"))
		return 0;
	if ((all = json_object()) == NULL || (per_env = json_object()) == NULL)
		goto out;
	if ((r = gh_values(g, "/actions", "", all)) < 0)
		goto out;
	json_array_foreach(envs, i, v) {
		const char *name = forge_json_str(v, "name");
		json_t *one;

		if (name == NULL || http_url_encode(name, strlen(name), 0,
		    enc, sizeof(enc)) < 0)
			continue;
		if ((one = json_object()) == NULL ||
		    json_object_set_new(per_env, name, one) < 0) {
			r = -ENOMEM;
			goto out;
		}
		snprintf(at, sizeof(at), "/environments/%s", enc);
		snprintf(of, sizeof(of), " of environment %.300s", name);
		if ((r = gh_values(g, at, of, one)) < 0)
			goto out;
	}
	if (json_object_size(per_env) > 0 &&
	    json_object_set(all, "environments", per_env) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = forge_out_put_json(f->o, "variables.json", all, 0600);
out:
	json_decref(per_env);
	json_decref(all);
	return r;
}

/* Deployments, each with its statuses. */
static int
gh_deployments(struct forge_fetch_proj *g)
{
	struct forge_fetch *f = g->f;
	json_t *list = NULL;
	json_t *v;
	size_t i;
	int r;

	if ((r = forge_fetch_deployments(f, forge_fetch_url(g,
	    "/deployments?per_page=100"), &list)) < 0)
		return r;
	json_array_foreach(list, i, v) {
		uint64_t id;
		char path[96];

		if (forge_json_id(v, "id", &id) < 0)
			continue;
		snprintf(path, sizeof(path), "deployments/%llu.statuses.json",
		    (unsigned long long)id);
		if ((r = forge_fetch_list(f, path, forge_fetch_url(g,
		    "/deployments/%llu/statuses?per_page=100",
		    (unsigned long long)id), NULL, path, FORGE_FETCH_RAW,
		    0644, NULL)) < 0)
			break;
	}
	json_decref(list);
	return r;
}

/* protected_branches.json: {BRANCH: protection} */
static int
gh_protection(struct forge_fetch_proj *g)
{
	struct forge_fetch *f = g->f;
	json_t *list = NULL;
	json_t *all = NULL;
	json_t *p = NULL;
	json_t *v;
	char enc[600];
	char what[400];
	size_t i;
	int r;

	if ((r = forge_fetch_list(f, "protected_branches", forge_fetch_url(g,
	    "/branches?protected=true&per_page=100"), NULL, NULL,
	    FORGE_FETCH_RAW, 0, &list)) < 0 || list == NULL)
		return r;
	if ((all = json_object()) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(list, i, v) {
		const char *name = forge_json_str(v, "name");

		if (name == NULL || http_url_encode(name, strlen(name), 0,
		    enc, sizeof(enc)) < 0)
			continue;
		snprintf(what, sizeof(what), "protection of branch %.300s",
		    name);
		if ((r = forge_fetch_json(f, what, forge_fetch_url(g,
		    "/branches/%s/protection", enc), NULL, FORGE_FETCH_RAW,
		    0, &p)) < 0)
			goto out;
		if (p != NULL && json_object_set_new(all, name, p) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = forge_out_put_json(f->o, "protected_branches.json", all, 0644);
out:
	json_decref(all);
	json_decref(list);
	return r;
}

int
forge_github_read(struct forge_fetch *f, const char *repo)
{
	struct forge_fetch_proj *g = NULL;
	json_t *rp = NULL;
	json_t *envs = NULL;
	const char *slash = strchr(repo, '/');
	const char *branch;
	char owner[300];
	char name[300];
	size_t n;
	int r;

	if (slash == NULL || slash == repo || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		return -EINVAL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -ENOMEM;
	g->f = f;
	n = (size_t)(slash - repo);
	if (http_url_encode(repo, n, 0, owner, sizeof(owner)) < 0 ||
	    http_url_encode(slash + 1, strlen(slash + 1), 0, name,
	    sizeof(name)) < 0) {
		r = -EINVAL;
		goto out;
	}
	snprintf(g->under, sizeof(g->under), "/repos/%s/%s", owner, name);
	if ((r = forge_fetch_begin(f, forge_fetch_url(g, "%s", ""),
	    "repository.json", &rp)) < 0)
		goto out;
	branch = forge_json_str(rp, "default_branch");
	if (branch != NULL && http_url_encode(branch, strlen(branch), 0,
	    g->ref, sizeof(g->ref)) == 0 && (r = gh_config(g)) < 0)
		goto out;
	if ((r = forge_fetch_list(f, "workflows", forge_fetch_url(g,
	    "/actions/workflows?per_page=100"), "workflows", "workflows.json",
	    FORGE_FETCH_RAW, 0644, NULL)) < 0 ||
	    (r = forge_fetch_runs(f, forge_fetch_url(g,
	    "/actions/runs?per_page=100"), "workflow_runs", gh_run_new,
	    gh_run_again, g)) < 0 ||
	    (r = forge_fetch_list(f, "environments", forge_fetch_url(g,
	    "/environments?per_page=100"), "environments",
	    "environments.json", FORGE_FETCH_RAW, 0644, &envs)) < 0 ||
	    (r = gh_variables(g, envs)) < 0 ||
	    (r = gh_deployments(g)) < 0 ||
	    (r = gh_protection(g)) < 0)
		goto out;
	r = forge_fetch_end(g);
out:
	json_decref(envs);
	json_decref(rp);
	free(g);
	return r;
}
