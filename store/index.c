/*
 * index.c: LMDB behind index.h.  Four databases: "locs" (id -> every
 * known location of the chunk: pack hash, offset, length, raw length; a
 * sorted duplicate list), "packs" (hash -> size, count, kind),
 * "snaps" (id -> sealed manifest) and "cache" (table NUL key -> value).
 * LMDB errors become -errno here and nowhere else.  Values read back are
 * checked for length like any stored bytes.  The map is written in place
 * (MDB_WRITEMAP) and never synced: an ingest commits a write transaction
 * per file, and copying pages through write(2) for each cost more system
 * time than everything else; a crash can at worst damage this derived
 * data, which is then rebuilt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "index.h"
#include "log.h"
#include "rd.h"

struct index {
	MDB_env *env;
	MDB_dbi chunks;
	MDB_dbi packs;
	MDB_dbi snaps;
	MDB_dbi cache;
	MDB_dbi snapx;
	char *dir;
};

/*
 * A location: an order byte (0: the pack's table is known to be its own
 * or was not checked; 1: the bytes before the table are not those it was
 * sealed with, a damaged pack or a copied table), then pack hash, offset,
 * length, raw length.  Duplicates sort by these bytes, so the locations
 * of a chunk in packs that failed that check are tried last.
 */
#define LOC_LEN (1 + 32 + 8 + 4 + 4)

static int
ix_err(struct index *ix, const char *what, int rc)
{
	if (rc == MDB_MAP_FULL)
		return log_err(-ENOSPC, "index %s: %s: map full", ix->dir,
		    what);
	return log_err(-EIO, "index %s: %s: %s", ix->dir, what,
	    mdb_strerror(rc));
}

static int
try_open(struct index *ix)
{
	MDB_txn *txn = NULL;
	MDB_dbi old;
	int rc;

	if ((rc = mdb_env_create(&ix->env)) != 0)
		return rc;
	mdb_env_set_maxdbs(ix->env, 8);
	mdb_env_set_mapsize(ix->env, (size_t)1 << 34);
	mdb_env_set_maxreaders(ix->env, 256);
	rc = mdb_env_open(ix->env, ix->dir, MDB_NOTLS | MDB_NOSYNC |
	    MDB_WRITEMAP | MDB_MAPASYNC, 0600);
	if (rc != 0)
		goto fail;
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "locs", MDB_CREATE | MDB_DUPSORT |
	    MDB_DUPFIXED, &ix->chunks)) ||
	    (rc = mdb_dbi_open(txn, "packs", MDB_CREATE, &ix->packs)) ||
	    (rc = mdb_dbi_open(txn, "snaps", MDB_CREATE, &ix->snaps)) ||
	    (rc = mdb_dbi_open(txn, "cache", MDB_CREATE, &ix->cache)) ||
	    (rc = mdb_dbi_open(txn, "snapx", MDB_CREATE, &ix->snapx)))
		goto fail;
	/*
	 * An index made before every location of a chunk was kept ("chunks",
	 * one location each) may hold a junk copy in place of the genuine
	 * one: forget its packs and manifests, so the next sync reads every
	 * table again.  The source caches stay.
	 */
	if (mdb_dbi_open(txn, "chunks", 0, &old) == 0) {
		if ((rc = mdb_drop(txn, old, 1)) != 0 ||
		    (rc = mdb_drop(txn, ix->packs, 0)) != 0 ||
		    (rc = mdb_drop(txn, ix->snaps, 0)) != 0)
			goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	return 0;
fail:
	mdb_txn_abort(txn);
	mdb_env_close(ix->env);
	ix->env = NULL;
	return rc;
}

