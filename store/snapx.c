/*
 * snapx.c: the derived snapshot records (snapx.h) in the index's "snapx"
 * table.  Keys:
 *
 *   "H"              the header: version, generation (16 random bytes,
 *                    new at each rebuild), manifests covered, records,
 *                    digests of the registry and of the expired set
 *                    that the flags were derived under, the time until
 *                    which no FUTURE flag changes, and a MAC
 *   "r" SEQ(8, BE)   a record, in store_snapshots() order: id, time,
 *                    flags, name, MAC
 *   "i" ID           -> SEQ (a hint: the record it finds must carry ID)
 *   "h" ID           a head, MAC
 *   "m" ID           a parent some snapshot names and the index lacks
 *
 * Every MAC is HMAC-SHA-256 under a key derived from snapc_key, over the
 * generation, the key and the value: a record made by no reader of this
 * store, or in another generation, does not verify, and is never used.
 * The records are stale, and rebuilt from store_snapshots(), when the
 * header does not verify or no longer matches the index (a manifest
 * added by a writer that did not append, one forgotten by prune), the
 * registry, the expired set or the clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypt.h"
#include "idset.h"
#include "index.h"
#include "rd.h"
#include "snap.h"
#include "snapx.h"
#include "storei.h"

#define SNAPX_VERSION 1
#define SNAPX_LABEL "amber snapshot index 1"
#define MAC_LEN 32
#define GEN_LEN 16
/* version, gen, n_index, n_rec, reg, exp, valid_until */
#define HDR_LEN (1 + GEN_LEN + 8 + 8 + 32 + 32 + 8)
/* id, time, flags, name length; then the name */
#define REC_HEAD (32 + 8 + 4 + 1)

struct hdr {
	uint8_t gen[GEN_LEN];
	uint64_t n_index;
	uint64_t n_rec;
	uint8_t reg[32];
	uint8_t exp[32];
	int64_t valid_until;
};

static void
mac_key(const struct store *s, uint8_t key[32])
{
	crypt_hmac(s->kr.snapc_key, SNAPX_LABEL, sizeof(SNAPX_LABEL) - 1,
	    NULL, 0, key);
}

/* The MAC of key ${k} and value ${v} in generation ${gen}. */
static void
mac_of(const uint8_t key[32], const uint8_t gen[GEN_LEN], const void *k,
    size_t klen, const void *v, size_t vlen, uint8_t out[MAC_LEN])
{
	uint8_t buf[GEN_LEN + 1 + 1 + 32 + 8];
	uint8_t h[32];

	/* The key is short (at most 33 bytes); the value may not be. */
	memcpy(buf, gen, GEN_LEN);
	buf[GEN_LEN] = (uint8_t)klen;
	memcpy(buf + GEN_LEN + 1, k, klen);
	crypt_sha256(v, vlen, h);
	crypt_hmac(key, buf, GEN_LEN + 1 + klen, h, 32, out);
}

static int
mac_ok(const uint8_t key[32], const uint8_t gen[GEN_LEN], const void *k,
    size_t klen, const uint8_t *v, size_t vlen)
{
	uint8_t m[MAC_LEN];

	if (vlen < MAC_LEN)
		return 0;
	mac_of(key, gen, k, klen, v, vlen - MAC_LEN, m);
	return crypt_equal(m, v + vlen - MAC_LEN, MAC_LEN);
}

/* What the registry says of every writer, which some flags depend on. */
static void
reg_digest(const struct store *s, uint8_t out[32])
{
	struct crypt_sha256 *h = crypt_sha256_new();
	uint8_t b[8];

	if (h == NULL) {
		memset(out, 0xff, 32);	/* matches no header made */
		return;
	}
	for (size_t i = 0; i < s->reg.n; i++) {
		const struct reg_entry *e = &s->reg.v[i];

		crypt_sha256_add(h, e->id, sizeof(e->id));
		le_put(b, (uint64_t)e->created, 8);
		crypt_sha256_add(h, b, 8);
		b[0] = e->is_revoked ? 1 : 0;
		crypt_sha256_add(h, b, 1);
		le_put(b, e->n_accepted, 8);
		crypt_sha256_add(h, b, 8);
		crypt_sha256_add(h, e->accepted, e->n_accepted * 32);
	}
	crypt_sha256_end(h, out);
}

