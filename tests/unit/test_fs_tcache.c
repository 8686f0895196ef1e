/*
 * test_fs_tcache.c: the mount's tree cache (fs/tcache.c) against a store
 * of its own.  This file defines the four store functions the cache
 * calls (store_tree_read, _len, _entry, _free), so the link takes
 * tcache.o from libfs.a and nothing from libstore.a, and every read the
 * cache makes is counted.  Checked: a hit reads nothing and gives the
 * same node; the key is part of the cache key (a ref with a real tree's
 * id and another key is read, and fails, or gets its own tree, never the
 * cached one, also when both are pinned at once); ids in one hash bucket
 * stay apart; eviction drops the least recently used unpinned tree first,
 * never a pinned one, and a tree over the bound as soon as it is unpinned;
 * a failed read caches nothing; the prefix sums and tcache_child(),
 * hostile n_desc values included (they saturate); and threads sharing
 * one small cache always get the tree they asked for.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../../fs/tcache.h"

/*
 * The fake store.  A tree's ref: id[0] its number, id[1] its number of
 * entries, id[2] a kind (below); the key that opens it is the id with
 * every byte xored with 0x5a, or with 0xa5 for a tree that has two
 * (a stand-in for a rogue ref; a real store opens only one).
 */
#define KIND_PLAIN 0
#define KIND_TWO_KEYS 1	/* opens with either key; the tree tells which */
#define KIND_DESC 2	/* n_desc: 0, 3, 0 */
#define KIND_HOSTILE 3	/* n_desc: UINT64_MAX - 1, 5, UINT64_MAX */
#define KIND_MISSING 4	/* -ENOENT */

struct store_tree {
	struct store_ref ref;
	size_t n;
	struct store_entry *e;
	int key_b;	/* opened with the second key */
};

static atomic_uint n_reads;
static atomic_uint n_trees;	/* read whole */
static atomic_uint n_frees;

static void
ref_make(struct store_ref *ref, uint8_t num, uint8_t n, uint8_t kind,
    uint8_t x)
{
	memset(ref, 0, sizeof(*ref));
	ref->id[0] = num;
	ref->id[1] = n;
	ref->id[2] = kind;
	for (size_t i = 0; i < STORE_HASH_LEN; i++)
		ref->key[i] = ref->id[i] ^ x;
}

int
store_tree_read(struct store *s, const struct store_ref *ref,
    struct store_tree **out)
{
	struct store_tree *t;
	int key_b = 0;
	size_t i;

	(void)s;
	atomic_fetch_add(&n_reads, 1);
	for (i = 0; i < STORE_HASH_LEN; i++)
		if (ref->key[i] != (ref->id[i] ^ 0x5a))
			break;
	if (i < STORE_HASH_LEN) {
		for (i = 0; i < STORE_HASH_LEN; i++)
			if (ref->key[i] != (ref->id[i] ^ 0xa5))
				return -EBADMSG;
		if (ref->id[2] != KIND_TWO_KEYS)
			return -EBADMSG;
		key_b = 1;
	}
	if (ref->id[2] == KIND_MISSING)
		return -ENOENT;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->ref = *ref;
	t->key_b = key_b;
	t->n = ref->id[1];
	if ((t->e = calloc(t->n + 1, sizeof(*t->e))) == NULL) {
		free(t);
		return -ENOMEM;
	}
	atomic_fetch_add(&n_trees, 1);
	if (ref->id[2] == KIND_DESC && t->n == 3) {
		t->e[1].n_desc = 3;
	} else if (ref->id[2] == KIND_HOSTILE && t->n == 3) {
		t->e[0].n_desc = UINT64_MAX - 1;
		t->e[1].n_desc = 5;
		t->e[2].n_desc = UINT64_MAX;
	}
	*out = t;
	return 0;
}

size_t
store_tree_len(const struct store_tree *t)
{
	return t->n;
}

const struct store_entry *
store_tree_entry(const struct store_tree *t, size_t i)
{
	return &t->e[i];
}

void
store_tree_free(struct store_tree *t)
{
	if (t == NULL)
		return;
	atomic_fetch_add(&n_frees, 1);
	free(t->e);
	free(t);
}

