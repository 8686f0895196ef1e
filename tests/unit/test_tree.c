/*
 * test_tree.c: the tree encoding (tree.h).  Every entry type survives
 * encode/decode field by field; the decoder rejects what could make a
 * restore write outside its target or loop (unsorted, duplicate, empty,
 * ".", "..", '/'- or NUL-holding names), overlapping or out-of-file
 * extents, bad fields and trailing or missing bytes; raw-byte names
 * (newlines, invalid UTF-8, 255 bytes) are accepted as they are.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "tree.h"

static struct store_extent ext3[3];

static void
fill_ref(struct store_ref *r, uint8_t v)
{
	memset(r->id, v, 32);
	memset(r->key, (uint8_t)(v ^ 0xff), 32);
	r->id[31] = 0x5a;
}

static struct store_entry
mk(const char *name, uint8_t type)
{
	struct store_entry e;

	store_entry_init(&e, name, type, 0644);
	e.uid = 1000;
	e.gid = 100;
	e.mtime_sec = 1764201600;
	e.mtime_nsec = 123456789;
	return e;
}

/* Encode ${n} entries as they are (no checks) into a malloc'd buffer. */
static uint8_t *
enc(const struct store_entry *e, size_t n, size_t *len)
{
	struct wb w = { 0 };

	if (tree_encode(e, n, &w) < 0)
		abort();
	*len = w.len;
	return w.p;
}

/* Decode a copy of ${buf}; returns tree_decode's result. */
static int
dec(const uint8_t *buf, size_t len, struct store_tree **t)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	*t = NULL;
	return tree_decode(copy, len, t);
}

/* Encode then decode; returns tree_decode's result. */
static int
roundtrip(const struct store_entry *e, size_t n)
{
	struct store_tree *t = NULL;
	size_t len;
	uint8_t *buf = enc(e, n, &len);
	int r = dec(buf, len, &t);

	store_tree_free(t);
	free(buf);
	return r;
}

static int
entry_eq(const struct store_entry *a, const struct store_entry *b)
{
	if (a->name_len != b->name_len ||
	    memcmp(a->name, b->name, a->name_len) != 0 || a->type != b->type ||
	    a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec ||
	    a->size != b->size || a->link != b->link || a->flags != b->flags)
		return 0;
	switch (a->type) {
	case STORE_DIR:
		return memcmp(&a->tree, &b->tree, sizeof(a->tree)) == 0 &&
		    a->n_desc == b->n_desc;
	case STORE_REG:
		if (a->n_extents != b->n_extents)
			return 0;
		for (size_t i = 0; i < a->n_extents; i++)
			if (a->extents[i].off != b->extents[i].off ||
			    a->extents[i].len != b->extents[i].len ||
			    memcmp(&a->extents[i].ref, &b->extents[i].ref,
			    sizeof(a->extents[i].ref)) != 0)
				return 0;
		return 1;
	case STORE_LNK:
		return a->target_len == b->target_len &&
		    memcmp(a->target, b->target, a->target_len) == 0;
	case STORE_CHR:
	case STORE_BLK:
		return a->rdev == b->rdev;
	default:
		return 1;
	}
}

/* One entry of each type, sorted by name, with odd values. */
static size_t
all_types(struct store_entry *e)
{
	size_t n = 0;

	e[n] = mk("blk", STORE_BLK);
	e[n].rdev = UINT64_C(0x0000000800000001);
	n++;
	e[n] = mk("chr", STORE_CHR);
	e[n].rdev = 0x103;
	e[n].mode = 07777;
	n++;
	e[n] = mk("dir", STORE_DIR);
	fill_ref(&e[n].tree, 0x33);
	e[n].n_desc = 12345;
	e[n].mode = 0755;
	n++;
	e[n] = mk("empty", STORE_REG);
	e[n].size = 0;
	n++;
	e[n] = mk("fifo", STORE_FIFO);
	e[n].mtime_sec = -86400 * 365;	/* before the epoch */
	e[n].mtime_nsec = 999999999;
	n++;
	e[n] = mk("link", STORE_LNK);
	e[n].target = (const uint8_t *)"../../etc/passwd\n\xff";
	e[n].target_len = 18;
	e[n].size = 18;
	n++;
	e[n] = mk("reg", STORE_REG);
	/* Two extents with a hole between them and after them. */
	ext3[0].off = 0;
	ext3[0].len = 4096;
	fill_ref(&ext3[0].ref, 1);
	ext3[1].off = 1u << 20;
	ext3[1].len = STORE_CHUNK_MAX;
	fill_ref(&ext3[1].ref, 2);
	e[n].size = (1u << 20) + STORE_CHUNK_MAX + 12345;
	e[n].extents = ext3;
	e[n].n_extents = 2;
	e[n].link = 7;
	e[n].flags = STORE_ENTRY_PARTIAL;
	e[n].uid = UINT32_MAX;
	e[n].gid = UINT32_MAX;
	n++;
	e[n] = mk("sock", STORE_SOCK);
	e[n].mtime_sec = INT64_MAX;
	n++;
	return n;
}

