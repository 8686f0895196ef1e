/*
 * writer.c: writing one snapshot.  The caller's thread cuts files into
 * chunks and copies each into a bounded queue; a pool of worker threads
 * (one per core) computes its id and key (one SHA-256 pass), decides
 * whether it is new, and compresses and seals the new ones and appends
 * the blobs to an open pack.  So the caller does only the reading and the
 * gear hash of the chunker, and the chunks of a large file are hashed and
 * sealed on every core at once; a chunk shorter than the minimum (a small
 * file, the tail of a large one) is hashed by the caller as before, as a
 * hand-off would cost more than its hash.  Cuts are made by the caller
 * over the whole stream as before, so chunk ids do not change.  A pack
 * past PACK_TARGET is closed by the worker that filled it: table sealed,
 * hashed, put, indexed (packfill.c; on a local store, its bytes go to
 * the backend as it fills).  Nothing refers to a pack until the manifest is
 * written by store_writer_commit(), so a writer that dies at any instant
 * leaves only unreferenced objects.
 *
 * Trees go to packs of their own (a second open pack, closed the same
 * way): a walk of a snapshot then reads a few packs that hold nothing
 * else, rather than trees scattered between megabytes of file data, and
 * the index records the kind so that readers can read such packs whole.
 * The trees come from the tree builder, treebuild.c (writer.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "log.h"
#include "pack.h"
#include "snap.h"
#include "snapx.h"
#include "storei.h"
#include "tree.h"
#include "idset.h"
#include "ixbatch.h"
#include "packfill.h"
#include "upload.h"
#include "writer.h"

struct store_file;

struct job {
	struct store_ref ref;
	uint8_t *data;
	size_t len;
	int kind;
	/* Not NULL: the ref is not yet known; the worker computes it and
	 * stores it in extent ${i} of ${f} (under the lock).  Either way
	 * the worker then decides whether the chunk is new (is_new()), and
	 * seals it if it is: the caller needs only the ref. */
	struct store_file *f;
	size_t i;
};

struct store_writer {
	struct store *s;
	pthread_t *threads;
	size_t n_threads;
	pthread_mutex_t lock;
	pthread_cond_t cv_job;	/* a job was queued, or stopping */
	pthread_cond_t cv_done;	/* a job was taken or finished */
	struct job *q;
	size_t q_cap;
	size_t q_head;
	size_t q_len;
	size_t q_bytes;		/* of the queued jobs' data */
	size_t q_bytes_max;
	size_t n_busy;
	int is_stopping;
	int err;
	/* The open packs, one per kind; guarded by lock. */
	struct pack_fill packs;
	/* Ids queued or stored by this writer, and packs it reuses. */
	struct idset seen;
	struct idset reused;
	struct store_writer_stats st;
	int is_committed;
	/* One file buffer kept for the next file: most files are small,
	 * and an 8 MiB malloc is an mmap and munmap each time. */
	uint8_t *spare;
	/* Cache records that may be written only once the snapshot that
	 * makes their chunks reachable is committed. */
	struct wb deferred;
	/* A shared flock of the prune lock, for the writer's whole life:
	 * no prune deletes a pack while it runs (prune.c); -1: none. */
	int prune_fd;
	/* The threads that put closed packs; NULL: the worker puts. */
	struct upload_pool *up;
	/* The packs put, waiting to be indexed. */
	struct ix_batch *batch;
};

int
writer_pack_close(struct store *s, struct wb *pack, const struct pack_entry *e,
    size_t n, int kind)
{
	uint8_t h[STORE_HASH_LEN];
	int r;

	if ((r = upload_seal(s, pack, e, n, h)) < 0)
		return r;
	return upload_put(s, pack, h, e, n, kind);
}

static int hash_job(struct store_writer *w, struct job *j);
static int is_new(struct store_writer *w, const struct store_ref *ref,
    size_t len);

