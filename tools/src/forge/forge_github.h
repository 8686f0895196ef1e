/*
 * forge_github.h: pipeline metadata of one GitHub repository, read
 * through the REST API (amber-pipelines(5) lists the endpoints).
 */
#ifndef FORGE_GITHUB_H
#define FORGE_GITHUB_H

#include "forge_fetch.h"

/*
 * forge_github_read(f, repo):
 * Read the repository ${repo} ("owner/name") through ${f}'s client into
 * ${f}'s layout.  Returns as forge_gitlab_read().
 */
int forge_github_read(struct forge_fetch *f, const char *repo);

#endif