static int
mkdir_p(const char *dir)
{
	char path[4096];

	if (strlen(dir) >= sizeof(path))
		return -EINVAL;
	strcpy(path, dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
index_open(const char *dir, struct index **out)
{
	struct index *ix;
	char path[4200];
	int rc;

	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return -ENOMEM;
	if ((ix->dir = strdup(dir)) == NULL) {
		free(ix);
		return -ENOMEM;
	}
	if ((rc = mkdir_p(dir)) < 0) {
		log_err(-EIO, "index %s: %s", dir, strerror(-rc));
		index_close(ix);
		return -EIO;
	}
	/* It holds decrypted names: private to its owner. */
	chmod(dir, 0700);
	if ((rc = try_open(ix)) != 0) {
		log_warn("index %s: %s; rebuilding it", dir, mdb_strerror(rc));
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		unlink(path);
		if ((rc = try_open(ix)) != 0) {
			rc = ix_err(ix, "open", rc);
			index_close(ix);
			return rc;
		}
	}
	*out = ix;
	return 0;
}

void
index_close(struct index *ix)
{
	if (ix == NULL)
		return;
	if (ix->env != NULL)
		mdb_env_close(ix->env);
	free(ix->dir);
	free(ix);
}

/* End read ${txn} of a lookup that returned ${rc}: 0, -ENOENT or -EIO. */
static int
get_end(struct index *ix, MDB_txn *txn, int rc)
{
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc != 0)
		return ix_err(ix, "get", rc);
	return 0;
}

/* End write ${txn} after a put that returned ${rc}: commit it if 0. */
static int
put_end(struct index *ix, MDB_txn *txn, int rc)
{
	if (rc != 0) {
		mdb_txn_abort(txn);
		return ix_err(ix, "put", rc);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return ix_err(ix, "commit", rc);
	return 0;
}

static int
get(struct index *ix, MDB_dbi dbi, const void *k, size_t klen, void **val,
    size_t *vlen)
{
	MDB_txn *txn;
	MDB_val key = { klen, (void *)k };
	MDB_val v;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	rc = mdb_get(txn, dbi, &key, &v);
	if (rc == 0) {
		if (val != NULL) {
			if ((*val = malloc(v.mv_size ? v.mv_size : 1)) == NULL) {
				mdb_txn_abort(txn);
				return -ENOMEM;
			}
			memcpy(*val, v.mv_data, v.mv_size);
		}
		if (vlen != NULL)
			*vlen = v.mv_size;
	}
	return get_end(ix, txn, rc);
}

static int
put(struct index *ix, MDB_dbi dbi, const void *k, size_t klen,
    const void *val, size_t vlen)
{
	MDB_txn *txn;
	MDB_val key = { klen, (void *)k };
	MDB_val v = { vlen, (void *)val };
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	return put_end(ix, txn, mdb_put(txn, dbi, &key, &v, 0));
}

static int
loc_decode(const MDB_val *v, struct chunk_loc *loc)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != LOC_LEN || p[0] > 1)
		return -EBADMSG;
	p++;
	memcpy(loc->pack, p, 32);
	loc->off = le_get(p + 32, 8);
	loc->len = (uint32_t)le_get(p + 40, 4);
	loc->raw_len = (uint32_t)le_get(p + 44, 4);
	return 0;
}

int
index_chunk_get(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    struct chunk_loc *loc)
{
	MDB_txn *txn;
	MDB_val key = { STORE_HASH_LEN, (void *)id };
	MDB_val v;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	rc = mdb_get(txn, ix->chunks, &key, &v);
	if (rc == 0 && loc != NULL && loc_decode(&v, loc) < 0)
		rc = MDB_NOTFOUND;	/* a damaged record is a miss */
	return get_end(ix, txn, rc);
}

