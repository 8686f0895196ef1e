/*
 * test_fs_snaps.c: the mount's snapshot list (fs/snaps.c) over a real
 * store in a mkdtemp directory, through store.h only.  The store holds
 * three snapshots in one second (named T, T-2, T-3 in commit order), one
 * an hour later, one dated in the future (flagged, so never "latest"
 * though it sorts last), and one by an ingest key dated before its
 * parent (flagged likewise).  Checked: the view has every snapshot in
 * store_snapshots()' order, with its names and flags; lookups by name
 * and by slot; slots given in sorted order at open, never changed by a
 * rescan, the next one for a new snapshot; "latest" skips flagged
 * snapshots; a held view stays as it was across a rescan; sources and
 * writers are interned with stable ids; a rescan with nothing new says
 * so.  And at 1,000 snapshots, the list costs no manifest: bodies are
 * loaded one by one as snapshots are looked up.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../check.h"
#include "fixture.h"
#include "../../fs/inode.h"
#include "../../fs/snaps.h"

#define PASS "correct horse"
#define T1 1764201600	/* 2025-11-27T00:00:00Z */
#define N_MAX 16

static char top[64];
static char store_dir[128];
static char index_dir[128];

/* Sources "a" (files) and, if ${with_r}, "r" (repos): empty dirs. */
static int
commit(struct store *s, int64_t t, int with_r, uint8_t id[STORE_HASH_LEN])
{
	static const char *const names[2] = { "a", "r" };
	struct store_writer *w = NULL;
	struct store_source src[2];
	struct store_tb *tb = NULL;
	size_t n = with_r ? 2 : 1;
	int r;

	if ((r = store_writer_new(s, &w)) < 0)
		return r;
	memset(src, 0, sizeof(src));
	for (size_t i = 0; i < n; i++) {
		src[i].kind = i == 0 ? STORE_FILES : STORE_REPOS;
		snprintf(src[i].name, sizeof(src[i].name), "%s", names[i]);
		src[i].root.type = STORE_DIR;
		src[i].root.mode = 0755;
		src[i].root.mtime_sec = T1 - 60;
		if ((r = store_tb_new(&tb)) < 0)
			goto out;
		r = store_tb_finish(w, tb, &src[i].root);
		store_tb_free(tb);
		if (r < 0)
			goto out;
	}
	r = fixture_commit(w, t, "testhost", src, n, id);
out:
	store_writer_free(w);
	return r;
}

/* The view ${v} agrees with store_snapshots() on ${s}: order, names,
 * flags; and every snapshot is found by its name and its slot. */
static void
check_view(struct store *s, const struct snaps_view *v)
{
	struct store_snap_list *l = NULL;
	int ok = 1;

	CHECK(store_snapshots(s, &l) == 0);
	if (l == NULL)
		return;
	CHECK(v->n == store_snap_list_len(l));
	for (size_t i = 0; i < v->n && i < store_snap_list_len(l); i++) {
		const struct store_snap *x = store_snap_list_get(l, i);
		const struct snaps_snap *y = &v->snaps[i];

		ok &= memcmp(y->rec->id, x->id, STORE_HASH_LEN) == 0;
		ok &= strcmp(y->name, x->name) == 0;
		ok &= y->flags == x->flags;
		ok &= snaps_by_name(v, x->name) == y;
		ok &= snaps_by_slot(v, y->rec->slot) == y;
		ok &= y->rec->slot >= 1 && y->rec->slot <= INODE_SLOT_MAX;
		ok &= y->rec->time_sec == x->time_sec;
	}
	CHECK(ok);
	store_snap_list_free(l);
}

static const struct snaps_snap *
by_id(const struct snaps_view *v, const uint8_t id[STORE_HASH_LEN])
{
	for (size_t i = 0; i < v->n; i++)
		if (memcmp(v->snaps[i].rec->id, id, STORE_HASH_LEN) == 0)
			return &v->snaps[i];
	return NULL;
}

