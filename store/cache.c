/*
 * cache.c: chained hash table plus an intrusive LRU list, under one
 * mutex.  The table has a fixed number of buckets, chosen from the
 * capacity, so it never rehashes.
 *
 * A pinned entry (cache_pin*) is lent out without a copy: it counts its
 * pins, and an eviction only takes it out of the table and the LRU list,
 * leaving the last cache_unpin() to free it.  Its bytes leave the
 * accounting when it is evicted, so the cache may briefly hold more than
 * its capacity by what readers have pinned (a few requests' worth).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cache.h"
#include "rd.h"

struct centry {
	uint8_t id[32];
	size_t len;
	unsigned n_pins;
	int is_evicted;		/* out of the table; the last unpin frees */
	struct centry *next;	/* bucket chain */
	struct centry *lru_prev;
	struct centry *lru_next;
	uint8_t data[];
};

#define N_LOADING 32

struct cache {
	pthread_mutex_t lock;
	pthread_cond_t loaded;	/* a claimed chunk was inserted or dropped */
	uint8_t loading[N_LOADING][32];	/* chunks claimed by a loader */
	size_t n_loading;
	size_t cap;
	size_t used;
	size_t n_buckets;
	struct centry **buckets;
	struct centry *head;	/* most recently used */
	struct centry *tail;
};

int
cache_new(size_t cap, struct cache **out)
{
	struct cache *c;
	size_t n = 64;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	while (n < cap / (64 << 10) && n < (1u << 20))
		n *= 2;
	if ((c->buckets = calloc(n, sizeof(*c->buckets))) == NULL) {
		free(c);
		return -ENOMEM;
	}
	c->n_buckets = n;
	c->cap = cap;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->loaded, NULL);
	*out = c;
	return 0;
}

void
cache_free(struct cache *c)
{
	struct centry *e;

	if (c == NULL)
		return;
	/* Every pin is released by now (the contract of cache_unpin). */
	while ((e = c->head) != NULL) {
		c->head = e->lru_next;
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->loaded);
	free(c->buckets);
	free(c);
}

static size_t
bucket(const struct cache *c, const uint8_t id[32])
{
	return (size_t)le_get(id, 8) & (c->n_buckets - 1);
}

