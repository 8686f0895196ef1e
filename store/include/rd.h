/*
 * rd.h: bounds-checked little-endian decoding of stored bytes (struct rd)
 * and the matching growable encoder (struct wb), over the byte-by-byte
 * codec le_*.  Every rd_* returns -EBADMSG on short input and leaves the
 * reader unchanged; every wb_* returns -ENOMEM when it cannot grow.
 * Public (store/include/): tools/ codes its own records with it.
 */
#ifndef RD_H
#define RD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rd {
	const uint8_t *p;
	size_t len;
};

static inline struct rd
rd_init(const uint8_t *p, size_t len)
{
	struct rd r = { p, len };

	return r;
}

static inline int
rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->len < n)
		return -EBADMSG;
	*out = r->p;
	r->p += n;
	r->len -= n;
	return 0;
}

static inline int
rd_copy(struct rd *r, void *out, size_t n)
{
	const uint8_t *p;
	int e;

	if ((e = rd_bytes(r, n, &p)) < 0)
		return e;
	memcpy(out, p, n);
	return 0;
}

static inline uint64_t
le_get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

static inline void
le_put(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

/*
 * Fixed-layout records, little-endian like everything here: get the
 * integer at ${p}, or put ${v} at ${p} and return the place after it.
 */
static inline uint64_t
get_u64(const uint8_t *p)
{
	return le_get(p, 8);
}

static inline uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)le_get(p, 4);
}

static inline uint8_t *
put_u64(uint8_t *p, uint64_t v)
{
	le_put(p, v, 8);
	return p + 8;
}

static inline uint8_t *
put_u32(uint8_t *p, uint32_t v)
{
	le_put(p, v, 4);
	return p + 4;
}

static inline int
rd_u8(struct rd *r, uint8_t *v)
{
	const uint8_t *p;
	int e;

	if ((e = rd_bytes(r, 1, &p)) < 0)
		return e;
	*v = p[0];
	return 0;
}

static inline int
rd_u16(struct rd *r, uint16_t *v)
{
	const uint8_t *p;
	int e;

	if ((e = rd_bytes(r, 2, &p)) < 0)
		return e;
	*v = (uint16_t)le_get(p, 2);
	return 0;
}

static inline int
rd_u32(struct rd *r, uint32_t *v)
{
	const uint8_t *p;
	int e;

	if ((e = rd_bytes(r, 4, &p)) < 0)
		return e;
	*v = (uint32_t)le_get(p, 4);
	return 0;
}

static inline int
rd_u64(struct rd *r, uint64_t *v)
{
	const uint8_t *p;
	int e;

	if ((e = rd_bytes(r, 8, &p)) < 0)
		return e;
	*v = le_get(p, 8);
	return 0;
}

static inline int
rd_i64(struct rd *r, int64_t *v)
{
	uint64_t u;
	int e;

	if ((e = rd_u64(r, &u)) < 0)
		return e;
	*v = (int64_t)u;
	return 0;
}

/* A u16-length-prefixed string of at most ${max} bytes. */
static inline int
rd_str16(struct rd *r, size_t max, const uint8_t **s, size_t *len)
{
	uint16_t n;
	int e;

	if ((e = rd_u16(r, &n)) < 0)
		return e;
	if (n > max)
		return -EBADMSG;
	*len = n;
	return rd_bytes(r, n, s);
}

struct wb {
	uint8_t *p;
	size_t len;
	size_t cap;
};

static inline int
wb_reserve(struct wb *w, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (w->cap - w->len >= n)
		return 0;
	cap = w->cap ? w->cap : 256;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	if ((p = realloc(w->p, cap)) == NULL)
		return -ENOMEM;
	w->p = p;
	w->cap = cap;
	return 0;
}

static inline int
wb_bytes(struct wb *w, const void *b, size_t n)
{
	int e;

	if ((e = wb_reserve(w, n)) < 0)
		return e;
	if (n > 0)
		memcpy(w->p + w->len, b, n);
	w->len += n;
	return 0;
}

static inline int
wb_le(struct wb *w, uint64_t v, size_t n)
{
	int e;

	if ((e = wb_reserve(w, n)) < 0)
		return e;
	le_put(w->p + w->len, v, n);
	w->len += n;
	return 0;
}

#define wb_u8(w, v) wb_le((w), (v), 1)
#define wb_u16(w, v) wb_le((w), (v), 2)
#define wb_u32(w, v) wb_le((w), (v), 4)
#define wb_u64(w, v) wb_le((w), (uint64_t)(v), 8)

static inline int
wb_str16(struct wb *w, const void *s, size_t n)
{
	int e;

	if (n > UINT16_MAX)
		return -EINVAL;
	if ((e = wb_u16(w, n)) < 0)
		return e;
	return wb_bytes(w, s, n);
}

static inline void
wb_fini(struct wb *w)
{
	free(w->p);
	w->p = NULL;
	w->len = w->cap = 0;
}

#endif