static int
exp_one(void *ctx, const uint8_t id[STORE_HASH_LEN])
{
	uint8_t *d = ctx;
	uint8_t h[32];

	/* A sum of hashes: the order of the listing does not matter. */
	crypt_sha256(id, STORE_HASH_LEN, h);
	for (size_t i = 0, c = 0; i < 32; i++) {
		c += (size_t)d[i] + h[i];
		d[i] = (uint8_t)c;
		c >>= 8;
	}
	return 0;
}

/* The digest of the signed records of expired snapshots. */
static int
exp_digest(struct store *s, uint8_t out[32])
{
	memset(out, 0, 32);
	return store_expired_each(s, exp_one, out);
}

static void
hdr_encode(const struct hdr *h, uint8_t v[HDR_LEN])
{
	v[0] = SNAPX_VERSION;
	memcpy(v + 1, h->gen, GEN_LEN);
	le_put(v + 1 + GEN_LEN, h->n_index, 8);
	le_put(v + 9 + GEN_LEN, h->n_rec, 8);
	memcpy(v + 17 + GEN_LEN, h->reg, 32);
	memcpy(v + 49 + GEN_LEN, h->exp, 32);
	le_put(v + 81 + GEN_LEN, (uint64_t)h->valid_until, 8);
}

static int
hdr_read(struct store *s, const uint8_t key[32], struct hdr *h)
{
	uint8_t *v = NULL;
	size_t vlen = 0;
	int r;

	if ((r = index_snapx_get(s->ix, "H", 1, (void **)&v, &vlen)) < 0)
		return r;
	r = -EBADMSG;
	if (vlen != HDR_LEN + MAC_LEN || v[0] != SNAPX_VERSION)
		goto out;
	memcpy(h->gen, v + 1, GEN_LEN);
	if (!mac_ok(key, h->gen, "H", 1, v, vlen))
		goto out;
	h->n_index = le_get(v + 1 + GEN_LEN, 8);
	h->n_rec = le_get(v + 9 + GEN_LEN, 8);
	memcpy(h->reg, v + 17 + GEN_LEN, 32);
	memcpy(h->exp, v + 49 + GEN_LEN, 32);
	h->valid_until = (int64_t)le_get(v + 81 + GEN_LEN, 8);
	r = 0;
out:
	free(v);
	return r;
}

/*
 * A write of the table: the keys and values are kept in one buffer of
 * their own each (freed by w_fini), MACs made as they are added.
 */
struct w {
	struct index_kv *kv;
	size_t n;
	size_t cap;
	struct index_kv *del;
	uint8_t (*del_keys)[33];
	size_t n_del;
	const uint8_t *key;
	const uint8_t *gen;
};

static int
w_put(struct w *w, const void *k, size_t klen, const void *v, size_t vlen,
    int is_mac)
{
	uint8_t *kb;
	uint8_t *vb;

	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct index_kv *kv = realloc(w->kv, cap * sizeof(*kv));

		if (kv == NULL)
			return -ENOMEM;
		w->kv = kv;
		w->cap = cap;
	}
	kb = malloc(klen);
	vb = malloc(vlen + MAC_LEN + 1);
	if (kb == NULL || vb == NULL) {
		free(kb);
		free(vb);
		return -ENOMEM;
	}
	memcpy(kb, k, klen);
	memcpy(vb, v, vlen);
	if (is_mac) {
		mac_of(w->key, w->gen, k, klen, v, vlen, vb + vlen);
		vlen += MAC_LEN;
	}
	w->kv[w->n++] = (struct index_kv){ kb, klen, vb, vlen };
	return 0;
}