/* get REF: pin it, with the number of reads it took in *reads. */
static struct tnode *
get(struct tcache *c, const struct store_ref *ref, int *rc, unsigned *reads)
{
	struct tnode *n = NULL;
	unsigned before = atomic_load(&n_reads);

	*rc = tcache_get(c, ref, &n);
	*reads = atomic_load(&n_reads) - before;
	return *rc == 0 ? n : NULL;
}

/* Whether ${n} holds the tree of ${ref} (the same id and key). */
static int
holds(const struct tnode *n, const struct store_ref *ref)
{
	const struct store_tree *t = tcache_tree(n);

	return n != NULL && memcmp(&t->ref, ref, sizeof(*ref)) == 0;
}

/* Hits read nothing; the key is part of what is cached. */
static void
test_keys(void)
{
	struct tcache *c = NULL;
	struct store_ref a, a_wrong, two, two_b, same_bucket;
	struct tnode *n1, *n2, *n3;
	unsigned reads;
	int rc;

	CHECK(tcache_new(NULL, 100, &c) == 0);
	ref_make(&a, 1, 4, KIND_PLAIN, 0x5a);
	ref_make(&a_wrong, 1, 4, KIND_PLAIN, 0x5a);
	a_wrong.key[31] ^= 1;

	n1 = get(c, &a, &rc, &reads);
	CHECK(rc == 0 && reads == 1 && holds(n1, &a));
	CHECK(tcache_len(n1) == 4);
	n2 = get(c, &a, &rc, &reads);
	CHECK(rc == 0 && reads == 0 && n2 == n1);
	tcache_put(c, n2);
	tcache_put(c, n1);
	n2 = get(c, &a, &rc, &reads);
	CHECK(rc == 0 && reads == 0 && n2 == n1);

	/* The real tree is cached, pinned even: a ref with its id and
	 * another key is read again, and fails as the store says. */
	n3 = get(c, &a_wrong, &rc, &reads);
	CHECK(rc == -EBADMSG && reads == 1 && n3 == NULL);
	tcache_put(c, n2);
	n3 = get(c, &a_wrong, &rc, &reads);
	CHECK(rc == -EBADMSG && reads == 1 && n3 == NULL);

	/* One id, two keys that both open something: two entries, each
	 * its own tree, side by side, each found again by its own key. */
	ref_make(&two, 2, 3, KIND_TWO_KEYS, 0x5a);
	ref_make(&two_b, 2, 3, KIND_TWO_KEYS, 0xa5);
	n1 = get(c, &two, &rc, &reads);
	CHECK(rc == 0 && reads == 1 && holds(n1, &two));
	CHECK(n1 != NULL && tcache_tree(n1)->key_b == 0);
	n2 = get(c, &two_b, &rc, &reads);
	CHECK(rc == 0 && reads == 1 && n2 != n1 && holds(n2, &two_b));
	CHECK(n2 != NULL && tcache_tree(n2)->key_b == 1);
	tcache_put(c, n1);
	tcache_put(c, n2);
	n1 = get(c, &two_b, &rc, &reads);
	CHECK(rc == 0 && reads == 0 && n1 == n2 && holds(n1, &two_b));
	n3 = get(c, &two, &rc, &reads);
	CHECK(rc == 0 && reads == 0 && n3 != n1 && holds(n3, &two));
	tcache_put(c, n1);
	tcache_put(c, n3);

	/* Another id in the same hash bucket (same first two bytes). */
	ref_make(&same_bucket, 1, 4, KIND_PLAIN, 0x5a);
	same_bucket.id[5] = 9;
	same_bucket.key[5] = 9 ^ 0x5a;
	n1 = get(c, &same_bucket, &rc, &reads);
	CHECK(rc == 0 && reads == 1 && holds(n1, &same_bucket));
	n2 = get(c, &a, &rc, &reads);
	CHECK(rc == 0 && reads == 0 && holds(n2, &a) && n2 != n1);
	tcache_put(c, n1);
	tcache_put(c, n2);
	tcache_free(c);
}

/* get and put REF at once; returns the reads it took. */
static unsigned
touch(struct tcache *c, const struct store_ref *ref)
{
	struct tnode *n;
	unsigned reads;
	int rc;

	n = get(c, ref, &rc, &reads);
	CHECK(rc == 0 && holds(n, ref));
	tcache_put(c, n);
	return reads;
}

