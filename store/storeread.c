/*
 * storeread.c: reading chunks, trees and file contents.
 *
 * Reads are authenticated before they are decrypted, and decrypted
 * before they are decompressed (amber-store(5), CHUNKS): no plaintext
 * reaches zstd or a caller before the AES-GCM tag is accepted, and a
 * decompressed size that differs from the recorded one is damage.  Where
 * the backend keeps versions (S3), an object whose newest version fails
 * authentication is read from the newest older version that passes, and
 * the substitution is logged: the newest version of a key may be an
 * attacker's.
 *
 * Two things make a mount fast.  A tree read from a pack the writer
 * filled with trees only lets the backend read that whole pack ahead, so
 * a walk of a snapshot costs a few sequential reads rather than one seek
 * per directory (from S3, the packs of trees are copied to the index
 * directory: treecopy.c).  A file read queues the next extents for a
 * small pool of threads that decrypts them into the chunk cache (struct
 * prefetch in storei.h), so decryption overlaps the kernel's copying; the
 * cache's claims make sure that a chunk wanted by a reader and by the
 * pool at once is decrypted once.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "log.h"
#include "pack.h"
#include "rd.h"
#include "snap.h"
#include "storei.h"
#include "tree.h"
/* Open the blob ${blob} of ${len} bytes into ${buf}, checking sizes. */
static int
open_blob(const struct store_ref *ref, const uint8_t *blob, size_t len,
    uint32_t raw_len, uint8_t *buf, size_t cap, size_t *olen)
{
	int r;

	if (raw_len > cap)
		return -ERANGE;
	/* Decrypted in place: the blob buffer is ours, and GCM allows an
	 * exact overlap of input and output. */
	r = blob_open(ref, blob, len, (uint8_t *)blob + CRYPT_NONCE_LEN, buf,
	    raw_len, olen);
	if (r == -ERANGE || (r == 0 && *olen != raw_len))
		r = -EBADMSG;
	return r;
}

/*
 * ref_check(s, ref, buf, len): 0 if ${buf} is the plaintext ${ref} names,
 * -EBADMSG if not.  Its id and key are computed again from it
 * (amber-store(5), CHUNKS) and compared with the ref.  Authentication
 * alone does not show this: a chunk's key is convergent, so whoever knows
 * a plaintext and holds an ingest key (which has the id and chunk-key
 * keys) can seal other bytes under that chunk's id and key, and the tag
 * of such a blob is valid.  What a reader returns, or caches, has passed
 * this check.
 */
static int
ref_check(const struct store *s, const struct store_ref *ref,
    const uint8_t *buf, size_t len)
{
	struct store_ref got;
	int is_same;

	store_ref_of(s, buf, len, &got);
	is_same = crypt_equal(got.id, ref->id, STORE_HASH_LEN) &&
	    crypt_equal(got.key, ref->key, STORE_HASH_LEN);
	crypt_wipe(&got, sizeof(got));
	return is_same ? 0 : -EBADMSG;
}

/*
 * open_checked(s, ref, blob, len, raw_len, buf, cap, olen, is_forged):
 * open_blob(), then ref_check(); a plaintext that is not the one ${ref}
 * names is wiped, sets *${is_forged} and gives -EBADMSG.
 */
static int
open_checked(const struct store *s, const struct store_ref *ref,
    const uint8_t *blob, size_t len, uint32_t raw_len, uint8_t *buf,
    size_t cap, size_t *olen, int *is_forged)
{
	int r = open_blob(ref, blob, len, raw_len, buf, cap, olen);

	if (r == 0 && (r = ref_check(s, ref, buf, *olen)) < 0) {
		crypt_wipe(buf, *olen);
		*is_forged = 1;
	}
	return r;
}

int
store_blob_check(const struct store *s, const struct store_ref *ref,
    uint8_t *blob, size_t len, uint32_t raw_len, uint8_t *buf,
    size_t cap, size_t *olen)
{
	int is_forged = 0;

	return open_checked(s, ref, blob, len, raw_len, buf, cap, olen,
	    &is_forged);
}