static void
w_fini(struct w *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free((void *)w->kv[i].key);
		free((void *)w->kv[i].val);
	}
	free(w->kv);
	free(w->del);
	free(w->del_keys);
}

static void
seq_key(uint64_t seq, uint8_t k[9])
{
	k[0] = 'r';
	for (int i = 0; i < 8; i++)
		k[1 + i] = (uint8_t)(seq >> (56 - 8 * i));
}

static int
w_rec(struct w *w, uint64_t seq, const uint8_t id[32], int64_t time_sec,
    uint32_t flags, const char *name)
{
	uint8_t k[33];
	uint8_t v[REC_HEAD + STORE_SNAP_NAME_LEN];
	size_t nl = strnlen(name, STORE_SNAP_NAME_LEN - 1);
	uint8_t sb[8];
	int r;

	seq_key(seq, k);
	memcpy(v, id, 32);
	le_put(v + 32, (uint64_t)time_sec, 8);
	le_put(v + 40, flags, 4);
	v[44] = (uint8_t)nl;
	memcpy(v + REC_HEAD, name, nl);
	if ((r = w_put(w, k, 9, v, REC_HEAD + nl, 1)) < 0)
		return r;
	k[0] = 'i';
	memcpy(k + 1, id, 32);
	le_put(sb, seq, 8);
	return w_put(w, k, 33, sb, 8, 0);
}

static int
w_id(struct w *w, char tag, const uint8_t id[32])
{
	uint8_t k[33];

	k[0] = (uint8_t)tag;
	memcpy(k + 1, id, 32);
	return w_put(w, k, 33, "", 0, tag == 'h');
}

static int
w_hdr(struct w *w, const struct hdr *h)
{
	uint8_t v[HDR_LEN];

	hdr_encode(h, v);
	return w_put(w, "H", 1, v, HDR_LEN, 1);
}

/* Decode record value ${v} (MAC checked by the caller). */
static int
rec_decode(const uint8_t *v, size_t vlen, struct snapx_rec *r)
{
	if (vlen < REC_HEAD + MAC_LEN || v[44] >= STORE_SNAP_NAME_LEN ||
	    vlen != (size_t)(REC_HEAD + v[44] + MAC_LEN))
		return -EBADMSG;
	memcpy(r->id, v, 32);
	r->time_sec = (int64_t)le_get(v + 32, 8);
	r->flags = (uint32_t)le_get(v + 40, 4);
	memcpy(r->name, v + REC_HEAD, v[44]);
	r->name[v[44]] = '\0';
	return 0;
}

/* ---- rebuilding ----------------------------------------------------------- */

static int
rebuild_write(struct store *s, struct w *w, struct hdr *h,
    const struct store_snap_list *l)
{
	struct idset ids = { NULL, 0, 0 };
	struct idset named = { NULL, 0, 0 };
	int64_t now = (int64_t)time(NULL);
	int r = 0;

	(void)s;
	for (size_t i = 0; r == 0 && i < l->n; i++)
		r = idset_add(&ids, l->v[i]->id) < 0 ? -ENOMEM : 0;
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		const struct store_snap *sn = l->v[i];

		r = w_rec(w, i, sn->id, sn->time_sec, sn->flags, sn->name);
		/* FUTURE goes once the clock passes its time. */
		if ((sn->flags & STORE_SNAP_FUTURE) &&
		    sn->time_sec - STORE_SNAP_SLACK < h->valid_until)
			h->valid_until = sn->time_sec - STORE_SNAP_SLACK;
		for (size_t j = 0; r == 0 && j < sn->n_parents; j++) {
			if (idset_add(&named, sn->parents[j]) < 0)
				r = -ENOMEM;
			else if (!idset_has(&ids, sn->parents[j]))
				r = w_id(w, 'm', sn->parents[j]);
		}
	}
	for (size_t i = 0; r == 0 && i < l->n; i++)
		if (!idset_has(&named, l->v[i]->id))
			r = w_id(w, 'h', l->v[i]->id);
	if (h->valid_until < now)
		h->valid_until = now;	/* not to be trusted: never valid */
	h->n_rec = l->n;
	if (r == 0)
		r = w_hdr(w, h);
	idset_fini(&ids);
	idset_fini(&named);
	return r;
}

