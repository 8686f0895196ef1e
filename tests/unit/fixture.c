/*
 * fixture.c: the helpers of fixture.h, shared by the unit tests.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypt.h"
#include "fixture.h"
#include "log.h"
#include "snap.h"
#include "storei.h"

void
fixture_quiet(int level, const char *msg)
{
	(void)level;
	if (getenv("AMBER_TEST_VERBOSE") != NULL)
		fprintf(stderr, "store: %s\n", msg);
}

int
fixture_tmp(char *top, size_t cap, const char *name)
{
	snprintf(top, cap, "/tmp/amber-test-%s.XXXXXX", name);
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

void
fixture_rm(const char *top, const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", top,
	    top);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: cannot remove %s\n", prog, top);
}

int
fixture_open(const char *dir, const struct store_opts *o, const char *pass,
    struct store **s)
{
	int r;

	*s = NULL;
	if ((r = store_open(dir, o, s)) < 0)
		return r;
	if ((r = store_unlock(*s, pass, strlen(pass))) < 0) {
		store_close(*s);
		*s = NULL;
	}
	return r;
}

int
fixture_create_open(const char *dir, const char *idx, const char *pass,
    struct store **s)
{
	struct store_create_opts co;
	struct store_opts o;
	int r;

	*s = NULL;
	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	if ((r = store_create(dir, &co, pass, strlen(pass))) < 0)
		return r;
	memset(&o, 0, sizeof(o));
	o.index_dir = idx;
	return fixture_open(dir, &o, pass, s);
}

int
fixture_commit(struct store_writer *w, int64_t t, const char *host,
    const struct store_source *src, size_t n, uint8_t id[32])
{
	struct store_snap_new sn;

	memset(&sn, 0, sizeof(sn));
	sn.time_sec = t;
	sn.host = host;
	sn.sources = src;
	sn.n_sources = n;
	return store_writer_commit(w, &sn, id);
}

int
fixture_commit_empty(struct store_writer *w, int64_t t, uint8_t id[32])
{
	struct store_tb *tb = NULL;
	struct store_source src;
	int r;

	memset(&src, 0, sizeof(src));
	src.kind = STORE_FILES;
	snprintf(src.name, sizeof(src.name), "data");
	src.root.mode = 0755;
	if ((r = store_tb_new(&tb)) == 0 &&
	    (r = store_tb_finish(w, tb, &src.root)) == 0)
		r = fixture_commit(w, t, "h", &src, 1, id);
	store_tb_free(tb);
	return r;
}

uint64_t
fixture_rng(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
fixture_rnd(uint64_t *state, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)fixture_rng(state);
}

int
fixture_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int
fixture_put_manifest(struct store *s, const struct store_snap *like,
    int64_t t, const uint8_t (*parents)[32], size_t n_parents,
    uint8_t id[32])
{
	struct store_snap_new sn;
	uint8_t *obj = NULL;
	size_t len;
	char name[80];
	char hex[65];
	int r;

	memset(&sn, 0, sizeof(sn));
	sn.time_sec = t;
	sn.host = "forger";
	sn.sources = like->sources;
	sn.n_sources = like->n_sources;
	if ((r = snap_make(&s->kr, &sn, &like->root, parents, n_parents,
	    &obj, &len)) < 0)
		return r;
	crypt_sha256(obj, len, id);
	log_hex(id, 32, hex);
	snprintf(name, sizeof(name), "snapshots/%s", hex);
	r = s->be->ops->put(s->be, name, obj, len);
	free(obj);
	return r;
}
