/*
 * test_fcache.c: incremental-ingest cache records (tools/ingest/fcache.c, from
 * libtools.a).  A record round trips; one for another version of the
 * file is stale; every malformed record (short, long, wrong version, bad
 * extents) is rejected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "fcache.h"

static const struct fcache_stat st0 = {
	.dev = 0x0102030405060708u, .ino = 42, .size = 300000,
	.mtime_sec = -1, .mtime_nsec = 999999999,
	.ctime_sec = 1795800000, .ctime_nsec = 5,
};

static void
fill(struct store_extent *x, size_t n)
{
	memset(x, 0, n * sizeof(*x));
	for (size_t i = 0; i < n; i++) {
		x[i].off = 100000 * i;
		x[i].len = 90000;
		memset(x[i].ref.id, (int)(0x10 + i), STORE_HASH_LEN);
		memset(x[i].ref.key, (int)(0x80 + i), STORE_HASH_LEN);
	}
}

static int
decode(const uint8_t *v, size_t len, const struct fcache_stat *st)
{
	struct store_extent *x = NULL;
	size_t n = 0;
	int r = fcache_decode(v, len, st, &x, &n);

	free(x);
	return r;
}

/* ${n} bytes of ${v}, little-endian, at ${p}; returns p + n. */
static uint8_t *
put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

/* Set extent ${i} of record ${v} to (${off}, ${len}). */
static void
set_ext(uint8_t *v, size_t i, uint64_t off, uint32_t len)
{
	uint8_t *p = v + FCACHE_HDR_LEN + i * FCACHE_EXT_LEN;

	put_le(put_le(p, off, 8), len, 4);
}

int
main(void)
{
	struct store_extent x[3];
	struct store_extent *got = NULL;
	struct fcache_stat st;
	uint8_t *v = NULL;
	uint8_t *w = NULL;
	size_t len = 0;
	size_t n = 0;

	fill(x, 3);
	CHECK(fcache_encode(&st0, x, 3, &v, &len) == 0);
	CHECK(len == FCACHE_HDR_LEN + 3 * FCACHE_EXT_LEN);
	CHECK(fcache_decode(v, len, &st0, &got, &n) == 0);
	CHECK(n == 3 && memcmp(got, x, sizeof(x)) == 0);
	free(got);

	/* Little-endian, byte by byte, fields in the documented order. */
	CHECK(v[0] == FCACHE_VERSION && v[1] == 0x08 && v[8] == 0x01);
	CHECK(v[9] == 42 && v[17] == (300000 & 0xff));
	CHECK(v[25] == 0xff && v[32] == 0xff);	/* mtime -1 */
	CHECK(v[49] == 3 && v[50] == 0);	/* n */

	/* Empty files have records without extents. */
	st = st0;
	st.size = 0;
	CHECK(fcache_encode(&st, NULL, 0, &w, &len) == 0);
	CHECK(len == FCACHE_HDR_LEN);
	CHECK(fcache_decode(w, len, &st, &got, &n) == 0 && n == 0);
	free(got);
	free(w);
	w = NULL;
	len = FCACHE_HDR_LEN + 3 * FCACHE_EXT_LEN;

	/* Any other version of the file: stale. */
	st = st0; st.dev++; CHECK(decode(v, len, &st) == -ESTALE);
	st = st0; st.ino++; CHECK(decode(v, len, &st) == -ESTALE);
	st = st0; st.size++; CHECK(decode(v, len, &st) == -ESTALE);
	st = st0; st.mtime_sec = 0; CHECK(decode(v, len, &st) == -ESTALE);
	st = st0; st.mtime_nsec--; CHECK(decode(v, len, &st) == -ESTALE);
	st = st0; st.ctime_sec++; CHECK(decode(v, len, &st) == -ESTALE);
	st = st0; st.ctime_nsec++; CHECK(decode(v, len, &st) == -ESTALE);

	/* Every length but the exact one is malformed. */
	for (size_t l = 0; l < len + FCACHE_EXT_LEN + 2; l++) {
		uint8_t *c = malloc(l + 1);

		memset(c, 0, l + 1);
		memcpy(c, v, l < len ? l : len);
		if (l != len)
			CHECK(decode(c, l, &st0) == -EBADMSG);
		free(c);
	}
	CHECK(decode(v, len, &st0) == 0);

	/* Version, a huge n, and bad extents. */
	w = malloc(len);
	memcpy(w, v, len); w[0] = 2;
	CHECK(decode(w, len, &st0) == -EBADMSG);
	memcpy(w, v, len); put_le(w + FCACHE_HDR_LEN - 4, 0xffffffffu, 4);
	CHECK(decode(w, len, &st0) == -EBADMSG);
	memcpy(w, v, len); set_ext(w, 1, 100000, 0);		/* empty */
	CHECK(decode(w, len, &st0) == -EBADMSG);
	memcpy(w, v, len); set_ext(w, 1, 50000, 90000);	/* overlaps */
	CHECK(decode(w, len, &st0) == -EBADMSG);
	memcpy(w, v, len); set_ext(w, 0, 100000, 90000);	/* unsorted */
	CHECK(decode(w, len, &st0) == -EBADMSG);
	memcpy(w, v, len); set_ext(w, 2, 250000, 50001);	/* past size */
	CHECK(decode(w, len, &st0) == -EBADMSG);
	memcpy(w, v, len); set_ext(w, 2, UINT64_MAX - 10, 20);	/* wraps */
	CHECK(decode(w, len, &st0) == -EBADMSG);
	memcpy(w, v, len); set_ext(w, 2, 200000, STORE_CHUNK_MAX + 1);
	CHECK(decode(w, len, &st0) == -EBADMSG);
	memcpy(w, v, len); set_ext(w, 2, 200000, 100000);	/* to the end */
	CHECK(decode(w, len, &st0) == 0);
	memcpy(w, v, len); set_ext(w, 1, 190000, 10000);	/* adjacent */
	CHECK(decode(w, len, &st0) == 0);

	CHECK(fcache_encode(&st0, x, (size_t)FCACHE_MAX_EXTENTS + 1, &w,
	    &len) == -EINVAL);
	free(w);
	free(v);
	return check_done("test_fcache");
}
