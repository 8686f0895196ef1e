/*
 * codec.h: zstd compression of chunk payloads, with a compression and a
 * decompression context kept per thread.  Thread-safe.
 */
#ifndef CODEC_H
#define CODEC_H

#include <stddef.h>
#include <stdint.h>

#define CODEC_LEVEL 3

/*
 * codec_compress(in, len, out, cap, olen): compress ${in} into ${out}.
 * Returns -ERANGE if the result would not fit in ${cap} bytes (callers
 * pass cap < len to store incompressible data raw).
 */
int codec_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *olen);

/*
 * codec_decompress(in, len, out, cap, olen): decompress one zstd frame.
 * Returns -EBADMSG if it is malformed, -ERANGE if its recorded content
 * size exceeds ${cap}.
 */
int codec_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *olen);

#endif
