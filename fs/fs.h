/*
 * fs.h: the operations of the amberfs mount, one fs_<op>() per FUSE
 * request, each returning 0 or a negative errno and never replying (ops.c
 * replies).  Stored-data errors come back as -EIO: a damaged (-EBADMSG) or
 * missing (-ENOENT) chunk is reported as EIO to the reader, never as wrong
 * bytes or as a missing file; libstore has logged the object by then.
 *
 * Nothing here allocates per looked-up inode: node ids are computed (see
 * inode.h), so fs_forget has nothing to do.  Open files and directories
 * pin the tree that holds them until release.  All functions are
 * thread-safe.
 */
#ifndef FS_H
#define FS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <fuse_lowlevel.h>

#include "state.h"
#include "store.h"

/*
 * fs_init(fs, s, tree_cache_entries, share_files):
 * Set up ${fs} over the unlocked store ${s}: load the snapshot list, make
 * a tree cache of ${tree_cache_entries} entries, and let at most
 * ${share_files} files (at most SHARE_FILES; 0: none) have shared ids
 * (share.h).  Returns what store_snapshots() returns, -EINVAL, or
 * -ENOMEM.  Release with fs_fini().
 */
int fs_init(struct fs *fs, struct store *s, size_t tree_cache_entries,
    uint32_t share_files);
void fs_fini(struct fs *fs);

/*
 * fs_rescan(fs): look for new snapshots now (see snaps_rescan()); for
 * SIGHUP and the periodic check.
 */
int fs_rescan(struct fs *fs);

/*
 * fs_lookup(fs, req, parent, name, e):
 * Fill ${e} for ${name} in directory ${parent}, as seen by the user of
 * ${req} (STORE_ENTRY_OWNER_VIEWER, honoured on repos/NAME.git only;
 * NULL: the stored ids).  Inside a
 * snapshot a missing name fills e->ino = 0 (a negative entry the kernel
 * may keep); at the top level it returns -ENOENT (after one rate-limited
 * rescan), so new snapshots are seen.  Returns -ENOTDIR, -ENOENT, -EIO.
 */
int fs_lookup(struct fs *fs, fuse_req_t req, fuse_ino_t parent,
    const char *name, struct fuse_entry_param *e);

/* fs_getattr(fs, req, ino, st, ttl): attributes of ${ino} and their
 * timeout, as seen by the user of ${req}, as fs_lookup(). */
int fs_getattr(struct fs *fs, fuse_req_t req, fuse_ino_t ino, struct stat *st,
    double *ttl);

/*
 * fs_readlink(fs, ino, buf, cap): the target of symlink ${ino} as a
 * NUL-terminated string in ${buf} (${cap} > STORE_TARGET_MAX).  Returns
 * -EINVAL if ${ino} is not a symlink.
 */
int fs_readlink(struct fs *fs, fuse_ino_t ino, char *buf, size_t cap);

/*
 * No operation needs a handle: each names its node, and fi->fh stays 0.
 * fs_opendir(fs, ino, fi): whether ${ino} may be listed (-ENOTDIR if it
 * is no directory); sets the flags that keep the listing cached.  Used
 * only where the kernel cannot skip opendir.
 */
int fs_opendir(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi);

/*
 * fs_readdir(fs, req, ino, size, off, is_plus, buf, len):
 * Fill ${buf} (${size} bytes) with the entries of directory ${ino} from
 * offset ${off}, with attributes if ${is_plus}; sets *${len}.  A listing
 * of a top-level directory from offset 0 first looks for new snapshots
 * (rate-limited).
 */
int fs_readdir(struct fs *fs, fuse_req_t req, fuse_ino_t ino, size_t size,
    off_t off, int is_plus, char *buf, size_t *len);

/*
 * fs_open(fs, ino, fi): whether regular file ${ino} may be opened: -EROFS
 * for any write access, -EISDIR, -EINVAL for other types.  Used only where
 * the kernel cannot skip open.
 */
int fs_open(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi);

/*
 * fs_read(fs, ino, size, off, buf, got): read up to ${size} bytes at
 * ${off} of file ${ino} into ${buf}; *${got} is short only at the end of
 * the file.  -EIO if the data is damaged or missing.
 */
int fs_read(struct fs *fs, fuse_ino_t ino, size_t size, off_t off,
    uint8_t *buf, size_t *got);

/*
 * fs_read_pin(fs, ino, size, off, p, got): as fs_read(), but lends the
 * bytes in place (store_read_pin()): after a return of 0 the caller
 * replies from ${p}->iov and then calls store_unpin(fs->s, ${p}).
 * -ERANGE (nothing held) when the range cannot be lent (holes, too many
 * chunks): the caller falls back to fs_read().
 */
int fs_read_pin(struct fs *fs, fuse_ino_t ino, size_t size, off_t off,
    struct store_pin *p, size_t *got);

/*
 * fs_siblings(fs, ino, fn, ctx): for file ${ino} in a snapshot's tree,
 * call ${fn}(ctx, dir, id, entry) for each regular file after it in its
 * directory (${dir}: the directory's node id, never 0; hard links and
 * the configs we serve left out), until ${fn} returns nonzero; a
 * negative return is passed on.  The entry is valid during the call
 * only.
 */
typedef int fs_sibling_fn(void *ctx, uint64_t dir, fuse_ino_t ino,
    const struct store_entry *e);
int fs_siblings(struct fs *fs, fuse_ino_t ino, fs_sibling_fn *fn, void *ctx);

/*
 * fs_lseek(fs, ino, off, whence, out): SEEK_DATA and SEEK_HOLE in file
 * ${ino}, from the stored extents.  Returns -ENXIO past the end or when
 * no data follows, -EINVAL for another ${whence}.
 */
int fs_lseek(struct fs *fs, fuse_ino_t ino, off_t off, int whence,
    off_t *out);

/*
 * fs_buf_get(fs, size), fs_buf_put(fs, buf, size): a buffer of ${size}
 * bytes for one read request, and its return.  Buffers up to FS_BUF_SIZE
 * come from a small pool, so that the pages of a read buffer are not
 * mapped and unmapped again for every request.  NULL: out of memory.
 */
uint8_t *fs_buf_get(struct fs *fs, size_t size);
void fs_buf_put(struct fs *fs, uint8_t *buf, size_t size);

/* fs_statfs(fs, st): a read-only file system's numbers. */
int fs_statfs(struct fs *fs, struct statvfs *st);

#endif
