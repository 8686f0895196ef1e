/*
 * storesync.c: bringing the index up to date with the backend.  A pack's
 * table of contents is read and bound to the pack's bytes before its
 * chunks are indexed; a snapshot object is fetched and checked against
 * the hash it is named by.  Objects are read whole only within a cap.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "log.h"
#include "pack.h"
#include "rd.h"
#include "snap.h"
#include "snapx.h"
#include "storei.h"
#include "tree.h"
void
store_ref_of(const struct store *s, const uint8_t *buf, size_t len,
    struct store_ref *ref)
{
	uint8_t h[32];

	crypt_sha256(buf, len, h);
	crypt_hmac(s->kr.id_key, h, 32, NULL, 0, ref->id);
	crypt_hmac(s->kr.chunk_key, h, 32, NULL, 0, ref->key);
	crypt_wipe(h, sizeof(h));
}

int
store_object_get(struct store *s, const char *key,
    int (*check)(void *ctx, const uint8_t *buf, size_t len), void *ctx,
    uint8_t **buf, size_t *len)
{
	struct backend_version *v = NULL;
	struct backend *be = s->be;
	size_t n = 0;
	int r;

	r = store_object_read(s, key, NULL, buf, len);
	if (r < 0 || check == NULL)
		return r;
	if ((r = check(ctx, *buf, *len)) != -EBADMSG)
		return r;
	free(*buf);
	*buf = NULL;
	if (be->ops->versions == NULL || be->ops->versions(be, key, &v,
	    &n) < 0)
		return -EBADMSG;
	r = -EBADMSG;
	for (size_t i = 0; i < n && r == -EBADMSG; i++) {
		if (v[i].is_delete_marker || v[i].is_latest)
			continue;
		if (store_object_read(s, key, v[i].id, buf, len) < 0)
			continue;
		if ((r = check(ctx, *buf, *len)) == 0) {
			log_warn("%s: the newest version fails authentication "
			    "(overwritten?); using version %s", key, v[i].id);
		} else {
			free(*buf);
			*buf = NULL;
			r = -EBADMSG;
		}
	}
	free(v);
	return r;
}

struct toc_ctx {
	struct store *s;
	uint64_t size;
	struct pack_entry *e;
	size_t n;
	const char *why;	/* what was wrong, for the message */
	int version;		/* of the pack's format */
	uint8_t bound[STORE_HASH_LEN];	/* the table's hash of the rest */
	uint32_t toc_len;
};

#define UNBOUND_WHY "the bytes before its table are not those it was " \
	"sealed with (damaged, or a table copied into another pack)"

/* Bytes of a pack hashed at a time when its table's binding is checked. */
#define BIND_PIECE (4u << 20)

/*
 * bind_check(s, name, head, bound): 0 if the first ${head} bytes of pack
 * ${name} hash to ${bound}, read a piece at a time; -EBADMSG if not.
 */
static int
bind_check(struct store *s, const char *name, uint64_t head,
    const uint8_t bound[STORE_HASH_LEN])
{
	struct crypt_sha256 *h;
	uint8_t got[STORE_HASH_LEN];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = 0;

	if ((h = crypt_sha256_new()) == NULL)
		return -ENOMEM;
	for (uint64_t off = 0; off < head && r == 0; off += len) {
		uint64_t want = head - off < BIND_PIECE ? head - off :
		    BIND_PIECE;

		if ((r = s->be->ops->get(s->be, name, NULL, off, want, &buf,
		    &len)) == 0 && len != want)
			r = -EBADMSG;
		if (r == 0)
			r = crypt_sha256_add(h, buf, len);
		free(buf);
		buf = NULL;
	}
	if (crypt_sha256_end(h, got) < 0 && r == 0)
		r = -ENOMEM;
	if (r == 0 && !crypt_equal(got, bound, STORE_HASH_LEN))
		r = -EBADMSG;
	return r;
}

/*
 * toc_check(t, buf, len): open the table at the end of ${buf}, the last
 * ${len} bytes of a pack of t->size bytes.  A pack of format 1 is refused
 * in a store of format 2, where none was ever written.  A format 2 table
 * is checked against the bytes before it when ${buf} holds them all.
 */