/* How chunk_open_at() goes about it. */
#define OPEN_QUIET 1	/* log nothing of a failure (a read ahead: the
			 * reader that needs the chunk logs it) */
#define OPEN_TREE 2	/* a tree: a local copy of its pack may have it */

/*
 * Read and open chunk ${ref} at ${loc}, as ${flags} (OPEN_*) say.  On
 * -EBADMSG, *${forged} (unless NULL) says whether a blob authenticated
 * but was not the chunk ${ref} names.
 */
static int
chunk_open_at(struct store *s, const struct store_ref *ref,
    const struct chunk_loc *loc0, uint8_t *buf, size_t cap, size_t *len,
    int flags, int *forged)
{
	struct backend *be = s->be;
	struct backend_version *v = NULL;
	struct chunk_loc loc = *loc0;
	uint8_t *blob = NULL;
	char name[80];
	char hex[65];
	size_t got;
	size_t n = 0;
	int is_forged = 0;
	int r;

	atomic_fetch_add(&s->n_chunk_opens, 1);
	pack_name(loc.pack, name);
	/* A local copy of a pack of trees (treecopy.c) saves a request. */
	if ((flags & OPEN_TREE) && s->opts.use_tree_copies &&
	    be->ops->willneed == NULL &&
	    treecopy_get(s, &loc, &blob, &got) == 0) {
		r = open_checked(s, ref, blob, got, loc.raw_len, buf, cap, len,
		    &is_forged);
		free(blob);
		blob = NULL;
		if (r != -EBADMSG)
			return r;
		is_forged = 0;
		log_warn("%s: the local copy is damaged; removed", name);
		treecopy_drop(s, loc.pack);
	}
	r = be->ops->get(be, name, NULL, loc.off, loc.len, &blob, &got);
	if (r == 0)
		r = got == loc.len ? open_checked(s, ref, blob, got,
		    loc.raw_len, buf, cap, len, &is_forged) : -EBADMSG;
	free(blob);
	blob = NULL;
	if (r == -EBADMSG && be->ops->versions != NULL &&
	    be->ops->versions(be, name, &v, &n) == 0) {
		for (size_t i = 0; i < n && r == -EBADMSG; i++) {
			if (v[i].is_delete_marker || v[i].is_latest)
				continue;
			if (be->ops->get(be, name, v[i].id, loc.off, loc.len,
			    &blob, &got) == 0 && got == loc.len &&
			    open_checked(s, ref, blob, got, loc.raw_len, buf,
			    cap, len, &is_forged) == 0) {
				log_warn("%s: newest version is damaged or "
				    "overwritten; read version %s", name,
				    v[i].id);
				r = 0;
			}
			free(blob);
			blob = NULL;
		}
		free(v);
	}
	if (forged != NULL)
		*forged = r == -EBADMSG && is_forged;
	if (flags & OPEN_QUIET)
		return r;
	if (r == -EBADMSG && is_forged) {
		log_hex(ref->id, 32, hex);
		log_err(r, "%s: chunk %.16s at offset %llu: authentic, but "
		    "not the chunk its id names (forged by a key holder?)",
		    name, hex, (unsigned long long)loc.off);
	} else if (r == -EBADMSG) {
		log_hex(ref->id, 32, hex);
		log_err(r, "%s: chunk %.16s at offset %llu: authentication "
		    "failed", name, hex, (unsigned long long)loc.off);
	} else if (r == -ENOENT) {
		r = log_err(-ENOENT, "%s: missing (chunk at offset %llu)",
		    name, (unsigned long long)loc.off);
	}
	return r;
}

/*
 * chunk_open_any(s, ref, bufp, cap, len, flags, used): chunk_open_at() at
 * each location the index knows of ${ref}, in turn, until one gives the
 * chunk ${ref} names; *${used} (unless NULL) is then that location.  If
 * *${bufp} is NULL, a buffer of the length each location's table claims
 * (at most ${cap}) is allocated for it, and the one that worked is left
 * in *${bufp} for the caller to free; else *${bufp} holds ${cap} bytes.
 * Anyone who may add a pack may add a location, so a location that
 * fails is no reason to stop: a chunk with k locations costs at most k
 * reads (amber-store(5), SECURITY CONSIDERATIONS).  With one location,
 * that location's failure is logged as ever; with more, quietly, and one
 * line names what failed.
 */
