/*
 * test_pack.c: chunk blobs and pack tables (pack.h).  Round trips of
 * compressible and incompressible chunks through a whole pack built the
 * way the writer builds one, then every integrity check (on whole blobs
 * and on blobs read in parts, as a local store reads): a flipped byte
 * of nonce, ciphertext or tag, another chunk's id as AAD, a flipped or
 * truncated table, entries outside the blob area, bad tails and names.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "fixture.h"
#include "codec.h"
#include "pack.h"
#include "rd.h"

static uint64_t rng_state;

static void
text(uint8_t *p, size_t n)
{
	static const char words[] = "the quick brown fox jumps over the lazy "
	    "dog; amber keeps an immutable history of repositories. ";

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)words[(i * 7 / 5) % (sizeof(words) - 1)];
}

/*
 * Open ${blob} as a local store's reader does without copying: head,
 * body and tag read into separate buffers, the body into ${body}.
 */
static int
open_in_parts(const struct store_ref *ref, const uint8_t *blob, size_t blen,
    uint8_t *body, uint8_t *codec)
{
	uint8_t head[BLOB_HEAD_LEN];
	uint8_t tag[CRYPT_TAG_LEN];
	size_t len = blen - BLOB_OVERHEAD;

	memcpy(head, blob, BLOB_HEAD_LEN);
	memcpy(body, blob + BLOB_HEAD_LEN, len);
	memcpy(tag, blob + BLOB_HEAD_LEN + len, CRYPT_TAG_LEN);
	return blob_open_parts(ref, head, body, len, tag, codec);
}

