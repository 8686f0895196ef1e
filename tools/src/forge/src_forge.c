/*
 * src_forge.c: the pipelines/NAME source reader.  A SPEC is either a
 * directory of exported metadata, stored as it is (through src_dir.c), or
 * a forge project read through its REST API:
 *
 *   gitlab:https://HOST/GROUP/PROJECT   (gitlab:GROUP/PROJECT: gitlab.com)
 *   github:OWNER/REPO                   (github:https://HOST/OWNER/REPO:
 *                                        GitHub Enterprise Server)
 *
 * The API base can be overridden (AMBER_GITLAB_API, AMBER_GITHUB_API) and
 * the token comes from AMBER_GITLAB_TOKEN or GITLAB_TOKEN, AMBER_GITHUB_TOKEN
 * or GITHUB_TOKEN.  amber-pipelines(5) documents the layout written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forge_fetch.h"
#include "forge_github.h"
#include "forge_gitlab.h"
#include "forge_http.h"
#include "forge_out.h"
#include "forge_tape.h"
#include "source.h"

enum forge_kind {
	FORGE_GITLAB,
	FORGE_GITHUB,
};

struct forge_spec {
	enum forge_kind kind;
	char base[FORGE_URL_MAX];	/* API base */
	char project[1024];	/* GROUP/PROJECT or OWNER/REPO */
	const char *token;
	const char *token_env;
};

static const char *
env_first(const char *a, const char *b, const char **which)
{
	const char *v;

	if ((v = getenv(a)) != NULL && v[0] != '\0') {
		*which = a;
		return v;
	}
	*which = b;
	if ((v = getenv(b)) != NULL && v[0] != '\0')
		return v;
	*which = a;
	return NULL;
}

/* Copy a project path, dropping slashes at either end and a ".git". */
static int
copy_project(const char *p, char *out, size_t cap)
{
	const char *dash;
	size_t n;

	while (*p == '/')
		p++;
	n = strlen(p);
	/* A pasted page URL: https://HOST/GROUP/PROJECT/-/pipelines */
	if ((dash = strstr(p, "/-/")) != NULL)
		n = (size_t)(dash - p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n > 4 && strncmp(p + n - 4, ".git", 4) == 0)
		n -= 4;
	if (n == 0 || n + 1 > cap || memchr(p, '?', n) != NULL ||
	    memchr(p, '#', n) != NULL)
		return -EINVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	return forge_json_is_safe_path(out) && strchr(out, '/') != NULL ?
	    0 : -EINVAL;
}

/* Split an https://HOST/PATH URL into its origin and path. */
static int
split_url(const char *url, char *origin, size_t cap, const char **path)
{
	int r;

	if ((r = forge_http_origin(url, origin, cap)) < 0)
		return r;
	*path = url + strlen(origin);
	return 0;
}

static int
parse_spec(const char *spec, struct forge_spec *fs)
{
	char origin[FORGE_URL_MAX];
	const char *rest;
	const char *path;
	const char *api;
	int r;

	memset(fs, 0, sizeof(*fs));
	origin[0] = '\0';
	if (strncmp(spec, "gitlab:", 7) == 0) {
		fs->kind = FORGE_GITLAB;
		rest = spec + 7;
		api = getenv("AMBER_GITLAB_API");
		fs->token = env_first("AMBER_GITLAB_TOKEN", "GITLAB_TOKEN",
		    &fs->token_env);
	} else if (strncmp(spec, "github:", 7) == 0) {
		fs->kind = FORGE_GITHUB;
		rest = spec + 7;
		api = getenv("AMBER_GITHUB_API");
		fs->token = env_first("AMBER_GITHUB_TOKEN", "GITHUB_TOKEN",
		    &fs->token_env);
	} else
		return -EINVAL;
	path = rest;
	if (strncmp(rest, "https://", 8) == 0 ||
	    strncmp(rest, "http://", 7) == 0) {
		if ((r = split_url(rest, origin, sizeof(origin), &path)) < 0)
			return r;
	}
	if ((r = copy_project(path, fs->project, sizeof(fs->project))) < 0)
		return r;
	if (fs->kind == FORGE_GITHUB && strchr(fs->project, '/') !=
	    strrchr(fs->project, '/'))
		return -EINVAL;
	if (api != NULL && api[0] != '\0')
		r = snprintf(fs->base, sizeof(fs->base), "%s", api);
	else if (fs->kind == FORGE_GITLAB)
		r = snprintf(fs->base, sizeof(fs->base), "%s/api/v4",
		    origin[0] != '\0' ? origin : "https://gitlab.com");
	else if (origin[0] == '\0' ||
	    strcmp(origin, "https://github.com") == 0)
		r = snprintf(fs->base, sizeof(fs->base),
		    "https://api.github.com");
	else
		r = snprintf(fs->base, sizeof(fs->base), "%s/api/v3", origin);
	if (r < 0 || (size_t)r >= sizeof(fs->base))
		return -EINVAL;
	return 0;
}

