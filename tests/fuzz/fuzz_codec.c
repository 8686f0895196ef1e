/*
 * fuzz_codec.c: the zstd payload of a chunk is decompressed only after
 * it authenticates, but a key holder can craft any payload.  The input
 * is one payload, decompressed into a 1 MiB buffer: no crash, no write
 * past the buffer, and what is accepted compresses and decompresses back
 * to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

#define OUT_CAP (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[OUT_CAP];
	static uint8_t again[OUT_CAP];
	static uint8_t frame[OUT_CAP + (OUT_CAP >> 7) + 1024];
	size_t olen = 0;
	size_t flen = 0;
	size_t alen = 0;

	if (codec_decompress(data, size, out, OUT_CAP, &olen) != 0)
		return 0;
	if (olen > OUT_CAP)
		abort();
	if (codec_compress(out, olen, frame, sizeof(frame), &flen) != 0 ||
	    codec_decompress(frame, flen, again, OUT_CAP, &alen) != 0 ||
	    alen != olen || memcmp(again, out, olen) != 0)
		abort();
	return 0;
}