static int
toc_check(void *ctx, const uint8_t *buf, size_t len)
{
	struct toc_ctx *t = ctx;
	uint8_t got[STORE_HASH_LEN];
	uint32_t toc_len;
	int version;
	int r;

	t->why = "authentication failed";
	if (len < PACK_TAIL_LEN)
		return -EBADMSG;
	if ((r = pack_tail_parse(buf + len - PACK_TAIL_LEN, t->size,
	    &toc_len, &version)) < 0)
		return r;
	if (len < (size_t)toc_len + PACK_TAIL_LEN)
		return -EBADMSG;
	if (version == 1 && t->s->cfg.version >= 2) {
		t->why = "a format 1 pack in a format 2 store (added by "
		    "someone: amber never wrote one there)";
		return -EBADMSG;
	}
	free(t->e);
	t->e = NULL;
	t->version = version;
	t->toc_len = toc_len;
	r = pack_toc_open(t->s->kr.toc_key, version, buf + len -
	    PACK_TAIL_LEN - toc_len, toc_len, t->size, &t->e, &t->n, t->bound);
	if (r == 0 && version == 2 && len == t->size) {
		crypt_sha256(buf, len - PACK_TAIL_LEN - toc_len, got);
		if (!crypt_equal(got, t->bound, STORE_HASH_LEN)) {
			t->why = UNBOUND_WHY;
			r = -EBADMSG;
		}
	}
	return r;
}

int
store_pack_toc_whole(struct store *s, const uint8_t *buf, size_t len,
    struct pack_entry **e, size_t *n, const char **why, int *is_unbound)
{
	struct toc_ctx t = { .s = s, .size = len,
		.why = "authentication failed" };
	int r = toc_check(&t, buf, len);

	*is_unbound = r == -EBADMSG && t.e != NULL;
	if (*is_unbound)
		r = 0;
	if (r < 0 || *is_unbound)
		*why = t.why;
	if (r < 0) {
		free(t.e);
		return r;
	}
	*e = t.e;
	*n = t.n;
	return 0;
}

int
store_pack_toc(struct store *s, const char *name, uint64_t size,
    struct pack_entry **e, size_t *n)
{
	return store_pack_toc_why(s, name, size, e, n, NULL, NULL);
}

int
store_pack_toc_why(struct store *s, const char *name, uint64_t size,
    struct pack_entry **e, size_t *n, const char **why, int *is_unbound)
{
	struct toc_ctx t = { .s = s, .size = size,
		.why = "authentication failed" };
	struct backend *be = s->be;
	uint8_t *buf = NULL;
	uint64_t want;
	size_t len;
	int r;

	if (size < PACK_HEAD_LEN + PACK_TAIL_LEN)
		return log_err(-EBADMSG, "%s: too short to be a pack", name);
	/* One request usually reads the whole table: its tail end. */
	want = size < (64u << 10) ? size : (64u << 10);
	r = be->ops->get(be, name, NULL, size - want, want, &buf, &len);
	if (r < 0)
		return r;
	r = toc_check(&t, buf, len);
	if (r == -EBADMSG && len == want && want < size) {
		uint32_t toc_len;

		/* A table larger than the first read: read exactly it. */
		int version;

		if (pack_tail_parse(buf + len - PACK_TAIL_LEN, size,
		    &toc_len, &version) == 0 &&
		    toc_len + PACK_TAIL_LEN > want) {
			free(buf);
			buf = NULL;
			r = be->ops->get(be, name, NULL, size - PACK_TAIL_LEN -
			    toc_len, toc_len + PACK_TAIL_LEN, &buf, &len);
			if (r == 0)
				r = toc_check(&t, buf, len);
		}
	}
	if (r == -EBADMSG && be->ops->versions != NULL) {
		free(buf);
		buf = NULL;
		r = store_object_get(s, name, toc_check, &t, &buf, &len);
	}
	free(buf);
	if (is_unbound != NULL)
		*is_unbound = 0;
	/* Where the pack is at hand, its table must be its own. */
	if (r == 0 && t.version == 2 && be->is_local && len < size &&
	    (r = bind_check(s, name, size - PACK_TAIL_LEN - t.toc_len,
	    t.bound)) == -EBADMSG) {
		t.why = UNBOUND_WHY;
		if (is_unbound != NULL) {
			log_warn("%s: pack table: %s; its chunks are read "
			    "last", name, t.why);
			*is_unbound = 1;
			if (why != NULL)
				*why = t.why;
			r = 0;
		}
	}
	if (r < 0) {
		free(t.e);
		if (why != NULL)
			*why = t.why;
		return r == -EBADMSG ? log_err(r, "%s: pack table: %s", name,
		    t.why) : r;
	}
	*e = t.e;
	*n = t.n;
	return 0;
}

struct sync_ctx {
	struct store *s;
	int n_errors;
	uint64_t n_new;
	int is_big_named;	/* sync_count_new() named oversized manifests */
};

static int
sync_pack(void *ctx, const char *key, uint64_t size)
{
	struct sync_ctx *c = ctx;
	struct pack_entry *e = NULL;
	uint8_t h[32];
	int is_unbound;
	size_t n;
	int r;

	if (pack_name_parse(key, h) < 0)
		return 0;
	if ((r = index_pack_has(c->s->ix, h)) != 0)
		return r < 0 ? r : 0;
	if ((r = store_pack_toc_why(c->s, key, size, &e, &n, NULL,
	    &is_unbound)) < 0) {
		c->n_errors++;
		return r == -ENOMEM ? r : 0;
	}
	r = index_pack_add_last(c->s->ix, h, size, e, n, INDEX_PACK_DATA,
	    is_unbound);
	free(e);
	c->n_new++;
	return r;
}

