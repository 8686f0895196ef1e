/*
 * gitcfg.h: the git config amberfs serves in place of a stored one.
 *
 * git runs programs that a repository's config names (core.pager,
 * core.fsmonitor, diff and filter drivers, hooks...) for whoever runs git
 * there, and a snapshot's content is its writer's choice, which may be an
 * ingest key's holder.  So wherever git could read a file of the mount as
 * a repository's config, amberfs serves one it writes itself instead,
 * keeping from the stored one only what git needs to read the repository
 * and nothing that names a program (amberfs(1)).  No I/O here.
 */
#ifndef GITCFG_H
#define GITCFG_H

#include <stddef.h>
#include <stdint.h>

#define GITCFG_SIZE 512		/* every served config, padded */
#define GITCFG_IN_MAX (64u * 1024)	/* stored bytes looked at */

/* 1 if ${name} is one git reads as a config in a repository's directory
 * ("config", "config.worktree"), else 0. */
int gitcfg_is_name(const uint8_t *name, size_t len);

/*
 * gitcfg_make(in, len, is_mirror, out):
 * The config served in place of the stored ${in} (${len} bytes, at most
 * GITCFG_IN_MAX looked at): core.repositoryformatversion, core.bare,
 * extensions.objectformat and extensions.refstorage where ${in} sets them
 * to a value git knows, written plainly; core.bare = true if ${is_mirror}
 * (repos/NAME.git); core.hooksPath = /dev/null; then a comment up to
 * GITCFG_SIZE bytes.  Anything else of ${in}, or anything it does not say
 * plainly, is left out.
 */
void gitcfg_make(const uint8_t *in, size_t len, int is_mirror,
    uint8_t out[GITCFG_SIZE]);

#endif
