/*
 * recover_plan.c: plan the recovery of one project onto a forge
 * (recover.h): the target, the project and its settings, its refs, and
 * the helpers that the other files of this folder share (recoveri.h).
 * The target is read first: the project, its refs (git ls-remote) and
 * each kind of metadata (recover_meta.c); each stored item is then
 * matched by its natural key and becomes "create" when the target lacks
 * it, nothing when the target has it equal, "update" with --update when
 * it differs, else "keep".  So a run after a failure does only what is left, and a
 * second run does nothing.  recover_apply.c carries the plan out.
 *
 * What comes from the snapshot is hostile: names go into URLs only
 * %-encoded, bodies are built from chosen members only, and every file
 * read is bounded (FORGE_JSON_MAX).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "forge_json.h"
#include "http.h"
#include "recoveri.h"
#include "url.h"

/* ---- small helpers ---------------------------------------------------- */

int
recover_url_enc(const char *in, char *out, size_t cap)
{
	return http_url_encode(in, strlen(in), 0, out, cap);
}

json_t *
recover_step(struct recover_proj *p, int stage, const char *action,
    const char *part, const char *name, const char *detail)
{
	json_t *a = json_pack("{s:s, s:s, s:s, s:i}", "action", action,
	    "part", part, "name", name, "_stage", stage);

	if (a == NULL)
		return NULL;
	if (detail != NULL && detail[0] != '\0')
		json_object_set_new(a, "detail", json_string(detail));
	if (json_array_append_new(p->actions, a) < 0)
		return NULL;
	return a;
}

/* Add a request to step ${a}: METHOD URL (below the API base) BODY. */
int
recover_req_add(struct recover_target *t, json_t *a, const char *method,
    const char *path, json_t *body)
{
	json_t *reqs = json_object_get(a, "_req");
	char url[FORGE_URL_MAX];
	json_t *r;

	if (forge_http_url(t->h, url, sizeof(url), "%s", path) < 0) {
		json_decref(body);
		return -ERANGE;
	}
	if (reqs == NULL) {
		reqs = json_array();
		json_object_set_new(a, "_req", reqs);
	}
	r = json_pack("{s:s, s:s}", "method", method, "url", url);
	if (r == NULL) {
		json_decref(body);
		return -ENOMEM;
	}
	if (body != NULL)
		json_object_set_new(r, "body", body);
	return json_array_append_new(reqs, r) < 0 ? -ENOMEM : 0;
}

void
recover_same_add(struct recover_proj *p, const char *part)
{
	json_t *n = json_object_get(p->same, part);

	json_object_set_new(p->same, part, json_integer(n != NULL ?
	    json_integer_value(n) + 1 : 1));
}

void
recover_note(struct recover_proj *p, const char *msg)
{
	json_array_append_new(p->notes, json_string(msg));
}

void
recover_fail(struct recover_proj *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->is_failed) {
		va_start(ap, fmt);
		vsnprintf(p->why, sizeof(p->why), fmt, ap);
		va_end(ap);
	}
	p->is_failed = 1;
}

/* Read pipelines/SRC/${name} as JSON; NULL if absent or not JSON. */
json_t *
recover_stored_json(struct store *s, const struct recover_proj *p,
    const char *name)
{
	char *buf = NULL;
	json_t *j = NULL;
	size_t got;

	if (p->pipes == NULL || store_read_file(s, p->pipes, name,
	    FORGE_JSON_MAX, &buf, &got) < 0)
		goto out;
	if (forge_json_parse((const uint8_t *)buf, got, &j) < 0)
		j = NULL;
out:
	free(buf);
	return j;
}

/* A new object with the members ${keys} of ${in} that it has. */
json_t *
recover_pick(const json_t *in, const char *const *keys)
{
	json_t *o = json_object();
	json_t *v;

	for (; *keys != NULL; keys++)
		if ((v = json_object_get(in, *keys)) != NULL)
			json_object_set(o, *keys, v);
	return o;
}

/* Whether every member of ${want} is in ${have}, equal. */
int
recover_covers(const json_t *have, const json_t *want)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)want, k, v) {
		json_t *h = json_object_get(have, k);

		if (h == NULL || !json_equal(h, v))
			return 0;
	}
	return 1;
}

/* The names of the members of ${want} that ${have} lacks or differs on. */
void
recover_differs(const json_t *have, const json_t *want, char *out, size_t cap)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	out[0] = '\0';
	json_object_foreach((json_t *)want, k, v) {
		json_t *h = json_object_get(have, k);

		if (h != NULL && json_equal(h, v))
			continue;
		n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s",
		    n ? ", " : "differs: ", k);
		if (n >= cap)
			break;
	}
}

