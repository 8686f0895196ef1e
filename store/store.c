/*
 * store.c: opening, unlocking and reading a store: keys, the index and
 * its synchronisation with the backend, snapshots, trees and file
 * contents.  Writing lives in writer.c, checking in verify.c.
 *
 * Reads follow STYLE.md rule 13: a blob is authenticated before it is
 * decrypted, and decrypted before it is decompressed; a decompressed size
 * that differs from the recorded one is damage.  Where the backend keeps
 * versions (S3), an object whose newest version fails authentication is
 * read from the newest older version that passes, and the substitution
 * is logged: the newest version of a key may be an attacker's.
 *
 * Two things make a mount fast.  A tree read from a pack the writer
 * filled with trees only lets the backend read that whole pack ahead, so
 * a walk of a snapshot costs a few sequential reads rather than one seek
 * per directory (from S3, the packs of trees are copied to the index
 * directory: treecopy.c).  A file read queues the next extents for a
 * small pool of threads that decrypts them into the chunk cache (struct
 * prefetch in storei.h), so decryption overlaps the kernel's copying; the
 * cache's claims make sure that a chunk wanted by a reader and by the
 * pool at once is decrypted once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pack.h"
#include "rd.h"
#include "snap.h"
#include "storei.h"
#include "tree.h"

#define DEFAULT_CACHE (32u << 20)

struct store_snap_list {
	size_t n;
	struct store_snap **v;
};

static void
backend_opts_of(const struct store_opts *o, struct backend_opts *bo)
{
	memset(bo, 0, sizeof(*bo));
	if (o != NULL) {
		bo->s3_endpoint = o->s3_endpoint;
		bo->s3_credentials = o->s3_credentials;
		bo->s3_virtual_host = o->s3_virtual_host;
	}
}

int
store_create(const char *location, const struct store_create_opts *o,
    const char *pass, size_t len)
{
	struct backend_opts bo = { 0 };
	struct backend *be = NULL;
	struct keyring *kr = NULL;
	struct config cfg = { 0 };
	uint8_t cbuf[CONFIG_LEN];
	uint8_t kbuf[KEYOBJ_LEN];
	char kname[64];
	int r;

	bo.is_immutable = o->is_immutable;
	bo.retention_days = o->retention_days;
	bo.allow_no_lock = o->allow_no_lock;
	bo.s3_endpoint = o->s3_endpoint;
	bo.s3_credentials = o->s3_credentials;
	bo.s3_virtual_host = o->s3_virtual_host;
	if ((kr = calloc(1, sizeof(*kr))) == NULL)
		return -ENOMEM;
	if ((r = backend_create(location, &bo, &be)) < 0)
		goto out;
	if ((r = crypt_random(kr->master, 32)) < 0 ||
	    (r = key_derive(kr)) < 0)
		goto out;
	cfg.version = KEY_FORMAT_VERSION;
	if ((r = crypt_random(cfg.store_id, STORE_ID_LEN)) < 0)
		goto out;
	cfg.flags = o->is_immutable ? CONFIG_IMMUTABLE : 0;
	cfg.retention_days = o->retention_days;
	cfg.chunk_min = CHUNKER_MIN;
	cfg.chunk_avg = CHUNKER_AVG;
	cfg.chunk_max = CHUNKER_MAX;
	memcpy(cfg.box_pub, kr->box_pub, 32);
	memcpy(cfg.sign_pub, kr->sign_pub, 32);
	config_mac(&cfg, kr);
	config_encode(&cfg, cbuf);
	if ((r = keyobj_make(kr, cfg.store_id, pass, len, &o->kdf, kname,
	    kbuf)) < 0)
		goto out;
	/* The key first: a store is there once its config is. */
	if ((r = be->ops->put(be, kname, kbuf, sizeof(kbuf))) < 0)
		goto out;
	r = be->ops->put(be, "config", cbuf, sizeof(cbuf));
out:
	if (kr != NULL)
		keyring_wipe(kr);
	free(kr);
	backend_close(be);
	return r;
}

int
store_open(const char *location, const struct store_opts *o,
    struct store **out)
{
	struct backend_opts bo;
	struct store *s;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&s->pf.lock, NULL);
	pthread_mutex_init(&s->learn_lock, NULL);
	pthread_mutex_init(&s->record_lock, NULL);
	pthread_cond_init(&s->pf.cv_job, NULL);
	pthread_cond_init(&s->pf.cv_idle, NULL);
	if (o != NULL)
		s->opts = *o;
	backend_opts_of(o, &bo);
	if ((r = backend_open(location, &bo, &s->be)) < 0)
		goto out;
	if ((r = s->be->ops->get(s->be, "config", NULL, 0, UINT64_MAX, &buf,
	    &len)) < 0)
		goto out;
	if ((r = config_decode(buf, len, &s->cfg)) < 0) {
		r = log_err(r, "%s: config: not an amber store of a version "
		    "this program reads", location);
		goto out;
	}
	log_hex(s->cfg.store_id, STORE_ID_LEN, s->id_hex);
	if (s->be->ops->set_retention != NULL)
		s->be->ops->set_retention(s->be, s->cfg.retention_days);
	*out = s;
	s = NULL;
out:
	free(buf);
	store_close(s);
	return r;
}

static void prefetch_stop(struct store *s);

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	/* The threads use the index, cache and backend: first stop them. */
	prefetch_stop(s);
	pthread_mutex_destroy(&s->pf.lock);
	pthread_mutex_destroy(&s->learn_lock);
	pthread_mutex_destroy(&s->record_lock);
	pthread_cond_destroy(&s->pf.cv_job);
	pthread_cond_destroy(&s->pf.cv_idle);
	index_close(s->ix);
	cache_free(s->cache);
	backend_close(s->be);
	free(s->index_dir);
	registry_fini(&s->reg);
	keyring_wipe(&s->kr);
	free(s);
}

const uint8_t *
store_id(const struct store *s)
{
	return s->cfg.store_id;
}

const char *
store_id_hex(const struct store *s)
{
	return s->id_hex;
}

const char *
store_index_dir(const struct store *s)
{
	return s->index_dir;
}

struct key_try {
	struct store *s;
	const char *pass;
	size_t len;
	int found;
	int n_keys;
};

