/*
 * test_snap_each.c: snapshots one at a time (store_snap_each,
 * store_snap_load) and store_snap_order over compact records, against
 * store_snapshots() on the same store.  The store holds a DAG that
 * exercises every ordering rule: two snapshots in one second in commit
 * order, a fork (two children of one parent in one second, named -2),
 * an orphan (a missing parent) and one dated in the future.  Ordering
 * the records that store_snap_each() hands out must give exactly the
 * order, names and derived flags of store_snapshots(); a skip function
 * keeps manifests from being decoded; store_snap_load() finds one by id;
 * an ingest key reads none.  And store_snap_order() alone on a long chain
 * and on a cycle.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../check.h"
#include "fixture.h"
#include "crypt.h"
#include "log.h"
#include "snap.h"
#include "storei.h"

#define PASS "correct horse"
#define T1 1764201600	/* 2025-11-27T00:00:00Z */
#define N_SRC 3

static char top[64];
static char store_dir[128];
static char index_dir[128];

static int
open_store(const char *idx, struct store **s)
{
	struct store_opts o = { .index_dir = idx };

	return fixture_open(store_dir, &o, PASS, s);
}

/* Sources a (files), b (files), c (repos), each an empty directory. */
static int
make_sources(struct store_writer *w, struct store_source *src)
{
	static const char *const names[N_SRC] = { "a", "b", "c" };
	struct store_tb *tb = NULL;
	int r = 0;

	memset(src, 0, N_SRC * sizeof(*src));
	for (int i = 0; i < N_SRC && r == 0; i++) {
		src[i].kind = i < 2 ? STORE_FILES : STORE_REPOS;
		snprintf(src[i].name, sizeof(src[i].name), "%s", names[i]);
		snprintf(src[i].origin, sizeof(src[i].origin), "/srv/%s",
		    names[i]);
		src[i].n_bytes = (uint64_t)(i + 1) * 1000;
		src[i].root.mode = 0755;
		src[i].root.mtime_sec = T1 - 60;
		if ((r = store_tb_new(&tb)) < 0)
			break;
		r = store_tb_finish(w, tb, &src[i].root);
		store_tb_free(tb);
		tb = NULL;
	}
	return r;
}

/* A snapshot at ${t} committed the ordinary way (parents: the heads). */
static int
commit(struct store *s, int64_t t, uint8_t id[32])
{
	struct store_writer *w = NULL;
	struct store_source src[N_SRC];
	int r;

	if ((r = store_writer_new(s, &w)) < 0)
		return r;
	if ((r = make_sources(w, src)) < 0)
		goto out;
	r = fixture_commit(w, t, "testhost", src, N_SRC, id);
out:
	store_writer_free(w);
	return r;
}

/* What a caller of store_snap_each() keeps: a compact record. */
struct rec {
	uint8_t id[32];
	int64_t time_sec;
	uint64_t commit_ns;
	uint32_t flags;
	int is_master;
	size_t n_parents;
	uint8_t (*parents)[32];
	char name[STORE_SNAP_NAME_LEN];
};

struct each {
	struct rec v[16];
	size_t n;
	size_t n_skip_calls;
	const uint8_t *skip_id;	/* answered 1 */
	int skip_ret;		/* returned for other ids if non-zero */
	int stop_after;		/* fn returns 7 after this many */
	int is_bad;		/* a snapshot came in malformed */
};

static int
each_skip(void *ctx, const uint8_t id[STORE_HASH_LEN])
{
	struct each *c = ctx;

	c->n_skip_calls++;
	if (c->skip_id != NULL && memcmp(id, c->skip_id, 32) == 0)
		return 1;
	return c->skip_ret;
}

