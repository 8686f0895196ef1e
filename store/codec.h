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
 * codec_is_worth_trying(in, len, scratch, cap): whether ${in} (${len}
 * bytes) may compress by 1/32: 0 when it is at least CODEC_SAMPLE_MIN
 * bytes and its first CODEC_SAMPLE bytes do not at zstd's level 1 (a
 * sample in ${scratch}, ${cap} >= CODEC_SAMPLE bytes, as scratch space),
 * else 1.  So incompressible data (media, archives, random) costs a
 * sample rather than a whole failed compression.
 */
#define CODEC_SAMPLE (8u << 10)
#define CODEC_SAMPLE_MIN (64u << 10)
int codec_is_worth_trying(const uint8_t *in, size_t len, uint8_t *scratch,
    size_t cap);

/*
 * codec_decompress(in, len, out, cap, olen): decompress one zstd frame.
 * Returns -EBADMSG if it is malformed, -ERANGE if its recorded content
 * size exceeds ${cap}.
 */
int codec_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *olen);

#endif
