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

#define DEFAULT_CACHE (32u << 20)

struct store_snap_list {
	size_t n;
	struct store_snap **v;
};

static int object_read(struct store *s, const char *key, const char *version,
    uint8_t **buf, size_t *len);

static void
backend_opts_of(const struct store_opts *o, struct backend_opts *bo)
{
	memset(bo, 0, sizeof(*bo));
	if (o != NULL) {
		bo->s3_endpoint = o->s3_endpoint;
		bo->s3_credentials = o->s3_credentials;
		bo->s3_virtual_host = o->s3_virtual_host;
		bo->s3_insecure_http = o->s3_insecure_http;
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
	struct store_kdf kdf;
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
	bo.s3_insecure_http = o->s3_insecure_http;
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
	cfg.retention_days = o->retention_days;
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
	if ((r = object_read(s, "config", NULL, &buf, &len)) < 0) {
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
	return PACK_MAX;	/* packs/ */
}

/*
 * object_read(s, key, version, buf, len): read object ${key} whole into a
 * malloc'd *${buf}, asking the backend for at most its cap + 1 bytes, so
 * that no object (a sparse 1 TiB file, say) makes us allocate more than
 * its kind may hold.  A larger one is reported, naming it, and returns
 * -EFBIG: damage, which callers skip as they skip an object that fails
 * authentication.
 */
static int
object_read(struct store *s, const char *key, const char *version,
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

/* As object_read(), but first by the size a listing gave: no request. */
static int
object_read_listed(struct store *s, const char *key, uint64_t size,
    uint8_t **buf, size_t *len)
{
	*buf = NULL;
	if (size > object_cap(key))
		return log_err(-EFBIG, "%s: %llu bytes, larger than such an "
		    "object may be (damaged, or added by an attacker); "
		    "ignored", key, (unsigned long long)size);
	return object_read(s, key, NULL, buf, len);
}

/* ---- unlocking (amber-store(5), KEYS and SECURITY CONSIDERATIONS) ---- */

/* The file in the index directory naming the key object that worked. */
#define KEY_REMEMBERED "unlock-key"

/* One key object found by a search, waiting for its turn. */
struct key_cand {
	char name[64];
	struct store_kdf kdf;
	uint8_t obj[KEYOBJ_LEN];
};

struct key_scan {
	struct store *s;
	const char *skip;	/* tried already: the remembered one */
	struct key_cand *v;
	size_t n;
	size_t cap;
	int n_keys;		/* key objects seen, usable or not */
};

/* Say why the key object ${key} is not tried (keyobj_params()'s ${r}). */
static void
key_unusable(const char *key, int r, const struct store_kdf *k)
{
	if (r == -EFBIG)
		log_warn("%s: scrypt parameters log2n=%u r=%u p=%u are above "
		    "the caps (128*r*2^log2n at most 1 GiB, p at most %d); "
		    "not tried", key, k->log2_n, k->r, k->p, KEY_KDF_P_MAX);
	else
		log_warn("%s: damaged key object", key);
}

static int
is_key_name(const char *key)
{
	return strlen(key) == 5 + 2 * STORE_ID_LEN &&
	    strspn(key + 5, "0123456789abcdef") == 2 * STORE_ID_LEN;
}

/*
 * A search reads every key object (they are small), runs no KDF, and
 * keeps those within the caps for trying in order of cost.
 */
static int
key_scan_one(void *ctx, const char *key, uint64_t size)
{
	struct key_scan *k = ctx;
	struct key_cand *c;
	struct store_kdf kdf;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	if (k->skip != NULL && strcmp(key, k->skip) == 0)
		return 0;
	if ((r = object_read_listed(k->s, key, size, &buf, &len)) < 0)
		return r == -ENOMEM ? r : 0;
	k->s->unlock.n_read++;
	if (len >= 8 && memcmp(buf, REG_MAGIC, 8) == 0) {
		free(buf);
		return 0;	/* an ingest key's registration */
	}
	k->n_keys++;
	r = keyobj_params(buf, len, k->s->cfg.store_id, &kdf);
	if (r == 0 && !is_key_name(key))
		r = -EBADMSG;
	if (r < 0) {
		key_unusable(key, r, &kdf);
		free(buf);
		return 0;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 8;

		if ((c = realloc(k->v, cap * sizeof(*c))) == NULL) {
			free(buf);
			return -ENOMEM;
		}
		k->v = c;
		k->cap = cap;
	}
	c = &k->v[k->n++];
	snprintf(c->name, sizeof(c->name), "%s", key);
	c->kdf = kdf;
	memcpy(c->obj, buf, KEYOBJ_LEN);
	free(buf);
	return 0;
}

/*
 * Cheapest first, then by name.  A key object's parameters are all a
 * reader can see before running its KDF, and whoever adds objects picks
 * both the parameters and the name of its own: so an object planted to
 * run first must cost no more than the genuine one, and every object is
 * run at most once, each at most at the caps (amber-store(5)).
 */
static int
key_cand_cmp(const void *a, const void *b)
{
	const struct key_cand *x = a;
	const struct key_cand *y = b;
	uint64_t cx = key_kdf_cost(&x->kdf);
	uint64_t cy = key_kdf_cost(&y->kdf);

	if (cx != cy)
		return cx < cy ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * key_try_named(s, name, pass, len): try the one key object ${name}.
 * Returns 0 (unlocked), -EACCES (not this passphrase's), -ENOENT (no
 * such object), -EBADMSG or -EFBIG (not a usable key object; logged).
 */
static int
key_try_named(struct store *s, const char *name, const char *pass,
    size_t len)
{
	struct store_kdf kdf;
	uint8_t *buf = NULL;
	size_t n;
	int r;

	if ((r = object_read(s, name, NULL, &buf, &n)) < 0)
		return r;
	s->unlock.n_read++;
	if (n >= 8 && memcmp(buf, REG_MAGIC, 8) == 0) {
		r = log_err(-EBADMSG, "%s: an ingest key's registration, not "
		    "a passphrase key object", name);
	} else if ((r = keyobj_params(buf, n, s->cfg.store_id, &kdf)) < 0) {
		key_unusable(name, r, &kdf);
	} else {
		s->unlock.n_kdf++;
		r = keyobj_open(buf, n, s->cfg.store_id, pass, len, &s->kr);
	}
	free(buf);
	return r;
}

/*
 * key_search(s, skip, pass, len): read every key object but ${skip}, and
 * try those within the caps, cheapest first, until one accepts ${pass}.
 */
static int
key_search(struct store *s, const char *skip, const char *pass, size_t len)
{
	struct key_scan k = { s, skip, NULL, 0, 0, 0 };
	int r;

	if ((r = s->be->ops->list(s->be, "keys/", key_scan_one, &k)) < 0)
		goto out;
	if (k.n > 1)
		qsort(k.v, k.n, sizeof(*k.v), key_cand_cmp);
	r = -EACCES;
	for (size_t i = 0; i < k.n && r != 0; i++) {
		s->unlock.n_kdf++;
		r = keyobj_open(k.v[i].obj, KEYOBJ_LEN, s->cfg.store_id, pass,
		    len, &s->kr);
		if (r == 0)
			snprintf(s->unlock.key, sizeof(s->unlock.key), "%s",
			    k.v[i].name);
		else if (r != -EACCES)
			log_warn("%s: damaged key object", k.v[i].name);
		if (r != 0 && r != -ENOMEM)
			r = -EACCES;
	}
	if (r != 0 && k.n_keys == 0 && skip == NULL)
		r = log_err(-EBADMSG, "%s: the store has no key objects",
		    s->be->location);
out:
	for (size_t i = 0; i < k.n; i++)
		crypt_wipe(k.v[i].obj, KEYOBJ_LEN);
	free(k.v);
	return r;
}

struct key_find {
	const char *prefix;
	char name[64];
	int n_found;
};

static int
key_find_one(void *ctx, const char *key, uint64_t size)
{
	struct key_find *f = ctx;

	(void)size;
	if (!is_key_name(key) || strncmp(key + 5, f->prefix,
	    strlen(f->prefix)) != 0)
		return 0;
	if (f->n_found++ == 0)
		snprintf(f->name, sizeof(f->name), "%s", key);
	return 0;
}

/*
 * key_given(s, id, name): the key object named by ${id}, a key id or a
 * prefix of one: a whole id costs no listing, a prefix a listing of
 * names (no object read).  -ENOENT if none matches, -EINVAL if several
 * do or ${id} is not hex.
 */
static int
key_given(struct store *s, const char *id, char name[64])
{
	struct key_find f = { id, "", 0 };
	size_t n = strlen(id);
	int r;

	if (n == 0 || n > 2 * STORE_ID_LEN ||
	    strspn(id, "0123456789abcdef") != n)
		return log_err(-EINVAL, "key id %s: not a key id (lower-case "
		    "hex)", id);
	if (n == 2 * STORE_ID_LEN) {
		snprintf(name, 64, "keys/%s", id);
		return 0;
	}
	if ((r = s->be->ops->list(s->be, "keys/", key_find_one, &f)) < 0)
		return r;
	if (f.n_found == 0)
		return log_err(-ENOENT, "key id %s: no such key object", id);
	if (f.n_found > 1)
		return log_err(-EINVAL, "key id %s: %d key objects match; give "
		    "the whole id", id, f.n_found);
	snprintf(name, 64, "%s", f.name);
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

/* Decide the index directory (before it exists: unlocking uses it). */
static int
index_dir_set(struct store *s)
{
	if (s->index_dir != NULL)
		return 0;
	if (s->opts.index_dir == NULL)
		return default_index_dir(s, &s->index_dir);
	return (s->index_dir = strdup(s->opts.index_dir)) == NULL ? -ENOMEM :
	    0;
}

/*
 * The key object this machine (this index directory) last unlocked with,
 * into ${name} ("keys/<hex>"), or "" if none is remembered.  The file is
 * a hint: whatever it says, it only decides what is tried first.
 */
static void
key_remembered(const struct store *s, char name[64])
{
	char path[4200];
	char buf[2 * STORE_ID_LEN + 2];
	ssize_t n;
	int fd;

	name[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", s->index_dir, KEY_REMEMBERED);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != 2 * STORE_ID_LEN + 1 || buf[2 * STORE_ID_LEN] != '\n')
		return;
	buf[2 * STORE_ID_LEN] = '\0';
	snprintf(name, 64, "keys/%s", buf);
	if (!is_key_name(name))
		name[0] = '\0';
}

/* Remember ${name} for the next unlock; a failure costs only time. */
static void
key_remember(const struct store *s, const char *name)
{
	char path[4200];
	char tmp[4230];
	char line[2 * STORE_ID_LEN + 2];
	int fd;
	int is_ok;

	snprintf(path, sizeof(path), "%s/%s", s->index_dir, KEY_REMEMBERED);
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	snprintf(line, sizeof(line), "%s\n", name + 5);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0)
		return;
	is_ok = write(fd, line, sizeof(line) - 1) ==
	    (ssize_t)(sizeof(line) - 1);
	if (close(fd) != 0 || !is_ok || rename(tmp, path) != 0)
		unlink(tmp);
}

static int load_registry(struct store *s);
static int unlock_common(struct store *s);

/* "keys/HEX32" of the key object the config names (format 2). */
static void
key_init_name(const struct store *s, char name[64])
{
	char hex[33];

	log_hex(s->cfg.init_key, 16, hex);
	snprintf(name, 64, "keys/%s", hex);
}

int
store_unlock(struct store *s, const char *pass, size_t len)
{
	char remembered[64];
	char name[64];
	int r;

	memset(&s->unlock, 0, sizeof(s->unlock));
	if ((r = index_dir_set(s)) < 0)
		return r;
	if (s->opts.key_id != NULL) {
		/* Only the key object named: nothing else is read. */
		if ((r = key_given(s, s->opts.key_id, name)) < 0)
			return r;
		s->unlock.how = STORE_UNLOCK_GIVEN;
		if ((r = key_try_named(s, name, pass, len)) == -ENOENT)
			r = log_err(r, "%s: no such key object", name);
		if (r < 0)
			return r == -EFBIG ? -EBADMSG : r;
		snprintf(s->unlock.key, sizeof(s->unlock.key), "%s", name);
	} else {
		/* What worked here before first, so that key objects added
		 * since (by anyone) cost nothing while it still works. */
		key_remembered(s, remembered);
		r = -EACCES;
		if (*remembered != '\0') {
			s->unlock.how = STORE_UNLOCK_REMEMBERED;
			r = key_try_named(s, remembered, pass, len);
			if (r == 0)
				snprintf(s->unlock.key, sizeof(s->unlock.key),
				    "%s", remembered);
		}
		/* A machine that never unlocked this store: the key object
		 * made with it, named in the config, before any other. */
		if (r != 0 && r != -ENOMEM && *remembered == '\0' &&
		    s->cfg.version >= 2) {
			key_init_name(s, remembered);
			s->unlock.how = STORE_UNLOCK_INIT;
			r = key_try_named(s, remembered, pass, len);
			if (r == 0)
				snprintf(s->unlock.key, sizeof(s->unlock.key),
				    "%s", remembered);
		}
		if (r == -ENOMEM)
			return r;
		if (r != 0) {
			s->unlock.how = STORE_UNLOCK_SEARCHED;
			r = key_search(s, *remembered ? remembered : NULL,
			    pass, len);
			if (r < 0)
				return r;
		}
	}
	if ((r = config_check(&s->cfg, &s->kr)) < 0)
		return log_err(r, "%s: config: authentication failed (it was "
		    "altered)", s->be->location);
	if ((r = unlock_common(s)) < 0)
		return r;
	key_remembered(s, remembered);
	if (strcmp(remembered, s->unlock.key) != 0)
		key_remember(s, s->unlock.key);
	return 0;
}

void
store_unlock_info(const struct store *s, struct store_unlock_info *out)
{
	*out = s->unlock;
}

static int
unlock_common(struct store *s)
{
	int r;

	chunker_init(&s->chunker, s->kr.gear_seed, s->cfg.chunk_min,
	    s->cfg.chunk_avg, s->cfg.chunk_max);
	if ((r = index_dir_set(s)) < 0)
		return r;
	if ((r = index_open(s->index_dir, &s->ix)) < 0)
		return r;
	if ((r = cache_new(s->opts.cache_size ? s->opts.cache_size :
	    DEFAULT_CACHE, &s->cache)) < 0)
		return r;
	/* After the index: it remembers which objects are what. */
	if (s->kr.has_master && (r = load_registry(s)) < 0)
		return r;
	if (!s->opts.no_index_update)
		return store_index_sync(s, 0);
	return 0;
}

/*
 * The registry's records are read at every unlock, and anyone who may
 * add objects can add thousands under keys/ and revoked/.  So what each
 * object turned out to be is kept in the index (objects never change):
 * a record that authenticated (its bytes, checked again at every use),
 * an object that is no record of its kind (a passphrase key object, said
 * nothing of), or junk (warned of again, without reading it).
 */
static const char reg_table[] = "registry";
#define REG_SEEN_RECORD 'R'
#define REG_SEEN_OTHER 'O'
#define REG_SEEN_JUNK 'J'

struct reg_load {
	struct store *s;
	int is_rev;
};

/* Apply the record ${buf}; 1 if it counts, 0 if not, or -ENOMEM. */
static int
reg_apply(struct reg_load *l, const uint8_t *buf, size_t len)
{
	struct store *s = l->s;
	struct reg_entry e;
	struct reg_entry *v;
	int r;

	if (l->is_rev) {
		r = rev_open(&s->kr, s->cfg.store_id, buf, len, &s->reg);
		return r == -ENOMEM ? r : r == 0 || r == -ENOENT;
	}
	if ((r = reg_open(&s->kr, s->cfg.store_id, buf, len, &e)) < 0)
		return 0;
	if ((v = realloc(s->reg.v, (s->reg.n + 1) * sizeof(*v))) == NULL)
		return -ENOMEM;
	s->reg.v = v;
	v[s->reg.n++] = e;
	return 1;
}

static void
reg_junk(const struct reg_load *l, const char *key)
{
	if (l->is_rev)
		log_err(-EBADMSG, "%s: revocation record fails "
		    "authentication; ignored", key);
	else
		log_err(-EBADMSG, "%s: ingest key record fails "
		    "authentication (forged?); its snapshots are rejected",
		    key);
}

static void
reg_seen(struct reg_load *l, const char *key, uint8_t what,
    const uint8_t *buf, size_t len)
{
	uint8_t *v;

	if ((v = malloc(1 + len)) == NULL)
		return;
	v[0] = what;
	if (len > 0)
		memcpy(v + 1, buf, len);
	(void)index_cache_put(l->s->ix, reg_table, key, strlen(key), v,
	    1 + len);
	free(v);
}

static int
reg_load_one(void *ctx, const char *key, uint64_t size)
{
	struct reg_load *l = ctx;
	struct store *s = l->s;
	uint8_t *buf = NULL;
	void *val = NULL;
	size_t vlen = 0;
	size_t len;
	int r;

	if (index_cache_get(s->ix, reg_table, key, strlen(key), &val,
	    &vlen) == 0 && vlen >= 1) {
		const uint8_t *v = val;
		uint8_t what = v[0];

		r = 0;
		if (what == REG_SEEN_RECORD)
			r = reg_apply(l, v + 1, vlen - 1);
		else if (what == REG_SEEN_JUNK)
			reg_junk(l, key);
		free(val);
		/* A record that no longer counts is read again. */
		if (r < 0 || what != REG_SEEN_RECORD || r == 1)
			return r < 0 ? r : 0;
	} else {
		free(val);
	}
	if ((r = object_read_listed(s, key, size, &buf, &len)) < 0)
		return r == -ENOMEM ? r : 0;
	s->unlock.n_reg_read++;
	if (!l->is_rev && (len < 8 || memcmp(buf, REG_MAGIC, 8) != 0)) {
		reg_seen(l, key, REG_SEEN_OTHER, NULL, 0);
		free(buf);
		return 0;
	}
	if ((r = reg_apply(l, buf, len)) == 1)
		reg_seen(l, key, REG_SEEN_RECORD, buf, len);
	else if (r == 0) {
		reg_junk(l, key);
		reg_seen(l, key, REG_SEEN_JUNK, NULL, 0);
	}
	free(buf);
	return r < 0 ? r : 0;
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

	/* An object too large to be a key is listed as damaged, unread. */
	if ((r = object_read_listed(k->s, key, size, &buf, &len)) < 0 &&
	    r != -EFBIG)
		return r == -ENOMEM ? r : 0;
	if ((v = realloc(k->v, (k->n + 1) * sizeof(*v))) == NULL) {
		free(buf);
		return -ENOMEM;
	}
	k->v = v;
	i = &v[k->n++];
	memset(i, 0, sizeof(*i));
	snprintf(i->id, sizeof(i->id), "%s", key + 5);
	if (buf == NULL) {
		i->type = STORE_KEY_DAMAGED;
	} else if (len == KEYOBJ_LEN && memcmp(buf, "AMBRKEY1", 8) == 0) {
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
	uint8_t h[32];
	char name[128];
	char hex[33];
	char hhex[65];
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
	/*
	 * Named by its own hash (amber-store(5), INGEST KEYS): nobody who
	 * lacks the registry key can compute it, so nobody can take the
	 * name first, as junk at a fixed name would.
	 */
	log_hex(e->id, 16, hex);
	crypt_sha256(buf, len, h);
	log_hex(h, 32, hhex);
	snprintf(name, sizeof(name), "revoked/%s.%s", hex, hhex);
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

	r = object_read(s, key, NULL, buf, len);
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
		if (object_read(s, key, v[i].id, buf, len) < 0)
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

	if (strlen(key) != 10 + 64 || hex_decode(key + 10, h, 32) < 0)
		return 0;
	/* One too large is never indexed: damage to name, but no news. */
	if (size > SNAP_MAX) {
		log_err(-EFBIG, "%s: %llu bytes, larger than a manifest may be "
		    "(damaged, or added by an attacker); ignored", key,
		    (unsigned long long)size);
		return 0;
	}
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
	struct sync_ctx c = { s, 0, 0, 0 };
	struct sync_ctx news = { s, 0, 0, 0 };
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
		c.is_big_named = 1;
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

/*
 * ref_check(s, ref, buf, len): 0 if ${buf} is the plaintext ${ref} names,
 * -EBADMSG if not.  Its id and key are computed again from it
 * (amber-store(5), CHUNKS) and compared with the ref.  Authentication
 * alone does not show this: a chunk's key is convergent, so whoever knows
 * a plaintext and holds an ingest key (which has the id and chunk-key
 * keys) can seal other bytes under that chunk's id and key, and the tag
 * of such a blob is valid.  What a reader returns, or caches, has passed
 * this check.
 */
static int
ref_check(const struct store *s, const struct store_ref *ref,
    const uint8_t *buf, size_t len)
{
	struct store_ref got;
	int is_same;

	store_ref_of(s, buf, len, &got);
	is_same = crypt_equal(got.id, ref->id, STORE_HASH_LEN) &&
	    crypt_equal(got.key, ref->key, STORE_HASH_LEN);
	crypt_wipe(&got, sizeof(got));
	return is_same ? 0 : -EBADMSG;
}

/*
 * open_checked(s, ref, blob, len, raw_len, buf, cap, olen, is_forged):
 * open_blob(), then ref_check(); a plaintext that is not the one ${ref}
 * names is wiped, sets *${is_forged} and gives -EBADMSG.
 */
static int
open_checked(const struct store *s, const struct store_ref *ref,
    const uint8_t *blob, size_t len, uint32_t raw_len, uint8_t *buf,
    size_t cap, size_t *olen, int *is_forged)
{
	int r = open_blob(ref, blob, len, raw_len, buf, cap, olen);

	if (r == 0 && (r = ref_check(s, ref, buf, *olen)) < 0) {
		crypt_wipe(buf, *olen);
		*is_forged = 1;
	}
	return r;
}

/* How chunk_open_at() goes about it. */
#define OPEN_QUIET 1	/* log nothing of a failure (a read ahead: the
			 * reader that needs the chunk logs it) */
#define OPEN_TREE 2	/* a tree: a local copy of its pack may have it */

/*
 * Read and open chunk ${ref} at ${loc}, as ${flags} (OPEN_*) say.  On
 * -EBADMSG, *${forged} (unless NULL) says whether a blob authenticated
 * but was not the chunk ${ref} names.
 */
static int
chunk_open_at(struct store *s, const struct store_ref *ref,
    const struct chunk_loc *loc0, uint8_t *buf, size_t cap, size_t *len,
    int flags, int *forged)
{
	struct backend *be = s->be;
	struct backend_version *v = NULL;
	struct chunk_loc loc = *loc0;
	uint8_t *blob = NULL;
	char name[80];
	char hex[65];
	size_t got;
	size_t n = 0;
	int is_forged = 0;
	int r;

	atomic_fetch_add(&s->n_chunk_opens, 1);
	pack_name(loc.pack, name);
	/* A local copy of a pack of trees (treecopy.c) saves a request. */
	if ((flags & OPEN_TREE) && s->opts.use_tree_copies &&
	    be->ops->willneed == NULL &&
	    treecopy_get(s, &loc, &blob, &got) == 0) {
		r = open_checked(s, ref, blob, got, loc.raw_len, buf, cap, len,
		    &is_forged);
		free(blob);
		blob = NULL;
		if (r != -EBADMSG)
			return r;
		is_forged = 0;
		log_warn("%s: the local copy is damaged; removed", name);
		treecopy_drop(s, loc.pack);
	}
	r = be->ops->get(be, name, NULL, loc.off, loc.len, &blob, &got);
	if (r == 0)
		r = got == loc.len ? open_checked(s, ref, blob, got,
		    loc.raw_len, buf, cap, len, &is_forged) : -EBADMSG;
	free(blob);
	blob = NULL;
	if (r == -EBADMSG && be->ops->versions != NULL &&
	    be->ops->versions(be, name, &v, &n) == 0) {
		for (size_t i = 0; i < n && r == -EBADMSG; i++) {
			if (v[i].is_delete_marker || v[i].is_latest)
				continue;
			if (be->ops->get(be, name, v[i].id, loc.off, loc.len,
			    &blob, &got) == 0 && got == loc.len &&
			    open_checked(s, ref, blob, got, loc.raw_len, buf,
			    cap, len, &is_forged) == 0) {
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
	if (forged != NULL)
		*forged = r == -EBADMSG && is_forged;
	if (flags & OPEN_QUIET)
		return r;
	if (r == -EBADMSG && is_forged) {
		log_hex(ref->id, 32, hex);
		log_err(r, "%s: chunk %.16s at offset %llu: authentic, but "
		    "not the chunk its id names (forged by a key holder?)",
		    name, hex, (unsigned long long)loc.off);
	} else if (r == -EBADMSG) {
		log_hex(ref->id, 32, hex);
		log_err(r, "%s: chunk %.16s at offset %llu: authentication "
		    "failed", name, hex, (unsigned long long)loc.off);
	} else if (r == -ENOENT) {
		r = log_err(-ENOENT, "%s: missing (chunk at offset %llu)",
		    name, (unsigned long long)loc.off);
	}
	return r;
}

/*
 * chunk_open_any(s, ref, bufp, cap, len, flags, used): chunk_open_at() at
 * each location the index knows of ${ref}, in turn, until one gives the
 * chunk ${ref} names; *${used} (unless NULL) is then that location.  If
 * *${bufp} is NULL, a buffer of the length each location's table claims
 * (at most ${cap}) is allocated for it, and the one that worked is left
 * in *${bufp} for the caller to free; else *${bufp} holds ${cap} bytes.
 * Anyone who may add a pack may add a location, so a location that
 * fails is no reason to stop: a chunk with k locations costs at most k
 * reads (amber-store(5), SECURITY CONSIDERATIONS).  With one location,
 * that location's failure is logged as ever; with more, quietly, and one
 * line names what failed.
 */
static int
chunk_open_any(struct store *s, const struct store_ref *ref, uint8_t **bufp,
    size_t cap, size_t *len, int flags, struct chunk_loc *used)
{
	struct index_locs it = INDEX_LOCS_INIT;
	int is_alloc = *bufp == NULL;
	struct chunk_loc loc;
	struct chunk_loc bad;
	size_t n_bad = 0;
	char hex[65];
	char name[80];
	int first = 0;
	int r;

	log_hex(ref->id, 32, hex);
	while ((r = index_locs_next(s->ix, ref->id, &it, &loc)) == 1) {
		int quiet = it.total == 1 ? flags : flags | OPEN_QUIET;

		if (is_alloc && loc.raw_len > cap) {
			r = -EBADMSG;	/* longer than any such chunk */
		} else if (is_alloc &&
		    (*bufp = malloc(loc.raw_len + 1)) == NULL) {
			return -ENOMEM;
		} else {
			r = chunk_open_at(s, ref, &loc, *bufp, is_alloc ?
			    loc.raw_len : cap, len, quiet, NULL);
			if (r < 0 && is_alloc) {
				free(*bufp);
				*bufp = NULL;
			}
		}
		if (r == 0) {
			if (n_bad > 0 && !(flags & OPEN_QUIET)) {
				pack_name(bad.pack, name);
				log_warn("chunk %.16s: %zu of its %zu locations "
				    "failed (first: %s offset %llu); read from "
				    "the next", hex, n_bad, it.total, name,
				    (unsigned long long)bad.off);
			}
			if (used != NULL)
				*used = loc;
			return 0;
		}
		/* A location whose length is not the caller's is not the
		 * chunk the caller knows, unless none is: go on. */
		if (r == -ENOMEM)
			return r;
		if (n_bad++ == 0) {
			bad = loc;
			first = r;
		}
	}
	if (r < 0)
		return r;
	if (n_bad == 0)
		return log_err(-ENOENT, "chunk %.16s: not in any pack", hex);
	if (it.total > 1 && !(flags & OPEN_QUIET)) {
		pack_name(bad.pack, name);
		log_err(first, "chunk %.16s: none of its %zu locations holds "
		    "it intact (first: %s offset %llu)", hex, it.total, name,
		    (unsigned long long)bad.off);
	}
	return first < 0 ? first : -EBADMSG;
}

int
store_chunk_open_at(struct store *s, const struct store_ref *ref,
    const struct chunk_loc *loc, uint8_t *buf, size_t cap, size_t *len,
    int *forged)
{
	return chunk_open_at(s, ref, loc, buf, cap, len, OPEN_QUIET, forged);
}

int
store_chunk_open(struct store *s, const struct store_ref *ref, uint8_t *buf,
    size_t cap, size_t *len)
{
	if (s->ix == NULL)
		return -EACCES;
	return chunk_open_any(s, ref, &buf, cap, len, 0, NULL);
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
	uint8_t *buf = NULL;
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
	/* Its neighbours are the trees a walk reads next. */
	if (index_pack_kind(s->ix, loc.pack, &kind) == 0) {
		pack_name(loc.pack, name);
		if (kind != INDEX_PACK_TREES)
			is_learning = 1;
		else if (s->be->ops->willneed != NULL)
			s->be->ops->willneed(s->be, name);
	}
	if ((r = chunk_open_any(s, ref, &buf, STORE_TREE_MAX, &len,
	    OPEN_TREE, &loc)) < 0)
		return r;
	if ((r = tree_decode(buf, len, out)) == -EBADMSG) {
		char hex[65];

		log_hex(ref->id, 32, hex);
		log_err(r, "tree %.16s: malformed", hex);
	}
	/* Only a tree that decodes teaches anything of its pack (the one it
	 * came from, which a junk location before it is not). */
	if (r == 0 && is_learning && learn_tree_pack(s, loc.pack) &&
	    s->be->ops->willneed != NULL) {
		pack_name(loc.pack, name);
		s->be->ops->willneed(s->be, name);
	}
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
		    codec == CODEC_RAW && ref_check(s, ref, chunk, len) == 0) {
			atomic_fetch_add(&s->n_chunk_opens, 1);
			*out = chunk;
			return 0;
		}
	}
	r = chunk_open_any(s, ref, &chunk, len, &got,
	    is_quiet ? OPEN_QUIET : 0, NULL);
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

	if (cache_claim(s->cache, x->ref.key) != -EAGAIN)
		return;
	/* On failure the reader that needs it loads it again, and reports. */
	if (index_chunk_get(s->ix, x->ref.id, &loc) < 0 ||
	    loc.raw_len != x->len ||
	    load_entry(s, &x->ref, &loc, x->len, 1, &chunk) < 0) {
		cache_abandon(s->cache, x->ref.key);
		return;
	}
	atomic_fetch_add(&s->n_prefetched, 1);
	cache_insert(s->cache, x->ref.key, chunk);
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
		cache_abandon(s->cache, x->ref.key);
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

	r = cache_read_or_claim(s->cache, x->ref.key, off, buf, len, &got);
	if (r == 0)
		return got == len ? 0 : -EBADMSG;
	/* Ours to load: decrypt straight into a cache entry. */
	if ((r = load_claimed(s, x, &chunk)) < 0)
		return r;
	memcpy(buf, chunk + off, len);
	cache_insert(s->cache, x->ref.key, chunk);
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

	r = cache_pin_or_claim(s->cache, x->ref.key, data, &got);
	if (r == 0) {
		if (got == x->len)
			return 0;
		cache_unpin(s->cache, *data);
		return -EBADMSG;
	}
	if ((r = load_claimed(s, x, &chunk)) < 0)
		return r;
	*data = cache_insert_pin(s->cache, x->ref.key, chunk);
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