static int
try_key(void *ctx, const char *key, uint64_t size)
{
	struct key_try *t = ctx;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	(void)size;
	if (t->s->be->ops->get(t->s->be, key, NULL, 0, UINT64_MAX, &buf,
	    &len) < 0)
		return 0;
	if (len >= 8 && memcmp(buf, REG_MAGIC, 8) == 0) {
		free(buf);
		return 0;	/* an ingest key's record */
	}
	t->n_keys++;
	r = keyobj_open(buf, len, t->s->cfg.store_id, t->pass, t->len,
	    &t->s->kr);
	free(buf);
	if (r == 0) {
		t->found = 1;
		return 1;	/* stop listing */
	}
	if (r == -EBADMSG)
		log_warn("%s: damaged key object", key);
	return 0;
}

static int
default_index_dir(const struct store *s, char **out)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char buf[4096];

	if (xdg != NULL && *xdg == '/')
		snprintf(buf, sizeof(buf), "%s/amber/%s", xdg, s->id_hex);
	else if (home != NULL && *home == '/')
		snprintf(buf, sizeof(buf), "%s/.cache/amber/%s", home,
		    s->id_hex);
	else if (geteuid() == 0)
		snprintf(buf, sizeof(buf), "/var/cache/amber/%s", s->id_hex);
	else
		return log_err(-EINVAL, "no index directory: set "
		    "XDG_CACHE_HOME or HOME, or give --index");
	return (*out = strdup(buf)) == NULL ? -ENOMEM : 0;
}

static int load_registry(struct store *s);
static int unlock_common(struct store *s);

int
store_unlock(struct store *s, const char *pass, size_t len)
{
	struct key_try t = { s, pass, len, 0, 0 };
	int r;

	r = s->be->ops->list(s->be, "keys/", try_key, &t);
	if (r < 0)
		return r;
	if (!t.found)
		return t.n_keys ? -EACCES : log_err(-EBADMSG, "%s: the store "
		    "has no key objects", s->be->location);
	if ((r = config_check(&s->cfg, &s->kr)) < 0)
		return log_err(r, "%s: config: authentication failed (it was "
		    "altered)", s->be->location);
	if ((r = load_registry(s)) < 0)
		return r;
	return unlock_common(s);
}

static int
unlock_common(struct store *s)
{
	int r;

	chunker_init(&s->chunker, s->kr.gear_seed, s->cfg.chunk_min,
	    s->cfg.chunk_avg, s->cfg.chunk_max);
	if (s->opts.index_dir != NULL)
		s->index_dir = strdup(s->opts.index_dir);
	else if ((r = default_index_dir(s, &s->index_dir)) < 0)
		return r;
	if (s->index_dir == NULL)
		return -ENOMEM;
	if ((r = index_open(s->index_dir, &s->ix)) < 0)
		return r;
	if ((r = cache_new(s->opts.cache_size ? s->opts.cache_size :
	    DEFAULT_CACHE, &s->cache)) < 0)
		return r;
	if (!s->opts.no_index_update)
		return store_index_sync(s, 0);
	return 0;
}

struct reg_load {
	struct store *s;
	int is_rev;
};

static int
reg_load_one(void *ctx, const char *key, uint64_t size)
{
	struct reg_load *l = ctx;
	struct store *s = l->s;
	struct reg_entry e;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	(void)size;
	if ((r = s->be->ops->get(s->be, key, NULL, 0, UINT64_MAX, &buf,
	    &len)) < 0)
		return r == -ENOMEM ? r : 0;
	if (l->is_rev) {
		r = rev_open(&s->kr, s->cfg.store_id, buf, len, &s->reg);
		if (r == -EBADMSG)
			log_err(r, "%s: revocation record fails "
			    "authentication; ignored", key);
	} else if (len >= 8 && memcmp(buf, REG_MAGIC, 8) == 0) {
		r = reg_open(&s->kr, s->cfg.store_id, buf, len, &e);
		if (r == -EBADMSG) {
			log_err(r, "%s: ingest key record fails "
			    "authentication (forged?); its snapshots are "
			    "rejected", key);
		} else if (r == 0) {
			struct reg_entry *v = realloc(s->reg.v,
			    (s->reg.n + 1) * sizeof(*v));

			if (v == NULL) {
				free(buf);
				return -ENOMEM;
			}
			s->reg.v = v;
			v[s->reg.n++] = e;
		}
	}
	free(buf);
	return r == -ENOMEM ? r : 0;
}

/* Registered ingest keys, then their revocations. */
static int
load_registry(struct store *s)
{
	struct reg_load l = { s, 0 };
	int r;

	registry_fini(&s->reg);
	if ((r = s->be->ops->list(s->be, "keys/", reg_load_one, &l)) < 0)
		return r;
	l.is_rev = 1;
	return s->be->ops->list(s->be, "revoked/", reg_load_one, &l);
}

int
store_unlock_keyfile(struct store *s, const char *text, size_t len)
{
	uint8_t sid[STORE_ID_LEN];
	int r;

	if ((r = ingest_keyfile_parse(text, len, sid, &s->kr)) < 0)
		return log_err(r, "not an amber ingest key file");
	/* The key file, not the store, says which store and public key
	 * to trust: a store an attacker wrote to cannot redirect us. */
	if (memcmp(sid, s->cfg.store_id, STORE_ID_LEN) != 0 ||
	    memcmp(s->kr.box_pub, s->cfg.box_pub, 32) != 0) {
		keyring_wipe(&s->kr);
		return log_err(-EACCES, "%s: the key file is for another "
		    "store (or the store's config was altered)",
		    s->be->location);
	}
	return unlock_common(s);
}

int
store_is_reader(const struct store *s)
{
	return s->kr.has_master;
}

