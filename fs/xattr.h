/*
 * xattr.h: the extended attributes amberfs shows.
 */
#ifndef XATTR_H
#define XATTR_H

#include <stddef.h>

#include <fuse_lowlevel.h>

#include "state.h"

/*
 * xattr_get(fs, ino, name, buf, cap, len): the extended attribute
 * ${name} of ${ino}: only a snapshot's directory has any (amberfs(1):
 * user.amber.id, user.amber.writer, user.amber.flags).  The value goes
 * to ${buf} if ${cap} is not 0; *${len} is its length.  Returns -ENODATA
 * if there is no such attribute, -ERANGE if ${cap} is too small.
 * xattr_list(fs, ino, buf, cap, len): their names, likewise.
 */
#define XATTR_MAX 256
int xattr_get(struct fs *fs, fuse_ino_t ino, const char *name, char *buf,
    size_t cap, size_t *len);
int xattr_list(struct fs *fs, fuse_ino_t ino, char *buf, size_t cap,
    size_t *len);

#endif