static int
has_name(const struct snaps_view *v, const uint8_t id[STORE_HASH_LEN],
    const char *name)
{
	const struct snaps_snap *x = by_id(v, id);

	return x != NULL && strcmp(x->name, name) == 0;
}

static void
run(void)
{
	struct store_opts o;
	struct store *s = NULL;
	struct store *is = NULL;
	struct snaps *sn = NULL;
	struct snaps_view *v = NULL;
	struct snaps_view *held = NULL;
	const struct snaps_snap *x;
	const struct snaps_src *src_a;
	const struct snaps_src *src_r;
	const struct snaps_writer *wr;
	uint8_t id[8][STORE_HASH_LEN];
	uint32_t slot[8];
	uint32_t id_a;
	char *kf = NULL;
	char ingest_index[128];
	int64_t future = (int64_t)time(NULL) + 10 * 86400;
	int changed = -1;

	CHECK(fixture_create_open(store_dir, index_dir, PASS, &s) == 0);
	if (s == NULL)
		return;
	/* 0, 1, 2: one second, a chain; 3: an hour on; 4: the future. */
	CHECK(commit(s, T1, 0, id[0]) == 0);
	CHECK(commit(s, T1, 1, id[1]) == 0);
	CHECK(commit(s, T1, 1, id[2]) == 0);
	CHECK(commit(s, T1 + 3600, 1, id[3]) == 0);
	CHECK(commit(s, future, 1, id[4]) == 0);

	CHECK(snaps_open(s, &sn) == 0);
	if (sn == NULL)
		goto out;
	v = snaps_get(sn);
	CHECK(v->n == 5);
	check_view(s, v);
	CHECK(has_name(v, id[0], "2025-11-27T00:00:00Z"));
	CHECK(has_name(v, id[1], "2025-11-27T00:00:00Z-2"));
	CHECK(has_name(v, id[2], "2025-11-27T00:00:00Z-3"));
	CHECK(has_name(v, id[3], "2025-11-27T01:00:00Z"));
	CHECK(snaps_by_name(v, "2025-11-27T00:00:00Z-4") == NULL);
	CHECK(snaps_by_name(v, "latest") == NULL);
	CHECK(snaps_by_name(v, "") == NULL);
	/* Slots in sorted order, from 1. */
	for (int i = 0; i < 5; i++) {
		x = by_id(v, id[i]);
		slot[i] = x != NULL ? x->rec->slot : 0;
		CHECK(slot[i] == (uint32_t)i + 1);
	}
	CHECK(snaps_by_slot(v, 0) == NULL && snaps_by_slot(v, 6) == NULL);
	CHECK(snaps_by_slot(v, UINT32_MAX) == NULL);
	/* The future one sorts last and is flagged; latest is the one
	 * before it. */
	x = by_id(v, id[4]);
	CHECK(x == &v->snaps[4] && (x->flags & STORE_SNAP_FUTURE) != 0);
	CHECK(v->latest == by_id(v, id[3]) && v->latest != NULL);
	/* Nothing loaded until asked; then sources: a in all five, r from
	 * the second on. */
	CHECK(snaps_src_find(v, STORE_FILES, "a") == NULL && v->n_srcs == 0);
	for (size_t i = 0; i < v->n; i++)
		CHECK(snaps_loaded(&v->snaps[i]) == NULL);
	CHECK(snaps_view_full(v) == 0);
	src_a = snaps_src_find(v, STORE_FILES, "a");
	src_r = snaps_src_find(v, STORE_REPOS, "r");
	CHECK(src_a != NULL && src_r != NULL);
	CHECK(snaps_src_find(v, STORE_REPOS, "a") == NULL);
	CHECK(snaps_src_find(v, STORE_FILES, "r") == NULL);
	CHECK(v->n_srcs == 2);
	id_a = src_a != NULL ? src_a->id : UINT32_MAX;
	if (src_a != NULL && src_r != NULL) {
		CHECK(src_a->id != src_r->id);
		CHECK(snaps_src_by_id(v, src_a->id) == src_a);
		CHECK(snaps_has_src(snaps_loaded(by_id(v, id[0])), src_a->id));
		CHECK(!snaps_has_src(snaps_loaded(by_id(v, id[0])), src_r->id));
		CHECK(snaps_has_src(snaps_loaded(by_id(v, id[3])), src_r->id));
	}
	CHECK(snaps_src_by_id(v, 99) == NULL);
	CHECK(strcmp(store_kind_name(STORE_FILES), "files") == 0 &&
	    strcmp(store_kind_name(STORE_REPOS), "repos") == 0 &&
	    strcmp(store_kind_name(STORE_PIPELINES), "pipelines") == 0 &&
	    store_kind_name(0) == NULL && store_kind_name(4) == NULL);
	/* One writer: the master. */
	CHECK(v->n_writers == 1);
	wr = snaps_writer_by_id(v, 0);
	CHECK(wr != NULL && wr->is_master && strcmp(wr->dir, "master") == 0);
	CHECK(snaps_writer_by_id(v, 1) == NULL);
	held = v;
	v = NULL;

	/* Nothing new: no change, same slots. */
	CHECK(snaps_rescan(sn, SNAPS_FORCE, &changed) == 0 && changed == 0);
	v = snaps_get(sn);
	CHECK(v != held && v->n == 5);
	for (int i = 0; i < 5; i++)
		CHECK(by_id(v, id[i]) != NULL &&
		    by_id(v, id[i])->rec->slot == slot[i]);
	snaps_put(sn, v);
	v = NULL;

	/* An ingest key's snapshot dated an hour before its parent, and
	 * the master's between 3 and 4 (5, 6): new slots, old ones kept. */
	CHECK(store_key_new_ingest(s, "ci runner", &kf) == 0 && kf != NULL);
	snprintf(ingest_index, sizeof(ingest_index), "%s/index-ingest", top);
	memset(&o, 0, sizeof(o));
	o.index_dir = ingest_index;
	CHECK(store_open(store_dir, &o, &is) == 0);
	CHECK(is != NULL && kf != NULL &&
	    store_unlock_keyfile(is, kf, strlen(kf)) == 0);
	if (is != NULL && kf != NULL)
		CHECK(commit(is, T1 + 3600 - 7200 + 600, 1, id[5]) == 0);
	CHECK(commit(s, T1 + 7200, 1, id[6]) == 0);
	CHECK(snaps_rescan(sn, SNAPS_FORCE, &changed) == 0 && changed == 1);
	v = snaps_get(sn);
	CHECK(v->n == 7);
	check_view(s, v);
	for (int i = 0; i < 5; i++)
		CHECK(by_id(v, id[i]) != NULL &&
		    by_id(v, id[i])->rec->slot == slot[i]);
	/* Slots for new ones in sorted order: 5 sorts before 6. */
	CHECK(by_id(v, id[5]) != NULL && by_id(v, id[5])->rec->slot == 6);
	CHECK(by_id(v, id[6]) != NULL && by_id(v, id[6])->rec->slot == 7);
	CHECK(by_id(v, id[5]) != NULL &&
	    (by_id(v, id[5])->flags & STORE_SNAP_UNTRUSTED) != 0);
	CHECK(has_name(v, id[2], "2025-11-27T00:00:00Z-3"));
	CHECK(v->latest != NULL && v->latest == by_id(v, id[6]));
	/* The same source keeps its id; the writer is interned with a
	 * name from its label and key id. */
	CHECK(snaps_view_full(v) == 0);
	src_a = snaps_src_find(v, STORE_FILES, "a");
	CHECK(src_a != NULL && src_a->id == id_a);
	CHECK(v->n_writers == 2);
	wr = by_id(v, id[5]) != NULL ? snaps_loaded(by_id(v, id[5]))->writer :
	    NULL;
	CHECK(wr != NULL && !wr->is_master && wr->id == 1 &&
	    strcmp(wr->label, "ci runner") == 0 &&
	    strncmp(wr->dir, "ci runner@", 10) == 0 && strlen(wr->dir) == 18);
	CHECK(wr != NULL && snaps_writer_by_id(v, 1) == wr);

	/* The view held from before the rescans is unchanged. */
	CHECK(held->n == 5 && held->latest == by_id(held, id[3]));
	CHECK(has_name(held, id[1], "2025-11-27T00:00:00Z-2"));
	CHECK(snaps_by_slot(held, 6) == NULL);
	snaps_put(sn, held);
	held = NULL;
out:
	snaps_put(sn, v);
	snaps_put(sn, held);
	snaps_close(sn);
	store_close(is);
	store_close(s);
	free(kf);
}

