/*
 * test_dir.c: the local backend's cache of open descriptors (store/dir.c).
 * Objects put, then read back: every byte as written; no more than
 * DIR_FD_CACHE descriptors stay open however many packs are read, and
 * none for other objects; the cache evicts the least recently used one
 * (shown by removing files behind its back: a cached pack still reads,
 * an evicted one is gone); willneed changes no result; many threads at
 * once read the right bytes; closing the backend closes everything.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "fixture.h"
#include "backend.h"
#include "store.h"

#define N_OBJ (DIR_FD_CACHE + 36)
#define OBJ_LEN 5000
#define N_THREADS 4

static char top[64];

/* Descriptors this process has open now. */
static int
n_open_fds(void)
{
	int n = fixture_count("/proc/self/fd");

	return n < 0 ? n : n - 1;	/* the one opendir holds */
}

static void
obj_key(int i, char key[80])
{
	snprintf(key, 80, "packs/%02x/%064x", i & 0xff, i);
}

static uint8_t
obj_byte(int i, size_t off)
{
	return (uint8_t)(i * 131 + off * 7 + off / 251);
}

/* Read ${len} bytes at ${off} of object ${i}; 0 if they are right. */
static int
get_check(struct backend *be, int i, uint64_t off, uint64_t len)
{
	char key[80];
	uint8_t *buf = NULL;
	size_t got = 0;
	int r;

	obj_key(i, key);
	if ((r = be->ops->get(be, key, NULL, off, len, &buf, &got)) < 0)
		return r;
	if (len > OBJ_LEN - off)
		len = OBJ_LEN - off;
	if (got != len)
		r = -EBADMSG;
	for (size_t k = 0; r == 0 && k < got; k++)
		if (buf[k] != obj_byte(i, (size_t)off + k))
			r = -EBADMSG;
	free(buf);
	return r;
}

static int n_logged;

static void
quiet(int level, const char *msg)
{
	(void)level;
	(void)msg;
	n_logged++;
}

struct reader {
	struct backend *be;
	uint64_t seed;
	int n_bad;
};

static void *
reader(void *arg)
{
	struct reader *rd = arg;
	uint64_t x = rd->seed;

	for (int n = 0; n < 3000; n++) {
		uint64_t off;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		off = (x >> 33) % OBJ_LEN;
		if (get_check(rd->be, (int)((x >> 17) % N_OBJ), off,
		    (x >> 5) % 700 + 1) != 0)
			rd->n_bad++;
		if (n % 97 == 0) {
			char key[80];

			obj_key((int)(x % N_OBJ), key);
			rd->be->ops->willneed(rd->be, key);
		}
	}
	return NULL;
}

