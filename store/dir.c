/*
 * dir.c: the local-directory backend.  An object is written to tmp/,
 * fsynced, linked into place with linkat() (which never replaces an
 * existing name), the directory fsynced, and left read-only (mode 0444,
 * and FS_IMMUTABLE_FL for stores made with --immutable where the process
 * may set it).  A crash leaves at worst a file in tmp/, which the next
 * writer removes when its owner is gone.  An object may also be written
 * in pieces before it is linked (put_open): the writer's packs go so as
 * they fill.  Page-aligned pieces and large objects in page-aligned
 * buffers are written with O_DIRECT where the filesystem takes it: they
 * are fsynced before they are linked anyway, and copying 16 MiB into
 * fresh page-cache pages first was 9% of a first ingest's CPU.
 *
 * Readers keep up to DIR_FD_CACHE descriptors of packs open, since a
 * walk of a snapshot reads thousands of small trees and a file read many
 * chunks from the same few packs.  Caching is safe because an object
 * never changes once in place; each descriptor counts its users, so one
 * is closed only when no thread is reading through it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "crypt.h"
#include "log.h"

/* One cached descriptor: "packs/xx/<64 hex>" fits in key. */
struct fd_slot {
	char key[80];
	int fd;			/* -1: the slot is free */
	uint64_t size;
	unsigned n_users;	/* threads reading through fd now */
	int is_advised;		/* willneed done on it */
	uint64_t last_use;
};

struct dir {
	struct backend be;
	int fd;			/* the store's root directory */
	int is_immutable;
	int warned_immutable;
	pthread_mutex_t fd_lock;	/* guards fds and tick */
	struct fd_slot fds[DIR_FD_CACHE];
	uint64_t tick;
};

/* A descriptor borrowed from the cache (slot >= 0) or owned (slot -1). */
struct fd_ref {
	int fd;
	int slot;
	uint64_t size;
};

static struct dir *
dir_of(struct backend *be)
{
	return (struct dir *)be;
}

/* Keys are relative, '/'-separated, without "." or ".." components. */
static int
key_ok(const char *key)
{
	const char *p = key;

	if (*key == '\0' || *key == '/')
		return 0;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* mkdir -p of the directories of ${key}, relative to the root. */
static int
make_parents(struct dir *d, const char *key)
{
	char path[1024];
	char *p;

	if (strlen(key) >= sizeof(path))
		return -EINVAL;
	strcpy(path, key);
	for (p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(d->fd, path, 0700) != 0 && errno != EEXIST)
			return log_err(-EIO, "%s/%s: mkdir: %s", d->be.location,
			    path, strerror(errno));
		*p = '/';
	}
	return 0;
}

static int
fsync_parent(struct dir *d, const char *key)
{
	char path[1024];
	char *slash;
	int fd;
	int r = 0;

	snprintf(path, sizeof(path), "%s", key);
	slash = strrchr(path, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		strcpy(path, ".");
	if ((fd = openat(d->fd, path, O_RDONLY | O_DIRECTORY)) < 0)
		return -EIO;
	if (fsync(fd) != 0)
		r = -EIO;
	close(fd);
	return r;
}

static void
set_immutable(struct dir *d, int fd, const char *key)
{
	int flags = 0;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags |= FS_IMMUTABLE_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0)
			return;
	}
	if (!d->warned_immutable) {
		d->warned_immutable = 1;
		log_warn("%s/%s: cannot set the immutable attribute (%s); "
		    "objects are read-only but not immutable (it needs "
		    "CAP_LINUX_IMMUTABLE and a filesystem that supports it)",
		    d->be.location, key, strerror(errno));
	}
}

#define DIRECT_MIN (1u << 20)
#define DIRECT_ALIGN 4096u

/* An object being written: a file in tmp/ (backend.h, put_open). */
struct backend_obj {
	struct dir *d;
	int fd;
	int is_direct;		/* O_DIRECT set on fd now */
	uint64_t off;		/* bytes written */
	char tmp[64];
};