static void
test_roundtrip(void)
{
	struct store_entry e[8];
	struct store_tree *t = NULL;
	size_t n = all_types(e);
	size_t len;
	uint8_t *buf = enc(e, n, &len);
	struct wb again = { 0 };

	CHECK(dec(buf, len, &t) == 0);
	CHECK(t != NULL && store_tree_len(t) == n);
	for (size_t i = 0; t != NULL && i < n; i++) {
		const struct store_entry *d = store_tree_entry(t, i);

		CHECK(d != NULL && entry_eq(d, &e[i]));
		if (d == NULL || !entry_eq(d, &e[i]))
			fprintf(stderr, "entry %zu (%s) differs\n", i,
			    (const char *)e[i].name);
	}
	if (t != NULL) {
		size_t idx = 99;

		CHECK(store_tree_entry(t, n) == NULL);
		CHECK(store_tree_find(t, (const uint8_t *)"link", 4,
		    &idx) == 0 && idx == 5);
		CHECK(store_tree_find(t, (const uint8_t *)"blk", 3,
		    &idx) == 0 && idx == 0);
		CHECK(store_tree_find(t, (const uint8_t *)"sock", 4,
		    &idx) == 0 && idx == 7);
		CHECK(store_tree_find(t, (const uint8_t *)"lin", 3,
		    &idx) == -ENOENT);
		CHECK(store_tree_find(t, (const uint8_t *)"zzz", 3,
		    &idx) == -ENOENT);
		/* Re-encoding what was decoded gives the same bytes. */
		CHECK(tree_encode(t->e, t->n, &again) == 0);
		CHECK(again.len == len && memcmp(again.p, buf, len) == 0);
	}
	wb_fini(&again);
	store_tree_free(t);

	/* Every strict prefix of the encoding is rejected. */
	for (size_t k = 0; k < len; k++) {
		CHECK(dec(buf, k, &t) == -EBADMSG);
		store_tree_free(t);
	}
	free(buf);

	/* The empty tree. */
	buf = enc(NULL, 0, &len);
	CHECK(len == 8);
	CHECK(dec(buf, len, &t) == 0 && t != NULL && store_tree_len(t) == 0);
	store_tree_free(t);
	free(buf);
}

