/*
 * vnode.h: the virtual nodes at the top of the mount, for fs.c: the
 * root, snapshots/, latest, by-date/..., by-source/... and by-writer/...,
 * computed from a snapshot view.  Pure functions of the view: no store
 * access, no reply to FUSE.
 */
#ifndef VNODE_H
#define VNODE_H

#include <sys/stat.h>

#include <fuse_lowlevel.h>

#include "snaps.h"
#include "state.h"

/* A child of a virtual directory; non-zero stops the listing. */
typedef int vnode_list_fn(void *ctx, const char *name, fuse_ino_t ino);

/*
 * vnode_list(fs, v, dir, fn, ctx): call ${fn} with the name and id of
 * every child of virtual directory ${dir}, in a stable order; a non-zero
 * return of ${fn} stops the listing and is returned.  Returns -ENOTDIR
 * for a virtual symlink.
 */
int vnode_list(struct fs *fs, const struct snaps_view *v, fuse_ino_t dir,
    vnode_list_fn *fn, void *ctx);

/* vnode_find(...): the child ${name} of virtual directory ${dir};
 * -ENOENT if absent. */
int vnode_find(struct fs *fs, const struct snaps_view *v, fuse_ino_t dir,
    const char *name, fuse_ino_t *ino);

/*
 * vnode_target(v, ino, buf, cap): the target of virtual symlink ${ino}
 * into ${buf}; -ENOENT if it no longer exists, -EINVAL if ${ino} is not a
 * symlink, -ERANGE if ${cap} is too small.
 */
int vnode_target(const struct snaps_view *v, fuse_ino_t ino, char *buf,
    size_t cap);

/* vnode_stat(...): attributes and timeout of any top-level node,
 * snapshot directories included; -ENOENT if it no longer exists. */
int vnode_stat(struct fs *fs, const struct snaps_view *v, fuse_ino_t ino,
    struct stat *st, double *ttl);

/* vnode_is_dir(ino): whether virtual node ${ino} is a directory. */
int vnode_is_dir(fuse_ino_t ino);

/*
 * vnode_ttl(ino, ttl): the attribute timeout of node ${ino} whose entry
 * times out after ${ttl}: none for a virtual directory, whose kept
 * listing is checked against its mtime.
 */
double vnode_ttl(fuse_ino_t ino, double ttl);

#endif
