/*
 * test_readahead.c: what makes a mount fast (store/writer.c, store.c,
 * cache.c).  The writer puts trees and file data in separate packs, and
 * the index records which is which; a tree read asks the backend to read
 * its pack ahead, a file read does not.  store_read() starts no thread
 * before the first read, then has the next extents decrypted into the
 * cache by its pool; read sequentially, by one thread or several at
 * once, each chunk is decrypted exactly once; store_close() ends the
 * threads.  store_read_pin() lends the right bytes, and refuses holes
 * and ranges over too many chunks.  A damaged chunk still gives -EBADMSG
 * with read-ahead on.  An index rebuilt without the packs' kinds learns
 * them as trees are read.  Where the backend cannot read ahead (S3), the
 * packs of trees are copied to the index directory and read from there.
 * Seeded (the seed is printed on failure, and can be given as the first
 * argument).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "fixture.h"
#include "cache.h"
#include "index.h"
#include "log.h"
#include "pack.h"
#include "storei.h"

#define PASS "correct horse"
#define BIG_LEN (14u << 20)
#define N_SMALL 40
#define N_READERS 4

static uint64_t rng_state;
static char top[64];
static char store_dir[128];
static char index_dir[128];
static uint8_t *big;

static uint64_t
rng(void)
{
	rng_state = rng_state * 6364136223846793005ull +
	    1442695040888963407ull;
	return rng_state >> 17;
}

static int n_auth_logs;	/* messages about failed authentication */

static void
quiet(int level, const char *msg)
{
	(void)level;
	if (strstr(msg, "authentication failed") != NULL)
		n_auth_logs++;
}

static int
n_threads(void)
{
	return fixture_count("/proc/self/task");
}

/*
 * Threads of this process once ${n} are left: a joined thread may stay
 * listed in /proc for a moment after pthread_join() returns.
 */
static int
n_threads_settled(int n)
{
	int got = n_threads();

	for (int i = 0; i < 100 && got != n; i++) {
		usleep(10000);
		got = n_threads();
	}
	return got;
}

/* ---- writing ---- */

static int
put_file(struct store_writer *w, struct store_tb *tb, const char *name,
    const uint8_t *data, size_t len)
{
	struct store_file *f = NULL;
	struct store_extent *ext = NULL;
	struct store_entry e;
	size_t n_ext = 0;
	int r;

	if ((r = store_file_new(w, &f)) < 0)
		return r;
	for (size_t off = 0; off < len && r == 0; off += 1u << 20)
		r = store_file_write(f, off, data + off, len - off < (1u <<
		    20) ? len - off : 1u << 20);
	if (r == 0)
		r = store_file_end(f, &ext, &n_ext);
	store_file_free(f);
	if (r < 0)
		return r;
	store_entry_init(&e, name, STORE_REG, 0644);
	e.size = len;
	e.extents = ext;
	e.n_extents = n_ext;
	r = store_tb_add(tb, &e);
	free(ext);
	return r;
}

/* A source "data": big, and dir/ with N_SMALL small files in sub/NN. */
static int
write_snapshot(struct store *s)
{
	struct store_writer *w = NULL;
	struct store_tb *top_tb = NULL;
	struct store_tb *dir = NULL;
	struct store_source src;
	struct store_entry root;
	struct store_entry e;
	uint8_t id[32];
	uint8_t small[3000];
	char name[16];
	int r;

	if ((r = store_writer_new(s, &w)) < 0)
		return r;
	if ((r = store_tb_new(&top_tb)) < 0 || (r = store_tb_new(&dir)) < 0)
		goto out;
	if ((r = put_file(w, top_tb, "big", big, BIG_LEN)) < 0)
		goto out;
	for (int i = 0; i < N_SMALL; i++) {
		struct store_tb *sub = NULL;

		for (size_t k = 0; k < sizeof(small); k++)
			small[k] = (uint8_t)rng();
		snprintf(name, sizeof(name), "%02d", i);
		if ((r = store_tb_new(&sub)) < 0)
			goto out;
		r = put_file(w, sub, "f", small, sizeof(small));
		memset(&e, 0, sizeof(e));
		e.name = (const uint8_t *)name;
		e.name_len = strlen(name);
		e.mode = 0755;
		if (r == 0)
			r = store_tb_finish(w, sub, &e);
		store_tb_free(sub);
		if (r < 0 || (r = store_tb_add(dir, &e)) < 0)
			goto out;
	}
	memset(&e, 0, sizeof(e));
	e.name = (const uint8_t *)"dir";
	e.name_len = 3;
	e.mode = 0755;
	if ((r = store_tb_finish(w, dir, &e)) < 0 ||
	    (r = store_tb_add(top_tb, &e)) < 0)
		goto out;
	memset(&root, 0, sizeof(root));
	root.mode = 0755;
	if ((r = store_tb_finish(w, top_tb, &root)) < 0)
		goto out;
	memset(&src, 0, sizeof(src));
	src.kind = STORE_FILES;
	snprintf(src.name, sizeof(src.name), "data");
	src.root = root;
	r = fixture_commit(w, 1764201600, "h", &src, 1, id);
out:
	store_tb_free(dir);
	store_tb_free(top_tb);
	store_writer_free(w);
	return r;
}