static void
test_names(void)
{
	uint8_t long_name[256];
	struct store_entry e[4];
	struct store_tree *t = NULL;
	size_t len;
	uint8_t *buf;

	/* Accepted: newline, invalid UTF-8, 255 bytes, dots that are
	 * not "." or "..", a backslash, a leading space. */
	memset(long_name, 'x', sizeof(long_name));
	e[0] = mk("", STORE_FIFO);
	e[0].name = long_name;
	e[0].name_len = 255;
	CHECK(roundtrip(e, 1) == 0);
	e[0].name_len = 256;
	CHECK(roundtrip(e, 1) == -EBADMSG);
	{
		static const char *ok[] = { "a\nb", "\xff\xfe\x80", "...",
			".a", "..b", "a\\b", " ", "\n", "\x01", "\xc0\xaf" };

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			e[0] = mk(ok[i], STORE_FIFO);
			CHECK(roundtrip(e, 1) == 0);
			CHECK(tree_name_ok(e[0].name, e[0].name_len) == 1);
		}
	}
	/* Rejected: empty, ".", "..", '/' anywhere, NUL anywhere. */
	{
		static const struct {
			const char *s;
			size_t n;
		} bad[] = { { "", 0 }, { ".", 1 }, { "..", 2 }, { "/", 1 },
			{ "a/b", 3 }, { "../x", 4 }, { "a/", 2 }, { "\0", 1 },
			{ "a\0b", 3 }, { "ab\0", 3 } };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			e[0] = mk("x", STORE_FIFO);
			e[0].name = (const uint8_t *)bad[i].s;
			e[0].name_len = bad[i].n;
			CHECK(tree_name_ok(e[0].name, e[0].name_len) == 0);
			CHECK(roundtrip(e, 1) == -EBADMSG);
			/* Also when it is not the first entry. */
			e[1] = e[0];
			e[0] = mk("\x01", STORE_FIFO);
			CHECK(roundtrip(e, 2) == -EBADMSG);
		}
	}
	/* Sorted: memcmp order, unsigned bytes, shorter first. */
	e[0] = mk("a", STORE_FIFO);
	e[1] = mk("ab", STORE_FIFO);
	e[2] = mk("b", STORE_FIFO);
	e[3] = mk("\x80", STORE_FIFO);
	CHECK(roundtrip(e, 4) == 0);
	CHECK(tree_name_cmp((const uint8_t *)"a", 1, (const uint8_t *)"ab",
	    2) < 0);
	CHECK(tree_name_cmp((const uint8_t *)"ab", 2, (const uint8_t *)"a",
	    1) > 0);
	CHECK(tree_name_cmp((const uint8_t *)"\x7f", 1,
	    (const uint8_t *)"\x80", 1) < 0);
	CHECK(tree_name_cmp((const uint8_t *)"ab", 2, (const uint8_t *)"ab",
	    2) == 0);
	/* Unsorted, in each position, and duplicates. */
	e[0] = mk("ab", STORE_FIFO);
	e[1] = mk("a", STORE_FIFO);
	CHECK(roundtrip(e, 2) == -EBADMSG);
	e[0] = mk("a", STORE_FIFO);
	e[1] = mk("c", STORE_FIFO);
	e[2] = mk("b", STORE_FIFO);
	CHECK(roundtrip(e, 3) == -EBADMSG);
	e[0] = mk("\x80", STORE_FIFO);
	e[1] = mk("a", STORE_FIFO);
	CHECK(roundtrip(e, 2) == -EBADMSG);
	e[0] = mk("a", STORE_FIFO);
	e[1] = mk("a", STORE_DIR);
	CHECK(roundtrip(e, 2) == -EBADMSG);
	e[0] = mk("a", STORE_FIFO);
	e[1] = mk("b", STORE_FIFO);
	e[2] = mk("b", STORE_FIFO);
	CHECK(roundtrip(e, 3) == -EBADMSG);

	/* A decoded name is the raw bytes, found by binary search. */
	e[0] = mk("a\nb", STORE_FIFO);
	e[1] = mk("\xff\xfe", STORE_FIFO);
	buf = enc(e, 2, &len);
	CHECK(dec(buf, len, &t) == 0);
	if (t != NULL) {
		size_t idx;

		CHECK(store_tree_find(t, (const uint8_t *)"\xff\xfe", 2,
		    &idx) == 0 && idx == 1);
		CHECK(t->e[0].name_len == 3 &&
		    memcmp(t->e[0].name, "a\nb", 3) == 0);
	}
	store_tree_free(t);
	free(buf);
}

