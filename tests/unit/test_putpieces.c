/*
 * test_putpieces.c: objects written in pieces (backend.h, put_open), and
 * the writer's packs streamed through them on a local store
 * (store/packstream.c, store/packfill.c).
 *
 * The backend: pieces aligned (O_DIRECT) and not, in any order of the
 * two, make the object their concatenation, read-only; a commit onto an
 * existing key is -EEXIST and changes nothing; an abort, a bad key and a
 * failed commit leave nothing in tmp/; a whole put of a large aligned
 * buffer (the aligned head direct, the tail not) reads back the same.
 *
 * The writer: 40 MiB of incompressible chunks, cut into pieces and
 * packs, read back byte for byte; every object authenticates (verify
 * --read-data) and every pack is named by its hash; a writer freed
 * without a commit leaves no temporary file behind.  More chunks than
 * one batch of the index holds (PACKFILL_BATCH): every one indexed and
 * read back after the commit, by a new store with the same index.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check.h"
#include "fixture.h"
#include "backend.h"
#include "store.h"

#define PASS "pieces"
#define N_CHUNKS 40
#define CHUNK_LEN (1u << 20)

static char top[64];

/* Files in ${dir}/tmp other than prune.lock. */
static int
n_tmp(const char *dir)
{
	char path[256];
	char lock[300];
	struct stat st;
	int n;

	snprintf(path, sizeof(path), "%s/tmp", dir);
	snprintf(lock, sizeof(lock), "%s/prune.lock", path);
	if ((n = fixture_count(path)) < 0)
		return 0;	/* no tmp/ at all */
	return n - (stat(lock, &st) == 0);
}

/* Whether ${key} of ${be} holds exactly ${want} (${len} bytes). */
static int
holds(struct backend *be, const char *key, const uint8_t *want, size_t len)
{
	uint8_t *buf = NULL;
	size_t got = 0;
	int ok;

	if (be->ops->get(be, key, NULL, 0, UINT64_MAX, &buf, &got) < 0)
		return 0;
	ok = got == len && memcmp(buf, want, len) == 0;
	free(buf);
	return ok;
}

static void
test_backend(void)
{
	struct backend *be = NULL;
	struct backend_obj *o = NULL;
	uint64_t rng = 1;
	uint8_t *data = NULL;
	char dir[128];
	char path[256];
	struct stat st;
	/* aligned, aligned, unaligned, then aligned at an unaligned offset */
	static const size_t piece[] = { 1u << 20, 8192, 5000, 4096, 1 };
	size_t total = 0;

	snprintf(dir, sizeof(dir), "%s/store", top);
	CHECK(backend_create(dir, NULL, &be) == 0);
	if (be == NULL)
		return;
	CHECK(be->ops->put_open != NULL && be->ops->put_append != NULL &&
	    be->ops->put_commit != NULL && be->ops->put_abort != NULL);
	for (size_t i = 0; i < sizeof(piece) / sizeof(piece[0]); i++)
		total += piece[i];
	if (posix_memalign((void **)&data, 4096, total + (3u << 20)) != 0)
		abort();
	fixture_rnd(&rng, data, total + (3u << 20));

	CHECK(be->ops->put_open(be, &o) == 0);
	if (o != NULL) {
		size_t off = 0;

		for (size_t i = 0; i < sizeof(piece) / sizeof(piece[0]); i++) {
			CHECK(be->ops->put_append(o, data + off, piece[i]) == 0);
			off += piece[i];
		}
		CHECK(n_tmp(dir) == 1);
		CHECK(be->ops->put_commit(o, "packs/ab/one") == 0);
	}
	CHECK(holds(be, "packs/ab/one", data, total));
	snprintf(path, sizeof(path), "%s/packs/ab/one", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0444);
	CHECK(n_tmp(dir) == 0);

	/* Onto an existing key: -EEXIST, the object as it was. */
	o = NULL;
	CHECK(be->ops->put_open(be, &o) == 0);
	if (o != NULL) {
		CHECK(be->ops->put_append(o, data + 7, 100) == 0);
		CHECK(be->ops->put_commit(o, "packs/ab/one") == -EEXIST);
	}
	CHECK(holds(be, "packs/ab/one", data, total));
	CHECK(n_tmp(dir) == 0);

	/* Abandoned, and a key that is not one: nothing left, nothing made. */
	o = NULL;
	CHECK(be->ops->put_open(be, &o) == 0);
	if (o != NULL) {
		CHECK(be->ops->put_append(o, data, 4096) == 0);
		be->ops->put_abort(o);
	}
	o = NULL;
	CHECK(be->ops->put_open(be, &o) == 0);
	if (o != NULL)
		CHECK(be->ops->put_commit(o, "../outside") == -EINVAL);
	CHECK(n_tmp(dir) == 0);
	snprintf(path, sizeof(path), "%s/outside", top);
	CHECK(stat(path, &st) != 0);

	/* A whole put of 3 MiB + 123 from an aligned buffer. */
	CHECK(be->ops->put(be, "packs/cd/two", data, (3u << 20) + 123) == 0);
	CHECK(holds(be, "packs/cd/two", data, (3u << 20) + 123));
	CHECK(n_tmp(dir) == 0);
	free(data);
	backend_close(be);
}

