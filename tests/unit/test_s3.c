/*
 * test_s3.c: the S3 backend (store/s3.c) through struct backend_ops.
 *
 * Without arguments (the unit-test run) it checks what needs no server:
 * malformed URLs and endpoints, plain http off loopback refused, missing
 * credentials and a credentials file others may read, and that an
 * endpoint nobody listens on gives -EIO quickly.  tests/s3/backend.sh
 * starts RGW and runs it again in phases, tampering with the bucket
 * between them:
 *
 *   test_s3 write LOCK PLAIN   create stores, put/get/list/stat, parallel
 *                              puts, pagination, 403 on a wrong secret
 *   test_s3 read LOCK          after the script overwrote "config" and put a
 *                              delete marker on "packs/00/a": reads see
 *                              through, versions() lists them all
 *   test_s3 protect LOCK DAYS  protect("packs/00/a") with DAYS of retention
 *
 * The endpoint and credentials come from the environment (S3_ENDPOINT,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "backend.h"

static struct backend_opts opts;

static int
open_store(const char *bucket, const char *prefix, int create,
    struct backend **be)
{
	char url[256];

	snprintf(url, sizeof(url), "s3://%s/%s", bucket, prefix);
	return s3_open(url, &opts, create, be);
}

static void
test_offline(void)
{
	struct backend *be = NULL;
	time_t t0;

	opts.s3.endpoint = "http://127.0.0.1:9";
	setenv("AWS_ACCESS_KEY_ID", "AK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SK", 1);
	setenv("AMBER_S3_RETRIES", "1", 1);

	CHECK(s3_open("s3://", &opts, 0, &be) == -EINVAL);
	CHECK(s3_open("s3://Bad_Bucket/p", &opts, 0, &be) == -EINVAL);
	CHECK(s3_open("file:///x", &opts, 0, &be) == -EINVAL);
	opts.s3.endpoint = "ftp://127.0.0.1:9";
	CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EINVAL);
	opts.s3.endpoint = "http://127.0.0.1:9";

	/* Nobody listens on port 9 (discard): -EIO, after one retry. */
	t0 = time(NULL);
	CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EIO);
	CHECK(s3_open("s3://b/p", &opts, 1, &be) == -EIO);
	CHECK(time(NULL) - t0 < 20);

	/*
	 * Plain http goes to loopback only: anything else is refused
	 * before a connection (so at once, whatever the network), and
	 * loopback names reach the dead port (-EIO).
	 */
	{
		static const char *const bad[] = { "http://192.0.2.1:9",
		    "http://s3.example.invalid", "http://0x7f000001:9",
		    "http://127.1:9", "http://127.0.0.1.example.invalid:9",
		    "http://localhost.example.invalid", "http://[::2]:9",
		    "http://[::ffff:192.0.2.1]:9", "http://0.0.0.0:9",
		    "http://0127.0.0.1:9", "http://localhost.:9",
		    "http://evil.example%2f.localhost:9",
		    "http://evil.example\\.localhost:9" };
		static const char *const good[] = { "http://127.0.0.2:9",
		    "http://[::1]:9", "http://LOCALHOST:9",
		    "http://s3.localhost:9" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			opts.s3.endpoint = bad[i];
			t0 = time(NULL);
			CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EINVAL);
			CHECK(time(NULL) - t0 < 2);
		}
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			opts.s3.endpoint = good[i];
			CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EIO);
		}
		/* Virtual-host style: the host connected to is checked. */
		opts.s3.endpoint = "http://127.0.0.1:9";
		opts.s3.is_virtual_host = 1;
		CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EINVAL);
		opts.s3.endpoint = "http://localhost:9";
		CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EIO);
		opts.s3.is_virtual_host = 0;
		opts.s3.endpoint = "http://127.0.0.1:9";
	}

	/* A credentials file the group or others may read. */
	{
		static const char creds[] = "aws_access_key_id = AK\n"
		    "aws_secret_access_key = SK\n";
		char path[] = "/tmp/test_s3.XXXXXX";
		int fd = mkstemp(path);

		CHECK(fd >= 0);
		CHECK(write(fd, creds, strlen(creds)) ==
		    (ssize_t)strlen(creds));
		close(fd);
		opts.s3.credentials = path;
		CHECK(chmod(path, 0640) == 0);
		CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EACCES);
		CHECK(chmod(path, 0604) == 0);
		CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EACCES);
		CHECK(chmod(path, 0600) == 0);
		CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EIO);
		opts.s3.credentials = NULL;
		unlink(path);
	}

	/* No credentials at all. */
	unsetenv("AWS_ACCESS_KEY_ID");
	CHECK(s3_open("s3://b/p", &opts, 0, &be) == -EACCES);
	opts.s3.credentials = "/nonexistent/credentials";
	CHECK(s3_open("s3://b/p", &opts, 0, &be) == -ENOENT);
	opts.s3.credentials = NULL;
	CHECK(be == NULL);
}

