/*
 * storesnap.c: the snapshot list (every manifest in the index that
 * authenticates, in order), finding one by name or id prefix, and
 * walking or loading snapshots one at a time, for callers that must not
 * hold them all.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypt.h"
#include "hex.h"
#include "idset.h"
#include "log.h"
#include "pack.h"
#include "rd.h"
#include "snap.h"
#include "snapx.h"
#include "storei.h"
#include "tree.h"

/*
 * The snapshot cache: what opening a manifest costs (an X25519 agreement
 * and an Ed25519 check, about a millisecond) is paid once per machine,
 * not once per snapshot in every command.  The index's cache table
 * "snapbody" maps a manifest's id to its decrypted body, sealed with
 * AES-256-GCM under the keyring's snapc_key (derived from the master, so
 * only a reader can make or read an entry) with the id as associated
 * data: an entry opens only for the manifest it was made from, and the
 * id is the SHA-256 of the manifest's bytes, checked before every use.
 * What the registry says of the writer is read afresh each time.  A
 * miss opens the manifest the full way; the entries so made are written
 * in one transaction at the end of the walk (snapc_flush).  Writing is
 * best effort: a cache that cannot be written costs time, not answers.
 */
#define SNAPC_TABLE "snapbody"
#define SNAPC_AAD "amber snapshot cache 1"

struct snapc {
	struct index_kv *kv;	/* keys and values malloc'd */
	size_t n;
	size_t cap;
};

static void
snapc_aad(const uint8_t id[STORE_HASH_LEN], uint8_t *aad)
{
	memcpy(aad, SNAPC_AAD, sizeof(SNAPC_AAD) - 1);
	memcpy(aad + sizeof(SNAPC_AAD) - 1, id, STORE_HASH_LEN);
}

/* 1 and *${out} from the cache, 0 if it has no (good) entry. */
static int
snapc_get(struct store *s, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len, struct store_snap **out)
{
	uint8_t aad[sizeof(SNAPC_AAD) - 1 + STORE_HASH_LEN];
	uint8_t *body;
	void *v = NULL;
	size_t vlen = 0;
	int r;

	if (index_cache_get(s->ix, SNAPC_TABLE, id, STORE_HASH_LEN, &v,
	    &vlen) < 0)
		return 0;
	r = 0;
	if (vlen < 12 + 16 || (body = malloc(vlen - 28 + 1)) == NULL)
		goto out;
	snapc_aad(id, aad);
	if (crypt_open(s->kr.snapc_key, v, aad, sizeof(aad),
	    (const uint8_t *)v + 12, vlen - 12, body) == 0 &&
	    snap_from_body(&s->reg, buf, len, body, vlen - 28, out) == 0)
		r = 1;
	crypt_wipe(body, vlen - 28);
	free(body);
out:
	free(v);
	return r;
}

/* Seal ${body} as the entry of ${id}, for snapc_flush(). */
static int
snapc_add(struct snapc *c, struct store *s, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *body, size_t blen)
{
	uint8_t aad[sizeof(SNAPC_AAD) - 1 + STORE_HASH_LEN];
	uint8_t *k;
	uint8_t *v;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct index_kv *kv = realloc(c->kv, cap * sizeof(*kv));

		if (kv == NULL)
			return -ENOMEM;
		c->kv = kv;
		c->cap = cap;
	}
	if ((k = malloc(STORE_HASH_LEN)) == NULL)
		return -ENOMEM;
	if ((v = malloc(12 + blen + 16)) == NULL) {
		free(k);
		return -ENOMEM;
	}
	memcpy(k, id, STORE_HASH_LEN);
	snapc_aad(id, aad);
	if (crypt_random(v, 12) < 0 || crypt_seal(s->kr.snapc_key, v, aad,
	    sizeof(aad), body, blen, v + 12) < 0) {
		free(k);
		free(v);
		return 0;	/* no entry, no harm */
	}
	c->kv[c->n++] = (struct index_kv){ k, STORE_HASH_LEN, v,
	    12 + blen + 16 };
	return 0;
}