/* Both ways of opening refuse ${blob} under ${ref}: -EBADMSG from each. */
static int
both_refuse(const struct store_ref *ref, const uint8_t *blob, size_t blen,
    uint8_t *scratch, uint8_t *out, size_t n)
{
	uint8_t codec;
	size_t olen;

	return blob_open(ref, blob, blen, scratch, out, n, &olen) ==
	    -EBADMSG && open_in_parts(ref, blob, blen, scratch, &codec) ==
	    -EBADMSG;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* The sample test skips compressing what its first bytes say will not
 * compress, and only that. */
static void
test_sample(void)
{
	size_t n = 1u << 20;
	uint8_t *data = malloc(n);
	uint8_t *scratch = malloc(n);

	if (!data || !scratch)
		abort();
	fixture_rnd(&rng_state, data, n);
	CHECK(codec_is_worth_trying(data, n, scratch, n) == 0);
	/* Small chunks and small scratch space are always tried. */
	CHECK(codec_is_worth_trying(data, CODEC_SAMPLE_MIN - 1, scratch,
	    n) == 1);
	CHECK(codec_is_worth_trying(data, n, scratch, CODEC_SAMPLE - 1) == 1);
	text(data, n);
	CHECK(codec_is_worth_trying(data, n, scratch, n) == 1);
	/* Text after a random sample is stored raw: the price of the test
	 * (tests/bench/zstd_levels.sh found none on the bench tree). */
	fixture_rnd(&rng_state, data, CODEC_SAMPLE);
	CHECK(codec_is_worth_trying(data, n, scratch, n) == 0);
	/* Text after a compressible sample is tried. */
	text(data, n);
	fixture_rnd(&rng_state, data + CODEC_SAMPLE, n - CODEC_SAMPLE);
	CHECK(codec_is_worth_trying(data, n, scratch, n) == 1);
	free(data);
	free(scratch);
}

static void
test_blob(void)
{
	static const size_t sizes[] = { 0, 1, 63, 64, 1000, 65536, 1u << 20 };
	size_t max = 1u << 20;
	uint8_t *data = malloc(max);
	uint8_t *blob = malloc(max + BLOB_OVERHEAD);
	uint8_t *copy = malloc(max + BLOB_OVERHEAD);
	uint8_t *scratch = malloc(max + BLOB_OVERHEAD);
	uint8_t *out = malloc(max);
	struct store_ref ref;
	struct store_ref other;
	uint8_t codec;

	if (!data || !blob || !copy || !scratch || !out)
		abort();
	fixture_rnd(&rng_state, ref.id, 32);
	fixture_rnd(&rng_state, ref.key, 32);
	for (int kind = 0; kind < 2; kind++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t n = sizes[s];
			size_t blen = 0;
			size_t olen = 0;

			if (kind == 0)
				text(data, n);
			else
				fixture_rnd(&rng_state, data, n);
			CHECK(blob_seal(&ref, data, n, blob,
			    n + BLOB_OVERHEAD, &blen) == 0);
			CHECK(blen <= n + BLOB_OVERHEAD);
			if (kind == 1 || n < 64)
				CHECK(blen == n + BLOB_OVERHEAD);
			if (kind == 0 && n >= 1000)
				CHECK(blen < n / 4);
			memset(out, 0, max);
			CHECK(blob_open(&ref, blob, blen, scratch, out, n,
			    &olen) == 0);
			CHECK(olen == n && memcmp(out, data, n) == 0);
			/* Read in parts and opened in place, as a local
			 * store's reader does. */
			codec = 0xff;
			CHECK(open_in_parts(&ref, blob, blen, scratch,
			    &codec) == 0);
			if (kind == 1 || n < 64)
				CHECK(codec == CODEC_RAW);
			if (kind == 0 && n >= 1000)
				CHECK(codec == CODEC_ZSTD);
			if (codec == CODEC_RAW)
				CHECK(blen == n + BLOB_OVERHEAD &&
				    memcmp(scratch, data, n) == 0);
			else
				CHECK(codec == CODEC_ZSTD &&
				    blen < n + BLOB_OVERHEAD);

			/* One flipped byte: nonce, body, tag; in parts, the
			 * body is wiped too. */
			for (size_t i = 0; i < blen; i += blen > 200 ?
			    blen / 97 + 1 : 1) {
				memcpy(copy, blob, blen);
				copy[i] ^= 0x40;
				CHECK(both_refuse(&ref, copy, blen, scratch,
				    out, n));
				CHECK(all_zero(scratch, blen - BLOB_OVERHEAD));
			}
			memcpy(copy, blob, blen);
			copy[blen - 1] ^= 1;
			CHECK(blob_open(&ref, copy, blen, scratch, out, n,
			    &olen) == -EBADMSG);
			/* Another chunk's id as AAD, or another key. */
			other = ref;
			other.id[7] ^= 1;
			CHECK(both_refuse(&other, blob, blen, scratch, out,
			    n));
			other = ref;
			other.key[0] ^= 1;
			CHECK(both_refuse(&other, blob, blen, scratch, out,
			    n));
			/* Truncated or extended. */
			CHECK(blob_open(&ref, blob, blen - 1, scratch, out, n,
			    &olen) == -EBADMSG);
			CHECK(blob_open(&ref, blob, BLOB_OVERHEAD - 1, scratch,
			    out, n, &olen) == -EBADMSG);
			/* Too small an output: -ERANGE (pack.h). */
			if (n > 0) {
				int r = blob_open(&ref, blob, blen, scratch,
				    out, n - 1, &olen);

				if (r != -ERANGE)
					fprintf(stderr, "blob_open of %zu "
					    "%s bytes into %zu: %d, not "
					    "-ERANGE\n", n, kind ? "random" :
					    "text", n - 1, r);
				CHECK(r == -ERANGE);
			}
		}
	}
	/* Sealing into too small a buffer. */
	{
		size_t blen;

		text(data, 100);
		CHECK(blob_seal(&ref, data, 100, blob, 100 + BLOB_OVERHEAD - 1,
		    &blen) == -ERANGE);
	}
	/* Two seals of one chunk differ (random nonce), both open. */
	{
		size_t l1, l2, olen;

		fixture_rnd(&rng_state, data, 500);
		CHECK(blob_seal(&ref, data, 500, blob, 600, &l1) == 0);
		CHECK(blob_seal(&ref, data, 500, copy, 600, &l2) == 0);
		CHECK(l1 == l2 && memcmp(blob, copy, l1) != 0);
		CHECK(blob_open(&ref, copy, l2, scratch, out, 500, &olen) == 0);
		CHECK(olen == 500 && memcmp(out, data, 500) == 0);
	}
	free(data);
	free(blob);
	free(copy);
	free(scratch);
	free(out);
}