/*
 * Make the records again from every manifest indexed.  ${h} has the
 * digests; the rest is set here.
 */
static int
rebuild(struct store *s, const uint8_t key[32], struct hdr *h)
{
	struct store_snap_list *l = NULL;
	struct w w = { .key = key, .gen = h->gen };
	int r;

	h->n_index = index_snap_count(s->ix);
	if ((r = store_snapshots(s, &l)) < 0)
		return r;
	h->valid_until = INT64_MAX;
	if ((r = crypt_random(h->gen, GEN_LEN)) == 0 &&
	    (r = rebuild_write(s, &w, h, l)) == 0)
		r = index_snapx_write(s->ix, 1, w.kv, w.n, NULL, 0);
	w_fini(&w);
	store_snap_list_free(l);
	return r;
}

/*
 * Bring the records up to date: *${h} is their header.  ${key} the MAC
 * key.  -EACCES without a reader key.
 */
static int
refresh(struct store *s, uint8_t key[32], struct hdr *h)
{
	struct hdr want;
	int r;

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	mac_key(s, key);
	reg_digest(s, want.reg);
	if ((r = exp_digest(s, want.exp)) < 0)
		return r;
	if (hdr_read(s, key, h) == 0 && h->n_index == index_snap_count(s->ix)
	    && memcmp(h->reg, want.reg, 32) == 0 &&
	    memcmp(h->exp, want.exp, 32) == 0 &&
	    (int64_t)time(NULL) < h->valid_until)
		return 0;
	*h = want;
	return rebuild(s, key, h);
}

/* ---- reading -------------------------------------------------------------- */

/*
 * A record did not verify at try ${tries}: the first time, the records
 * may have been rebuilt since the header was read (another process);
 * after that, they are made again.
 */
static void
stale(struct store *s, int tries)
{
	if (tries > 0)
		(void)index_snapx_write(s->ix, 1, NULL, 0, NULL, 0);
}

struct walk {
	const uint8_t *key;
	const struct hdr *h;
	int (*fn)(void *ctx, const struct snapx_rec *r);
	void *ctx;
	int r;
};

static int
walk_one(void *ctx, const void *k, size_t klen, const void *v, size_t vlen)
{
	struct walk *w = ctx;
	struct snapx_rec rec;

	if (klen != 9 || *(const uint8_t *)k != 'r')
		return 1;
	if (!mac_ok(w->key, w->h->gen, k, klen, v, vlen) ||
	    rec_decode(v, vlen, &rec) < 0) {
		w->r = -ESTALE;	/* rebuilt meanwhile, or tampered with */
		return 1;
	}
	return w->fn(w->ctx, &rec);
}

int
snapx_each_back(struct store *s, int (*fn)(void *ctx,
    const struct snapx_rec *r), void *ctx)
{
	uint8_t key[32];
	uint8_t from[9];
	struct hdr h;
	struct walk w = { key, &h, fn, ctx, 0 };
	int r;

	for (int tries = 0; tries < 3; tries++) {
		if ((r = refresh(s, key, &h)) < 0)
			return r;
		if (h.n_rec == 0)
			return 0;
		seq_key(h.n_rec - 1, from);
		w.r = 0;
		r = index_snapx_each(s->ix, from, 9, 1, walk_one, &w);
		if (w.r == 0)
			return r == 1 ? 0 : r;
		stale(s, tries);
	}
	return w.r;
}