int
main(void)
{
	struct backend *be = NULL;
	pthread_t t[N_THREADS];
	struct reader rd[N_THREADS];
	uint8_t data[OBJ_LEN];
	char path[128];
	char key[80];
	char cmd[256];
	uint8_t *buf = NULL;
	size_t got;
	int base;
	int ok;

	store_log_set(quiet);
	snprintf(top, sizeof(top), "/tmp/amber-test-dir.XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/store", top);
	CHECK(backend_create(path, NULL, &be) == 0);
	if (be == NULL)
		return check_done("test_dir");
	CHECK(be->ops->willneed != NULL);
	for (int i = 0; i < N_OBJ; i++) {
		for (size_t k = 0; k < OBJ_LEN; k++)
			data[k] = obj_byte(i, k);
		obj_key(i, key);
		CHECK(be->ops->put(be, key, data, OBJ_LEN) == 0);
	}
	CHECK(be->ops->put(be, "snapshots/x", data, 10) == 0);
	backend_close(be);

	/* A fresh reader: objects other than packs are never kept open. */
	base = n_open_fds();
	CHECK(base > 0);
	CHECK(backend_open(path, NULL, &be) == 0);
	if (be == NULL)
		return check_done("test_dir");
	base = n_open_fds();
	for (int n = 0; n < 5; n++) {
		CHECK(be->ops->get(be, "snapshots/x", NULL, 0, UINT64_MAX,
		    &buf, &got) == 0 && got == 10);
		free(buf);
		buf = NULL;
	}
	CHECK(n_open_fds() == base);

	/* Packs 0..63 fill the cache, then 0 is used again: 1 is the
	 * least recently used.  Remove 0 and 1 from the directory. */
	for (int i = 0; i < DIR_FD_CACHE; i++)
		CHECK(get_check(be, i, 0, UINT64_MAX) == 0);
	CHECK(n_open_fds() == base + DIR_FD_CACHE);
	CHECK(get_check(be, 0, 100, 50) == 0);
	CHECK(n_open_fds() == base + DIR_FD_CACHE);
	for (int i = 0; i < 2; i++) {
		char file[256];

		obj_key(i, key);
		snprintf(file, sizeof(file), "%s/%s", path, key);
		CHECK(unlink(file) == 0);
	}
	/* Reading 64 evicts 1 only: 0 still reads, 1 is gone. */
	CHECK(get_check(be, DIR_FD_CACHE, 0, UINT64_MAX) == 0);
	CHECK(n_open_fds() == base + DIR_FD_CACHE);
	CHECK(get_check(be, 0, 0, UINT64_MAX) == 0);
	CHECK(get_check(be, 1, 0, UINT64_MAX) == -ENOENT);
	/* Every other pack: the bound holds. */
	for (int i = 2; i < N_OBJ; i++)
		CHECK(get_check(be, i, (uint64_t)i, 1000) == 0);
	CHECK(n_open_fds() == base + DIR_FD_CACHE);

	/* read_into: three buffers filled in order, as a chunk's head,
	 * body and tag are; past the end -EIO (and no log line), a missing
	 * object -ENOENT, a bad key -EINVAL. */
	{
		uint8_t a[13];
		uint8_t b[1000];
		uint8_t c[16];
		struct iovec iov[3] = {
			{ a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) },
		};
		int same = 1;

		CHECK(be->ops->read_into != NULL);
		obj_key(7, key);
		CHECK(be->ops->read_into(be, key, 500, iov, 3) == 0);
		for (size_t k = 0; k < sizeof(a); k++)
			same &= a[k] == obj_byte(7, 500 + k);
		for (size_t k = 0; k < sizeof(b); k++)
			same &= b[k] == obj_byte(7, 513 + k);
		for (size_t k = 0; k < sizeof(c); k++)
			same &= c[k] == obj_byte(7, 1513 + k);
		CHECK(same);
		/* Its caller reports, so it says nothing itself. */
		n_logged = 0;
		CHECK(be->ops->read_into(be, key, OBJ_LEN - 1000, iov,
		    3) == -EIO);
		CHECK(n_logged == 0);
		CHECK(be->ops->read_into(be, "packs/zz/missing", 0, iov,
		    3) == -ENOENT);
		CHECK(be->ops->read_into(be, "../escape", 0, iov, 3) ==
		    -EINVAL);
	}

	/* willneed: on a pack, a missing key and a bad one, no effect on
	 * what is read. */
	obj_key(5, key);
	be->ops->willneed(be, key);
	be->ops->willneed(be, key);
	be->ops->willneed(be, "packs/zz/missing");
	be->ops->willneed(be, "../escape");
	CHECK(get_check(be, 5, 0, UINT64_MAX) == 0);
	CHECK(n_open_fds() == base + DIR_FD_CACHE);

	/* Many threads (0 and 1 are gone now: read only the rest). */
	for (int i = 0; i < 2; i++) {
		for (size_t k = 0; k < OBJ_LEN; k++)
			data[k] = obj_byte(i, k);
		obj_key(i, key);
		CHECK(be->ops->put(be, key, data, OBJ_LEN) == 0);
	}
	for (int i = 0; i < N_THREADS; i++) {
		rd[i].be = be;
		rd[i].seed = 77 + (uint64_t)i;
		rd[i].n_bad = 0;
		CHECK(pthread_create(&t[i], NULL, reader, &rd[i]) == 0);
	}
	ok = 1;
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(t[i], NULL);
		if (rd[i].n_bad != 0)
			ok = 0;
	}
	CHECK(ok);
	CHECK(n_open_fds() <= base + DIR_FD_CACHE);
	backend_close(be);
	CHECK(n_open_fds() == base - 1);

	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", top,
	    top);
	if (system(cmd) != 0)
		fprintf(stderr, "test_dir: cannot remove %s\n", top);
	return check_done("test_dir");
}
