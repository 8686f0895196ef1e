/*
 * storei.h: struct store and the helpers shared by the files of the store
 * API (store.c, storekey.c, storesync.c, storesnap.c, storeread.c,
 * writer.c, treebuild.c, verify.c, treecopy.c).  Not for fs/ or tools/:
 * the Makefile does not let them see it.
 */
#ifndef STOREI_H
#define STOREI_H

#include <pthread.h>
#include <stdatomic.h>

#include "backend.h"
#include "cache.h"
#include "chunker.h"
#include "index.h"
#include "key.h"
#include "store.h"

/*
 * Sequential read-ahead of file contents (storeread.c): store_read() queues
 * the extents after the last one it touched, and a small pool of threads
 * decrypts them into the chunk cache.  The threads start with the first
 * request, never in store_open() or an unlock (amberfs forks after
 * those), and store_close() joins them.  So a process must not fork and
 * go on using the store after its first store_read() (exec is fine).
 */
#define PREFETCH_THREADS 2
#define PREFETCH_QUEUE 16

/*
 * How far ahead: each file being read (a stream, known by its first
 * extent and its size) has a window of extents to load after the last
 * one a read touched.  It starts at PREFETCH_AHEAD extents and doubles
 * with each read that goes on where the stream was (within PREFETCH_SKIP
 * bytes of where its last read ended, either way, as reads served side
 * by side arrive), up to PREFETCH_AHEAD_MAX; a read elsewhere
 * in the file starts it again.  So a sequential reader keeps both
 * threads busy (the kernel asks for only a MiB or two at a time), and a
 * random one (git's mmap of a pack) costs at most PREFETCH_AHEAD chunks
 * of decryption per read.  Half the cache bounds every window.
 * (Measured, the 256 MiB file of the bench on a fresh mount with the
 * store in the page cache, tests/bench/ab catrounds, 10 rounds on a
 * shared machine: a median of 744 MB/s, against 621 MB/s with the fixed
 * window of 2 extents this replaced; the FUSE ceiling 1,712 MB/s.)
 */
#define PREFETCH_AHEAD 2
#define PREFETCH_AHEAD_MAX 16
#define PREFETCH_SKIP (4u << 20)
#define PREFETCH_STREAMS 8

struct prefetch_stream {
	uint8_t id[STORE_HASH_LEN];	/* the file's first extent */
	uint64_t size;
	uint64_t next;			/* where the last read ended */
	size_t ahead;			/* the window, in extents */
	uint64_t used;			/* when last read (a counter) */
};

struct prefetch {
	pthread_mutex_t lock;
	pthread_cond_t cv_job;	/* a job was queued, or stopping */
	pthread_cond_t cv_idle;	/* a job was finished */
	pthread_t threads[PREFETCH_THREADS];
	size_t n_threads;
	int is_started;		/* threads were (tried to be) started */
	int is_stopping;
	struct store_extent q[PREFETCH_QUEUE];
	size_t q_head;
	size_t q_len;
	size_t n_busy;
	struct prefetch_stream streams[PREFETCH_STREAMS];
	uint64_t n_reads;
};

/*
 * prefetch_window(pf, e, off, end): the window (in extents, at least
 * PREFETCH_AHEAD) for a read of [${off}, ${end}) of file ${e}, which
 * has extents, updating the file's stream (pf->lock held).
 */
size_t prefetch_window(struct prefetch *pf, const struct store_entry *e,
    uint64_t off, uint64_t end);

/* How many such packs a store remembers until it has recorded them. */
#define STORE_LEARN_MAX 128
/* How many packs that cannot be copied (treecopy.c) a store remembers. */
#define TREECOPY_BAD_MAX 16

struct store {
	struct backend *be;
	struct config cfg;
	struct keyring kr;
	struct index *ix;
	struct cache *cache;
	struct chunker chunker;
	struct registry reg;	/* ingest keys (readers only) */
	struct store_unlock_info unlock;	/* how store_unlock() went */
	char *index_dir;
	char id_hex[2 * STORE_ID_LEN + 1];
	struct store_opts opts;
	struct prefetch pf;
	/* Packs found to hold trees that the index did not know as such
	 * (see learn_tree_pack() in storeread.c); appended only, under
	 * ${learn_lock}. */
	pthread_mutex_t learn_lock;
	pthread_mutex_t record_lock;
	uint8_t learned[STORE_LEARN_MAX][STORE_HASH_LEN];
	size_t n_learned;
	void (*on_learn)(void *ctx);
	void *on_learn_ctx;
	/* treecopy.c: no pack is fetched again before this (a failed copy,
	 * say a full disk, is not retried at every round of read-ahead) */
	int64_t treecopy_retry_at;
	size_t treecopy_piece;	/* bytes fetched at a time; 0: 4 MiB */
	/* packs whose bytes are not what their names say: never copied */
	uint8_t treecopy_bad[TREECOPY_BAD_MAX][STORE_HASH_LEN];
	size_t n_treecopy_bad;
	/* set by store_interrupt(): long background work ends soon */
	atomic_int is_interrupted;
	/* Chunks authenticated and decrypted by store_chunk_open(), and
	 * those of them loaded ahead: for tests and statistics. */
	atomic_ulong n_chunk_opens;
	atomic_ulong n_prefetched;
};