/* Build a pack as the writer does: head, blobs, sealed table, tail. */
static void
build_pack(const uint8_t key[32], struct store_ref *refs, uint8_t **data,
    size_t *lens, size_t n, struct wb *pack, struct pack_entry *e)
{
	uint8_t bound[32];
	uint8_t *toc;
	size_t toc_len;

	CHECK(wb_bytes(pack, PACK_MAGIC, PACK_HEAD_LEN) == 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t *blob = malloc(lens[i] + BLOB_OVERHEAD);
		size_t blen;

		if (blob == NULL)
			abort();
		CHECK(blob_seal(&refs[i], data[i], lens[i], blob,
		    lens[i] + BLOB_OVERHEAD, &blen) == 0);
		memcpy(e[i].id, refs[i].id, 32);
		e[i].off = pack->len;
		e[i].len = (uint32_t)blen;
		e[i].raw_len = (uint32_t)lens[i];
		CHECK(wb_bytes(pack, blob, blen) == 0);
		free(blob);
	}
	crypt_sha256(pack->p, pack->len, bound);
	CHECK(pack_toc_seal(key, 2, bound, e, n, &toc, &toc_len) == 0);
	CHECK(toc_len == CRYPT_NONCE_LEN + 4 + 32 + n * PACK_TOC_ENTRY_LEN +
	    CRYPT_TAG_LEN);
	CHECK(wb_bytes(pack, toc, toc_len) == 0);
	CHECK(wb_u32(pack, toc_len) == 0);
	CHECK(wb_bytes(pack, PACK_END, 8) == 0);
	free(toc);
}

