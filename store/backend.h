/*
 * backend.h: the object-store seam.  A backend is a flat namespace of
 * write-once objects named by '/'-separated keys ("config", "keys/<hex>",
 * "packs/3f/<hex>", "snapshots/<hex>").  It offers only what an object
 * store with Object Lock can honour: put-if-absent, ranged get, list by
 * prefix, stat, and (where it keeps them) older versions of a key.  There
 * is no rename, no overwrite and no delete.  Only backend.c knows which
 * implementation it has (dir.c, s3.c).
 *
 * All operations are safe to call from many threads at once.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "store.h"

struct backend;
struct backend_obj;

/* One version of a key, newest first, as listed by ops->versions. */
struct backend_version {
	char id[128];		/* the backend's version id */
	uint64_t size;
	int64_t mtime;		/* seconds since the epoch */
	int is_delete_marker;
	int is_latest;
};

#define BACKEND_SIZE_UNKNOWN UINT64_MAX
#define BACKEND_STAMP_LEN 48

struct backend_ops {
	/*
	 * put(be, key, buf, len): create ${key} with ${buf}.  Returns -EEXIST
	 * (and changes nothing) if the key exists; the object is durable
	 * and read-only when put returns 0.
	 */
	int (*put)(struct backend *be, const char *key, const uint8_t *buf,
	    size_t len);
	/*
	 * get(be, key, version, off, len, buf, got): read ${len} bytes at
	 * ${off} (len UINT64_MAX: to the end) into a malloc'd *${buf} the
	 * caller frees.  ${version} NULL is the object as first written:
	 * on S3 its original (oldest) version, since amber writes each key
	 * once and anything newer is an overwrite.  -ENOENT if absent.
	 */
	int (*get)(struct backend *be, const char *key, const char *version,
	    uint64_t off, uint64_t len, uint8_t **buf, size_t *got);
	/*
	 * list(be, prefix, fn, ctx): call ${fn} with every key (and its size)
	 * starting with ${prefix}, in any order; a non-zero return of ${fn}
	 * stops the listing and is returned.  Keys hidden by a delete marker
	 * are listed too (with versions) where the backend can see them.
	 */
	int (*list)(struct backend *be, const char *prefix,
	    int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx);
	/* stat(be, key, size): -ENOENT if absent. */
	int (*stat)(struct backend *be, const char *key, uint64_t *size);
	/*
	 * versions(be, key, out, n): every version of ${key}, newest first,
	 * in a malloc'd array.  NULL for a backend without versions.
	 */
	int (*versions)(struct backend *be, const char *key,
	    struct backend_version **out, size_t *n);
	/*
	 * protect(be, key): lengthen the object's retention to now + the
	 * store's retention where it would expire sooner (S3 Object Lock).
	 * NULL where objects never expire.
	 */
	int (*protect)(struct backend *be, const char *key);
	void (*close)(struct backend *be);
	/*
	 * set_retention(be, secs): the store's retention, from its config
	 * (which is read after the backend is opened).  NULL where objects
	 * never expire.
	 */
	void (*set_retention)(struct backend *be, uint64_t secs);
	/*
	 * willneed(be, key): a hint that most of ${key} will be read soon
	 * (a pack of trees, during a directory walk), so the backend may
	 * start fetching all of it now; it changes no result and reports
	 * nothing.  NULL where there is nothing to gain (S3: each read is
	 * a ranged GET, and keeping whole packs would need a cache of its
	 * own).
	 */
	void (*willneed)(struct backend *be, const char *key);
	/*
	 * read_into(be, key, off, iov, n): read the object as first
	 * written, from ${off}, into the ${n} buffers of ${iov}, filling each
	 * wholly: so a chunk's ciphertext lands where its plaintext belongs,
	 * with no buffer in between.  -ENOENT if absent, -EIO if the object
	 * ends first or cannot be read; it logs nothing.  NULL where a read cannot land in place (S3: libcurl
	 * hands over the body in pieces of its choosing).
	 */
	int (*read_into)(struct backend *be, const char *key, uint64_t off,
	    const struct iovec *iov, int n);
	/*
	 * put_hashed(be, key, buf, len, sha256): as put, given the SHA-256
	 * of ${buf} that the caller has anyway (packs and snapshots are
	 * named by it), so that the backend need not hash the bytes again
	 * (S3 signs it).  A wrong ${sha256} makes the put fail, never store
	 * other bytes.  NULL where put has no use for the hash.
	 */
	int (*put_hashed)(struct backend *be, const char *key,
	    const uint8_t *buf, size_t len, const uint8_t sha256[32]);
	/*
	 * set_immutable(be): the store was made with --immutable (its
	 * config says so, and is read after the backend is opened): mark
	 * every object written from now on.  NULL where that means nothing.
	 */
	void (*set_immutable)(struct backend *be);
	/*
	 * list_keys(be, prefix, fn, ctx): as list, but the size may be
	 * BACKEND_SIZE_UNKNOWN where knowing it would cost a request per
	 * key (a local directory: a stat per file); for callers that need
	 * the size of few of the keys.  NULL where list costs no more.
	 */
	int (*list_keys)(struct backend *be, const char *prefix,
	    int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx);
	/*
	 * stamp(be, dir, out): what identifies the state of the keys
	 * under ${dir} (a local directory: its device, inode, mtime and
	 * ctime), such that any key added or removed since gives another
	 * stamp: 0, or -EAGAIN if it changed too recently for that to
	 * hold (within a second: timestamps come from a coarse clock).
	 * NULL where there is no such thing.
	 */
	int (*stamp)(struct backend *be, const char *dir,
	    uint8_t out[BACKEND_STAMP_LEN]);
	/*
	 * retain(be, key, until): lengthen the retention of the object as
	 * first written to at least ${until} (seconds since the epoch);
	 * never shortens.  -ENOENT if absent.  NULL where objects never
	 * expire.
	 */
	int (*retain)(struct backend *be, const char *key, int64_t until);
	/*
	 * An object written in pieces, so that it need not be held whole:
	 * put_open(be, out) starts it (a temporary file); put_append(o,
	 * buf, len) adds bytes, written with O_DIRECT where ${buf}, ${len}
	 * and the offset are page-aligned; put_commit(o, key) makes it
	 * ${key} as put would (durable, read-only, -EEXIST if the key
	 * exists) and frees ${o} whatever the result; put_abort(o) drops
	 * it.  NULL where objects are put whole (S3).
	 */
	int (*put_open)(struct backend *be, struct backend_obj **out);
	int (*put_append)(struct backend_obj *o, const uint8_t *buf,
	    size_t len);
	int (*put_commit)(struct backend_obj *o, const char *key);
	void (*put_abort)(struct backend_obj *o);
};

