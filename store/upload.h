/*
 * upload.h: closed packs put and indexed on threads of their own
 * (upload.c), so that the sealing workers of writer.c go on sealing
 * while a pack travels.  Inside store/ only.
 */
#ifndef UPLOAD_H
#define UPLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pack.h"
#include "rd.h"
#include "store.h"

/* A sealed pack, ready to put: its bytes, name and table. */
struct upload {
	struct wb pack;		/* the whole pack, table and end included */
	uint8_t h[STORE_HASH_LEN];	/* its SHA-256: its name */
	struct pack_entry *e;	/* its table, for the index */
	size_t n;
	int index_kind;		/* INDEX_PACK_DATA or INDEX_PACK_TREES */
};

struct upload_pool;

/*
 * pack_buf_keep(spare, b): keep the buffer of put pack ${b}, emptied, as
 * *${spare} if that is free (${b} is then left empty): the next pack
 * reuses its pages instead of faulting in 16 MiB anew.  Under the lock
 * that guards ${spare}.
 */
static inline void
pack_buf_keep(struct wb *spare, struct wb *b)
{
	if (spare->p == NULL) {
		*spare = *b;
		spare->len = 0;
		memset(b, 0, sizeof(*b));
	}
}

/*
 * upload_pool_new(s, n, out):
 * Start ${n} threads (1 to STORE_UPLOADS_MAX) that put packs into the
 * backend of ${s} and add them to its index.  At most ${n} packs wait
 * beside the ${n} in flight.  Returns 0, -ENOMEM or -EAGAIN.
 */
int upload_pool_new(struct store *s, size_t n, struct upload_pool **out);

/*
 * upload_submit(p, u):
 * Hand ${u} to the pool, which owns its buffers from now on, whatever
 * the result; blocks while the queue is full.  Returns 0, or the first
 * error of an earlier put (then ${u} is dropped, not put).
 */
int upload_submit(struct upload_pool *p, struct upload *u);

/*
 * upload_wait(p):
 * Wait until every pack handed over is put and indexed.  Returns 0 or
 * the first error of any of them.
 */
int upload_wait(struct upload_pool *p);

/*
 * upload_spare(p, out): the buffer of a pack put (emptied) into *${out},
 * for the next pack to fill; -ENOENT if there is none to spare.
 */
int upload_spare(struct upload_pool *p, struct wb *out);

/* upload_error(p): the first error of a put so far, or 0. */
int upload_error(struct upload_pool *p);

/*
 * upload_seal(s, pack, e, n, h):
 * End ${pack} (its magic and blobs, as the ${n} entries ${e} say) with its
 * table, sealed under the store's table key and bound to the bytes before
 * it (format 2), and the tail; set ${h} to the SHA-256 of the whole pack,
 * its name.  Returns 0 or -errno.
 */
int upload_seal(struct store *s, struct wb *pack, const struct pack_entry *e,
    size_t n, uint8_t h[STORE_HASH_LEN]);

/*
 * upload_seal_end(s, c, out, e, n, h):
 * As upload_seal, for a pack whose bytes so far ${c} has hashed (all of
 * them) but which is not held whole: the table and the tail are appended
 * to ${out} and hashed.  Ends ${c}, whatever the result.
 */
struct crypt_sha256;
int upload_seal_end(struct store *s, struct crypt_sha256 *c, struct wb *out,
    const struct pack_entry *e, size_t n, uint8_t h[STORE_HASH_LEN]);

/*
 * upload_put(s, pack, h, e, n, index_kind):
 * Put the sealed ${pack} named ${h} and add its table (${n} entries
 * ${e}, of ${index_kind}) to the index, on the calling thread; the
 * buffers stay the caller's.  Returns 0 (also where the pack was there
 * already), or -errno.
 */
int upload_put(struct store *s, const struct wb *pack,
    const uint8_t h[STORE_HASH_LEN], const struct pack_entry *e, size_t n,
    int index_kind);

/* upload_pool_free(p): stop the threads (after the packs queued) and free. */
void upload_pool_free(struct upload_pool *p);

#endif
