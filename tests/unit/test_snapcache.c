/*
 * test_snapcache.c: the index's snapshot cache (store/storesnap.c),
 * which spares a reader the X25519 and Ed25519 work of opening every
 * manifest in every command.  A listing fills it, one entry a snapshot;
 * a second listing gives the same snapshots.  An entry is believed only
 * if it opens under the reader's key with its own id: one sealed under
 * that key is believed (positive control: a changed host shows), while
 * a flipped byte, another snapshot's entry put under this id, or one
 * sealed under any other key is passed over, the manifest opened the
 * full way and the entry made anew.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "crypt.h"
#include "fixture.h"
#include "index.h"
#include "storei.h"

#define N_SNAPS 3
#define TABLE "snapbody"
#define AAD "amber snapshot cache 1"

static const char pass[] = "correct horse";

/* The hosts of the store's snapshots, by commit order (h0, h1, h2). */
static int
hosts(const char *loc, const struct store_opts *o, char out[N_SNAPS][16],
    uint8_t key[32])
{
	struct store_snap_list *l = NULL;
	struct store *s = NULL;
	int r;

	if ((r = fixture_open(loc, o, pass, &s)) < 0)
		return r;
	if ((r = store_snapshots(s, &l)) < 0) {
		store_close(s);
		return r;
	}
	if (key != NULL)
		memcpy(key, s->kr.snapc_key, 32);
	memset(out, 0, N_SNAPS * 16);
	for (size_t i = 0; i < store_snap_list_len(l) && i < N_SNAPS; i++)
		snprintf(out[i], 16, "%s", store_snap_list_get(l, i)->host);
	r = (int)store_snap_list_len(l);
	store_snap_list_free(l);
	store_close(s);
	return r;
}

static int
entry_get(const char *idx, const uint8_t id[32], uint8_t **v, size_t *vlen)
{
	struct index *ix = NULL;
	int r;

	if ((r = index_open(idx, &ix)) < 0)
		return r;
	r = index_cache_get(ix, TABLE, id, 32, (void **)v, vlen);
	index_close(ix);
	return r;
}

static int
entry_put(const char *idx, const uint8_t id[32], const uint8_t *v,
    size_t vlen)
{
	struct index *ix = NULL;
	int r;

	if ((r = index_open(idx, &ix)) < 0)
		return r;
	r = index_cache_put(ix, TABLE, id, 32, v, vlen);
	index_close(ix);
	return r;
}

/* Reseal ${v} (an entry of ${id}) under ${key} with host "h0" made
 * "hX". */
static int
entry_rehost(const uint8_t key[32], const uint8_t id[32], uint8_t *v,
    size_t vlen)
{
	uint8_t aad[sizeof(AAD) - 1 + 32];
	uint8_t *body;
	size_t blen = vlen - 28;
	int r = -ENOENT;

	memcpy(aad, AAD, sizeof(AAD) - 1);
	memcpy(aad + sizeof(AAD) - 1, id, 32);
	if ((body = malloc(blen)) == NULL)
		return -ENOMEM;
	if (crypt_open(key, v, aad, sizeof(aad), v + 12, vlen - 12,
	    body) < 0) {
		free(body);
		return -EBADMSG;
	}
	/* The body: version (1), time (8 + 4), commit time (8), then the
	 * host as a 16-bit length and its bytes (amber-store(5)). */
	if (blen > 25 && body[21] == 2 && body[22] == 0 &&
	    memcmp(body + 23, "h0", 2) == 0) {
		body[24] = 'X';
		r = 0;
	}
	if (r == 0)
		r = crypt_seal(key, v, aad, sizeof(aad), body, blen, v + 12);
	free(body);
	return r;
}