static int
each_fn(void *ctx, const struct store_snap *snap)
{
	struct each *c = ctx;
	struct rec *r;
	char bare[32];

	if (c->n == sizeof(c->v) / sizeof(c->v[0]))
		return -ENOSPC;
	r = &c->v[c->n++];
	memcpy(r->id, snap->id, 32);
	r->time_sec = snap->time_sec;
	r->commit_ns = snap->commit_ns;
	r->flags = snap->flags;
	r->is_master = store_snap_is_master(snap);
	r->n_parents = snap->n_parents;
	r->parents = NULL;
	if (snap->n_parents > 0) {
		r->parents = malloc(snap->n_parents * 32);
		if (r->parents == NULL)
			return -ENOMEM;
		memcpy(r->parents, snap->parents, snap->n_parents * 32);
	}
	/* Decoded whole, but neither ordered nor flagged yet. */
	store_time_format(snap->time_sec, bare, sizeof(bare));
	if (strcmp(snap->name, bare) != 0 || snap->n_sources != N_SRC ||
	    strcmp(snap->sources[2].name, "c") != 0 ||
	    strcmp(snap->sources[2].origin, "/srv/c") != 0 ||
	    snap->size != 6000 ||
	    (snap->flags & (STORE_SNAP_FUTURE | STORE_SNAP_ORPHAN |
	    STORE_SNAP_BEFORE_PARENT | STORE_SNAP_PARENTLESS)) != 0)
		c->is_bad = 1;
	if (c->stop_after > 0 && (int)c->n == c->stop_after)
		return 7;
	return 0;
}

static void
each_free(struct each *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].parents);
	memset(c, 0, sizeof(*c));
}

/* Order ${c}'s records and compare them with store_snapshots()' ${l}. */
static void
check_order(struct each *c, const struct store_snap_list *l)
{
	struct store_snap_ord ord[16];
	struct store_snap_ord *pv[16];
	size_t n = store_snap_list_len(l);

	CHECK(c->n == n);
	if (c->n != n)
		return;
	for (size_t i = 0; i < n; i++) {
		ord[i].id = c->v[i].id;
		ord[i].time_sec = c->v[i].time_sec;
		ord[i].commit_ns = c->v[i].commit_ns;
		ord[i].n_parents = c->v[i].n_parents;
		ord[i].parents = (const uint8_t (*)[32])c->v[i].parents;
		ord[i].is_master = c->v[i].is_master;
		ord[i].flags = c->v[i].flags;
		ord[i].name = c->v[i].name;
		pv[i] = &ord[i];
	}
	CHECK(store_snap_order(pv, n, (int64_t)time(NULL)) == 0);
	for (size_t i = 0; i < n; i++) {
		const struct store_snap *x = store_snap_list_get(l, i);

		CHECK(memcmp(pv[i]->id, x->id, 32) == 0);
		CHECK(strcmp(pv[i]->name, x->name) == 0);
		CHECK(pv[i]->flags == x->flags);
	}
}

static const struct store_snap *
find_id(const struct store_snap_list *l, const uint8_t id[32])
{
	for (size_t i = 0; i < store_snap_list_len(l); i++)
		if (memcmp(store_snap_list_get(l, i)->id, id, 32) == 0)
			return store_snap_list_get(l, i);
	return NULL;
}

/*
 * store_snap_order() alone: a chain of ${N_CHAIN} in one second, made so
 * that commit times and ids disagree with the chain, is named in chain
 * order; a cycle (impossible with hash ids, feigned here) ends.
 */
#define N_CHAIN 3000
static void
test_order(void)
{
	static struct store_snap_ord o[N_CHAIN];
	static struct store_snap_ord *pv[N_CHAIN];
	static uint8_t ids[N_CHAIN][32];
	static char names[N_CHAIN][STORE_SNAP_NAME_LEN];
	char want[STORE_SNAP_NAME_LEN];
	int ok = 1;

	for (size_t i = 0; i < N_CHAIN; i++) {
		/* Ids descending along the chain. */
		memset(ids[i], 0, 32);
		ids[i][0] = (uint8_t)(255 - i / 256);
		ids[i][1] = (uint8_t)(255 - i % 256);
		memset(&o[i], 0, sizeof(o[i]));
		o[i].id = ids[i];
		o[i].time_sec = T1;
		o[i].commit_ns = N_CHAIN - i;	/* later: earlier clock */
		o[i].n_parents = i > 0;
		o[i].parents = i > 0 ? (const uint8_t (*)[32])ids[i - 1] :
		    NULL;
		o[i].name = names[i];
	}
	/* Shuffled: the order given must not matter. */
	for (size_t i = 0; i < N_CHAIN; i++)
		pv[i] = &o[(i * 7919) % N_CHAIN];
	CHECK(store_snap_order(pv, N_CHAIN, T1) == 0);
	for (size_t i = 0; i < N_CHAIN; i++) {
		if (i == 0)
			snprintf(want, sizeof(want), "2025-11-27T00:00:00Z");
		else
			snprintf(want, sizeof(want), "2025-11-27T00:00:00Z-%zu",
			    i + 1);
		ok &= pv[i] == &o[i] && strcmp(o[i].name, want) == 0 &&
		    o[i].flags == 0;
	}
	CHECK(ok);
	/* Two that name each other, and one that names itself. */
	o[0].n_parents = 1;
	o[0].parents = (const uint8_t (*)[32])ids[1];
	o[1].parents = (const uint8_t (*)[32])ids[0];
	o[2].parents = (const uint8_t (*)[32])ids[2];
	for (size_t i = 0; i < 3; i++)
		pv[i] = &o[i];
	CHECK(store_snap_order(pv, 3, T1) == 0);
	CHECK(strcmp(pv[0]->name, "2025-11-27T00:00:00Z") == 0 &&
	    strcmp(pv[2]->name, "2025-11-27T00:00:00Z-3") == 0);
}