static int
open_store(size_t cache_size, struct store **s)
{
	struct store_opts o = { .index_dir = index_dir,
	    .cache_size = cache_size, .use_tree_copies = 1 };

	return fixture_open(store_dir, &o, PASS, s);
}

/* first_snap(s, l): ${s}'s first snapshot, its list in *${l}; NULL: none. */
static const struct store_snap *
first_snap(struct store *s, struct store_snap_list **l)
{
	CHECK(store_snapshots(s, l) == 0);
	return *l != NULL ? store_snap_list_get(*l, 0) : NULL;
}

/* files/data/big in an open store; big_close() frees what it holds. */
struct big {
	struct store *s;
	struct store_snap_list *l;
	struct store_tree *t;	/* the tree ${e} points into */
	struct store_entry e;
};

/*
 * open_big(cache_size, f): open the store (open_store()) into ${f} and
 * find files/data/big in its snapshot: ${f}->e.  Returns 0, or -1 (a
 * CHECK failed or the file is not there); the caller calls big_close()
 * either way.
 */
static int
open_big(size_t cache_size, struct big *f)
{
	const struct store_snap *sn;
	size_t idx;

	memset(f, 0, sizeof(*f));
	CHECK(open_store(cache_size, &f->s) == 0);
	if (f->s == NULL)
		return -1;
	sn = first_snap(f->s, &f->l);
	if (sn == NULL || store_resolve(f->s, &sn->root, "files/data/big",
	    &f->t, &idx) != 0 || f->t == NULL)
		return -1;
	f->e = *store_tree_entry(f->t, idx);
	return 0;
}

/* big_close(f): free what ${f} holds, and NULL it. */
static void
big_close(struct big *f)
{
	store_tree_free(f->t);
	store_snap_list_free(f->l);
	store_close(f->s);
	memset(f, 0, sizeof(*f));
}

/* ---- the kinds of packs, and willneed ---- */

struct kinds {
	struct store *s;
	uint8_t tree_ids[N_SMALL + 8][32];
	size_t n_tree_ids;
	int n_trees_in_data;
	int n_data_in_trees;
	int n_unknown;
};

static int
is_tree_id(const struct kinds *k, const uint8_t id[32])
{
	for (size_t i = 0; i < k->n_tree_ids; i++)
		if (memcmp(k->tree_ids[i], id, 32) == 0)
			return 1;
	return 0;
}

static int
kind_of_chunk(void *ctx, const uint8_t id[STORE_HASH_LEN],
    const struct chunk_loc *loc)
{
	struct kinds *k = ctx;
	int kind;

	if (index_pack_kind(k->s->ix, loc->pack, &kind) < 0) {
		k->n_unknown++;
		return 0;
	}
	if (is_tree_id(k, id) && kind != INDEX_PACK_TREES)
		k->n_trees_in_data++;
	if (!is_tree_id(k, id) && kind != INDEX_PACK_DATA)
		k->n_data_in_trees++;
	return 0;
}

static int n_willneed;
static char willneed_key[80];
static const struct backend_ops *real_ops;

static void
count_willneed(struct backend *be, const char *key)
{
	n_willneed++;
	snprintf(willneed_key, sizeof(willneed_key), "%s", key);
	real_ops->willneed(be, key);
}

/* Collect the ids of every tree below ${ref} (a directory). */
static void
collect_trees(struct kinds *k, const struct store_ref *ref)
{
	struct store_tree *t = NULL;

	if (k->n_tree_ids == sizeof(k->tree_ids) / 32)
		return;
	memcpy(k->tree_ids[k->n_tree_ids++], ref->id, 32);
	if (store_tree_read(k->s, ref, &t) < 0) {
		CHECK(!"a tree reads");
		return;
	}
	for (size_t i = 0; i < store_tree_len(t); i++) {
		const struct store_entry *e = store_tree_entry(t, i);

		if (e->type == STORE_DIR)
			collect_trees(k, &e->tree);
	}
	store_tree_free(t);
}

