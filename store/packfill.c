/*
 * packfill.c: the packs a writer fills (packfill.h).  A full pack is
 * closed by the worker whose blob filled it: table sealed, hashed, put
 * (or handed to the uploaders), indexed.  Streamed (a local store), a
 * pack's bytes go to the backend in pieces of about PACK_PIECE as they
 * are appended, so that no pack is held whole (packstream.c), and
 * indexed a batch at a time (ixbatch.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "chunker.h"
#include "index.h"
#include "ixbatch.h"
#include "packfill.h"
#include "packstream.h"
#include "storei.h"
#include "upload.h"

#define PACK_BUF_ALIGN 4096
#define PACK_BUF_CAP (2 * PACK_TARGET)
/* Streamed: a piece is cut once this much is buffered; room for it and
 * one more blob is reserved, touched only as it fills. */
#define PACK_PIECE (2u << 20)
#define PIECE_BUF_CAP (PACK_PIECE + CHUNKER_MAX + (64u << 10))

void
packfill_init(struct pack_fill *f, struct store *s, pthread_mutex_t *lock,
    struct store_writer_stats *st, struct upload_pool *up,
    struct ix_batch *batch)
{
	f->s = s;
	f->batch = batch;
	f->lock = lock;
	f->st = st;
	f->up = up;
	f->is_streamed = up == NULL && s->be->ops->put_open != NULL;
}

void
packfill_fini(struct pack_fill *f)
{
	for (int k = 0; k < N_KINDS; k++) {
		wb_fini(&f->open[k].buf);
		free(f->open[k].entries);
		pack_stream_free(f->open[k].ps);
	}
	memset(f->open, 0, sizeof(f->open));
	packfill_release(f);
}

void
packfill_release(struct pack_fill *f)
{
	for (size_t i = 0; i < f->n_spares; i++)
		wb_fini(&f->spares[i]);
	f->n_spares = 0;
}

/* Keep buffer ${b} for a next pack or piece, if there is room. */
static void
spare_keep(struct pack_fill *f, struct wb *b)
{
	size_t max = f->is_streamed ? PACKFILL_SPARES_MAX : 1;

	if (b->p != NULL && f->n_spares < max) {
		pack_buf_keep(&f->spares[f->n_spares], b);
		f->n_spares++;
	}
}

/*
 * An empty buffer for a new pack or piece: one kept (spare_keep(), or
 * the uploaders' pack_buf_keep()), else a new one, page-aligned for the
 * local backend's O_DIRECT (dir.c), and as large as doubling made it,
 * its pages touched only as it fills.
 */
static int
pack_buf_get(struct pack_fill *f, struct wb *b)
{
	size_t cap = f->is_streamed ? PIECE_BUF_CAP : PACK_BUF_CAP;
	void *p;

	if (f->n_spares > 0) {
		*b = f->spares[--f->n_spares];
		memset(&f->spares[f->n_spares], 0, sizeof(*b));
		return 0;
	}
	if (f->up != NULL && upload_spare(f->up, b) == 0)
		return 0;
	if (posix_memalign(&p, PACK_BUF_ALIGN, cap) != 0)
		return -ENOMEM;
	b->p = p;
	b->len = 0;
	b->cap = cap;
	return 0;
}

int
packfill_append(struct pack_fill *f, int kind, const uint8_t id[STORE_HASH_LEN],
    size_t raw_len, const uint8_t *blob, size_t len)
{
	struct open_pack *o = &f->open[kind];
	struct pack_entry *e;
	int r;

	if (o->buf.p == NULL && (r = pack_buf_get(f, &o->buf)) < 0)
		return r;
	if (f->is_streamed && o->ps == NULL &&
	    (r = pack_stream_new(f->s, &o->ps)) < 0)
		return r;
	if (o->base + o->buf.len == 0 &&
	    (r = wb_bytes(&o->buf, PACK_MAGIC, PACK_HEAD_LEN)) < 0)
		return r;
	if (o->n_entries == o->cap_entries) {
		size_t cap = o->cap_entries ? 2 * o->cap_entries : 256;

		if ((e = realloc(o->entries, cap * sizeof(*e))) == NULL)
			return -ENOMEM;
		o->entries = e;
		o->cap_entries = cap;
	}
	e = &o->entries[o->n_entries];
	memcpy(e->id, id, STORE_HASH_LEN);
	e->off = o->base + o->buf.len;
	e->len = (uint32_t)len;
	e->raw_len = (uint32_t)raw_len;
	if ((r = wb_bytes(&o->buf, blob, len)) < 0)
		return r;
	o->n_entries++;
	return 0;
}