static void
test_pack_roundtrip(void)
{
	enum { N = 5 };
	uint8_t key[32];
	struct store_ref refs[N];
	uint8_t *data[N];
	size_t lens[N] = { 1, 100, 5000, 70000, 300000 };
	struct pack_entry e[N];
	struct pack_entry *got = NULL;
	struct wb pack = { 0 };
	uint8_t bound[32];
	uint8_t want[32];
	uint32_t toc_len;
	int version = 0;
	size_t n = 0;

	fixture_rnd(&rng_state, key, 32);
	for (size_t i = 0; i < N; i++) {
		fixture_rnd(&rng_state, refs[i].id, 32);
		fixture_rnd(&rng_state, refs[i].key, 32);
		if ((data[i] = malloc(lens[i])) == NULL)
			abort();
		if (i % 2)
			text(data[i], lens[i]);
		else
			fixture_rnd(&rng_state, data[i], lens[i]);
	}
	build_pack(key, refs, data, lens, N, &pack, e);
	CHECK(memcmp(pack.p, PACK_MAGIC, 8) == 0);
	CHECK(pack_tail_parse(pack.p + pack.len - PACK_TAIL_LEN, pack.len,
	    &toc_len, &version) == 0);
	CHECK(version == 2);
	CHECK(toc_len == CRYPT_NONCE_LEN + 4 + 32 + N * PACK_TOC_ENTRY_LEN +
	    CRYPT_TAG_LEN);
	CHECK(pack_toc_open(key, 2, pack.p + pack.len - PACK_TAIL_LEN -
	    toc_len, toc_len, pack.len, &got, &n, bound) == 0);
	CHECK(n == N);
	/* The table binds the bytes before it. */
	crypt_sha256(pack.p, pack.len - PACK_TAIL_LEN - toc_len, want);
	CHECK(memcmp(bound, want, 32) == 0);
	/* Opened as format 1 (another AAD), it fails. */
	CHECK(pack_toc_open(key, 1, pack.p + pack.len - PACK_TAIL_LEN -
	    toc_len, toc_len, pack.len, &got, &n, NULL) == -EBADMSG);
	for (size_t i = 0; got != NULL && i < n && i < N; i++) {
		uint8_t *scratch = malloc(got[i].len);
		uint8_t *out = malloc(got[i].raw_len);
		size_t olen = 0;

		if (scratch == NULL || out == NULL)
			abort();
		CHECK(memcmp(got[i].id, e[i].id, 32) == 0);
		CHECK(got[i].off == e[i].off && got[i].len == e[i].len &&
		    got[i].raw_len == e[i].raw_len);
		CHECK(blob_open(&refs[i], pack.p + got[i].off, got[i].len,
		    scratch, out, got[i].raw_len, &olen) == 0);
		CHECK(olen == lens[i] && memcmp(out, data[i], olen) == 0);
		/* A chunk id swapped for its neighbour's fails. */
		CHECK(blob_open(&refs[(i + 1) % N], pack.p + got[i].off,
		    got[i].len, scratch, out, got[i].raw_len, &olen) ==
		    -EBADMSG);
		free(scratch);
		free(out);
	}
	free(got);
	got = NULL;

	/* Every byte of the sealed table is authenticated. */
	{
		uint8_t *toc = pack.p + pack.len - PACK_TAIL_LEN - toc_len;

		for (size_t i = 0; i < toc_len; i++) {
			toc[i] ^= 0x08;
			CHECK(pack_toc_open(key, 2, toc, toc_len, pack.len,
			    &got, &n, NULL) == -EBADMSG);
			toc[i] ^= 0x08;
		}
		/* Truncated at either end, or under another key. */
		CHECK(pack_toc_open(key, 2, toc, toc_len - 1, pack.len,
		    &got, &n, NULL) == -EBADMSG);
		CHECK(pack_toc_open(key, 2, toc + 1, toc_len - 1, pack.len,
		    &got, &n, NULL) == -EBADMSG);
		key[3] ^= 1;
		CHECK(pack_toc_open(key, 2, toc, toc_len, pack.len, &got,
		    &n, NULL) == -EBADMSG);
		key[3] ^= 1;
		/* The pack size it is checked against matters: a table
		 * whose entries would pass the end of a shorter pack. */
		CHECK(pack_toc_open(key, 2, toc, toc_len, pack.len - 1,
		    &got, &n, NULL) == -EBADMSG);
		CHECK(pack_toc_open(key, 2, toc, toc_len, toc_len + 19,
		    &got, &n, NULL) == -EBADMSG);
		CHECK(pack_toc_open(key, 2, toc, toc_len, pack.len, &got,
		    &n, NULL) == 0);
		free(got);
		got = NULL;
	}
	for (size_t i = 0; i < N; i++)
		free(data[i]);
	wb_fini(&pack);
}

/* Seal a table of one entry and open it against a pack of ${size}. */
static int
one_entry(const uint8_t key[32], uint64_t off, uint32_t len,
    uint32_t raw_len, uint64_t size)
{
	struct pack_entry e = { { 0 }, off, len, raw_len };
	struct pack_entry *got = NULL;
	uint8_t *toc = NULL;
	size_t toc_len;
	size_t n;
	int r;

	memset(e.id, 0x11, 32);
	if (pack_toc_seal(key, 1, NULL, &e, 1, &toc, &toc_len) < 0)
		abort();
	r = pack_toc_open(key, 1, toc, toc_len, size, &got, &n, NULL);
	if (r == 0 && (n != 1 || got[0].off != off || got[0].len != len))
		r = -EINVAL;
	free(got);
	free(toc);
	return r;
}