/*
 * treecopy.c: local copies of the packs of trees, for backends without
 * willneed (S3).  treecopy_sync(s, cap): copy the packs of trees within
 * ${cap} bytes, remove other copies (slow: a read-ahead thread's work).
 * treecopy_get(s, loc, buf, got): the blob at ${loc} from a copy, in a
 * malloc'd *${buf}; -ENOENT if there is no copy of its pack.
 * treecopy_drop(s, pack): remove the copy of ${pack} (it gave a blob
 * that failed authentication).
 */
void treecopy_sync(struct store *s, uint64_t cap);
int treecopy_get(struct store *s, const struct chunk_loc *loc, uint8_t **buf,
    size_t *got);
void treecopy_drop(struct store *s, const uint8_t pack[STORE_HASH_LEN]);

/* Wait until the read-ahead queue is empty and its threads idle. */
void store_prefetch_drain(struct store *s);
/* Stop the read-ahead threads (storeread.c), before the store closes. */
void store_prefetch_stop(struct store *s);

#define STORE_DEFAULT_CACHE (32u << 20)	/* the chunk cache, by default */

/* The snapshot list of store_snapshots() (storesnap.c). */
struct store_snap_list {
	size_t n;
	struct store_snap **v;
};

/*
 * store_object_read(s, key, version, buf, len): read object ${key} whole
 * into a malloc'd *${buf}, asking the backend for at most its cap + 1
 * bytes, so that no object (a sparse 1 TiB file, say) makes us
 * allocate more than its kind may hold.  A larger one is reported, naming
 * it, and returns -EFBIG: damage, which callers skip as they skip an
 * object that fails authentication.  Else as the backend's get.
 */
int store_object_read(struct store *s, const char *key, const char *version,
    uint8_t **buf, size_t *len);

/* As store_object_read(), first by the size a listing gave: no request. */
int store_object_read_listed(struct store *s, const char *key, uint64_t size,
    uint8_t **buf, size_t *len);

/* Compute a chunk's id and key from its plaintext. */
void store_ref_of(const struct store *s, const uint8_t *buf, size_t len,
    struct store_ref *ref);

/*
 * store_blob_get(s, loc, id, blob, len): fetch a chunk's sealed blob.
 * store_chunk_open(s, ref, buf, cap, len): read and open one chunk whose
 * location the index knows, falling back to older versions of its pack
 * where the backend keeps them.
 */
int store_chunk_open(struct store *s, const struct store_ref *ref,
    uint8_t *buf, size_t cap, size_t *len);

/*
 * store_blob_check(s, ref, blob, len, raw_len, buf, cap, olen): open the
 * sealed blob ${blob} (${len} bytes, its table says ${raw_len} plain)
 * into ${buf} and check that it is the chunk ${ref} names (its id and
 * key recomputed from the plaintext): 0, or -EBADMSG.  ${blob} is
 * decrypted in place: its sealed bytes are lost.
 */
int store_blob_check(const struct store *s, const struct store_ref *ref,
    uint8_t *blob, size_t len, uint32_t raw_len, uint8_t *buf,
    size_t cap, size_t *olen);

/*
 * store_chunk_open_at(s, ref, loc, buf, cap, len, forged): open chunk
 * ${ref} at location ${loc} only, logging nothing (for verify, which
 * checks every location).  On -EBADMSG, *${forged} says whether the blob
 * authenticated but was not the chunk ${ref} names.
 */
int store_chunk_open_at(struct store *s, const struct store_ref *ref,
    const struct chunk_loc *loc, uint8_t *buf, size_t cap, size_t *len,
    int *forged);