int
index_chunk_locs(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    size_t skip, struct chunk_loc *locs, size_t max, size_t *n,
    size_t *total)
{
	MDB_txn *txn;
	MDB_cursor *c = NULL;
	MDB_val key = { STORE_HASH_LEN, (void *)id };
	MDB_val v;
	size_t count = 0;
	int rc;

	*n = 0;
	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	if ((rc = mdb_cursor_open(txn, ix->chunks, &c)) != 0)
		goto out;
	rc = mdb_cursor_get(c, &key, &v, MDB_SET_KEY);
	while (rc == 0) {
		/* A damaged record is skipped, like a miss. */
		if (count >= skip && *n < max && loc_decode(&v,
		    &locs[*n]) == 0)
			(*n)++;
		count++;
		rc = mdb_cursor_get(c, &key, &v, MDB_NEXT_DUP);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (rc != 0)
		return ix_err(ix, "get", rc);
	if (total != NULL)
		*total = count;
	return *n > 0 ? 0 : -ENOENT;
}

int
index_locs_next(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    struct index_locs *it, struct chunk_loc *loc)
{
	int r;

	while (it->i == it->n) {
		if (it->is_started) {
			it->skip += INDEX_LOCS_PAGE;
			if (it->skip >= it->total)
				return 0;
		}
		it->is_started = 1;
		it->i = 0;
		r = index_chunk_locs(ix, id, it->skip, it->page,
		    INDEX_LOCS_PAGE, &it->n, &it->total);
		if (r == -ENOENT) {
			/* None here; a page of damaged records may hide
			 * more after it. */
			if (it->skip + INDEX_LOCS_PAGE < it->total)
				continue;
			return 0;
		}
		if (r < 0)
			return r;
	}
	*loc = it->page[it->i++];
	return 1;
}

int
index_pack_has(struct index *ix, const uint8_t h[STORE_HASH_LEN])
{
	int r = get(ix, ix->packs, h, STORE_HASH_LEN, NULL, NULL);

	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

static int pack_add(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, const struct pack_entry *e, size_t n, int kind,
    int is_last, int is_mine);

int
index_pack_add(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, const struct pack_entry *e, size_t n)
{
	return pack_add(ix, h, size, e, n, INDEX_PACK_DATA, 0, 0);
}

int
index_pack_kind(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    int *kind)
{
	void *v = NULL;
	size_t vlen = 0;
	int r;

	if ((r = get(ix, ix->packs, h, STORE_HASH_LEN, &v, &vlen)) < 0)
		return r;
	*kind = vlen >= 13 && ((const uint8_t *)v)[12] == INDEX_PACK_TREES ?
	    INDEX_PACK_TREES : INDEX_PACK_DATA;
	free(v);
	return 0;
}

int
index_pack_set_trees(struct index *ix, const uint8_t h[STORE_HASH_LEN])
{
	MDB_txn *txn;
	MDB_val key = { STORE_HASH_LEN, (void *)h };
	MDB_val v;
	uint8_t pv[64];
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	if ((rc = mdb_get(txn, ix->packs, &key, &v)) != 0) {
		mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND ? -ENOENT : ix_err(ix, "get", rc);
	}
	if (v.mv_size < 12 || v.mv_size > sizeof(pv)) {
		mdb_txn_abort(txn);
		return -EBADMSG;
	}
	/* Whatever follows the kind byte is kept as it is. */
	memcpy(pv, v.mv_data, v.mv_size);
	pv[12] = INDEX_PACK_TREES;
	v.mv_size = v.mv_size > 13 ? v.mv_size : 13;
	v.mv_data = pv;
	return put_end(ix, txn, mdb_put(txn, ix->packs, &key, &v, 0));
}

int
index_pack_add_kind(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, const struct pack_entry *e, size_t n, int kind)
{
	return pack_add(ix, h, size, e, n, kind, 0, 1);
}

int
index_pack_add_last(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, const struct pack_entry *e, size_t n, int kind,
    int is_last)
{
	return pack_add(ix, h, size, e, n, kind, is_last, 0);
}

int
index_pack_is_mine(struct index *ix, const uint8_t h[STORE_HASH_LEN])
{
	void *v = NULL;
	size_t vlen = 0;
	int r;

	if ((r = get(ix, ix->packs, h, STORE_HASH_LEN, &v, &vlen)) < 0)
		return r == -ENOENT ? 0 : r;
	r = vlen >= 14 && ((const uint8_t *)v)[13] == 1;
	free(v);
	return r;
}

/*
 * pack_add(ix, h, size, e, n, kind, is_last, is_mine): record pack ${h}
 * and its locations.  The pack's value: size (u64), count (u32), kind
 * (1), and whether this machine's writer wrote it (1).
 */
static void
loc_encode(uint8_t lv[LOC_LEN], int is_last, const uint8_t h[STORE_HASH_LEN],
    const struct pack_entry *e)
{
	lv[0] = is_last ? 1 : 0;
	memcpy(lv + 1, h, 32);
	le_put(lv + 33, e->off, 8);
	le_put(lv + 41, e->len, 4);
	le_put(lv + 45, e->raw_len, 4);
}

/* Put chunk ${e}'s location in pack ${h} (a duplicate is no error). */
static int
loc_put(struct index *ix, MDB_txn *txn, const uint8_t h[STORE_HASH_LEN],
    const struct pack_entry *e, int is_last)
{
	uint8_t lv[LOC_LEN];
	MDB_val key = { STORE_HASH_LEN, (void *)e->id };
	MDB_val v = { LOC_LEN, lv };
	int rc;

	loc_encode(lv, is_last, h, e);
	rc = mdb_put(txn, ix->chunks, &key, &v, MDB_NODUPDATA);
	return rc == MDB_KEYEXIST ? 0 : rc;
}

/* Put pack ${h}'s own record. */
static int
pack_put(struct index *ix, MDB_txn *txn, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, size_t n, int kind, int is_mine)
{
	uint8_t pv[14];
	MDB_val key = { STORE_HASH_LEN, (void *)h };
	MDB_val v = { sizeof(pv), pv };

	le_put(pv, size, 8);
	le_put(pv + 8, n, 4);
	pv[12] = (uint8_t)kind;
	pv[13] = is_mine ? 1 : 0;
	return mdb_put(txn, ix->packs, &key, &v, 0);
}

static int
pack_add(struct index *ix, const uint8_t h[STORE_HASH_LEN], uint64_t size,
    const struct pack_entry *e, size_t n, int kind, int is_last, int is_mine)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = loc_put(ix, txn, h, &e[i], is_last);
	if (rc == 0)
		rc = pack_put(ix, txn, h, size, n, kind, is_mine);
	return put_end(ix, txn, rc);
}

/* One location of index_packs_add(): entry *e of pack p[pack]. */
struct batch_loc {
	const struct pack_entry *e;
	uint32_t pack;
};

static int
batch_cmp(const void *a, const void *b)
{
	const struct batch_loc *x = a;
	const struct batch_loc *y = b;

	return memcmp(x->e->id, y->e->id, STORE_HASH_LEN);
}

int
index_packs_add(struct index *ix, const struct index_pack *p, size_t n)
{
	struct batch_loc *v;
	MDB_txn *txn = NULL;
	size_t total = 0;
	size_t k = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		total += p[i].n;
	if (n > UINT32_MAX || (v = calloc(total ? total : 1, sizeof(*v))) ==
	    NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < p[i].n; j++) {
			v[k].e = &p[i].e[j];
			v[k++].pack = (uint32_t)i;
		}
	qsort(v, total, sizeof(*v), batch_cmp);
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0) {
		free(v);
		return ix_err(ix, "begin", rc);
	}
	for (k = 0; k < total && rc == 0; k++)
		rc = loc_put(ix, txn, p[v[k].pack].h, v[k].e, 0);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = pack_put(ix, txn, p[i].h, p[i].size, p[i].n, p[i].kind,
		    1);
	free(v);
	return put_end(ix, txn, rc);
}