/*
 * A token must not cross the network in clear: plain http is for a
 * server on this machine (the tests' fixture server) only.
 */
static int
is_cleartext_remote(const char *base)
{
	static const char *const local[] = {
		"http://127.0.0.1", "http://localhost", "http://[::1]",
	};
	char origin[FORGE_URL_MAX];
	size_t i;

	if (forge_http_origin(base, origin, sizeof(origin)) < 0)
		return 1;
	if (strncmp(origin, "http://", 7) != 0)
		return 0;
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		size_t n = strlen(local[i]);

		if (strncmp(origin, local[i], n) == 0 &&
		    (origin[n] == '\0' || origin[n] == ':'))
			return 0;
	}
	return 1;
}

static int
env_long(const char *name, long dflt, long *v)
{
	const char *s = getenv(name);
	char *end;

	*v = dflt;
	if (s == NULL || s[0] == '\0')
		return 0;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || *v < -1)
		return -EINVAL;
	return 0;
}

/*
 * Read the forge project of ${spec} as pipelines/${name} into ${out},
 * asking ${tape} first (forge_tape.h).  Dry (c->is_dry: no writer), the
 * files are only noted, for what the reader asks next, and no tree is
 * made.
 */
static int
read_api(struct src_ctx *c, const char *name, const char *spec,
    const struct store_source *prev, struct forge_tape *tape,
    struct store_source *out)
{
	static const char *const gh_headers[] = {
		"Accept: application/vnd.github+json",
		"X-GitHub-Api-Version: 2022-11-28",
	};
	struct forge_http_opts ho;
	struct forge_fetch_opts fo;
	struct forge_fetch f;
	struct forge_spec *fs = NULL;
	struct forge_out *o = NULL;
	struct forge_http *h = NULL;
	struct store_tree *t = NULL;
	const char *bad = NULL;
	long v;
	int is_fetch_init = 0;
	int r;

