/*
 * fcache.c: encoding and strict decoding of incremental-ingest cache
 * records (fcache.h).  The records live in a local cache outside the
 * store, where nothing authenticates them, so they are decoded as hostile
 * bytes: integers are little-endian and moved byte by byte (rd.h), never
 * by casting a struct onto the buffer; the decoder checks the length
 * exactly before it allocates, and every extent against the file's size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fcache.h"
#include "rd.h"

int
fcache_encode(const struct fcache_stat *st, const struct store_extent *ext,
    size_t n, uint8_t **out, size_t *len)
{
	uint8_t *v;
	uint8_t *p;

	if (n > FCACHE_MAX_EXTENTS)
		return -EINVAL;
	*len = FCACHE_HDR_LEN + n * FCACHE_EXT_LEN;
	if ((v = malloc(*len)) == NULL)
		return -ENOMEM;
	p = v;
	*p++ = FCACHE_VERSION;
	p = put_u64(p, st->dev);
	p = put_u64(p, st->ino);
	p = put_u64(p, st->size);
	p = put_u64(p, (uint64_t)st->mtime_sec);
	p = put_u32(p, st->mtime_nsec);
	p = put_u64(p, (uint64_t)st->ctime_sec);
	p = put_u32(p, st->ctime_nsec);
	p = put_u32(p, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		p = store_extent_put(p, &ext[i]);
	*out = v;
	return 0;
}

int
fcache_decode(const uint8_t *v, size_t len, const struct fcache_stat *st,
    struct store_extent **out, size_t *n_out)
{
	struct store_extent *ext;
	const uint8_t *p;
	uint64_t size;
	uint32_t n;

	if (len < FCACHE_HDR_LEN || v[0] != FCACHE_VERSION)
		return -EBADMSG;
	n = get_u32(v + FCACHE_HDR_LEN - 4);
	if (n > FCACHE_MAX_EXTENTS ||
	    len != FCACHE_HDR_LEN + (size_t)n * FCACHE_EXT_LEN)
		return -EBADMSG;
	p = v + 1;
	size = get_u64(p + 16);
	if (get_u64(p) != st->dev || get_u64(p + 8) != st->ino ||
	    size != st->size ||
	    get_u64(p + 24) != (uint64_t)st->mtime_sec ||
	    get_u32(p + 32) != st->mtime_nsec ||
	    get_u64(p + 36) != (uint64_t)st->ctime_sec ||
	    get_u32(p + 44) != st->ctime_nsec)
		return -ESTALE;
	if ((ext = calloc(n ? n : 1, sizeof(*ext))) == NULL)
		return -ENOMEM;
	if (store_extents_get(v + FCACHE_HDR_LEN, n, size, ext) < 0) {
		free(ext);
		return -EBADMSG;
	}
	*out = ext;
	*n_out = n;
	return 0;
}