/*
 * Trust (amber-store(5), SECURITY CONSIDERATIONS): snapshots by ingest
 * keys dated before a parent, and parentless ones beside another, are
 * flagged; the master's are not; untrusted snapshots never take a name
 * from a trusted one of the same second, whatever their depth and
 * commit time.
 */
#define N_TRUST 9
static void
test_trust(void)
{
	static struct store_snap_ord o[N_TRUST];
	struct store_snap_ord *pv[N_TRUST];
	static uint8_t ids[N_TRUST][32];
	static uint8_t missing[1][32];
	static char names[N_TRUST][STORE_SNAP_NAME_LEN];

	/*
	 * 0: the store's first (an ingest key's), 1: its child, 2: 1's child
	 * in one second with 3, 3: a rogue with no parent, dated in 2's
	 * second and committed first, 4: dated an hour before its parent 2,
	 * 5: the master's import, dated before its parent 2, 6: 30 s before
	 * its parent 1 (clock skew forgiven), 7: dated in the future, 8: 7's
	 * child, dated and committed before it: not blamed for its parent.
	 */
	memset(o, 0, sizeof(o));
	memset(missing, 0x77, sizeof(missing));
	for (size_t i = 0; i < N_TRUST; i++) {
		memset(ids[i], 0, 32);
		ids[i][0] = (uint8_t)(0x10 * (N_TRUST - i));
		o[i].id = ids[i];
		o[i].name = names[i];
		o[i].commit_ns = (uint64_t)(T1 + 1000) * 1000000000u + i;
	}
	o[0].time_sec = T1;
	o[1].time_sec = T1 + 100;
	o[2].time_sec = T1 + 200;
	o[3].time_sec = T1 + 200;
	o[3].commit_ns = 1;
	o[4].time_sec = T1 + 200 - 3600;
	o[5].time_sec = T1 - 86400;
	o[5].is_master = 1;
	o[6].time_sec = T1 + 70;
	o[7].time_sec = T1 + 86400;
	o[8].time_sec = T1 + 300;
	o[8].commit_ns = (uint64_t)(T1 + 310) * 1000000000u;
	for (size_t i = 1; i < N_TRUST; i++) {
		o[i].n_parents = 1;
		o[i].parents = (const uint8_t (*)[32])ids[i - 1];
	}
	o[2].parents = (const uint8_t (*)[32])ids[1];
	o[3].n_parents = 0;
	o[4].parents = (const uint8_t (*)[32])ids[2];
	o[5].parents = (const uint8_t (*)[32])ids[2];
	o[6].parents = (const uint8_t (*)[32])ids[1];
	o[7].parents = (const uint8_t (*)[32])ids[2];
	for (size_t i = 0; i < N_TRUST; i++)
		pv[i] = &o[i];
	CHECK(store_snap_order(pv, N_TRUST, T1 + 1000) == 0);
	CHECK(o[0].flags == STORE_SNAP_PARENTLESS);
	CHECK(o[1].flags == 0 && o[2].flags == 0);
	CHECK(o[3].flags == STORE_SNAP_PARENTLESS);
	CHECK(o[4].flags == STORE_SNAP_BEFORE_PARENT);
	CHECK(o[5].flags == 0);
	CHECK(o[6].flags == 0);
	CHECK(o[7].flags == STORE_SNAP_FUTURE && o[8].flags == 0);
	/* The genuine snapshot of that second keeps the bare name. */
	CHECK(strcmp(o[2].name, "2025-11-27T00:03:20Z") == 0);
	CHECK(strcmp(o[3].name, "2025-11-27T00:03:20Z-2") == 0);

	/* Alone, the first snapshot of an ingest key is not flagged; nor is
	 * the master's first beside an ingest key's, which is. */
	for (size_t i = 0; i < N_TRUST; i++) {
		o[i].flags = 0;
		pv[i] = &o[i];
	}
	CHECK(store_snap_order(pv, 3, T1 + 1000) == 0);
	CHECK(o[0].flags == 0 && o[1].flags == 0 && o[2].flags == 0);
	o[0].is_master = 1;
	o[1].n_parents = 0;
	for (size_t i = 0; i < 3; i++) {
		o[i].flags = 0;
		pv[i] = &o[i];
	}
	CHECK(store_snap_order(pv, 3, T1 + 1000) == 0);
	CHECK(o[0].flags == 0 && o[1].flags == STORE_SNAP_PARENTLESS &&
	    o[2].flags == 0);
	/* A parent that is not there is no parent. */
	o[1].n_parents = 1;
	o[1].parents = (const uint8_t (*)[32])missing;
	for (size_t i = 0; i < 3; i++) {
		o[i].flags = 0;
		pv[i] = &o[i];
	}
	CHECK(store_snap_order(pv, 3, T1 + 1000) == 0);
	CHECK(o[1].flags == (STORE_SNAP_PARENTLESS | STORE_SNAP_ORPHAN));

	/* Times at the ends of int64 (a manifest may say anything): no
	 * overflow (make check SANITIZE=1 would say), and sane flags. */
	o[0].time_sec = INT64_MAX;
	o[0].n_parents = 0;
	o[1].time_sec = INT64_MIN;
	o[1].commit_ns = UINT64_MAX;
	o[1].n_parents = 1;
	o[1].parents = (const uint8_t (*)[32])ids[0];
	for (size_t i = 0; i < 2; i++) {
		o[i].flags = 0;
		pv[i] = &o[i];
	}
	CHECK(store_snap_order(pv, 2, T1) == 0);
	CHECK(o[0].flags == STORE_SNAP_FUTURE && o[1].flags == 0);
}

