/*
 * packstream.c: a pack written to its object as it fills.  The writer's
 * workers cut an open pack's bytes into pieces as it grows and hand each
 * to the backend as soon as it is cut (backend.h, put_open), hashing it
 * on the way; the table and the end follow when the pack is full.  So no
 * pack is ever held whole: a pack of 16 MiB being filled, one being put
 * and one kept for reuse were a third of a first ingest's memory.
 *
 * Pieces may be cut by any worker, and written by the one that cut it,
 * outside the writer's lock; a ticket taken under that lock as the piece
 * is cut gives the order, and each write waits for the ones before it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "backend.h"
#include "crypt.h"
#include "packstream.h"
#include "storei.h"
#include "upload.h"

struct pack_stream {
	struct store *s;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	uint64_t n_tickets;	/* handed out (under the caller's lock) */
	uint64_t n_done;	/* pieces written, in ticket order (lock) */
	int err;		/* the first error of a write (lock) */
	/* Touched only by the holder of the turn (n_done == its ticket). */
	struct backend_obj *obj;	/* NULL until the first piece */
	struct crypt_sha256 *h;
	uint64_t len;		/* bytes written */
};

int
pack_stream_new(struct store *s, struct pack_stream **out)
{
	struct pack_stream *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	if ((p->h = crypt_sha256_new()) == NULL) {
		free(p);
		return -ENOMEM;
	}
	p->s = s;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cv, NULL);
	*out = p;
	return 0;
}

uint64_t
pack_stream_ticket(struct pack_stream *p)
{
	return p->n_tickets++;
}

/* Wait for the turn of ${ticket}; the first error so far, or 0. */
static int
turn_begin(struct pack_stream *p, uint64_t ticket)
{
	int r;

	pthread_mutex_lock(&p->lock);
	while (p->n_done != ticket)
		pthread_cond_wait(&p->cv, &p->lock);
	r = p->err;
	pthread_mutex_unlock(&p->lock);
	return r;
}

static void
turn_end(struct pack_stream *p, int r)
{
	pthread_mutex_lock(&p->lock);
	if (r < 0 && p->err == 0)
		p->err = r;
	p->n_done++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
}

/* Write ${len} bytes, hashed already, to the object (the turn held). */
static int
obj_append(struct pack_stream *p, const uint8_t *buf, size_t len)
{
	struct backend *be = p->s->be;
	int r;

	if (p->obj == NULL && (r = be->ops->put_open(be, &p->obj)) < 0)
		return r;
	if ((r = be->ops->put_append(p->obj, buf, len)) < 0)
		return r;
	p->len += len;
	return 0;
}

int
pack_stream_write(struct pack_stream *p, uint64_t ticket, const uint8_t *buf,
    size_t len)
{
	int r = turn_begin(p, ticket);

	if (r == 0 && (r = crypt_sha256_add(p->h, buf, len)) == 0)
		r = obj_append(p, buf, len);
	turn_end(p, r);
	return r;
}

int
pack_stream_close(struct pack_stream *p, uint64_t ticket, struct wb *tail,
    const struct pack_entry *e, size_t n, uint8_t h[STORE_HASH_LEN],
    uint64_t *size)
{
	char name[80];
	int r;

	/* The last ticket: once its turn comes, no other is waiting. */
	if ((r = turn_begin(p, ticket)) < 0 ||
	    (r = crypt_sha256_add(p->h, tail->p, tail->len)) < 0)
		goto out;
	/* Table and end appended to the tail, and hashed with it. */
	r = upload_seal_end(p->s, p->h, tail, e, n, h);
	p->h = NULL;
	if (r < 0 || (r = obj_append(p, tail->p, tail->len)) < 0)
		goto out;
	*size = p->len;
	pack_name(h, name);
	r = p->s->be->ops->put_commit(p->obj, name);
	p->obj = NULL;
	if (r == -EEXIST)	/* the same bytes: a pack of a killed run */
		r = 0;
out:
	pack_stream_free(p);
	return r;
}

void
pack_stream_free(struct pack_stream *p)
{
	uint8_t h[STORE_HASH_LEN];

	if (p == NULL)
		return;
	if (p->obj != NULL)
		p->s->be->ops->put_abort(p->obj);
	if (p->h != NULL)
		(void)crypt_sha256_end(p->h, h);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cv);
	free(p);
}
