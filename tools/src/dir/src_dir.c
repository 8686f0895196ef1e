/*
 * src_dir.c: the plain-directory source reader.  It walks a directory tree
 * depth first, in the byte order of names (the order the tree builder
 * sorts into, so that the preorder ordinals of hard-link groups match the
 * stored trees), opening every entry relative to its parent's descriptor
 * and never following a symlink.  Regular files are read by data extents
 * so holes stay holes; fifos, sockets and device nodes are recorded and
 * never opened.  A file whose size, mtime, ctime and inode match the
 * local cache's record of the previous ingest is not read at all: its
 * stored extents are reused once every chunk is known to the store.
 * Anything that cannot be read, or that changes while read, is reported
 * with src_warn(), recorded as far as it could be (STORE_ENTRY_PARTIAL),
 * and the walk goes on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fcache.h"
#include "name.h"
#include "source.h"

#define READ_LEN (1u << 20)	/* one read(2) of file content */
#define CACHE_TABLE "files"
#define RACY_SEC 2		/* no cache record for changes this young */
#define CACHE_KEY_MAX 400	/* longer keys: the path is hashed */
#define SHA256_LEN 32
#define MAX_DEPTH 1024		/* directory levels below the source root */

/* A directory entry as read, before sorting: its name in the pool. */
struct dent {
	size_t off;
	size_t len;
};

/* One hard-link group seen so far (files with st_nlink > 1). */
struct hlink {
	uint64_t dev;
	uint64_t ino;
	uint64_t ord;		/* ordinal of the group's first name */
	uint64_t size;
	uint32_t flags;
	size_t n_extents;
	struct store_extent *extents;
	int is_used;
};

/* An exclusion pattern; an anchored one ("/x") matches paths only. */
struct excl {
	const char *pat;
	int is_anchored;
};

struct walk {
	struct src_ctx *c;
	const char *name;	/* the source's name */
	struct excl *excl;
	size_t n_excl;
	int is_one_file_system;
	dev_t root_dev;
	uid_t euid;
	uint64_t ord;		/* the next entry's ordinal */
	unsigned depth;		/* of the directory being walked */
	uint64_t n_files;	/* entries recorded */
	uint64_t n_bytes;	/* apparent size of the regular files */
	uint64_t n_warnings;
	uint8_t *buf;		/* READ_LEN bytes */
	/* The current path relative to the source root, NUL-terminated. */
	char *path;
	size_t path_len;
	size_t path_cap;
	/* The cache key: kind, name length, name, then the path. */
	uint8_t *key;
	size_t key_cap;
	size_t key_hdr;
	/* Hard-link groups, open addressing; cap is a power of two. */
	struct hlink *hl;
	size_t n_hl;
	size_t hl_cap;
};

static int walk_dir(struct walk *wk, int dfd, struct store_entry *dir);

/*
 * The current path for a message, escaped as amber ls -b prints names
 * (name_print()), so that a hostile name can neither forge a line of
 * output nor drive the terminal.  Returns a malloc'd string, or NULL.
 */
static char *
path_quote(const struct walk *wk)
{
	char *q = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&q, &len);

	if (f == NULL)
		return NULL;
	if (wk->path_len)
		name_print(f, (const uint8_t *)wk->path, wk->path_len, 1);
	else
		fputc('.', f);
	if (fclose(f) != 0) {
		free(q);
		return NULL;
	}
	return q;
}

/* Warn about the current path: "files/NAME/PATH: WHAT[: strerror]". */
static void
walk_warn(struct walk *wk, const char *what, int err)
{
	char *q = path_quote(wk);

	wk->n_warnings++;
	if (err)
		src_warn(wk->c, "files/%s/%s: %s: %s", wk->name,
		    q ? q : "(path)", what, strerror(err));
	else
		src_warn(wk->c, "files/%s/%s: %s", wk->name,
		    q ? q : "(path)", what);
	free(q);
}

/* Append "/name" (or "name" at the root) to the path; returns the old len. */
static int
path_push(struct walk *wk, const char *name, size_t len, size_t *old)
{
	size_t need = wk->path_len + 1 + len + 1;
	char *p;

	if (need > wk->path_cap) {
		size_t cap = wk->path_cap ? wk->path_cap : 256;

		while (cap < need)
			cap *= 2;
		if ((p = realloc(wk->path, cap)) == NULL)
			return -ENOMEM;
		wk->path = p;
		wk->path_cap = cap;
	}
	*old = wk->path_len;
	if (wk->path_len)
		wk->path[wk->path_len++] = '/';
	memcpy(wk->path + wk->path_len, name, len);
	wk->path_len += len;
	wk->path[wk->path_len] = '\0';
	return 0;
}