/*
 * The local backend keeps at most this many read-only descriptors of
 * packs open (least recently used first out), so that reading one object
 * costs one pread rather than openat, fstat, pread and close.
 */
#define DIR_FD_CACHE 64

struct backend {
	const struct backend_ops *ops;
	char *location;		/* as given by the user, for messages */
	/* Reading a whole object costs a local read, not a transfer: a
	 * pack's table is checked against the pack's bytes at indexing. */
	int is_local;
};

struct backend_opts {
	struct store_s3_opts s3;
	int is_immutable;	/* dir: set FS_IMMUTABLE_FL on new objects */
	uint64_t retention_secs;	/* s3: Object Lock retention */
	int allow_no_lock;	/* s3 create: accept a bucket without a lock */
};

/*
 * backend_open(location, o, out): a directory path or s3://BUCKET/PREFIX.
 * Returns -ENOENT if the directory does not exist, -EIO if the bucket
 * cannot be reached.
 */
int backend_open(const char *location, const struct backend_opts *o,
    struct backend **out);

/*
 * backend_create(location, o, out): as backend_open, creating the
 * directory if needed; -EEXIST if it holds anything already.
 */
int backend_create(const char *location, const struct backend_opts *o,
    struct backend **out);

void backend_close(struct backend *be);

/*
 * backend_put(be, key, buf, len, sha256): ops->put, or ops->put_hashed
 * where the backend has it and ${sha256} (the SHA-256 of ${buf}, or
 * NULL) is given.  Returns what they return.
 */
int backend_put(struct backend *be, const char *key, const uint8_t *buf,
    size_t len, const uint8_t sha256[32]);

/* dir.c */
int dir_open(const char *path, const struct backend_opts *o, int create,
    struct backend **out);
/* s3open.c */
int s3_open(const char *url, const struct backend_opts *o, int create,
    struct backend **out);

#endif
