/*
 * store.c: creating, opening and closing a store, its ids, and reading
 * whole objects (config, keys, registry records, snapshots) within a cap
 * on their size.  The rest of the store API is split by concern:
 * storekey.c (unlocking, the registry of ingest keys, key management),
 * storesync.c (pack tables and bringing the index up to date),
 * storesnap.c (the snapshot list, one snapshot at a time), storeread.c
 * (chunks, trees and file contents), writer.c (writing), verify.c
 * (checking).  All of them share struct store (storei.h).
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
#include "storei.h"
#include "tree.h"
static void
backend_opts_of(const struct store_opts *o, struct backend_opts *bo)
{
	memset(bo, 0, sizeof(*bo));
	if (o != NULL)
		bo->s3 = o->s3;
}

int
store_create(const char *location, const struct store_create_opts *o,
    const char *pass, size_t len)
{
	struct backend_opts bo = { 0 };
	struct backend *be = NULL;
	struct keyring *kr = NULL;
	struct config cfg = { 0 };
	struct store_kdf kdf;
	uint8_t cbuf[CONFIG_LEN];
	uint8_t kbuf[KEYOBJ_LEN];
	char kname[64];
	int r;

	bo.is_immutable = o->is_immutable;
	bo.retention_secs = o->retention_secs;
	bo.allow_no_lock = o->allow_no_lock;
	bo.s3 = o->s3;
	if ((kr = calloc(1, sizeof(*kr))) == NULL)
		return -ENOMEM;
	/* Before anything is created: no store with a key none would try. */
	key_kdf_defaults(&o->kdf, &kdf);
	if (!key_kdf_ok(&kdf)) {
		r = log_err(-EINVAL, "scrypt parameters log2n=%u r=%u p=%u "
		    "above the caps (128*r*2^log2n at most 1 GiB, p at most "
		    "%d)", kdf.log2_n, kdf.r, kdf.p, KEY_KDF_P_MAX);
		goto out;
	}
	if ((r = backend_create(location, &bo, &be)) < 0)
		goto out;
	if ((r = crypt_random(kr->master, 32)) < 0 ||
	    (r = key_derive(kr)) < 0)
		goto out;
	cfg.version = KEY_FORMAT_VERSION;
	if ((r = crypt_random(cfg.store_id, STORE_ID_LEN)) < 0)
		goto out;
	cfg.flags = o->is_immutable ? CONFIG_IMMUTABLE : 0;
	cfg.retention = (uint32_t)(o->retention_secs > STORE_RETENTION_MAX ?
	    STORE_RETENTION_MAX : o->retention_secs);
	cfg.chunk_min = CHUNKER_MIN;
	cfg.chunk_avg = CHUNKER_AVG;
	cfg.chunk_max = CHUNKER_MAX;
	memcpy(cfg.box_pub, kr->box_pub, 32);
	memcpy(cfg.sign_pub, kr->sign_pub, 32);
	if ((r = keyobj_make(kr, cfg.store_id, pass, len, &o->kdf, kname,
	    kbuf)) < 0)
		goto out;
	/* Its id (keys/HEX32) is in the config, which no one can change:
	 * the key object a fresh machine tries first. */
	if (strlen(kname) != 5 + 32 || hex_decode(kname + 5,
	    cfg.init_key, 16) < 0) {
		r = -EINVAL;
		goto out;
	}
	config_mac(&cfg, kr);
	config_encode(&cfg, cbuf);
	/* The key first: a store is there once its config is. */
	if ((r = be->ops->put(be, kname, kbuf, sizeof(kbuf))) < 0)
		goto out;
	r = be->ops->put(be, "config", cbuf, config_len(cfg.version));
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
	if ((r = store_object_read(s, "config", NULL, &buf, &len)) < 0) {
		if (r == -EFBIG)
			r = -EBADMSG;
		goto out;
	}
	if ((r = config_decode(buf, len, &s->cfg)) < 0) {
		r = log_err(r, "%s: config: not an amber store of a version "
		    "this program reads", location);
		goto out;
	}
	log_hex(s->cfg.store_id, STORE_ID_LEN, s->id_hex);
	if (s->be->ops->set_retention != NULL)
		s->be->ops->set_retention(s->be,
		    config_retention_secs(&s->cfg));
	if ((s->cfg.flags & CONFIG_IMMUTABLE) &&
	    s->be->ops->set_immutable != NULL)
		s->be->ops->set_immutable(s->be);
	*out = s;
	s = NULL;
out:
	free(buf);
	store_close(s);
	return r;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	/* The threads use the index, cache and backend: first stop them. */
	store_prefetch_stop(s);
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

int
store_is_local(const struct store *s)
{
	return s->be->is_local;
}

/* ---- reading objects whole, within caps ---- */

/*
 * The most a reader reads of an object of each kind (amber-store(5),
 * SECURITY CONSIDERATIONS, "Sizes of objects read"), by its name.
 */
static size_t
object_cap(const char *key)
{
	if (strncmp(key, "snapshots/", 10) == 0)
		return SNAP_MAX;
	if (strncmp(key, "keys/", 5) == 0)
		return KEY_OBJ_MAX;
	if (strncmp(key, "revoked/", 8) == 0)
		return REV_OBJ_MAX;
	if (strcmp(key, "config") == 0)
		return CONFIG_OBJ_MAX;
	if (strncmp(key, "policies/", 9) == 0)
		return KEY_OBJ_MAX;	/* a policy is 128 bytes */
	if (strncmp(key, "pruned/", 7) == 0)
		return REV_OBJ_MAX;
	return PACK_MAX;	/* packs/ */
}

/* The cap makes a huge object cost one small read, not its size. */
int
store_object_read(struct store *s, const char *key, const char *version,
    uint8_t **buf, size_t *len)
{
	size_t cap = object_cap(key);
	int r;

	*buf = NULL;
	if ((r = s->be->ops->get(s->be, key, version, 0, (uint64_t)cap + 1,
	    buf, len)) < 0)
		return r;
	if (*len <= cap)
		return 0;
	free(*buf);
	*buf = NULL;
	return log_err(-EFBIG, "%s: larger than the %zu bytes such an object "
	    "may have (damaged, or added by an attacker); ignored", key, cap);
}

int
store_object_read_listed(struct store *s, const char *key, uint64_t size,
    uint8_t **buf, size_t *len)
{
	*buf = NULL;
	if (size > object_cap(key))
		return log_err(-EFBIG, "%s: %llu bytes, larger than such an "
		    "object may be (damaged, or added by an attacker); "
		    "ignored", key, (unsigned long long)size);
	return store_object_read(s, key, NULL, buf, len);
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
