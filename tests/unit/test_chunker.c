/*
 * test_chunker.c: the content-defined chunker.  Cut points of a fixed,
 * seeded input under a fixed gear seed were recorded once and must never
 * change (they are part of the store format: a change would stop new
 * ingests from deduplicating against old ones).  An insertion moves only
 * the cuts near it; every chunk but the last lies in [min, max].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "chunker.h"

#define MAX_CUTS 4096

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = splitmix64(&s);

		for (size_t k = 0; k < 8 && i + k < len; k++, v >>= 8)
			buf[i + k] = (uint8_t)v;
	}
}

/*
 * Cut ${buf} as the writer does (a full window of max bytes unless at
 * the end); the cut points (chunk end offsets) go to ${cuts}.
 */
static size_t
cut_all(const struct chunker *c, const uint8_t *buf, size_t len,
    size_t *cuts)
{
	size_t pos = 0;
	size_t n = 0;

	while (pos < len && n < MAX_CUTS) {
		size_t left = len - pos;
		int is_last = left < c->max;
		size_t k = chunker_next(c, buf + pos, is_last ? left : c->max,
		    is_last);

		if (k == 0 || k > left)
			abort();
		pos += k;
		cuts[n++] = pos;
	}
	return n;
}

static int
sizes_ok(const struct chunker *c, const size_t *cuts, size_t n)
{
	size_t prev = 0;

	for (size_t i = 0; i < n; i++) {
		size_t sz = cuts[i] - prev;

		if (sz > c->max || (i + 1 < n && sz < c->min))
			return 0;
		prev = cuts[i];
	}
	return 1;
}

static void
print_cuts(const char *what, const size_t *cuts, size_t n)
{
	fprintf(stderr, "%s (%zu):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %zu,", cuts[i]);
	fprintf(stderr, "\n");
}

/* Cut points recorded once (small sizes: min 2 KiB, avg 8 KiB, max
 * 32 KiB) over 256 KiB; gear seed from splitmix64(1), data from
 * splitmix64(2). */
static const size_t small_cuts[] = {
	9286, 12495, 26067, 28615, 40713, 51979, 66670, 77757, 88126, 99453,
	107860, 116706, 129075, 138385, 150377, 164516, 171607, 183890,
	193238, 206126, 209703, 213092, 221930, 232871, 242158, 252851,
	261180, 262144,
};

/* The store's own sizes over 24 MiB; data from splitmix64(3). */
static const size_t big_cuts[] = {
	1299078, 2744691, 4008511, 5407731, 6525256, 7780390, 8846177,
	10184796, 10517166, 11648905, 13479793, 14603779, 15192305, 16279653,
	17779195, 19383043, 20468242, 21657976, 23033142, 23800599, 24944576,
	25165824,
};

static void
test_recorded(const uint8_t *seed)
{
	struct chunker c;
	size_t *cuts = calloc(MAX_CUTS, sizeof(*cuts));
	size_t len = 256u << 10;
	uint8_t *buf = malloc(24u << 20);
	size_t n;

	if (cuts == NULL || buf == NULL)
		abort();
	chunker_init(&c, seed, 2048, 8192, 32768);
	fill(buf, len, 2);
	n = cut_all(&c, buf, len, cuts);
	CHECK(n == sizeof(small_cuts) / sizeof(small_cuts[0]));
	CHECK(n == sizeof(small_cuts) / sizeof(small_cuts[0]) &&
	    memcmp(cuts, small_cuts, sizeof(small_cuts)) == 0);
	if (n != sizeof(small_cuts) / sizeof(small_cuts[0]) ||
	    memcmp(cuts, small_cuts, sizeof(small_cuts)) != 0)
		print_cuts("small cuts", cuts, n);
	CHECK(sizes_ok(&c, cuts, n));

	chunker_init(&c, seed, CHUNKER_MIN, CHUNKER_AVG, CHUNKER_MAX);
	len = 24u << 20;
	fill(buf, len, 3);
	n = cut_all(&c, buf, len, cuts);
	CHECK(n == sizeof(big_cuts) / sizeof(big_cuts[0]) &&
	    memcmp(cuts, big_cuts, sizeof(big_cuts)) == 0);
	if (n != sizeof(big_cuts) / sizeof(big_cuts[0]) ||
	    memcmp(cuts, big_cuts, sizeof(big_cuts)) != 0)
		print_cuts("big cuts", cuts, n);
	CHECK(sizes_ok(&c, cuts, n));
	free(buf);
	free(cuts);
}

/*
 * Insert ${k} bytes at ${at} and compare the cut points: those before
 * the insertion stay, at most ${max_changed} chunks around it change, and
 * every later cut moves by exactly ${k}.
 */