/* trees_of(k, s, ref): ${k} afresh, with the trees below ${ref} in ${s}. */
static void
trees_of(struct kinds *k, struct store *s, const struct store_ref *ref)
{
	memset(k, 0, sizeof(*k));
	k->s = s;
	collect_trees(k, ref);
}

/* hints_count(s): count ${s}'s willneed hints until s->be->ops = real_ops. */
static void
hints_count(struct store *s)
{
	static struct backend_ops counting;

	real_ops = s->be->ops;
	counting = *real_ops;
	counting.willneed = count_willneed;
	s->be->ops = &counting;
}

static void
test_kinds(struct store *s, const struct store_snap *sn,
    struct store_entry *big_out, struct store_tree **big_tree)
{
	struct kinds k;
	struct store_tree *t = NULL;
	size_t idx;
	char first[80];
	int kind;
	int n_tree_packs = 0;

	hints_count(s);
	trees_of(&k, s, &sn->root.tree);
	/* root, files/, data/, dir/ and one per small file's directory */
	CHECK(k.n_tree_ids == 4 + N_SMALL);
	CHECK(n_willneed == (int)k.n_tree_ids);
	memcpy(first, willneed_key, sizeof(first));
	CHECK(strncmp(first, "packs/", 6) == 0);
	CHECK(index_chunk_each(s->ix, kind_of_chunk, &k) == 0);
	CHECK(k.n_unknown == 0);
	CHECK(k.n_trees_in_data == 0);
	CHECK(k.n_data_in_trees == 0);
	/* All trees of this snapshot are in one pack: the one hinted. */
	for (size_t i = 0; i < k.n_tree_ids; i++) {
		struct chunk_loc loc;
		char name[80];

		CHECK(index_chunk_get(s->ix, k.tree_ids[i], &loc) == 0);
		pack_name(loc.pack, name);
		CHECK(strcmp(name, first) == 0);
		if (i == 0 && index_pack_kind(s->ix, loc.pack, &kind) == 0 &&
		    kind == INDEX_PACK_TREES)
			n_tree_packs++;
	}
	CHECK(n_tree_packs == 1);

	/* A file read hints nothing. */
	CHECK(store_resolve(s, &sn->root, "files/data/big", &t, &idx) == 0);
	n_willneed = 0;
	if (t != NULL) {
		uint8_t b[100];
		size_t got;

		*big_out = *store_tree_entry(t, idx);
		CHECK(store_read(s, big_out, 5, b, sizeof(b), &got) == 0 &&
		    got == sizeof(b) && memcmp(b, big + 5, sizeof(b)) == 0);
		CHECK(n_willneed == 0);
	}
	*big_tree = t;
	s->be->ops = real_ops;
}

/*
 * A rebuilt index does not know which packs hold trees (the pack format
 * does not say).  Reading trees teaches it: the walk that finds a tree
 * pack gets its read-ahead at once, and store_readahead_trees() records
 * the kind in the index, where the next store handle finds it.
 */
static void
test_learned(void)
{
	struct store *s = NULL;
	struct store_snap_list *l = NULL;
	const struct store_snap *sn;
	struct chunk_loc loc;
	struct kinds k;
	int kind = -1;

	CHECK(open_store(0, &s) == 0);
	if (s == NULL)
		return;
	CHECK(store_index_sync(s, 1) == 0);
	if ((sn = first_snap(s, &l)) == NULL)
		goto out;
	CHECK(index_chunk_get(s->ix, sn->root.tree.id, &loc) == 0);
	CHECK(index_pack_kind(s->ix, loc.pack, &kind) == 0 &&
	    kind == INDEX_PACK_DATA);

	hints_count(s);
	n_willneed = 0;
	trees_of(&k, s, &sn->root.tree);
	s->be->ops = real_ops;
	CHECK(k.n_tree_ids == 4 + N_SMALL);
	CHECK(n_willneed == (int)k.n_tree_ids);
	CHECK(s->n_learned == 1);
	/* Recorded by the next read-ahead round, not before. */
	CHECK(index_pack_kind(s->ix, loc.pack, &kind) == 0 &&
	    kind == INDEX_PACK_DATA);
	store_readahead_trees(s, 1u << 20);
	CHECK(s->n_learned == 0);
	CHECK(index_pack_kind(s->ix, loc.pack, &kind) == 0 &&
	    kind == INDEX_PACK_TREES);
	store_snap_list_free(l);
	l = NULL;
	store_close(s);

	/* Kept in the index; the data packs stayed what they were. */
	CHECK(open_store(0, &s) == 0);
	if (s == NULL)
		return;
	CHECK(index_pack_kind(s->ix, loc.pack, &kind) == 0 &&
	    kind == INDEX_PACK_TREES);
	if ((sn = first_snap(s, &l)) == NULL)
		goto out;
	trees_of(&k, s, &sn->root.tree);
	CHECK(s->n_learned == 0);
	CHECK(index_chunk_each(s->ix, kind_of_chunk, &k) == 0);
	CHECK(k.n_unknown == 0 && k.n_trees_in_data == 0 &&
	    k.n_data_in_trees == 0);

	/* A pack learned that has left the index by the time it would be
	 * recorded needs no recording: it does not keep its slot. */
	CHECK(store_index_sync(s, 1) == 0);
	trees_of(&k, s, &sn->root.tree);
	CHECK(s->n_learned == 1);
	CHECK(index_clear(s->ix) == 0);
	store_readahead_trees(s, 1u << 20);
	CHECK(s->n_learned == 0);
	CHECK(store_index_sync(s, 1) == 0);
out:
	store_snap_list_free(l);
	store_close(s);
}