static int
find_in(struct store *s, const uint8_t key[32], const struct hdr *h,
    const uint8_t id[STORE_HASH_LEN], struct snapx_rec *out, uint64_t *seq)
{
	uint8_t k[33];
	uint8_t *v = NULL;
	size_t vlen = 0;
	int r;

	k[0] = 'i';
	memcpy(k + 1, id, 32);
	if ((r = index_snapx_get(s->ix, k, 33, (void **)&v, &vlen)) < 0)
		return r;
	*seq = vlen == 8 ? le_get(v, 8) : UINT64_MAX;
	free(v);
	v = NULL;
	if (*seq >= h->n_rec)
		return -ENOENT;
	seq_key(*seq, k);
	if ((r = index_snapx_get(s->ix, k, 9, (void **)&v, &vlen)) < 0)
		return r == -ENOENT ? -ESTALE : r;
	r = -ESTALE;
	if (mac_ok(key, h->gen, k, 9, v, vlen) && rec_decode(v, vlen,
	    out) == 0 && memcmp(out->id, id, 32) == 0)
		r = 0;
	free(v);
	return r;
}

int
snapx_find(struct store *s, const uint8_t id[STORE_HASH_LEN],
    struct snapx_rec *out)
{
	uint8_t key[32];
	struct hdr h;
	uint64_t seq;
	int r = -ESTALE;

	for (int tries = 0; tries < 3 && r == -ESTALE; tries++) {
		if ((r = refresh(s, key, &h)) < 0)
			return r;
		if ((r = find_in(s, key, &h, id, out, &seq)) == -ESTALE)
			stale(s, tries);
	}
	return r;
}

struct heads {
	const uint8_t *key;
	const struct hdr *h;
	uint8_t (*v)[32];
	size_t n;
	size_t cap;
	int r;
};

static int
heads_one(void *ctx, const void *k, size_t klen, const void *v, size_t vlen)
{
	struct heads *c = ctx;

	if (klen != 33 || *(const uint8_t *)k != 'h')
		return 1;
	if (!mac_ok(c->key, c->h->gen, k, klen, v, vlen) || vlen != MAC_LEN) {
		c->r = -ESTALE;
		return 1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4;
		void *p = realloc(c->v, cap * 32);

		if (p == NULL) {
			c->r = -ENOMEM;
			return 1;
		}
		c->v = p;
		c->cap = cap;
	}
	memcpy(c->v[c->n++], (const uint8_t *)k + 1, 32);
	return 0;
}

