/*
 * src_git.h: the two halves of src_git_read() (source.h), for running
 * the network half of many repositories at once: src_git_fetch() only
 * updates a repository's local mirror cache (no store access, so threads
 * may run several), and src_git_read_fetched() then stores it without
 * fetching again.  Both are defined in src_git.c.  For every function
 * here (and src_git_read()), credentials in a location
 * (https://TOKEN@host/..., user:password@) are taken out of the URL: git
 * gets them through its environment, and they appear in no origin,
 * message or argument (amber(1), SECURITY CONSIDERATIONS).
 */
#ifndef SRC_GIT_H
#define SRC_GIT_H

#include "source.h"

/*
 * A location a forge's listing gave (forge_discover.h), already checked
 * to be http(s) on the forge's host: git must not follow a redirect away
 * from it, nor use another transport.
 */
#define SRC_GIT_LISTED 1u

/*
 * src_git_fetch(c, name, location, flags):
 * Clone or fetch ${location} into the mirror cache of repos/${name}.
 * ${flags}: 0 or SRC_GIT_LISTED.  Thread-safe for distinct names (and
 * serialised by a file lock for the same one).  Returns -EIO if git
 * fails (its messages say why), -EINVAL for a bad name or location,
 * other -errno; 1 where ls-remote lists exactly what it listed at the
 * last complete fetch (then nothing else ran: see src_git_reuse()).
 */
int src_git_fetch(struct src_ctx *c, const char *name, const char *location,
    unsigned flags);

/*
 * src_git_read_fetched(c, name, location, flags, out):
 * As src_git_read(), but the mirror cache is taken as src_git_fetch()
 * left it (it is fetched only if it does not exist).  One thread at a
 * time, as for every user of the store writer.
 */
int src_git_read_fetched(struct src_ctx *c, const char *name,
    const char *location, unsigned flags, struct store_source out[2]);

/*
 * src_git_reuse(c, name, location, flags, prev, prev_mirror, out):
 * After src_git_fetch() returned 1: where this machine stored ${prev}
 * and ${prev_mirror} (repos/NAME and NAME.git of the previous snapshot)
 * from the very fetch state the cache still has, for the same location
 * and flags, copy them to out[0] and out[1] (origin redacted) and
 * return 0: an unchanged repository is not read again.  The record is
 * the local cache's, written only once the snapshot that holds the two
 * sources was committed, and it names their stored trees by id and key,
 * so only a tree this machine stored from that state is ever reused.
 * -ENOENT where any of that does not hold (then read as usual).
 */
int src_git_reuse(struct src_ctx *c, const char *name, const char *location,
    unsigned flags, const struct store_source *prev,
    const struct store_source *prev_mirror, struct store_source out[2]);

/*
 * src_git_has_heads(name, location, flags):
 * Does ${location} exist and have a branch?  `git ls-remote --heads`,
 * quietly, with credentials and ${flags} as src_git_fetch() takes them:
 * 1 yes; 0 no, or git failed; -errno if git could not be run.
 * Thread-safe.
 */
int src_git_has_heads(const char *name, const char *location,
    unsigned flags);

#endif