static void
path_pop(struct walk *wk, size_t old)
{
	wk->path_len = old;
	wk->path[old] = '\0';
}

static int
is_excluded(const struct walk *wk, const char *name)
{
	for (size_t i = 0; i < wk->n_excl; i++) {
		const struct excl *x = &wk->excl[i];

		if (!x->is_anchored && fnmatch(x->pat, name, 0) == 0)
			return 1;
		if (fnmatch(x->pat, wk->path, 0) == 0)
			return 1;
	}
	return 0;
}

/*
 * Open ${name} in ${dfd} without following a symlink and, where we may,
 * without touching its atime.  O_NOATIME needs ownership (or CAP_FOWNER):
 * skip it for other users' files rather than fail, and retry without it
 * on EPERM.
 */
static int
open_at(const struct walk *wk, int dfd, const char *name, uid_t owner,
    int flags)
{
	int fd;

	flags |= O_NOFOLLOW | O_CLOEXEC;
	if (wk->euid == 0 || wk->euid == owner) {
		fd = openat(dfd, name, flags | O_NOATIME);
		if (fd >= 0 || errno != EPERM)
			return fd;
	}
	return openat(dfd, name, flags);
}

/* ---- hard links ------------------------------------------------------- */

static size_t
hl_slot(const struct walk *wk, uint64_t dev, uint64_t ino)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ull ^ dev * 0xff51afd7ed558ccdull;
	size_t i = (size_t)(h >> 17) & (wk->hl_cap - 1);

	while (wk->hl[i].is_used &&
	    (wk->hl[i].dev != dev || wk->hl[i].ino != ino))
		i = (i + 1) & (wk->hl_cap - 1);
	return i;
}

static struct hlink *
hl_find(const struct walk *wk, uint64_t dev, uint64_t ino)
{
	size_t i;

	if (wk->hl_cap == 0)
		return NULL;
	i = hl_slot(wk, dev, ino);
	return wk->hl[i].is_used ? &wk->hl[i] : NULL;
}

/* Add a group; the table takes ${ext} (malloc'd) on success. */
static int
hl_add(struct walk *wk, uint64_t dev, uint64_t ino, uint64_t ord,
    const struct store_entry *e, struct store_extent *ext)
{
	struct hlink *h;

	if ((wk->n_hl + 1) * 2 > wk->hl_cap) {
		struct hlink *old = wk->hl;
		size_t old_cap = wk->hl_cap;
		size_t cap = old_cap ? old_cap * 2 : 64;

		if ((wk->hl = calloc(cap, sizeof(*wk->hl))) == NULL) {
			wk->hl = old;
			return -ENOMEM;
		}
		wk->hl_cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].is_used)
				wk->hl[hl_slot(wk, old[i].dev, old[i].ino)] =
				    old[i];
		free(old);
	}
	h = &wk->hl[hl_slot(wk, dev, ino)];
	h->dev = dev;
	h->ino = ino;
	h->ord = ord;
	h->size = e->size;
	h->flags = e->flags;
	h->n_extents = e->n_extents;
	h->extents = ext;
	h->is_used = 1;
	wk->n_hl++;
	return 0;
}

/* ---- the incremental cache -------------------------------------------- */

/*
 * The cache key of the current path: the kind (STORE_FILES), the source
 * name's length and bytes, then the path's bytes.  It names the source,
 * not the store, so it stays right whatever the store is called.  The
 * index takes keys of a few hundred bytes: a longer path is replaced by a
 * NUL (which no path starts with) and its SHA-256.
 */
static int
cache_key(struct walk *wk, size_t *klen)
{
	size_t need = wk->key_hdr + wk->path_len;
	uint8_t *k;

	if (need > CACHE_KEY_MAX) {
		wk->key[wk->key_hdr] = 0;
		if (EVP_Digest(wk->path, wk->path_len,
		    wk->key + wk->key_hdr + 1, NULL, EVP_sha256(), NULL) != 1)
			return -ENOMEM;
		*klen = wk->key_hdr + 1 + SHA256_LEN;
		return 0;
	}
	if (need > wk->key_cap) {
		if ((k = realloc(wk->key, need)) == NULL)
			return -ENOMEM;
		wk->key = k;
		wk->key_cap = need;
	}
	memcpy(wk->key + wk->key_hdr, wk->path, wk->path_len);
	*klen = need;
	return 0;
}