struct par {
	struct backend *be;
	int id;
	int n_ok;
};

static void *
par_put(void *arg)
{
	struct par *p = arg;
	char key[64];
	uint8_t buf[1000];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "packs/p%d/%d", p->id, i);
		memset(buf, 'a' + p->id, sizeof(buf));
		buf[0] = (uint8_t)i;
		if (p->be->ops->put(p->be, key, buf, sizeof(buf)) == 0)
			p->n_ok++;
	}
	return NULL;
}

struct count {
	int n;
	int n_packs;
	int has_config;
	uint64_t config_size;
};

static int
count_fn(void *ctx, const char *key, uint64_t size)
{
	struct count *c = ctx;

	c->n++;
	if (strncmp(key, "packs/", 6) == 0)
		c->n_packs++;
	if (strcmp(key, "config") == 0) {
		c->has_config = 1;
		c->config_size = size;
	}
	return 0;
}

static int
stop_fn(void *ctx, const char *key, uint64_t size)
{
	(void)key;
	(void)size;
	return ++*(int *)ctx == 3 ? 42 : 0;
}

/* What test_write() puts as "config" (27 bytes, the NUL too). */
static const uint8_t config[] = "amber config v1 0123456789";

/*
 * get_is(be, key, version, off, len, want, n): the GET of up to ${len}
 * bytes at ${off} of ${key} (of ${version}; NULL: the newest) gives the
 * ${n} bytes ${want}.
 */
static int
get_is(struct backend *be, const char *key, const char *version,
    uint64_t off, uint64_t len, const void *want, size_t n)
{
	uint8_t *buf = NULL;
	size_t got = 0;
	int ok;

	ok = be->ops->get(be, key, version, off, len, &buf, &got) == 0 &&
	    got == n && (n == 0 || memcmp(buf, want, n) == 0);
	free(buf);
	return ok;
}