static void
test_extents(void)
{
	struct store_extent x[3];
	struct store_entry e = mk("f", STORE_REG);

	memset(x, 0, sizeof(x));
	for (int i = 0; i < 3; i++)
		fill_ref(&x[i].ref, (uint8_t)(i + 1));
	e.extents = x;
	e.size = 30000;
	e.n_extents = 3;
	x[0].off = 0;
	x[0].len = 10000;
	x[1].off = 10000;
	x[1].len = 10000;
	x[2].off = 20000;
	x[2].len = 10000;
	CHECK(roundtrip(&e, 1) == 0);
	/* Overlapping by one byte. */
	x[1].off = 9999;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	/* Out of order. */
	x[1].off = 10000;
	x[0].off = 25000;
	x[0].len = 1000;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	x[0].off = 0;
	x[0].len = 10000;
	/* Past the file's size, by one byte or by wrapping around. */
	x[2].len = 10001;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	x[2].len = 10000;
	e.size = 29999;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	e.size = 30000;
	x[2].off = UINT64_MAX - 100;
	x[2].len = 200;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	x[2].off = 20000;
	x[2].len = 10000;
	/* Empty, or larger than a chunk may be. */
	x[1].len = 0;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	x[1].len = 10000;
	CHECK(roundtrip(&e, 1) == 0);
	e.size = (uint64_t)STORE_CHUNK_MAX * 4;
	x[2].len = STORE_CHUNK_MAX + 1;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	x[2].len = STORE_CHUNK_MAX;
	CHECK(roundtrip(&e, 1) == 0);
	/* A file of holes only. */
	e.n_extents = 0;
	CHECK(roundtrip(&e, 1) == 0);
}

/* Patch the encoded fields of a one-entry tree and expect rejection. */
static void
test_fields(void)
{
	struct store_entry e = mk("n", STORE_FIFO);
	struct store_tree *t = NULL;
	size_t len;
	uint8_t *buf;
	uint8_t *p;
	/* Offsets in a one-entry tree with a 1-byte name. */
	const size_t o_type = 8 + 2 + 1;
	const size_t o_mode = o_type + 1;
	const size_t o_nsec = o_mode + 12 + 8;

	e.mode = 07777;
	buf = enc(&e, 1, &len);
	CHECK(dec(buf, len, &t) == 0);
	store_tree_free(t);
	p = malloc(len + 1);
	if (p == NULL)
		abort();
	/* mode above 07777 */
	memcpy(p, buf, len);
	le_put(p + o_mode, 010000, 4);
	CHECK(dec(p, len, &t) == -EBADMSG);
	/* nanoseconds past a second */
	memcpy(p, buf, len);
	le_put(p + o_nsec, 1000000000, 4);
	CHECK(dec(p, len, &t) == -EBADMSG);
	/* unknown types */
	memcpy(p, buf, len);
	p[o_type] = 0;
	CHECK(dec(p, len, &t) == -EBADMSG);
	p[o_type] = 8;
	CHECK(dec(p, len, &t) == -EBADMSG);
	/* magic */
	memcpy(p, buf, len);
	p[0] = 'B';
	CHECK(dec(p, len, &t) == -EBADMSG);
	/* a count larger or smaller than the entries there */
	memcpy(p, buf, len);
	le_put(p + 4, 2, 4);
	CHECK(dec(p, len, &t) == -EBADMSG);
	le_put(p + 4, UINT32_MAX, 4);
	CHECK(dec(p, len, &t) == -EBADMSG);
	le_put(p + 4, 0, 4);
	CHECK(dec(p, len, &t) == -EBADMSG);
	/* a trailing byte */
	memcpy(p, buf, len);
	p[len] = 0;
	CHECK(dec(p, len + 1, &t) == -EBADMSG);
	free(p);
	free(buf);

	/* Symlinks: empty target, NUL in it, size not its length. */
	e = mk("l", STORE_LNK);
	e.target = (const uint8_t *)"a\0b";
	e.target_len = 3;
	e.size = 3;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	e.target = (const uint8_t *)"";
	e.target_len = 0;
	e.size = 0;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	e.target = (const uint8_t *)"abc";
	e.target_len = 3;
	e.size = 4;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	e.size = 3;
	CHECK(roundtrip(&e, 1) == 0);
	{
		static uint8_t target[STORE_TARGET_MAX + 1];

		memset(target, 'a', sizeof(target));
		e.target = target;
		e.target_len = e.size = STORE_TARGET_MAX;
		CHECK(roundtrip(&e, 1) == 0);
		e.target_len = e.size = STORE_TARGET_MAX + 1;
		CHECK(roundtrip(&e, 1) == -EBADMSG);
	}
	/* Directories: an absurd descendant count. */
	e = mk("d", STORE_DIR);
	e.n_desc = (UINT64_C(1) << 40) + 1;
	CHECK(roundtrip(&e, 1) == -EBADMSG);
	e.n_desc = UINT64_C(1) << 40;
	CHECK(roundtrip(&e, 1) == 0);
}