static void
lru_unlink(struct cache *c, struct centry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void
lru_push(struct cache *c, struct centry *e)
{
	e->lru_next = c->head;
	e->lru_prev = NULL;
	if (c->head)
		c->head->lru_prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static struct centry *
find(struct cache *c, const uint8_t id[32])
{
	struct centry *e = c->buckets[bucket(c, id)];

	while (e != NULL && memcmp(e->id, id, 32) != 0)
		e = e->next;
	return e;
}

static void
evict(struct cache *c, struct centry *e)
{
	struct centry **pp = &c->buckets[bucket(c, e->id)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	lru_unlink(c, e);
	c->used -= e->len;
	if (e->n_pins > 0)
		e->is_evicted = 1;
	else
		free(e);
}

/* Copy out of a cached entry (lock held); -ENOENT on a miss. */
static int
read_locked(struct cache *c, const uint8_t id[32], size_t off, uint8_t *buf,
    size_t len, size_t *got)
{
	struct centry *e;
	size_t n;

	if ((e = find(c, id)) == NULL)
		return -ENOENT;
	n = off < e->len ? e->len - off : 0;
	if (n > len)
		n = len;
	memcpy(buf, e->data + off, n);
	*got = n;
	lru_unlink(c, e);
	lru_push(c, e);
	return 0;
}

int
cache_read(struct cache *c, const uint8_t id[32], size_t off, uint8_t *buf,
    size_t len, size_t *got)
{
	int r;

	if (c == NULL || c->cap == 0)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	r = read_locked(c, id, off, buf, len, got);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static ssize_t
loading_find(const struct cache *c, const uint8_t id[32])
{
	for (size_t i = 0; i < c->n_loading; i++)
		if (memcmp(c->loading[i], id, 32) == 0)
			return (ssize_t)i;
	return -1;
}

/* Drop a claim (lock held) and wake the waiters. */
static void
unclaim(struct cache *c, const uint8_t id[32])
{
	ssize_t i = loading_find(c, id);

	if (i < 0)
		return;
	memmove(c->loading[i], c->loading[c->n_loading - 1], 32);
	c->n_loading--;
	pthread_cond_broadcast(&c->loaded);
}

/*
 * After a miss on ${id}, with ${c}'s lock held: claim ${id} for the
 * caller to load (-EAGAIN; past N_LOADING claims, it loads without one
 * rather than wait), or wait until another thread has loaded it (0: look
 * again).
 */
static int
claim_or_wait(struct cache *c, const uint8_t id[32])
{
	if (loading_find(c, id) < 0) {
		if (c->n_loading < N_LOADING)
			memcpy(c->loading[c->n_loading++], id, 32);
		return -EAGAIN;
	}
	pthread_cond_wait(&c->loaded, &c->lock);
	return 0;
}

int
cache_read_or_claim(struct cache *c, const uint8_t id[32], size_t off,
    uint8_t *buf, size_t len, size_t *got)
{
	int r;

	if (c == NULL || c->cap == 0)
		return -EAGAIN;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if ((r = read_locked(c, id, off, buf, len, got)) == 0)
			break;
		if ((r = claim_or_wait(c, id)) < 0)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

int
cache_claim(struct cache *c, const uint8_t id[32])
{
	int r = 0;

	if (c == NULL || c->cap == 0)
		return -EBUSY;
	pthread_mutex_lock(&c->lock);
	if (find(c, id) == NULL && loading_find(c, id) < 0) {
		if (c->n_loading < N_LOADING) {
			memcpy(c->loading[c->n_loading++], id, 32);
			r = -EAGAIN;
		} else {
			r = -EBUSY;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

size_t
cache_cap(const struct cache *c)
{
	return c == NULL ? 0 : c->cap;
}

void
cache_abandon(struct cache *c, const uint8_t id[32])
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	unclaim(c, id);
	pthread_mutex_unlock(&c->lock);
}

uint8_t *
cache_entry_new(size_t len)
{
	struct centry *e = malloc(sizeof(*e) + len);

	if (e == NULL)
		return NULL;
	e->len = len;
	e->n_pins = 0;
	e->is_evicted = 0;
	return e->data;
}

static struct centry *
entry_of(uint8_t *data)
{
	return (struct centry *)(void *)(data - offsetof(struct centry, data));
}

void
cache_entry_free(uint8_t *data)
{
	if (data != NULL)
		free(entry_of(data));
}

void
cache_put(struct cache *c, const uint8_t id[32], const uint8_t *data,
    size_t len)
{
	uint8_t *d;

	if (c == NULL || len > c->cap / 2 || (d = cache_entry_new(len)) == NULL)
		return;
	memcpy(d, data, len);
	cache_insert(c, id, d);
}

/* Put ${e} in the table, evicting as needed (lock held). */
static void
add_locked(struct cache *c, struct centry *e)
{
	while (c->used + e->len > c->cap && c->tail != NULL)
		evict(c, c->tail);
	e->next = c->buckets[bucket(c, e->id)];
	c->buckets[bucket(c, e->id)] = e;
	lru_push(c, e);
	c->used += e->len;
}

void
cache_insert(struct cache *c, const uint8_t id[32], uint8_t *data)
{
	struct centry *e = entry_of(data);
	size_t len = e->len;

	if (c == NULL)  {
		free(e);
		return;
	}
	if (len > c->cap / 2) {
		cache_abandon(c, id);
		free(e);
		return;
	}
	memcpy(e->id, id, 32);
	e->next = e->lru_prev = e->lru_next = NULL;
	pthread_mutex_lock(&c->lock);
	unclaim(c, id);
	if (find(c, id) != NULL) {
		pthread_mutex_unlock(&c->lock);
		free(e);
		return;
	}
	add_locked(c, e);
	pthread_mutex_unlock(&c->lock);
}

const uint8_t *
cache_insert_pin(struct cache *c, const uint8_t id[32], uint8_t *data)
{
	struct centry *e = entry_of(data);
	struct centry *old;

	memcpy(e->id, id, 32);
	e->next = e->lru_prev = e->lru_next = NULL;
	e->n_pins = 1;
	e->is_evicted = 0;
	if (c == NULL || e->len > c->cap / 2) {
		/* Too big to keep: the caller's alone, freed by unpin. */
		e->is_evicted = 1;
		if (c != NULL)
			cache_abandon(c, id);
		return e->data;
	}
	pthread_mutex_lock(&c->lock);
	unclaim(c, id);
	if ((old = find(c, id)) != NULL) {
		old->n_pins++;
		lru_unlink(c, old);
		lru_push(c, old);
		pthread_mutex_unlock(&c->lock);
		free(e);
		return old->data;
	}
	add_locked(c, e);
	pthread_mutex_unlock(&c->lock);
	return e->data;
}

int
cache_pin_or_claim(struct cache *c, const uint8_t id[32],
    const uint8_t **data, size_t *len)
{
	struct centry *e;
	int r;

	if (c == NULL || c->cap == 0)
		return -EAGAIN;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if ((e = find(c, id)) != NULL) {
			e->n_pins++;
			lru_unlink(c, e);
			lru_push(c, e);
			*data = e->data;
			*len = e->len;
			r = 0;
			break;
		}
		if ((r = claim_or_wait(c, id)) < 0)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

void
cache_unpin(struct cache *c, const uint8_t *data)
{
	struct centry *e;
	int is_free;

	if (data == NULL)
		return;
	e = entry_of((uint8_t *)(uintptr_t)data);
	if (c != NULL)
		pthread_mutex_lock(&c->lock);
	e->n_pins--;
	is_free = e->is_evicted && e->n_pins == 0;
	if (c != NULL)
		pthread_mutex_unlock(&c->lock);
	if (is_free)
		free(e);
}