/* ---- the target ------------------------------------------------------- */

static const char *
env_first(const char *a, const char *b, const char **which)
{
	const char *v;

	if ((v = getenv(a)) != NULL && v[0] != '\0') {
		*which = a;
		return v;
	}
	if ((v = getenv(b)) != NULL && v[0] != '\0') {
		*which = b;
		return v;
	}
	*which = b;
	return NULL;
}

static int
is_loopback_url(const char *url)
{
	struct url_parts u;

	if (url_parse(url, &u) < 0)
		return 0;
	return (u.host_len == 9 && strncmp(u.host, "127.0.0.1", 9) == 0) ||
	    (u.host_len == 9 && strncasecmp(u.host, "localhost", 9) == 0) ||
	    (u.host_len == 5 && strncmp(u.host, "[::1]", 5) == 0);
}

static int
name_part_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '.' || s[0] == '/' ||
	    strstr(s, "..") != NULL || strstr(s, "//") != NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("._-/", s[i])))
			return 0;
	return s[i - 1] != '/';
}

int
recover_target_open(struct recover_target *t, const char *spec,
    char *why, size_t cap)
{
	struct forge_http_opts ho;
	static const char *const gh_headers[] = {
		"Accept: application/vnd.github+json",
		"X-GitHub-Api-Version: 2022-11-28",
	};
	struct err e;
	const char *rest;
	const char *api;
	const char *v;
	char url[FORGE_URL_MAX];
	char g[1600];
	json_t *j = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	snprintf(t->spec, sizeof(t->spec), "%s", spec);
	if (strncmp(spec, "gitlab:", 7) == 0) {
		rest = spec + 7;
	} else if (strncmp(spec, "github:", 7) == 0) {
		t->is_github = 1;
		rest = spec + 7;
	} else {
		snprintf(why, cap, "--to %s: gitlab:https://HOST/GROUP, "
		    "github:ORG or github:https://HOST/ORG", spec);
		return -EINVAL;
	}
	if (strncmp(rest, "https://", 8) == 0 ||
	    strncmp(rest, "http://", 7) == 0) {
		const char *host = strstr(rest, "://") + 3;
		const char *slash = strchr(host, '/');
		struct url_parts u;

		if (slash == NULL || url_parse(rest, &u) < 0 ||
		    u.userinfo != NULL ||
		    (size_t)(slash - rest) >= sizeof(t->web)) {
			snprintf(why, cap, "--to %s: a URL with a group, and "
			    "no credentials (the token comes from the "
			    "environment)", spec);
			return -EINVAL;
		}
		memcpy(t->web, rest, (size_t)(slash - rest));
		t->web[slash - rest] = '\0';
		rest = slash + 1;
	} else if (!t->is_github) {
		snprintf(t->web, sizeof(t->web), "https://gitlab.com");
	}
	snprintf(t->group, sizeof(t->group), "%s", rest);
	while (t->group[0] != '\0' && t->group[strlen(t->group) - 1] == '/')
		t->group[strlen(t->group) - 1] = '\0';
	if (!name_part_ok(t->group) || (t->is_github &&
	    strchr(t->group, '/') != NULL)) {
		snprintf(why, cap, "--to %s: bad %s name", spec,
		    t->is_github ? "organisation" : "group");
		return -EINVAL;
	}
	if (t->is_github) {
		api = getenv("AMBER_GITHUB_API");
		t->token = env_first("AMBER_GITHUB_TOKEN", "GITHUB_TOKEN",
		    &t->token_env);
		if (t->web[0] != '\0')
			snprintf(t->base, sizeof(t->base), "%s/api/v3",
			    t->web);
		else
			snprintf(t->base, sizeof(t->base),
			    "https://api.github.com");
	} else {
		api = getenv("AMBER_GITLAB_API");
		t->token = env_first("AMBER_GITLAB_TOKEN", "GITLAB_TOKEN",
		    &t->token_env);
		snprintf(t->base, sizeof(t->base), "%s/api/v4", t->web);
	}
	if (api != NULL && api[0] != '\0')
		snprintf(t->base, sizeof(t->base), "%s", api);
	if (t->token != NULL && strncasecmp(t->base, "http://", 7) == 0 &&
	    !is_loopback_url(t->base)) {
		snprintf(why, cap, "%s: refusing to send %s over plain http",
		    t->base, t->token_env);
		return -EINVAL;
	}
	memset(&ho, 0, sizeof(ho));
	ho.base = t->base;
	ho.token = t->token;
	ho.token_env = t->token_env;
	if (t->is_github) {
		ho.headers = gh_headers;
		ho.n_headers = 2;
	}
	v = getenv("AMBER_FORGE_MAX_WAIT");
	ho.max_wait_sec = v != NULL && v[0] != '\0' ? atol(v) : 300;
	v = getenv("AMBER_FORGE_RETRIES");
	ho.max_retries = v == NULL || v[0] == '\0' ? 0 : atoi(v) <= 0 ? -1 :
	    atoi(v) > 20 ? 20 : atoi(v);
	if ((r = forge_http_open(&ho, &t->h)) < 0) {
		snprintf(why, cap, "%s: cannot use this API base", t->base);
		return r;
	}
	if (recover_url_enc(t->group, g, sizeof(g)) < 0 ||
	    forge_http_url(t->h, url, sizeof(url), t->is_github ?
	    "/orgs/%s" : "/groups/%s", g) < 0) {
		snprintf(why, cap, "%s: name too long", t->group);
		return -EINVAL;
	}
	if ((r = forge_http_get_json(t->h, url, &j, &e)) < 0) {
		snprintf(why, cap, "%s", e.msg);
		return r;
	}
	if (!t->is_github && forge_json_id(j, "id", &t->group_id) < 0) {
		snprintf(why, cap, "GET %s: no group id", url);
		r = -EBADMSG;
	}
	json_decref(j);
	return r;
}

