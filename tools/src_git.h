/*
 * src_git.h: the two halves of src_git_read() (source.h), for running
 * the network half of many repositories at once: src_git_fetch() only
 * updates a repository's local mirror cache (no store access, so threads
 * may run several), and src_git_read_fetched() then stores it without
 * fetching again.  Both are defined in src_git.c.
 */
#ifndef SRC_GIT_H
#define SRC_GIT_H

#include "source.h"

/*
 * src_git_fetch(c, name, location):
 * Clone or fetch ${location} into the mirror cache of repos/${name}.
 * Thread-safe for distinct names (and serialised by a file lock for the
 * same one).  Returns -EIO if git fails (its messages say why), -EINVAL
 * for a bad name or location, other -errno.
 */
int src_git_fetch(struct src_ctx *c, const char *name, const char *location);

/*
 * src_git_read_fetched(c, name, location, out):
 * As src_git_read(), but the mirror cache is taken as src_git_fetch()
 * left it (it is fetched only if it does not exist).  One thread at a
 * time, as for every user of the store writer.
 */
int src_git_read_fetched(struct src_ctx *c, const char *name,
    const char *location, struct store_source out[2]);

/*
 * src_git_has_heads(name, location):
 * Does ${location} (a URL, perhaps with credentials, which are handled
 * as by src_git_fetch()) exist and have a branch?  `git ls-remote
 * --heads`, quietly: 1 yes; 0 no, or git failed; -errno if git could
 * not be run.  Thread-safe.
 */
int src_git_has_heads(const char *name, const char *location);

#endif