/*
 * store_pack_toc(s, name, size, e, n): fetch and authenticate the table of
 * pack ${name} (${size} bytes).  store_pack_toc_why(..., why, is_unbound)
 * also sets *${why} (unless NULL), what was wrong, for people; and where
 * ${is_unbound} is not NULL, a local pack whose table does not match the
 * bytes before it is not an error: *${is_unbound} says so (the caller
 * reads its chunks last).  With ${is_unbound} NULL it is -EBADMSG.
 */
int store_pack_toc(struct store *s, const char *name, uint64_t size,
    struct pack_entry **e, size_t *n);
int store_pack_toc_why(struct store *s, const char *name, uint64_t size,
    struct pack_entry **e, size_t *n, const char **why, int *is_unbound);
/*
 * store_pack_toc_whole(s, buf, len, e, n, why, is_unbound): the table of
 * the whole pack ${buf}, checked against the bytes before it (format 2)
 * whatever the backend.  A table that opens but is not the pack's own
 * gives 0 with *${is_unbound} set; then, and on -EBADMSG, *${why} says
 * what was wrong.
 */
int store_pack_toc_whole(struct store *s, const uint8_t *buf, size_t len,
    struct pack_entry **e, size_t *n, const char **why, int *is_unbound);

/* A check for store_object_get(): the object's SHA-256 is ${ctx}'s. */
struct hash_want {
	uint8_t h[32];
};
int store_hash_check(void *ctx, const uint8_t *buf, size_t len);

/* Read a whole object, trying older versions when ${check} rejects the
 * newest (S3); ${check} may be NULL.  No more than the cap of its kind
 * is read (amber-store(5), "Sizes of objects read"): -EFBIG (logged,
 * naming it) for a larger one. */
int store_object_get(struct store *s, const char *key,
    int (*check)(void *ctx, const uint8_t *buf, size_t len), void *ctx,
    uint8_t **buf, size_t *len);

/*
 * prune_lock(s, is_exclusive, is_wait) (prune.c): an flock of
 * tmp/prune.lock in a local store, shared by every writer for its whole
 * life and held exclusively by a prune, so that a prune never runs
 * beside a writer (amber-store(5), PRUNING).  Returns the descriptor to
 * close; -EBUSY if not ${is_wait} and it is held; -EOPNOTSUPP where the
 * store is not a local directory.
 */
/*
 * store_snap_verified(s, id, buf, len, out): the snapshot of the sealed
 * manifest ${buf} that the index holds as ${id}, opened through this
 * machine's snapshot cache (storesnap.c): *${out} is NULL for one that
 * does not authenticate or is not ${id}.  Readers only (-EACCES).
 */
int store_snap_verified(struct store *s, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len, struct store_snap **out);

int prune_lock(struct store *s, int is_exclusive, int is_wait);

/*
 * prune_expired_set(s, out) (prune.c): add to ${out} every snapshot id
 * that a signed record of expired snapshots names (store_expired_each()).
 */
struct idset;
int prune_expired_set(struct store *s, struct idset *out);

/*
 * prune_index_stale(s, n): 1 if the number of records under pruned/
 * (set in *${n}) differs from what this index last noted with
 * prune_index_note(): a prune ran since, and the index must be rebuilt
 * before any writer dedups against it; 0 if not; -errno.
 */
int prune_index_stale(struct store *s, uint64_t *n);
/*
 * prune_live_packs(s, roots, n, packs, n_chunks, rp) (prune.c): add to
 * ${packs} every pack the index locates a chunk in that the trees
 * ${roots} reference; *${n_chunks}: how many chunks (trees too) that is;
 * tell the repack ${rp} (may be NULL: repack.h) each chunk and location.
 * -EBADMSG if a tree cannot be read (then nothing may be deleted).
 * prune_record_write(s, drop, n) (prune.c): store the record, signed by
 * the master, that the snapshots ${drop} expired (pruned/<hex>).
 * prune_s3(s, in, each, ctx, st) (prunes3.c): store_prune() on S3.
 */
struct store_ref;
struct store_prune_in;
struct store_prune_stats;
struct repack;
int prune_live_packs(struct store *s, const struct store_ref *roots,
    size_t n, struct idset *packs, uint64_t *n_chunks, struct repack *rp);
int prune_record_write(struct store *s,
    const uint8_t (*drop)[STORE_HASH_LEN], size_t n);
int prune_s3(struct store *s, const struct store_prune_in *in,
    void (*each)(void *ctx, const char *object, uint64_t size, int what),
    void *ctx, struct store_prune_stats *st);
void prune_index_note(struct store *s, uint64_t n);

#endif
