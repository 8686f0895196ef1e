/*
 * forge_discover.c: the repositories of a GitLab group (subgroups
 * included) or a GitHub organisation, from the forge's own listing:
 *
 *   GitLab  GET /groups/:id/projects?include_subgroups=true&with_shared=false
 *   GitHub  GET /orgs/:org/repos?type=all
 *
 * both paginated.  The API base and the token are found as for the
 * pipeline readers (src_forge.c): AMBER_GITLAB_API or https://HOST/api/v4,
 * AMBER_GITHUB_API or https://api.github.com (https://HOST/api/v3 for a
 * GitHub Enterprise Server), tokens from AMBER_GITLAB_TOKEN or
 * GITLAB_TOKEN, AMBER_GITHUB_TOKEN or GITHUB_TOKEN.  Everything the forge
 * answers is checked before it names a source or reaches git: above all
 * the clone URLs, since a forge that could list file:///srv/private.git
 * or https://internal.example/ would have the ingest host copy what it
 * can read, and the forge cannot, into the backup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "forge_discover.h"
#include "forge_http.h"
#include "http.h"
#include "store.h"
#include "url.h"

#define ITEMS_MAX 100000	/* repositories of one group */

static const char *
env_first(const char *a, const char *b, const char **which)
{
	const char *v;

	*which = a;
	if ((v = getenv(a)) != NULL && v[0] != '\0')
		return v;
	if ((v = getenv(b)) != NULL && v[0] != '\0') {
		*which = b;
		return v;
	}
	return NULL;
}

/* Plain http carries a token only to this machine (the tests' server). */
static int
is_cleartext_remote(const char *base)
{
	static const char *const local[] = {
		"http://127.0.0.1", "http://localhost", "http://[::1]",
	};
	char origin[FORGE_URL_MAX];

	if (forge_http_origin(base, origin, sizeof(origin)) < 0)
		return 1;
	if (strncmp(origin, "http://", 7) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		size_t n = strlen(local[i]);

		if (strncmp(origin, local[i], n) == 0 &&
		    (origin[n] == '\0' || origin[n] == ':'))
			return 0;
	}
	return 1;
}

static long
env_num(const char *name, long dflt)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || s[0] == '\0')
		return dflt;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= -1 ? v : dflt;
}

/* "grp/sub" -> "grp.sub"; 0 if the result is not a valid name. */
static int
dotted(const char *path, char *out, size_t cap)
{
	size_t n = strlen(path);

	if (n + 1 > cap)
		return 0;
	for (size_t i = 0; i <= n; i++)
		out[i] = path[i] == '/' ? '.' : path[i];
	/* NAME, NAME.git and NAME.wiki.git must all fit */
	return n + 9 <= 255 && store_source_name_ok(out, n);
}

/* Where the group or organisation lives: API origin and the path. */
struct where {
	int is_github;
	char origin[FORGE_URL_MAX];	/* "" for github.com */
	char path[1024];	/* "grp/sub" or "org" */
};

static int
where_parse(const struct sources_entry *e, struct where *w)
{
	const char *p = e->where;
	size_t n;

	memset(w, 0, sizeof(*w));
	w->is_github = e->type == SOURCES_GITHUB_ORG;
	if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0) {
		if (forge_http_origin(p, w->origin, sizeof(w->origin)) < 0)
			return -EINVAL;
		p += strlen(w->origin);
	}
	while (*p == '/')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(w->path))
		return -EINVAL;
	memcpy(w->path, p, n);
	w->path[n] = '\0';
	if (w->is_github && strcmp(w->origin, "https://github.com") == 0)
		w->origin[0] = '\0';
	return 0;
}

int
forge_discover_prefix(const struct sources_entry *e, char *buf, size_t cap)
{
	struct where w;
	size_t n;

	if (where_parse(e, &w) < 0)
		return -EINVAL;
	n = strlen(w.path);
	if (n + 2 > cap)
		return -ERANGE;
	for (size_t i = 0; i < n; i++)
		buf[i] = w.path[i] == '/' ? '.' : w.path[i];
	buf[n] = '.';
	buf[n + 1] = '\0';
	return 0;
}

void
forge_repos_fini(struct forge_repos *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].name);
		free(r->v[i].clone_url);
		free(r->v[i].wiki_url);
		free(r->v[i].pipeline_spec);
		free(r->v[i].refused);
	}
	for (size_t i = 0; i < r->n_bad; i++)
		free(r->bad[i]);
	free(r->v);
	free(r->bad);
	memset(r, 0, sizeof(*r));
}