int
main(void)
{
	char top[64];
	char loc[256], idx[256];
	char h[N_SNAPS][16];
	uint8_t ids[N_SNAPS][32];
	uint8_t key[32], other[32];
	struct store_opts o;
	struct store *s = NULL;
	uint8_t *v0 = NULL, *v1 = NULL, *v = NULL;
	size_t v0len = 0, v1len = 0, vlen = 0;

	store_log_set(fixture_quiet);
	if (fixture_tmp(top, sizeof(top), "snapcache") < 0)
		return 1;
	snprintf(loc, sizeof(loc), "%s/store", top);
	snprintf(idx, sizeof(idx), "%s/index", top);
	memset(&o, 0, sizeof(o));
	o.index_dir = idx;
	CHECK(fixture_create_open(loc, idx, pass, &s) == 0);
	if (s == NULL)
		return check_done("test_snapcache");
	for (int i = 0; i < N_SNAPS; i++) {
		struct store_writer *w = NULL;
		struct store_snap_new sn;
		char host[8];

		snprintf(host, sizeof(host), "h%d", i);
		memset(&sn, 0, sizeof(sn));
		sn.time_sec = 1764201600 + 3600 * i;
		sn.host = host;
		CHECK(store_writer_new(s, &w) == 0);
		if (w != NULL)
			CHECK(store_writer_commit(w, &sn, ids[i]) == 0);
		store_writer_free(w);
	}
	store_close(s);

	/* The commits' own listings may have filled it; a listing does. */
	CHECK(hosts(loc, &o, h, key) == N_SNAPS);
	CHECK(strcmp(h[0], "h0") == 0 && strcmp(h[2], "h2") == 0);
	for (int i = 0; i < N_SNAPS; i++) {
		CHECK(entry_get(idx, ids[i], &v, &vlen) == 0);
		CHECK(v != NULL && vlen > 28);
		free(v);
		v = NULL;
	}
	CHECK(hosts(loc, &o, h, NULL) == N_SNAPS);
	CHECK(strcmp(h[0], "h0") == 0 && strcmp(h[1], "h1") == 0);

	CHECK(entry_get(idx, ids[0], &v0, &v0len) == 0);
	CHECK(entry_get(idx, ids[1], &v1, &v1len) == 0);
	if (v0 == NULL || v1 == NULL)
		goto out;

	/* Positive control: an entry sealed under the reader's key is
	 * what the listing shows. */
	CHECK((v = malloc(v0len)) != NULL);
	if (v == NULL)
		goto out;
	memcpy(v, v0, v0len);
	CHECK(entry_rehost(key, ids[0], v, v0len) == 0);
	CHECK(entry_put(idx, ids[0], v, v0len) == 0);
	CHECK(hosts(loc, &o, h, NULL) == N_SNAPS);
	CHECK(strcmp(h[0], "hX") == 0);

	/* The same change sealed under another key: not believed, and the
	 * entry is made anew from the manifest. */
	memcpy(v, v0, v0len);
	memcpy(other, key, 32);
	other[0] ^= 1;
	CHECK(crypt_open(key, v0, (const uint8_t *)"x", 1, v0 + 12,
	    v0len - 12, v + 12) == -EBADMSG);	/* the AAD is bound */
	memcpy(v, v0, v0len);
	CHECK(entry_rehost(key, ids[0], v, v0len) == 0);
	{
		/* reseal what entry_rehost made under the other key */
		uint8_t aad[sizeof(AAD) - 1 + 32];
		uint8_t *body = malloc(v0len - 28);

		memcpy(aad, AAD, sizeof(AAD) - 1);
		memcpy(aad + sizeof(AAD) - 1, ids[0], 32);
		CHECK(body != NULL);
		if (body != NULL) {
			CHECK(crypt_open(key, v, aad, sizeof(aad), v + 12,
			    v0len - 12, body) == 0);
			CHECK(crypt_seal(other, v, aad, sizeof(aad), body,
			    v0len - 28, v + 12) == 0);
			free(body);
		}
	}
	CHECK(entry_put(idx, ids[0], v, v0len) == 0);
	CHECK(hosts(loc, &o, h, NULL) == N_SNAPS);
	CHECK(strcmp(h[0], "h0") == 0);
	free(v);
	v = NULL;
	CHECK(entry_get(idx, ids[0], &v, &vlen) == 0);
	CHECK(v != NULL && vlen == v0len && memcmp(v, v0, 12) != 0);
	free(v);
	v = NULL;

	/* A flipped byte. */
	CHECK((v = malloc(v0len)) != NULL);
	if (v == NULL)
		goto out;
	memcpy(v, v0, v0len);
	CHECK(entry_rehost(key, ids[0], v, v0len) == 0);
	v[v0len / 2] ^= 0x40;
	CHECK(entry_put(idx, ids[0], v, v0len) == 0);
	CHECK(hosts(loc, &o, h, NULL) == N_SNAPS);
	CHECK(strcmp(h[0], "h0") == 0);

	/* Snapshot 1's entry under snapshot 0's id. */
	CHECK(entry_put(idx, ids[0], v1, v1len) == 0);
	CHECK(hosts(loc, &o, h, NULL) == N_SNAPS);
	CHECK(strcmp(h[0], "h0") == 0 && strcmp(h[1], "h1") == 0);

	/* A short or empty entry. */
	CHECK(entry_put(idx, ids[2], v1, 20) == 0);
	CHECK(hosts(loc, &o, h, NULL) == N_SNAPS);
	CHECK(strcmp(h[2], "h2") == 0);
out:
	free(v);
	free(v0);
	free(v1);
	fixture_rm(top, "test_snapcache");
	return check_done("test_snapcache");
}
