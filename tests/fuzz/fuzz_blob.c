/*
 * fuzz_blob.c: a chunk's blob is authenticated, then decrypted, then
 * decompressed.  The input is one blob, opened with a fixed reference
 * (id bytes 0x49, key bytes 0x4b, as the corpus was sealed) into a
 * 1 MiB buffer.  No crash, no write past the buffer, and an accepted
 * blob yields at most that many bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pack.h"

#define OUT_CAP (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[OUT_CAP];
	struct store_ref ref;
	uint8_t *scratch = malloc(size ? size : 1);
	size_t olen = 0;
	int r;

	if (scratch == NULL)
		return 0;
	memset(ref.id, 0x49, sizeof(ref.id));
	memset(ref.key, 0x4b, sizeof(ref.key));
	r = blob_open(&ref, data, size, scratch, out, OUT_CAP, &olen);
	if (r == 0 && olen > OUT_CAP)
		abort();
	free(scratch);
	return 0;
}