static void *
worker(void *arg)
{
	struct store_writer *w = arg;
	uint8_t *blob = NULL;
	size_t cap = 0;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job j;
		struct pack_taken t = { 0 };
		size_t blen;
		int r;

		while (w->q_len == 0 && !w->is_stopping)
			pthread_cond_wait(&w->cv_job, &w->lock);
		if (w->q_len == 0)
			break;
		j = w->q[w->q_head];
		w->q_head = (w->q_head + 1) % w->q_cap;
		w->q_len--;
		w->q_bytes -= j.len;
		w->n_busy++;
		pthread_cond_broadcast(&w->cv_done);
		pthread_mutex_unlock(&w->lock);

		if (j.f != NULL)
			r = hash_job(w, &j);
		else
			r = is_new(w, &j.ref, j.len);
		if (r <= 0) {
			/* Stored already (0), or failed. */
			free(j.data);
			pthread_mutex_lock(&w->lock);
			if (r < 0 && w->err == 0)
				w->err = r;
			w->n_busy--;
			pthread_cond_broadcast(&w->cv_done);
			continue;
		}
		r = 0;
		if (cap < j.len + BLOB_OVERHEAD) {
			free(blob);
			cap = j.len + BLOB_OVERHEAD;
			if ((blob = malloc(cap)) == NULL) {
				cap = 0;
				r = -ENOMEM;
			}
		}
		if (r == 0)
			r = blob_seal(&j.ref, j.data, j.len, blob, cap, &blen);
		free(j.data);

		pthread_mutex_lock(&w->lock);
		if (r == 0 && (r = packfill_append(&w->packs, j.kind,
		    j.ref.id, j.len, blob, blen)) == 0)
			packfill_after(&w->packs, j.kind, &t);
		pthread_mutex_unlock(&w->lock);
		if (r == 0)
			r = packfill_finish(&w->packs, &t, j.kind);
		pthread_mutex_lock(&w->lock);
		if (r < 0 && w->err == 0)
			w->err = r;
		w->n_busy--;
		pthread_cond_broadcast(&w->cv_done);
	}
	pthread_mutex_unlock(&w->lock);
	free(blob);
	return NULL;
}

/* How many packs a writer of ${s} puts at once; 0: no uploaders. */
static size_t
uploads_of(const struct store *s)
{
	if (s->opts.uploads > 0)
		return s->opts.uploads;
	return s->be->is_local ? 0 : STORE_UPLOADS_DEFAULT;
}

int
store_writer_new(struct store *s, struct store_writer **out)
{
	struct store_writer *w;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n_up;
	int r;

	if (s->ix == NULL)
		return -EACCES;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->s = s;
	if ((r = writer_lock_horizon(s, 0)) < 0) {
		free(w);
		return r;
	}
	/* Waits for a running prune to end (it rebuilds the index) */
	if ((w->prune_fd = prune_lock(s, 0, 1)) >= 0)
		store_index_sync(s, 0);
	w->n_threads = n < 1 ? 1 : n > 16 ? 16 : (size_t)n;
	/*
	 * The queue is bounded by bytes, n + 1 of the largest chunk (2n + 2
	 * cost 12 MiB more of peak memory and bought no speed), but holds
	 * many small jobs: with room for only a few small files, the
	 * workers emptied it, slept and were woken for each file, and a
	 * quarter of both CPUs went idle.
	 */
	w->q_bytes_max = (w->n_threads + 1) * s->chunker.max;
	w->q_cap = 64 * w->n_threads;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cv_job, NULL);
	pthread_cond_init(&w->cv_done, NULL);
	if ((w->q = calloc(w->q_cap, sizeof(*w->q))) == NULL ||
	    (w->threads = calloc(w->n_threads, sizeof(*w->threads))) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = ix_batch_new(s->ix, &w->batch)) < 0 ||
	    ((n_up = uploads_of(s)) > 0 &&
	    (r = upload_pool_new(s, n_up, &w->up)) < 0))
		goto fail;
	packfill_init(&w->packs, s, &w->lock, &w->st, w->up, w->batch);
	for (size_t i = 0; i < w->n_threads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker, w) != 0) {
			w->n_threads = i;
			r = -ENOMEM;
			goto fail;
		}
	}
	*out = w;
	return 0;
fail:
	store_writer_free(w);
	return r;
}

/* Wait until every queued job is sealed; lock not held. */
static int
drain(struct store_writer *w)
{
	int r;

	pthread_mutex_lock(&w->lock);
	while (w->q_len > 0 || w->n_busy > 0)
		pthread_cond_wait(&w->cv_done, &w->lock);
	r = w->err;
	pthread_mutex_unlock(&w->lock);
	return r;
}