/* The version of the file ${st} describes, as cache records name it. */
static void
fcache_stat_of(const struct stat *st, struct fcache_stat *fs)
{
	fs->dev = (uint64_t)st->st_dev;
	fs->ino = (uint64_t)st->st_ino;
	fs->size = (uint64_t)st->st_size;
	fs->mtime_sec = st->st_mtim.tv_sec;
	fs->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	fs->ctime_sec = st->st_ctim.tv_sec;
	fs->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
}

/*
 * Look the current path up in the cache.  Returns 1 and the extents when
 * the record matches ${st} and every chunk is in the store, 0 when the
 * file must be read, -errno on a fatal error.  A lost, stale or damaged
 * record only costs a read.
 */
static int
cache_lookup(struct walk *wk, const struct stat *st,
    struct store_extent **out, size_t *n_out)
{
	struct store_extent *ext = NULL;
	struct fcache_stat fs;
	void *v = NULL;
	size_t vlen;
	size_t klen;
	size_t n = 0;
	int r;

	if ((r = cache_key(wk, &klen)) < 0)
		return r;
	r = store_cache_get(wk->c->s, CACHE_TABLE, wk->key, klen, &v, &vlen);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	fcache_stat_of(st, &fs);
	r = fcache_decode(v, vlen, &fs, &ext, &n);
	free(v);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		r = store_has_chunk(wk->c->s, ext[i].ref.id);
		if (r != 1) {
			free(ext);
			return r == -ENOMEM ? r : 0;
		}
	}
	*out = ext;
	*n_out = n;
	return 1;
}

/*
 * Remember a file read whole and unchanged, whose reading began at
 * ${t0}; failures only lose a hint.
 */
static int
cache_store(struct walk *wk, const struct stat *st, int64_t t0,
    const struct store_extent *ext, size_t n)
{
	struct fcache_stat fs;
	uint8_t *v = NULL;
	size_t vlen;
	size_t klen;
	int r;

	/*
	 * A file changed just before we began to read it could change again
	 * within the same timestamp tick, or under a file server's skewed
	 * clock, without its mtime or ctime moving: leave such young files
	 * to be read again next time.
	 */
	if ((int64_t)st->st_mtim.tv_sec > t0 - RACY_SEC ||
	    (int64_t)st->st_ctim.tv_sec > t0 - RACY_SEC)
		return 0;
	if ((r = cache_key(wk, &klen)) < 0)
		return r;
	fcache_stat_of(st, &fs);
	if ((r = fcache_encode(&fs, ext, n, &v, &vlen)) < 0)
		return r == -EINVAL ? 0 : r;	/* too many extents to keep */
	r = store_cache_put(wk->c->s, CACHE_TABLE, wk->key, klen, v, vlen);
	free(v);
	return r == -ENOMEM ? r : 0;
}

/* ---- files ------------------------------------------------------------ */

static void
progress_add(struct walk *wk, uint64_t n_files, uint64_t n_bytes)
{
	pthread_mutex_lock(&wk->c->lock);
	wk->c->progress.n_files += n_files;
	wk->c->progress.n_bytes += n_bytes;
	pthread_mutex_unlock(&wk->c->lock);
}