static void
snapc_flush(struct snapc *c, struct store *s)
{
	(void)index_cache_put_all(s->ix, SNAPC_TABLE, c->kv, c->n, 0);
	for (size_t i = 0; i < c->n; i++) {
		free((void *)c->kv[i].key);
		free((void *)c->kv[i].val);
	}
	free(c->kv);
	memset(c, 0, sizeof(*c));
}

/*
 * Open one sealed manifest: *${out} is NULL for one that fails
 * authentication (logged, and passed over) or does not match its id.
 * A manifest opened the full way gets a cache entry in ${c}.
 */
static int
snap_decode(struct store *s, struct snapc *c,
    const uint8_t id[STORE_HASH_LEN], const uint8_t *buf, size_t len,
    struct store_snap **out)
{
	struct store_snap *sn;
	uint8_t h[STORE_HASH_LEN];
	uint8_t *body = NULL;
	size_t blen = 0;
	char hex[65];
	int r;

	*out = NULL;
	crypt_sha256(buf, len, h);
	if (memcmp(h, id, STORE_HASH_LEN) != 0)
		return 0;
	if (snapc_get(s, id, buf, len, out))
		return 0;
	if ((r = snap_open_body(&s->kr, &s->reg, buf, len, &sn, &body,
	    &blen)) < 0) {
		if (r == -ENOMEM || r == -EACCES)
			return r;
		log_hex(id, 32, hex);
		log_err(r, "snapshots/%s: manifest fails authentication; "
		    "ignored", hex);
		return 0;
	}
	r = snapc_add(c, s, id, body, blen);
	crypt_wipe(body, blen);
	free(body);
	if (r < 0) {
		snap_free(sn);
		return r;
	}
	*out = sn;
	return 0;
}

int
store_snap_verified(struct store *s, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len, struct store_snap **out)
{
	struct snapc c = { 0 };
	int r;

	r = snap_decode(s, &c, id, buf, len, out);
	snapc_flush(&c, s);
	return r;
}

struct list_ctx {
	struct store *s;
	struct store_snap_list *l;
	size_t cap;
	struct snapc c;
};

static int
list_one(void *ctx, const uint8_t id[STORE_HASH_LEN], const uint8_t *buf,
    size_t len)
{
	struct list_ctx *c = ctx;
	struct store_snap *sn;
	int r;

	if ((r = snap_decode(c->s, &c->c, id, buf, len, &sn)) < 0 ||
	    sn == NULL)
		return r;
	if (c->l->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct store_snap **v = realloc(c->l->v, cap * sizeof(*v));

		if (v == NULL) {
			snap_free(sn);
			return -ENOMEM;
		}
		c->l->v = v;
		c->cap = cap;
	}
	c->l->v[c->l->n++] = sn;
	return 0;
}

const char *
store_snap_flag_name(size_t i, uint32_t *flag)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} names[] = {
		{ STORE_SNAP_PARTIAL, "partial" },
		{ STORE_SNAP_FUTURE, "future" },
		{ STORE_SNAP_ORPHAN, "orphan" },
		{ STORE_SNAP_REVOKED, "revoked" },
		{ STORE_SNAP_BEFORE_KEY, "before-key" },
		{ STORE_SNAP_BEFORE_PARENT, "before-parent" },
		{ STORE_SNAP_PARENTLESS, "parentless" },
	};

	if (i >= sizeof(names) / sizeof(names[0]))
		return NULL;
	*flag = names[i].flag;
	return names[i].name;
}

int
store_snapshots(struct store *s, struct store_snap_list **out)
{
	struct list_ctx c = { s, NULL, 0, { 0 } };
	int r;

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	if ((c.l = calloc(1, sizeof(*c.l))) == NULL)
		return -ENOMEM;
	r = index_snap_each(s->ix, list_one, &c);
	snapc_flush(&c.c, s);
	if (r < 0) {
		store_snap_list_free(c.l);
		return r;
	}
	if ((r = snap_order(s, c.l->v, c.l->n, (int64_t)time(NULL))) < 0) {
		store_snap_list_free(c.l);
		return r;
	}
	*out = c.l;
	return 0;
}

size_t
store_snap_list_len(const struct store_snap_list *l)
{
	return l->n;
}

const struct store_snap *
store_snap_list_get(const struct store_snap_list *l, size_t i)
{
	return i < l->n ? l->v[i] : NULL;
}