int
store_key_new_ingest(struct store *s, const char *label, char **keyfile)
{
	struct reg_entry e = { 0 };
	uint8_t seed[32];
	uint8_t *buf = NULL;
	char name[64];
	char hex[33];
	size_t len;
	int r;

	if (!s->kr.has_master)
		return -EACCES;
	if ((r = crypt_random(e.id, 16)) < 0 ||
	    (r = crypt_random(seed, 32)) < 0 ||
	    (r = crypt_ed25519_pub(seed, e.sign_pub)) < 0)
		goto out;
	e.created = (int64_t)time(NULL);
	snprintf(e.label, sizeof(e.label), "%s", label ? label : "");
	if ((r = reg_make(&s->kr, s->cfg.store_id, &e, &buf, &len)) < 0)
		goto out;
	if ((r = ingest_keyfile_make(&s->kr, s->cfg.store_id, &e, seed,
	    keyfile)) < 0)
		goto out;
	log_hex(e.id, 16, hex);
	snprintf(name, sizeof(name), "keys/%s", hex);
	if ((r = s->be->ops->put(s->be, name, buf, len)) < 0) {
		crypt_wipe(*keyfile, strlen(*keyfile));
		free(*keyfile);
		*keyfile = NULL;
		goto out;
	}
	r = load_registry(s);
out:
	crypt_wipe(seed, sizeof(seed));
	free(buf);
	return r;
}

struct klist {
	struct store *s;
	struct store_key_info *v;
	size_t n;
};

static int
klist_one(void *ctx, const char *key, uint64_t size)
{
	struct klist *k = ctx;
	struct store_key_info *v;
	struct store_key_info *i;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	(void)size;
	if ((r = k->s->be->ops->get(k->s->be, key, NULL, 0, UINT64_MAX, &buf,
	    &len)) < 0)
		return r == -ENOMEM ? r : 0;
	if ((v = realloc(k->v, (k->n + 1) * sizeof(*v))) == NULL) {
		free(buf);
		return -ENOMEM;
	}
	k->v = v;
	i = &v[k->n++];
	memset(i, 0, sizeof(*i));
	snprintf(i->id, sizeof(i->id), "%s", key + 5);
	if (len == KEYOBJ_LEN && memcmp(buf, "AMBRKEY1", 8) == 0) {
		i->type = STORE_KEY_PASSPHRASE;
		i->log2_n = buf[41];
		i->r = (uint32_t)le_get(buf + 42, 4);
		i->p = (uint32_t)le_get(buf + 46, 4);
	} else if (len >= 8 && memcmp(buf, REG_MAGIC, 8) == 0) {
		uint8_t id[16];
		const struct reg_entry *e = NULL;

		i->type = STORE_KEY_INGEST;
		if (len >= 24) {
			memcpy(id, buf + 8, 16);
			e = registry_find(&k->s->reg, id);
		}
		if (e == NULL) {
			i->type = STORE_KEY_DAMAGED;
		} else {
			i->created = e->created;
			snprintf(i->label, sizeof(i->label), "%s", e->label);
			i->is_revoked = e->is_revoked;
			i->revoked_at = e->revoked_at;
		}
	} else {
		i->type = STORE_KEY_DAMAGED;
	}
	free(buf);
	return 0;
}

int
store_key_list(struct store *s, struct store_key_info **out, size_t *n)
{
	struct klist k = { s, NULL, 0 };
	int r;

	if (!s->kr.has_master)
		return -EACCES;
	if ((r = s->be->ops->list(s->be, "keys/", klist_one, &k)) < 0) {
		free(k.v);
		return r;
	}
	*out = k.v;
	*n = k.n;
	return 0;
}

int
store_key_revoke(struct store *s, const char *id_prefix)
{
	struct store_snap_list *l = NULL;
	struct reg_entry *e = NULL;
	uint8_t *buf = NULL;
	char name[64];
	char hex[33];
	size_t len;
	int r;

	if (!s->kr.has_master)
		return -EACCES;
	for (size_t i = 0; i < s->reg.n; i++) {
		log_hex(s->reg.v[i].id, 16, hex);
		if (strncmp(hex, id_prefix, strlen(id_prefix)) != 0)
			continue;
		if (e != NULL)
			return -EINVAL;
		e = &s->reg.v[i];
	}
	if (e == NULL || *id_prefix == '\0')
		return -ENOENT;
	if (e->is_revoked)
		return -EEXIST;
	/* Accept exactly the snapshots it made so far. */
	if ((r = store_index_sync(s, 0)) < 0 ||
	    (r = store_snapshots(s, &l)) < 0)
		return r;
	free(e->accepted);
	e->accepted = NULL;
	e->n_accepted = 0;
	for (size_t i = 0; i < l->n; i++) {
		void *v;

		/* Not what the key made that is flagged already (backdated,
		 * parentless, future): it stays untrusted. */
		if (memcmp(l->v[i]->writer, e->id, 16) != 0 ||
		    (l->v[i]->flags & STORE_SNAP_UNTRUSTED))
			continue;
		if ((v = realloc(e->accepted, (e->n_accepted + 1) * 32)) ==
		    NULL) {
			r = -ENOMEM;
			goto out;
		}
		e->accepted = v;
		memcpy(e->accepted[e->n_accepted++], l->v[i]->id, 32);
	}
	e->revoked_at = (int64_t)time(NULL);
	if ((r = rev_make(&s->kr, s->cfg.store_id, e, &buf, &len)) < 0)
		goto out;
	log_hex(e->id, 16, hex);
	snprintf(name, sizeof(name), "revoked/%s", hex);
	if ((r = s->be->ops->put(s->be, name, buf, len)) < 0)
		goto out;
	r = load_registry(s);
out:
	free(buf);
	store_snap_list_free(l);
	return r;
}

int
store_key_add(struct store *s, const char *pass, size_t len,
    const struct store_kdf *kdf)
{
	uint8_t kbuf[KEYOBJ_LEN];
	char kname[64];
	int r;

	if (!s->kr.has_master)
		return -EACCES;
	if ((r = keyobj_make(&s->kr, s->cfg.store_id, pass, len, kdf, kname,
	    kbuf)) < 0)
		return r;
	return s->be->ops->put(s->be, kname, kbuf, sizeof(kbuf));
}

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

	r = be->ops->get(be, key, NULL, 0, UINT64_MAX, buf, len);
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
		if (be->ops->get(be, key, v[i].id, 0, UINT64_MAX, buf,
		    len) < 0)
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
};

static int
toc_check(void *ctx, const uint8_t *buf, size_t len)
{
	struct toc_ctx *t = ctx;
	uint32_t toc_len;
	int r;

	if (len < PACK_TAIL_LEN)
		return -EBADMSG;
	if ((r = pack_tail_parse(buf + len - PACK_TAIL_LEN, t->size,
	    &toc_len)) < 0)
		return r;
	if (len < (size_t)toc_len + PACK_TAIL_LEN)
		return -EBADMSG;
	free(t->e);
	t->e = NULL;
	return pack_toc_open(t->s->kr.toc_key, buf + len - PACK_TAIL_LEN -
	    toc_len, toc_len, t->size, &t->e, &t->n);
}