/* Least recently used first, pinned never, big trees at once. */
static void
test_evict(void)
{
	struct tcache *c = NULL;
	struct store_ref a, b, d, e, big, miss;
	struct tnode *pa, *pb;
	unsigned reads;
	unsigned frees;
	int rc;

	ref_make(&a, 10, 4, KIND_PLAIN, 0x5a);
	ref_make(&b, 11, 4, KIND_PLAIN, 0x5a);
	ref_make(&d, 12, 4, KIND_PLAIN, 0x5a);
	ref_make(&e, 13, 4, KIND_PLAIN, 0x5a);
	ref_make(&big, 14, 20, KIND_PLAIN, 0x5a);
	ref_make(&miss, 15, 4, KIND_MISSING, 0x5a);

	/* Room for 10 entries: two trees of 4. */
	CHECK(tcache_new(NULL, 10, &c) == 0);
	CHECK(touch(c, &a) == 1 && touch(c, &b) == 1);
	CHECK(touch(c, &a) == 0 && touch(c, &b) == 0);
	/* a is the older: d pushes it out, b stays. */
	CHECK(touch(c, &d) == 1);
	CHECK(touch(c, &b) == 0);
	CHECK(touch(c, &a) == 1);	/* d was older than b: d went */
	CHECK(touch(c, &b) == 0);
	CHECK(touch(c, &d) == 1);	/* and now a went */
	/* A use makes a tree young again: b, then d, then b used; e
	 * pushes out d, the least recently used. */
	CHECK(touch(c, &b) == 0);
	CHECK(touch(c, &e) == 1);
	CHECK(touch(c, &b) == 0);
	CHECK(touch(c, &d) == 1);
	tcache_free(c);

	/* Pinned trees stay, over the bound if need be, and stay valid. */
	CHECK(tcache_new(NULL, 10, &c) == 0);
	pa = get(c, &a, &rc, &reads);
	pb = get(c, &b, &rc, &reads);
	CHECK(pa != NULL && pb != NULL);
	CHECK(touch(c, &d) == 1);
	CHECK(touch(c, &e) == 1);
	CHECK(touch(c, &d) == 1);	/* nothing unpinned is kept */
	CHECK(holds(pa, &a) && holds(pb, &b));
	tcache_put(c, pb);		/* 8 <= 10: b stays, unpinned */
	CHECK(touch(c, &b) == 0);
	CHECK(touch(c, &a) == 0);	/* still pinned: a hit */
	tcache_put(c, pa);
	CHECK(touch(c, &a) == 0);
	CHECK(touch(c, &b) == 0);

	/* A tree bigger than the bound: returned, dropped when unpinned,
	 * and it takes the others with it only as far as it must. */
	frees = atomic_load(&n_frees);
	pa = get(c, &big, &rc, &reads);
	CHECK(rc == 0 && reads == 1 && holds(pa, &big));
	CHECK(tcache_len(pa) == 20);
	tcache_put(c, pa);
	CHECK(atomic_load(&n_frees) - frees == 3);	/* a, b, big */
	CHECK(touch(c, &big) == 1);
	CHECK(touch(c, &a) == 1);

	/* A failed read leaves nothing behind and is tried again. */
	pa = get(c, &miss, &rc, &reads);
	CHECK(rc == -ENOENT && reads == 1 && pa == NULL);
	pa = get(c, &miss, &rc, &reads);
	CHECK(rc == -ENOENT && reads == 1 && pa == NULL);
	CHECK(touch(c, &a) == 0);
	tcache_put(c, NULL);
	tcache_free(c);

	/* A bound of 0 keeps nothing unpinned. */
	CHECK(tcache_new(NULL, 0, &c) == 0);
	CHECK(touch(c, &a) == 1 && touch(c, &a) == 1);
	tcache_free(c);
	tcache_free(NULL);
}

