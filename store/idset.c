/*
 * idset.c: the id set of idset.h.  Kept at most half full, so probes are
 * short; it doubles and rehashes when it would pass that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "rd.h"

static const uint8_t zero[32];

int
idset_add(struct idset *s, const uint8_t id[32])
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct idset b = { NULL, s->cap ? 2 * s->cap : 1024, 0 };

		if ((b.v = calloc(b.cap, 32)) == NULL)
			return -ENOMEM;
		for (size_t k = 0; k < s->cap; k++)
			if (memcmp(s->v[k], zero, 32) != 0)
				idset_add(&b, s->v[k]);
		free(s->v);
		*s = b;
	}
	for (i = (size_t)le_get(id, 8) & (s->cap - 1);;
	    i = (i + 1) & (s->cap - 1)) {
		if (memcmp(s->v[i], id, 32) == 0)
			return 0;
		if (memcmp(s->v[i], zero, 32) == 0)
			break;
	}
	memcpy(s->v[i], id, 32);
	s->n++;
	return 1;
}

int
idset_has(const struct idset *s, const uint8_t id[32])
{
	if (s->cap == 0)
		return 0;
	for (size_t i = (size_t)le_get(id, 8) & (s->cap - 1);;
	    i = (i + 1) & (s->cap - 1)) {
		if (memcmp(s->v[i], id, 32) == 0)
			return 1;
		if (memcmp(s->v[i], zero, 32) == 0)
			return 0;
	}
}

int
idset_each(const struct idset *s, int (*fn)(void *ctx, const uint8_t id[32]),
    void *ctx)
{
	int r;

	for (size_t i = 0; i < s->cap; i++)
		if (memcmp(s->v[i], zero, 32) != 0 && (r = fn(ctx, s->v[i])))
			return r;
	return 0;
}

void
idset_fini(struct idset *s)
{
	free(s->v);
	s->v = NULL;
	s->cap = s->n = 0;
}