void
packfill_take(struct pack_fill *f, int kind, struct pack_taken *t)
{
	struct open_pack *o = &f->open[kind];

	memset(t, 0, sizeof(*t));
	t->buf = o->buf;
	t->e = o->entries;
	t->n = o->n_entries;
	t->ps = o->ps;
	t->ticket = o->ps != NULL ? pack_stream_ticket(o->ps) : 0;
	memset(o, 0, sizeof(*o));
}

void
packfill_after(struct pack_fill *f, int kind, struct pack_taken *t)
{
	struct open_pack *o = &f->open[kind];
	size_t cut = o->buf.len & ~(size_t)(PACK_BUF_ALIGN - 1);
	struct wb nb;

	if (o->base + o->buf.len >= PACK_TARGET ||
	    o->n_entries >= PACK_ENTRIES_MAX) {
		packfill_take(f, kind, t);
		return;
	}
	if (o->ps == NULL || o->buf.len < PACK_PIECE ||
	    pack_buf_get(f, &nb) < 0)
		return;
	/* The few bytes past the cut start the next piece. */
	if (wb_bytes(&nb, o->buf.p + cut, o->buf.len - cut) < 0) {
		spare_keep(f, &nb);
		wb_fini(&nb);
		return;
	}
	t->piece = o->buf;
	t->piece.len = cut;
	t->ps = o->ps;
	t->ticket = pack_stream_ticket(o->ps);
	o->buf = nb;
	o->base += cut;
}

/* Close the pack ${t} holds (t->n > 0). */
static int
pack_close(struct pack_fill *f, struct pack_taken *t, int kind)
{
	struct upload u = { .pack = t->buf, .e = t->e, .n = t->n };
	uint64_t size = 0;
	int r;

	u.index_kind = kind == KIND_TREES ? INDEX_PACK_TREES :
	    INDEX_PACK_DATA;
	if (t->ps != NULL) {
		r = pack_stream_close(t->ps, t->ticket, &u.pack, t->e, t->n,
		    u.h, &size);
		if (r == 0) {
			r = ix_batch_add(f->batch, u.h, size, t->e, t->n,
			    u.index_kind);
			t->e = NULL;	/* the batch's now */
		}
	} else if ((r = upload_seal(f->s, &u.pack, t->e, t->n, u.h)) == 0) {
		size = u.pack.len;
		if (f->up != NULL) {
			/* The pool takes the buffers, whatever the result. */
			r = upload_submit(f->up, &u);
			memset(&u.pack, 0, sizeof(u.pack));
			t->e = NULL;
		} else {
			r = upload_put(f->s, &u.pack, u.h, t->e, t->n,
			    u.index_kind);
		}
	}
	free(t->e);
	pthread_mutex_lock(f->lock);
	if (r == 0) {
		f->st->bytes_stored += size;
		f->st->n_packs++;
	}
	spare_keep(f, &u.pack);
	pthread_mutex_unlock(f->lock);
	wb_fini(&u.pack);
	return r;
}

int
packfill_finish(struct pack_fill *f, struct pack_taken *t, int kind)
{
	int r = 0;

	if (t->piece.p != NULL) {
		r = pack_stream_write(t->ps, t->ticket, t->piece.p,
		    t->piece.len);
		pthread_mutex_lock(f->lock);
		spare_keep(f, &t->piece);
		pthread_mutex_unlock(f->lock);
		wb_fini(&t->piece);
	} else if (t->n > 0) {
		r = pack_close(f, t, kind);
	} else {
		wb_fini(&t->buf);
		free(t->e);
		pack_stream_free(t->ps);
	}
	memset(t, 0, sizeof(*t));
	return r;
}