static void
report(void *ctx, const struct store_problem *p)
{
	(void)p;
	(*(int *)ctx)++;
}

/* Write N_CHUNKS random chunks into ${s}; commit if ${is_commit}. */
static int
write_chunks(struct store *s, uint64_t seed, struct store_ref *refs,
    int is_commit)
{
	struct store_writer *w = NULL;
	uint8_t *buf = malloc(CHUNK_LEN);
	uint8_t id[32];
	int r;

	if (buf == NULL)
		return -ENOMEM;
	if ((r = store_writer_new(s, &w)) < 0)
		goto out;
	for (int i = 0; i < N_CHUNKS; i++) {
		fixture_rnd(&seed, buf, CHUNK_LEN);
		if ((r = store_writer_put(w, buf, CHUNK_LEN, &refs[i])) < 0)
			goto out;
	}
	if (is_commit)
		r = fixture_commit_empty(w, 1764201600, id);
out:
	store_writer_free(w);
	free(buf);
	return r;
}

static void
test_writer(void)
{
	static struct store_ref refs[N_CHUNKS];
	struct store *s = NULL;
	char dir[128];
	char idx[128];
	uint8_t *want = malloc(CHUNK_LEN);
	uint8_t *got = malloc(CHUNK_LEN);
	uint64_t seed = 42;
	uint64_t n_problems = 0;
	int n_reported = 0;
	int n_packs;

	if (want == NULL || got == NULL)
		abort();
	snprintf(dir, sizeof(dir), "%s/w", top);
	snprintf(idx, sizeof(idx), "%s/w-index", top);
	CHECK(fixture_create_open(dir, idx, PASS, &s) == 0);
	if (s == NULL)
		goto out;
	CHECK(write_chunks(s, seed, refs, 1) == 0);
	for (int i = 0; i < N_CHUNKS; i++) {
		size_t len = 0;

		fixture_rnd(&seed, want, CHUNK_LEN);
		CHECK(store_chunk_read(s, &refs[i], got, CHUNK_LEN, &len) ==
		    0 && len == CHUNK_LEN && memcmp(want, got, len) == 0);
	}
	CHECK(store_verify(s, STORE_VERIFY_READ_DATA, NULL, report,
	    &n_reported, &n_problems) == 0);
	CHECK(n_problems == 0 && n_reported == 0);
	/* 40 MiB: three packs at least, every one many pieces. */
	n_packs = 0;
	for (int b = 0; b < 256; b++) {
		char sub[160];
		int n;

		snprintf(sub, sizeof(sub), "%s/packs/%02x", dir, b);
		if ((n = fixture_count(sub)) > 0)
			n_packs += n;
	}
	CHECK(n_packs >= 3);
	CHECK(n_tmp(dir) == 0);
	/* Abandoned halfway through: its closed packs stay, unreferenced;
	 * no temporary file does. */
	CHECK(write_chunks(s, 7, refs, 0) == 0);
	CHECK(n_tmp(dir) == 0);
out:
	store_close(s);
	free(want);
	free(got);
}

/* 70,000 small chunks, more than a batch of the index (65,536). */
static void
test_batches(void)
{
	enum { N = 70000 };
	struct store_ref *refs = calloc(N, sizeof(*refs));
	struct store_writer *w = NULL;
	struct store *s = NULL;
	char dir[128];
	char idx[128];
	uint8_t id[32];
	int n_bad = 0;

	if (refs == NULL)
		abort();
	snprintf(dir, sizeof(dir), "%s/b", top);
	snprintf(idx, sizeof(idx), "%s/b-index", top);
	CHECK(fixture_create_open(dir, idx, PASS, &s) == 0);
	if (s == NULL || store_writer_new(s, &w) < 0) {
		CHECK(0);
		goto out;
	}
	for (uint32_t i = 0; i < N; i++) {
		uint8_t b[12] = "chunk ";

		memcpy(b + 6, &i, sizeof(i));
		if (store_writer_put(w, b, sizeof(b), &refs[i]) < 0)
			n_bad++;
	}
	CHECK(n_bad == 0);
	CHECK(fixture_commit_empty(w, 1764201600, id) == 0);
	store_writer_free(w);
	store_close(s);
	s = NULL;
	CHECK(fixture_open(dir, &(struct store_opts){ .index_dir = idx },
	    PASS, &s) == 0);
	for (uint32_t i = 0; s != NULL && i < N; i++) {
		uint8_t b[16];
		size_t len = 0;

		if (store_has_chunk(s, refs[i].id) != 1 ||
		    (i % 997 == 0 && (store_chunk_read(s, &refs[i], b,
		    sizeof(b), &len) < 0 || len != 12 ||
		    memcmp(b + 6, &i, sizeof(i)) != 0)))
			n_bad++;
	}
	CHECK(n_bad == 0);
out:
	store_close(s);
	free(refs);
}

int
main(void)
{
	store_log_set(fixture_quiet);
	if (fixture_tmp(top, sizeof(top), "putpieces") < 0)
		return 1;
	test_backend();
	test_writer();
	test_batches();
	fixture_rm(top, "test_putpieces");
	return check_done("test_putpieces");
}
