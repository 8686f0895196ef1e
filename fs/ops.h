/*
 * ops.h: the FUSE low-level operation table of amberfs.  Each callback is
 * a thin adapter: it gets struct fs from the request, calls one fs_<op>()
 * (fs.h: no store logic here) and replies exactly once, with no lock held;
 * write-type operations answer EROFS.
 */
#ifndef OPS_H
#define OPS_H

#include <fuse_lowlevel.h>

/* The table handed to fuse_session_new(); userdata is a struct fs. */
extern const struct fuse_lowlevel_ops ops_table;

#endif