/*
 * walk(ix, dbi, fn, ctx): call ${fn} with every record of ${dbi} whose key
 * is a hash, in key order, in one read transaction; a non-zero return of
 * ${fn} stops the walk and is returned.
 */
static int
walk(struct index *ix, MDB_dbi dbi, int (*fn)(void *ctx, const MDB_val *k,
    const MDB_val *v), void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k;
	MDB_val v;
	int rc;
	int r = 0;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0) {
		mdb_txn_abort(txn);
		return ix_err(ix, "cursor", rc);
	}
	while (r == 0 && mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		if (k.mv_size == STORE_HASH_LEN)
			r = fn(ctx, &k, &v);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return r;
}

struct chunk_walk {
	int (*fn)(void *ctx, const uint8_t id[STORE_HASH_LEN],
	    const struct chunk_loc *loc);
	void *ctx;
};

static int
chunk_walk_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct chunk_walk *w = ctx;
	struct chunk_loc loc;

	if (loc_decode(v, &loc) < 0)
		return 0;
	return w->fn(w->ctx, k->mv_data, &loc);
}

int
index_chunk_each(struct index *ix, int (*fn)(void *ctx,
    const uint8_t id[STORE_HASH_LEN], const struct chunk_loc *loc),
    void *ctx)
{
	struct chunk_walk w = { fn, ctx };

	return walk(ix, ix->chunks, chunk_walk_one, &w);
}

