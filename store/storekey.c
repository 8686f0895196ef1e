/*
 * storekey.c: unlocking a store (amber-store(5), KEYS and SECURITY
 * CONSIDERATIONS): the key objects are tried cheapest first, the one that
 * worked is remembered in the index directory; an ingest key file unlocks
 * without a passphrase.  Readers load the registry of ingest keys, so
 * that a snapshot's writer can be checked.  And the key management of
 * `amber key`: list, add a passphrase, new ingest key, revoke.
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
	if ((r = store_object_read_listed(k->s, key, size, &buf, &len)) < 0)
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

	if ((r = store_object_read(s, name, NULL, &buf, &n)) < 0)
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

/* Snapshot ids from the local index alone: no key, no network. */
int
store_snap_ids_cached(const char *location, const struct store_opts *o,
    int (*fn)(void *ctx, const uint8_t id[STORE_HASH_LEN]), void *ctx)
{
	struct store *s = NULL;
	int r;

	if (strncmp(location, "s3://", 5) == 0)
		return -EPROTONOSUPPORT;
	if ((r = store_open(location, o, &s)) < 0)
		return r;
	if ((r = index_dir_set(s)) == 0 &&
	    (r = index_snap_ids(s->index_dir, fn, ctx)) == -ENOENT)
		r = 0;
	store_close(s);
	return r;
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
	    STORE_DEFAULT_CACHE, &s->cache)) < 0)
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
	if ((r = store_object_read_listed(s, key, size, &buf, &len)) < 0)
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
	if ((r = store_object_read_listed(k->s, key, size, &buf, &len)) < 0 &&
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
