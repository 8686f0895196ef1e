/*
 * forge_discover.h: expand a gitlab-group or github-org line of a sources
 * file (sources.h) into the repositories the forge lists for it, through
 * the forge API client of forge_http.h.
 */
#ifndef FORGE_DISCOVER_H
#define FORGE_DISCOVER_H

#include <stddef.h>

#include "sources.h"

/* One repository of a group or organisation. */
struct forge_repo {
	char *path;		/* relative to the group: "sub/app" */
	char *name;		/* the source name: "grp.sub.app" */
	char *clone_url;	/* for git */
	char *wiki_url;		/* the wiki's git URL, or NULL */
	char *pipeline_spec;	/* "gitlab:URL" or "github:OWNER/REPO" */
	char *refused;		/* why clone_url may not be cloned, or NULL */
	int is_archived;
};

struct forge_repos {
	struct forge_repo *v;
	size_t n;
	char **bad;		/* projects left out: no valid name */
	size_t n_bad;
};

/*
 * forge_discover(e, allow, n_allow, out, err):
 * List the repositories of the group or organisation of ${e} (subgroups
 * included), keep those ${e}'s options select (archived=, include=,
 * exclude=), and name each: the project's full path with '/' turned into
 * '.' ("grp/sub/app" -> "grp.sub.app"; GitHub: "org.repo").  A project
 * whose name would not be a valid source name is left out and listed in
 * ${out}->bad, for the caller to warn about.
 * Every clone URL is checked (forge_discover_check()) against the
 * forge's own hosts, ${e}'s allow-clone-host= and the ${n_allow} hosts
 * of ${allow} (--allow-clone-host); a project whose URL fails keeps its
 * place in the listing, with ->refused saying why and ->clone_url
 * without credentials, so that the caller reports it and clones nothing.
 * Returns 0 and fills *${out} (free with forge_repos_fini()); on failure
 * -errno with one line in ${err}->msg:
 * -FORGE_ETOKEN (401, 403), -ENOENT (no such group), -EIO, -EBADMSG
 * (not the answer of a forge), -EINVAL (a token refused over plain
 * http), -EFBIG (an answer over the caps of forge_http_pages(), or more
 * than 100000 projects).
 */
int forge_discover(const struct sources_entry *e, const char *const *allow,
    size_t n_allow, struct forge_repos *out, struct err *err);

/*
 * forge_discover_check(api, web, url, allow, n_allow, why, cap):
 * May git be given the clone URL ${url}, listed by the forge whose API
 * base is ${api} and whose web host is ${web} ("github.com", or the host
 * of a group's URL)?  Yes (0) when ${url} is https:// to ${web}, to the
 * API's host or to one of the ${n_allow} hosts of ${allow} ("host" or
 * "host:port"); or, when the API itself is plain http, http:// to the
 * API's host and port or to an allowed host.  Anything else (file:,
 * ssh:, ext::, another host, a URL that parses two ways) is -EPERM, with
 * the reason in ${why}.
 */
int forge_discover_check(const char *api, const char *web, const char *url,
    const char *const *allow, size_t n_allow, char *why, size_t cap);

void forge_repos_fini(struct forge_repos *r);

/*
 * forge_discover_prefix(e, buf, cap): the prefix of every source name
 * ${e} expands to ("grp.sub." for https://HOST/grp/sub, "org." for an
 * organisation), for finding what vanished when the listing fails or
 * comes back without some.  Returns -ERANGE if ${cap} is too small.
 */
int forge_discover_prefix(const struct sources_entry *e, char *buf,
    size_t cap);

#endif