struct pack_walk {
	int (*fn)(void *ctx, const uint8_t h[STORE_HASH_LEN], uint64_t size);
	void *ctx;
};

static int
tree_pack_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct pack_walk *w = ctx;
	const uint8_t *p = v->mv_data;

	if (v->mv_size < 13 || p[12] != INDEX_PACK_TREES)
		return 0;
	return w->fn(w->ctx, k->mv_data, le_get(p, 8));
}

int
index_tree_packs(struct index *ix, int (*fn)(void *ctx,
    const uint8_t h[STORE_HASH_LEN], uint64_t size), void *ctx)
{
	struct pack_walk w = { fn, ctx };

	return walk(ix, ix->packs, tree_pack_one, &w);
}

void
index_readahead(struct index *ix, uint64_t cap)
{
	MDB_envinfo info;
	MDB_stat st;
	uint64_t used;
	int fd;

	if (mdb_env_info(ix->env, &info) != 0 ||
	    mdb_env_stat(ix->env, &st) != 0 ||
	    mdb_env_get_fd(ix->env, &fd) != 0)
		return;
	used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	(void)posix_fadvise(fd, 0, (off_t)(used < cap ? used : cap),
	    POSIX_FADV_WILLNEED);
}

int
index_snap_has(struct index *ix, const uint8_t id[STORE_HASH_LEN])
{
	int r = get(ix, ix->snaps, id, STORE_HASH_LEN, NULL, NULL);

	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

int
index_snap_put(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len)
{
	return put(ix, ix->snaps, id, STORE_HASH_LEN, buf, len);
}

int
index_snap_get(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    uint8_t **buf, size_t *len)
{
	void *v = NULL;
	int r;

	if ((r = get(ix, ix->snaps, id, STORE_HASH_LEN, &v, len)) < 0)
		return r;
	*buf = v;
	return 0;
}

struct snap_walk {
	int (*fn)(void *ctx, const uint8_t id[STORE_HASH_LEN],
	    const uint8_t *buf, size_t len);
	void *ctx;
};

static int
snap_walk_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct snap_walk *w = ctx;

	return w->fn(w->ctx, k->mv_data, v->mv_data, v->mv_size);
}

int
index_snap_each(struct index *ix, int (*fn)(void *ctx,
    const uint8_t id[STORE_HASH_LEN], const uint8_t *buf, size_t len),
    void *ctx)
{
	struct snap_walk w = { fn, ctx };

	return walk(ix, ix->snaps, snap_walk_one, &w);
}

static int
cache_key(const char *table, const void *key, size_t klen, uint8_t **out,
    size_t *olen)
{
	size_t tl = strlen(table);
	uint8_t *k;

	if (tl + 1 + klen > 511 || klen == 0)
		return -EINVAL;	/* LMDB's default key size limit */
	if ((k = malloc(tl + 1 + klen)) == NULL)
		return -ENOMEM;
	memcpy(k, table, tl + 1);
	memcpy(k + tl + 1, key, klen);
	*out = k;
	*olen = tl + 1 + klen;
	return 0;
}

int
index_cache_get(struct index *ix, const char *table, const void *key,
    size_t klen, void **val, size_t *vlen)
{
	uint8_t *k;
	size_t kl;
	int r;

	if ((r = cache_key(table, key, klen, &k, &kl)) < 0)
		return r;
	r = get(ix, ix->cache, k, kl, val, vlen);
	free(k);
	return r;
}

int
index_cache_put(struct index *ix, const char *table, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	struct index_kv kv = { key, klen, val, vlen };

	return index_cache_put_all(ix, table, &kv, 1, 0);
}

