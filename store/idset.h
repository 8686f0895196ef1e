/*
 * idset.h: a growable set of 32-byte ids (chunk ids, pack hashes,
 * snapshot ids), open addressing on the id's first bytes, which are
 * uniformly distributed hash output.  The all-zero id marks a free slot
 * and cannot be stored.  Not thread-safe.
 */
#ifndef IDSET_H
#define IDSET_H

#include <stddef.h>
#include <stdint.h>

struct idset {
	uint8_t (*v)[32];
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* 1 if ${id} was added, 0 if it was there already, -ENOMEM. */
int idset_add(struct idset *s, const uint8_t id[32]);
/* 1 if ${id} is in the set, else 0. */
int idset_has(const struct idset *s, const uint8_t id[32]);
/* Call ${fn} for each id; stops at and returns a non-zero result. */
int idset_each(const struct idset *s, int (*fn)(void *ctx,
    const uint8_t id[32]), void *ctx);
void idset_fini(struct idset *s);

#endif
