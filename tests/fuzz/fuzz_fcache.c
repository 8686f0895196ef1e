/*
 * fuzz_fcache.c: the incremental-ingest cache record decoder
 * (tools/ingest/fcache.c).  The input is decoded against the
 * version of the file its own header names, so the extent checks are
 * reached; a record that decodes must encode back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ${n}-byte little-endian number at ${p}. */
static uint64_t
get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = (v << 8) | p[n];
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_extent *x = NULL;
	struct fcache_stat st;
	uint8_t *again = NULL;
	size_t n = 0;
	size_t len = 0;

	memset(&st, 0, sizeof(st));
	if (size >= FCACHE_HDR_LEN) {
		st.dev = get_le(data + 1, 8);
		st.ino = get_le(data + 9, 8);
		st.size = get_le(data + 17, 8);
		st.mtime_sec = (int64_t)get_le(data + 25, 8);
		st.mtime_nsec = (uint32_t)get_le(data + 33, 4);
		st.ctime_sec = (int64_t)get_le(data + 37, 8);
		st.ctime_nsec = (uint32_t)get_le(data + 45, 4);
	}
	if (fcache_decode(data, size, &st, &x, &n) != 0)
		return 0;
	if (fcache_encode(&st, x, n, &again, &len) != 0 || len != size ||
	    memcmp(again, data, size) != 0)
		abort();
	free(again);
	free(x);
	return 0;
}