static int
dir_put_open(struct backend *be, struct backend_obj **out)
{
	struct dir *d = dir_of(be);
	struct backend_obj *o;
	uint8_t rnd[8];
	int r;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -ENOMEM;
	if ((r = crypt_random(rnd, sizeof(rnd))) < 0) {
		free(o);
		return r;
	}
	o->d = d;
	snprintf(o->tmp, sizeof(o->tmp), "tmp/%ld.%02x%02x%02x%02x%02x%02x"
	    "%02x%02x", (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
	    rnd[5], rnd[6], rnd[7]);
	mkdirat(d->fd, "tmp", 0700);
	o->fd = openat(d->fd, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0444);
	if (o->fd < 0) {
		r = log_err(-EIO, "%s/%s: %s", be->location, o->tmp,
		    strerror(errno));
		free(o);
		return r;
	}
	*out = o;
	return 0;
}

static void
dir_put_abort(struct backend_obj *o)
{
	if (o == NULL)
		return;
	close(o->fd);
	unlinkat(o->d->fd, o->tmp, 0);
	free(o);
}

/* O_DIRECT on or off for the next write; 0, or -errno if fcntl fails. */
static int
set_direct(struct backend_obj *o, int on)
{
	int fl;

	if (o->is_direct == on)
		return 0;
	if ((fl = fcntl(o->fd, F_GETFL)) < 0 ||
	    fcntl(o->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) != 0)
		return -errno;
	o->is_direct = on;
	return 0;
}

/*
 * Append ${len} bytes of ${buf}; with ${may_direct}, where buffer,
 * length and offset are page-aligned, with O_DIRECT where the filesystem
 * takes it: packs are fsynced before they are linked anyway, and copying
 * them into fresh page-cache pages first was 9% of a first ingest's CPU.
 * EINVAL from O_DIRECT (a filesystem or an alignment that refuses it)
 * falls back to the page cache from where it stopped.
 */
static int
obj_write(struct backend_obj *o, const uint8_t *buf, size_t len,
    int may_direct)
{
	size_t done = 0;
	int want = may_direct && len > 0 && len % DIRECT_ALIGN == 0 &&
	    o->off % DIRECT_ALIGN == 0 && (uintptr_t)buf % DIRECT_ALIGN == 0;

	/* Where fcntl refuses, the write goes as the descriptor is. */
	(void)set_direct(o, want);
	while (done < len) {
		ssize_t n = write(o->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && o->is_direct &&
		    set_direct(o, 0) == 0)
			continue;
		if (n <= 0)
			return log_err(-EIO, "%s/%s: write: %s",
			    o->d->be.location, o->tmp,
			    n < 0 ? strerror(errno) : "nothing written");
		done += (size_t)n;
		o->off += (uint64_t)n;
	}
	return 0;
}

static int
dir_put_append(struct backend_obj *o, const uint8_t *buf, size_t len)
{
	return obj_write(o, buf, len, 1);
}

static int
dir_put_commit(struct backend_obj *o, const char *key)
{
	struct dir *d = o->d;
	int r;

	if (!key_ok(key)) {
		r = -EINVAL;
		goto out;
	}
	if ((r = make_parents(d, key)) < 0)
		goto out;
	if (fsync(o->fd) != 0) {
		r = log_err(-EIO, "%s/%s: fsync: %s", d->be.location, o->tmp,
		    strerror(errno));
		goto out;
	}
	if (linkat(d->fd, o->tmp, d->fd, key, 0) != 0) {
		if (errno == EEXIST)
			r = -EEXIST;
		else
			r = log_err(-EIO, "%s/%s: link: %s", d->be.location,
			    key, strerror(errno));
		goto out;
	}
	/* The temporary name goes first: an immutable file's names cannot
	 * be removed. */
	unlinkat(d->fd, o->tmp, 0);
	if (d->is_immutable)
		set_immutable(d, o->fd, key);
	r = fsync_parent(d, key);
out:
	dir_put_abort(o);
	return r;
}

/* A whole object: of a large one in a page-aligned buffer, the aligned
 * part with O_DIRECT (obj_write()), the rest through the page cache. */
static int
dir_put(struct backend *be, const char *key, const uint8_t *buf, size_t len)
{
	size_t head = len >= DIRECT_MIN ? len & ~(size_t)(DIRECT_ALIGN - 1) : 0;
	struct backend_obj *o;
	int r;

	if (!key_ok(key))
		return -EINVAL;
	if ((r = dir_put_open(be, &o)) < 0)
		return r;
	if ((r = obj_write(o, buf, head, 1)) < 0 ||
	    (r = obj_write(o, buf + head, len - head, 0)) < 0) {
		dir_put_abort(o);
		return r;
	}
	return dir_put_commit(o, key);
}

/* Open ${key} read-only and check it is a regular file. */
static int
open_object(struct dir *d, const char *key, int *fd, uint64_t *size)
{
	struct stat st;

	if ((*fd = openat(d->fd, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return log_err(-EIO, "%s/%s: %s", d->be.location, key,
		    strerror(errno));
	}
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return log_err(-EIO, "%s/%s: not a regular file",
		    d->be.location, key);
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static int
is_cacheable(const char *key)
{
	return strncmp(key, "packs/", 6) == 0 &&
	    strlen(key) < sizeof(((struct fd_slot *)NULL)->key);
}

/* The cached slot of ${key}, or -1 (fd_lock held). */
static int
slot_find(struct dir *d, const char *key)
{
	for (int i = 0; i < DIR_FD_CACHE; i++)
		if (d->fds[i].fd >= 0 && strcmp(d->fds[i].key, key) == 0)
			return i;
	return -1;
}

/* A free slot, else the least recently used idle one, else -1. */
static int
slot_victim(struct dir *d)
{
	int best = -1;

	for (int i = 0; i < DIR_FD_CACHE; i++) {
		const struct fd_slot *f = &d->fds[i];

		if (f->fd < 0)
			return i;
		if (f->n_users == 0 && (best < 0 ||
		    f->last_use < d->fds[best].last_use))
			best = i;
	}
	return best;
}

/*
 * A descriptor of ${key}: from the cache where it is a pack, else
 * opened for this call.  Release it with fd_release().
 */
static int
fd_acquire(struct dir *d, const char *key, struct fd_ref *ref)
{
	int fd;
	int i;
	int r;

	ref->slot = -1;
	if (is_cacheable(key)) {
		pthread_mutex_lock(&d->fd_lock);
		if ((i = slot_find(d, key)) >= 0) {
			d->fds[i].n_users++;
			d->fds[i].last_use = ++d->tick;
			ref->fd = d->fds[i].fd;
			ref->size = d->fds[i].size;
			ref->slot = i;
		}
		pthread_mutex_unlock(&d->fd_lock);
		if (ref->slot >= 0)
			return 0;
	}
	if ((r = open_object(d, key, &fd, &ref->size)) < 0)
		return r;
	ref->fd = fd;
	if (!is_cacheable(key))
		return 0;
	pthread_mutex_lock(&d->fd_lock);
	if ((i = slot_find(d, key)) >= 0) {
		/* Another thread opened it meanwhile: use one of them. */
		d->fds[i].n_users++;
		d->fds[i].last_use = ++d->tick;
		ref->fd = d->fds[i].fd;
		ref->slot = i;
	} else if ((i = slot_victim(d)) >= 0) {
		struct fd_slot *f = &d->fds[i];

		if (f->fd >= 0)
			close(f->fd);
		snprintf(f->key, sizeof(f->key), "%s", key);
		f->fd = fd;
		f->size = ref->size;
		f->n_users = 1;
		f->is_advised = 0;
		f->last_use = ++d->tick;
		ref->slot = i;
		fd = -1;
	}
	pthread_mutex_unlock(&d->fd_lock);
	if (ref->slot >= 0 && fd >= 0)
		close(fd);
	return 0;
}

static void
fd_release(struct dir *d, struct fd_ref *ref)
{
	if (ref->slot < 0) {
		close(ref->fd);
		return;
	}
	pthread_mutex_lock(&d->fd_lock);
	d->fds[ref->slot].n_users--;
	pthread_mutex_unlock(&d->fd_lock);
}

static int
dir_get(struct backend *be, const char *key, const char *version,
    uint64_t off, uint64_t len, uint8_t **buf, size_t *got)
{
	struct dir *d = dir_of(be);
	struct fd_ref ref;
	uint8_t *p = NULL;
	size_t done = 0;
	int r = 0;

	if (!key_ok(key) || version != NULL)
		return -EINVAL;
	if ((r = fd_acquire(d, key, &ref)) < 0)
		return r;
	if (off > ref.size)
		off = ref.size;
	if (len > ref.size - off)
		len = ref.size - off;
	if ((p = malloc(len ? len : 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while (done < len) {
		ssize_t n = pread(ref.fd, p + done, len - done,
		    (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = log_err(-EIO, "%s/%s: read: %s", be->location, key,
			    n < 0 ? strerror(errno) : "short read");
			goto out;
		}
		done += (size_t)n;
	}
	*buf = p;
	*got = done;
	p = NULL;
out:
	free(p);
	fd_release(d, &ref);
	return r;
}

static int
dir_read_into(struct backend *be, const char *key, uint64_t off,
    const struct iovec *iov0, int n)
{
	struct dir *d = dir_of(be);
	struct iovec iov[8];
	struct fd_ref ref;
	int i = 0;
	int r = 0;

	if (!key_ok(key) || n < 0 || n > 8)
		return -EINVAL;
	if ((r = fd_acquire(d, key, &ref)) < 0)
		return r;
	memcpy(iov, iov0, (size_t)n * sizeof(*iov));
	while (i < n) {
		ssize_t got = preadv(ref.fd, iov + i, n - i, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		/* Not logged: the caller reads again the general way,
		 * which says what is wrong (and stays quiet when asked). */
		if (got <= 0) {
			r = -EIO;
			break;
		}
		off += (uint64_t)got;
		/* Step past what was filled; a short read resumes within. */
		for (; i < n && (size_t)got >= iov[i].iov_len; i++)
			got -= (ssize_t)iov[i].iov_len;
		if (i < n) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + got;
			iov[i].iov_len -= (size_t)got;
		}
	}
	fd_release(d, &ref);
	return r;
}

/*
 * Let the kernel read the whole object ahead, once per cached
 * descriptor: the pages then come from one sequential read instead of
 * one seek per tree.
 */
static void
dir_willneed(struct backend *be, const char *key)
{
	struct dir *d = dir_of(be);
	struct fd_ref ref;
	int is_new = 1;

	if (!key_ok(key) || fd_acquire(d, key, &ref) < 0)
		return;
	if (ref.slot >= 0) {
		pthread_mutex_lock(&d->fd_lock);
		is_new = !d->fds[ref.slot].is_advised;
		d->fds[ref.slot].is_advised = 1;
		pthread_mutex_unlock(&d->fd_lock);
	}
	if (is_new)
		posix_fadvise(ref.fd, 0, 0, POSIX_FADV_WILLNEED);
	fd_release(d, &ref);
}

/*
 * Call ${fn} for every regular file under ${path} whose key starts with
 * ${prefix}; if ${is_sizeless}, with BACKEND_SIZE_UNKNOWN where the
 * directory entry says what the file is, sparing a stat of each.
 */
static int
list_dir(struct dir *d, const char *path, const char *prefix,
    int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx,
    int depth, int is_sizeless)
{
	struct dirent *de;
	DIR *dir;
	int fd;
	int r = 0;

	if (depth > 8)
		return 0;
	fd = openat(d->fd, *path ? path : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		    log_err(-EIO, "%s/%s: %s", d->be.location, path,
		    strerror(errno));
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -EIO;
	}
	while (r == 0 && (de = readdir(dir)) != NULL) {
		char key[1024];
		struct stat st;
		size_t pl;
		size_t nl;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		if (*path == '\0' && strcmp(de->d_name, "tmp") == 0)
			continue;
		/* PATH/NAME, without printf: one a snapshot in a listing
		 * of snapshots/. */
		pl = strlen(path);
		nl = strlen(de->d_name);
		n = pl + (pl > 0) + nl;
		if (n >= sizeof(key))
			continue;
		memcpy(key, path, pl);
		key[pl] = '/';
		memcpy(key + pl + (pl > 0), de->d_name, nl + 1);
		/* Skip subtrees that cannot hold the prefix. */
		if (strncmp(key, prefix, strlen(key) < strlen(prefix) ?
		    strlen(key) : strlen(prefix)) != 0)
			continue;
		if (is_sizeless && de->d_type == DT_REG) {
			if (strncmp(key, prefix, strlen(prefix)) == 0)
				r = fn(ctx, key, BACKEND_SIZE_UNKNOWN);
			continue;
		}
		if (fstatat(d->fd, key, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = list_dir(d, key, prefix, fn, ctx, depth + 1,
			    is_sizeless);
		else if (S_ISREG(st.st_mode) &&
		    strncmp(key, prefix, strlen(prefix)) == 0)
			r = fn(ctx, key, (uint64_t)st.st_size);
	}
	closedir(dir);
	return r;
}

static int
dir_list(struct backend *be, const char *prefix,
    int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx)
{
	return list_dir(dir_of(be), "", prefix, fn, ctx, 0, 0);
}

static int
dir_list_keys(struct backend *be, const char *prefix,
    int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx)
{
	return list_dir(dir_of(be), "", prefix, fn, ctx, 0, 1);
}

static int
dir_stat(struct backend *be, const char *key, uint64_t *size)
{
	struct dir *d = dir_of(be);
	struct stat st;

	if (!key_ok(key))
		return -EINVAL;
	if (fstatat(d->fd, key, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? -ENOENT : -EIO;
	if (!S_ISREG(st.st_mode))
		return -EIO;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int
dir_stamp(struct backend *be, const char *dir, uint8_t out[BACKEND_STAMP_LEN])
{
	struct dir *d = dir_of(be);
	struct timespec now;
	struct stat st;
	int64_t v[6];

	if (!key_ok(dir) || fstatat(d->fd, dir, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -EIO;
	/* A key added after this reads a later ctime, unless the coarse
	 * clock that stamps it has not moved since this one. */
	if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    st.st_ctim.tv_sec >= now.tv_sec - 1)
		return -EAGAIN;
	v[0] = (int64_t)st.st_dev;
	v[1] = (int64_t)st.st_ino;
	v[2] = st.st_mtim.tv_sec;
	v[3] = st.st_mtim.tv_nsec;
	v[4] = st.st_ctim.tv_sec;
	v[5] = st.st_ctim.tv_nsec;
	memcpy(out, v, sizeof(v));
	return 0;
}

static void
dir_close(struct backend *be)
{
	struct dir *d = dir_of(be);

	for (int i = 0; i < DIR_FD_CACHE; i++)
		if (d->fds[i].fd >= 0)
			close(d->fds[i].fd);
	pthread_mutex_destroy(&d->fd_lock);
	if (d->fd >= 0)
		close(d->fd);
	free(be->location);
	free(d);
}

/* Remove temporary files whose writing process is gone. */
static void
clear_tmp(struct dir *d)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	if ((fd = openat(d->fd, "tmp", O_RDONLY | O_DIRECTORY)) < 0)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		long pid = strtol(de->d_name, NULL, 10);

		if (de->d_name[0] == '.' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
			unlinkat(fd, de->d_name, 0);
	}
	closedir(dir);
}

static void
dir_set_immutable(struct backend *be)
{
	dir_of(be)->is_immutable = 1;
}

static const struct backend_ops dir_ops = {
	.put = dir_put,
	.get = dir_get,
	.list = dir_list,
	.list_keys = dir_list_keys,
	.stamp = dir_stamp,
	.stat = dir_stat,
	.versions = NULL,
	.protect = NULL,
	.close = dir_close,
	.willneed = dir_willneed,
	.read_into = dir_read_into,
	.set_immutable = dir_set_immutable,
	.put_open = dir_put_open,
	.put_append = dir_put_append,
	.put_commit = dir_put_commit,
	.put_abort = dir_put_abort,
};

int
dir_open(const char *path, const struct backend_opts *o, int create,
    struct backend **out)
{
	struct dir *d = NULL;
	int r;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	d->fd = -1;
	pthread_mutex_init(&d->fd_lock, NULL);
	for (int i = 0; i < DIR_FD_CACHE; i++)
		d->fds[i].fd = -1;
	d->be.ops = &dir_ops;
	d->is_immutable = o ? o->is_immutable : 0;
	d->be.is_local = 1;
	if ((d->be.location = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (create && mkdir(path, 0700) != 0 && errno != EEXIST) {
		r = log_err(-EIO, "%s: mkdir: %s", path, strerror(errno));
		goto out;
	}
	d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		r = errno == ENOENT || errno == ENOTDIR ? -ENOENT :
		    log_err(-EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (create) {
		DIR *dir = fdopendir(dup(d->fd));
		struct dirent *de;
		int is_empty = 1;

		if (dir == NULL) {
			r = -EIO;
			goto out;
		}
		while ((de = readdir(dir)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				is_empty = 0;
		closedir(dir);
		if (!is_empty) {
			r = -EEXIST;
			goto out;
		}
	} else {
		clear_tmp(d);
	}
	*out = &d->be;
	d = NULL;
	r = 0;
out:
	if (d != NULL)
		dir_close(&d->be);
	return r;
}
