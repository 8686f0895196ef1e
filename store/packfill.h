/*
 * packfill.h: the packs a writer fills (packfill.c): one open pack per
 * kind, which sealed blobs are appended to, closed when full and put
 * whole (S3, through the uploaders) or in pieces as it fills (a local
 * store, packstream.c).  Inside store/ only.
 *
 * Every function but packfill_finish() and packfill_piece() runs under
 * the writer's lock (struct pack_fill's ${lock}); those two run without
 * it, on what was taken out under it, so that packs close in parallel.
 */
#ifndef PACKFILL_H
#define PACKFILL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "pack.h"
#include "rd.h"
#include "store.h"

enum { KIND_DATA, KIND_TREES, N_KINDS };

#define PACKFILL_SPARES_MAX 4

struct ix_batch;
struct pack_stream;
struct upload_pool;

/* A pack being filled: its bytes so far and its table.  Streamed, buf
 * holds only the bytes after the ${base} already cut into pieces. */
struct open_pack {
	struct wb buf;
	struct pack_entry *entries;
	size_t n_entries;
	size_t cap_entries;
	struct pack_stream *ps;
	uint64_t base;
};

/* An open pack taken out to be closed (n > 0), or a piece of one cut
 * to be written (piece.p set). */
struct pack_taken {
	struct wb buf;
	struct pack_entry *e;
	size_t n;
	struct pack_stream *ps;	/* streamed: where the bytes go */
	uint64_t ticket;	/* streamed: their place */
	struct wb piece;
};

struct pack_fill {
	struct store *s;
	pthread_mutex_t *lock;	/* the writer's; guards what follows */
	struct store_writer_stats *st;	/* bytes_stored and n_packs */
	struct upload_pool *up;	/* NULL: packs are put by the closer */
	struct open_pack open[N_KINDS];
	/* Buffers of packs put or pieces written, for the next to fill:
	 * growing a new one faulted in every page again. */
	struct wb spares[PACKFILL_SPARES_MAX];
	size_t n_spares;
	/* Packs go to the backend in pieces as they fill: a local store,
	 * without uploaders. */
	int is_streamed;
	/* Where streamed packs go to be indexed. */
	struct ix_batch *batch;
};

/* Set up ${f} for store ${s}: its fields but open and spares. */
void packfill_init(struct pack_fill *f, struct store *s,
    pthread_mutex_t *lock, struct store_writer_stats *st,
    struct upload_pool *up, struct ix_batch *batch);
void packfill_fini(struct pack_fill *f);

/* Free the buffers kept for packs to come: none will. */
void packfill_release(struct pack_fill *f);

/* Append sealed blob ${blob} (chunk ${id} of ${raw_len} bytes) to the
 * open pack of ${kind}: 0, -ENOMEM. */
int packfill_append(struct pack_fill *f, int kind,
    const uint8_t id[STORE_HASH_LEN], size_t raw_len, const uint8_t *blob,
    size_t len);

/*
 * packfill_after(f, kind, t): after an append to the open pack of
 * ${kind}, a full pack (by size, or by entries: tiny blobs must not make
 * a table larger than PACK_TOC_MAX) is taken out into *${t} (t->n > 0),
 * to be closed; else, streamed, its buffered bytes past a piece's
 * length are cut into t->piece, to be written.  *${t} starts zeroed.
 */
void packfill_after(struct pack_fill *f, int kind, struct pack_taken *t);

/* Take the open pack of ${kind} out into *${t}, whatever it holds. */
void packfill_take(struct pack_fill *f, int kind, struct pack_taken *t);

/*
 * packfill_finish(f, t, kind): without the lock: write what ${t} holds,
 * a piece (t->piece.p set) or a pack to close (t->n > 0), or drop an
 * empty one.  Takes what ${t} holds, whatever the result.
 */
int packfill_finish(struct pack_fill *f, struct pack_taken *t, int kind);

#endif