/* Note pack ${h} as one this snapshot reuses; lock not held. */
static int
reused_add(struct store_writer *w, const uint8_t h[STORE_HASH_LEN])
{
	int r;

	pthread_mutex_lock(&w->lock);
	r = idset_add(&w->reused, h);
	pthread_mutex_unlock(&w->lock);
	return r;
}

/*
 * keep_locked(w, id): note the pack(s) of chunk ${id} for protect at
 * commit: the one this machine wrote where there is one, else every
 * location's (which of them is genuine is not known without reading
 * the chunk, and the genuine one must not expire).
 */
static int
keep_locked(struct store_writer *w, const uint8_t id[STORE_HASH_LEN])
{
	struct index_locs it = INDEX_LOCS_INIT;
	struct chunk_loc loc;
	int r;

	while ((r = index_locs_next(w->s->ix, id, &it, &loc)) == 1)
		if (index_pack_is_mine(w->s->ix, loc.pack) == 1)
			return reused_add(w, loc.pack);
	if (r < 0)
		return r;
	it = (struct index_locs)INDEX_LOCS_INIT;
	while ((r = index_locs_next(w->s->ix, id, &it, &loc)) == 1)
		if (reused_add(w, loc.pack) < 0)
			return -ENOMEM;
	return r;
}

/* The index's cache table of chunks found intact by a writer's read. */
static const char dedup_table[] = "dedup-checked";

/*
 * stored_copy(w, ref, len, out): whether chunk ${ref} (${len} bytes) is
 * stored already in a copy a snapshot can rely on; sets *${out} to it.
 * Returns 1, 0 (not stored: store it), or -errno.
 *
 * A location in the index is only a claim: whoever may add a pack may
 * claim any id whose plaintext it knows, say junk planted under the id
 * of a public file before an honest host backs that file up.  Deduping
 * against such a claim would leave that snapshot without the data.  So a
 * copy counts when this machine's writer wrote its pack, or once it has
 * been read back and found to be the chunk (the writer has the
 * plaintext's ref, so the identity check tells), which the index then
 * remembers: a read per chunk, once per machine, and only of chunks
 * other machines stored.
 */
static int
stored_copy(struct store_writer *w, const struct store_ref *ref, size_t len,
    struct chunk_loc *out)
{
	struct index *ix = w->s->ix;
	struct index_locs it = INDEX_LOCS_INIT;
	struct chunk_loc loc;
	uint8_t *tmp = NULL;
	size_t got;
	int has_any = 0;
	int r;

	while ((r = index_locs_next(ix, ref->id, &it, &loc)) == 1) {
		if (!has_any) {
			*out = loc;
			has_any = 1;
		}
		if ((r = index_pack_is_mine(ix, loc.pack)) != 0) {
			if (r == 1)
				*out = loc;
			return r;
		}
	}
	if (r < 0 || !has_any)
		return r;
	if (index_cache_get(ix, dedup_table, ref->id, STORE_HASH_LEN, NULL,
	    NULL) == 0)
		return 1;
	if ((tmp = malloc(len + 1)) == NULL)
		return -ENOMEM;
	it = (struct index_locs)INDEX_LOCS_INIT;
	while ((r = index_locs_next(ix, ref->id, &it, &loc)) == 1) {
		if (loc.raw_len != len)
			continue;
		r = store_chunk_open_at(w->s, ref, &loc, tmp, len, &got, NULL);
		if (r == -ENOMEM)
			break;
		if (r == 0 && got == len) {
			*out = loc;
			(void)index_cache_put(ix, dedup_table, ref->id,
			    STORE_HASH_LEN, "", 0);
			r = 1;
			break;
		}
		r = 0;
	}
	crypt_wipe(tmp, len);
	free(tmp);
	return r;
}

/*
 * is_new(w, ref, len): count chunk ${ref} (${len} bytes) and decide
 * whether to store it: 1 if new (it is then marked as seen, so that of
 * two identical chunks in flight only one is stored), 0 if stored or
 * queued already, or -errno.  Lock not held; safe on any thread.
 */