/* ---- local copies of the packs of trees (treecopy.c) ---- */

static int n_pack_gets;
static int is_get_failing;
static int is_get_lying;

static int
count_get(struct backend *be, const char *key, const char *version,
    uint64_t off, uint64_t len, uint8_t **buf, size_t *got)
{
	int r;

	if (strncmp(key, "packs/", 6) != 0)
		return real_ops->get(be, key, version, off, len, buf, got);
	n_pack_gets++;
	if (is_get_failing)
		return -EIO;
	r = real_ops->get(be, key, version, off, len, buf, got);
	if (r == 0 && is_get_lying && *got > 0)
		(*buf)[*got / 2] ^= 1;
	return r;
}

/* The bytes of file ${path} (malloc'd), or NULL. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n)) != NULL &&
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	if (f != NULL) {
		*len = p != NULL ? (size_t)ftell(f) : 0;
		fclose(f);
	}
	return p;
}

/*
 * A backend without willneed (S3) gets copies of the packs of trees in
 * the index directory: the very bytes of each pack, and only of those;
 * then a walk reads no tree from the backend.  A damaged copy gives the
 * right trees all the same (from the backend) and is removed; a cap
 * smaller than the packs removes the copies; a failed copy is not tried
 * again at once, a pack that is not what its name says never; another
 * mount's copy in the making is left alone; an interrupted store fetches
 * nothing.
 */