void
store_snap_list_free(struct store_snap_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		snap_free(l->v[i]);
	free(l->v);
	free(l);
}

int
store_snap_find(const struct store_snap_list *l, const char *spec,
    const struct store_snap **out)
{
	const struct store_snap *found = NULL;
	size_t n = strlen(spec);

	if (strcmp(spec, "latest") == 0) {
		for (size_t i = l->n; i > 0; i--)
			if (!(l->v[i - 1]->flags & STORE_SNAP_UNTRUSTED)) {
				*out = l->v[i - 1];
				return 0;
			}
		return -ENOENT;
	}
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->name, spec) == 0) {
			*out = l->v[i];
			return 0;
		}
	if (n < 4 || n > 64 || strspn(spec, "0123456789abcdef") != n)
		return -ENOENT;
	for (size_t i = 0; i < l->n; i++) {
		char hex[65];

		log_hex(l->v[i]->id, 32, hex);
		if (strncmp(hex, spec, n) != 0)
			continue;
		if (found != NULL)
			return -EINVAL;
		found = l->v[i];
	}
	if (found == NULL)
		return -ENOENT;
	*out = found;
	return 0;
}

/* ---- one snapshot at a time --------------------------------------------- */

struct each_ctx {
	struct store *s;
	struct snapc c;
	int (*skip)(void *ctx, const uint8_t id[STORE_HASH_LEN]);
	int (*fn)(void *ctx, const struct store_snap *snap);
	void *ctx;
};

static int
each_one(void *ctx, const uint8_t id[STORE_HASH_LEN], const uint8_t *buf,
    size_t len)
{
	struct each_ctx *c = ctx;
	struct store_snap *sn;
	int r;

	if (c->skip != NULL && (r = c->skip(c->ctx, id)) != 0)
		return r < 0 ? r : 0;
	if ((r = snap_decode(c->s, &c->c, id, buf, len, &sn)) < 0 ||
	    sn == NULL)
		return r;
	store_time_format(sn->time_sec, sn->name, sizeof(sn->name));
	r = c->fn(c->ctx, sn);
	snap_free(sn);
	return r;
}

int
store_snap_each(struct store *s,
    int (*skip)(void *ctx, const uint8_t id[STORE_HASH_LEN]),
    int (*fn)(void *ctx, const struct store_snap *snap), void *ctx)
{
	struct each_ctx c = { s, { 0 }, skip, fn, ctx };
	int r;

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	r = index_snap_each(s->ix, each_one, &c);
	snapc_flush(&c.c, s);
	return r;
}

int
store_snap_load(struct store *s, const uint8_t id[STORE_HASH_LEN],
    struct store_snap **out)
{
	struct store_snap *sn;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	if ((r = index_snap_get(s->ix, id, &buf, &len)) < 0)
		return r;
	r = store_snap_verified(s, id, buf, len, &sn);
	free(buf);
	if (r < 0)
		return r;
	if (sn == NULL)
		return -EBADMSG;
	store_time_format(sn->time_sec, sn->name, sizeof(sn->name));
	*out = sn;
	return 0;
}

void
store_snap_free(struct store_snap *snap)
{
	snap_free(snap);
}

/* ---- from the derived records (snapx.h) --------------------------------- */

int
store_snap_name_of(struct store *s, const uint8_t id[STORE_HASH_LEN],
    char *name, size_t cap)
{
	struct snapx_rec rec;
	int r;

	if ((r = snapx_find(s, id, &rec)) < 0)
		return r;
	snprintf(name, cap, "%s", rec.name);
	return 0;
}

struct briefs_ctx {
	int (*fn)(void *ctx, const struct store_snap_brief *b);
	void *ctx;
};

static int
briefs_one(void *ctx, const struct snapx_rec *rec)
{
	struct briefs_ctx *c = ctx;
	struct store_snap_brief b;

	memcpy(b.id, rec->id, STORE_HASH_LEN);
	b.time_sec = rec->time_sec;
	b.flags = rec->flags;
	memcpy(b.name, rec->name, sizeof(b.name));
	return c->fn(c->ctx, &b);
}

int
store_snap_briefs_back(struct store *s,
    int (*fn)(void *ctx, const struct store_snap_brief *b), void *ctx)
{
	struct briefs_ctx c = { fn, ctx };

	return snapx_each_back(s, briefs_one, &c);
}