static int
chunk_open_any(struct store *s, const struct store_ref *ref, uint8_t **bufp,
    size_t cap, size_t *len, int flags, struct chunk_loc *used)
{
	struct index_locs it = INDEX_LOCS_INIT;
	int is_alloc = *bufp == NULL;
	struct chunk_loc loc;
	struct chunk_loc bad;
	size_t n_bad = 0;
	char hex[65];
	char name[80];
	int first = 0;
	int r;

	log_hex(ref->id, 32, hex);
	while ((r = index_locs_next(s->ix, ref->id, &it, &loc)) == 1) {
		int quiet = it.total == 1 ? flags : flags | OPEN_QUIET;

		if (is_alloc && loc.raw_len > cap) {
			r = -EBADMSG;	/* longer than any such chunk */
		} else if (is_alloc &&
		    (*bufp = malloc(loc.raw_len + 1)) == NULL) {
			return -ENOMEM;
		} else {
			r = chunk_open_at(s, ref, &loc, *bufp, is_alloc ?
			    loc.raw_len : cap, len, quiet, NULL);
			if (r < 0 && is_alloc) {
				free(*bufp);
				*bufp = NULL;
			}
		}
		if (r == 0) {
			if (n_bad > 0 && !(flags & OPEN_QUIET)) {
				pack_name(bad.pack, name);
				log_warn("chunk %.16s: %zu of its %zu locations "
				    "failed (first: %s offset %llu); read from "
				    "the next", hex, n_bad, it.total, name,
				    (unsigned long long)bad.off);
			}
			if (used != NULL)
				*used = loc;
			return 0;
		}
		/* A location whose length is not the caller's is not the
		 * chunk the caller knows, unless none is: go on. */
		if (r == -ENOMEM)
			return r;
		if (n_bad++ == 0) {
			bad = loc;
			first = r;
		}
	}
	if (r < 0)
		return r;
	if (n_bad == 0)
		return log_err(-ENOENT, "chunk %.16s: not in any pack", hex);
	if (it.total > 1 && !(flags & OPEN_QUIET)) {
		pack_name(bad.pack, name);
		log_err(first, "chunk %.16s: none of its %zu locations holds "
		    "it intact (first: %s offset %llu)", hex, it.total, name,
		    (unsigned long long)bad.off);
	}
	return first < 0 ? first : -EBADMSG;
}

int
store_chunk_open_at(struct store *s, const struct store_ref *ref,
    const struct chunk_loc *loc, uint8_t *buf, size_t cap, size_t *len,
    int *forged)
{
	return chunk_open_at(s, ref, loc, buf, cap, len, OPEN_QUIET, forged);
}

int
store_chunk_open(struct store *s, const struct store_ref *ref, uint8_t *buf,
    size_t cap, size_t *len)
{
	if (s->ix == NULL)
		return -EACCES;
	return chunk_open_any(s, ref, &buf, cap, len, 0, NULL);
}

int
store_chunk_read(struct store *s, const struct store_ref *ref, uint8_t *buf,
    size_t cap, size_t *len)
{
	if (!s->kr.has_master)
		return -EACCES;
	return store_chunk_open(s, ref, buf, cap, len);
}

