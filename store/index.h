/*
 * index.h: the LMDB index in a local cache directory (mode 0700).  It is
 * derived data: chunk id -> pack location, the packs and snapshot
 * manifests already indexed, and the source readers' caches.  Everything
 * in it can be rebuilt from the store, so a damaged index is wiped and
 * rebuilt, never a reason to fail.  Thread-safe (one read transaction
 * per call; LMDB serialises writers, across processes too).
 */
#ifndef INDEX_H
#define INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "pack.h"

struct index;

struct chunk_loc {
	uint8_t pack[STORE_HASH_LEN];
	uint64_t off;
	uint32_t len;
	uint32_t raw_len;
};

/* Open (creating) the index in ${dir}; a damaged one is recreated. */
int index_open(const char *dir, struct index **out);
void index_close(struct index *ix);

/* -ENOENT if the chunk is not indexed. */
int index_chunk_get(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    struct chunk_loc *loc);
/*
 * index_chunk_locs(ix, id, skip, locs, max, n, total): the known locations
 * of chunk ${id}, in the index's order (those of packs added "last" after
 * the others, then by pack hash), from the ${skip}th
 * on, up to ${max} of them into ${locs}; *${n} is how many were set and,
 * unless ${total} is NULL,
 * *${total} how many the index holds.  Anyone who may add a pack may add
 * a location, genuine or not: a reader tries them in turn until one
 * authenticates (amber-store(5), SECURITY CONSIDERATIONS).  -ENOENT if
 * there is none.  index_chunk_get() gives the first.
 */
int index_chunk_locs(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    size_t skip, struct chunk_loc *locs, size_t max, size_t *n,
    size_t *total);
/*
 * Walking every location of a chunk a few at a time, with no read
 * transaction held between steps (the caller reads packs in between):
 * struct index_locs it = INDEX_LOCS_INIT; then index_locs_next(ix, id,
 * &it, &loc) while it returns 1.  0 at the end; -errno on failure.
 * it.total is the number of locations once the first step is done.
 */
#define INDEX_LOCS_PAGE 8
struct index_locs {
	struct chunk_loc page[INDEX_LOCS_PAGE];
	size_t n;		/* locations in page */
	size_t i;		/* next one of page to hand out */
	size_t skip;		/* locations before page */
	size_t total;
	int is_started;
};
#define INDEX_LOCS_INIT { .is_started = 0 }
int index_locs_next(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    struct index_locs *it, struct chunk_loc *loc);

/* 1 if the pack is indexed, 0 if not. */
int index_pack_has(struct index *ix, const uint8_t h[STORE_HASH_LEN]);
/* Record a pack and its chunks in one transaction. */
int index_pack_add(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, const struct pack_entry *e, size_t n);

/* What the writer knew of a pack: nothing, or that it holds only trees. */
#define INDEX_PACK_DATA 0
#define INDEX_PACK_TREES 1

/*
 * index_pack_add_kind(ix, h, size, e, n, kind): for the writer, of a pack
 * it has just written: index_pack_add() that also records ${kind}, and
 * that this machine wrote it (index_pack_is_mine()).  Only the writer knows a pack's kind; a pack
 * indexed by a sync or a rebuild is INDEX_PACK_DATA (the pack format
 * does not say) until a reader finds trees in it and says so with
 * index_pack_set_trees().
 */
int index_pack_add_kind(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, const struct pack_entry *e, size_t n, int kind);

/* A pack the writer wrote, as index_pack_add_kind() takes it. */
struct index_pack {
	uint8_t h[STORE_HASH_LEN];
	uint64_t size;
	const struct pack_entry *e;
	size_t n;
	int kind;
};

/*
 * index_packs_add(ix, p, n): index_pack_add_kind() of the ${n} packs
 * ${p}, in one transaction and with every location in the order of the
 * chunk ids: a writer's packs, at its commit.  A pack at a time put its
 * few thousand ids into as many leaves, all copied again for each pack.
 */
int index_packs_add(struct index *ix, const struct index_pack *p, size_t n);

/*
 * index_pack_is_mine(ix, h): 1 if this machine's writer wrote pack ${h}
 * (so what its table says is what was put there), 0 if not or unknown.
 */
int index_pack_is_mine(struct index *ix, const uint8_t h[STORE_HASH_LEN]);

/*
 * index_pack_add_last(ix, h, size, e, n, kind, is_last):
 * index_pack_add_kind() whose locations, if ${is_last}, every reader tries
 * after the others of the same chunks: a pack whose table does not match
 * the bytes before it (damage, or a table copied into junk by someone
 * with no key) may still hold intact chunks, but costs no reader a read
 * where a sound copy exists.
 */
int index_pack_add_last(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, const struct pack_entry *e, size_t n, int kind,
    int is_last);

/*
 * index_tree_packs(ix, fn, ctx): call ${fn} with the name hash and size of
 * every pack recorded as holding trees; a non-zero return stops.
 */
int index_tree_packs(struct index *ix, int (*fn)(void *ctx,
    const uint8_t h[STORE_HASH_LEN], uint64_t size), void *ctx);

