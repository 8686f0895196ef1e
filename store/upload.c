/*
 * upload.c: closing packs (the sealed table at their end) and the
 * threads that put them.  A put is mostly waiting (for the network, or
 * for fsync on a local store); done by the sealing worker that closed
 * the pack, as before, it kept that core idle for the whole request,
 * and no more puts ran at once than there are cores.  Here a worker
 * hands the pack over and goes back to sealing; n threads each run one
 * put at a time, and the queue holds at most n more packs, so what an
 * ingest holds in closed packs is bounded by 2 n PACK_TARGET.  A worker
 * that finds the queue full waits: the network paces the sealing, never
 * the other way round.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypt.h"
#include "index.h"
#include "storei.h"
#include "upload.h"

struct upload_pool {
	struct store *s;
	pthread_t *threads;
	size_t n_threads;
	pthread_mutex_t lock;
	pthread_cond_t cv_job;	/* a pack was queued, or stopping */
	pthread_cond_t cv_done;	/* a pack was taken or finished */
	struct upload *q;	/* ring of q_cap */
	size_t q_cap;
	size_t q_head;
	size_t q_len;
	size_t n_busy;
	int is_stopping;
	int err;		/* the first error; later packs are dropped */
	/* The buffer of a pack put, for the writer's next pack
	 * (upload_spare()): a new one faults in 16 MiB of pages again. */
	struct wb spare;
};

static void
upload_fini(struct upload *u)
{
	wb_fini(&u->pack);
	free(u->e);
	u->e = NULL;
}

int
upload_seal_end(struct store *s, struct crypt_sha256 *c, struct wb *out,
    const struct pack_entry *e, size_t n, uint8_t h[STORE_HASH_LEN])
{
	uint8_t *toc = NULL;
	size_t toc_len;
	size_t at = out->len;
	int r;

	/* The table binds itself to the bytes before it (format 2); the
	 * pack's name hashes them too, so they are read once for both. */
	if ((r = crypt_sha256_mid(c, h)) < 0 ||
	    (r = pack_toc_seal(s->kr.toc_key, 2, h, e, n, &toc,
	    &toc_len)) < 0)
		goto out;
	if ((r = wb_bytes(out, toc, toc_len)) == 0 &&
	    (r = wb_u32(out, toc_len)) == 0 &&
	    (r = wb_bytes(out, PACK_END, 8)) == 0 &&
	    (r = crypt_sha256_add(c, out->p + at, out->len - at)) == 0) {
		r = crypt_sha256_end(c, h);
		c = NULL;
	}
out:
	if (c != NULL)
		(void)crypt_sha256_end(c, h);
	free(toc);
	return r;
}

int
upload_seal(struct store *s, struct wb *pack, const struct pack_entry *e,
    size_t n, uint8_t h[STORE_HASH_LEN])
{
	struct crypt_sha256 *c = crypt_sha256_new();
	int r;

	if (c == NULL)
		return -ENOMEM;
	if ((r = crypt_sha256_add(c, pack->p, pack->len)) < 0) {
		(void)crypt_sha256_end(c, h);
		return r;
	}
	return upload_seal_end(s, c, pack, e, n, h);
}

int
upload_put(struct store *s, const struct wb *pack,
    const uint8_t h[STORE_HASH_LEN], const struct pack_entry *e, size_t n,
    int index_kind)
{
	char name[80];
	int r;

	pack_name(h, name);
	r = backend_put(s->be, name, pack->p, pack->len, h);
	if (r == -EEXIST)
		r = 0;
	if (r == 0)
		r = index_pack_add_kind(s->ix, h, pack->len, e, n, index_kind);
	return r;
}

static void *
uploader(void *arg)
{
	struct upload_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct upload u;
		int r;

		while (p->q_len == 0 && !p->is_stopping)
			pthread_cond_wait(&p->cv_job, &p->lock);
		if (p->q_len == 0)
			break;
		u = p->q[p->q_head];
		p->q_head = (p->q_head + 1) % p->q_cap;
		p->q_len--;
		p->n_busy++;
		pthread_cond_broadcast(&p->cv_done);
		/* After an error, what is queued is dropped: the snapshot
		 * will not be committed, and its packs need not be put. */
		r = p->err;
		pthread_mutex_unlock(&p->lock);
		if (r == 0)
			r = upload_put(p->s, &u.pack, u.h, u.e, u.n,
			    u.index_kind);
		pthread_mutex_lock(&p->lock);
		pack_buf_keep(&p->spare, &u.pack);
		pthread_mutex_unlock(&p->lock);
		upload_fini(&u);
		pthread_mutex_lock(&p->lock);
		if (r < 0 && p->err == 0)
			p->err = r;
		p->n_busy--;
		pthread_cond_broadcast(&p->cv_done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int
upload_pool_new(struct store *s, size_t n, struct upload_pool **out)
{
	struct upload_pool *p;

	if (n < 1 || n > STORE_UPLOADS_MAX)
		return -EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->s = s;
	p->q_cap = n;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cv_job, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	if ((p->q = calloc(p->q_cap, sizeof(*p->q))) == NULL ||
	    (p->threads = calloc(n, sizeof(*p->threads))) == NULL) {
		upload_pool_free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (pthread_create(&p->threads[i], NULL, uploader, p) != 0) {
			upload_pool_free(p);
			return -EAGAIN;
		}
		p->n_threads = i + 1;
	}
	*out = p;
	return 0;
}

int
upload_submit(struct upload_pool *p, struct upload *u)
{
	int r;

	pthread_mutex_lock(&p->lock);
	while (p->q_len == p->q_cap && p->err == 0)
		pthread_cond_wait(&p->cv_done, &p->lock);
	if ((r = p->err) == 0) {
		p->q[(p->q_head + p->q_len) % p->q_cap] = *u;
		p->q_len++;
		pthread_cond_signal(&p->cv_job);
	}
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		upload_fini(u);
	memset(u, 0, sizeof(*u));
	return r;
}

int
upload_spare(struct upload_pool *p, struct wb *out)
{
	int r = -ENOENT;

	pthread_mutex_lock(&p->lock);
	if (p->spare.p != NULL) {
		*out = p->spare;
		memset(&p->spare, 0, sizeof(p->spare));
		r = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
upload_wait(struct upload_pool *p)
{
	int r;

	pthread_mutex_lock(&p->lock);
	while (p->q_len > 0 || p->n_busy > 0)
		pthread_cond_wait(&p->cv_done, &p->lock);
	r = p->err;
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
upload_error(struct upload_pool *p)
{
	int r;

	pthread_mutex_lock(&p->lock);
	r = p->err;
	pthread_mutex_unlock(&p->lock);
	return r;
}

void
upload_pool_free(struct upload_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->is_stopping = 1;
	pthread_cond_broadcast(&p->cv_job);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	/* Threads that never started leave their packs queued. */
	while (p->q_len > 0) {
		upload_fini(&p->q[p->q_head]);
		p->q_head = (p->q_head + 1) % p->q_cap;
		p->q_len--;
	}
	wb_fini(&p->spare);
	pthread_cond_destroy(&p->cv_done);
	pthread_cond_destroy(&p->cv_job);
	pthread_mutex_destroy(&p->lock);
	free(p->q);
	free(p->threads);
	free(p);
}
