/*
 * mtime.h: effective mtimes of stored entries for the commands that read
 * them (ls, restore).  An entry with STORE_ENTRY_MTIME_INHERIT takes the
 * mtime of its nearest enclosing directory that has its own
 * (amber-store(5)), so a reader that starts below the snapshot root
 * walks down from the root to learn it; below that, store_entry_mtime()
 * carries it down.
 */
#ifndef MTIME_H
#define MTIME_H

#include <stdint.h>

#include "store.h"

/*
 * mtime_at(s, sn, path, sec, nsec):
 * The effective mtime of the entry at ${path} ("a/b/c" as cli_split_spec()
 * leaves it; "" is the snapshot's root) of snapshot ${sn}: the root's
 * own, or the snapshot's time if the root inherits.  Returns 0 and sets
 * *${sec}, *${nsec}; -ENOENT if a component is missing, -ENOTDIR if one
 * is not a directory, the errors of store_tree_read() otherwise.
 */
int mtime_at(struct store *s, const struct store_snap *sn, const char *path,
    int64_t *sec, uint32_t *nsec);

#endif
