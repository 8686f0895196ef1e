/*
 * recover.c: plan and carry out the recovery of one project onto a
 * forge (recover.h).  The target is read first: the project, its refs
 * (git ls-remote) and each kind of metadata; each stored item is then
 * matched by its natural key (a variable's key and scope, a schedule's
 * description, a branch or environment name, a hook's URL) and becomes
 * "create" when the target lacks it, nothing when the target has it
 * equal, "update" with --update when it differs, else "keep".  So a run
 * after a failure does only what is left, and a second run does nothing.
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
#include "recover.h"
#include "url.h"

/* Items of one kind recovered at most (variables, hooks...). */
#define RECOVER_ITEMS_MAX 10000

/* Stages: the order of the steps of a plan. */
enum { ST_CREATE, ST_PUSH, ST_SETTINGS, ST_META, ST_ARCHIVE };

/* ---- small helpers ---------------------------------------------------- */

static int
enc(const char *in, char *out, size_t cap)
{
	return http_url_encode(in, strlen(in), 0, out, cap);
}

static json_t *
step(struct recover_proj *p, int stage, const char *action,
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
static int
req_add(struct recover_target *t, json_t *a, const char *method,
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

static void
same_add(struct recover_proj *p, const char *part)
{
	json_t *n = json_object_get(p->same, part);

	json_object_set_new(p->same, part, json_integer(n != NULL ?
	    json_integer_value(n) + 1 : 1));
}

static void
note(struct recover_proj *p, const char *msg)
{
	json_array_append_new(p->notes, json_string(msg));
}

static void __attribute__((format(printf, 2, 3)))
fail(struct recover_proj *p, const char *fmt, ...)
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
static json_t *
stored_json(struct store *s, const struct recover_proj *p, const char *name)
{
	struct store_tree *t = NULL;
	const struct store_entry *e;
	uint8_t *buf = NULL;
	json_t *j = NULL;
	size_t idx;
	size_t got;

	if (p->pipes == NULL ||
	    store_tree_read(s, &p->pipes->tree, &t) < 0 ||
	    store_tree_find(t, (const uint8_t *)name, strlen(name), &idx) < 0)
		goto out;
	e = store_tree_entry(t, idx);
	if (e->type != STORE_REG || e->size > FORGE_JSON_MAX ||
	    (buf = malloc((size_t)e->size + 1)) == NULL)
		goto out;
	if (store_read(s, e, 0, buf, (size_t)e->size, &got) < 0)
		goto out;
	if (forge_json_parse(buf, got, &j) < 0)
		j = NULL;
out:
	free(buf);
	store_tree_free(t);
	return j;
}

/* A new object with the members ${keys} of ${in} that it has. */
static json_t *
pick(const json_t *in, const char *const *keys)
{
	json_t *o = json_object();
	json_t *v;

	for (; *keys != NULL; keys++)
		if ((v = json_object_get(in, *keys)) != NULL)
			json_object_set(o, *keys, v);
	return o;
}

/* Whether every member of ${want} is in ${have}, equal. */
static int
covers(const json_t *have, const json_t *want)
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
static void
differs(const json_t *have, const json_t *want, char *out, size_t cap)
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
	if (enc(t->group, g, sizeof(g)) < 0 ||
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
static int
proj_path(const struct recover_target *t, const struct recover_proj *p,
    char *out, size_t cap)
{
	char e[3400];
	int n;

	if (t->is_github) {
		char o[1600];

		if (enc(t->group, o, sizeof(o)) < 0 ||
		    enc(p->dst, e, sizeof(e)) < 0)
			return -ERANGE;
		n = snprintf(out, cap, "/repos/%s/%s", o, e);
	} else {
		if (enc(p->full, e, sizeof(e)) < 0)
			return -ERANGE;
		n = snprintf(out, cap, "/projects/%s", e);
	}
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

/*
 * GET ${path} below the API base; a listing (${is_list}) is read whole,
 * every page, the items being the page or its member ${key}.
 */
static int
get_json(struct recover_target *t, const char *path, int is_list,
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
static int
clone_url_ok(const struct recover_target *t, const char *url)
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
		src = stored_json(s, p, "project.json");
	else if (p->src_is_github == 1)
		src = stored_json(s, p, "repository.json");
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

static int
plan_project(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p, json_t *want)
{
	char path[4096];
	char d[512];
	json_t *a;
	json_t *body;
	json_t *cur;
	json_t *arch = json_object_get(want, "archived");
	json_t *settings;
	const char *v;
	int r;

	(void)s;
	if ((r = proj_path(t, p, path, sizeof(path))) < 0)
		return r;
	settings = json_deep_copy(want);
	json_object_del(settings, "archived");
	v = forge_json_str(want, "default_branch");
	if (p->target == NULL) {
		snprintf(d, sizeof(d), "%s%s%s%s",
		    t->is_github ? (json_is_true(json_object_get(want,
		    "private")) ? "private" : "public") :
		    forge_json_str(want, "visibility"),
		    v != NULL ? "; default branch " : "", v != NULL ? v : "",
		    json_is_true(arch) ? "; archived at the end" : "");
		if ((a = step(p, ST_CREATE, "create", "project", p->full,
		    d)) == NULL)
			goto nomem;
		body = json_deep_copy(settings);
		json_object_del(body, "default_branch");
		if (t->is_github) {
			json_object_set_new(body, "name", json_string(p->dst));
			snprintf(path, sizeof(path), "/orgs/%s/repos", t->group);
			r = req_add(t, a, "POST", path, body);
		} else {
			json_object_set_new(body, "path", json_string(p->dst));
			json_object_set_new(body, "name", json_string(p->dst));
			json_object_set_new(body, "namespace_id",
			    json_integer((json_int_t)t->group_id));
			r = req_add(t, a, "POST", "/projects", body);
		}
		if (r < 0)
			goto out;
		proj_path(t, p, path, sizeof(path));
		/* The default branch exists only once pushed. */
		if (json_object_get(settings, "default_branch") != NULL) {
			if ((a = step(p, ST_SETTINGS, "create", "settings",
			    "default_branch", forge_json_str(settings,
			    "default_branch"))) == NULL)
				goto nomem;
			r = req_add(t, a, t->is_github ? "PATCH" : "PUT", path,
			    json_pack("{s:O}", "default_branch",
			    json_object_get(settings, "default_branch")));
		}
	} else {
		const char *k;
		json_t *x;
		json_t *fill = json_object();

		cur = json_deep_copy(p->target);
		if (t->is_github && json_object_get(cur, "private") == NULL)
			json_object_set_new(cur, "private", json_true());
		/*
		 * What the target has not set at all (a project made by an
		 * earlier run that stopped before its push) is filled in
		 * without --update: nothing is overwritten.
		 */
		json_object_foreach(settings, k, x) {
			json_t *h = json_object_get(cur, k);

			if (h == NULL || json_is_null(h) || (json_is_string(h) &&
			    json_string_length(h) == 0)) {
				json_object_set(fill, k, x);
				json_object_set(cur, k, x);
			}
		}
		if (json_object_size(fill) > 0) {
			json_object_foreach(fill, k, x) {
				if ((a = step(p, ST_SETTINGS, "create",
				    "settings", k, json_is_string(x) ?
				    json_string_value(x) : NULL)) == NULL) {
					json_decref(fill);
					json_decref(cur);
					goto nomem;
				}
				r = req_add(t, a, t->is_github ? "PATCH" :
				    "PUT", path, json_pack("{s:O}", k, x));
				if (r < 0)
					break;
			}
		}
		json_decref(fill);
		if (r < 0) {
			json_decref(cur);
			goto out;
		}
		if (covers(cur, settings)) {
			same_add(p, "settings");
		} else {
			differs(cur, settings, d, sizeof(d));
			if (o->is_update) {
				if ((a = step(p, ST_SETTINGS, "update",
				    "settings", p->full, d)) == NULL)
					goto nomem;
				r = req_add(t, a, t->is_github ? "PATCH" :
				    "PUT", path, json_deep_copy(settings));
			} else if (step(p, ST_SETTINGS, "keep", "settings",
			    p->full, d) == NULL)
				goto nomem;
		}
		json_decref(cur);
		if (r < 0)
			goto out;
	}
	if (json_is_true(arch) && !json_is_true(json_object_get(p->target,
	    "archived"))) {
		if ((a = step(p, ST_ARCHIVE, "update", "settings", "archived",
		    "true")) == NULL)
			goto nomem;
		if (t->is_github)
			r = req_add(t, a, "PATCH", path, json_pack("{s:b}",
			    "archived", 1));
		else {
			strcat(path, "/archive");
			r = req_add(t, a, "POST", path, NULL);
		}
	}
out:
	json_decref(settings);
	return r;
nomem:
	json_decref(settings);
	return -ENOMEM;
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

static int
mirror_out(struct store *s, const struct recover_opts *o,
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
		fail(p, "git ls-remote %s: %s", p->clone_url, why);
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
			if ((a = step(p, ST_PUSH, "leave-out", "ref", f->name,
			    d)) == NULL)
				goto nomem;
			continue;
		}
		if (h != NULL && strcmp(h->oid, f->oid) == 0) {
			same_add(p, "ref");
			continue;
		}
		if (h == NULL) {
			a = step(p, ST_PUSH, "push", "ref", f->name, "new");
		} else {
			int is_ff;

			if ((r = mirror_out(s, o, p)) < 0) {
				recover_refs_fini(&have);
				return r;
			}
			is_ff = recover_git_is_ancestor(p->mirror_dir, h->oid,
			    f->oid);
			if (is_ff)
				a = step(p, ST_PUSH, "push", "ref", f->name,
				    "fast-forward");
			else if (o->is_force)
				a = step(p, ST_PUSH, "force", "ref", f->name,
				    "not a fast-forward: forced");
			else
				a = step(p, ST_PUSH, "keep", "ref", f->name,
				    "not a fast-forward (give --force)");
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

/* ---- metadata --------------------------------------------------------- */

/*
 * One kind of metadata: where it is stored, how the target lists it,
 * what identifies an item, and what of it can be set.
 */
struct kind {
	const char *part;	/* "variable" */
	const char *file;	/* "variables.json" */
	const char *list;	/* "/variables" below the project */
	const char *list_key;	/* GitHub: the array's member, or NULL */
	int (*key)(const json_t *it, char *out, size_t cap);
	json_t *(*body)(const json_t *it);	/* what can be set */
	/* the path (below the project) to update the target's ${it} */
	int (*upath)(const json_t *it, char *out, size_t cap);
	const char *umethod;	/* PUT, PATCH; "DELETE" deletes then posts */
	const char *cpath;	/* create: POST below the project */
	const char *cmethod;	/* NULL: POST; "PUT": to upath of stored */
	/* GitHub: the listing lacks what can be set; GET the upath of
	 * each match, and compare with {"name": key, "protection": it} */
	int has_detail;
};

static int
key_str(const json_t *it, const char *k, char *out, size_t cap)
{
	const char *v = forge_json_str(it, k);

	if (v == NULL || strlen(v) >= cap || v[0] == '\0')
		return -EBADMSG;
	strcpy(out, v);
	return 0;
}

static int
gl_var_key(const json_t *it, char *out, size_t cap)
{
	const char *k = forge_json_str(it, "key");
	const char *sc = forge_json_str(it, "environment_scope");
	int n;

	if (k == NULL || k[0] == '\0')
		return -EBADMSG;
	n = snprintf(out, cap, "%s%s%s", k, sc != NULL &&
	    strcmp(sc, "*") != 0 ? " scope " : "", sc != NULL &&
	    strcmp(sc, "*") != 0 ? sc : "");
	return n < 0 || (size_t)n >= cap ? -EBADMSG : 0;
}

static json_t *
gl_var_body(const json_t *it)
{
	static const char *const k[] = { "key", "value", "variable_type",
	    "protected", "masked", "raw", "environment_scope",
	    "description", NULL };

	return pick(it, k);
}

static int
gl_var_upath(const json_t *it, char *out, size_t cap)
{
	char k[1024];
	char sc[1024];
	const char *s = forge_json_str(it, "environment_scope");
	int n;

	if (enc(forge_json_str(it, "key") ? forge_json_str(it, "key") : "",
	    k, sizeof(k)) < 0 || enc(s != NULL ? s : "*", sc, sizeof(sc)) < 0)
		return -ERANGE;
	n = snprintf(out, cap, "/variables/%s?filter%%5Benvironment_scope"
	    "%%5D=%s", k, sc);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

static int
key_description(const json_t *it, char *out, size_t cap)
{
	return key_str(it, "description", out, cap);
}

static int
key_name(const json_t *it, char *out, size_t cap)
{
	return key_str(it, "name", out, cap);
}

static int
key_url(const json_t *it, char *out, size_t cap)
{
	return key_str(it, "url", out, cap);
}

static int
upath_id(const char *dir, const json_t *it, char *out, size_t cap)
{
	uint64_t id;
	int n;

	if (forge_json_id(it, "id", &id) < 0)
		return -EBADMSG;
	n = snprintf(out, cap, "%s/%llu", dir, (unsigned long long)id);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

static int
upath_name(const char *dir, const json_t *it, const char *k, char *out,
    size_t cap)
{
	char e[1024];
	int n;

	if (forge_json_str(it, k) == NULL ||
	    enc(forge_json_str(it, k), e, sizeof(e)) < 0)
		return -EBADMSG;
	n = snprintf(out, cap, "%s/%s", dir, e);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

static json_t *
gl_sched_body(const json_t *it)
{
	static const char *const k[] = { "description", "ref", "cron",
	    "cron_timezone", "active", NULL };

	return pick(it, k);
}

static int
gl_sched_upath(const json_t *it, char *out, size_t cap)
{
	return upath_id("/pipeline_schedules", it, out, cap);
}

/* GitLab lists access levels; the create call takes one of each. */
static void
level(json_t *o, const json_t *it, const char *list, const char *one)
{
	json_t *l = json_object_get(it, list);
	json_t *v;

	if (json_is_array(l) && json_array_size(l) > 0 &&
	    (v = json_object_get(json_array_get(l, 0), "access_level")) !=
	    NULL && json_is_integer(v))
		json_object_set(o, one, v);
}

static json_t *
gl_pb_body(const json_t *it)
{
	static const char *const k[] = { "name", "allow_force_push",
	    "code_owner_approval_required", NULL };
	json_t *o = pick(it, k);

	level(o, it, "push_access_levels", "push_access_level");
	level(o, it, "merge_access_levels", "merge_access_level");
	level(o, it, "unprotect_access_levels", "unprotect_access_level");
	return o;
}

static int
gl_pb_upath(const json_t *it, char *out, size_t cap)
{
	return upath_name("/protected_branches", it, "name", out, cap);
}

static json_t *
gl_env_body(const json_t *it)
{
	static const char *const k[] = { "name", "external_url", "tier",
	    NULL };

	return pick(it, k);
}

static int
gl_env_upath(const json_t *it, char *out, size_t cap)
{
	return upath_id("/environments", it, out, cap);
}

static json_t *
gl_hook_body(const json_t *it)
{
	static const char *const k[] = { "url", "name", "description",
	    "push_events", "push_events_branch_filter", "tag_push_events",
	    "merge_requests_events", "issues_events",
	    "confidential_issues_events", "note_events",
	    "confidential_note_events", "job_events", "pipeline_events",
	    "wiki_page_events", "deployment_events", "releases_events",
	    "enable_ssl_verification", NULL };

	return pick(it, k);
}

static int
gl_hook_upath(const json_t *it, char *out, size_t cap)
{
	return upath_id("/hooks", it, out, cap);
}

static const struct kind gitlab_kinds[] = {
	{ "variable", "variables.json", "/variables", NULL, gl_var_key,
	    gl_var_body, gl_var_upath, "PUT", "/variables", NULL, 0 },
	{ "schedule", "schedules.json", "/pipeline_schedules", NULL,
	    key_description, gl_sched_body, gl_sched_upath, "PUT",
	    "/pipeline_schedules", NULL, 0 },
	{ "protected-branch", "protected_branches.json",
	    "/protected_branches", NULL, key_name, gl_pb_body, gl_pb_upath,
	    "DELETE", "/protected_branches", NULL, 0 },
	{ "environment", "environments.json", "/environments", NULL,
	    key_name, gl_env_body, gl_env_upath, "PUT", "/environments",
	    NULL, 0 },
	{ "hook", "hooks.json", "/hooks", NULL, key_url, gl_hook_body,
	    gl_hook_upath, "PUT", "/hooks", NULL, 0 },
};

/* GitHub */

static json_t *
gh_var_body(const json_t *it)
{
	static const char *const k[] = { "name", "value", NULL };

	return pick(it, k);
}

static int
gh_var_upath(const json_t *it, char *out, size_t cap)
{
	return upath_name("/actions/variables", it, "name", out, cap);
}

static json_t *
gh_env_body(const json_t *it)
{
	(void)it;
	return json_object();
}

static int
gh_env_upath(const json_t *it, char *out, size_t cap)
{
	return upath_name("/environments", it, "name", out, cap);
}

static int
gh_hook_key(const json_t *it, char *out, size_t cap)
{
	return key_str(json_object_get(it, "config"), "url", out, cap);
}

static json_t *
gh_hook_body(const json_t *it)
{
	static const char *const k[] = { "events", "active", NULL };
	static const char *const ck[] = { "url", "content_type",
	    "insecure_ssl", NULL };
	json_t *o = pick(it, k);

	json_object_set_new(o, "config", pick(json_object_get(it, "config"),
	    ck));
	return o;
}

static int
gh_hook_upath(const json_t *it, char *out, size_t cap)
{
	return upath_id("/hooks", it, out, cap);
}

/*
 * GitHub branch protection: GET answers {"enforce_admins": {"enabled":
 * true}, ...}; PUT takes {"enforce_admins": true, ...}, with the four
 * members required_status_checks, enforce_admins,
 * required_pull_request_reviews and restrictions always present.
 */
static json_t *
enabled(const json_t *pr, const char *k)
{
	json_t *v = json_object_get(json_object_get(pr, k), "enabled");

	return json_is_boolean(v) ? json_incref(v) : NULL;
}

static json_t *
gh_pb_body(const json_t *it)
{
	static const char *const rk[] = { "dismiss_stale_reviews",
	    "require_code_owner_reviews", "required_approving_review_count",
	    "require_last_push_approval", NULL };
	static const char *const ck[] = { "strict", "contexts", NULL };
	const json_t *pr = json_object_get(it, "protection");
	json_t *o = json_object();
	json_t *v;

	v = json_object_get(pr, "required_status_checks");
	json_object_set_new(o, "required_status_checks", json_is_object(v) ?
	    pick(v, ck) : json_null());
	v = enabled(pr, "enforce_admins");
	json_object_set_new(o, "enforce_admins", v != NULL ? v : json_null());
	v = json_object_get(pr, "required_pull_request_reviews");
	json_object_set_new(o, "required_pull_request_reviews",
	    json_is_object(v) ? pick(v, rk) : json_null());
	json_object_set_new(o, "restrictions", json_null());
	if ((v = enabled(pr, "required_linear_history")) != NULL)
		json_object_set_new(o, "required_linear_history", v);
	if ((v = enabled(pr, "allow_force_pushes")) != NULL)
		json_object_set_new(o, "allow_force_pushes", v);
	if ((v = enabled(pr, "allow_deletions")) != NULL)
		json_object_set_new(o, "allow_deletions", v);
	return o;
}

static int
gh_pb_upath(const json_t *it, char *out, size_t cap)
{
	char e[1024];
	int n;

	if (forge_json_str(it, "name") == NULL ||
	    enc(forge_json_str(it, "name"), e, sizeof(e)) < 0)
		return -EBADMSG;
	n = snprintf(out, cap, "/branches/%s/protection", e);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

static const struct kind github_kinds[] = {
	{ "variable", NULL, "/actions/variables?per_page=100", "variables",
	    key_name, gh_var_body, gh_var_upath, "PATCH",
	    "/actions/variables", NULL, 0 },
	{ "environment", "environments.json", "/environments?per_page=100",
	    "environments", key_name, gh_env_body, gh_env_upath, "PUT",
	    NULL, "PUT", 0 },
	{ "protected-branch", "protected_branches.json",
	    "/branches?protected=true&per_page=100", NULL, key_name,
	    gh_pb_body, gh_pb_upath, "PUT", NULL, "PUT", 1 },
	{ "hook", "hooks.json", "/hooks?per_page=100", NULL, gh_hook_key,
	    gh_hook_body, gh_hook_upath, "PATCH", "/hooks", NULL, 0 },
};

/* The items of a stored or listed value: an array, or its member. */
static json_t *
items_of(json_t *j, const char *key)
{
	if (json_is_array(j))
		return j;
	if (key != NULL && json_is_array(json_object_get(j, key)))
		return json_object_get(j, key);
	return NULL;
}

static int
plan_kind(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p,
    const struct kind *k, const char *pp, json_t *stored)
{
	struct err e;
	char path[8192];
	char sub[4096];
	char key[1024] = "";
	char d[600];
	struct err e2;
	json_t *have = NULL;
	json_t *detail = NULL;
	json_t *sv;
	json_t *hv;
	size_t i;
	size_t j;
	int r = 0;

	(void)s;
	if ((sv = items_of(stored, k->list_key)) == NULL ||
	    json_array_size(sv) == 0)
		return 0;
	/* Each item is a request: a hostile snapshot must not make millions. */
	if (json_array_size(sv) > RECOVER_ITEMS_MAX) {
		fail(p, "pipelines/%s: more than %d %ss stored", p->src,
		    RECOVER_ITEMS_MAX, k->part);
		return 0;
	}
	if (p->target != NULL) {
		snprintf(path, sizeof(path), "%s%s", pp, k->list);
		if ((r = get_json(t, path, 1, k->list_key, &have, &e)) < 0 && r != -ENOENT) {
			fail(p, "reading the target's %ss: %s", k->part,
			    e.msg);
			return 0;
		}
		r = 0;
	}
	for (i = 0; i < json_array_size(sv); i++) {
		json_t *it = json_array_get(sv, i);
		json_t *want;
		json_t *match = NULL;
		json_t *a;

		if (k->key(it, key, sizeof(key)) < 0) {
			note(p, "a stored item without a name was left out");
			continue;
		}
		for (j = 0; have != NULL && j < json_array_size(have); j++) {
			char hk[1024];

			hv = json_array_get(have, j);
			if (k->key(hv, hk, sizeof(hk)) == 0 &&
			    strcmp(hk, key) == 0) {
				match = hv;
				break;
			}
		}
		if (match != NULL && k->has_detail) {
			json_t *dv = NULL;

			if (k->upath(match, sub, sizeof(sub)) < 0) {
				r = -EBADMSG;
				goto out;
			}
			snprintf(path, sizeof(path), "%s%s", pp, sub);
			if ((r = get_json(t, path, 0, NULL, &dv, &e2)) < 0 &&
			    r != -ENOENT) {
				fail(p, "reading the target's %s %s: %s",
				    k->part, key, e2.msg);
				r = 0;
				goto out;
			}
			r = 0;
			json_decref(detail);
			detail = json_pack("{s:s, s:o}", "name", key, "protection",
			    dv != NULL ? dv : json_object());
			match = detail;
		}
		want = k->body(it);
		if (strcmp(k->part, "variable") == 0 &&
		    json_object_get(it, "value") == NULL) {
			if (match == NULL) {
				p->n_todo++;
				a = step(p, ST_META, "re-enter", k->part, key,
				    "the value was not stored: enter it by "
				    "hand");
			} else {
				same_add(p, k->part);
				a = NULL;
			}
			json_decref(want);
			if (match == NULL && a == NULL) {
				r = -ENOMEM;
				goto out;
			}
			continue;
		}
		if (match != NULL) {
			json_t *hb = k->body(match);

			if (covers(hb, want)) {
				same_add(p, k->part);
				json_decref(hb);
				json_decref(want);
				continue;
			}
			differs(hb, want, d, sizeof(d));
			json_decref(hb);
			if (!o->is_update) {
				json_decref(want);
				if (step(p, ST_META, "keep", k->part, key,
				    d) == NULL) {
					r = -ENOMEM;
					goto out;
				}
				continue;
			}
			if ((a = step(p, ST_META, "update", k->part, key,
			    d)) == NULL ||
			    k->upath(match, sub, sizeof(sub)) < 0) {
				json_decref(want);
				r = a == NULL ? -ENOMEM : -EBADMSG;
				goto out;
			}
			snprintf(path, sizeof(path), "%s%s", pp, sub);
			if (strcmp(k->umethod, "DELETE") == 0) {
				req_add(t, a, "DELETE", path, NULL);
				snprintf(path, sizeof(path), "%s%s", pp, k->cpath);
				r = req_add(t, a, "POST", path, want);
			} else
				r = req_add(t, a, k->umethod, path, want);
			if (r < 0)
				goto out;
			continue;
		}
		if ((a = step(p, ST_META, "create", k->part, key,
		    strcmp(k->part, "hook") == 0 ? "needs its secret token "
		    "set by hand (never stored)" : NULL)) == NULL) {
			json_decref(want);
			r = -ENOMEM;
			goto out;
		}
		if (strcmp(k->part, "hook") == 0)
			p->n_todo++;
		if (k->cmethod != NULL) {
			if (k->upath(it, sub, sizeof(sub)) < 0) {
				json_decref(want);
				r = -EBADMSG;
				goto out;
			}
			snprintf(path, sizeof(path), "%s%s", pp, sub);
			r = req_add(t, a, k->cmethod, path, want);
		} else {
			snprintf(path, sizeof(path), "%s%s", pp, k->cpath);
			r = req_add(t, a, "POST", path, want);
		}
		if (r < 0)
			goto out;
		/* A schedule's variables follow it, once it has an id. */
		if (strcmp(k->part, "schedule") == 0) {
			json_t *vars = json_object_get(it, "variables");
			json_t *then = json_array();

			for (j = 0; json_is_array(vars) &&
			    j < json_array_size(vars); j++) {
				static const char *const vk[] = { "key",
				    "value", "variable_type", NULL };

				json_array_append_new(then, pick(
				    json_array_get(vars, j), vk));
			}
			json_object_set_new(a, "_then", then);
		}
	}
out:
	/* A name no URL can carry is this project's failure, not the run's. */
	if (r == -EBADMSG || r == -ERANGE) {
		fail(p, "pipelines/%s: a %s whose name cannot be used: %.200s",
		    p->src, k->part, key);
		r = 0;
	}
	json_decref(detail);
	json_decref(have);
	return r;
}

/* GitHub's protected_branches.json, {BRANCH: protection}, as a list. */
static json_t *
gh_protections(json_t *st)
{
	json_t *a = json_array();
	const char *k;
	json_t *v;

	json_object_foreach(st, k, v)
		json_array_append_new(a, json_pack("{s:s, s:O}", "name", k,
		    "protection", v));
	json_decref(st);
	return a;
}

static int
plan_meta(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p)
{
	const struct kind *ks = t->is_github ? github_kinds : gitlab_kinds;
	size_t nk = t->is_github ? sizeof(github_kinds) /
	    sizeof(github_kinds[0]) : sizeof(gitlab_kinds) /
	    sizeof(gitlab_kinds[0]);
	char pp[4096];
	json_t *vars = NULL;
	size_t i;
	int r = 0;

	if (p->pipes == NULL)
		return 0;
	/* Unknown (no project.json nor repository.json): the target's. */
	if (p->src_is_github >= 0 && p->src_is_github != t->is_github) {
		note(p, t->is_github ? "pipelines from GitLab: only the "
		    "repository is recovered onto GitHub" : "pipelines from "
		    "GitHub: only the repository is recovered onto GitLab");
		return 0;
	}
	if ((r = proj_path(t, p, pp, sizeof(pp))) < 0)
		return r;
	if (t->is_github) {
		json_t *sec;

		vars = stored_json(s, p, "variables.json");
		sec = json_object_get(vars, "secrets");
		for (i = 0; json_is_array(sec) && i < json_array_size(sec);
		    i++) {
			const char *n = forge_json_str(json_array_get(sec, i),
			    "name");

			if (n == NULL)
				continue;
			p->n_todo++;
			if (step(p, ST_META, "re-enter", "secret", n,
			    "secret values are never stored: enter it by "
			    "hand") == NULL) {
				r = -ENOMEM;
				goto out;
			}
		}
		if (json_is_object(json_object_get(vars, "environments")) &&
		    json_object_size(json_object_get(vars,
		    "environments")) > 0)
			note(p, "the secrets and variables of environments "
			    "are not recovered: see variables.json");
	}
	for (i = 0; i < nk && r == 0; i++) {
		json_t *st = ks[i].file != NULL ? stored_json(s, p,
		    ks[i].file) : json_incref(json_object_get(vars,
		    "variables"));

		if (t->is_github && json_is_object(st) &&
		    strcmp(ks[i].part, "protected-branch") == 0)
			st = gh_protections(st);

		r = plan_kind(s, t, o, p, &ks[i], pp, st);
		json_decref(st);
	}
out:
	json_decref(vars);
	return r;
}

/* ---- the plan --------------------------------------------------------- */

static int
remote_of(struct recover_target *t, struct recover_proj *p,
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
		fail(p, "repos/%s.git: %s", p->src, r == -EBADMSG ?
		    "packed-refs is not a list of refs" : strerror(-r));
		return 0;
	}
	if ((r = proj_path(t, p, path, sizeof(path))) < 0)
		return r;
	r = get_json(t, path, 0, NULL, &pj, &e);
	if (r < 0 && r != -ENOENT) {
		fail(p, "%s", e.msg);
		return 0;
	}
	p->target = pj;
	if (pj != NULL) {
		const char *cu = forge_json_str(pj, t->is_github ?
		    "clone_url" : "http_url_to_repo");

		if (!clone_url_ok(t, cu)) {
			fail(p, "the forge names the clone URL %.300s, not "
			    "on its own host", cu != NULL ? cu : "(none)");
			return 0;
		}
		if ((p->clone_url = strdup(cu)) == NULL)
			return -ENOMEM;
		if ((r = remote_of(t, p, &rm)) < 0) {
			fail(p, "%s: cannot be used as a git remote",
			    p->clone_url);
			return 0;
		}
		has_rm = 1;
	}
	if ((want = want_settings(s, t, p)) == NULL)
		return -ENOMEM;
	if ((r = plan_project(s, t, o, p, want)) < 0)
		goto out;
	if ((r = plan_refs(s, t, o, p, has_rm ? &rm : NULL)) < 0)
		goto out;
	if (!p->is_failed)
		r = plan_meta(s, t, o, p);
out:
	if (has_rm)
		recover_remote_fini(&rm);
	json_decref(want);
	return r;
}

/* ---- carrying it out -------------------------------------------------- */

static int
do_req(struct recover_target *t, const json_t *rq, json_t **out,
    struct err *e)
{
	return forge_http_send(t->h, forge_json_str(rq, "method"),
	    forge_json_str(rq, "url"), json_object_get(rq, "body"), out, e);
}

static void
step_failed(struct recover_proj *p, json_t *a, const char *msg)
{
	json_object_set_new(a, "result", json_string(msg));
	p->n_failed++;
	fail(p, "%s %s", forge_json_str(a, "part"), msg);
}

static int
apply_reqs(struct recover_target *t, struct recover_proj *p, json_t *a)
{
	json_t *reqs = json_object_get(a, "_req");
	json_t *then = json_object_get(a, "_then");
	json_t *ans = NULL;
	struct err e;
	size_t i;
	int r = 0;

	for (i = 0; i < json_array_size(reqs); i++) {
		json_decref(ans);
		ans = NULL;
		r = do_req(t, json_array_get(reqs, i), &ans, &e);
		/* deleting what is already gone is done */
		if (r == -ENOENT && strcmp(forge_json_str(json_array_get(reqs,
		    i), "method"), "DELETE") == 0)
			r = 0;
		if (r < 0) {
			step_failed(p, a, e.msg);
			goto out;
		}
	}
	if (strcmp(forge_json_str(a, "part"), "project") == 0 && ans != NULL) {
		const char *cu = forge_json_str(ans, t->is_github ?
		    "clone_url" : "http_url_to_repo");

		if (!clone_url_ok(t, cu)) {
			step_failed(p, a, "the new project's clone URL is "
			    "not on the forge's host");
			r = -EINVAL;
			goto out;
		}
		free(p->clone_url);
		if ((p->clone_url = strdup(cu)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (json_array_size(then) > 0) {
		uint64_t id;
		char url[FORGE_URL_MAX];
		char pp[4096];

		if (forge_json_id(ans, "id", &id) < 0 ||
		    proj_path(t, p, pp, sizeof(pp)) < 0 ||
		    forge_http_url(t->h, url, sizeof(url),
		    "%s/pipeline_schedules/%llu/variables", pp,
		    (unsigned long long)id) < 0) {
			step_failed(p, a, "no schedule id in the answer");
			r = -EBADMSG;
			goto out;
		}
		for (i = 0; i < json_array_size(then); i++) {
			if ((r = forge_http_send(t->h, "POST", url,
			    json_array_get(then, i), NULL, &e)) < 0) {
				step_failed(p, a, e.msg);
				goto out;
			}
		}
	}
	p->n_done++;
	json_object_set_new(a, "result", json_string("done"));
out:
	json_decref(ans);
	return r;
}

static int
apply_push(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p)
{
	const struct recover_ref **refs = NULL;
	struct recover_push_res *res = NULL;
	struct recover_ref *tmp = NULL;
	struct recover_remote rm;
	json_t **acts = NULL;
	int *force = NULL;
	char why[512];
	size_t n = 0;
	size_t i;
	json_t *a;
	int r = 0;

	memset(&rm, 0, sizeof(rm));
	json_array_foreach(p->actions, i, a)
		if (strcmp(forge_json_str(a, "part"), "ref") == 0 &&
		    (strcmp(forge_json_str(a, "action"), "push") == 0 ||
		    strcmp(forge_json_str(a, "action"), "force") == 0))
			n++;
	if (n == 0)
		return 0;
	if (p->clone_url == NULL) {
		fail(p, "push: no clone URL");
		return 0;
	}
	if ((r = mirror_out(s, o, p)) < 0) {
		fail(p, "repos/%s.git: cannot copy the mirror out: %s", p->src,
		    strerror(-r));
		return r == -ENOMEM ? r : 0;
	}
	if ((r = remote_of(t, p, &rm)) < 0) {
		fail(p, "%s: cannot be used as a git remote",
		    p->clone_url);
		return 0;
	}
	if ((refs = calloc(n, sizeof(*refs))) == NULL ||
	    (tmp = calloc(n, sizeof(*tmp))) == NULL ||
	    (acts = calloc(n, sizeof(*acts))) == NULL ||
	    (force = calloc(n, sizeof(*force))) == NULL ||
	    (res = calloc(n, sizeof(*res))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	n = 0;
	json_array_foreach(p->actions, i, a) {
		const char *act = forge_json_str(a, "action");

		if (strcmp(forge_json_str(a, "part"), "ref") != 0 ||
		    (strcmp(act, "push") != 0 && strcmp(act, "force") != 0))
			continue;
		tmp[n].name = (char *)forge_json_str(a, "name");
		snprintf(tmp[n].oid, sizeof(tmp[n].oid), "%s",
		    forge_json_str(a, "_oid"));
		refs[n] = &tmp[n];
		force[n] = strcmp(act, "force") == 0;
		acts[n] = a;
		n++;
	}
	if ((r = recover_git_push(&rm, p->mirror_dir, refs, force, n, res,
	    why, sizeof(why))) < 0) {
		fail(p, "git push: %s", why[0] ? why : strerror(-r));
		r = r == -ENOMEM ? r : 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (res[i].is_ok) {
			p->n_done++;
			json_object_set_new(acts[i], "result",
			    json_string("done"));
		} else {
			char m[700];

			snprintf(m, sizeof(m), "%s: not pushed: %s",
			    refs[i]->name, res[i].why ? res[i].why : "?");
			step_failed(p, acts[i], m);
		}
	}
out:
	for (i = 0; res != NULL && i < n; i++) {
		free(res[i].ref);
		free(res[i].why);
	}
	free(res);
	free(force);
	free(acts);
	free(tmp);
	free(refs);
	recover_remote_fini(&rm);
	return r;
}

int
recover_apply(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p)
{
	size_t i;
	json_t *a;
	int stage;
	int r;

	for (stage = ST_CREATE; stage <= ST_ARCHIVE; stage++) {
		if (stage == ST_PUSH) {
			if ((r = apply_push(s, t, o, p)) < 0)
				return r;
			continue;
		}
		json_array_foreach(p->actions, i, a) {
			if (json_integer_value(json_object_get(a, "_stage")) !=
			    stage || json_object_get(a, "_req") == NULL)
				continue;
			r = apply_reqs(t, p, a);
			if (r == -ENOMEM)
				return r;
			if (r < 0 && stage == ST_CREATE)
				return 0;
		}
	}
	return 0;
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
