/*
 * ixbatch.h: a writer's packs, indexed a batch at a time (ixbatch.c).
 * Inside store/ only.
 */
#ifndef IXBATCH_H
#define IXBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "pack.h"
#include "store.h"

struct index;
struct ix_batch;

/* Indexed once this many chunks wait. */
#define IX_BATCH_CHUNKS 65536

int ix_batch_new(struct index *ix, struct ix_batch **out);

/* Drop what waits (a writer that did not commit) and free ${b}. */
void ix_batch_free(struct ix_batch *b);

/*
 * ix_batch_add(b, h, size, e, n, kind): pack ${h} (${size} bytes, the
 * ${n} entries ${e}, which ${b} takes and frees, whatever the result; of
 * INDEX_PACK_${kind}) is put: index it with the others, on this thread
 * if this makes IX_BATCH_CHUNKS.  Safe from any thread.  Returns 0, or
 * -errno of that indexing.
 */
int ix_batch_add(struct ix_batch *b, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, struct pack_entry *e, size_t n, int kind);

/* Index what waits, in one transaction: before the manifest. */
int ix_batch_flush(struct ix_batch *b);

#endif