static void
test_write(const char *lock, const char *plain)
{
	struct backend *be = NULL;
	struct backend *be2 = NULL;
	struct par par[8];
	pthread_t th[8];
	struct count c;
	uint8_t *buf = NULL;
	size_t got = 0;
	uint64_t size = 0;
	int stop = 0;
	int i;
	int n_ok = 0;

	/* A bucket without Object Lock is refused unless allowed. */
	CHECK(open_store(plain, "st", 1, &be) == -EINVAL);
	opts.allow_no_lock = 1;
	CHECK(open_store(plain, "st", 1, &be) == 0);
	CHECK(be != NULL && be->ops->put(be, "config", config,
	    sizeof(config)) == 0);
	be->ops->close(be);
	be = NULL;
	opts.allow_no_lock = 0;

	CHECK(open_store("no-such-bucket", "st", 1, &be) == -ENOENT);

	opts.retention_secs = 86400;
	CHECK(open_store(lock, "st", 1, &be) == 0);
	if (be == NULL)
		return;
	CHECK(be->ops->put(be, "config", config, sizeof(config)) == 0);
	CHECK(be->ops->put(be, "config", config, sizeof(config)) == -EEXIST);
	CHECK(be->ops->stat(be, "config", &size) == 0 &&
	    size == sizeof(config));
	CHECK(get_is(be, "config", NULL, 0, UINT64_MAX, config,
	    sizeof(config)));
	CHECK(get_is(be, "config", NULL, 6, 6, "config", 6));
	CHECK(get_is(be, "config", NULL, 20, UINT64_MAX, config + 20,
	    sizeof(config) - 20));
	CHECK(get_is(be, "config", NULL, 1000, 10, "", 0));
	CHECK(be->ops->get(be, "nothing", NULL, 0, UINT64_MAX, &buf, &got) ==
	    -ENOENT);
	CHECK(be->ops->stat(be, "nothing", &size) == -ENOENT);
	CHECK(be->ops->put(be, "packs/00/a", (const uint8_t *)"AAAA", 4) ==
	    0);
	CHECK(be->ops->put(be, "keys/k1", (const uint8_t *)"K", 1) == 0);
	CHECK(be->ops->put(be, "weird key/é+%=&?", (const uint8_t *)"w", 1) ==
	    0);
	CHECK(be->ops->stat(be, "weird key/é+%=&?", &size) == 0 && size == 1);

	/* The prefix now holds objects: a second create is refused. */
	CHECK(open_store(lock, "st", 1, &be2) == -EEXIST);
	CHECK(open_store(lock, "st", 0, &be2) == 0);
	if (be2 != NULL)
		be2->ops->close(be2);

	/* Several threads put at once (the store writer does). */
	for (i = 0; i < 8; i++) {
		par[i].be = be;
		par[i].id = i;
		par[i].n_ok = 0;
		pthread_create(&th[i], NULL, par_put, &par[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		n_ok += par[i].n_ok;
	}
	CHECK(n_ok == 80);

	/* Listing pages through (AMBER_S3_PAGE_KEYS=7 from the script). */
	memset(&c, 0, sizeof(c));
	CHECK(be->ops->list(be, "", count_fn, &c) == 0);
	CHECK(c.n == 84 && c.n_packs == 81 && c.has_config &&
	    c.config_size == sizeof(config));
	memset(&c, 0, sizeof(c));
	CHECK(be->ops->list(be, "packs/p3/", count_fn, &c) == 0);
	CHECK(c.n == 10);
	CHECK(be->ops->list(be, "", stop_fn, &stop) == 42 && stop == 3);

	/* Virtual-host addressing (LOCK.localhost, which curl resolves). */
	if (getenv("S3_ENDPOINT_VHOST") != NULL) {
		struct backend_opts vo = opts;
		char url[128];

		vo.s3.endpoint = getenv("S3_ENDPOINT_VHOST");
		vo.s3.is_virtual_host = 1;
		snprintf(url, sizeof(url), "s3://%s/st", lock);
		CHECK(s3_open(url, &vo, 0, &be2) == 0);
		if (be2 != NULL) {
			CHECK(be2->ops->put(be2, "packs/vh", config, 5) == 0);
			CHECK(get_is(be2, "config", NULL, 0, 5, config, 5));
			be2->ops->close(be2);
			be2 = NULL;
		}
		CHECK(be->ops->stat(be, "packs/vh", &size) == 0 && size == 5);
	}

	/* Another store's prefix in the same bucket does not see these. */
	CHECK(open_store(lock, "other", 1, &be2) == 0);
	if (be2 != NULL) {
		memset(&c, 0, sizeof(c));
		CHECK(be2->ops->list(be2, "", count_fn, &c) == 0 && c.n == 0);
		be2->ops->close(be2);
		be2 = NULL;
	}
	be->ops->close(be);
	be = NULL;

	/* A wrong secret: -EACCES, not a crash or -EIO. */
	setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret", 1);
	be = NULL;
	CHECK(open_store(lock, "st2", 1, &be) == -EACCES);
	CHECK(open_store(lock, "st", 0, &be) == -EACCES);
	CHECK(be == NULL);
}

static void
test_read(const char *lock)
{
	struct backend *be = NULL;
	struct backend_version *v = NULL;
	struct count c;
	size_t n = 0;
	uint64_t size = 0;

	CHECK(open_store(lock, "st", 0, &be) == 0);
	if (be == NULL)
		return;
	/* "config" was overwritten: the newest is the attacker's... */
	CHECK(be->ops->versions(be, "config", &v, &n) == 0 && n == 2);
	if (n == 2) {
		CHECK(v[0].is_latest && !v[1].is_latest);
		CHECK(!v[0].is_delete_marker && !v[1].is_delete_marker);
		/* ...and the first one is still there, byte for byte. */
		CHECK(get_is(be, "config", v[1].id, 0, UINT64_MAX, config,
		    sizeof(config)));
		CHECK(get_is(be, "config", v[0].id, 0, UINT64_MAX, "EVIL!\n",
		    6));
	}
	free(v);
	v = NULL;
	/* A read without a version gives the original, not the overwrite. */
	CHECK(get_is(be, "config", NULL, 0, UINT64_MAX, config,
	    sizeof(config)));
	CHECK(be->ops->stat(be, "config", &size) == 0 && size == 27);
	memset(&c, 0, sizeof(c));
	CHECK(be->ops->list(be, "", count_fn, &c) == 0);
	/* (84 keys, and one more from the virtual-host check) */
	CHECK(c.has_config && c.config_size == 27 &&
	    c.n == (getenv("S3_ENDPOINT_VHOST") ? 85 : 84));

	/* "packs/00/a" is hidden by a delete marker: read through it. */
	CHECK(be->ops->versions(be, "packs/00/a", &v, &n) == 0 && n == 2);
	if (n == 2)
		CHECK(v[0].is_delete_marker && !v[1].is_delete_marker &&
		    v[1].size == 4);
	free(v);
	v = NULL;
	CHECK(get_is(be, "packs/00/a", NULL, 1, 2, "AA", 2));
	CHECK(be->ops->stat(be, "packs/00/a", &size) == 0 && size == 4);
	memset(&c, 0, sizeof(c));
	CHECK(be->ops->list(be, "packs/00/", count_fn, &c) == 0 && c.n == 1);
	CHECK(be->ops->versions(be, "packs/00/none", &v, &n) == -ENOENT);
	be->ops->close(be);
}

static void
test_protect(const char *lock, const char *days)
{
	struct backend *be = NULL;

	opts.retention_secs = (uint64_t)atoi(days) * 86400;
	CHECK(open_store(lock, "st", 0, &be) == 0);
	if (be == NULL)
		return;
	CHECK(be->ops->protect(be, "packs/00/a") == 0);
	CHECK(be->ops->protect(be, "config") == 0);
	CHECK(be->ops->protect(be, "packs/00/none") == -ENOENT);
	be->ops->close(be);
}

int
main(int argc, char **argv)
{
	opts.s3.endpoint = getenv("S3_ENDPOINT");
	if (argc == 1)
		test_offline();
	else if (argc == 4 && strcmp(argv[1], "write") == 0)
		test_write(argv[2], argv[3]);
	else if (argc == 3 && strcmp(argv[1], "read") == 0)
		test_read(argv[2]);
	else if (argc == 4 && strcmp(argv[1], "protect") == 0)
		test_protect(argv[2], argv[3]);
	else {
		fprintf(stderr, "usage: test_s3 [write LOCK PLAIN | read LOCK "
		    "| protect LOCK DAYS]\n");
		return 2;
	}
	return check_done("test_s3");
}
