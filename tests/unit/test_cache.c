/*
 * test_cache.c: the decrypted-chunk cache: LRU bounds, and the claim
 * protocol that lets parallel readers of one chunk decrypt it once (a
 * second reader waits for the first, and takes over if it gives up),
 * cache_claim() for loading ahead (never a second loader), and pins: a
 * pinned entry outlives its eviction until unpinned (run under ASan, a
 * use after free or a leak fails), an entry too big to keep is the
 * pinner's, and a second insert pins the first entry.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "../check.h"

struct waiter {
	struct cache *c;
	uint8_t id[32];
	uint8_t buf[16];
	size_t got;
	int r;
};

static void *
wait_read(void *arg)
{
	struct waiter *w = arg;

	w->r = cache_read_or_claim(w->c, w->id, 0, w->buf, sizeof(w->buf),
	    &w->got);
	return NULL;
}

/*
 * A reader of chunk ${id} in a thread of its own (${t}), given 50 ms to
 * reach the wait; ${w}->r stays 99 until its read returns.  Returns
 * pthread_create()'s result.
 */
static int
wait_start(struct waiter *w, struct cache *c, const uint8_t id[32],
    pthread_t *t)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->c = c;
	memcpy(w->id, id, 32);
	w->r = 99;
	if ((r = pthread_create(t, NULL, wait_read, w)) == 0)
		usleep(50000);
	return r;
}

int
main(void)
{
	struct cache *c = NULL;
	uint8_t id[32] = { 1 };
	uint8_t id2[32] = { 2 };
	uint8_t buf[64];
	uint8_t *d;
	size_t got = 0;
	struct waiter w;
	pthread_t t;

	CHECK(cache_new(1 << 20, &c) == 0);
	/* A miss claims; a hit copies the requested range. */
	CHECK(cache_read_or_claim(c, id, 0, buf, 4, &got) == -EAGAIN);
	d = cache_entry_new(10);
	memcpy(d, "0123456789", 10);
	cache_insert(c, id, d);
	CHECK(cache_read_or_claim(c, id, 3, buf, 4, &got) == 0 && got == 4 &&
	    memcmp(buf, "3456", 4) == 0);
	CHECK(cache_read(c, id, 8, buf, 4, &got) == 0 && got == 2);

	/* A second reader of a claimed chunk waits for the insert. */
	CHECK(cache_read_or_claim(c, id2, 0, buf, 4, &got) == -EAGAIN);
	CHECK(wait_start(&w, c, id2, &t) == 0);
	CHECK(w.r == 99);	/* still waiting */
	d = cache_entry_new(5);
	memcpy(d, "abcde", 5);
	cache_insert(c, id2, d);
	pthread_join(t, NULL);
	CHECK(w.r == 0 && w.got == 5 && memcmp(w.buf, "abcde", 5) == 0);

	/* If the loader gives up, the waiter takes the claim over. */
	memset(id2, 3, sizeof(id2));
	CHECK(cache_read_or_claim(c, id2, 0, buf, 4, &got) == -EAGAIN);
	CHECK(wait_start(&w, c, id2, &t) == 0);
	CHECK(w.r == 99);
	cache_abandon(c, id2);
	pthread_join(t, NULL);
	CHECK(w.r == -EAGAIN);
	cache_abandon(c, id2);

	/* The LRU bound: a full cache evicts the oldest entry. */
	for (uint8_t i = 10; i < 20; i++) {
		uint8_t k[32] = { i };

		d = cache_entry_new(200 << 10);
		memset(d, i, 200 << 10);
		cache_insert(c, k, d);
	}
	{
		uint8_t k0[32] = { 10 };
		uint8_t k9[32] = { 19 };

		CHECK(cache_read(c, k0, 0, buf, 1, &got) == -ENOENT);
		CHECK(cache_read(c, k9, 0, buf, 1, &got) == 0 && buf[0] == 19);
	}

	/* cache_claim: present, being loaded, ours, or no room. */
	{
		uint8_t k9[32] = { 19 };
		uint8_t k30[32] = { 30 };
		uint8_t k31[32] = { 31 };

		CHECK(cache_claim(c, k9) == 0);
		CHECK(cache_claim(c, k30) == -EAGAIN);
		CHECK(cache_claim(c, k30) == 0);
		CHECK(cache_read_or_claim(c, k31, 0, buf, 1, &got) ==
		    -EAGAIN);
		CHECK(cache_claim(c, k31) == 0);
		cache_abandon(c, k30);
		cache_abandon(c, k31);
		CHECK(cache_claim(c, k30) == -EAGAIN);
		cache_abandon(c, k30);
		for (uint8_t i = 0; i < 32; i++) {
			uint8_t k[32] = { 100, i };

			CHECK(cache_claim(c, k) == -EAGAIN);
		}
		CHECK(cache_claim(c, k30) == -EBUSY);
		for (uint8_t i = 0; i < 32; i++) {
			uint8_t k[32] = { 100, i };

			cache_abandon(c, k);
		}
		CHECK(cache_cap(c) == 1 << 20);
	}

	/* Pins. */
	{
		uint8_t k40[32] = { 40 };
		uint8_t k41[32] = { 41 };
		const uint8_t *p1;
		const uint8_t *p2;
		const uint8_t *p3;
		size_t len = 0;

		CHECK(cache_pin_or_claim(c, k40, &p1, &len) == -EAGAIN);
		d = cache_entry_new(300 << 10);
		memset(d, 0x40, 300 << 10);
		p1 = cache_insert_pin(c, k40, d);
		CHECK(p1 == d);
		CHECK(cache_pin_or_claim(c, k40, &p2, &len) == 0 && p2 == p1 &&
		    len == 300 << 10);
		/* Evicted by newer entries, it stays readable while
		 * pinned: twice, so two unpins. */
		for (uint8_t i = 50; i < 60; i++) {
			uint8_t k[32] = { i };

			d = cache_entry_new(200 << 10);
			memset(d, i, 200 << 10);
			cache_insert(c, k, d);
		}
		CHECK(cache_read(c, k40, 0, buf, 1, &got) == -ENOENT);
		CHECK(p1[0] == 0x40 && p1[(300 << 10) - 1] == 0x40);
		cache_unpin(c, p1);
		CHECK(p2[1000] == 0x40);
		cache_unpin(c, p2);
		/* A second insert of one id pins the first entry. */
		d = cache_entry_new(10);
		memcpy(d, "abcdefghij", 10);
		p1 = cache_insert_pin(c, k41, d);
		d = cache_entry_new(10);
		memcpy(d, "ABCDEFGHIJ", 10);
		p2 = cache_insert_pin(c, k41, d);
		CHECK(p2 == p1 && memcmp(p2, "abcdefghij", 10) == 0);
		cache_unpin(c, p1);
		cache_unpin(c, p2);
		CHECK(cache_read(c, k41, 0, buf, 3, &got) == 0 &&
		    memcmp(buf, "abc", 3) == 0);
		/* Too big to keep: the pinner's alone. */
		d = cache_entry_new(600 << 10);
		memset(d, 7, 600 << 10);
		p3 = cache_insert_pin(c, k40, d);
		CHECK(p3 == d && p3[12345] == 7);
		CHECK(cache_read(c, k40, 0, buf, 1, &got) == -ENOENT);
		cache_unpin(c, p3);
	}
	cache_free(c);
	return check_done("test_cache");
}