struct recent_ctx {
	int64_t since;
	struct snapx_rec *v;
	size_t n;
	size_t cap;
	int has_trusted;
};

static int
recent_one(void *ctx, const struct snapx_rec *rec)
{
	struct recent_ctx *c = ctx;

	/* Back to ${since}, and on to the newest trusted one ("latest"). */
	if (rec->time_sec < c->since && c->has_trusted)
		return 1;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct snapx_rec *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *rec;
	if (!(rec->flags & STORE_SNAP_UNTRUSTED))
		c->has_trusted = 1;
	return rec->time_sec < c->since && c->has_trusted ? 1 : 0;
}

/* The snapshots of records ${v} (newest first), oldest first in ${l}. */
static int
recent_load(struct store *s, const struct snapx_rec *v, size_t n,
    struct store_snap_list *l)
{
	int r;

	if ((l->v = calloc(n ? n : 1, sizeof(*l->v))) == NULL)
		return -ENOMEM;
	for (size_t i = n; i > 0; i--) {
		struct store_snap *sn;

		if ((r = store_snap_load(s, v[i - 1].id, &sn)) < 0)
			return r;
		snprintf(sn->name, sizeof(sn->name), "%s", v[i - 1].name);
		sn->flags = v[i - 1].flags;
		l->v[l->n++] = sn;
	}
	return 0;
}

int
store_snap_recent(struct store *s, int64_t since,
    struct store_snap_list **out)
{
	struct recent_ctx c = { since, NULL, 0, 0, 0 };
	struct store_snap_list *l;
	int r;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	if ((r = snapx_each_back(s, recent_one, &c)) == 0)
		r = recent_load(s, c.v, c.n, l);
	free(c.v);
	if (r < 0) {
		store_snap_list_free(l);
		return r;
	}
	*out = l;
	return 0;
}

/* ---- heads (snapx.h) ------------------------------------------------- */

struct heads {
	struct store *s;
	struct idset all;
	struct idset parents;
	uint8_t (*ids)[32];
	size_t n;
	size_t cap;
};

static int
heads_one(void *ctx, const uint8_t id[STORE_HASH_LEN], const uint8_t *buf,
    size_t len)
{
	struct heads *h = ctx;
	const uint8_t *writer;
	const uint8_t *parents;
	struct store_snap *sn = NULL;
	size_t n;

	/*
	 * A reader trusts only manifests that authenticate; a host with an
	 * ingest key cannot open any and goes by the signed clear header.
	 */
	if (snap_header(buf, len, &writer, &parents, &n) < 0)
		return 0;
	if (h->s->kr.has_master) {
		if (store_snap_verified(h->s, id, buf, len, &sn) < 0 ||
		    sn == NULL)
			return 0;	/* verify reports it */
		snap_free(sn);
	}
	for (size_t i = 0; i < n; i++)
		if (idset_add(&h->parents, parents + 32 * i) < 0)
			return -ENOMEM;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		void *v = realloc(h->ids, cap * 32);

		if (v == NULL)
			return -ENOMEM;
		h->ids = v;
		h->cap = cap;
	}
	memcpy(h->ids[h->n++], id, 32);
	return 0;
}

int
store_heads(struct store *s, uint8_t (**out)[32], size_t *n)
{
	struct heads h = { s, { 0 }, { 0 }, NULL, 0, 0 };
	size_t k = 0;
	int r;

	if ((r = store_index_sync(s, 0)) < 0)
		return r;
	/* A reader has them from the index's records (snapx.h). */
	if (s->kr.has_master && ((r = snapx_heads(s, out, n)) == 0 ||
	    r == -ENOMEM))
		return r;
	if ((r = index_snap_each(s->ix, heads_one, &h)) < 0)
		goto out;
	for (size_t i = 0; i < h.n; i++)
		if (!idset_has(&h.parents, h.ids[i]))
			memmove(h.ids[k++], h.ids[i], 32);
	*out = h.ids;
	*n = k;
	h.ids = NULL;
out:
	free(h.ids);
	idset_fini(&h.all);
	idset_fini(&h.parents);
	return r;
}
