/*
 * fuzz_pack_toc.c: a pack's tail and sealed table are read before
 * anything else of it, from a store that may be damaged.  The input is a
 * whole pack (format 1 or 2); its tail is parsed and its table opened under a fixed key
 * (every byte 0x54, as the corpus was sealed).  Whatever the input, no
 * crash, and every entry of an accepted table lies in the blob area.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[32];
	struct pack_entry *e = NULL;
	uint8_t bound[32];
	uint32_t toc_len;
	uint64_t blob_end;
	int version;
	size_t n = 0;

	memset(key, 0x54, sizeof(key));
	if (size < PACK_TAIL_LEN ||
	    pack_tail_parse(data + size - PACK_TAIL_LEN, size, &toc_len,
	    &version) != 0)
		return 0;
	if ((uint64_t)toc_len + PACK_HEAD_LEN + PACK_TAIL_LEN > size)
		abort();
	blob_end = size - PACK_TAIL_LEN - toc_len;
	if (pack_toc_open(key, version, data + blob_end, toc_len, size, &e, &n,
	    bound) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].off < PACK_HEAD_LEN || e[i].len < BLOB_OVERHEAD ||
		    e[i].off + e[i].len > blob_end ||
		    e[i].raw_len > STORE_TREE_MAX)
			abort();
	free(e);
	return 0;
}
