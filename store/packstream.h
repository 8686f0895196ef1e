/*
 * packstream.h: a pack written to its object as it fills (packstream.c),
 * where the backend takes an object in pieces (the local directory).
 * Inside store/ only.
 */
#ifndef PACKSTREAM_H
#define PACKSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "pack.h"
#include "rd.h"
#include "store.h"

struct pack_stream;

/* A new pack: 0, or -ENOMEM.  Nothing is written before the first piece. */
int pack_stream_new(struct store *s, struct pack_stream **out);

/*
 * pack_stream_ticket(p): the place of the next piece of ${p}.  Taken
 * under the lock that orders the pieces (the writer's), as the piece is
 * cut; every ticket taken must be given to pack_stream_write() or, the
 * last, to pack_stream_close(), which wait for the ones before it.
 */
uint64_t pack_stream_ticket(struct pack_stream *p);

/*
 * pack_stream_write(p, ticket, buf, len): hash and write the piece of
 * place ${ticket}, once the pieces before it are written.  Returns 0, or
 * the first error of this pack's writes (then nothing more is written).
 */
int pack_stream_write(struct pack_stream *p, uint64_t ticket,
    const uint8_t *buf, size_t len);

/*
 * pack_stream_close(p, ticket, tail, e, n, h, size):
 * Once the pieces before ${ticket} are written: write ${tail} (the last
 * bytes of blobs, to which the table of the ${n} entries ${e}, sealed,
 * and the end are appended here) and put the pack under its name, the
 * SHA-256 of all its bytes, which goes to ${h}; *${size} gets its
 * length.  The caller indexes it.  Frees ${p}, whatever the result.
 */
int pack_stream_close(struct pack_stream *p, uint64_t ticket, struct wb *tail,
    const struct pack_entry *e, size_t n, uint8_t h[STORE_HASH_LEN],
    uint64_t *size);

/* Drop ${p} (a writer that failed): its temporary object goes too. */
void pack_stream_free(struct pack_stream *p);

#endif
