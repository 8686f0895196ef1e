/*
 * forge_gitlab.h: pipeline metadata of one GitLab project, read through
 * the REST API v4 (amber-pipelines(5) lists the endpoints).
 */
#ifndef FORGE_GITLAB_H
#define FORGE_GITLAB_H

#include "forge_fetch.h"

/*
 * forge_gitlab_read(f, project):
 * Read the project ${project} ("group/sub/project") through ${f}'s client
 * into ${f}'s layout.  What the forge does not give is recorded in the
 * layout's errors.  Returns -FORGE_ETOKEN (token refused), -ENOENT (no
 * such project) or -EIO when not even the project could be read, which
 * ends the source (the reason went to src_warn()); a store error;
 * -ENOMEM.
 */
int forge_gitlab_read(struct forge_fetch *f, const char *project);

/*
 * forge_gitlab_includes(text, len, queue):
 * Append to the JSON array ${queue} the local files the GitLab CI file
 * ${text} (${len} bytes, from the network) includes: "local: path"
 * anywhere, and plain "/path.yml" strings under a top-level include:
 * key.  Returns 0, or -ENOMEM.
 */
int forge_gitlab_includes(const char *text, size_t len, json_t *queue);

#endif