void
recover_target_close(struct recover_target *t)
{
	forge_http_close(t->h);
	t->h = NULL;
}

/* The project's URL path below the API base, e.g. /projects/g%2Fa. */
int
recover_proj_path(const struct recover_target *t, const struct recover_proj *p,
    char *out, size_t cap)
{
	char e[3400];
	int n;

	if (t->is_github) {
		char o[1600];

		if (recover_url_enc(t->group, o, sizeof(o)) < 0 ||
		    recover_url_enc(p->dst, e, sizeof(e)) < 0)
			return -ERANGE;
		n = snprintf(out, cap, "/repos/%s/%s", o, e);
	} else {
		if (recover_url_enc(p->full, e, sizeof(e)) < 0)
			return -ERANGE;
		n = snprintf(out, cap, "/projects/%s", e);
	}
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

/*
 * GET ${path} below the API base; a listing (${is_list}) is read whole,
 * every page, the items being the page or its member ${key}.
 */
int
recover_get_json(struct recover_target *t, const char *path, int is_list,
    const char *key, json_t **out, struct err *e)
{
	char url[FORGE_URL_MAX];

	if (forge_http_url(t->h, url, sizeof(url), "%s", path) < 0)
		return -ERANGE;
	if (is_list)
		return forge_http_get_all(t->h, url, key, 100000, out, e);
	return forge_http_get_json(t->h, url, out, e);
}

/*
 * The clone URL the forge names must be on its own host (for
 * api.github.com, github.com): the token goes nowhere else.
 */
int
recover_clone_url_ok(const struct recover_target *t, const char *url)
{
	struct url_parts a;
	struct url_parts c;

	if (url == NULL || url_parse(t->base, &a) < 0 ||
	    url_parse(url, &c) < 0 || c.userinfo != NULL)
		return 0;
	if (c.scheme_len != a.scheme_len ||
	    strncasecmp(c.scheme, a.scheme, a.scheme_len) != 0)
		return 0;
	if (c.host_len == a.host_len &&
	    strncasecmp(c.host, a.host, a.host_len) == 0)
		return c.port_len == a.port_len && (c.port_len == 0 ||
		    memcmp(c.port, a.port, c.port_len) == 0);
	return a.host_len == c.host_len + 4 &&
	    strncasecmp(a.host, "api.", 4) == 0 &&
	    strncasecmp(a.host + 4, c.host, c.host_len) == 0;
}

/* ---- the project and its settings ------------------------------------- */

/* Whether refs/heads/${v} is a ref name we take. */
static int
branch_ok(const char *v)
{
	char ref[300];

	snprintf(ref, sizeof(ref), "refs/heads/%s", v);
	return recover_ref_name_ok(ref);
}

/* What the snapshot says the project should be, in the target's terms. */
static json_t *
want_settings(struct store *s, const struct recover_target *t,
    struct recover_proj *p)
{
	json_t *src = NULL;
	json_t *w = json_object();
	const char *vis = "private";
	const char *v;
	json_t *b;

	if (p->src_is_github == 0)
		src = recover_stored_json(s, p, "project.json");
	else if (p->src_is_github == 1)
		src = recover_stored_json(s, p, "repository.json");
	if (src != NULL) {
		if ((v = forge_json_str(src, "visibility")) != NULL)
			vis = v;
		else if ((b = json_object_get(src, "private")) != NULL &&
		    json_is_false(b))
			vis = "public";
		if ((v = forge_json_str(src, "description")) != NULL)
			json_object_set_new(w, "description",
			    json_string(v));
		if ((v = forge_json_str(src, "default_branch")) != NULL &&
		    strlen(v) < 256 && branch_ok(v))
			json_object_set_new(w, "default_branch",
			    json_string(v));
		if ((b = json_object_get(src, "archived")) != NULL &&
		    json_is_boolean(b))
			json_object_set(w, "archived", b);
	}
	if (json_object_get(w, "default_branch") == NULL &&
	    p->refs.head != NULL)
		json_object_set_new(w, "default_branch",
		    json_string(p->refs.head + 11));
	/* GitHub has no "internal" outside Enterprise: private is safe. */
	if (t->is_github)
		json_object_set_new(w, "private", json_boolean(
		    strcmp(vis, "public") != 0));
	else
		json_object_set_new(w, "visibility", json_string(vis));
	json_decref(src);
	return w;
}

/* The project is not on the target: create it, then its settings. */
static int
project_create(struct recover_target *t, struct recover_proj *p,
    const json_t *want, const json_t *settings, const char *path)
{
	const char *v = forge_json_str(want, "default_branch");
	char url[4096];
	char d[512];
	json_t *body;
	json_t *a;
	int r;

	snprintf(d, sizeof(d), "%s%s%s%s",
	    t->is_github ? (json_is_true(json_object_get(want,
	    "private")) ? "private" : "public") :
	    forge_json_str(want, "visibility"),
	    v != NULL ? "; default branch " : "", v != NULL ? v : "",
	    json_is_true(json_object_get(want, "archived")) ?
	    "; archived at the end" : "");
	if ((a = recover_step(p, ST_CREATE, "create", "project", p->full,
	    d)) == NULL)
		return -ENOMEM;
	body = json_deep_copy(settings);
	json_object_del(body, "default_branch");
	if (t->is_github) {
		json_object_set_new(body, "name", json_string(p->dst));
		snprintf(url, sizeof(url), "/orgs/%s/repos", t->group);
		r = recover_req_add(t, a, "POST", url, body);
	} else {
		json_object_set_new(body, "path", json_string(p->dst));
		json_object_set_new(body, "name", json_string(p->dst));
		json_object_set_new(body, "namespace_id",
		    json_integer((json_int_t)t->group_id));
		r = recover_req_add(t, a, "POST", "/projects", body);
	}
	if (r < 0)
		return r;
	/* The default branch exists only once pushed. */
	if ((v = forge_json_str(settings, "default_branch")) == NULL)
		return 0;
	if ((a = recover_step(p, ST_SETTINGS, "create", "settings",
	    "default_branch", v)) == NULL)
		return -ENOMEM;
	return recover_req_add(t, a, t->is_github ? "PATCH" : "PUT", path,
	    json_pack("{s:O}", "default_branch",
	    json_object_get(settings, "default_branch")));
}

/*
 * What the target has not set at all (a project made by an earlier run
 * that stopped before its push) is filled in without --update: nothing
 * is overwritten.  ${cur}, the target's settings, gets what is filled.
 */
static int
project_fill(struct recover_target *t, struct recover_proj *p,
    const json_t *settings, json_t *cur, const char *path)
{
	const char *k;
	json_t *x;
	json_t *a;
	int r;

	json_object_foreach((json_t *)settings, k, x) {
		json_t *h = json_object_get(cur, k);

		if (h != NULL && !json_is_null(h) && !(json_is_string(h) &&
		    json_string_length(h) == 0))
			continue;
		json_object_set(cur, k, x);
		if ((a = recover_step(p, ST_SETTINGS, "create", "settings", k,
		    json_is_string(x) ? json_string_value(x) : NULL)) == NULL)
			return -ENOMEM;
		if ((r = recover_req_add(t, a, t->is_github ? "PATCH" : "PUT",
		    path, json_pack("{s:O}", k, x))) < 0)
			return r;
	}
	return 0;
}

/* The project is on the target: fill in, then same, keep or update. */
static int
project_settings(struct recover_target *t, const struct recover_opts *o,
    struct recover_proj *p, const json_t *settings, const char *path)
{
	json_t *cur = json_deep_copy(p->target);
	char d[512];
	json_t *a;
	int r;

	if (cur == NULL)
		return -ENOMEM;
	if (t->is_github && json_object_get(cur, "private") == NULL)
		json_object_set_new(cur, "private", json_true());
	if ((r = project_fill(t, p, settings, cur, path)) < 0)
		goto out;
	if (recover_covers(cur, settings)) {
		recover_same_add(p, "settings");
		goto out;
	}
	recover_differs(cur, settings, d, sizeof(d));
	if (!o->is_update) {
		if (recover_step(p, ST_SETTINGS, "keep", "settings", p->full,
		    d) == NULL)
			r = -ENOMEM;
		goto out;
	}
	if ((a = recover_step(p, ST_SETTINGS, "update", "settings", p->full,
	    d)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = recover_req_add(t, a, t->is_github ? "PATCH" : "PUT", path,
	    json_deep_copy(settings));
out:
	json_decref(cur);
	return r;
}

/* Archived in the snapshot, not on the target: archive it, last. */
static int
project_archive(struct recover_target *t, struct recover_proj *p,
    char *path, size_t cap)
{
	json_t *a;

	if ((a = recover_step(p, ST_ARCHIVE, "update", "settings", "archived",
	    "true")) == NULL)
		return -ENOMEM;
	if (t->is_github)
		return recover_req_add(t, a, "PATCH", path, json_pack("{s:b}",
		    "archived", 1));
	if (strlen(path) + sizeof("/archive") > cap)
		return -ERANGE;
	strcat(path, "/archive");
	return recover_req_add(t, a, "POST", path, NULL);
}

static int
plan_project(struct recover_target *t, const struct recover_opts *o,
    struct recover_proj *p, const json_t *want)
{
	char path[4096];
	json_t *settings;
	int r;

	if ((r = recover_proj_path(t, p, path, sizeof(path))) < 0)
		return r;
	if ((settings = json_deep_copy(want)) == NULL)
		return -ENOMEM;
	json_object_del(settings, "archived");
	if (p->target == NULL)
		r = project_create(t, p, want, settings, path);
	else
		r = project_settings(t, o, p, settings, path);
	json_decref(settings);
	if (r < 0)
		return r;
	if (json_is_true(json_object_get(want, "archived")) &&
	    !json_is_true(json_object_get(p->target, "archived")))
		return project_archive(t, p, path, sizeof(path));
	return 0;
}

/* ---- refs ------------------------------------------------------------- */

/* Refs the forge keeps for itself and refuses on push. */
static const char *
refused_by(const struct recover_target *t, const char *ref)
{
	static const char *const gl[] = { "refs/merge-requests/",
	    "refs/pipelines/", "refs/environments/", "refs/keep-around/",
	    NULL };
	static const char *const gh[] = { "refs/pull/", NULL };
	const char *const *v = t->is_github ? gh : gl;

	for (; *v != NULL; v++)
		if (strncmp(ref, *v, strlen(*v)) == 0)
			return *v;
	return NULL;
}

int
recover_mirror_out(struct store *s, const struct recover_opts *o,
    struct recover_proj *p)
{
	char dir[4096];
	int r;

	if (p->mirror_dir != NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s.git", o->tmp, p->src);
	if ((r = recover_git_extract(s, p->mirror, dir)) < 0) {
		recover_rm_tree(dir);
		return r;
	}
	return (p->mirror_dir = strdup(dir)) == NULL ? -ENOMEM : 0;
}

static int
plan_refs(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p,
    struct recover_remote *rm)
{
	struct recover_refs have;
	char why[512];
	char d[600];
	size_t i;
	size_t n_out = 0;
	json_t *a;
	int r;

	memset(&have, 0, sizeof(have));
	if (p->target != NULL && rm != NULL &&
	    (r = recover_git_ls_remote(rm, &have, why, sizeof(why))) < 0) {
		recover_fail(p, "git ls-remote %s: %s", p->clone_url, why);
		return 0;
	}
	for (i = 0; i < p->refs.n; i++) {
		const struct recover_ref *f = &p->refs.v[i];
		const struct recover_ref *h = recover_refs_find(&have,
		    f->name);
		const char *pre = refused_by(t, f->name);

		if (pre != NULL) {
			n_out++;
			snprintf(d, sizeof(d), "the forge refuses %s*", pre);
			if ((a = recover_step(p, ST_PUSH, "leave-out", "ref",
			    f->name, d)) == NULL)
				goto nomem;
			continue;
		}
		if (h != NULL && strcmp(h->oid, f->oid) == 0) {
			recover_same_add(p, "ref");
			continue;
		}
		if (h == NULL) {
			a = recover_step(p, ST_PUSH, "push", "ref", f->name,
			    "new");
		} else {
			int is_ff;

			if ((r = recover_mirror_out(s, o, p)) < 0) {
				recover_refs_fini(&have);
				return r;
			}
			is_ff = recover_git_is_ancestor(p->mirror_dir, h->oid,
			    f->oid);
			if (is_ff)
				a = recover_step(p, ST_PUSH, "push", "ref",
				    f->name, "fast-forward");
			else if (o->is_force)
				a = recover_step(p, ST_PUSH, "force", "ref",
				    f->name, "not a fast-forward: forced");
			else
				a = recover_step(p, ST_PUSH, "keep", "ref",
				    f->name, "not a fast-forward (give "
				    "--force)");
		}
		if (a == NULL)
			goto nomem;
		json_object_set_new(a, "_oid", json_string(f->oid));
	}
	recover_refs_fini(&have);
	return 0;
nomem:
	recover_refs_fini(&have);
	return -ENOMEM;
}

/* ---- the plan --------------------------------------------------------- */

int
recover_proj_remote(struct recover_target *t, struct recover_proj *p,
    struct recover_remote *rm)
{
	return recover_remote_init(rm, p->clone_url, t->is_github ?
	    "x-access-token" : "oauth2", t->token);
}

int
recover_plan(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p)
{
	struct recover_remote rm;
	struct err e;
	char path[4096];
	json_t *want = NULL;
	json_t *pj = NULL;
	int has_rm = 0;
	int r;

	memset(&rm, 0, sizeof(rm));
	if ((p->actions = json_array()) == NULL ||
	    (p->same = json_object()) == NULL ||
	    (p->notes = json_array()) == NULL)
		return -ENOMEM;
	if ((r = recover_git_stored_refs(s, p->mirror, &p->refs)) < 0) {
		recover_fail(p, "repos/%s.git: %s", p->src, r == -EBADMSG ?
		    "packed-refs is not a list of refs" : strerror(-r));
		return 0;
	}
	if ((r = recover_proj_path(t, p, path, sizeof(path))) < 0)
		return r;
	r = recover_get_json(t, path, 0, NULL, &pj, &e);
	if (r < 0 && r != -ENOENT) {
		recover_fail(p, "%s", e.msg);
		return 0;
	}
	p->target = pj;
	if (pj != NULL) {
		const char *cu = forge_json_str(pj, t->is_github ?
		    "clone_url" : "http_url_to_repo");

		if (!recover_clone_url_ok(t, cu)) {
			recover_fail(p, "the forge names the clone URL %.300s, "
			    "not on its own host", cu != NULL ? cu : "(none)");
			return 0;
		}
		if ((p->clone_url = strdup(cu)) == NULL)
			return -ENOMEM;
		if ((r = recover_proj_remote(t, p, &rm)) < 0) {
			recover_fail(p, "%s: cannot be used as a git remote",
			    p->clone_url);
			return 0;
		}
		has_rm = 1;
	}
	if ((want = want_settings(s, t, p)) == NULL)
		return -ENOMEM;
	if ((r = plan_project(t, o, p, want)) < 0)
		goto out;
	if ((r = plan_refs(s, t, o, p, has_rm ? &rm : NULL)) < 0)
		goto out;
	if (!p->is_failed)
		r = recover_plan_meta(s, t, o, p);
out:
	if (has_rm)
		recover_remote_fini(&rm);
	json_decref(want);
	return r;
}

void
recover_proj_fini(struct recover_proj *p)
{
	if (p == NULL)
		return;
	if (p->mirror_dir != NULL)
		recover_rm_tree(p->mirror_dir);
	free(p->mirror_dir);
	free(p->clone_url);
	free(p->src);
	free(p->dst);
	json_decref(p->actions);
	json_decref(p->same);
	json_decref(p->notes);
	json_decref(p->target);
	recover_refs_fini(&p->refs);
	memset(p, 0, sizeof(*p));
}