	memset(&f, 0, sizeof(f));
	if ((fs = malloc(sizeof(*fs))) == NULL)
		return -ENOMEM;
	if ((r = parse_spec(spec, fs)) < 0) {
		src_warn(c, "pipelines/%s: %s: not gitlab:https://HOST/GROUP/"
		    "PROJECT or github:OWNER/REPO", name, spec);
		goto out;
	}
	if (fs->token != NULL && is_cleartext_remote(fs->base)) {
		src_warn(c, "pipelines/%s: %s: refusing to send %s over "
		    "plain http", name, fs->base, fs->token_env);
		r = -EINVAL;
		goto out;
	}
	if ((r = forge_fetch_opts_env(&fo, &bad)) < 0) {
		src_warn(c, "pipelines/%s: %s is not a number", name, bad);
		goto out;
	}
	memset(&ho, 0, sizeof(ho));
	ho.base = fs->base;
	ho.token = fs->token;
	ho.token_env = fs->token_env;
	ho.tape = tape;
	/* GitLab needs no Accept: raw files must come as they are. */
	if (fs->kind == FORGE_GITHUB) {
		ho.headers = gh_headers;
		ho.n_headers = sizeof(gh_headers) / sizeof(gh_headers[0]);
	}
	if ((r = env_long("AMBER_FORGE_MAX_WAIT", 300, &ho.max_wait_sec)) < 0 ||
	    (r = env_long("AMBER_FORGE_TIMEOUT", 0, &ho.timeout_sec)) < 0 ||
	    (r = env_long("AMBER_FORGE_RETRIES", -2, &v)) < 0) {
		src_warn(c, "pipelines/%s: AMBER_FORGE_MAX_WAIT, "
		    "AMBER_FORGE_TIMEOUT and AMBER_FORGE_RETRIES take a "
		    "number", name);
		goto out;
	}
	/* Unset: http.h's default; 0 or -1: none. */
	ho.max_retries = v == -2 ? 0 : v <= 0 ? -1 : (int)(v > 20 ? 20 : v);
	if ((r = forge_http_open(&ho, &h)) < 0)
		goto out;
	if (prev != NULL && (r = store_tree_read(c->s, &prev->root.tree,
	    &t)) < 0) {
		/* Nothing to carry from: capture afresh rather than fail. */
		src_warn(c, "pipelines/%s: the previous snapshot's copy cannot "
		    "be read (%s); runs stored before are not carried", name,
		    strerror(-r));
		prev = NULL;
	}
	store_tree_free(t);
	if ((r = forge_out_new(c, prev, (int64_t)time(NULL), &o)) < 0 ||
	    (r = forge_out_cache(o, name)) < 0)
		goto out;
	is_fetch_init = 1;
	if ((r = forge_fetch_init(&f, c, o, h, &fo)) < 0)
		goto out;
	if (fs->kind == FORGE_GITLAB)
		r = forge_gitlab_read(&f, fs->project);
	else
		r = forge_github_read(&f, fs->project);
	if (r < 0 || c->is_dry)
		goto out;
	if ((r = forge_out_finish(o, out)) < 0)
		goto out;
	out->kind = STORE_PIPELINES;
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->origin, sizeof(out->origin), "%s", spec);
	out->flags = forge_out_n_errors(o) > 0 ? STORE_SOURCE_PARTIAL : 0;
out:
	if (is_fetch_init)
		forge_fetch_fini(&f);
	forge_out_free(o);
	forge_http_close(h);
	free(fs);
	return r;
}

static int
is_api(const char *spec)
{
	return strncmp(spec, "gitlab:", 7) == 0 ||
	    strncmp(spec, "github:", 7) == 0;
}

int
src_forge_prefetch(struct src_ctx *c, const char *name, const char *spec,
    const struct store_source *prev, const char *dir,
    struct forge_tape **out)
{
	struct store_source dummy;
	struct forge_tape *t = NULL;
	int r;

	*out = NULL;
	if (!is_api(spec))
		return 0;
	if ((r = forge_tape_new(dir, &t)) < 0)
		return r == -ENOMEM ? r : 0;
	memset(&dummy, 0, sizeof(dummy));
	/* Whatever failed is recorded, and fails again in the replay. */
	if ((r = read_api(c, name, spec, prev, t, &dummy)) == -ENOMEM) {
		forge_tape_free(t);
		return r;
	}
	forge_tape_rewind(t);
	*out = t;
	return 0;
}

int
src_forge_read(struct src_ctx *c, const char *name, const char *spec,
    const struct store_source *prev, struct forge_tape *tape,
    struct store_source *out)
{
	struct src_dir_opts o;
	int r;

	if (is_api(spec))
		return read_api(c, name, spec, prev, tape, out);
	/* An exported directory is stored as it is. */
	memset(&o, 0, sizeof(o));
	if ((r = src_dir_read(c, name, spec, &o, out)) < 0)
		return r;
	out->kind = STORE_PIPELINES;
	return 0;
}