/*
 * STORE_ENTRY_MTIME_INHERIT: flagged entries of every type, with zero
 * mtime fields, round-trip and take their directory's time through
 * store_entry_mtime(); a flagged entry with a time of its own is refused
 * by the encoder and rejected by the decoder.
 */
static void
test_inherit(void)
{
	struct store_entry e[8];
	struct store_tree *t = NULL;
	struct wb w = { 0 };
	size_t n = all_types(e);
	size_t len;
	uint8_t *buf;
	uint8_t *p;
	/* Offsets in a one-entry tree with a 1-byte name. */
	const size_t o_sec = 8 + 2 + 1 + 1 + 12;
	const size_t o_nsec = o_sec + 8;

	for (size_t i = 0; i < n; i += 2) {
		e[i].flags |= STORE_ENTRY_MTIME_INHERIT;
		e[i].mtime_sec = 0;
		e[i].mtime_nsec = 0;
	}
	buf = enc(e, n, &len);
	CHECK(dec(buf, len, &t) == 0);
	for (size_t i = 0; t != NULL && i < n; i++) {
		const struct store_entry *d = store_tree_entry(t, i);
		int64_t sec = -1;
		uint32_t nsec = 1;

		CHECK(d != NULL && entry_eq(d, &e[i]));
		if (d == NULL)
			continue;
		store_entry_mtime(d, 1700000000, 42, &sec, &nsec);
		if (i % 2 == 0)
			CHECK(sec == 1700000000 && nsec == 42);
		else
			CHECK(sec == e[i].mtime_sec &&
			    nsec == e[i].mtime_nsec);
	}
	/* The flag is kept beside the other flags (PARTIAL on "reg"). */
	CHECK(t != NULL && t->e[6].flags ==
	    (STORE_ENTRY_PARTIAL | STORE_ENTRY_MTIME_INHERIT));
	store_tree_free(t);
	free(buf);

	/* A flagged entry with its own time is not encoded. */
	e[0] = mk("n", STORE_FIFO);
	e[0].flags = STORE_ENTRY_MTIME_INHERIT;
	CHECK(tree_encode(e, 1, &w) == -EINVAL);
	wb_fini(&w);
	e[0].mtime_sec = 0;
	CHECK(tree_encode(e, 1, &w) == -EINVAL);
	wb_fini(&w);

	/* Nor decoded: a non-zero second or nanosecond field. */
	e[0].mtime_nsec = 0;
	buf = enc(e, 1, &len);
	CHECK(dec(buf, len, &t) == 0);
	store_tree_free(t);
	if ((p = malloc(len)) == NULL)
		abort();
	memcpy(p, buf, len);
	le_put(p + o_sec, 1, 8);
	CHECK(dec(p, len, &t) == -EBADMSG);
	memcpy(p, buf, len);
	le_put(p + o_sec, UINT64_MAX, 8);
	CHECK(dec(p, len, &t) == -EBADMSG);
	memcpy(p, buf, len);
	le_put(p + o_nsec, 1, 4);
	CHECK(dec(p, len, &t) == -EBADMSG);
	/* Without the flag, the same times are fine. */
	e[0].flags = 0;
	free(buf);
	buf = enc(e, 1, &len);
	memcpy(p, buf, len);
	le_put(p + o_sec, 1, 8);
	le_put(p + o_nsec, 1, 4);
	CHECK(dec(p, len, &t) == 0 && t != NULL &&
	    t->e[0].mtime_sec == 1 && t->e[0].mtime_nsec == 1);
	store_tree_free(t);
	free(p);
	free(buf);
}

int
main(void)
{
	test_roundtrip();
	test_names();
	test_extents();
	test_fields();
	test_inherit();
	return check_done("test_tree");
}