int
snapx_heads(struct store *s, uint8_t (**out)[32], size_t *n)
{
	uint8_t key[32];
	struct hdr h;
	struct heads c = { key, &h, NULL, 0, 0, 0 };
	int r;

	if ((r = refresh(s, key, &h)) < 0)
		return r;
	r = index_snapx_each(s->ix, "h", 1, 0, heads_one, &c);
	if (r >= 0 && c.r < 0)
		r = c.r;
	if (r < 0 && r != 1) {
		free(c.v);
		if (r == -ESTALE)
			(void)index_snapx_write(s->ix, 1, NULL, 0, NULL, 0);
		return r;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

/* ---- appending ------------------------------------------------------------ */

/*
 * Whether ${sn} goes after every record, with the flags it came with:
 * dated after the newest (so alone in its second), not in the future,
 * every parent there (no ORPHAN, no PARENTLESS, no BEFORE_PARENT), and
 * named by no one as a missing parent.
 */
static int
is_append(struct store *s, const uint8_t key[32], const struct hdr *h,
    const struct store_snap *sn)
{
	struct snapx_rec last;
	struct snapx_rec p;
	uint8_t k[33];
	uint64_t seq;

	if (h->n_rec == 0 || sn->n_parents == 0 ||
	    sn->time_sec > (int64_t)time(NULL) + STORE_SNAP_SLACK)
		return 0;
	seq_key(h->n_rec - 1, k);
	{
		uint8_t *v = NULL;
		size_t vlen = 0;
		int ok;

		if (index_snapx_get(s->ix, k, 9, (void **)&v, &vlen) < 0)
			return 0;
		ok = mac_ok(key, h->gen, k, 9, v, vlen) &&
		    rec_decode(v, vlen, &last) == 0;
		free(v);
		if (!ok || last.time_sec >= sn->time_sec)
			return 0;
	}
	for (size_t i = 0; i < sn->n_parents; i++)
		if (find_in(s, key, h, sn->parents[i], &p, &seq) < 0)
			return 0;
	k[0] = 'm';
	memcpy(k + 1, sn->id, 32);
	return index_snapx_get(s->ix, k, 33, NULL, NULL) == -ENOENT;
}

/* Append ${sn} as record ${h}->n_rec, with its name. */
static int
append(struct store *s, const uint8_t key[32], struct hdr *h,
    struct store_snap *sn)
{
	struct store_snap_ord o = { 0 };
	struct store_snap_ord *po = &o;
	struct w w = { .key = key, .gen = h->gen };
	int r;

	o.id = sn->id;
	o.time_sec = sn->time_sec;
	o.commit_ns = sn->commit_ns;
	o.is_master = store_snap_is_master(sn);
	o.flags = sn->flags;
	o.name = sn->name;
	/* Alone in its second: the place remembered for it, or the first
	 * (store_snap_names_keep() remembers it). */
	if ((r = store_snap_names_keep(s, &po, 1)) < 0)
		return r;
	if ((w.del_keys = calloc(sn->n_parents, 33)) == NULL ||
	    (w.del = calloc(sn->n_parents, sizeof(*w.del))) == NULL) {
		w_fini(&w);
		return -ENOMEM;
	}
	for (size_t i = 0; i < sn->n_parents; i++) {
		w.del_keys[i][0] = 'h';
		memcpy(w.del_keys[i] + 1, sn->parents[i], 32);
		w.del[i] = (struct index_kv){ w.del_keys[i], 33, NULL, 0 };
	}
	w.n_del = sn->n_parents;
	h->n_index++;
	if ((r = w_rec(&w, h->n_rec, sn->id, sn->time_sec, sn->flags,
	    sn->name)) == 0 && (r = w_id(&w, 'h', sn->id)) == 0) {
		h->n_rec++;
		r = w_hdr(&w, h);
	}
	if (r == 0)
		r = index_snapx_write(s->ix, 0, w.kv, w.n, w.del, w.n_del);
	w_fini(&w);
	return r;
}

void
snapx_add(struct store *s, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len)
{
	struct store_snap *sn = NULL;
	uint8_t key[32];
	struct hdr h;
	struct hdr want;

	if (s->ix == NULL || !s->kr.has_master)
		return;
	mac_key(s, key);
	reg_digest(s, want.reg);
	/* Covering every manifest indexed but this one, under the same
	 * registry and expired set: else it is rebuilt when next used. */
	if (hdr_read(s, key, &h) < 0 ||
	    h.n_index + 1 != index_snap_count(s->ix) ||
	    memcmp(h.reg, want.reg, 32) != 0 ||
	    exp_digest(s, want.exp) < 0 || memcmp(h.exp, want.exp, 32) != 0)
		return;
	if (store_snap_verified(s, id, buf, len, &sn) < 0)
		return;
	if (sn == NULL) {
		/* Not authenticated: no snapshot, as in store_snapshots(). */
		struct w w = { .key = key, .gen = h.gen };

		h.n_index++;
		if (w_hdr(&w, &h) == 0)
			(void)index_snapx_write(s->ix, 0, w.kv, w.n, NULL, 0);
		w_fini(&w);
		return;
	}
	if (is_append(s, key, &h, sn))
		(void)append(s, key, &h, sn);
	snap_free(sn);
}