static void
check_insertion(const struct chunker *c, const uint8_t *buf, size_t len,
    size_t at, size_t k, size_t max_changed)
{
	size_t *a = calloc(MAX_CUTS, sizeof(*a));
	size_t *b = calloc(MAX_CUTS, sizeof(*b));
	uint8_t *ins = malloc(len + k);
	size_t na, nb, i, j, before = 0;
	int found = 0;

	if (a == NULL || b == NULL || ins == NULL)
		abort();
	memcpy(ins, buf, at);
	for (size_t x = 0; x < k; x++)
		ins[at + x] = (uint8_t)(0xa5 ^ x);
	memcpy(ins + at + k, buf + at, len - at);
	na = cut_all(c, buf, len, a);
	nb = cut_all(c, ins, len + k, b);
	CHECK(sizes_ok(c, b, nb));
	/* Cuts that end before the insertion are unchanged. */
	while (before < na && a[before] <= at) {
		CHECK(before < nb && b[before] == a[before]);
		before++;
	}
	/* The first original cut after the insertion from which all cuts
	 * are the originals shifted by k; new chunks in between. */
	for (i = before; i < na && !found; i++) {
		for (j = before; j < nb && b[j] <= a[i] + k; j++) {
			if (b[j] != a[i] + k || na - i != nb - j)
				continue;
			found = 1;
			for (size_t x = 0; x < na - i; x++)
				if (b[j + x] != a[i + x] + k)
					found = 0;
			if (found)
				break;
		}
		if (found)
			break;
	}
	CHECK(found);
	if (!found) {
		fprintf(stderr, "insertion of %zu at %zu:\n", k, at);
		print_cuts("  before", a, na);
		print_cuts("  after", b, nb);
	} else {
		/* Original chunks before..i are gone, new ones before..j
		 * took their place. */
		CHECK(i - before + 1 <= max_changed);
		CHECK(j - before + 1 <= max_changed);
		if (i - before + 1 > max_changed ||
		    j - before + 1 > max_changed)
			fprintf(stderr, "insertion of %zu at %zu: %zu old and "
			    "%zu new chunks\n", k, at, i - before + 1,
			    j - before + 1);
	}
	free(a);
	free(b);
	free(ins);
}

static void
test_insertion(const uint8_t *seed)
{
	struct chunker c;
	size_t len = 1u << 20;
	uint8_t *buf = malloc(len);
	static const size_t at[] = { 0, 1, 100, 5000, 200000, 777777 };
	static const size_t k[] = { 1, 3, 7, 64 };

	if (buf == NULL)
		abort();
	chunker_init(&c, seed, 2048, 8192, 32768);
	fill(buf, len, 4);
	/* A few bytes: one or two chunks change. */
	for (size_t x = 0; x < sizeof(at) / sizeof(at[0]); x++)
		for (size_t y = 0; y < sizeof(k) / sizeof(k[0]); y++)
			check_insertion(&c, buf, len, at[x], k[y], 2);
	/* Half an average chunk: the cuts still resynchronise soon. */
	for (size_t x = 0; x < sizeof(at) / sizeof(at[0]); x++)
		check_insertion(&c, buf, len, at[x], 4096, 3);
	free(buf);

	/* The store's sizes: 10 bytes near the start of 12 MiB. */
	len = 12u << 20;
	if ((buf = malloc(len)) == NULL)
		abort();
	chunker_init(&c, seed, CHUNKER_MIN, CHUNKER_AVG, CHUNKER_MAX);
	fill(buf, len, 6);
	check_insertion(&c, buf, len, 1000, 10, 2);
	check_insertion(&c, buf, len, 3u << 20, 10, 2);
	free(buf);
}

static void
test_properties(const uint8_t *seed)
{
	struct chunker c;
	struct chunker c2;
	uint8_t seed2[2048];
	size_t len = 1u << 20;
	uint8_t *buf = malloc(len);
	size_t *a = calloc(MAX_CUTS, sizeof(*a));
	size_t *b = calloc(MAX_CUTS, sizeof(*b));
	size_t na, nb;

	if (buf == NULL || a == NULL || b == NULL)
		abort();
	chunker_init(&c, seed, 2048, 8192, 32768);
	fill(buf, len, 5);
	/* Deterministic, and the same with a longer look-ahead buffer. */
	na = cut_all(&c, buf, len, a);
	nb = cut_all(&c, buf, len, b);
	CHECK(na == nb && memcmp(a, b, na * sizeof(*a)) == 0);
	CHECK(na > 64);
	{
		size_t pos = 0;
		size_t n = 0;
		int same = 1;

		while (pos < len) {
			size_t k = chunker_next(&c, buf + pos, len - pos,
			    1);

			pos += k;
			if (n >= na || a[n++] != pos)
				same = 0;
		}
		CHECK(same && n == na);
	}
	CHECK(sizes_ok(&c, a, na));
	/* The average is roughly what was asked for. */
	CHECK(len / na > 4096 && len / na < 16384);

	/* A different gear seed (another store's key) cuts elsewhere. */
	memcpy(seed2, seed, sizeof(seed2));
	seed2[0] ^= 1;
	seed2[1000] ^= 1;
	for (size_t i = 0; i < sizeof(seed2); i++)
		seed2[i] = (uint8_t)(seed2[i] * 7 + 1);
	chunker_init(&c2, seed2, 2048, 8192, 32768);
	nb = cut_all(&c2, buf, len, b);
	CHECK(na != nb || memcmp(a, b, na * sizeof(*a)) != 0);

	/* Short inputs: the whole rest, never zero, never past max. */
	CHECK(chunker_next(&c, buf, 0, 1) == 0);
	CHECK(chunker_next(&c, buf, 1, 1) == 1);
	CHECK(chunker_next(&c, buf, 2048, 1) == 2048);
	CHECK(chunker_next(&c, buf, 2049, 1) >= 1);
	CHECK(chunker_next(&c, buf, 2049, 1) <= 2049);
	/* All zeros never match the mask: cut at max. */
	memset(buf, 0, 65536);
	{
		size_t k = chunker_next(&c, buf, 65536, 0);

		CHECK(k >= 2048 && k <= 32768);
		CHECK(chunker_next(&c, buf, 65536, 0) == k);
	}
	free(a);
	free(b);
	free(buf);
}

int
main(void)
{
	uint8_t seed[2048];

	fill(seed, sizeof(seed), 1);
	test_recorded(seed);
	test_insertion(seed);
	test_properties(seed);
	return check_done("test_chunker");
}