static void
run(void)
{
	struct store_create_opts co;
	struct store *s = NULL;
	struct store *ks = NULL;
	struct store_snap_list *l = NULL;
	struct store_snap *one = NULL;
	const struct store_snap *a;
	const struct store_snap *x;
	struct store_snap_ord *none = NULL;
	struct each c;
	uint8_t ida[32], idb[32], idc[32], idd[32], ide[32], idf[32];
	uint8_t idg[32];
	uint8_t missing[1][32];
	uint8_t unknown[32];
	char *keyfile = NULL;
	char idx2[160];
	char idx3[160];

	memset(&c, 0, sizeof(c));
	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	CHECK(store_create(store_dir, &co, PASS, strlen(PASS)) == 0);
	CHECK(open_store(index_dir, &s) == 0);
	if (s == NULL)
		return;
	/* A and D in one second: D is A's child, so second: "-2". */
	CHECK(commit(s, T1, ida) == 0);
	CHECK(commit(s, T1, idd) == 0);
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 2);
	if (l == NULL || (a = find_id(l, ida)) == NULL)
		goto out;
	/* A fork in one second, an orphan, one far in the future. */
	CHECK(fixture_put_manifest(s, a, T1 + 10, (const uint8_t (*)[32])idd, 1,
	    idb) == 0);
	CHECK(fixture_put_manifest(s, a, T1 + 10, (const uint8_t (*)[32])idd, 1,
	    idc) == 0);
	memset(missing[0], 0x5e, 32);
	CHECK(fixture_put_manifest(s, a, T1 + 20,
	    (const uint8_t (*)[32])missing, 1, ide) == 0);
	CHECK(fixture_put_manifest(s, a, (int64_t)time(NULL) + 86400,
	    (const uint8_t (*)[32])ida, 1, idf) == 0);
	store_snap_list_free(l);
	l = NULL;
	CHECK(commit(s, T1 + 30, idg) == 0);
	CHECK(store_index_sync(s, 0) == 0);
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 7);
	if (l == NULL || store_snap_list_len(l) != 7)
		goto out;
	/* The store_snapshots() side of what is checked below. */
	CHECK((x = find_id(l, idd)) != NULL &&
	    strcmp(x->name, "2025-11-27T00:00:00Z-2") == 0);
	CHECK((x = find_id(l, ide)) != NULL &&
	    (x->flags & STORE_SNAP_ORPHAN));
	CHECK((x = find_id(l, idf)) != NULL &&
	    (x->flags & STORE_SNAP_FUTURE));
	CHECK((x = find_id(l, idc)) != NULL && (x = find_id(l, idb)) != NULL);

	/* Every snapshot, then ordered: as store_snapshots(). */
	CHECK(store_snap_each(s, NULL, each_fn, &c) == 0);
	CHECK(!c.is_bad);
	check_order(&c, l);
	each_free(&c);

	/* With a skip function: called for every id, A not decoded. */
	c.skip_id = ida;
	CHECK(store_snap_each(s, each_skip, each_fn, &c) == 0);
	CHECK(c.n_skip_calls == 7 && c.n == 6 && !c.is_bad);
	for (size_t i = 0; i < c.n; i++)
		CHECK(memcmp(c.v[i].id, ida, 32) != 0);
	each_free(&c);

	/* A non-zero return of fn, or a negative one of skip, stops. */
	c.stop_after = 2;
	CHECK(store_snap_each(s, NULL, each_fn, &c) == 7 && c.n == 2);
	each_free(&c);
	c.skip_ret = -EIO;
	CHECK(store_snap_each(s, each_skip, each_fn, &c) == -EIO &&
	    c.n == 0 && c.n_skip_calls == 1);
	each_free(&c);

	/* One by id. */
	CHECK(store_snap_load(s, idc, &one) == 0);
	if (one != NULL) {
		CHECK(memcmp(one->id, idc, 32) == 0);
		CHECK(strcmp(one->name, "2025-11-27T00:00:10Z") == 0);
		CHECK(one->n_sources == N_SRC && one->n_parents == 1 &&
		    memcmp(one->parents[0], idd, 32) == 0);
		CHECK(strcmp(one->host, "forger") == 0);
		store_snap_free(one);
		one = NULL;
	}
	memset(unknown, 0xa7, 32);
	CHECK(store_snap_load(s, unknown, &one) == -ENOENT && one == NULL);
	CHECK(store_snap_order(&none, 0, 0) == 0);

	/* An ingest key reads no manifest. */
	CHECK(store_key_new_ingest(s, "test", &keyfile) == 0);
	snprintf(idx2, sizeof(idx2), "%s/index-key", top);
	if (keyfile != NULL) {
		struct store_opts o;

		memset(&o, 0, sizeof(o));
		o.index_dir = idx2;
		CHECK(store_open(store_dir, &o, &ks) == 0);
		CHECK(ks != NULL && store_unlock_keyfile(ks, keyfile,
		    strlen(keyfile)) == 0);
		if (ks != NULL) {
			CHECK(store_snap_each(ks, NULL, each_fn, &c) ==
			    -EACCES && c.n == 0);
			CHECK(store_snap_load(ks, ida, &one) == -EACCES);
		}
	}

	/* A fresh index: the same again, from the store alone. */
	store_snap_list_free(l);
	l = NULL;
	store_close(s);
	snprintf(idx3, sizeof(idx3), "%s/index-fresh", top);
	CHECK(open_store(idx3, &s) == 0);
	if (s == NULL)
		goto out;
	CHECK(store_snapshots(s, &l) == 0);
	CHECK(store_snap_each(s, NULL, each_fn, &c) == 0 && !c.is_bad);
	if (l != NULL)
		check_order(&c, l);
out:
	each_free(&c);
	free(keyfile);
	store_close(ks);
	store_snap_list_free(l);
	store_close(s);
}

int
main(void)
{
	int r;

	store_log_set(fixture_quiet);
	if (fixture_tmp(top, sizeof(top), "snap-each") < 0)
		return 1;
	snprintf(store_dir, sizeof(store_dir), "%s/store", top);
	snprintf(index_dir, sizeof(index_dir), "%s/index", top);
	test_order();
	test_trust();
	run();
	r = check_done("test_snap_each");
	fixture_rm(top, "test_snap_each");
	return r;
}