static int
add_bad(struct forge_repos *r, const char *what)
{
	char **v = realloc(r->bad, (r->n_bad + 1) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	r->bad = v;
	if ((v[r->n_bad] = strdup(what)) == NULL)
		return -ENOMEM;
	r->n_bad++;
	return 0;
}

/* "host" or "host:port" of ${u} into ${out}. */
static void
host_of(const struct url_parts *u, int has_port, char *out, size_t cap)
{
	if (has_port && u->port != NULL)
		snprintf(out, cap, "%.*s:%.*s", (int)u->host_len, u->host,
		    (int)u->port_len, u->port);
	else if (has_port)
		snprintf(out, cap, "%.*s:%s", (int)u->host_len, u->host,
		    u->scheme_len == 5 ? "443" : "80");
	else
		snprintf(out, cap, "%.*s", (int)u->host_len, u->host);
}

static int
is_scheme(const struct url_parts *u, const char *s)
{
	return u->scheme_len == strlen(s) &&
	    strncasecmp(u->scheme, s, u->scheme_len) == 0;
}

int
forge_discover_check(const char *api, const char *web, const char *url,
    const char *const *allow, size_t n_allow, char *why, size_t cap)
{
	struct url_parts a;
	struct url_parts u;
	char api_host[300];
	char host[300];
	int is_allowed = 0;

	if (url_parse(api, &a) < 0) {
		snprintf(why, cap, "the API base %.200s is not a URL", api);
		return -EPERM;
	}
	if (strncasecmp(url, "https://", 8) != 0 &&
	    strncasecmp(url, "http://", 7) != 0) {
		size_t n = strcspn(url, ":/");

		snprintf(why, cap, "a %.*s: URL; only https:// URLs, to the "
		    "forge's own host or one --allow-clone-host names, are "
		    "cloned", (int)(n < 32 ? n : 32), url);
		return -EPERM;
	}
	if (url_parse(url, &u) < 0) {
		snprintf(why, cap, "not a URL of the form "
		    "https://HOST/PATH that reads only one way");
		return -EPERM;
	}
	host_of(&u, 0, host, sizeof(host));
	for (size_t i = 0; i < n_allow; i++)
		if (url_host_is(&u, allow[i]))
			is_allowed = 1;
	if (is_scheme(&u, "https")) {
		host_of(&a, 0, api_host, sizeof(api_host));
		if (url_host_is(&u, web) || url_host_is(&u, api_host) ||
		    is_allowed)
			return 0;
		snprintf(why, cap, "%.200s is not the forge's host (%.200s); "
		    "--allow-clone-host %.200s would allow it", host, web,
		    host);
		return -EPERM;
	}
	if (is_scheme(&a, "http")) {
		/* The forge is plain http itself (a test server, say). */
		host_of(&a, 1, api_host, sizeof(api_host));
		if (url_host_is(&u, api_host) || is_allowed)
			return 0;
		snprintf(why, cap, "http://%.200s is not the forge's own "
		    "http://%.200s; --allow-clone-host %.200s would allow it",
		    host, api_host, host);
		return -EPERM;
	}
	snprintf(why, cap, "plain http from a forge that is reached by "
	    "https; only https:// URLs are cloned");
	return -EPERM;
}

/* "https://h/g/p.git" -> "https://h/g/p.wiki.git" */
static char *
wiki_of(const char *clone)
{
	size_t n = strlen(clone);
	char *w;

	if (n > 4 && strcmp(clone + n - 4, ".git") == 0)
		n -= 4;
	if ((w = malloc(n + 10)) == NULL)
		return NULL;
	memcpy(w, clone, n);
	memcpy(w + n, ".wiki.git", 10);
	return w;
}

/* What add_item() needs besides the item. */
struct listing {
	const struct sources_entry *e;
	const struct where *w;
	const char *api;	/* the API base */
	char web[300];		/* the forge's web host */
	const char **allow;	/* allow-clone-host= and --allow-clone-host */
	size_t n_allow;
	size_t n_items;
	struct forge_repos *out;
};

/* One listed project: checked, selected, named, added. */
static int
add_item(struct listing *l, json_t *it)
{
	const struct sources_entry *e = l->e;
	const struct where *w = l->w;
	struct forge_repos *out = l->out;
	const char *full = forge_json_str(it, w->is_github ? "full_name" :
	    "path_with_namespace");
	const char *clone = forge_json_str(it, w->is_github ? "clone_url" :
	    "http_url_to_repo");
	json_t *arch = json_object_get(it, "archived");
	json_t *wiki = json_object_get(it, w->is_github ? "has_wiki" :
	    "wiki_enabled");
	size_t plen = strlen(w->path);
	struct forge_repo *v;
	struct forge_repo *r;
	const char *rel;
	char name[256];
	char why[768];
	int n;

	if (!json_is_object(it) || full == NULL ||
	    strncasecmp(full, w->path, plen) != 0 || full[plen] != '/' ||
	    !forge_json_is_safe_path(full))
		return add_bad(out, full != NULL && strlen(full) < 512 ?
		    full : "(a project without a valid path)");
	rel = full + plen + 1;
	if (!sources_wants(e, rel))
		return 0;
	if (json_is_true(arch) && !e->has_archived)
		return 0;
	if (!dotted(full, name, sizeof(name)) || clone == NULL ||
	    strlen(clone) >= FORGE_URL_MAX)
		return add_bad(out, full);
	if ((v = realloc(out->v, (out->n + 1) * sizeof(*v))) == NULL)
		return -ENOMEM;
	out->v = v;
	r = &v[out->n];
	memset(r, 0, sizeof(*r));
	out->n++;
	if ((r->path = strdup(rel)) == NULL ||
	    (r->name = strdup(name)) == NULL)
		return -ENOMEM;
	if (forge_discover_check(l->api, l->web, clone, l->allow, l->n_allow,
	    why, sizeof(why)) < 0) {
		char shown[FORGE_URL_MAX];

		/* Named in the warning, but never cloned, nor its wiki. */
		url_redact(clone, shown, sizeof(shown));
		forge_json_utf8_fix(shown);
		for (char *c = shown; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		if ((r->clone_url = strdup(shown)) == NULL ||
		    asprintf(&r->refused, "the clone URL is refused: %s",
		    why) < 0) {
			r->refused = NULL;
			return -ENOMEM;
		}
	} else {
		if ((r->clone_url = strdup(clone)) == NULL)
			return -ENOMEM;
		if (e->has_wiki && json_is_true(wiki) &&
		    (r->wiki_url = wiki_of(clone)) == NULL)
			return -ENOMEM;
	}
	r->is_archived = json_is_true(arch);
	if (!e->has_pipelines)
		return 0;
	if (w->is_github && w->origin[0] == '\0')
		n = asprintf(&r->pipeline_spec, "github:%s", full);
	else
		n = asprintf(&r->pipeline_spec, "%s:%s/%s", w->is_github ?
		    "github" : "gitlab", w->origin[0] ? w->origin :
		    "https://gitlab.com", full);
	if (n < 0) {
		r->pipeline_spec = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* forge_http_pages() callback: each item of a page, as it comes. */
static int
add_page(void *ctx, json_t *items)
{
	struct listing *l = ctx;
	json_t *it;
	size_t i;
	int r;

	json_array_foreach(items, i, it) {
		if (++l->n_items > ITEMS_MAX)
			return -EFBIG;
		if ((r = add_item(l, it)) < 0)
			return r;
	}
	return 0;
}

/* Two projects of one listing with one name: the forge is confused. */
static int
check_twice(const struct sources_entry *e, const struct forge_repos *out,
    struct err *err)
{
	for (size_t i = 0; i < out->n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->v[i].name, out->v[j].name) == 0) {
				snprintf(err->msg, sizeof(err->msg), "%s: the "
				    "listing holds %s twice", e->where,
				    out->v[i].path);
				return -EBADMSG;
			}
	return 0;
}

int
forge_discover(const struct sources_entry *e, const char *const *allow,
    size_t n_allow, struct forge_repos *out, struct err *err)
{
	static const char *const gh_headers[] = {
		"Accept: application/vnd.github+json",
		"X-GitHub-Api-Version: 2022-11-28",
	};
	char *m = err->msg;
	const size_t cap = sizeof(err->msg);
	struct forge_http_opts ho;
	struct forge_http *h = NULL;
	struct err fe;
	struct listing l;
	struct url_parts wu;
	struct where w;
	char base[FORGE_URL_MAX];
	char enc[3 * 1024];
	char url[FORGE_URL_MAX];
	const char *api;
	size_t i;
	long v;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&ho, 0, sizeof(ho));
	memset(&l, 0, sizeof(l));
	memset(err, 0, sizeof(*err));
	if (where_parse(e, &w) < 0) {
		snprintf(m, cap, "%s: not a group or organisation", e->where);
		return -EINVAL;
	}
	if (w.is_github) {
		api = getenv("AMBER_GITHUB_API");
		ho.token = env_first("AMBER_GITHUB_TOKEN", "GITHUB_TOKEN",
		    &ho.token_env);
		ho.headers = gh_headers;
		ho.n_headers = sizeof(gh_headers) / sizeof(gh_headers[0]);
		r = snprintf(base, sizeof(base), "%s%s", w.origin[0] ?
		    w.origin : "https://api.github.com", w.origin[0] ?
		    "/api/v3" : "");
	} else {
		api = getenv("AMBER_GITLAB_API");
		ho.token = env_first("AMBER_GITLAB_TOKEN", "GITLAB_TOKEN",
		    &ho.token_env);
		r = snprintf(base, sizeof(base), "%s/api/v4", w.origin[0] ?
		    w.origin : "https://gitlab.com");
	}
	if (api != NULL && api[0] != '\0')
		r = snprintf(base, sizeof(base), "%s", api);
	if (r < 0 || (size_t)r >= sizeof(base)) {
		snprintf(m, cap, "%s: URL too long", e->where);
		return -EINVAL;
	}
	if (ho.token != NULL && is_cleartext_remote(base)) {
		snprintf(m, cap, "%.400s: refusing to send %s over plain http",
		    base, ho.token_env);
		return -EINVAL;
	}
	ho.base = base;
	ho.max_wait_sec = env_num("AMBER_FORGE_MAX_WAIT", 300);
	ho.timeout_sec = env_num("AMBER_FORGE_TIMEOUT", 0);
	v = env_num("AMBER_FORGE_RETRIES", -2);
	ho.max_retries = v == -2 ? 0 : v <= 0 ? -1 : (int)(v > 20 ? 20 : v);
	if ((r = forge_http_open(&ho, &h)) < 0) {
		snprintf(m, cap, "%.400s: cannot use this API base", base);
		goto out;
	}
	if (http_url_encode(w.path, strlen(w.path), w.is_github, enc,
	    sizeof(enc)) < 0 ||
	    forge_http_url(h, url, sizeof(url), w.is_github ?
	    "/orgs/%s/repos?type=all&per_page=100" :
	    "/groups/%s/projects?include_subgroups=true&with_shared=false"
	    "&order_by=id&sort=asc&per_page=100", enc) < 0) {
		snprintf(m, cap, "%s: URL too long", e->where);
		r = -EINVAL;
		goto out;
	}
	/* The hosts its clone URLs may name (forge_discover_check()). */
	l.e = e;
	l.w = &w;
	l.api = base;
	l.out = out;
	if (w.origin[0] == '\0')
		snprintf(l.web, sizeof(l.web), "github.com");
	else if (url_parse(w.origin, &wu) == 0)
		snprintf(l.web, sizeof(l.web), "%.*s", (int)wu.host_len,
		    wu.host);
	if ((l.allow = calloc(n_allow + e->n_allow_hosts + 1,
	    sizeof(*l.allow))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n_allow; i++)
		l.allow[l.n_allow++] = allow[i];
	for (i = 0; i < e->n_allow_hosts; i++)
		l.allow[l.n_allow++] = e->allow_hosts[i];
	/* Item by item as pages come: no listing is held whole. */
	if ((r = forge_http_pages(h, url, NULL, add_page, &l, &fe)) < 0) {
		if (r == -EFBIG && l.n_items > ITEMS_MAX)
			snprintf(m, cap, "%s: more than %d projects",
			    e->where, ITEMS_MAX);
		else if (r != -ENOMEM)
			*err = fe;
		goto out;
	}
	r = check_twice(e, out, err);
out:
	if (r < 0)
		forge_repos_fini(out);
	if (r < 0 && err->msg[0] == '\0')
		snprintf(m, cap, "%s: %s", e->where, strerror(-r));
	free(l.allow);
	forge_http_close(h);
	return r;
}