static void
test_treecopy(void)
{
	static struct backend_ops remote;
	struct store *s = NULL;
	struct store_snap_list *l = NULL;
	const struct store_snap *sn;
	struct chunk_loc loc;
	struct kinds k;
	char hex[65];
	char copy[256];
	char orig[256];
	char dir[256];
	uint8_t *a = NULL;
	uint8_t *b = NULL;
	size_t alen = 0;
	size_t blen = 0;
	DIR *d;
	struct dirent *de;
	int n_files = 0;

	CHECK(open_store(0, &s) == 0);
	if (s == NULL)
		return;
	if ((sn = first_snap(s, &l)) == NULL)
		goto out;
	CHECK(index_chunk_get(s->ix, sn->root.tree.id, &loc) == 0);
	log_hex(loc.pack, 32, hex);
	snprintf(copy, sizeof(copy), "%s/trees/%s", index_dir, hex);
	snprintf(orig, sizeof(orig), "%s/packs/%.2s/%s", store_dir, hex, hex);
	real_ops = s->be->ops;
	remote = *real_ops;
	remote.willneed = NULL;
	remote.read_into = NULL;
	remote.get = count_get;
	s->be->ops = &remote;

	n_pack_gets = 0;
	trees_of(&k, s, &sn->root.tree);
	CHECK(n_pack_gets == (int)k.n_tree_ids);

	/* Fetched in pieces of 777 bytes: as many GETs, the same bytes. */
	s->treecopy_piece = 777;
	n_pack_gets = 0;
	store_readahead_trees(s, 1u << 30);
	s->treecopy_piece = 0;
	a = slurp(copy, &alen);
	b = slurp(orig, &blen);
	CHECK(a != NULL && b != NULL && alen == blen &&
	    memcmp(a, b, alen) == 0);
	CHECK(alen > 777 && n_pack_gets == (int)((alen + 776) / 777));
	snprintf(dir, sizeof(dir), "%s/trees", index_dir);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				n_files++;
		closedir(d);
	}
	CHECK(n_files == 1);

	n_pack_gets = 0;
	trees_of(&k, s, &sn->root.tree);
	CHECK(k.n_tree_ids == 4 + N_SMALL);
	CHECK(n_pack_gets == 0);

	/* Damage every byte of the copy's middle: right trees anyway. */
	if (a != NULL) {
		FILE *f = fopen(copy, "r+b");

		memset(a + alen / 4, 0x55, alen / 2);
		CHECK(f != NULL && fwrite(a, 1, alen, f) == alen);
		if (f != NULL)
			fclose(f);
	}
	trees_of(&k, s, &sn->root.tree);
	CHECK(k.n_tree_ids == 4 + N_SMALL);
	CHECK(n_pack_gets > 0);
	CHECK(access(copy, F_OK) != 0);

	/* Copied again, then a cap below the pack's size removes it. */
	store_readahead_trees(s, 1u << 30);
	CHECK(access(copy, F_OK) == 0);
	store_readahead_trees(s, 1);
	CHECK(access(copy, F_OK) != 0);

	/* Bytes that are not the pack named: no copy, nothing left. */
	is_get_lying = 1;
	store_readahead_trees(s, 1u << 30);
	is_get_lying = 0;
	CHECK(access(copy, F_OK) != 0);
	n_files = 0;
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				n_files++;
		closedir(d);
	}
	CHECK(n_files == 0);
	/* ... and it is not fetched again, while other failures only
	 * pause (below). */
	CHECK(s->n_treecopy_bad == 1 && s->treecopy_retry_at == 0);
	n_pack_gets = 0;
	store_readahead_trees(s, 1u << 30);
	CHECK(n_pack_gets == 0 && access(copy, F_OK) != 0);
	s->n_treecopy_bad = 0;

	/* A copy that fails is not tried again at every round. */
	is_get_failing = 1;
	n_pack_gets = 0;
	store_readahead_trees(s, 1u << 30);
	CHECK(n_pack_gets == 1 && access(copy, F_OK) != 0);
	store_readahead_trees(s, 1u << 30);
	CHECK(n_pack_gets == 1);
	is_get_failing = 0;
	s->treecopy_retry_at = 0;
	store_readahead_trees(s, 1u << 30);
	CHECK(n_pack_gets == 2 && access(copy, F_OK) == 0);

	/* A leftover of another copy in the making stays, unless old. */
	{
		char tmp[400];
		struct timespec old_t[2] = { { 1, 0 }, { 1, 0 } };
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s/.%s.99999", dir, hex);
		if ((f = fopen(tmp, "w")) != NULL)
			fclose(f);
		store_readahead_trees(s, 1u << 30);
		CHECK(access(tmp, F_OK) == 0);
		CHECK(utimensat(AT_FDCWD, tmp, old_t, 0) == 0);
		store_readahead_trees(s, 1u << 30);
		CHECK(access(tmp, F_OK) != 0);
	}

	/* Interrupted (the mount is ending): nothing more is fetched. */
	store_readahead_trees(s, 1);
	CHECK(access(copy, F_OK) != 0);
	store_interrupt(s);
	n_pack_gets = 0;
	store_readahead_trees(s, 1u << 30);
	CHECK(n_pack_gets == 0 && access(copy, F_OK) != 0);
	s->be->ops = real_ops;
out:
	free(a);
	free(b);
	store_snap_list_free(l);
	store_close(s);
}

/* ---- read-ahead ---- */

struct seq_reader {
	struct store *s;
	const struct store_entry *e;
	size_t piece;
	int n_bad;
};

static void *
seq_read(void *arg)
{
	struct seq_reader *sr = arg;
	uint8_t *buf = malloc(sr->piece);
	size_t got;

	if (buf == NULL) {
		sr->n_bad++;
		return NULL;
	}
	for (uint64_t off = 0; off < BIG_LEN; off += sr->piece) {
		if (store_read(sr->s, sr->e, off, buf, sr->piece, &got) < 0 ||
		    got != (BIG_LEN - off < sr->piece ? BIG_LEN - off :
		    sr->piece) || memcmp(buf, big + off, got) != 0)
			sr->n_bad++;
	}
	free(buf);
	return NULL;
}

