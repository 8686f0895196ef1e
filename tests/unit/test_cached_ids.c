/*
 * test_cached_ids.c: index_snap_ids(), behind `amber snapshots
 * --cached-ids`: every snapshot id the index holds, in id order, and
 * only those (not chunk or cache keys of the same length); a walk that
 * stops where the callback says; nothing created where there is no
 * index, and no write to one that exists.  Then store_snap_ids_cached()
 * on a real store: no index yet is no id, an ingest's commit is one,
 * and an s3:// location is refused without a request.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "fixture.h"
#include "index.h"
#include "store.h"

#define N_MAX 8

struct got {
	uint8_t ids[N_MAX][STORE_HASH_LEN];
	size_t n;
	size_t stop_after;	/* 0: never */
};

static int
collect(void *ctx, const uint8_t id[STORE_HASH_LEN])
{
	struct got *g = ctx;

	if (g->n < N_MAX)
		memcpy(g->ids[g->n], id, STORE_HASH_LEN);
	g->n++;
	return g->stop_after != 0 && g->n == g->stop_after ? 7 : 0;
}

static void
id_fill(uint8_t id[STORE_HASH_LEN], uint8_t first, uint8_t last)
{
	memset(id, 0x5a, STORE_HASH_LEN);
	id[0] = first;
	id[STORE_HASH_LEN - 1] = last;
}

static void
index_level(const char *top)
{
	char dir[256];
	char none[256];
	char data[300];
	uint8_t ids[3][STORE_HASH_LEN];
	uint8_t chunk[STORE_HASH_LEN];
	struct index *ix = NULL;
	struct got g;
	struct stat before;
	struct stat after;

	snprintf(dir, sizeof(dir), "%s/index", top);
	snprintf(none, sizeof(none), "%s/none", top);
	snprintf(data, sizeof(data), "%s/data.mdb", dir);

	memset(&g, 0, sizeof(g));
	CHECK(index_snap_ids(none, collect, &g) == -ENOENT);
	CHECK(g.n == 0);
	CHECK(access(none, F_OK) != 0);

	/* Two ids that share all but their last byte, one apart, put out
	 * of order; a cache entry and no chunk under a snapshot's id. */
	id_fill(ids[0], 0x10, 0x02);
	id_fill(ids[1], 0x10, 0x01);
	id_fill(ids[2], 0x03, 0x00);
	id_fill(chunk, 0x01, 0x00);
	CHECK(index_open(dir, &ix) == 0);
	if (ix == NULL)
		return;
	/* An index that never held a snapshot has none. */
	index_close(ix);
	memset(&g, 0, sizeof(g));
	CHECK(index_snap_ids(dir, collect, &g) == 0);
	CHECK(g.n == 0);
	CHECK(index_open(dir, &ix) == 0);
	if (ix == NULL)
		return;
	for (size_t i = 0; i < 3; i++)
		CHECK(index_snap_put(ix, ids[i], (const uint8_t *)"sealed",
		    6) == 0);
	CHECK(index_cache_put(ix, "t", chunk, sizeof(chunk), "v", 1) == 0);
	index_close(ix);

	CHECK(stat(data, &before) == 0);
	memset(&g, 0, sizeof(g));
	CHECK(index_snap_ids(dir, collect, &g) == 0);
	CHECK(g.n == 3);
	if (g.n == 3) {
		CHECK(memcmp(g.ids[0], ids[2], STORE_HASH_LEN) == 0);
		CHECK(memcmp(g.ids[1], ids[1], STORE_HASH_LEN) == 0);
		CHECK(memcmp(g.ids[2], ids[0], STORE_HASH_LEN) == 0);
	}
	CHECK(stat(data, &after) == 0);
	CHECK(before.st_size == after.st_size);
	CHECK(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
	    before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);

	/* The callback's non-zero return stops the walk and is returned. */
	memset(&g, 0, sizeof(g));
	g.stop_after = 2;
	CHECK(index_snap_ids(dir, collect, &g) == 7);
	CHECK(g.n == 2);
}

static void
store_level(const char *top)
{
	static const char pass[] = "correct horse";
	struct store_create_opts co;
	struct store_opts o;
	struct store_writer *w = NULL;
	struct store_snap_new sn;
	struct store *s = NULL;
	uint8_t id[STORE_HASH_LEN];
	char loc[256];
	char idx[256];
	struct got g;

	snprintf(loc, sizeof(loc), "%s/store", top);
	snprintf(idx, sizeof(idx), "%s/store-index", top);
	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	CHECK(store_create(loc, &co, pass, strlen(pass)) == 0);
	memset(&o, 0, sizeof(o));
	o.index_dir = idx;

	memset(&g, 0, sizeof(g));
	CHECK(store_snap_ids_cached(loc, &o, collect, &g) == 0);
	CHECK(g.n == 0);
	CHECK(access(idx, F_OK) != 0);
	memset(&g, 0, sizeof(g));
	CHECK(store_snap_ids_cached("s3://bucket/prefix", &o, collect, &g) ==
	    -EPROTONOSUPPORT);
	CHECK(store_snap_ids_cached("s3://bucket/prefix", NULL, collect,
	    &g) == -EPROTONOSUPPORT);
	CHECK(g.n == 0);
	snprintf(idx, sizeof(idx), "%s/no-store", top);
	CHECK(store_snap_ids_cached(idx, NULL, collect, &g) == -ENOENT);
	snprintf(idx, sizeof(idx), "%s/store-index", top);

	/* One empty snapshot committed: its id, and only it. */
	CHECK(store_open(loc, &o, &s) == 0);
	if (s == NULL)
		return;
	CHECK(store_unlock(s, pass, strlen(pass)) == 0);
	CHECK(store_writer_new(s, &w) == 0);
	memset(&sn, 0, sizeof(sn));
	sn.time_sec = 1764201600;
	if (w != NULL)
		CHECK(store_writer_commit(w, &sn, id) == 0);
	store_writer_free(w);
	store_close(s);

	memset(&g, 0, sizeof(g));
	CHECK(store_snap_ids_cached(loc, &o, collect, &g) == 0);
	CHECK(g.n == 1);
	CHECK(g.n == 1 && memcmp(g.ids[0], id, STORE_HASH_LEN) == 0);
}

int
main(void)
{
	char top[] = "/tmp/amber-cached-ids.XXXXXX";
	char cmd[64];

	store_log_set(fixture_quiet);
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	index_level(top);
	store_level(top);
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwX %s; rm -rf %s", top, top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
	return check_done("test_cached_ids");
}