/* Prefix sums and the child that holds an ordinal. */
static void
test_child(void)
{
	struct tcache *c = NULL;
	struct store_ref desc, hostile, empty;
	struct tnode *n;
	unsigned reads;
	size_t idx;
	int rc;

	CHECK(tcache_new(NULL, 100, &c) == 0);
	/* n_desc 0, 3, 0: the entries sit at relative ordinals 0, 1
	 * (with 2..4 below it) and 5. */
	ref_make(&desc, 20, 3, KIND_DESC, 0x5a);
	n = get(c, &desc, &rc, &reads);
	CHECK(rc == 0 && n != NULL);
	if (n != NULL) {
		CHECK(tcache_pre(n, 0) == 0 && tcache_pre(n, 1) == 1 &&
		    tcache_pre(n, 2) == 5 && tcache_pre(n, 3) == 6);
		idx = 99;
		CHECK(tcache_child(n, 0, &idx) == 0 && idx == 0);
		CHECK(tcache_child(n, 1, &idx) == 0 && idx == 1);
		CHECK(tcache_child(n, 4, &idx) == 0 && idx == 1);
		CHECK(tcache_child(n, 5, &idx) == 0 && idx == 2);
		CHECK(tcache_child(n, 6, &idx) == -ENOENT);
		CHECK(tcache_child(n, UINT64_MAX, &idx) == -ENOENT);
	}
	tcache_put(c, n);

	/* Sizes from a hostile tree saturate instead of wrapping. */
	ref_make(&hostile, 21, 3, KIND_HOSTILE, 0x5a);
	n = get(c, &hostile, &rc, &reads);
	CHECK(rc == 0 && n != NULL);
	if (n != NULL) {
		CHECK(tcache_pre(n, 0) == 0 && tcache_pre(n, 1) == UINT64_MAX &&
		    tcache_pre(n, 2) == UINT64_MAX &&
		    tcache_pre(n, 3) == UINT64_MAX);
		CHECK(tcache_child(n, 0, &idx) == 0 && idx == 0);
		CHECK(tcache_child(n, UINT64_MAX - 1, &idx) == 0 && idx == 0);
		CHECK(tcache_child(n, UINT64_MAX, &idx) == -ENOENT);
	}
	tcache_put(c, n);

	ref_make(&empty, 22, 0, KIND_PLAIN, 0x5a);
	n = get(c, &empty, &rc, &reads);
	CHECK(rc == 0 && n != NULL);
	if (n != NULL) {
		CHECK(tcache_len(n) == 0 && tcache_pre(n, 0) == 0);
		CHECK(tcache_child(n, 0, &idx) == -ENOENT);
	}
	tcache_put(c, n);
	tcache_free(c);
}

/* Threads on one small cache: each always gets the tree it asked for. */
#define N_THREADS 4
#define N_ROUNDS 20000

struct worker {
	struct tcache *c;
	unsigned seed;
	int n_bad;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct store_ref ref;
	struct tnode *n;
	uint32_t x = w->seed;

	for (int i = 0; i < N_ROUNDS; i++) {
		x = x * 1103515245u + 12345u;
		ref_make(&ref, (uint8_t)(30 + (x >> 16) % 12), 3,
		    (x >> 8) % 2 ? KIND_TWO_KEYS : KIND_PLAIN,
		    (x >> 4) % 3 == 0 ? 0xa5 : 0x5a);
		if (tcache_get(w->c, &ref, &n) == 0) {
			if (!holds(n, &ref))
				w->n_bad++;
			tcache_put(w->c, n);
		} else if (ref.id[2] != KIND_PLAIN ||
		    ref.key[0] != (ref.id[0] ^ 0xa5)) {
			w->n_bad++;	/* only a wrong key may fail */
		}
	}
	return NULL;
}

static void
test_threads(void)
{
	struct tcache *c = NULL;
	struct worker w[N_THREADS];
	pthread_t t[N_THREADS];
	int n_bad = 0;

	CHECK(tcache_new(NULL, 12, &c) == 0);
	for (int i = 0; i < N_THREADS; i++) {
		w[i].c = c;
		w[i].seed = (unsigned)i + 1;
		w[i].n_bad = 0;
		CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(t[i], NULL);
		n_bad += w[i].n_bad;
	}
	CHECK(n_bad == 0);
	tcache_free(c);
}

int
main(void)
{
	test_keys();
	test_evict();
	test_child();
	test_threads();
	/* Every tree read was freed by tcache_put() or tcache_free(). */
	CHECK(atomic_load(&n_trees) > 0);
	CHECK(atomic_load(&n_trees) == atomic_load(&n_frees));
	return check_done("test_fs_tcache");
}