int
store_has_chunk(struct store *s, const uint8_t id[STORE_HASH_LEN])
{
	int r;

	if (s->ix == NULL)
		return -EACCES;
	r = index_chunk_get(s->ix, id, NULL);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

struct ra_ctx {
	struct store *s;
	uint64_t left;
};

static int
ra_pack(void *ctx, const uint8_t h[STORE_HASH_LEN], uint64_t size)
{
	struct ra_ctx *c = ctx;
	char name[80];

	if (size > c->left)
		return 1;
	c->left -= size;
	pack_name(h, name);
	c->s->be->ops->willneed(c->s->be, name);
	return 0;
}

/*
 * learn_tree_pack(s, h): pack ${h}, which the index does not know to
 * hold trees, was just found to hold one.  A sync or a rebuild indexes
 * packs without their kind (the pack format does not record it), and a
 * pack not known to hold trees gets no read-ahead, so a walk over a
 * rebuilt index would read trees one seek at a time, mount after mount.
 * The pack is remembered here at once (so the walk that found it reads
 * it ahead) and recorded in the index by the next
 * store_readahead_trees(): a write transaction may wait for an
 * ingest's, which a reader of trees must never do.  A pack learned calls
 * the hook set by store_on_learn(), which asks for that round.  Returns
 * 1 if the pack is remembered.
 */
static int
learn_tree_pack(struct store *s, const uint8_t h[STORE_HASH_LEN])
{
	int is_known = 0;
	int is_new = 0;

	pthread_mutex_lock(&s->learn_lock);
	for (size_t i = 0; i < s->n_learned && !is_known; i++)
		is_known = memcmp(s->learned[i], h, STORE_HASH_LEN) == 0;
	if (!is_known && s->n_learned < STORE_LEARN_MAX) {
		memcpy(s->learned[s->n_learned++], h, STORE_HASH_LEN);
		is_known = is_new = 1;
	}
	pthread_mutex_unlock(&s->learn_lock);
	/* So that the next round of read-ahead comes without being asked. */
	if (is_new && s->on_learn != NULL)
		s->on_learn(s->on_learn_ctx);
	return is_known;
}

void
store_interrupt(struct store *s)
{
	atomic_store(&s->is_interrupted, 1);
}

void
store_on_learn(struct store *s, void (*fn)(void *ctx), void *ctx)
{
	s->on_learn = fn;
	s->on_learn_ctx = ctx;
}

/*
 * Record the packs learned to hold trees in the index, and forget those
 * recorded; one that cannot be recorded is kept for the next round.  The
 * index is written without ${learn_lock} held, so that readers of trees
 * never wait for it; ${record_lock} keeps rounds apart, so the first
 * ${n} entries stay as they were copied (learners only append).
 */
static void
record_learned(struct store *s)
{
	uint8_t todo[STORE_LEARN_MAX][STORE_HASH_LEN];
	int is_done[STORE_LEARN_MAX];
	size_t kept = 0;
	size_t n;

	pthread_mutex_lock(&s->record_lock);
	pthread_mutex_lock(&s->learn_lock);
	n = s->n_learned;
	memcpy(todo, s->learned, n * STORE_HASH_LEN);
	pthread_mutex_unlock(&s->learn_lock);
	/* A pack no longer indexed needs no recording either. */
	for (size_t i = 0; i < n; i++) {
		int r = index_pack_set_trees(s->ix, todo[i]);

		is_done[i] = r == 0 || r == -ENOENT;
	}
	pthread_mutex_lock(&s->learn_lock);
	for (size_t i = 0; i < s->n_learned; i++)
		if (i >= n || !is_done[i])
			memmove(s->learned[kept++], s->learned[i],
			    STORE_HASH_LEN);
	s->n_learned = kept;
	pthread_mutex_unlock(&s->learn_lock);
	pthread_mutex_unlock(&s->record_lock);
}

void
store_readahead_trees(struct store *s, uint64_t cap)
{
	struct ra_ctx c = { s, cap };

	if (s->ix == NULL)
		return;
	record_learned(s);
	index_readahead(s->ix, cap);
	if (s->be->ops->willneed != NULL)
		(void)index_tree_packs(s->ix, ra_pack, &c);
	else if (s->opts.use_tree_copies)
		treecopy_sync(s, cap);
}

int
store_tree_read(struct store *s, const struct store_ref *ref,
    struct store_tree **out)
{
	struct chunk_loc loc;
	uint8_t *buf = NULL;
	char name[80];
	size_t len;
	int is_learning = 0;
	int kind;
	int r;

	/* An ingest key reads nothing back, even given a ref. */
	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	if ((r = index_chunk_get(s->ix, ref->id, &loc)) < 0)
		return store_chunk_open(s, ref, NULL, 0, &len);
	/* Its neighbours are the trees a walk reads next. */
	if (index_pack_kind(s->ix, loc.pack, &kind) == 0) {
		pack_name(loc.pack, name);
		if (kind != INDEX_PACK_TREES)
			is_learning = 1;
		else if (s->be->ops->willneed != NULL)
			s->be->ops->willneed(s->be, name);
	}
	if ((r = chunk_open_any(s, ref, &buf, STORE_TREE_MAX, &len,
	    OPEN_TREE, &loc)) < 0)
		return r;
	if ((r = tree_decode(buf, len, out)) == -EBADMSG) {
		char hex[65];

		log_hex(ref->id, 32, hex);
		log_err(r, "tree %.16s: malformed", hex);
	}
	/* Only a tree that decodes teaches anything of its pack (the one it
	 * came from, which a junk location before it is not). */
	if (r == 0 && is_learning && learn_tree_pack(s, loc.pack) &&
	    s->be->ops->willneed != NULL) {
		pack_name(loc.pack, name);
		s->be->ops->willneed(s->be, name);
	}
	return r;
}

int
store_resolve(struct store *s, const struct store_entry *root,
    const char *path, struct store_tree **parent, size_t *idx)
{
	struct store_tree *t = NULL;
	const struct store_entry *cur = root;
	const char *p = path;
	int r;

	*parent = NULL;
	for (;;) {
		const char *e;
		size_t n;
		struct store_tree *next = NULL;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (cur->type != STORE_DIR) {
			store_tree_free(t);
			return -ENOTDIR;
		}
		if ((r = store_tree_read(s, &cur->tree, &next)) < 0) {
			store_tree_free(t);
			return r;
		}
		store_tree_free(t);
		t = next;
		if ((r = store_tree_find(t, (const uint8_t *)p, n, idx)) < 0) {
			store_tree_free(t);
			return r;
		}
		cur = store_tree_entry(t, *idx);
		p += n;
	}
	*parent = t;
	return 0;
}

/* ---- chunks into the cache ---- */

/*
 * load_entry(s, ref, loc, len, is_quiet, out): a new cache entry (the
 * caller's) holding the ${len} bytes of chunk ${ref}, stored at ${loc}.
 * A chunk stored raw (as data that does not compress is) is read from a
 * local store straight into the entry and decrypted there: no buffer to
 * allocate, fault in and copy out of, which was a sixth of a mount's CPU
 * time on sequential reads.  Anything else, and any failure, goes the
 * general way, chunk_open_at(), which also tries older versions and
 * reports damage (unless ${is_quiet}).
 */
static int
load_entry(struct store *s, const struct store_ref *ref,
    const struct chunk_loc *loc, size_t len, int is_quiet, uint8_t **out)
{
	uint8_t head[BLOB_HEAD_LEN];
	uint8_t tag[CRYPT_TAG_LEN];
	uint8_t *chunk;
	uint8_t codec;
	size_t got;
	int r;

	*out = NULL;
	if ((chunk = cache_entry_new(len)) == NULL)
		return -ENOMEM;
	if (s->be->ops->read_into != NULL && loc->raw_len == len &&
	    loc->len == (uint64_t)len + BLOB_OVERHEAD) {
		struct iovec iov[3] = {
			{ head, sizeof(head) },
			{ chunk, len },
			{ tag, sizeof(tag) },
		};
		char name[80];

		pack_name(loc->pack, name);
		if (s->be->ops->read_into(s->be, name, loc->off, iov, 3) == 0 &&
		    blob_open_parts(ref, head, chunk, len, tag, &codec) == 0 &&
		    codec == CODEC_RAW && ref_check(s, ref, chunk, len) == 0) {
			atomic_fetch_add(&s->n_chunk_opens, 1);
			*out = chunk;
			return 0;
		}
	}
	r = chunk_open_any(s, ref, &chunk, len, &got,
	    is_quiet ? OPEN_QUIET : 0, NULL);
	if (r == -ERANGE || (r == 0 && got != len))
		r = -EBADMSG;
	if (r < 0) {
		cache_entry_free(chunk);
		return r;
	}
	*out = chunk;
	return 0;
}

/* ---- read-ahead ---- */

/* Decrypt extent ${x} into the cache unless cached or being loaded. */
static void
prefetch_one(struct store *s, const struct store_extent *x)
{
	struct chunk_loc loc;
	uint8_t *chunk;

	if (cache_claim(s->cache, x->ref.key) != -EAGAIN)
		return;
	/* On failure the reader that needs it loads it again, and reports. */
	if (index_chunk_get(s->ix, x->ref.id, &loc) < 0 ||
	    loc.raw_len != x->len ||
	    load_entry(s, &x->ref, &loc, x->len, 1, &chunk) < 0) {
		cache_abandon(s->cache, x->ref.key);
		return;
	}
	atomic_fetch_add(&s->n_prefetched, 1);
	cache_insert(s->cache, x->ref.key, chunk);
}

static void *
prefetch_worker(void *arg)
{
	struct store *s = arg;
	struct prefetch *pf = &s->pf;

	pthread_mutex_lock(&pf->lock);
	for (;;) {
		struct store_extent x;

		while (pf->q_len == 0 && !pf->is_stopping)
			pthread_cond_wait(&pf->cv_job, &pf->lock);
		if (pf->is_stopping)
			break;
		x = pf->q[pf->q_head];
		pf->q_head = (pf->q_head + 1) % PREFETCH_QUEUE;
		pf->q_len--;
		pf->n_busy++;
		pthread_mutex_unlock(&pf->lock);
		prefetch_one(s, &x);
		pthread_mutex_lock(&pf->lock);
		pf->n_busy--;
		pthread_cond_broadcast(&pf->cv_idle);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

/* Start the pool (pf->lock held); without threads, no read-ahead. */
static void
prefetch_start(struct store *s)
{
	struct prefetch *pf = &s->pf;

	pf->is_started = 1;
	for (size_t i = 0; i < PREFETCH_THREADS; i++) {
		if (pthread_create(&pf->threads[i], NULL, prefetch_worker,
		    s) != 0)
			break;
		pf->n_threads++;
	}
}

void
store_prefetch_stop(struct store *s)
{
	struct prefetch *pf = &s->pf;

	pthread_mutex_lock(&pf->lock);
	pf->is_stopping = 1;
	pthread_cond_broadcast(&pf->cv_job);
	pthread_mutex_unlock(&pf->lock);
	for (size_t i = 0; i < pf->n_threads; i++)
		pthread_join(pf->threads[i], NULL);
	pf->n_threads = 0;
	pf->q_len = 0;
}

void
store_prefetch_drain(struct store *s)
{
	struct prefetch *pf = &s->pf;

	pthread_mutex_lock(&pf->lock);
	while ((pf->q_len > 0 || pf->n_busy > 0) && pf->n_threads > 0)
		pthread_cond_wait(&pf->cv_idle, &pf->lock);
	pthread_mutex_unlock(&pf->lock);
}

size_t
prefetch_window(struct prefetch *pf, const struct store_entry *e,
    uint64_t off, uint64_t end)
{
	const uint8_t *id = e->extents[0].ref.id;
	struct prefetch_stream *st = NULL;
	struct prefetch_stream *old = &pf->streams[0];

	pf->n_reads++;
	for (size_t i = 0; i < PREFETCH_STREAMS && st == NULL; i++) {
		struct prefetch_stream *c = &pf->streams[i];

		if (c->ahead > 0 && c->size == e->size &&
		    memcmp(c->id, id, STORE_HASH_LEN) == 0)
			st = c;
		else if (c->used < old->used)
			old = c;
	}
	if (st != NULL && off >= st->next - (st->next < PREFETCH_SKIP ?
	    st->next : PREFETCH_SKIP) && off <= st->next + PREFETCH_SKIP) {
		/* Goes on (reads served side by side may come a little out
		 * of order): a wider window. */
		if (st->ahead < PREFETCH_AHEAD_MAX)
			st->ahead *= 2;
		if (end > st->next)
			st->next = end;
	} else {
		if (st == NULL) {
			st = old;
			memcpy(st->id, id, STORE_HASH_LEN);
			st->size = e->size;
		}
		st->ahead = PREFETCH_AHEAD;
		st->next = end;
	}
	st->used = pf->n_reads;
	return st->ahead < PREFETCH_AHEAD_MAX ? st->ahead : PREFETCH_AHEAD_MAX;
}

/*
 * Queue the extents of ${e} after extent ${last}, the last one a read of
 * [${off}, ${end}) touched, for loading ahead: the stream's window
 * (prefetch_window()), as long as they and the last one fit in half the
 * cache (so that loading ahead never evicts what is being read).  A full
 * queue drops its oldest request: a sequential reader has moved past it.
 */
static void
prefetch_after(struct store *s, const struct store_entry *e, size_t last,
    uint64_t off, uint64_t end)
{
	struct prefetch *pf = &s->pf;
	size_t budget = cache_cap(s->cache) / 2;
	size_t used = e->extents[last].len;
	size_t ahead;

	pthread_mutex_lock(&pf->lock);
	if (!pf->is_started && !pf->is_stopping)
		prefetch_start(s);
	ahead = prefetch_window(pf, e, off, end);
	for (size_t i = last + 1; i <= last + ahead &&
	    i < e->n_extents && pf->n_threads > 0; i++) {
		const struct store_extent *x = &e->extents[i];
		int is_queued = 0;

		used += x->len;
		if (used > budget)
			break;
		for (size_t k = 0; k < pf->q_len && !is_queued; k++)
			is_queued = memcmp(pf->q[(pf->q_head + k) %
			    PREFETCH_QUEUE].ref.id, x->ref.id, 32) == 0;
		if (is_queued)
			continue;
		if (pf->q_len == PREFETCH_QUEUE) {
			pf->q_head = (pf->q_head + 1) % PREFETCH_QUEUE;
			pf->q_len--;
		}
		pf->q[(pf->q_head + pf->q_len) % PREFETCH_QUEUE] = *x;
		pf->q_len++;
		pthread_cond_signal(&pf->cv_job);
	}
	pthread_mutex_unlock(&pf->lock);
}

/*
 * load_claimed(s, x, chunk): decrypt extent ${x}, whose cache claim the
 * caller holds, into a new cache entry for the caller to insert; on an
 * error the claim is given up and nothing is held.
 */
static int
load_claimed(struct store *s, const struct store_extent *x, uint8_t **chunk)
{
	struct chunk_loc loc;
	char hex[65];
	int r;

	*chunk = NULL;
	if ((r = index_chunk_get(s->ix, x->ref.id, &loc)) == 0)
		r = load_entry(s, &x->ref, &loc, x->len, 0, chunk);
	else if (r == -ENOENT) {
		log_hex(x->ref.id, 32, hex);
		r = log_err(r, "chunk %.16s: not in any pack", hex);
	}
	if (r < 0)
		cache_abandon(s->cache, x->ref.key);
	return r;
}

/* Copy [off, off+len) of extent ${x} into ${buf}, through the cache. */
static int
read_extent(struct store *s, const struct store_extent *x, size_t off,
    uint8_t *buf, size_t len)
{
	uint8_t *chunk;
	size_t got;
	int r;

	r = cache_read_or_claim(s->cache, x->ref.key, off, buf, len, &got);
	if (r == 0)
		return got == len ? 0 : -EBADMSG;
	/* Ours to load: decrypt straight into a cache entry. */
	if ((r = load_claimed(s, x, &chunk)) < 0)
		return r;
	memcpy(buf, chunk + off, len);
	cache_insert(s->cache, x->ref.key, chunk);
	return 0;
}

/* The index of the first extent of ${e} that ends after ${off}. */
static size_t
extent_after(const struct store_entry *e, uint64_t off)
{
	size_t lo = 0;
	size_t hi = e->n_extents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct store_extent *x = &e->extents[mid];

		if (x->off + x->len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * What a read of ${len} bytes at ${off} of ${e} covers: *${end}, where it
 * stops (at the end of the file), and *${lo}, the first extent that may
 * hold ${off}.  Returns 1; 0 at or past the end of the file; -EACCES
 * without the master key; -EINVAL if ${e} is not a regular file.
 */
static int
read_span(const struct store *s, const struct store_entry *e, uint64_t off,
    size_t len, uint64_t *end, size_t *lo)
{
	if (!s->kr.has_master)
		return -EACCES;
	if (e->type != STORE_REG)
		return -EINVAL;
	if (off >= e->size)
		return 0;
	*end = e->size - off < len ? e->size : off + len;
	*lo = extent_after(e, off);
	return 1;
}

int
store_read(struct store *s, const struct store_entry *e, uint64_t off,
    uint8_t *buf, size_t len, size_t *got)
{
	uint64_t end;
	uint64_t pos = off;
	size_t lo;
	size_t last;
	int r;

	*got = 0;
	if ((r = read_span(s, e, off, len, &end, &lo)) <= 0)
		return r;
	/* The last extent that starts before ${end}; queue what follows it
	 * first, so the pool works while this thread decrypts. */
	for (last = lo; last + 1 < e->n_extents &&
	    e->extents[last + 1].off < end; last++)
		;
	if (last + 1 < e->n_extents)
		prefetch_after(s, e, last, off, end);
	while (pos < end) {
		const struct store_extent *x = lo < e->n_extents ?
		    &e->extents[lo] : NULL;
		uint64_t stop;

		if (x != NULL && x->off <= pos) {
			stop = x->off + x->len < end ? x->off + x->len : end;
			r = read_extent(s, x, (size_t)(pos - x->off),
			    buf + (pos - off), (size_t)(stop - pos));
			if (r < 0)
				return r;
			lo++;
		} else {
			stop = x != NULL && x->off < end ? x->off : end;
			memset(buf + (pos - off), 0, (size_t)(stop - pos));
		}
		pos = stop;
	}
	*got = (size_t)(end - off);
	return 0;
}

/* Pin extent ${x} (loading it if needed); sets *${data}. */
static int
pin_extent(struct store *s, const struct store_extent *x,
    const uint8_t **data)
{
	uint8_t *chunk;
	size_t got;
	int r;

	r = cache_pin_or_claim(s->cache, x->ref.key, data, &got);
	if (r == 0) {
		if (got == x->len)
			return 0;
		cache_unpin(s->cache, *data);
		return -EBADMSG;
	}
	if ((r = load_claimed(s, x, &chunk)) < 0)
		return r;
	*data = cache_insert_pin(s->cache, x->ref.key, chunk);
	return 0;
}

void
store_unpin(struct store *s, struct store_pin *p)
{
	for (size_t i = 0; i < p->n_iov; i++)
		cache_unpin(s->cache, p->held[i]);
	p->n_iov = 0;
}

int
store_read_pin(struct store *s, const struct store_entry *e, uint64_t off,
    size_t len, struct store_pin *p, size_t *got)
{
	uint64_t end;
	uint64_t pos = off;
	size_t lo;
	size_t last;
	int r;

	*got = 0;
	p->n_iov = 0;
	if ((r = read_span(s, e, off, len, &end, &lo)) <= 0)
		return r;
	/* Only ranges that are extents' bytes end to end, no holes. */
	for (last = lo; pos < end; last++) {
		if (last >= e->n_extents || e->extents[last].off > pos ||
		    last - lo >= STORE_PIN_MAX)
			return -ERANGE;
		pos = e->extents[last].off + e->extents[last].len;
	}
	if (last < e->n_extents)
		prefetch_after(s, e, last - 1, off, end);
	pos = off;
	while (pos < end) {
		const struct store_extent *x = &e->extents[lo + p->n_iov];
		uint64_t stop = x->off + x->len < end ? x->off + x->len : end;
		const uint8_t *data;

		if ((r = pin_extent(s, x, &data)) < 0) {
			store_unpin(s, p);
			return r;
		}
		p->held[p->n_iov] = data;
		p->iov[p->n_iov].iov_base = (void *)(uintptr_t)(data +
		    (pos - x->off));
		p->iov[p->n_iov].iov_len = (size_t)(stop - pos);
		p->n_iov++;
		pos = stop;
	}
	*got = (size_t)(end - off);
	return 0;
}