int
store_hash_check(void *ctx, const uint8_t *buf, size_t len)
{
	struct hash_want *w = ctx;
	uint8_t got[32];

	crypt_sha256(buf, len, got);
	return memcmp(got, w->h, 32) == 0 ? 0 : -EBADMSG;
}

/* The size of ${key}, where the listing did not say it. */
static int
snap_size(struct store *s, const char *key, uint64_t *size)
{
	if (*size != BACKEND_SIZE_UNKNOWN)
		return 0;
	return s->be->ops->stat(s->be, key, size);
}

static int
sync_snap(void *ctx, const char *key, uint64_t size)
{
	struct sync_ctx *c = ctx;
	struct hash_want h;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	if (strlen(key) != 10 + 64 || hex_decode(key + 10, h.h, 32) < 0)
		return 0;
	if ((r = index_snap_has(c->s->ix, h.h)) != 0)
		return r < 0 ? r : 0;
	if ((r = snap_size(c->s, key, &size)) < 0)
		return r == -ENOMEM ? r : 0;
	if (size > SNAP_MAX) {
		if (!c->is_big_named)
			log_err(-EFBIG, "%s: %llu bytes, larger than a "
			    "manifest may be (damaged, or added by an "
			    "attacker); ignored", key,
			    (unsigned long long)size);
		c->n_errors++;
		return 0;
	}
	r = store_object_get(c->s, key, store_hash_check, &h, &buf, &len);
	if (r < 0) {
		if (r == -EBADMSG)
			log_err(r, "%s: content does not match its name",
			    key);
		c->n_errors++;
		return r == -ENOMEM ? r : 0;
	}
	if ((r = index_snap_put(c->s->ix, h.h, buf, len)) == 0)
		snapx_add(c->s, h.h, buf, len);
	free(buf);
	return r;
}

/* Listing snapshots/: sizes only for the keys the caller asks about. */
static int
list_snaps(struct store *s, int (*fn)(void *ctx, const char *key,
    uint64_t size), void *ctx)
{
	if (s->be->ops->list_keys != NULL)
		return s->be->ops->list_keys(s->be, "snapshots/", fn, ctx);
	return s->be->ops->list(s->be, "snapshots/", fn, ctx);
}

/* The ids listed under snapshots/, for sync_count_new(). */
struct listed {
	char (*hex)[64];	/* the names, not yet decoded */
	uint64_t *sizes;	/* BACKEND_SIZE_UNKNOWN where not listed */
	size_t n;
	size_t cap;
};

static int
list_one(void *ctx, const char *key, uint64_t size)
{
	struct listed *l = ctx;

	if (strlen(key) != 10 + 64)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		void *v = realloc(l->hex, cap * 64);

		if (v == NULL)
			return -ENOMEM;
		l->hex = v;
		if ((v = realloc(l->sizes, cap * sizeof(*l->sizes))) == NULL)
			return -ENOMEM;
		l->sizes = v;
		l->cap = cap;
	}
	l->sizes[l->n] = size;
	memcpy(l->hex[l->n++], key + 10, 64);
	return 0;
}