static void
test_prefetch(void)
{
	struct big bg = { 0 };
	const struct store_snap *sn = NULL;
	struct seq_reader sr[N_READERS];
	pthread_t th[N_READERS];
	uint8_t b[64];
	size_t got;
	int n0;
	int ok;

	/* A fresh store: nothing decrypted, and no thread yet. */
	n0 = n_threads_settled(1);
	CHECK(n0 == 1);
	CHECK(open_store(64u << 20, &bg.s) == 0);
	if (bg.s == NULL)
		return;
	CHECK(n_threads() == n0);
	CHECK(store_snapshots(bg.s, &bg.l) == 0 &&
	    store_snap_list_len(bg.l) == 1);
	if (bg.l == NULL || (sn = store_snap_list_get(bg.l, 0)) == NULL)
		goto out;
	test_kinds(bg.s, sn, &bg.e, &bg.t);
	if (bg.t == NULL)
		goto out;
	CHECK(bg.e.n_extents >= 6);
	CHECK(n_threads() == n0 + PREFETCH_THREADS);

	/* That read of extent 0 queued 1 and 2: after the pool is done,
	 * they are in the cache, each decrypted once, 3 wasn't. */
	store_prefetch_drain(bg.s);
	CHECK(atomic_load(&bg.s->n_prefetched) == PREFETCH_AHEAD);
	for (size_t i = 0; i < bg.e.n_extents && i < 4; i++)
		CHECK((cache_read(bg.s->cache, bg.e.extents[i].ref.key, 0, b,
		    sizeof(b), &got) == 0) == (i <= PREFETCH_AHEAD));
	/* Reading on where that read ended doubles the window: 2 (in the
	 * cache already) to 5 are loaded, each once, 6 is not. */
	CHECK(store_read(bg.s, &bg.e, bg.e.extents[1].off, b, sizeof(b),
	    &got) == 0 && memcmp(b, big + bg.e.extents[1].off, got) == 0);
	store_prefetch_drain(bg.s);
	CHECK(atomic_load(&bg.s->n_prefetched) == 2 * PREFETCH_AHEAD + 1);
	for (size_t i = 0; i < bg.e.n_extents && i < 7; i++)
		CHECK((cache_read(bg.s->cache, bg.e.extents[i].ref.key, 0, b,
		    sizeof(b), &got) == 0) == (i <= 1 + 2 * PREFETCH_AHEAD));
	big_close(&bg);
	CHECK(n_threads_settled(n0) == n0);

	/* Sequentially, by one reader and then by several at once:
	 * every chunk decrypted exactly once. */
	for (int n_readers = 1; n_readers <= N_READERS; n_readers +=
	    N_READERS - 1) {
		unsigned long n_opens;

		if (open_big(64u << 20, &bg) < 0)
			goto out;
		n_opens = atomic_load(&bg.s->n_chunk_opens);
		for (int i = 0; i < n_readers; i++) {
			sr[i].s = bg.s;
			sr[i].e = &bg.e;
			sr[i].piece = (size_t)(rng() % (300u << 10)) + 4096;
			sr[i].n_bad = 0;
			CHECK(pthread_create(&th[i], NULL, seq_read,
			    &sr[i]) == 0);
		}
		ok = 1;
		for (int i = 0; i < n_readers; i++) {
			pthread_join(th[i], NULL);
			ok = ok && sr[i].n_bad == 0;
		}
		CHECK(ok);
		store_prefetch_drain(bg.s);
		CHECK(atomic_load(&bg.s->n_chunk_opens) - n_opens ==
		    bg.e.n_extents);
		big_close(&bg);
	}
out:
	big_close(&bg);
}

/* A file of ${size} bytes whose first extent has id ${tag}...: enough
 * for prefetch_window(). */
static void
fake_file(struct store_entry *e, struct store_extent *x, uint8_t tag,
    uint64_t size)
{
	memset(e, 0, sizeof(*e));
	memset(x, 0, sizeof(*x));
	memset(x->ref.id, tag, sizeof(x->ref.id));
	x->len = 1u << 20;
	e->type = STORE_REG;
	e->size = size;
	e->extents = x;
	e->n_extents = 1;
}

/*
 * prefetch_window(): a window per file, doubled by each read that goes
 * on where the last one ended (or a little before or after it, as reads
 * served side by side arrive), up to the most, and back to the least at
 * a read elsewhere; files read at once keep their own windows, and the
 * file read least recently gives its place to a new one.
 */
