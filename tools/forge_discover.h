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
	int is_archived;
};

struct forge_repos {
	struct forge_repo *v;
	size_t n;
	char **bad;		/* projects left out: no valid name */
	size_t n_bad;
};

/*
 * forge_discover(e, out, err, cap):
 * List the repositories of the group or organisation of ${e} (subgroups
 * included), keep those ${e}'s options select (archived=, include=,
 * exclude=), and name each: the project's full path with '/' turned into
 * '.' ("grp/sub/app" -> "grp.sub.app"; GitHub: "org.repo").  A project
 * whose name would not be a valid source name is left out and listed in
 * ${out}->bad, for the caller to warn about.  Returns 0 and fills *${out}
 * (free with forge_repos_fini()); on failure -errno with one line in
 * ${err}:
 * -EACCES (401, 403), -ENOENT (no such group), -EIO, -EBADMSG (not the
 * answer of a forge), -EINVAL (a token refused over plain http).
 */
int forge_discover(const struct sources_entry *e, struct forge_repos *out,
    char *err, size_t cap);

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