/* Of the ${l}->n names listed, count in ${c} those not yet indexed. */
static int
count_unknown(struct sync_ctx *c, const struct listed *l)
{
	uint8_t (*ids)[32] = malloc((l->n ? l->n : 1) * 32);
	uint8_t *has = malloc(l->n ? l->n : 1);
	size_t *at = malloc((l->n ? l->n : 1) * sizeof(*at));
	char key[80];
	size_t n = 0;
	int r = -ENOMEM;

	if (ids == NULL || has == NULL || at == NULL)
		goto out;
	for (size_t i = 0; i < l->n; i++)
		if (hex_decode(l->hex[i], ids[n], 32) == 0)
			at[n++] = i;
	if ((r = index_snap_has_all(c->s->ix, (const uint8_t (*)[32])ids, n,
	    has)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t size = l->sizes[at[i]];

		if (has[i])
			continue;
		memcpy(key, "snapshots/", 10);
		hex_encode(ids[i], 32, key + 10);
		if ((r = snap_size(c->s, key, &size)) < 0) {
			if (r == -ENOMEM)
				goto out;
			continue;
		}
		/* One too large is never indexed: damage to name, but no
		 * news. */
		if (size > SNAP_MAX) {
			log_err(-EFBIG, "%s: %llu bytes, larger than a manifest "
			    "may be (damaged, or added by an attacker); "
			    "ignored", key, (unsigned long long)size);
			continue;
		}
		c->n_new++;
	}
	r = 0;
out:
	free(ids);
	free(has);
	free(at);
	return r;
}

/*
 * Count the snapshots not yet indexed.  Manifests are written once and
 * deleted only by a prune, which leaves a record that makes this index
 * rebuild (prune_index_stale()): so where the listing holds as many
 * manifests as the index, none of them is new, and what each snapshot
 * already indexed costs is a directory entry.  Else the names are looked
 * up, all in one read transaction.  (A manifest deleted without a prune,
 * by damage or by someone who may delete, and another added, look like
 * no news until the next change of the count: no more than the one who
 * deletes could do by deleting the new one.)
 */
static int
sync_count_new(struct sync_ctx *c)
{
	struct listed l = { NULL, NULL, 0, 0 };
	int r;

	if ((r = list_snaps(c->s, list_one, &l)) == 0 &&
	    l.n != index_snap_count(c->s->ix))
		r = count_unknown(c, &l);
	free(l.hex);
	free(l.sizes);
	return r;
}

/* The index's note that a listing of packs/ left packs unread. */
static const char sync_table[] = "sync";
static const char sync_key[] = "packs-incomplete";
/* The stamp of snapshots/ when a listing found nothing new. */
static const char stamp_key[] = "snapshots-stamp";

/*
 * sync_count_new(), unless snapshots/ is as it was when a listing last
 * found nothing new there (the backend's stamp): then nothing is, and an
 * up-to-date sync lists nothing.
 */
static int
sync_count_stamped(struct sync_ctx *c)
{
	struct store *s = c->s;
	uint8_t st[BACKEND_STAMP_LEN];
	void *val = NULL;
	size_t vlen = 0;
	int has_st;
	int r;

	/* Taken before the listing: what is added after changes it. */
	has_st = s->be->ops->stamp != NULL &&
	    s->be->ops->stamp(s->be, "snapshots", st) == 0;
	if (has_st && index_cache_get(s->ix, sync_table, stamp_key,
	    sizeof(stamp_key) - 1, &val, &vlen) == 0) {
		r = vlen == sizeof(st) && memcmp(val, st, sizeof(st)) == 0;
		free(val);
		if (r)
			return 0;
	}
	if ((r = sync_count_new(c)) < 0 || !has_st || c->n_new > 0)
		return r;
	/* Not remembered (a read-only index): the next sync lists. */
	(void)index_cache_put(s->ix, sync_table, stamp_key,
	    sizeof(stamp_key) - 1, st, sizeof(st));
	return 0;
}

int
store_index_sync(struct store *s, int rebuild)
{
	struct sync_ctx c = { s, 0, 0, 0 };
	struct sync_ctx news = { s, 0, 0, 0 };
	void *val = NULL;
	size_t vlen = 0;
	uint8_t flag;
	int clean;
	int r;

	uint64_t n_pruned = 0;
	int is_pruned;

	if (s->ix == NULL)
		return -EACCES;
	/* A prune elsewhere deleted what this index may still locate. */
	if ((is_pruned = prune_index_stale(s, &n_pruned)) == 1)
		rebuild = 1;
	if (rebuild && (r = index_clear(s->ix)) < 0)
		return r;
	/*
	 * A snapshot is written after every pack it references, and packs/
	 * is listed before snapshots/.  So when every snapshot is indexed
	 * and the last listing of packs/ read every pack, a pack not yet
	 * indexed belongs to no snapshot (an ingest still running, or one
	 * killed): nothing to do, and the cost of an up-to-date sync is one
	 * listing of snapshots/, whatever the number of packs.
	 */
	if (!rebuild) {
		if ((r = sync_count_stamped(&news)) < 0)
			return r;
		r = index_cache_get(s->ix, sync_table, sync_key,
		    sizeof(sync_key) - 1, &val, &vlen);
		if (r < 0 && r != -ENOENT)
			return r;
		/* No note (a new or older index): not known to be clean. */
		clean = r == 0 && vlen == 1 && *(uint8_t *)val == 0;
		free(val);
		if (news.n_new == 0 && clean)
			return 0;
		c.is_big_named = 1;
	}
	if ((r = s->be->ops->list(s->be, "packs/", sync_pack, &c)) < 0)
		return r;
	flag = c.n_errors > 0;
	if ((r = index_cache_put(s->ix, sync_table, sync_key,
	    sizeof(sync_key) - 1, &flag, 1)) < 0)
		return r;
	if ((r = list_snaps(s, sync_snap, &c)) < 0)
		return r;
	if (is_pruned >= 0)
		prune_index_note(s, n_pruned);
	return 0;
}