static void
test_toc_bounds(void)
{
	uint8_t key[32];
	/* A table of one entry is 12 + 4 + 48 + 16 = 80 bytes. */
	uint64_t size = 8 + 1000 + 80 + 12;
	uint64_t blob_end = 8 + 1000;
	struct pack_entry *got = NULL;
	uint8_t *toc = NULL;
	size_t toc_len;
	size_t n = 99;

	fixture_rnd(&rng_state, key, 32);
	CHECK(one_entry(key, 8, 1000, 10, size) == 0);
	CHECK(one_entry(key, 8, BLOB_OVERHEAD, 0, size) == 0);
	CHECK(one_entry(key, blob_end - BLOB_OVERHEAD, BLOB_OVERHEAD, 0,
	    size) == 0);
	/* Outside the blob area: in the head, the table, past the end. */
	CHECK(one_entry(key, 0, 100, 10, size) == -EBADMSG);
	CHECK(one_entry(key, 7, 100, 10, size) == -EBADMSG);
	CHECK(one_entry(key, 8, 1001, 10, size) == -EBADMSG);
	CHECK(one_entry(key, blob_end - 40, 41, 10, size) == -EBADMSG);
	CHECK(one_entry(key, blob_end, BLOB_OVERHEAD, 0, size) == -EBADMSG);
	CHECK(one_entry(key, UINT64_MAX - 10, 100, 10, size) == -EBADMSG);
	CHECK(one_entry(key, 8, UINT32_MAX, 10, size) == -EBADMSG);
	/* Shorter than any blob, or a plaintext larger than allowed. */
	CHECK(one_entry(key, 8, BLOB_OVERHEAD - 1, 0, size) == -EBADMSG);
	CHECK(one_entry(key, 8, 100, STORE_TREE_MAX, size) == 0);
	CHECK(one_entry(key, 8, 100, STORE_TREE_MAX + 1, size) == -EBADMSG);

	/* An empty table opens to zero entries. */
	CHECK(pack_toc_seal(key, 1, NULL, NULL, 0, &toc, &toc_len) == 0);
	CHECK(toc_len == 32);
	CHECK(pack_toc_open(key, 1, toc, toc_len, 8 + toc_len + 12, &got,
	    &n, NULL) == 0);
	CHECK(n == 0);
	/* Format 1 tables open only as format 1. */
	CHECK(pack_toc_open(key, 2, toc, toc_len, 8 + toc_len + 12, &got,
	    &n, NULL) == -EBADMSG);
	free(got);
	got = NULL;
	free(toc);
	memset(key + 8, 0, 24);
	CHECK(pack_toc_seal(key, 2, key, NULL, 0, &toc, &toc_len) == 0);
	CHECK(toc_len == 64);
	CHECK(pack_toc_open(key, 2, toc, toc_len, 8 + toc_len + 12, &got,
	    &n, key + 32 - 32) == 0);
	CHECK(n == 0);
	free(got);
	free(toc);

	/* A writer seals at most PACK_ENTRIES_MAX entries, which fit in
	 * PACK_TOC_MAX bytes; one more is refused, never sealed. */
	{
		struct pack_entry *many = calloc(PACK_ENTRIES_MAX + 1,
		    sizeof(*many));

		CHECK(many != NULL);
		for (size_t i = 0; many && i <= PACK_ENTRIES_MAX; i++) {
			le_put(many[i].id, i, 8);
			many[i].off = 8 + 64 * (uint64_t)i;
			many[i].len = 64;
			many[i].raw_len = 10;
		}
		toc = NULL;
		CHECK(many && pack_toc_seal(key, 2, key, many,
		    PACK_ENTRIES_MAX, &toc, &toc_len) == 0);
		CHECK(toc_len <= PACK_TOC_MAX);
		free(toc);
		toc = NULL;
		CHECK(many && pack_toc_seal(key, 2, key, many,
		    PACK_ENTRIES_MAX + 1, &toc, &toc_len) == -E2BIG);
		CHECK(toc == NULL);
		free(many);
	}
}