static int
is_new(struct store_writer *w, const struct store_ref *ref, size_t len)
{
	struct chunk_loc loc;
	int is_stored;
	int r;

	pthread_mutex_lock(&w->lock);
	w->st.n_chunks++;
	w->st.bytes_in += len;
	r = idset_has(&w->seen, ref->id);
	pthread_mutex_unlock(&w->lock);
	if (r)
		return 0;
	if ((is_stored = stored_copy(w, ref, len, &loc)) < 0)
		return is_stored;
	/* Stored already: remember its pack, to keep it locked. */
	if (is_stored && (r = reused_add(w, loc.pack)) < 0)
		return r;
	pthread_mutex_lock(&w->lock);
	if (idset_has(&w->seen, ref->id)) {
		r = 0;
	} else if (idset_add(&w->seen, ref->id) < 0) {
		r = -ENOMEM;
	} else if (is_stored) {
		r = 0;
	} else {
		w->st.n_new++;
		w->st.bytes_new += len;
		r = 1;
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

/* Queue ${j}, waiting for room; frees its data on failure. */
static int
enqueue(struct store_writer *w, struct job *j)
{
	int r;

	pthread_mutex_lock(&w->lock);
	while ((w->q_len == w->q_cap || (w->q_len > 0 &&
	    w->q_bytes + j->len > w->q_bytes_max)) && w->err == 0)
		pthread_cond_wait(&w->cv_done, &w->lock);
	/* After the commit no worker is left to take it. */
	if ((r = w->is_stopping ? -EINVAL : w->err) == 0) {
		w->q[(w->q_head + w->q_len) % w->q_cap] = *j;
		w->q_len++;
		w->q_bytes += j->len;
		pthread_cond_signal(&w->cv_job);
	}
	pthread_mutex_unlock(&w->lock);
	if (r < 0)
		free(j->data);
	return r;
}

/* Name and queue the chunk in malloc'd ${data}, which the job takes. */
static int
queue_owned(struct store_writer *w, uint8_t *data, size_t len, int kind,
    struct store_ref *ref)
{
	struct job j = { 0 };

	store_ref_of(w->s, data, len, ref);
	j.ref = *ref;
	j.len = len;
	j.kind = kind;
	j.data = data;
	return enqueue(w, &j);
}

static int
put_chunk(struct store_writer *w, const uint8_t *buf, size_t len,
    size_t max, int kind, struct store_ref *ref)
{
	uint8_t *data;

	if (len > max)
		return -EINVAL;
	if ((data = malloc(len ? len : 1)) == NULL)
		return -ENOMEM;
	memcpy(data, buf, len);
	return queue_owned(w, data, len, kind, ref);
}

int
store_writer_put(struct store_writer *w, const uint8_t *buf, size_t len,
    struct store_ref *ref)
{
	return put_chunk(w, buf, len, STORE_CHUNK_MAX, KIND_DATA, ref);
}

void
store_writer_stats(const struct store_writer *w,
    struct store_writer_stats *st)
{
	pthread_mutex_lock((pthread_mutex_t *)&w->lock);
	*st = w->st;
	pthread_mutex_unlock((pthread_mutex_t *)&w->lock);
}

/* Stop the workers (once the queue is empty) and wait for them. */
static void
workers_stop(struct store_writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->is_stopping = 1;
	pthread_cond_broadcast(&w->cv_job);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	w->n_threads = 0;
}

void
store_writer_free(struct store_writer *w)
{
	if (w == NULL)
		return;
	workers_stop(w);
	upload_pool_free(w->up);
	for (size_t i = 0; i < w->q_len; i++)
		free(w->q[(w->q_head + i) % w->q_cap].data);
	free(w->q);
	free(w->threads);
	packfill_fini(&w->packs);
	ix_batch_free(w->batch);
	idset_fini(&w->seen);
	idset_fini(&w->reused);
	free(w->spare);
	wb_fini(&w->deferred);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cv_job);
	pthread_cond_destroy(&w->cv_done);
	if (w->prune_fd >= 0)
		close(w->prune_fd);
	free(w);
}

int
store_writer_cache_put(struct store_writer *w, const char *table,
    const void *key, size_t klen, const void *val, size_t vlen)
{
	size_t tl = strlen(table);
	int r;

	if (tl > UINT16_MAX || klen > UINT16_MAX || vlen > UINT32_MAX)
		return -EINVAL;
	if ((r = wb_str16(&w->deferred, table, tl)) < 0 ||
	    (r = wb_str16(&w->deferred, key, klen)) < 0 ||
	    (r = wb_u32(&w->deferred, vlen)) < 0 ||
	    (r = wb_bytes(&w->deferred, val, vlen)) < 0)
		return r;
	return 0;
}

/* Write the deferred cache records; a failure only loses hints. */
static void
flush_deferred(struct store_writer *w)
{
	struct rd r = rd_init(w->deferred.p, w->deferred.len);

	while (r.len > 0) {
		const uint8_t *t;
		const uint8_t *k;
		const uint8_t *v;
		size_t tl;
		size_t kl;
		uint32_t vl;
		char table[256];

		if (rd_str16(&r, sizeof(table) - 1, &t, &tl) < 0 ||
		    rd_str16(&r, UINT16_MAX, &k, &kl) < 0 ||
		    rd_u32(&r, &vl) < 0 || rd_bytes(&r, vl, &v) < 0)
			break;
		memcpy(table, t, tl);
		table[tl] = '\0';
		index_cache_put(w->s->ix, table, k, kl, v, vl);
	}
	wb_fini(&w->deferred);
}

/* ---- files ---- */

struct store_file {
	struct store_writer *w;
	uint8_t *buf;
	size_t cap;
	size_t start;		/* data is buf[start, end) */
	size_t end;
	uint64_t off;		/* file offset of buf[start] */
	int has_data;
	struct store_extent *ext;	/* grown only under w->lock */
	size_t n_ext;
	size_t cap_ext;
	size_t n_pending;	/* extents whose ref a worker computes */
};

/*
 * hash_job(w, j): the worker's half of a chunk of file ${j->f}: compute
 * its ref, put it in the file's extent, and decide whether it is new.
 * Returns as is_new(): 1 (new: seal it), 0 (stored already) or -errno.
 */
static int
hash_job(struct store_writer *w, struct job *j)
{
	struct store_file *f = j->f;
	int r;

	store_ref_of(w->s, j->data, j->len, &j->ref);
	r = is_new(w, &j->ref, j->len);
	pthread_mutex_lock(&w->lock);
	f->ext[j->i].ref = j->ref;
	f->n_pending--;
	pthread_cond_broadcast(&w->cv_done);
	pthread_mutex_unlock(&w->lock);
	return r;
}

/* Wait until every ref of ${f} is known; returns the writer's error. */
static int
file_wait(struct store_file *f)
{
	struct store_writer *w = f->w;
	int r;

	pthread_mutex_lock(&w->lock);
	while (f->n_pending > 0)
		pthread_cond_wait(&w->cv_done, &w->lock);
	r = w->err;
	pthread_mutex_unlock(&w->lock);
	return r;
}

int
store_file_new(struct store_writer *w, struct store_file **out)
{
	struct store_file *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	f->w = w;
	f->cap = 2 * w->s->chunker.max;
	pthread_mutex_lock(&w->lock);
	f->buf = w->spare;
	w->spare = NULL;
	pthread_mutex_unlock(&w->lock);
	if (f->buf == NULL && (f->buf = malloc(f->cap)) == NULL) {
		free(f);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

/* Room for one more extent of ${f}: *${out} (not yet counted). */
static int
ext_next(struct store_file *f, struct store_extent **out)
{
	struct store_writer *w = f->w;
	struct store_extent *x;

	if (f->n_ext == f->cap_ext) {
		size_t cap = f->cap_ext ? 2 * f->cap_ext : 8;

		/* Workers store refs into f->ext under the lock. */
		pthread_mutex_lock(&w->lock);
		x = realloc(f->ext, cap * sizeof(*x));
		if (x != NULL) {
			f->ext = x;
			f->cap_ext = cap;
		}
		pthread_mutex_unlock(&w->lock);
		if (x == NULL)
			return -ENOMEM;
	}
	*out = &f->ext[f->n_ext];
	return 0;
}

static int
emit(struct store_file *f, size_t len)
{
	struct store_writer *w = f->w;
	struct store_extent *x;
	struct job j = { 0 };
	int r;

	if ((r = ext_next(f, &x)) < 0)
		return r;
	x->off = f->off;
	x->len = (uint32_t)len;
	if (len < w->s->chunker.min || w->n_threads < 2) {
		r = store_writer_put(w, f->buf + f->start, len, &x->ref);
	} else {
		memset(&x->ref, 0, sizeof(x->ref));
		j.len = len;
		j.kind = KIND_DATA;
		j.f = f;
		j.i = f->n_ext;
		if ((j.data = malloc(len)) == NULL)
			return -ENOMEM;
		memcpy(j.data, f->buf + f->start, len);
		pthread_mutex_lock(&w->lock);
		f->n_pending++;
		pthread_mutex_unlock(&w->lock);
		if ((r = enqueue(w, &j)) < 0) {
			pthread_mutex_lock(&w->lock);
			f->n_pending--;
			pthread_mutex_unlock(&w->lock);
		}
	}
	if (r < 0)
		return r;
	f->n_ext++;
	f->start += len;
	f->off += len;
	return 0;
}

/* Cut chunks while a full window is buffered, or all with ${is_last}. */
static int
cut(struct store_file *f, int is_last)
{
	const struct chunker *c = &f->w->s->chunker;
	int r;

	while (f->end - f->start >= (is_last ? 1 : c->max)) {
		size_t n = chunker_next(c, f->buf + f->start, f->end - f->start,
		    is_last);

		if ((r = emit(f, n)) < 0)
			return r;
	}
	if (f->start > 0) {
		memmove(f->buf, f->buf + f->start, f->end - f->start);
		f->end -= f->start;
		f->start = 0;
	}
	return 0;
}

int
store_file_write(struct store_file *f, uint64_t off, const uint8_t *buf,
    size_t len)
{
	int r;

	if (f->has_data && off < f->off + (f->end - f->start))
		return -EINVAL;
	if (!f->has_data || off != f->off + (f->end - f->start)) {
		/* A hole (or the start): the chunk stream starts anew. */
		if ((r = cut(f, 1)) < 0)
			return r;
		f->off = off;
		f->has_data = 1;
	}
	while (len > 0) {
		size_t n = f->cap - f->end;

		if (n > len)
			n = len;
		memcpy(f->buf + f->end, buf, n);
		f->end += n;
		buf += n;
		len -= n;
		if ((r = cut(f, 0)) < 0)
			return r;
	}
	return 0;
}

size_t
store_file_take_max(const struct store_file *f)
{
	return f->w->s->chunker.min - 1;
}

int
store_file_take(struct store_file *f, uint8_t *buf, size_t len)
{
	struct store_extent *x;
	int r;

	if (f->has_data || len == 0 || len > store_file_take_max(f)) {
		r = f->has_data ? -EINVAL : store_file_write(f, 0, buf, len);
		free(buf);
		return r;
	}
	/* One chunk, as cut() would make it (chunker_next() never cuts
	 * below the minimum), named here as emit() names a short one. */
	if ((r = ext_next(f, &x)) < 0) {
		free(buf);
		return r;
	}
	x->off = 0;
	x->len = (uint32_t)len;
	if ((r = queue_owned(f->w, buf, len, KIND_DATA, &x->ref)) < 0)
		return r;
	f->n_ext++;
	f->off = len;
	f->has_data = 1;
	return 0;
}

int
store_file_end(struct store_file *f, struct store_extent **extents,
    size_t *n)
{
	int r;

	if ((r = cut(f, 1)) < 0)
		return r;
	if ((r = file_wait(f)) < 0)
		return r;
	*extents = f->ext;
	*n = f->n_ext;
	f->ext = NULL;
	f->n_ext = f->cap_ext = 0;
	return 0;
}

void
store_file_free(struct store_file *f)
{
	if (f == NULL)
		return;
	(void)file_wait(f);	/* no worker may still write to f->ext */
	pthread_mutex_lock(&f->w->lock);
	if (f->w->spare == NULL) {
		f->w->spare = f->buf;
		f->buf = NULL;
	}
	pthread_mutex_unlock(&f->w->lock);
	free(f->buf);
	free(f->ext);
	free(f);
}

/* ---- what the tree builder (treebuild.c) needs ---- */

int
writer_put_tree(struct store_writer *w, const uint8_t *buf, size_t len,
    struct store_ref *ref)
{
	return put_chunk(w, buf, len, STORE_TREE_MAX, KIND_TREES, ref);
}

int
writer_keep_extents(struct store_writer *w, const struct store_entry *e,
    size_t n)
{
	if (w->s->be->ops->protect == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < e[i].n_extents; k++)
			if (keep_locked(w, e[i].extents[k].ref.id) < 0)
				return -ENOMEM;
	return 0;
}

/* ---- commit ---- */

/* Build the snapshot's root tree: files/, repos/, pipelines/. */
static int
build_root(struct store_writer *w, const struct store_snap_new *sn,
    struct store_entry *root)
{
	struct store_tb *top = NULL;
	struct store_tb *tb = NULL;
	int r;

	for (size_t i = 0; i < sn->n_sources; i++)
		if (!store_source_name_ok(sn->sources[i].name,
		    strlen(sn->sources[i].name)) ||
		    sn->sources[i].kind < STORE_FILES ||
		    sn->sources[i].kind > STORE_PIPELINES ||
		    sn->sources[i].root.type != STORE_DIR)
			return log_err(-EINVAL, "invalid source name \"%s\"",
			    sn->sources[i].name);
	if ((r = store_tb_new(&top)) < 0)
		return r;
	for (uint8_t k = STORE_FILES; k <= STORE_PIPELINES; k++) {
		struct store_entry dir = { 0 };
		size_t n = 0;

		if ((r = store_tb_new(&tb)) < 0)
			goto out;
		for (size_t i = 0; i < sn->n_sources; i++) {
			struct store_entry e;

			if (sn->sources[i].kind != k)
				continue;
			e = sn->sources[i].root;
			e.name = (const uint8_t *)sn->sources[i].name;
			e.name_len = strlen(sn->sources[i].name);
			if ((r = store_tb_add(tb, &e)) < 0)
				goto out;
			n++;
		}
		if (n > 0) {
			dir.name = (const uint8_t *)store_kind_name(k);
			dir.name_len = strlen(store_kind_name(k));
			dir.mode = 0755;
			dir.mtime_sec = sn->time_sec;
			dir.mtime_nsec = sn->time_nsec;
			if ((r = store_tb_finish(w, tb, &dir)) < 0) {
				if (r == -EINVAL)
					r = log_err(r, "two sources named "
					    "alike under %s/",
					    store_kind_name(k));
				goto out;
			}
			if ((r = store_tb_add(top, &dir)) < 0)
				goto out;
		}
		store_tb_free(tb);
		tb = NULL;
	}
	memset(root, 0, sizeof(*root));
	root->mode = 0755;
	root->mtime_sec = sn->time_sec;
	root->mtime_nsec = sn->time_nsec;
	r = store_tb_finish(w, top, root);
out:
	store_tb_free(tb);
	store_tb_free(top);
	return r;
}

static int
is_this_pack(void *ctx, const uint8_t h[STORE_HASH_LEN])
{
	return memcmp(ctx, h, STORE_HASH_LEN) == 0;
}

static int
protect_pack(void *ctx, const uint8_t h[32])
{
	struct store *s = ctx;
	char name[80];
	int r;

	pack_name(h, name);
	if ((r = s->be->ops->protect(s->be, name)) != -ENOENT)
		return r;
	/* Gone: expired under the policy and removed by the bucket's
	 * lifecycle rule.  Forget it, so that the next ingest writes its
	 * chunks again instead of failing the same way. */
	(void)index_forget(s->ix, is_this_pack, (void *)h,
	    (const uint8_t (*)[STORE_HASH_LEN])h, 1, NULL, 0);
	return log_err(-ENOENT, "%s: a pack this snapshot reuses is gone "
	    "(expired and removed); the index forgot it: run the ingest "
	    "again", name);
}

static int
protect_key(void *ctx, const char *key, uint64_t size)
{
	struct store *s = ctx;

	(void)size;
	return s->be->ops->protect(s->be, key);
}

/*
 * Commits on one machine take turns, under an flock of commit.lock in
 * the index directory: the heads are read, the commit time taken and the
 * manifest stored by one writer at a time.  So of two ingests that end in
 * the same second the later one has the earlier as parent and the later
 * commit time, and the names they print (T, then T-2) never change
 * (amber-store(5); before, the one that committed first could land
 * second and take T from the other).  Without an index directory, or if
 * the lock cannot be had, the commit goes on unlocked: the order is then
 * only as good as the clocks.  Returns the descriptor to close, or -1.
 */
static int
commit_lock(struct store *s)
{
	const char *dir = store_index_dir(s);
	char path[4096];
	int fd;

	if (dir == NULL || snprintf(path, sizeof(path), "%s/commit.lock",
	    dir) >= (int)sizeof(path))
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

int
store_writer_error(struct store_writer *w)
{
	int r;

	pthread_mutex_lock(&w->lock);
	r = w->err;
	pthread_mutex_unlock(&w->lock);
	if (r == 0 && w->up != NULL)
		r = upload_error(w->up);
	return r;
}

int
store_writer_commit(struct store_writer *w, const struct store_snap_new *sn,
    uint8_t id[STORE_HASH_LEN])
{
	struct store *s = w->s;
	struct store_entry root;
	uint8_t (*parents)[32] = NULL;
	uint8_t *obj = NULL;
	size_t n_parents = 0;
	size_t len;
	char name[80];
	char hex[65];
	int lockfd = -1;
	int r;

	if (w->is_committed)
		return -EINVAL;
	if ((r = build_root(w, sn, &root)) < 0)
		return r;
	if ((r = drain(w)) < 0)
		return r;
	/* Both open packs are stored before the manifest that needs them. */
	for (int k = 0; k < N_KINDS; k++) {
		struct pack_taken last;

		pthread_mutex_lock(&w->lock);
		packfill_take(&w->packs, k, &last);
		pthread_mutex_unlock(&w->lock);
		if ((r = packfill_finish(&w->packs, &last, k)) < 0)
			return r;
	}
	if (w->up != NULL && (r = upload_wait(w->up)) < 0)
		return r;
	/*
	 * Nothing more to seal: what the workers and the packs held goes
	 * back to the system before the last batch is indexed, which maps
	 * the index's new pages; so the two do not add up to the run's peak
	 * of memory (bench tree: 125 -> 110 MiB).
	 */
	workers_stop(w);
	packfill_release(&w->packs);
	free(w->spare);
	w->spare = NULL;
	malloc_trim(0);
	if ((r = ix_batch_flush(w->batch)) < 0)
		return r;
	/* Lengthen the lock of every pack this snapshot reuses before the
	 * manifest that names it is stored: a prune (and the bucket's
	 * lifecycle rule) never removes a pack whose lock lasts, so none
	 * this snapshot needs goes (amber-store(5), PRUNING on S3).  A pack
	 * gone already fails the commit: nothing is committed that names
	 * it. */
	if (s->be->ops->protect != NULL &&
	    (r = idset_each(&w->reused, protect_pack, s)) < 0)
		return r;
	lockfd = commit_lock(s);
	if ((r = store_heads(s, &parents, &n_parents)) < 0)
		goto out;
	if ((r = snap_make(&s->kr, sn, &root, (const uint8_t (*)[32])parents,
	    n_parents, &obj, &len)) < 0)
		goto out;
	crypt_sha256(obj, len, id);
	log_hex(id, 32, hex);
	snprintf(name, sizeof(name), "snapshots/%s", hex);
	if ((r = backend_put(s->be, name, obj, len, id)) < 0)
		goto out;
	w->is_committed = 1;
	r = index_snap_put(s->ix, id, obj, len);
	if (r == 0)
		snapx_add(s, id, obj, len);
	if (lockfd >= 0) {
		close(lockfd);
		lockfd = -1;
	}
	if (r < 0)
		goto out;
	flush_deferred(w);
	/* Keep the objects every snapshot needs locked as long as it is:
	 * the config and the keys. */
	if (s->be->ops->protect != NULL) {
		r = s->be->ops->protect(s->be, "config");
		if (r == 0)
			r = s->be->ops->list(s->be, "keys/", protect_key, s);
	}
out:
	if (lockfd >= 0)
		close(lockfd);
	free(obj);
	free(parents);
	return r;
}
