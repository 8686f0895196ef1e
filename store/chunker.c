/*
 * chunker.c: FastCDC.  The gear hash h = (h << 1) + gear[byte] depends only
 * on the last 64 bytes, so a cut depends only on the data just before it
 * and an insertion moves at most the cuts near it.  Normalised chunking
 * uses a stricter mask before the average size and a looser one after, so
 * that sizes cluster around the average.
 */
#include "chunker.h"
#include "rd.h"

static uint64_t
mask_bits(unsigned bits)
{
	/* Spread the one bits over the word, as FastCDC's masks do. */
	uint64_t m = 0;

	for (unsigned i = 0; i < bits; i++)
		m |= (uint64_t)1 << (63 - (i * 64 / bits));
	return m;
}

void
chunker_init(struct chunker *c, const uint8_t seed[2048], size_t min,
    size_t avg, size_t max)
{
	unsigned bits = 0;

	for (size_t i = 0; i < 256; i++)
		c->gear[i] = le_get(seed + 8 * i, 8);
	while (((size_t)1 << bits) < avg)
		bits++;
	c->min = min;
	c->avg = avg;
	c->max = max;
	c->mask_s = mask_bits(bits + 2);
	c->mask_l = mask_bits(bits > 2 ? bits - 2 : 1);
}

size_t
chunker_next(const struct chunker *c, const uint8_t *buf, size_t len,
    int is_last)
{
	size_t end = len < c->max ? len : c->max;
	size_t normal = c->avg < end ? c->avg : end;
	uint64_t h = 0;
	size_t i;

	(void)is_last;
	if (end <= c->min)
		return end;
	for (i = c->min; i < normal; i++) {
		h = (h << 1) + c->gear[buf[i]];
		if ((h & c->mask_s) == 0)
			return i + 1;
	}
	for (; i < end; i++) {
		h = (h << 1) + c->gear[buf[i]];
		if ((h & c->mask_l) == 0)
			return i + 1;
	}
	return end;
}
