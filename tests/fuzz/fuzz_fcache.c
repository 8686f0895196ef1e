/*
 * fuzz_fcache.c: the incremental-ingest cache record decoder
 * (tools/fcache.c, compiled in).  The input is decoded against the
 * version of the file its own header names, so the extent checks are
 * reached; a record that decodes must encode back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/fcache.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		st.dev = get_u64(data + 1);
		st.ino = get_u64(data + 9);
		st.size = get_u64(data + 17);
		st.mtime_sec = (int64_t)get_u64(data + 25);
		st.mtime_nsec = get_u32(data + 33);
		st.ctime_sec = (int64_t)get_u64(data + 37);
		st.ctime_nsec = get_u32(data + 45);
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