static void
test_window(void)
{
	const uint64_t mib = 1u << 20;
	struct prefetch *pf = calloc(1, sizeof(*pf));
	struct store_extent xa;
	struct store_extent xb;
	struct store_extent xc;
	struct store_extent xs[PREFETCH_STREAMS];
	struct store_entry a;
	struct store_entry b;
	struct store_entry c;
	struct store_entry fs[PREFETCH_STREAMS];
	uint64_t off = 0;
	size_t want = PREFETCH_AHEAD;

	if (pf == NULL)
		return;
	fake_file(&a, &xa, 1, 1u << 30);
	fake_file(&b, &xb, 2, 1u << 30);
	/* Same first extent, another size: another file. */
	fake_file(&c, &xc, 1, 1u << 29);
	for (int i = 0; i < 6; i++, off += mib) {
		CHECK(prefetch_window(pf, &a, off, off + mib) == want);
		want = want * 2 < PREFETCH_AHEAD_MAX ? want * 2 :
		    PREFETCH_AHEAD_MAX;
	}
	CHECK(prefetch_window(pf, &a, off - 4 * mib, off - 3 * mib) ==
	    PREFETCH_AHEAD_MAX);
	/* B and C read in between do not disturb A. */
	CHECK(prefetch_window(pf, &b, 0, mib) == PREFETCH_AHEAD);
	CHECK(prefetch_window(pf, &c, off, off + mib) == PREFETCH_AHEAD);
	CHECK(prefetch_window(pf, &b, mib, 2 * mib) == 2 * PREFETCH_AHEAD);
	CHECK(prefetch_window(pf, &a, off, off + mib) == PREFETCH_AHEAD_MAX);
	off += mib;
	/* A skip ahead within PREFETCH_SKIP goes on; further does not,
	 * nor does a step back. */
	CHECK(prefetch_window(pf, &a, off + PREFETCH_SKIP, off +
	    PREFETCH_SKIP + mib) == PREFETCH_AHEAD_MAX);
	off += PREFETCH_SKIP + mib;
	CHECK(prefetch_window(pf, &a, off + PREFETCH_SKIP + 1, off +
	    PREFETCH_SKIP + 2) == PREFETCH_AHEAD);
	CHECK(prefetch_window(pf, &a, 0, mib) == PREFETCH_AHEAD);
	CHECK(prefetch_window(pf, &a, mib, 2 * mib) == 2 * PREFETCH_AHEAD);
	/* PREFETCH_STREAMS new files: B and C, read least recently, are
	 * forgotten, then A; the last of them is remembered. */
	for (int i = 0; i < PREFETCH_STREAMS; i++) {
		fake_file(&fs[i], &xs[i], (uint8_t)(10 + i), 1u << 30);
		CHECK(prefetch_window(pf, &fs[i], 0, mib) == PREFETCH_AHEAD);
	}
	CHECK(prefetch_window(pf, &b, 2 * mib, 3 * mib) == PREFETCH_AHEAD);
	CHECK(prefetch_window(pf, &fs[PREFETCH_STREAMS - 1], mib, 2 * mib) ==
	    2 * PREFETCH_AHEAD);
	free(pf);
}

/* store_read_pin(): the right bytes, no copy, and -ERANGE for holes and
 * ranges over too many chunks. */
static void
test_pin(void)
{
	struct big bg;
	struct store_entry holed;
	struct store_extent *ext = NULL;
	struct store_pin p;
	size_t got;
	int ok = 1;

	if (open_big(16u << 20, &bg) < 0)
		goto out;
	for (int n = 0; n < 300; n++) {
		uint64_t off = rng() % (BIG_LEN + 100);
		size_t len = (size_t)(rng() % (3u << 20)) + 1;
		size_t k = 0;

		if (store_read_pin(bg.s, &bg.e, off, len, &p, &got) != 0) {
			ok = 0;
			continue;
		}
		if (got != (off >= BIG_LEN ? 0 : BIG_LEN - off < len ?
		    BIG_LEN - off : len))
			ok = 0;
		for (size_t i = 0; i < p.n_iov; i++) {
			if (memcmp(p.iov[i].iov_base, big + off + k,
			    p.iov[i].iov_len) != 0)
				ok = 0;
			k += p.iov[i].iov_len;
		}
		if (k != got)
			ok = 0;
		store_unpin(bg.s, &p);
	}
	CHECK(ok);
	/* Every extent at once: more than STORE_PIN_MAX of them. */
	CHECK(bg.e.n_extents > STORE_PIN_MAX);
	CHECK(store_read_pin(bg.s, &bg.e, 0, BIG_LEN, &p, &got) == -ERANGE);
	/* A hole in front: -ERANGE, where store_read() gives zeros. */
	holed = bg.e;
	if ((ext = calloc(bg.e.n_extents, sizeof(*ext))) == NULL)
		goto out;
	memcpy(ext, bg.e.extents, bg.e.n_extents * sizeof(*ext));
	for (size_t i = 0; i < bg.e.n_extents; i++)
		ext[i].off += 4096;
	holed.extents = ext;
	holed.size = BIG_LEN + 4096;
	CHECK(store_read_pin(bg.s, &holed, 100, 10, &p, &got) == -ERANGE);
	CHECK(store_read_pin(bg.s, &holed, 4000, 200, &p, &got) == -ERANGE);
	CHECK(store_read_pin(bg.s, &holed, 4096, 200, &p, &got) == 0 &&
	    got == 200 && p.n_iov == 1 &&
	    memcmp(p.iov[0].iov_base, big, 200) == 0);
	if (got == 200)
		store_unpin(bg.s, &p);
	/* The end of the file. */
	CHECK(store_read_pin(bg.s, &bg.e, BIG_LEN, 10, &p, &got) == 0 &&
	    got == 0);
	store_unpin(bg.s, &p);
out:
	free(ext);
	big_close(&bg);
}