/* index_readahead(ix, cap): ask the kernel to read up to ${cap} bytes of
 * the used part of the index file ahead (a hint; errors are ignored). */
void index_readahead(struct index *ix, uint64_t cap);

/* index_pack_set_trees(ix, h): record that pack ${h} holds trees;
 * -ENOENT if it is not indexed. */
int index_pack_set_trees(struct index *ix, const uint8_t h[STORE_HASH_LEN]);

/* index_pack_kind(ix, h, kind): -ENOENT if the pack is not indexed. */
int index_pack_kind(struct index *ix, const uint8_t h[STORE_HASH_LEN],
    int *kind);
/* Call ${fn} for every chunk indexed (for verify). */
int index_chunk_each(struct index *ix, int (*fn)(void *ctx,
    const uint8_t id[STORE_HASH_LEN], const struct chunk_loc *loc),
    void *ctx);

int index_snap_has(struct index *ix, const uint8_t id[STORE_HASH_LEN]);
/* index_snap_has() of ${n} ids in one read transaction: ${has}[i] 1 or
 * 0 for each. */
int index_snap_has_all(struct index *ix, const uint8_t (*ids)[STORE_HASH_LEN],
    size_t n, uint8_t *has);
int index_snap_put(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len);
/* The sealed manifest ${id} (malloc'd); -ENOENT if not indexed. */
int index_snap_get(struct index *ix, const uint8_t id[STORE_HASH_LEN],
    uint8_t **buf, size_t *len);
/* Call ${fn} with every manifest indexed (raw, still sealed). */
int index_snap_each(struct index *ix, int (*fn)(void *ctx,
    const uint8_t id[STORE_HASH_LEN], const uint8_t *buf, size_t len),
    void *ctx);

/*
 * index_snap_ids(dir, fn, ctx): call ${fn} with the id of every manifest
 * indexed in ${dir}, in id order, from a read-only look that creates
 * and changes nothing (no index_open()): for completion, without a key.
 * A non-zero return of ${fn} stops the walk and is returned.  -ENOENT
 * if ${dir} holds no index.
 */
int index_snap_ids(const char *dir, int (*fn)(void *ctx,
    const uint8_t id[STORE_HASH_LEN]), void *ctx);

int index_cache_get(struct index *ix, const char *table, const void *key,
    size_t klen, void **val, size_t *vlen);
int index_cache_put(struct index *ix, const char *table, const void *key,
    size_t klen, const void *val, size_t vlen);

/*
 * index_cache_put_all(ix, table, kv, n, is_keep): index_cache_put() of
 * ${n} pairs in one transaction (one sync of the file, not ${n}); if
 * ${is_keep}, a key that has a value keeps it (the first writer wins).
 */
struct index_kv {
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
};
int index_cache_put_all(struct index *ix, const char *table,
    const struct index_kv *kv, size_t n, int is_keep);

/*
 * index_forget(ix, is_gone, ctx, packs, n_packs, snaps, n_snaps): in one
 * transaction, forget every location of a chunk in a pack for which
 * ${is_gone}(ctx, pack hash) returns 1, the packs ${packs} and the
 * manifests ${snaps} (for prune, of what it deleted: cheaper than a
 * rebuild, which reads every pack left).  One pass over the locations;
 * what is not indexed is skipped.
 */
int index_forget(struct index *ix, int (*is_gone)(void *ctx,
    const uint8_t h[STORE_HASH_LEN]), void *ctx,
    const uint8_t (*packs)[STORE_HASH_LEN], size_t n_packs,
    const uint8_t (*snaps)[STORE_HASH_LEN], size_t n_snaps);

/*
 * The "snapx" table: what is derived from the manifests indexed, kept up
 * to date as they are added (storesnapx.c), and dropped with them by
 * index_forget() and index_clear().  index_snap_count() is the number of
 * manifests indexed (SIZE_MAX if it cannot be read).
 * index_snapx_write(ix, is_clear, put, n_put, del, n_del): in one
 * transaction, empty the table if ${is_clear}, delete the keys ${del},
 * then put ${put}.  index_snapx_each(ix, from, flen, is_back, fn, ctx):
 * call ${fn} with every record from key ${from} on (${is_back}: from the
 * last key at or before it, backwards), in one read transaction, until
 * it returns non-zero (returned).
 */
size_t index_snap_count(struct index *ix);
int index_snapx_get(struct index *ix, const void *k, size_t klen,
    void **val, size_t *vlen);
int index_snapx_write(struct index *ix, int is_clear,
    const struct index_kv *put, size_t n_put, const struct index_kv *del,
    size_t n_del);
int index_snapx_each(struct index *ix, const void *from, size_t flen,
    int is_back, int (*fn)(void *ctx, const void *k, size_t klen,
    const void *v, size_t vlen), void *ctx);

/* Forget every pack, chunk and snapshot (before a rebuild); what the
 * cache tables hold stays (the snapshot names shown, among others). */
int index_clear(struct index *ix);

#endif