int
index_cache_put_all(struct index *ix, const char *table,
    const struct index_kv *kv, size_t n, int is_keep)
{
	MDB_txn *txn;
	int rc = 0;
	int r;

	if (n == 0)
		return 0;
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	for (size_t i = 0; i < n; i++) {
		MDB_val k, v = { kv[i].vlen, (void *)kv[i].val };
		uint8_t *kb;
		size_t kl;

		if ((r = cache_key(table, kv[i].key, kv[i].klen, &kb,
		    &kl)) < 0) {
			mdb_txn_abort(txn);
			return r;
		}
		k.mv_size = kl;
		k.mv_data = kb;
		rc = mdb_put(txn, ix->cache, &k, &v,
		    is_keep ? MDB_NOOVERWRITE : 0);
		free(kb);
		if (rc != 0 && !(is_keep && rc == MDB_KEYEXIST)) {
			mdb_txn_abort(txn);
			return ix_err(ix, "put", rc);
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return ix_err(ix, "commit", rc);
	return 0;
}

/* A location to forget: the chunk id, then the location's value. */
#define GONE_LEN (STORE_HASH_LEN + LOC_LEN)

int
index_forget(struct index *ix, int (*is_gone)(void *ctx,
    const uint8_t h[STORE_HASH_LEN]), void *ctx,
    const uint8_t (*packs)[STORE_HASH_LEN], size_t n_packs,
    const uint8_t (*snaps)[STORE_HASH_LEN], size_t n_snaps)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k;
	MDB_val v;
	uint8_t *gone = NULL;
	size_t n_gone = 0;
	size_t cap_gone = 0;
	size_t i;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	if ((rc = mdb_cursor_open(txn, ix->chunks, &cur)) != 0)
		goto fail;
	/*
	 * The locations to delete are collected first and deleted after,
	 * each by its key and value: deleting through the cursor while it
	 * walks duplicates deleted, where a chunk had a location that goes
	 * and one that stays (a repack's copy), the one that stays.
	 */
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (v.mv_size != LOC_LEN ||
		    !is_gone(ctx, (const uint8_t *)v.mv_data + 1))
			continue;
		if (n_gone == cap_gone) {
			size_t cap = cap_gone ? 2 * cap_gone : 256;
			uint8_t *g = realloc(gone, cap * GONE_LEN);

			if (g == NULL) {
				mdb_cursor_close(cur);
				mdb_txn_abort(txn);
				free(gone);
				return -ENOMEM;
			}
			gone = g;
			cap_gone = cap;
		}
		memcpy(gone + n_gone * GONE_LEN, k.mv_data, STORE_HASH_LEN);
		memcpy(gone + n_gone * GONE_LEN + STORE_HASH_LEN, v.mv_data,
		    LOC_LEN);
		n_gone++;
	}
	if (rc != MDB_NOTFOUND)
		goto fail;
	mdb_cursor_close(cur);
	cur = NULL;
	for (i = 0; i < n_gone; i++) {
		k.mv_size = STORE_HASH_LEN;
		k.mv_data = gone + i * GONE_LEN;
		v.mv_size = LOC_LEN;
		v.mv_data = gone + i * GONE_LEN + STORE_HASH_LEN;
		rc = mdb_del(txn, ix->chunks, &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND)
			goto fail;
	}
	for (i = 0; i < n_packs + n_snaps; i++) {
		k.mv_size = STORE_HASH_LEN;
		k.mv_data = (void *)(i < n_packs ? packs[i] :
		    snaps[i - n_packs]);
		rc = mdb_del(txn, i < n_packs ? ix->packs : ix->snaps, &k,
		    NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			goto fail;
	}
	/* What was derived from the manifests forgotten is made again. */
	if (n_snaps > 0 && (rc = mdb_drop(txn, ix->snapx, 0)) != 0)
		goto fail;
	free(gone);
	if ((rc = mdb_txn_commit(txn)) != 0)
		return ix_err(ix, "commit", rc);
	return 0;
fail:
	free(gone);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ix_err(ix, "forget", rc);
}

int
index_clear(struct index *ix)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	if ((rc = mdb_drop(txn, ix->chunks, 0)) != 0 ||
	    (rc = mdb_drop(txn, ix->packs, 0)) != 0 ||
	    (rc = mdb_drop(txn, ix->snaps, 0)) != 0 ||
	    (rc = mdb_drop(txn, ix->snapx, 0)) != 0) {
		mdb_txn_abort(txn);
		return ix_err(ix, "drop", rc);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return ix_err(ix, "commit", rc);
	return 0;
}

int
index_snap_ids(const char *dir, int (*fn)(void *ctx,
    const uint8_t id[STORE_HASH_LEN]), void *ctx)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_dbi dbi;
	MDB_val k;
	MDB_val v;
	char path[4200];
	struct stat st;
	int rc;
	int r = 0;

	/* No index yet: say so, and create nothing. */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return -ENOENT;
	if ((rc = mdb_env_create(&env)) != 0)
		return log_err(-EIO, "index %s: %s", dir, mdb_strerror(rc));
	mdb_env_set_maxdbs(env, 8);
	if ((rc = mdb_env_open(env, dir, MDB_NOTLS | MDB_RDONLY, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
		goto out;
	if ((rc = mdb_dbi_open(txn, "snaps", 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		goto out;
	while (r == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if (k.mv_size == STORE_HASH_LEN)
			r = fn(ctx, k.mv_data);
	if (rc == MDB_NOTFOUND)
		rc = 0;
out:
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;	/* an index that never held a snapshot */
	if (rc != 0)
		return log_err(-EIO, "index %s: %s", dir, mdb_strerror(rc));
	return r;
}

size_t
index_snap_count(struct index *ix)
{
	MDB_txn *txn;
	MDB_stat st;
	size_t n = SIZE_MAX;

	if (mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn) != 0)
		return n;
	if (mdb_stat(txn, ix->snaps, &st) == 0)
		n = st.ms_entries;
	mdb_txn_abort(txn);
	return n;
}

int
index_snapx_get(struct index *ix, const void *k, size_t klen, void **val,
    size_t *vlen)
{
	return get(ix, ix->snapx, k, klen, val, vlen);
}

int
index_snapx_write(struct index *ix, int is_clear, const struct index_kv *put,
    size_t n_put, const struct index_kv *del, size_t n_del)
{
	MDB_txn *txn;
	MDB_val k;
	MDB_val v;
	int rc = 0;

	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	if (is_clear)
		rc = mdb_drop(txn, ix->snapx, 0);
	for (size_t i = 0; rc == 0 && i < n_del; i++) {
		k.mv_size = del[i].klen;
		k.mv_data = (void *)del[i].key;
		if ((rc = mdb_del(txn, ix->snapx, &k, NULL)) == MDB_NOTFOUND)
			rc = 0;
	}
	for (size_t i = 0; rc == 0 && i < n_put; i++) {
		k.mv_size = put[i].klen;
		k.mv_data = (void *)put[i].key;
		v.mv_size = put[i].vlen;
		v.mv_data = (void *)put[i].val;
		rc = mdb_put(txn, ix->snapx, &k, &v, 0);
	}
	return put_end(ix, txn, rc);
}

int
index_snapx_each(struct index *ix, const void *from, size_t flen,
    int is_back, int (*fn)(void *ctx, const void *k, size_t klen,
    const void *v, size_t vlen), void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k = { flen, (void *)from };
	MDB_val v;
	MDB_cursor_op op;
	int rc;
	int r = 0;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	if ((rc = mdb_cursor_open(txn, ix->snapx, &c)) != 0) {
		mdb_txn_abort(txn);
		return ix_err(ix, "cursor", rc);
	}
	/* Backwards from ${from}: the last key at or before it. */
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (is_back) {
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		else if (rc == 0 && (k.mv_size != flen ||
		    memcmp(k.mv_data, from, flen) != 0))
			rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	}
	op = is_back ? MDB_PREV : MDB_NEXT;
	while (r == 0 && rc == 0) {
		r = fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (r == 0)
			rc = mdb_cursor_get(c, &k, &v, op);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ix_err(ix, "get", rc);
	return r;
}

int
index_snap_has_all(struct index *ix, const uint8_t (*ids)[STORE_HASH_LEN],
    size_t n, uint8_t *has)
{
	MDB_txn *txn;
	MDB_val k;
	MDB_val v;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) != 0)
		return ix_err(ix, "begin", rc);
	for (size_t i = 0; i < n; i++) {
		k.mv_size = STORE_HASH_LEN;
		k.mv_data = (void *)ids[i];
		rc = mdb_get(txn, ix->snaps, &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			return ix_err(ix, "get", rc);
		}
		has[i] = rc == 0;
	}
	mdb_txn_abort(txn);
	return 0;
}
