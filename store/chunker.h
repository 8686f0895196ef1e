/*
 * chunker.h: content-defined chunking (FastCDC with normalised chunking,
 * Xia et al. 2016) over a keyed gear table, so that cut points reveal
 * nothing about the data without the key.  Pure: no I/O, no allocation.
 */
#ifndef CHUNKER_H
#define CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#define CHUNKER_MIN (256u << 10)
#define CHUNKER_AVG (1u << 20)
#define CHUNKER_MAX (4u << 20)

struct chunker {
	uint64_t gear[256];
	size_t min;
	size_t avg;
	size_t max;
	uint64_t mask_s;	/* before avg: harder to match */
	uint64_t mask_l;	/* after avg: easier */
};

/*
 * chunker_init(c, seed, min, avg, max): fill the gear table from the
 * 2048-byte ${seed} (little-endian u64s) and set the sizes; avg must be a
 * power of two with min <= avg <= max.
 */
void chunker_init(struct chunker *c, const uint8_t seed[2048], size_t min,
    size_t avg, size_t max);

/*
 * chunker_next(c, buf, len, is_last):
 * The length of the chunk that starts at ${buf}.  ${buf} holds the next
 * ${len} bytes of the stream; unless ${is_last}, len >= c->max.  Returns a
 * value in [1, min(len, max)] (0 only when len is 0).
 */
size_t chunker_next(const struct chunker *c, const uint8_t *buf, size_t len,
    int is_last);

#endif
