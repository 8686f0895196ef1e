/*
 * ops.c: FUSE low-level adapters (see ops.h).  Every write-type request
 * answers EROFS here: the mount is also made with the kernel's "ro" flag,
 * which stops most of them before they reach us, but the answer must not
 * depend on it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "ops.h"
#include "push.h"
#include "xattr.h"

static struct fs *
fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	/* Nanosecond mtimes are stored and shown. */
	conn->time_gran = 1;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO)
		conn->want |= FUSE_CAP_READDIRPLUS_AUTO;
	/* Sequential reads reach the store in large requests.  The kernel
	 * lowers the mount's read-ahead to this when it takes the answer
	 * (main.c raised it, where it could). */
	if (fs->read_ahead > conn->max_readahead)
		conn->max_readahead = (unsigned)fs->read_ahead;
	/*
	 * No handles are needed (fs.h), so the kernel may skip opendir,
	 * open and the releases: it then keeps every listing and every
	 * file's pages.  A kept listing is dropped when the directory's
	 * mtime changes, which the kernel checks only with auto_inval_data.
	 */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	if ((conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) &&
	    (conn->want & FUSE_CAP_AUTO_INVAL_DATA)) {
		conn->want |= FUSE_CAP_NO_OPENDIR_SUPPORT;
		fs->no_opendir = 1;
	}
	if (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) {
		conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
		fs->no_open = 1;
	}
	/* Link targets never change (a new latest is a new node: vnode.c):
	 * the kernel may keep them in the page cache.  Without this, every
	 * path walk through a link asks for its target again: 22,000 READLINKs
	 * for the 112 links of a diff -r of two linux trees. */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* Writes never happen; no write-back cache. */
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int r = fs_lookup(fs_of(req), req, parent, name, &e);

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	double ttl;
	int r;

	(void)fi;
	r = fs_getattr(fs_of(req), req, ino, &st, &ttl);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, ttl);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[STORE_TARGET_MAX + 64];
	int r = fs_readlink(fs_of(req), ino, buf, sizeof(buf));

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, buf);
}

static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r;

	/* The kernel takes ENOSYS as "never ask again". */
	if (fs_of(req)->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	r = fs_opendir(fs_of(req), ino, fi);

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_open(req, fi);
}

static void
readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    int is_plus)
{
	char *buf;
	size_t len = 0;
	int r;

	if (size > 1024 * 1024)
		size = 1024 * 1024;
	if ((buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r = fs_readdir(fs_of(req), req, ino, size, off, is_plus, buf, &len);
	if (r < 0 && len == 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, 0);
}

static void
op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, 1);
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r;

	if (fs_of(req)->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	r = fs_open(fs_of(req), ino, fi);

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_open(req, fi);
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	uint8_t *buf;
	size_t got = 0;
	int r;

	(void)fi;
	if (size > 16 * 1024 * 1024)
		size = 16 * 1024 * 1024;
	/* Most reads are answered straight from the chunk cache: the
	 * reply is the only copy. */
	{
		struct store_pin pin;

		r = fs_read_pin(fs, ino, size, off, &pin, &got);
		if (r == 0) {
			if (got == 0)
				fuse_reply_buf(req, NULL, 0);
			else
				fuse_reply_iov(req, pin.iov, (int)pin.n_iov);
			store_unpin(fs->s, &pin);
			push_hint(fs, ino, off, got, size);
			return;
		}
		if (r != -ERANGE) {
			fuse_reply_err(req, -r);
			return;
		}
	}
	if ((buf = fs_buf_get(fs, size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r = fs_read(fs, ino, size, off, buf, &got);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, (const char *)buf, got);
	if (r == 0)
		push_hint(fs, ino, off, got, size);
	/* ${req} is gone once replied to: ${fs} was taken before. */
	fs_buf_put(fs, buf, size);
}

static void
op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
    struct fuse_file_info *fi)
{
	off_t out;
	int r;

	(void)fi;
	r = fs_lseek(fs_of(req), ino, off, whence, &out);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_lseek(req, out);
}

static void
op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;
	int r;

	(void)ino;
	r = fs_statfs(fs_of(req), &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_statfs(req, &st);
}

/* Node ids are computed, never allocated: nothing to forget. */
static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count,
    struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

/* The one reply of an xattr request: an error, the size asked for
 * (${size} 0), or the ${len} bytes of ${buf}. */
static void
reply_xattr(fuse_req_t req, int r, size_t size, const char *buf, size_t len)
{
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
}

/* Stored trees carry no extended attributes; snapshot directories say
 * who wrote them. */
static void
op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char buf[XATTR_MAX];
	size_t len = 0;
	int r = xattr_get(fs_of(req), ino, name, buf,
	    size < sizeof(buf) ? size : sizeof(buf), &len);

	reply_xattr(req, r, size, buf, len);
}

static void
op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char buf[XATTR_MAX];
	size_t len = 0;
	int r = xattr_list(fs_of(req), ino, buf,
	    size < sizeof(buf) ? size : sizeof(buf), &len);

	reply_xattr(req, r, size, buf, len);
}

/* ---- every write-type request: EROFS ------------------------------------ */

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	(void)ino;
	(void)attr;
	(void)to_set;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void
op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EROFS);
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EROFS);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void
op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
    const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	(void)parent;
	(void)name;
	(void)newparent;
	(void)newname;
	(void)flags;
	fuse_reply_err(req, EROFS);
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
    const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EROFS);
}

static void
op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void
op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
    const char *value, size_t size, int flags)
{
	(void)ino;
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	fuse_reply_err(req, EROFS);
}

static void
op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void
op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
    off_t length, struct fuse_file_info *fi)
{
	(void)ino;
	(void)mode;
	(void)offset;
	(void)length;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

const struct fuse_lowlevel_ops ops_table = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.open = op_open,
	.read = op_read,
	.lseek = op_lseek,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.write = op_write,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
	.create = op_create,
	.fallocate = op_fallocate,
};
