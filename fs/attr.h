/*
 * attr.h: what a stored entry looks like to stat(2) through the mount,
 * for fs.c and vnode.c.  Pure functions.
 */
#ifndef ATTR_H
#define ATTR_H

#include <stdint.h>
#include <sys/stat.h>

#include <fuse_lowlevel.h>

#include "snaps.h"
#include "store.h"

/*
 * attr_entry(e, ino, mt_sec, mt_nsec, st): the attributes of entry ${e}
 * as inode ${ino} with the mtime given (its own or the one it inherits),
 * into *${st}.
 */
void attr_entry(const struct store_entry *e, fuse_ino_t ino, int64_t mt_sec,
    uint32_t mt_nsec, struct stat *st);

/*
 * attr_snap_root(snap, b, e): the root directory of ${snap} (its body
 * ${b}) as an entry: the stored one, with mode 0555 and the snapshot's
 * time where it has none.
 */
void attr_snap_root(const struct snaps_snap *snap, const struct snaps_body *b,
    struct store_entry *e);

#endif