/*
 * Lazy bodies: a store of N_MANY snapshots is listed (the view, every
 * name, order and flag as store_snapshots() gives them, lookups by name
 * and slot) without decoding one manifest; a lookup loads that one
 * snapshot's body, once; only snaps_view_full() loads them all.
 */
#define N_MANY 1000
static void
run_many(void)
{
	char dir[160];
	char ix[160];
	struct store *s = NULL;
	struct snaps *sn = NULL;
	struct snaps_view *v = NULL;
	const struct snaps_body *b = NULL;
	const struct snaps_body *b2 = NULL;
	const struct snaps_snap *x;
	uint8_t id[STORE_HASH_LEN];
	size_t n_unloaded = 0;
	int ok = 1;

	snprintf(dir, sizeof(dir), "%s/many", top);
	snprintf(ix, sizeof(ix), "%s/index-many", top);
	CHECK(fixture_create_open(dir, ix, PASS, &s) == 0);
	if (s == NULL)
		return;
	/* Three a second: names with -2 and -3. */
	for (int i = 0; ok && i < N_MANY; i++)
		ok = commit(s, T1 + i / 3, i % 2, id) == 0;
	CHECK(ok);
	CHECK(snaps_open(s, &sn) == 0);
	if (sn == NULL)
		goto out;
	v = snaps_get(sn);
	CHECK(v->n == N_MANY);
	check_view(s, v);
	for (size_t i = 0; i < v->n; i++)
		n_unloaded += snaps_loaded(&v->snaps[i]) == NULL;
	CHECK(n_unloaded == N_MANY && snaps_n_loaded(sn) == 0);
	CHECK(v->latest == &v->snaps[N_MANY - 1]);
	x = snaps_by_name(v, "2025-11-27T00:00:10Z-2");
	CHECK(x != NULL && snaps_n_loaded(sn) == 0);
	if (x != NULL) {
		CHECK(snaps_load(v, x, &b) == 0 && b != NULL);
		CHECK(snaps_load(v, x, &b2) == 0 && b2 == b);
		CHECK(snaps_loaded(x) == b && snaps_n_loaded(sn) == 1);
		CHECK(b != NULL && b->root.type == STORE_DIR &&
		    b->writer->is_master && b->n_srcs >= 1);
	}
	CHECK(v->n_srcs == 0 && snaps_src_find(v, STORE_FILES, "a") == NULL);
	CHECK(snaps_view_full(v) == 0 && snaps_n_loaded(sn) == N_MANY);
	CHECK(v->n_srcs == 2 && v->n_writers == 1 &&
	    snaps_src_find(v, STORE_REPOS, "r") != NULL);
	CHECK(snaps_view_full(v) == 0 && snaps_n_loaded(sn) == N_MANY);
out:
	snaps_put(sn, v);
	snaps_close(sn);
	store_close(s);
}

int
main(void)
{
	int r;

	store_log_set(fixture_quiet);
	if (fixture_tmp(top, sizeof(top), "fs-snaps") < 0)
		return 1;
	snprintf(store_dir, sizeof(store_dir), "%s/store", top);
	snprintf(index_dir, sizeof(index_dir), "%s/index", top);
	run();
	run_many();
	r = check_done("test_fs_snaps");
	fixture_rm(top, "test_fs_snaps");
	return r;
}