/* A damaged chunk ahead of the reader: the read of it still fails. */
static void
test_damage(void)
{
	struct big bg;
	struct chunk_loc loc;
	uint8_t *buf = NULL;
	char path[300];
	char name[80];
	char cmd[700];
	size_t got;
	FILE *f;

	if (open_big(64u << 20, &bg) < 0)
		goto out;
	/* Flip a byte in the middle of extent 2's blob. */
	if (index_chunk_get(bg.s->ix, bg.e.extents[2].ref.id, &loc) != 0)
		goto out;
	pack_name(loc.pack, name);
	snprintf(path, sizeof(path), "%s/%s", store_dir, name);
	snprintf(cmd, sizeof(cmd), "chmod u+w '%s'", path);
	CHECK(system(cmd) == 0);
	if ((f = fopen(path, "r+b")) == NULL)
		goto out;
	fseek(f, (long)(loc.off + loc.len / 2), SEEK_SET);
	int c = fgetc(f);
	fseek(f, (long)(loc.off + loc.len / 2), SEEK_SET);
	fputc(c ^ 1, f);
	fclose(f);
	/* A fresh store, so the dir backend sees the file as it is now
	 * (the tree ${bg.t}, which ${bg.e} points into, is ours to keep). */
	store_snap_list_free(bg.l);
	bg.l = NULL;
	store_close(bg.s);
	CHECK(open_store(64u << 20, &bg.s) == 0);
	if (bg.s == NULL)
		goto out;
	if ((buf = malloc(bg.e.extents[0].len)) == NULL)
		goto out;
	/* Reading extent 0 prefetches 1 and 2; 2 fails quietly, and the
	 * read that needs it reports it, once. */
	n_auth_logs = 0;
	CHECK(store_read(bg.s, &bg.e, 0, buf, bg.e.extents[0].len, &got) == 0 &&
	    memcmp(buf, big, got) == 0);
	store_prefetch_drain(bg.s);
	CHECK(store_read(bg.s, &bg.e, bg.e.extents[1].off, buf, 10,
	    &got) == 0 && memcmp(buf, big + bg.e.extents[1].off, 10) == 0);
	CHECK(n_auth_logs == 0);
	CHECK(store_read(bg.s, &bg.e, bg.e.extents[2].off, buf, 10, &got) ==
	    -EBADMSG);
	CHECK(n_auth_logs == 1);
	CHECK(store_read(bg.s, &bg.e, bg.e.extents[3].off, buf, 10,
	    &got) == 0 && memcmp(buf, big + bg.e.extents[3].off, 10) == 0);
out:
	free(buf);
	big_close(&bg);
}

int
main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 4711;
	struct store_create_opts co;
	struct store *s = NULL;
	char cmd[256];
	int r;

	rng_state = seed;
	store_log_set(quiet);
	snprintf(top, sizeof(top), "/tmp/amber-test-readahead.XXXXXX");
	if (mkdtemp(top) == NULL || (big = malloc(BIG_LEN)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = (uint8_t)rng();
	snprintf(store_dir, sizeof(store_dir), "%s/store", top);
	snprintf(index_dir, sizeof(index_dir), "%s/index", top);
	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	CHECK(store_create(store_dir, &co, PASS, strlen(PASS)) == 0);
	CHECK(open_store(0, &s) == 0);
	if (s != NULL)
		CHECK(write_snapshot(s) == 0);
	store_close(s);
	test_window();
	test_prefetch();
	test_pin();
	test_damage();
	test_learned();
	test_treecopy();
	r = check_done("test_readahead");
	if (r != 0)
		fprintf(stderr, "test_readahead: seed %llu\n",
		    (unsigned long long)seed);
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", top,
	    top);
	if (system(cmd) != 0)
		fprintf(stderr, "test_readahead: cannot remove %s\n", top);
	free(big);
	return r;
}