static void
test_tail(void)
{
	uint8_t tail[PACK_TAIL_LEN];
	uint32_t n = 0;
	int v = 0;

	le_put(tail, 80, 4);
	memcpy(tail + 4, PACK_END, 8);
	CHECK(pack_tail_parse(tail, 100, &n, &v) == 0 && n == 80);
	CHECK(pack_tail_parse(tail, 8 + 80 + 12, &n, &v) == 0);
	CHECK(pack_tail_parse(tail, 8 + 80 + 11, &n, &v) == -EBADMSG);
	CHECK(pack_tail_parse(tail, 0, &n, &v) == -EBADMSG);
	CHECK(v == 2);
	/* The smallest table: 12 + 4 + 32 + 16 bytes (format 1: 32). */
	le_put(tail, 63, 4);
	CHECK(pack_tail_parse(tail, 1000, &n, &v) == -EBADMSG);
	le_put(tail, 64, 4);
	CHECK(pack_tail_parse(tail, 1000, &n, &v) == 0 && n == 64);
	memcpy(tail + 4, PACK_END_V1, 8);
	le_put(tail, 31, 4);
	CHECK(pack_tail_parse(tail, 1000, &n, &v) == -EBADMSG);
	le_put(tail, 32, 4);
	CHECK(pack_tail_parse(tail, 1000, &n, &v) == 0 && n == 32 && v == 1);
	memcpy(tail + 4, PACK_END, 8);
	/* Readers take tables larger than writers seal (packs sealed
	 * before writers capped their entries). */
	le_put(tail, PACK_TOC_READ_MAX + 1, 4);
	CHECK(pack_tail_parse(tail, PACK_MAX, &n, &v) == -EBADMSG);
	le_put(tail, PACK_TOC_READ_MAX, 4);
	CHECK(pack_tail_parse(tail, PACK_MAX, &n, &v) == 0);
	le_put(tail, PACK_TOC_MAX + 1, 4);
	CHECK(pack_tail_parse(tail, PACK_MAX, &n, &v) == 0);
	le_put(tail, UINT32_MAX, 4);
	CHECK(pack_tail_parse(tail, UINT64_MAX, &n, &v) == -EBADMSG);
	le_put(tail, 80, 4);
	tail[11] ^= 1;
	CHECK(pack_tail_parse(tail, 1000, &n, &v) == -EBADMSG);
}

static void
test_names(void)
{
	/* One character changed: upper case, wrong directory, not hex,
	 * no '/' after the directory. */
	static const struct {
		size_t at;
		char c;
	} changed[] = { { 20, 'A' }, { 7, 'c' }, { 40, 'g' }, { 8, 'x' } };
	uint8_t h[32], back[32];
	char name[80];
	char bad[96];

	for (int k = 0; k < 20; k++) {
		fixture_rnd(&rng_state, h, 32);
		pack_name(h, name);
		CHECK(strlen(name) == 6 + 3 + 64);
		CHECK(strncmp(name, "packs/", 6) == 0 && name[8] == '/');
		CHECK(memcmp(name + 6, name + 9, 2) == 0);
		memset(back, 0, 32);
		CHECK(pack_name_parse(name, back) == 0);
		CHECK(memcmp(back, h, 32) == 0);
	}
	memset(h, 0xab, 32);
	h[31] = 0x01;
	pack_name(h, name);
	snprintf(bad, sizeof(bad), "packs/ab/");
	for (int i = 0; i < 31; i++)
		strcat(bad, "ab");
	strcat(bad, "01");
	CHECK(strcmp(name, bad) == 0);
	for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		snprintf(bad, sizeof(bad), "%s", name);
		bad[changed[i].at] = changed[i].c;
		CHECK(pack_name_parse(bad, back) == -EINVAL);
	}
	/* Short, long, no prefix. */
	snprintf(bad, sizeof(bad), "%s", name);
	bad[strlen(bad) - 1] = '\0';
	CHECK(pack_name_parse(bad, back) == -EINVAL);
	snprintf(bad, sizeof(bad), "%s0", name);
	CHECK(pack_name_parse(bad, back) == -EINVAL);
	snprintf(bad, sizeof(bad), "%s", name);
	memcpy(bad, "pucks", 5);
	CHECK(pack_name_parse(bad, back) == -EINVAL);
	CHECK(pack_name_parse("packs/", back) == -EINVAL);
	CHECK(pack_name_parse("", back) == -EINVAL);
	snprintf(bad, sizeof(bad), "%s", name);
	memcpy(bad, "PACKS", 5);
	CHECK(pack_name_parse(bad, back) == -EINVAL);
}

int
main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261127;
	int r;

	rng_state = seed;
	test_blob();
	test_sample();
	test_pack_roundtrip();
	test_toc_bounds();
	test_tail();
	test_names();
	if ((r = check_done("test_pack")) != 0)
		fprintf(stderr, "test_pack: seed %llu\n",
		    (unsigned long long)seed);
	return r;
}