int
store_pack_toc(struct store *s, const char *name, uint64_t size,
    struct pack_entry **e, size_t *n)
{
	struct toc_ctx t = { s, size, NULL, 0 };
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
		if (pack_tail_parse(buf + len - PACK_TAIL_LEN, size,
		    &toc_len) == 0 && toc_len + PACK_TAIL_LEN > want) {
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
	if (r < 0) {
		free(t.e);
		return r == -EBADMSG ? log_err(r, "%s: pack table: "
		    "authentication failed", name) : r;
	}
	*e = t.e;
	*n = t.n;
	return 0;
}

struct sync_ctx {
	struct store *s;
	int n_errors;
	uint64_t n_new;
};

static int
sync_pack(void *ctx, const char *key, uint64_t size)
{
	struct sync_ctx *c = ctx;
	struct pack_entry *e = NULL;
	uint8_t h[32];
	size_t n;
	int r;

	if (pack_name_parse(key, h) < 0)
		return 0;
	if ((r = index_pack_has(c->s->ix, h)) != 0)
		return r < 0 ? r : 0;
	if ((r = store_pack_toc(c->s, key, size, &e, &n)) < 0) {
		c->n_errors++;
		return r == -ENOMEM ? r : 0;
	}
	r = index_pack_add(c->s->ix, h, size, e, n);
	free(e);
	c->n_new++;
	return r;
}

static int
unhex32(const char *hex, uint8_t out[32])
{
	for (size_t i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return hex[64] == '\0' ? 0 : -EINVAL;
}

int
store_hash_check(void *ctx, const uint8_t *buf, size_t len)
{
	struct hash_want *w = ctx;
	uint8_t got[32];

	crypt_sha256(buf, len, got);
	return memcmp(got, w->h, 32) == 0 ? 0 : -EBADMSG;
}

static int
sync_snap(void *ctx, const char *key, uint64_t size)
{
	struct sync_ctx *c = ctx;
	struct hash_want h;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	(void)size;
	if (strlen(key) != 10 + 64 || unhex32(key + 10, h.h) < 0)
		return 0;
	if ((r = index_snap_has(c->s->ix, h.h)) != 0)
		return r < 0 ? r : 0;
	r = store_object_get(c->s, key, store_hash_check, &h, &buf, &len);
	if (r < 0) {
		if (r == -EBADMSG)
			log_err(r, "%s: content does not match its name",
			    key);
		c->n_errors++;
		return r == -ENOMEM ? r : 0;
	}
	r = index_snap_put(c->s->ix, h.h, buf, len);
	free(buf);
	return r;
}

/* Count the snapshots not yet indexed. */
static int
sync_count_new(void *ctx, const char *key, uint64_t size)
{
	struct sync_ctx *c = ctx;
	uint8_t h[32];
	int r;

	(void)size;
	if (strlen(key) != 10 + 64 || unhex32(key + 10, h) < 0)
		return 0;
	if ((r = index_snap_has(c->s->ix, h)) < 0)
		return r;
	if (r == 0)
		c->n_new++;
	return 0;
}

/* The index's note that a listing of packs/ left packs unread. */
static const char sync_table[] = "sync";
static const char sync_key[] = "packs-incomplete";

int
store_index_sync(struct store *s, int rebuild)
{
	struct sync_ctx c = { s, 0, 0 };
	struct sync_ctx news = { s, 0, 0 };
	void *val = NULL;
	size_t vlen = 0;
	uint8_t flag;
	int clean;
	int r;

	if (s->ix == NULL)
		return -EACCES;
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
		if ((r = s->be->ops->list(s->be, "snapshots/", sync_count_new,
		    &news)) < 0)
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
	}
	if ((r = s->be->ops->list(s->be, "packs/", sync_pack, &c)) < 0)
		return r;
	flag = c.n_errors > 0;
	if ((r = index_cache_put(s->ix, sync_table, sync_key,
	    sizeof(sync_key) - 1, &flag, 1)) < 0)
		return r;
	if ((r = s->be->ops->list(s->be, "snapshots/", sync_snap, &c)) < 0)
		return r;
	return 0;
}

struct list_ctx {
	struct store *s;
	struct store_snap_list *l;
	size_t cap;
};

static int
list_one(void *ctx, const uint8_t id[STORE_HASH_LEN], const uint8_t *buf,
    size_t len)
{
	struct list_ctx *c = ctx;
	struct store_snap *sn;
	char hex[65];
	int r;

	if ((r = snap_open(&c->s->kr, &c->s->reg, buf, len, &sn)) < 0) {
		if (r == -ENOMEM || r == -EACCES)
			return r;
		log_hex(id, 32, hex);
		log_err(r, "snapshots/%s: manifest fails authentication; "
		    "ignored", hex);
		return 0;
	}
	if (memcmp(sn->id, id, 32) != 0) {
		snap_free(sn);
		return 0;
	}
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

int
store_snapshots(struct store *s, struct store_snap_list **out)
{
	struct list_ctx c = { s, NULL, 0 };
	int r;

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	if ((c.l = calloc(1, sizeof(*c.l))) == NULL)
		return -ENOMEM;
	if ((r = index_snap_each(s->ix, list_one, &c)) < 0) {
		store_snap_list_free(c.l);
		return r;
	}
	if ((r = snap_order(c.l->v, c.l->n, (int64_t)time(NULL))) < 0) {
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

/* Open the blob ${blob} of ${len} bytes into ${buf}, checking sizes. */
static int
open_blob(const struct store_ref *ref, const uint8_t *blob, size_t len,
    uint32_t raw_len, uint8_t *buf, size_t cap, size_t *olen)
{
	int r;

	if (raw_len > cap)
		return -ERANGE;
	/* Decrypted in place: the blob buffer is ours, and GCM allows an
	 * exact overlap of input and output. */
	r = blob_open(ref, blob, len, (uint8_t *)blob + CRYPT_NONCE_LEN, buf,
	    raw_len, olen);
	if (r == -ERANGE || (r == 0 && *olen != raw_len))
		r = -EBADMSG;
	return r;
}

/* How chunk_open_at() goes about it. */
#define OPEN_QUIET 1	/* log nothing of a failure (a read ahead: the
			 * reader that needs the chunk logs it) */
#define OPEN_TREE 2	/* a tree: a local copy of its pack may have it */

/* Read and open chunk ${ref} at ${loc}, as ${flags} (OPEN_*) say. */
static int
chunk_open_at(struct store *s, const struct store_ref *ref,
    const struct chunk_loc *loc0, uint8_t *buf, size_t cap, size_t *len,
    int flags)
{
	struct backend *be = s->be;
	struct backend_version *v = NULL;
	struct chunk_loc loc = *loc0;
	uint8_t *blob = NULL;
	char name[80];
	char hex[65];
	size_t got;
	size_t n = 0;
	int r;

	atomic_fetch_add(&s->n_chunk_opens, 1);
	pack_name(loc.pack, name);
	/* A local copy of a pack of trees (treecopy.c) saves a request. */
	if ((flags & OPEN_TREE) && s->opts.use_tree_copies &&
	    be->ops->willneed == NULL &&
	    treecopy_get(s, &loc, &blob, &got) == 0) {
		r = open_blob(ref, blob, got, loc.raw_len, buf, cap, len);
		free(blob);
		blob = NULL;
		if (r != -EBADMSG)
			return r;
		log_warn("%s: the local copy is damaged; removed", name);
		treecopy_drop(s, loc.pack);
	}
	r = be->ops->get(be, name, NULL, loc.off, loc.len, &blob, &got);
	if (r == 0)
		r = got == loc.len ? open_blob(ref, blob, got, loc.raw_len,
		    buf, cap, len) : -EBADMSG;
	free(blob);
	blob = NULL;
	if (r == -EBADMSG && be->ops->versions != NULL &&
	    be->ops->versions(be, name, &v, &n) == 0) {
		for (size_t i = 0; i < n && r == -EBADMSG; i++) {
			if (v[i].is_delete_marker || v[i].is_latest)
				continue;
			if (be->ops->get(be, name, v[i].id, loc.off, loc.len,
			    &blob, &got) == 0 && got == loc.len &&
			    open_blob(ref, blob, got, loc.raw_len, buf, cap,
			    len) == 0) {
				log_warn("%s: newest version is damaged or "
				    "overwritten; read version %s", name,
				    v[i].id);
				r = 0;
			}
			free(blob);
			blob = NULL;
		}
		free(v);
	}
	if (flags & OPEN_QUIET)
		return r;
	if (r == -EBADMSG) {
		log_hex(ref->id, 32, hex);
		log_err(r, "%s: chunk %.16s at offset %llu: authentication "
		    "failed", name, hex, (unsigned long long)loc.off);
	} else if (r == -ENOENT) {
		r = log_err(-ENOENT, "%s: missing (chunk at offset %llu)",
		    name, (unsigned long long)loc.off);
	}
	return r;
}

int
store_chunk_open(struct store *s, const struct store_ref *ref, uint8_t *buf,
    size_t cap, size_t *len)
{
	struct chunk_loc loc;
	char hex[65];
	int r;

	if (s->ix == NULL)
		return -EACCES;
	if ((r = index_chunk_get(s->ix, ref->id, &loc)) < 0) {
		log_hex(ref->id, 32, hex);
		return r == -ENOENT ? log_err(r, "chunk %.16s: not in any "
		    "pack", hex) : r;
	}
	return chunk_open_at(s, ref, &loc, buf, cap, len, 0);
}

int
store_chunk_read(struct store *s, const struct store_ref *ref, uint8_t *buf,
    size_t cap, size_t *len)
{
	if (!s->kr.has_master)
		return -EACCES;
	return store_chunk_open(s, ref, buf, cap, len);
}

int
store_has_chunk(struct store *s, const uint8_t id[STORE_HASH_LEN])
{
	int r;

	if (s->ix == NULL)
		return -EACCES;
	r = index_chunk_get(s->ix, id, NULL);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

struct ra_ctx {
	struct store *s;
	uint64_t left;
};

static int
ra_pack(void *ctx, const uint8_t h[STORE_HASH_LEN], uint64_t size)
{
	struct ra_ctx *c = ctx;
	char name[80];

	if (size > c->left)
		return 1;
	c->left -= size;
	pack_name(h, name);
	c->s->be->ops->willneed(c->s->be, name);
	return 0;
}

/*
 * learn_tree_pack(s, h): pack ${h}, which the index does not know to
 * hold trees, was just found to hold one.  A sync or a rebuild indexes
 * packs without their kind (the pack format does not record it), and a
 * pack not known to hold trees gets no read-ahead, so a walk over a
 * rebuilt index would read trees one seek at a time, mount after mount.
 * The pack is remembered here at once (so the walk that found it reads
 * it ahead) and recorded in the index by the next
 * store_readahead_trees(): a write transaction may wait for an
 * ingest's, which a reader of trees must never do.  A pack learned calls
 * the hook set by store_on_learn(), which asks for that round.  Returns
 * 1 if the pack is remembered.
 */
static int
learn_tree_pack(struct store *s, const uint8_t h[STORE_HASH_LEN])
{
	int is_known = 0;
	int is_new = 0;

	pthread_mutex_lock(&s->learn_lock);
	for (size_t i = 0; i < s->n_learned && !is_known; i++)
		is_known = memcmp(s->learned[i], h, STORE_HASH_LEN) == 0;
	if (!is_known && s->n_learned < STORE_LEARN_MAX) {
		memcpy(s->learned[s->n_learned++], h, STORE_HASH_LEN);
		is_known = is_new = 1;
	}
	pthread_mutex_unlock(&s->learn_lock);
	/* So that the next round of read-ahead comes without being asked. */
	if (is_new && s->on_learn != NULL)
		s->on_learn(s->on_learn_ctx);
	return is_known;
}

void
store_interrupt(struct store *s)
{
	atomic_store(&s->is_interrupted, 1);
}

void
store_on_learn(struct store *s, void (*fn)(void *ctx), void *ctx)
{
	s->on_learn = fn;
	s->on_learn_ctx = ctx;
}

/*
 * Record the packs learned to hold trees in the index, and forget those
 * recorded; one that cannot be recorded is kept for the next round.  The
 * index is written without ${learn_lock} held, so that readers of trees
 * never wait for it; ${record_lock} keeps rounds apart, so the first
 * ${n} entries stay as they were copied (learners only append).
 */
static void
record_learned(struct store *s)
{
	uint8_t todo[STORE_LEARN_MAX][STORE_HASH_LEN];
	int is_done[STORE_LEARN_MAX];
	size_t kept = 0;
	size_t n;

	pthread_mutex_lock(&s->record_lock);
	pthread_mutex_lock(&s->learn_lock);
	n = s->n_learned;
	memcpy(todo, s->learned, n * STORE_HASH_LEN);
	pthread_mutex_unlock(&s->learn_lock);
	/* A pack no longer indexed needs no recording either. */
	for (size_t i = 0; i < n; i++) {
		int r = index_pack_set_trees(s->ix, todo[i]);

		is_done[i] = r == 0 || r == -ENOENT;
	}
	pthread_mutex_lock(&s->learn_lock);
	for (size_t i = 0; i < s->n_learned; i++)
		if (i >= n || !is_done[i])
			memmove(s->learned[kept++], s->learned[i],
			    STORE_HASH_LEN);
	s->n_learned = kept;
	pthread_mutex_unlock(&s->learn_lock);
	pthread_mutex_unlock(&s->record_lock);
}

void
store_readahead_trees(struct store *s, uint64_t cap)
{
	struct ra_ctx c = { s, cap };

	if (s->ix == NULL)
		return;
	record_learned(s);
	index_readahead(s->ix, cap);
	if (s->be->ops->willneed != NULL)
		(void)index_tree_packs(s->ix, ra_pack, &c);
	else if (s->opts.use_tree_copies)
		treecopy_sync(s, cap);
}

int
store_tree_read(struct store *s, const struct store_ref *ref,
    struct store_tree **out)
{
	struct chunk_loc loc;
	uint8_t *buf;
	char name[80];
	size_t len;
	int is_learning = 0;
	int kind;
	int r;

	/* An ingest key reads nothing back, even given a ref. */
	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	if ((r = index_chunk_get(s->ix, ref->id, &loc)) < 0)
		return store_chunk_open(s, ref, NULL, 0, &len);
	if (loc.raw_len > STORE_TREE_MAX)
		return -EBADMSG;
	/* Its neighbours are the trees a walk reads next. */
	if (index_pack_kind(s->ix, loc.pack, &kind) == 0) {
		pack_name(loc.pack, name);
		if (kind != INDEX_PACK_TREES)
			is_learning = 1;
		else if (s->be->ops->willneed != NULL)
			s->be->ops->willneed(s->be, name);
	}
	if ((buf = malloc(loc.raw_len ? loc.raw_len : 1)) == NULL)
		return -ENOMEM;
	if ((r = chunk_open_at(s, ref, &loc, buf, loc.raw_len, &len,
	    OPEN_TREE)) < 0) {
		free(buf);
		return r;
	}
	if ((r = tree_decode(buf, len, out)) == -EBADMSG) {
		char hex[65];

		log_hex(ref->id, 32, hex);
		log_err(r, "tree %.16s: malformed", hex);
	}
	/* Only a tree that decodes teaches anything of its pack. */
	if (r == 0 && is_learning && learn_tree_pack(s, loc.pack) &&
	    s->be->ops->willneed != NULL)
		s->be->ops->willneed(s->be, name);
	return r;
}

int
store_resolve(struct store *s, const struct store_entry *root,
    const char *path, struct store_tree **parent, size_t *idx)
{
	struct store_tree *t = NULL;
	const struct store_entry *cur = root;
	const char *p = path;
	int r;

	*parent = NULL;
	for (;;) {
		const char *e;
		size_t n;
		struct store_tree *next = NULL;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (cur->type != STORE_DIR) {
			store_tree_free(t);
			return -ENOTDIR;
		}
		if ((r = store_tree_read(s, &cur->tree, &next)) < 0) {
			store_tree_free(t);
			return r;
		}
		store_tree_free(t);
		t = next;
		if ((r = store_tree_find(t, (const uint8_t *)p, n, idx)) < 0) {
			store_tree_free(t);
			return r;
		}
		cur = store_tree_entry(t, *idx);
		p += n;
	}
	*parent = t;
	return 0;
}

/* ---- chunks into the cache ---- */

/*
 * load_entry(s, ref, loc, len, is_quiet, out): a new cache entry (the
 * caller's) holding the ${len} bytes of chunk ${ref}, stored at ${loc}.
 * A chunk stored raw (as data that does not compress is) is read from a
 * local store straight into the entry and decrypted there: no buffer to
 * allocate, fault in and copy out of, which was a sixth of a mount's CPU
 * time on sequential reads.  Anything else, and any failure, goes the
 * general way, chunk_open_at(), which also tries older versions and
 * reports damage (unless ${is_quiet}).
 */
static int
load_entry(struct store *s, const struct store_ref *ref,
    const struct chunk_loc *loc, size_t len, int is_quiet, uint8_t **out)
{
	uint8_t head[BLOB_HEAD_LEN];
	uint8_t tag[CRYPT_TAG_LEN];
	uint8_t *chunk;
	uint8_t codec;
	size_t got;
	int r;

	*out = NULL;
	if ((chunk = cache_entry_new(len)) == NULL)
		return -ENOMEM;
	if (s->be->ops->read_into != NULL && loc->raw_len == len &&
	    loc->len == (uint64_t)len + BLOB_OVERHEAD) {
		struct iovec iov[3] = {
			{ head, sizeof(head) },
			{ chunk, len },
			{ tag, sizeof(tag) },
		};
		char name[80];

		pack_name(loc->pack, name);
		if (s->be->ops->read_into(s->be, name, loc->off, iov, 3) == 0 &&
		    blob_open_parts(ref, head, chunk, len, tag, &codec) == 0 &&
		    codec == CODEC_RAW) {
			atomic_fetch_add(&s->n_chunk_opens, 1);
			*out = chunk;
			return 0;
		}
	}
	r = chunk_open_at(s, ref, loc, chunk, len, &got,
	    is_quiet ? OPEN_QUIET : 0);
	if (r == -ERANGE || (r == 0 && got != len))
		r = -EBADMSG;
	if (r < 0) {
		cache_entry_free(chunk);
		return r;
	}
	*out = chunk;
	return 0;
}

/* ---- read-ahead ---- */

/* Decrypt extent ${x} into the cache unless cached or being loaded. */
static void
prefetch_one(struct store *s, const struct store_extent *x)
{
	struct chunk_loc loc;
	uint8_t *chunk;

	if (cache_claim(s->cache, x->ref.id) != -EAGAIN)
		return;
	/* On failure the reader that needs it loads it again, and reports. */
	if (index_chunk_get(s->ix, x->ref.id, &loc) < 0 ||
	    loc.raw_len != x->len ||
	    load_entry(s, &x->ref, &loc, x->len, 1, &chunk) < 0) {
		cache_abandon(s->cache, x->ref.id);
		return;
	}
	atomic_fetch_add(&s->n_prefetched, 1);
	cache_insert(s->cache, x->ref.id, chunk);
}

static void *
prefetch_worker(void *arg)
{
	struct store *s = arg;
	struct prefetch *pf = &s->pf;

	pthread_mutex_lock(&pf->lock);
	for (;;) {
		struct store_extent x;

		while (pf->q_len == 0 && !pf->is_stopping)
			pthread_cond_wait(&pf->cv_job, &pf->lock);
		if (pf->is_stopping)
			break;
		x = pf->q[pf->q_head];
		pf->q_head = (pf->q_head + 1) % PREFETCH_QUEUE;
		pf->q_len--;
		pf->n_busy++;
		pthread_mutex_unlock(&pf->lock);
		prefetch_one(s, &x);
		pthread_mutex_lock(&pf->lock);
		pf->n_busy--;
		pthread_cond_broadcast(&pf->cv_idle);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

/* Start the pool (pf->lock held); without threads, no read-ahead. */
static void
prefetch_start(struct store *s)
{
	struct prefetch *pf = &s->pf;

	pf->is_started = 1;
	for (size_t i = 0; i < PREFETCH_THREADS; i++) {
		if (pthread_create(&pf->threads[i], NULL, prefetch_worker,
		    s) != 0)
			break;
		pf->n_threads++;
	}
}

static void
prefetch_stop(struct store *s)
{
	struct prefetch *pf = &s->pf;

	pthread_mutex_lock(&pf->lock);
	pf->is_stopping = 1;
	pthread_cond_broadcast(&pf->cv_job);
	pthread_mutex_unlock(&pf->lock);
	for (size_t i = 0; i < pf->n_threads; i++)
		pthread_join(pf->threads[i], NULL);
	pf->n_threads = 0;
	pf->q_len = 0;
}

void
store_prefetch_drain(struct store *s)
{
	struct prefetch *pf = &s->pf;

	pthread_mutex_lock(&pf->lock);
	while ((pf->q_len > 0 || pf->n_busy > 0) && pf->n_threads > 0)
		pthread_cond_wait(&pf->cv_idle, &pf->lock);
	pthread_mutex_unlock(&pf->lock);
}

/*
 * Queue the extents of ${e} after extent ${last} for loading ahead, as
 * long as they and the last one fit in half the cache (so that loading
 * ahead never evicts what is being read).  A full queue drops its
 * oldest request: a sequential reader has moved past it.
 */
static void
prefetch_after(struct store *s, const struct store_entry *e, size_t last)
{
	struct prefetch *pf = &s->pf;
	size_t budget = cache_cap(s->cache) / 2;
	size_t used = e->extents[last].len;

	pthread_mutex_lock(&pf->lock);
	if (!pf->is_started && !pf->is_stopping)
		prefetch_start(s);
	for (size_t i = last + 1; i <= last + PREFETCH_AHEAD &&
	    i < e->n_extents && pf->n_threads > 0; i++) {
		const struct store_extent *x = &e->extents[i];
		int is_queued = 0;

		used += x->len;
		if (used > budget)
			break;
		for (size_t k = 0; k < pf->q_len && !is_queued; k++)
			is_queued = memcmp(pf->q[(pf->q_head + k) %
			    PREFETCH_QUEUE].ref.id, x->ref.id, 32) == 0;
		if (is_queued)
			continue;
		if (pf->q_len == PREFETCH_QUEUE) {
			pf->q_head = (pf->q_head + 1) % PREFETCH_QUEUE;
			pf->q_len--;
		}
		pf->q[(pf->q_head + pf->q_len) % PREFETCH_QUEUE] = *x;
		pf->q_len++;
		pthread_cond_signal(&pf->cv_job);
	}
	pthread_mutex_unlock(&pf->lock);
}

/*
 * load_claimed(s, x, chunk): decrypt extent ${x}, whose cache claim the
 * caller holds, into a new cache entry for the caller to insert; on an
 * error the claim is given up and nothing is held.
 */
static int
load_claimed(struct store *s, const struct store_extent *x, uint8_t **chunk)
{
	struct chunk_loc loc;
	char hex[65];
	int r;

	*chunk = NULL;
	if ((r = index_chunk_get(s->ix, x->ref.id, &loc)) == 0)
		r = load_entry(s, &x->ref, &loc, x->len, 0, chunk);
	else if (r == -ENOENT) {
		log_hex(x->ref.id, 32, hex);
		r = log_err(r, "chunk %.16s: not in any pack", hex);
	}
	if (r < 0)
		cache_abandon(s->cache, x->ref.id);
	return r;
}

/* Copy [off, off+len) of extent ${x} into ${buf}, through the cache. */
static int
read_extent(struct store *s, const struct store_extent *x, size_t off,
    uint8_t *buf, size_t len)
{
	uint8_t *chunk;
	size_t got;
	int r;

	r = cache_read_or_claim(s->cache, x->ref.id, off, buf, len, &got);
	if (r == 0)
		return got == len ? 0 : -EBADMSG;
	/* Ours to load: decrypt straight into a cache entry. */
	if ((r = load_claimed(s, x, &chunk)) < 0)
		return r;
	memcpy(buf, chunk + off, len);
	cache_insert(s->cache, x->ref.id, chunk);
	return 0;
}

/* The index of the first extent of ${e} that ends after ${off}. */
static size_t
extent_after(const struct store_entry *e, uint64_t off)
{
	size_t lo = 0;
	size_t hi = e->n_extents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct store_extent *x = &e->extents[mid];

		if (x->off + x->len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
store_read(struct store *s, const struct store_entry *e, uint64_t off,
    uint8_t *buf, size_t len, size_t *got)
{
	uint64_t end;
	uint64_t pos = off;
	size_t lo;
	size_t last;
	int r;

	*got = 0;
	if (!s->kr.has_master)
		return -EACCES;
	if (e->type != STORE_REG)
		return -EINVAL;
	if (off >= e->size)
		return 0;
	end = e->size - off < len ? e->size : off + len;
	lo = extent_after(e, off);
	/* The last extent that starts before ${end}; queue what follows it
	 * first, so the pool works while this thread decrypts. */
	for (last = lo; last + 1 < e->n_extents &&
	    e->extents[last + 1].off < end; last++)
		;
	if (last + 1 < e->n_extents)
		prefetch_after(s, e, last);
	while (pos < end) {
		const struct store_extent *x = lo < e->n_extents ?
		    &e->extents[lo] : NULL;
		uint64_t stop;

		if (x != NULL && x->off <= pos) {
			stop = x->off + x->len < end ? x->off + x->len : end;
			r = read_extent(s, x, (size_t)(pos - x->off),
			    buf + (pos - off), (size_t)(stop - pos));
			if (r < 0)
				return r;
			lo++;
		} else {
			stop = x != NULL && x->off < end ? x->off : end;
			memset(buf + (pos - off), 0, (size_t)(stop - pos));
		}
		pos = stop;
	}
	*got = (size_t)(end - off);
	return 0;
}

/* Pin extent ${x} (loading it if needed); sets *${data}. */
static int
pin_extent(struct store *s, const struct store_extent *x,
    const uint8_t **data)
{
	uint8_t *chunk;
	size_t got;
	int r;

	r = cache_pin_or_claim(s->cache, x->ref.id, data, &got);
	if (r == 0) {
		if (got == x->len)
			return 0;
		cache_unpin(s->cache, *data);
		return -EBADMSG;
	}
	if ((r = load_claimed(s, x, &chunk)) < 0)
		return r;
	*data = cache_insert_pin(s->cache, x->ref.id, chunk);
	return 0;
}

void
store_unpin(struct store *s, struct store_pin *p)
{
	for (size_t i = 0; i < p->n_iov; i++)
		cache_unpin(s->cache, p->held[i]);
	p->n_iov = 0;
}

int
store_read_pin(struct store *s, const struct store_entry *e, uint64_t off,
    size_t len, struct store_pin *p, size_t *got)
{
	uint64_t end;
	uint64_t pos = off;
	size_t lo;
	size_t last;
	int r;

	*got = 0;
	p->n_iov = 0;
	if (!s->kr.has_master)
		return -EACCES;
	if (e->type != STORE_REG)
		return -EINVAL;
	if (off >= e->size)
		return 0;
	end = e->size - off < len ? e->size : off + len;
	lo = extent_after(e, off);
	/* Only ranges that are extents' bytes end to end, no holes. */
	for (last = lo; pos < end; last++) {
		if (last >= e->n_extents || e->extents[last].off > pos ||
		    last - lo >= STORE_PIN_MAX)
			return -ERANGE;
		pos = e->extents[last].off + e->extents[last].len;
	}
	if (last < e->n_extents)
		prefetch_after(s, e, last - 1);
	pos = off;
	while (pos < end) {
		const struct store_extent *x = &e->extents[lo + p->n_iov];
		uint64_t stop = x->off + x->len < end ? x->off + x->len : end;
		const uint8_t *data;

		if ((r = pin_extent(s, x, &data)) < 0) {
			store_unpin(s, p);
			return r;
		}
		p->held[p->n_iov] = data;
		p->iov[p->n_iov].iov_base = (void *)(uintptr_t)(data +
		    (pos - x->off));
		p->iov[p->n_iov].iov_len = (size_t)(stop - pos);
		p->n_iov++;
		pos = stop;
	}
	*got = (size_t)(end - off);
	return 0;
}

int
store_cache_get(struct store *s, const char *table, const void *key,
    size_t klen, void **val, size_t *vlen)
{
	if (s->ix == NULL)
		return -EACCES;
	return index_cache_get(s->ix, table, key, klen, val, vlen);
}

int
store_cache_put(struct store *s, const char *table, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	if (s->ix == NULL)
		return -EACCES;
	return index_cache_put(s->ix, table, key, klen, val, vlen);
}

/* ---- one snapshot at a time --------------------------------------------- */

struct each_ctx {
	struct store *s;
	int (*skip)(void *ctx, const uint8_t id[STORE_HASH_LEN]);
	int (*fn)(void *ctx, const struct store_snap *snap);
	void *ctx;
};

/* Open one sealed manifest as list_one() does: *${out} is NULL for one
 * that fails authentication (logged) or does not match its id. */
static int
snap_decode(struct store *s, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len, struct store_snap **out)
{
	struct store_snap *sn;
	char hex[65];
	int r;

	*out = NULL;
	if ((r = snap_open(&s->kr, &s->reg, buf, len, &sn)) < 0) {
		if (r == -ENOMEM || r == -EACCES)
			return r;
		log_hex(id, 32, hex);
		log_err(r, "snapshots/%s: manifest fails authentication; "
		    "ignored", hex);
		return 0;
	}
	if (memcmp(sn->id, id, 32) != 0) {
		snap_free(sn);
		return 0;
	}
	*out = sn;
	return 0;
}

static int
each_one(void *ctx, const uint8_t id[STORE_HASH_LEN], const uint8_t *buf,
    size_t len)
{
	struct each_ctx *c = ctx;
	struct store_snap *sn;
	int r;

	if (c->skip != NULL && (r = c->skip(c->ctx, id)) != 0)
		return r < 0 ? r : 0;
	if ((r = snap_decode(c->s, id, buf, len, &sn)) < 0 || sn == NULL)
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
	struct each_ctx c = { s, skip, fn, ctx };

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	return index_snap_each(s->ix, each_one, &c);
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
	r = snap_decode(s, id, buf, len, &sn);
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