/* pread(), again after EINTR; an error in *${err}, then -1. */
static ssize_t
pread_some(int fd, void *buf, size_t len, uint64_t off, int *err)
{
	ssize_t n;

	do
		n = pread(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		*err = errno;
	return n;
}

/*
 * Read [${off}, ${end}) of ${fd} into ${f}.  Sets *${at} to the offset
 * reached; a short file or a read error stops early (the caller notices
 * at < end).  Returns -errno of the read in *${err}, or a fatal store
 * error as the result.
 */
static int
read_range(struct walk *wk, int fd, struct store_file *f, uint64_t off,
    uint64_t end, uint64_t *at, int *err)
{
	int r;

	while (off < end) {
		size_t want = end - off < READ_LEN ? (size_t)(end - off) :
		    READ_LEN;
		ssize_t got = pread_some(fd, wk->buf, want, off, err);

		if (got <= 0)
			break;
		if ((r = store_file_write(f, off, wk->buf, (size_t)got)) < 0)
			return r;
		off += (uint64_t)got;
		progress_add(wk, 0, (uint64_t)got);
	}
	*at = off;
	return 0;
}

/*
 * Read all of small file ${fd} (${size} bytes, no holes) into a buffer of
 * its own that ${f} takes: no copy between the read and the queue.  As
 * read_range().
 */
static int
read_small(struct walk *wk, int fd, struct store_file *f, uint64_t size,
    uint64_t *at, int *err)
{
	uint8_t *buf = malloc((size_t)size);
	size_t got = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (got < size) {
		ssize_t n = pread_some(fd, buf + got, (size_t)size - got,
		    got, err);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*at = got;
	if (got == 0) {
		free(buf);
		return 0;
	}
	progress_add(wk, 0, got);
	return store_file_take(f, buf, got);
}

/*
 * Read the content of the open regular file ${fd} (fstat ${st}) by data
 * extents.  A file whose blocks cover its size has no holes worth
 * looking for, and is read straight through.  Sets *${at} to how far the
 * content was read (st_size when whole) and *${err} to a read error.
 */
static int
read_content(struct walk *wk, int fd, const struct stat *st,
    struct store_file *f, uint64_t *at, int *err)
{
	uint64_t size = (uint64_t)st->st_size;
	uint64_t pos = 0;
	int r;

	*at = 0;
	if ((uint64_t)st->st_blocks * 512 >= size) {
		if (size <= store_file_take_max(f))
			return read_small(wk, fd, f, size, at, err);
		if (size > READ_LEN)
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		return read_range(wk, fd, f, 0, size, at, err);
	}
	while (pos < size) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
		off_t hole;
		uint64_t end;

		if (data < 0 && errno == ENXIO) {
			*at = size;	/* a hole runs to the end */
			return 0;
		}
		if (data < 0) {
			/* No SEEK_DATA here: read everything. */
			return read_range(wk, fd, f, pos, size, at, err);
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole <= data)
			hole = (off_t)size;
		end = (uint64_t)hole < size ? (uint64_t)hole : size;
		if ((uint64_t)data >= size)
			break;
		if ((r = read_range(wk, fd, f, (uint64_t)data, end, at,
		    err)) < 0)
			return r;
		if (*at < end)
			return 0;
		pos = end;
	}
	*at = size;
	return 0;
}

static int
same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Fill the content of the regular file ${name} in ${dfd} (lstat ${lst})
 * into ${e}: from the cache when it is unchanged, else by reading it.
 * *${ext} is malloc'd (or NULL) and becomes the caller's.  Problems with
 * the file are warnings and STORE_ENTRY_PARTIAL.  Returns 1 if the file
 * is gone, 0, or -errno when the store fails.
 */
static int
file_content(struct walk *wk, int dfd, const char *name,
    const struct stat *lst, struct store_entry *e, struct store_extent **ext)
{
	struct store_file *f = NULL;
	struct timespec t0;
	struct stat st;
	struct stat st2;
	uint64_t at = 0;
	size_t n = 0;
	int err = 0;
	int fd = -1;
	int r;

	*ext = NULL;
	e->size = 0;
	if ((r = cache_lookup(wk, lst, ext, &n)) < 0)
		return r;
	if (r == 1) {
		e->size = (uint64_t)lst->st_size;
		e->n_extents = n;
		e->extents = *ext;
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &t0);
	fd = open_at(wk, dfd, name, lst->st_uid, O_RDONLY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 1;	/* deleted since the lstat: not an error */
	if (fd < 0) {
		walk_warn(wk, "cannot open", errno);
		e->flags |= STORE_ENTRY_PARTIAL;
		return 0;
	}
	/* It may have been replaced (by a fifo, say) since the lstat. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_ino != lst->st_ino || st.st_dev != lst->st_dev) {
		walk_warn(wk, "replaced while being read", 0);
		e->flags |= STORE_ENTRY_PARTIAL;
		r = 0;
		goto out;
	}
	e->mode = st.st_mode & 07777;
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	e->mtime_sec = st.st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	if (st.st_size > 0) {
		if ((r = store_file_new(wk->c->w, &f)) < 0)
			goto out;
		if ((r = read_content(wk, fd, &st, f, &at, &err)) < 0)
			goto out;
		if ((r = store_file_end(f, ext, &n)) < 0)
			goto out;
	}
	e->size = at;
	e->n_extents = n;
	e->extents = *ext;
	r = 0;
	if (err) {
		walk_warn(wk, "read error", err);
		e->flags |= STORE_ENTRY_PARTIAL;
	} else if (fstat(fd, &st2) < 0 || !same_version(&st, &st2) ||
	    at != (uint64_t)st.st_size) {
		walk_warn(wk, "changed while being read", 0);
		e->flags |= STORE_ENTRY_PARTIAL;
	} else {
		r = cache_store(wk, &st, t0.tv_sec, *ext, n);
	}
out:
	store_file_free(f);
	close(fd);
	return r;
}

/* ---- directories ------------------------------------------------------ */

static int
dent_cmp(const void *a, const void *b, void *pool)
{
	const struct dent *x = a;
	const struct dent *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp((char *)pool + x->off, (char *)pool + y->off, n);

	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/*
 * Read the names in ${dfd}, sorted by memcmp, into *${ents} (offsets into
 * the NUL-separated *${pool}).  A failure part way keeps what was read
 * and sets *${err}.
 */
static int
read_names(int dfd, struct dent **ents, size_t *n_ents, char **pool,
    int *err)
{
	struct dent *d = NULL;
	char *p = NULL;
	size_t n = 0;
	size_t cap = 0;
	size_t plen = 0;
	size_t pcap = 0;
	DIR *dir = NULL;
	struct dirent *de;
	int fd;
	int r = 0;

	*err = 0;
	if ((fd = dup(dfd)) < 0 || (dir = fdopendir(fd)) == NULL) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		goto done;
	}
	for (;;) {
		size_t len;

		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			*err = errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		len = strlen(de->d_name);
		if (n == cap) {
			size_t c2 = cap ? cap * 2 : 64;
			struct dent *d2 = realloc(d, c2 * sizeof(*d));

			if (d2 == NULL) {
				r = -ENOMEM;
				goto out;
			}
			d = d2;
			cap = c2;
		}
		if (plen + len + 1 > pcap) {
			size_t c2 = pcap ? pcap : 4096;
			char *p2;

			while (c2 < plen + len + 1)
				c2 *= 2;
			if ((p2 = realloc(p, c2)) == NULL) {
				r = -ENOMEM;
				goto out;
			}
			p = p2;
			pcap = c2;
		}
		memcpy(p + plen, de->d_name, len + 1);
		d[n].off = plen;
		d[n].len = len;
		plen += len + 1;
		n++;
	}
done:
	if (n > 1)
		qsort_r(d, n, sizeof(*d), dent_cmp, p);
	*ents = d;
	*n_ents = n;
	*pool = p;
	d = NULL;
	p = NULL;
out:
	if (dir != NULL)
		closedir(dir);
	free(d);
	free(p);
	return r;
}

/* The metadata common to every type. */
static void
entry_init(struct store_entry *e, const char *name, size_t len,
    const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->name = (const uint8_t *)name;
	e->name_len = len;
	store_entry_stat(e, st);
}

/*
 * Record the subdirectory ${name} of ${dfd} (lstat ${st}) in ${e}: walk
 * it, or record it empty and partial when it cannot be opened.  A mount
 * point under --one-file-system is recorded empty, not partial; so is a
 * directory MAX_DEPTH levels down, with a warning, partial.  Returns 1 if
 * the directory is gone, 0, or -errno on a fatal error.
 */
static int
subdir(struct walk *wk, int dfd, const char *name, const struct stat *st,
    struct store_entry *e)
{
	struct store_tb *tb = NULL;
	struct stat st2;
	int fd = -1;
	int r;

	e->type = STORE_DIR;
	if (wk->is_one_file_system && st->st_dev != wk->root_dev)
		goto empty;
	/*
	 * The walk recurses, about a kilobyte of stack per level: a hostile
	 * tree millions of levels deep must not overflow it.
	 */
	if (wk->depth >= MAX_DEPTH) {
		walk_warn(wk, "too deeply nested, not descended into", 0);
		e->flags |= STORE_ENTRY_PARTIAL;
		goto empty;
	}
	fd = open_at(wk, dfd, name, st->st_uid,
	    O_RDONLY | O_DIRECTORY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 1;	/* deleted since the lstat: not an error */
	if (fd < 0) {
		walk_warn(wk, "cannot open directory", errno);
		e->flags |= STORE_ENTRY_PARTIAL;
		goto empty;
	}
	if (fstat(fd, &st2) == 0 && st2.st_ino == st->st_ino) {
		e->mode = st2.st_mode & 07777;
		e->mtime_sec = st2.st_mtim.tv_sec;
		e->mtime_nsec = (uint32_t)st2.st_mtim.tv_nsec;
	}
	wk->depth++;
	r = walk_dir(wk, fd, e);
	wk->depth--;
	close(fd);
	return r;
empty:
	if ((r = store_tb_new(&tb)) < 0)
		return r;
	r = store_tb_finish(wk->c->w, tb, e);
	store_tb_free(tb);
	return r;
}

/*
 * Record one entry ${name} of ${dfd} into ${tb}.  The path already ends
 * with it.  Returns -errno only on a fatal error.
 */
static int
one_entry(struct walk *wk, int dfd, const char *name, size_t len,
    struct store_tb *tb)
{
	struct store_extent *ext = NULL;
	struct store_entry e;
	struct hlink *h = NULL;
	struct stat st;
	char *target = NULL;
	uint64_t ord;
	int is_group;
	int r = 0;

	if (is_excluded(wk, name))
		return 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)	/* gone since readdir: not an error */
			walk_warn(wk, "cannot stat", errno);
		return 0;
	}
	entry_init(&e, name, len, &st);
	ord = wk->ord++;
	is_group = !S_ISDIR(st.st_mode) && st.st_nlink > 1;
	if (is_group &&
	    (h = hl_find(wk, (uint64_t)st.st_dev, (uint64_t)st.st_ino))) {
		/* A later name of a group: same content, no second read. */
		e.link = h->ord;
		e.size = h->size;
		e.flags = h->flags;
		e.n_extents = h->n_extents;
		e.extents = h->extents;
	} else if (is_group) {
		e.link = ord;
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		e.type = STORE_REG;
		if (h == NULL &&
		    (r = file_content(wk, dfd, name, &st, &e, &ext)) != 0) {
			if (r == 1) {	/* gone: not recorded after all */
				wk->ord--;
				r = 0;
			}
			goto out;
		}
		break;
	case S_IFDIR:
		if ((r = subdir(wk, dfd, name, &st, &e)) != 0) {
			if (r == 1) {	/* gone: not recorded after all */
				wk->ord--;
				r = 0;
			}
			goto out;
		}
		break;
	case S_IFLNK: {
		ssize_t n;

		if ((target = malloc(STORE_TARGET_MAX + 1)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		n = readlinkat(dfd, name, target, STORE_TARGET_MAX + 1);
		if (n <= 0 || n > STORE_TARGET_MAX) {
			if (n >= 0 || errno != ENOENT)	/* ENOENT: gone */
				walk_warn(wk, "cannot read symlink",
				    n < 0 ? errno : ENAMETOOLONG);
			wk->ord--;	/* not recorded after all */
			goto out;
		}
		e.type = STORE_LNK;
		e.target = (const uint8_t *)target;
		e.target_len = (size_t)n;
		e.size = (uint64_t)n;
		break;
	}
	case S_IFIFO:
		e.type = STORE_FIFO;
		break;
	case S_IFSOCK:
		e.type = STORE_SOCK;
		break;
	case S_IFCHR:
		e.type = STORE_CHR;
		e.rdev = (uint64_t)st.st_rdev;
		break;
	case S_IFBLK:
		e.type = STORE_BLK;
		e.rdev = (uint64_t)st.st_rdev;
		break;
	default:
		walk_warn(wk, "unknown file type, not recorded", 0);
		wk->ord--;
		goto out;
	}
	if (wk->ord != ord + 1 + e.n_desc) {
		/* The tree builder and our walk disagree on the order. */
		r = -EINVAL;
		goto out;
	}
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	wk->n_files++;
	if (e.type == STORE_REG && h == NULL)
		wk->n_bytes += e.size;	/* a hard-link group counts once */
	progress_add(wk, 1, 0);
	if (is_group && h == NULL) {
		if ((r = hl_add(wk, (uint64_t)st.st_dev, (uint64_t)st.st_ino,
		    ord, &e, ext)) < 0)
			goto out;
		ext = NULL;
	}
out:
	free(ext);
	free(target);
	return r;
}

/*
 * Walk the open directory ${dfd} whose entry is ${dir} (its metadata
 * filled by the caller): record its entries into a tree and fill ${dir}'s
 * tree ref and n_desc.  Returns -errno only on a fatal error.
 */
static int
walk_dir(struct walk *wk, int dfd, struct store_entry *dir)
{
	struct store_tb *tb = NULL;
	struct dent *d = NULL;
	char *pool = NULL;
	size_t n = 0;
	int err;
	int r;

	if ((r = read_names(dfd, &d, &n, &pool, &err)) < 0)
		goto out;
	if (err) {
		walk_warn(wk, "cannot read directory", err);
		dir->flags |= STORE_ENTRY_PARTIAL;
	}
	if ((r = store_tb_new(&tb)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t old;

		if ((r = path_push(wk, pool + d[i].off, d[i].len, &old)) < 0)
			goto out;
		r = one_entry(wk, dfd, pool + d[i].off, d[i].len, tb);
		path_pop(wk, old);
		if (r < 0)
			goto out;
	}
	r = store_tb_finish(wk->c->w, tb, dir);
out:
	store_tb_free(tb);
	free(d);
	free(pool);
	return r;
}

/* ---- the source ------------------------------------------------------- */

static void
walk_fini(struct walk *wk)
{
	for (size_t i = 0; i < wk->hl_cap; i++)
		if (wk->hl[i].is_used)
			free(wk->hl[i].extents);
	free(wk->hl);
	free(wk->excl);
	free(wk->buf);
	free(wk->path);
	free(wk->key);
}

/*
 * src_dir_read(c, name, path, o, out):
 * Read the directory tree at ${path} (a symlink there is followed; none
 * below it is) as the source files/${name}, storing contents and trees
 * through c->w, and fill ${out}.  Unreadable or changing entries are
 * warned about, recorded as far as possible and make the source partial
 * (STORE_SOURCE_PARTIAL).  Returns -ENOENT, -ENOTDIR, -EACCES... (and
 * prints nothing) when ${path} is not a readable directory, -EINVAL on a
 * bad name, or the store's error when writing fails.
 */
int
src_dir_read(struct src_ctx *c, const char *name, const char *path,
    const struct src_dir_opts *o, struct store_source *out)
{
	struct walk wk;
	struct stat st;
	size_t nlen = strlen(name);
	char *real = NULL;
	int fd = -1;
	int r;

	memset(&wk, 0, sizeof(wk));
	memset(out, 0, sizeof(*out));
	if (nlen == 0 || nlen > STORE_NAME_MAX || nlen > UINT8_MAX)
		return -EINVAL;
	wk.c = c;
	wk.name = name;
	wk.is_one_file_system = o ? o->is_one_file_system : 0;
	wk.euid = geteuid();
	wk.key_hdr = 2 + nlen;
	if ((wk.buf = malloc(READ_LEN)) == NULL ||
	    (wk.key = malloc(wk.key_hdr + 256)) == NULL ||
	    (wk.path = malloc(256)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	wk.key_cap = wk.key_hdr + 256;
	wk.key[0] = STORE_FILES;
	wk.key[1] = (uint8_t)nlen;
	memcpy(wk.key + 2, name, nlen);
	wk.path[0] = '\0';
	wk.path_cap = 256;
	if (o && o->n_excludes) {
		if ((wk.excl = calloc(o->n_excludes, sizeof(*wk.excl))) ==
		    NULL) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < o->n_excludes; i++) {
			const char *p = o->excludes[i];
			int is_anchored = p[0] == '/';

			while (*p == '/')
				p++;
			if (*p == '\0')
				continue;
			wk.excl[wk.n_excl].pat = p;
			wk.excl[wk.n_excl++].is_anchored = is_anchored;
		}
	}

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;	/* the caller reports it */
		goto out;
	}
	wk.root_dev = st.st_dev;
	out->kind = STORE_FILES;
	memcpy(out->name, name, nlen + 1);
	real = realpath(path, NULL);
	snprintf(out->origin, sizeof(out->origin), "%s", real ? real : path);
	entry_init(&out->root, NULL, 0, &st);
	out->root.type = STORE_DIR;
	wk.ord = 1;		/* the root is 0 */
	if ((r = walk_dir(&wk, fd, &out->root)) < 0)
		goto out;
	out->n_files = wk.n_files;
	out->n_bytes = wk.n_bytes;
	if (wk.n_warnings || (out->root.flags & STORE_ENTRY_PARTIAL))
		out->flags |= STORE_SOURCE_PARTIAL;
out:
	if (fd >= 0)
		close(fd);
	free(real);
	walk_fini(&wk);
	return r;
}
