/*
 * tcache.c: the tree cache.  A small open hash table (chained, keyed by
 * the whole ref: the tree's id and its key; hashed by the first bytes of
 * the id, which is a keyed hash and so already uniform) plus a doubly linked LRU list of unpinned nodes.  A node is
 * either pinned (n_pin > 0, off the LRU list) or on the list; eviction only
 * ever frees unpinned nodes, so a pointer handed out by tcache_get() stays
 * valid until its tcache_put().  Trees are read outside the lock: two
 * threads missing on the same tree both read it, and the loser frees its
 * copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tcache.h"

#define N_BUCKETS 1024

struct tnode {
	/* The ref the tree was read and checked with.  Not the id alone:
	 * a rogue tree may name a real tree's id with a wrong key, and must
	 * get an error, not the tree another user's walk left here. */
	struct store_ref ref;
	struct store_tree *tree;
	size_t n;
	uint64_t *pre;		/* n + 1 prefix sums */
	unsigned n_pin;
	struct tnode *hnext;	/* hash chain */
	struct tnode *prev;	/* LRU list, most recent first */
	struct tnode *next;
};

struct tcache {
	struct store *s;
	pthread_mutex_t lock;
	size_t max_entries;
	size_t n_entries;	/* in every cached tree, pinned or not */
	struct tnode *bucket[N_BUCKETS];
	struct tnode *lru_head;
	struct tnode *lru_tail;
};

static size_t
bucket_of(const uint8_t id[STORE_HASH_LEN])
{
	return ((size_t)id[0] | (size_t)id[1] << 8) % N_BUCKETS;
}

static void
node_free(struct tnode *n)
{
	if (n == NULL)
		return;
	store_tree_free(n->tree);
	free(n->pre);
	free(n);
}

static void
lru_unlink(struct tcache *c, struct tnode *n)
{
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		c->lru_head = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		c->lru_tail = n->prev;
	n->prev = n->next = NULL;
}

static void
lru_push(struct tcache *c, struct tnode *n)
{
	n->prev = NULL;
	n->next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->prev = n;
	c->lru_head = n;
	if (c->lru_tail == NULL)
		c->lru_tail = n;
}

static void
hash_unlink(struct tcache *c, struct tnode *n)
{
	struct tnode **p = &c->bucket[bucket_of(n->ref.id)];

	while (*p != NULL && *p != n)
		p = &(*p)->hnext;
	if (*p == n)
		*p = n->hnext;
}

/* Drop unpinned trees, oldest first, while over the bound.  Lock held. */
static void
evict(struct tcache *c)
{
	while (c->n_entries > c->max_entries && c->lru_tail != NULL) {
		struct tnode *n = c->lru_tail;

		lru_unlink(c, n);
		hash_unlink(c, n);
		c->n_entries -= n->n;
		node_free(n);
	}
}

int
tcache_new(struct store *s, size_t max_entries, struct tcache **out)
{
	struct tcache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->s = s;
	c->max_entries = max_entries;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void
tcache_free(struct tcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < N_BUCKETS; i++) {
		struct tnode *n = c->bucket[i];

		while (n != NULL) {
			struct tnode *next = n->hnext;

			node_free(n);
			n = next;
		}
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct tnode *
find_locked(struct tcache *c, const struct store_ref *ref)
{
	struct tnode *n;

	for (n = c->bucket[bucket_of(ref->id)]; n != NULL; n = n->hnext)
		if (memcmp(n->ref.id, ref->id, STORE_HASH_LEN) == 0 &&
		    memcmp(n->ref.key, ref->key, STORE_HASH_LEN) == 0)
			return n;
	return NULL;
}

static void
pin_locked(struct tcache *c, struct tnode *n)
{
	if (n->n_pin++ == 0)
		lru_unlink(c, n);
}

/* Read and decode ${ref} into a new, unlinked node. */
static int
load(struct tcache *c, const struct store_ref *ref, struct tnode **out)
{
	struct tnode *n;
	size_t i;
	int r;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -ENOMEM;
	n->ref = *ref;
	if ((r = store_tree_read(c->s, ref, &n->tree)) < 0)
		goto out;
	n->n = store_tree_len(n->tree);
	if ((n->pre = malloc((n->n + 1) * sizeof(*n->pre))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	n->pre[0] = 0;
	for (i = 0; i < n->n; i++) {
		uint64_t d = store_tree_entry(n->tree, i)->n_desc;
		uint64_t p = n->pre[i];

		/* Saturate: n_desc comes from disk and may be hostile. */
		if (d >= UINT64_MAX - 1 || p > UINT64_MAX - 1 - d)
			n->pre[i + 1] = UINT64_MAX;
		else
			n->pre[i + 1] = p + 1 + d;
	}
	*out = n;
	n = NULL;
	r = 0;
out:
	node_free(n);
	return r;
}

int
tcache_get(struct tcache *c, const struct store_ref *ref,
    struct tnode **out)
{
	struct tnode *n;
	struct tnode *old;
	int r;

	pthread_mutex_lock(&c->lock);
	if ((n = find_locked(c, ref)) != NULL) {
		pin_locked(c, n);
		pthread_mutex_unlock(&c->lock);
		*out = n;
		return 0;
	}
	pthread_mutex_unlock(&c->lock);

	if ((r = load(c, ref, &n)) < 0)
		return r;

	pthread_mutex_lock(&c->lock);
	if ((old = find_locked(c, ref)) != NULL) {
		/* Another thread loaded it meanwhile: use theirs. */
		pin_locked(c, old);
		pthread_mutex_unlock(&c->lock);
		node_free(n);
		*out = old;
		return 0;
	}
	n->n_pin = 1;
	n->hnext = c->bucket[bucket_of(n->ref.id)];
	c->bucket[bucket_of(n->ref.id)] = n;
	c->n_entries += n->n;
	evict(c);
	pthread_mutex_unlock(&c->lock);
	*out = n;
	return 0;
}

void
tcache_put(struct tcache *c, struct tnode *n)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (--n->n_pin == 0) {
		lru_push(c, n);
		evict(c);
	}
	pthread_mutex_unlock(&c->lock);
}

const struct store_tree *
tcache_tree(const struct tnode *n)
{
	return n->tree;
}

size_t
tcache_len(const struct tnode *n)
{
	return n->n;
}

uint64_t
tcache_pre(const struct tnode *n, size_t i)
{
	return n->pre[i];
}

int
tcache_child(const struct tnode *n, uint64_t rel, size_t *idx)
{
	size_t lo = 0;
	size_t hi = n->n;

	if (n->n == 0 || rel >= n->pre[n->n])
		return -ENOENT;
	/* Invariant: pre[lo] <= rel < pre[hi] (pre is non-decreasing). */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (n->pre[mid] <= rel)
			lo = mid;
		else
			hi = mid;
	}
	*idx = lo;
	return 0;
}
