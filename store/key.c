/*
 * key.c: key derivation, the config object and passphrase key objects
 * (amber-store(5), CONFIG and KEYS).  The master secret never leaves
 * memory unwrapped; a key object binds its header (type, ids, KDF
 * parameters) as associated data, so a parameter changed on disk fails
 * authentication instead of weakening the KDF silently.
 */
#include <errno.h>
#include <string.h>

#include "hex.h"
#include "key.h"
#include "log.h"
#include "rd.h"

#include <stdio.h>
#include <stddef.h>
#include <openssl/crypto.h>

static const uint8_t config_magic[8] = "AMBRCFG1";
static const uint8_t keyobj_magic[8] = "AMBRKEY1";

int
key_derive(struct keyring *kr)
{
	static const struct {
		const char *info;
		size_t off;
		size_t len;
	} sub[] = {
		{ "amber v1 chunk id", offsetof(struct keyring, id_key), 32 },
		{ "amber v1 chunk key", offsetof(struct keyring, chunk_key), 32 },
		{ "amber v1 pack table", offsetof(struct keyring, toc_key), 32 },
		{ "amber v1 config", offsetof(struct keyring, config_key), 32 },
		{ "amber v1 index snapshot cache",
		    offsetof(struct keyring, snapc_key), 32 },
		{ "amber v1 gear", offsetof(struct keyring, gear_key), 32 },
		{ "amber v1 registry", offsetof(struct keyring, reg_key), 32 },
		{ "amber v1 box", offsetof(struct keyring, box_priv), 32 },
		{ "amber v1 sign", offsetof(struct keyring, sign_seed), 32 },
	};
	int r;

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		r = crypt_hkdf(kr->master, 32, NULL, 0, sub[i].info,
		    (uint8_t *)kr + sub[i].off, sub[i].len);
		if (r < 0)
			return r;
	}
	if ((r = crypt_hkdf(kr->gear_key, 32, NULL, 0, "amber v1 gear table",
	    kr->gear_seed, sizeof(kr->gear_seed))) < 0)
		return r;
	if ((r = crypt_x25519_pub(kr->box_priv, kr->box_pub)) < 0)
		return r;
	if ((r = crypt_ed25519_pub(kr->sign_seed, kr->sign_pub)) < 0)
		return r;
	memcpy(kr->master_sign_pub, kr->sign_pub, 32);
	memset(kr->key_id, 0, sizeof(kr->key_id));
	kr->has_master = 1;
	kr->is_ingest = 0;
	return 0;
}

void
keyring_wipe(struct keyring *kr)
{
	crypt_wipe(kr, sizeof(*kr));
}

size_t
config_len(uint32_t version)
{
	return version == 1 ? CONFIG_LEN_V1 : CONFIG_LEN;
}

uint64_t
config_retention_secs(const struct config *c)
{
	return c->version >= 3 ? c->retention : (uint64_t)c->retention * 86400;
}

static void
config_body(const struct config *c, uint8_t out[CONFIG_LEN])
{
	uint8_t *p = out;

	memcpy(p, config_magic, 8);
	p += 8;
	le_put(p, c->version, 4);
	p += 4;
	memcpy(p, c->store_id, 16);
	p += 16;
	le_put(p, c->flags, 4);
	le_put(p + 4, c->retention, 4);
	le_put(p + 8, c->chunk_min, 4);
	le_put(p + 12, c->chunk_avg, 4);
	le_put(p + 16, c->chunk_max, 4);
	le_put(p + 20, 0, 4);	/* reserved */
	p += 24;
	memcpy(p, c->box_pub, 32);
	memcpy(p + 32, c->sign_pub, 32);
	p += 64;
	if (c->version != 1) {
		memcpy(p, c->init_key, 16);
		p += 16;
	}
	memcpy(p, c->mac, 32);
}

void
config_encode(const struct config *c, uint8_t out[CONFIG_LEN])
{
	config_body(c, out);
}

int
config_decode(const uint8_t *buf, size_t len, struct config *c)
{
	struct rd r = rd_init(buf, len);
	const uint8_t *magic;
	uint32_t reserved;

	memset(c, 0, sizeof(*c));
	if (rd_bytes(&r, 8, &magic) < 0 || memcmp(magic, config_magic, 8) != 0)
		return -EBADMSG;
	if (rd_u32(&r, &c->version) < 0 || c->version < KEY_FORMAT_OLDEST ||
	    c->version > KEY_FORMAT_VERSION || len != config_len(c->version))
		return -EBADMSG;
	if (rd_copy(&r, c->store_id, 16) < 0 || rd_u32(&r, &c->flags) < 0 ||
	    rd_u32(&r, &c->retention) < 0 ||
	    rd_u32(&r, &c->chunk_min) < 0 || rd_u32(&r, &c->chunk_avg) < 0 ||
	    rd_u32(&r, &c->chunk_max) < 0 || rd_u32(&r, &reserved) < 0 ||
	    rd_copy(&r, c->box_pub, 32) < 0 || rd_copy(&r, c->sign_pub, 32) < 0 ||
	    (c->version != 1 && rd_copy(&r, c->init_key, 16) < 0) ||
	    rd_copy(&r, c->mac, 32) < 0)
		return -EBADMSG;
	/* Chunk sizes are bounded so that no stored value can make us
	 * allocate without limit; avg must be a power of two. */
	if (c->chunk_min < 1024 || c->chunk_min > c->chunk_avg ||
	    c->chunk_avg > c->chunk_max || c->chunk_max > STORE_CHUNK_MAX ||
	    (c->chunk_avg & (c->chunk_avg - 1)) != 0)
		return -EBADMSG;
	return 0;
}

static void
config_compute_mac(const struct config *c, const struct keyring *kr,
    uint8_t mac[32])
{
	uint8_t body[CONFIG_LEN];

	config_body(c, body);
	crypt_hmac(kr->config_key, body, config_len(c->version) - 32, NULL, 0,
	    mac);
}

void
config_mac(struct config *c, const struct keyring *kr)
{
	config_compute_mac(c, kr, c->mac);
}

int
config_check(const struct config *c, const struct keyring *kr)
{
	uint8_t mac[32];

	config_compute_mac(c, kr, mac);
	if (CRYPTO_memcmp(mac, c->mac, 32) != 0 ||
	    memcmp(c->box_pub, kr->box_pub, 32) != 0 ||
	    memcmp(c->sign_pub, kr->sign_pub, 32) != 0)
		return -EBADMSG;
	return 0;
}

void
key_kdf_defaults(const struct store_kdf *in, struct store_kdf *out)
{
	out->log2_n = in && in->log2_n ? in->log2_n : 17;
	out->r = in && in->r ? in->r : 8;
	out->p = in && in->p ? in->p : 1;
}

int
key_kdf_ok(const struct store_kdf *k)
{
	/* crypt_scrypt()'s own limits (r at most 64), then 128 * r * N at
	 * most 2^30, computed without overflow. */
	if (k->log2_n < 1 || k->log2_n > 30 || k->r < 1 || k->r > 64 ||
	    k->p < 1 || k->p > KEY_KDF_P_MAX)
		return 0;
	return ((uint64_t)128 * k->r) <= (KEY_KDF_MEM_MAX >> k->log2_n);
}

uint64_t
key_kdf_cost(const struct store_kdf *k)
{
	/* Within the caps: N * r <= 2^23, p <= 4. */
	return ((uint64_t)1 << k->log2_n) * k->r * k->p;
}

/* The header: everything before the nonce, bound as associated data. */
static size_t
keyobj_header(uint8_t *p, const uint8_t id[16],
    const uint8_t store_id[STORE_ID_LEN], const struct store_kdf *k,
    const uint8_t salt[32])
{
	memcpy(p, keyobj_magic, 8);
	p[8] = 1;	/* type: passphrase */
	memcpy(p + 9, id, 16);
	memcpy(p + 25, store_id, 16);
	p[41] = k->log2_n;
	le_put(p + 42, k->r, 4);
	le_put(p + 46, k->p, 4);
	memcpy(p + 50, salt, 32);
	return 82;
}

int
keyobj_make(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const char *pass, size_t len, const struct store_kdf *kdf,
    char name[64], uint8_t out[KEYOBJ_LEN])
{
	struct store_kdf k;
	uint8_t id[16];
	uint8_t salt[32];
	uint8_t kek[32];
	char hex[33];
	size_t h;
	int r;

	key_kdf_defaults(kdf, &k);
	/* A key no reader would try. */
	if (!key_kdf_ok(&k))
		return log_err(-EINVAL, "scrypt parameters log2n=%u r=%u p=%u "
		    "above the caps (128*r*2^log2n at most 1 GiB, p at most "
		    "%d)", k.log2_n, k.r, k.p, KEY_KDF_P_MAX);
	if ((r = crypt_random(id, sizeof(id))) < 0 ||
	    (r = crypt_random(salt, sizeof(salt))) < 0)
		return r;
	if ((r = crypt_scrypt(pass, len, salt, 32, k.log2_n, k.r, k.p,
	    kek)) < 0)
		return log_err(r, "scrypt parameters log2n=%u r=%u p=%u "
		    "refused", k.log2_n, k.r, k.p);
	h = keyobj_header(out, id, store_id, &k, salt);
	if ((r = crypt_random(out + h, 12)) < 0)
		goto out;
	r = crypt_seal(kek, out + h, out, h, kr->master, 32, out + h + 12);
	log_hex(id, 16, hex);
	snprintf(name, 64, "keys/%s", hex);
out:
	crypt_wipe(kek, sizeof(kek));
	return r;
}

int
keyobj_params(const uint8_t *buf, size_t len,
    const uint8_t store_id[STORE_ID_LEN], struct store_kdf *k)
{
	if (len != KEYOBJ_LEN || memcmp(buf, keyobj_magic, 8) != 0 ||
	    buf[8] != 1)
		return -EBADMSG;
	if (memcmp(buf + 25, store_id, 16) != 0)
		return -EBADMSG;
	k->log2_n = buf[41];
	k->r = (uint32_t)le_get(buf + 42, 4);
	k->p = (uint32_t)le_get(buf + 46, 4);
	return key_kdf_ok(k) ? 0 : -EFBIG;
}

int
keyobj_open(const uint8_t *buf, size_t len,
    const uint8_t store_id[STORE_ID_LEN], const char *pass, size_t plen,
    struct keyring *kr)
{
	struct store_kdf k;
	uint8_t kek[32];
	int r;

	if ((r = keyobj_params(buf, len, store_id, &k)) < 0)
		return r;
	if ((r = crypt_scrypt(pass, plen, buf + 50, 32, k.log2_n, k.r, k.p,
	    kek)) < 0)
		return -EBADMSG;
	r = crypt_open(kek, buf + 82, buf, 82, buf + 94, 48, kr->master);
	crypt_wipe(kek, sizeof(kek));
	if (r == -EBADMSG)
		return -EACCES;
	if (r < 0)
		return r;
	return key_derive(kr);
}

/* ---- ingest keys (amber-store(5), INGEST KEYS) ---- */

/*
 * Ingest-key records (registrations, revocations) end with an HMAC under
 * the master's registry key over everything before it.
 */
static int
record_finish(const struct keyring *kr, struct wb *w, uint8_t **out,
    size_t *len)
{
	uint8_t mac[32];
	int r;

	crypt_hmac(kr->reg_key, w->p, w->len, NULL, 0, mac);
	if ((r = wb_bytes(w, mac, 32)) < 0)
		return r;
	*out = w->p;
	*len = w->len;
	w->p = NULL;
	return 0;
}

static int
record_mac_ok(const struct keyring *kr, const uint8_t *buf, size_t len)
{
	uint8_t mac[32];

	crypt_hmac(kr->reg_key, buf, len - 32, NULL, 0, mac);
	return CRYPTO_memcmp(mac, buf + len - 32, 32) == 0;
}

/* The head of a record: ${magic}, the key's id, the store's id. */
static int
record_begin(struct wb *w, const char *magic, const uint8_t id[16],
    const uint8_t store_id[STORE_ID_LEN])
{
	int r;

	if ((r = wb_bytes(w, magic, 8)) < 0 ||
	    (r = wb_bytes(w, id, 16)) < 0 ||
	    (r = wb_bytes(w, store_id, STORE_ID_LEN)) < 0)
		return r;
	return 0;
}

/*
 * Check record ${buf}: its magic is ${magic}, its MAC is good and it is
 * of store ${store_id}.  Copies the key's id into ${id} and leaves ${rd}
 * at what follows the head, the MAC left out.  Returns 0, -EACCES
 * without the master key, or -EBADMSG.
 */
static int
record_open(const struct keyring *kr, const char *magic,
    const uint8_t store_id[STORE_ID_LEN], const uint8_t *buf, size_t len,
    struct rd *rd, uint8_t id[16])
{
	const uint8_t *p;

	*rd = rd_init(buf, len);
	if (!kr->has_master)
		return -EACCES;
	if (len < 32 + 8 || rd_bytes(rd, 8, &p) < 0 ||
	    memcmp(p, magic, 8) != 0)
		return -EBADMSG;
	if (!record_mac_ok(kr, buf, len))
		return -EBADMSG;
	rd->len -= 32;
	if (rd_copy(rd, id, 16) < 0 || rd_bytes(rd, 16, &p) < 0 ||
	    memcmp(p, store_id, 16) != 0)
		return -EBADMSG;
	return 0;
}

int
reg_make(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const struct reg_entry *e, uint8_t **out, size_t *len)
{
	struct wb w = { 0 };
	int r;

	if (!kr->has_master)
		return -EACCES;
	if ((r = record_begin(&w, REG_MAGIC, e->id, store_id)) < 0 ||
	    (r = wb_u64(&w, e->created)) < 0 ||
	    (r = wb_bytes(&w, e->sign_pub, 32)) < 0 ||
	    (r = wb_str16(&w, e->label, strlen(e->label))) < 0)
		goto out;
	r = record_finish(kr, &w, out, len);
out:
	wb_fini(&w);
	return r;
}

int
reg_open(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const uint8_t *buf, size_t len, struct reg_entry *e)
{
	struct rd r;
	const uint8_t *p;
	size_t n;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = record_open(kr, REG_MAGIC, store_id, buf, len, &r,
	    e->id)) < 0)
		return rc;
	if (rd_i64(&r, &e->created) < 0 ||
	    rd_copy(&r, e->sign_pub, 32) < 0 ||
	    rd_str16(&r, sizeof(e->label) - 1, &p, &n) < 0 || r.len != 0)
		return -EBADMSG;
	memcpy(e->label, p, n);
	e->label[n] = '\0';
	return 0;
}

int
rev_make(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const struct reg_entry *e, uint8_t **out, size_t *len)
{
	struct wb w = { 0 };
	int r;

	if (!kr->has_master)
		return -EACCES;
	/* Readers read no more (REV_OBJ_MAX): refuse what they would not. */
	if (e->n_accepted > (REV_OBJ_MAX - 8 - 16 - STORE_ID_LEN - 8 - 4 -
	    32) / 32)
		return log_err(-EFBIG, "a revocation record would list %zu "
		    "snapshots, more than it may hold", e->n_accepted);
	if ((r = record_begin(&w, REV_MAGIC, e->id, store_id)) < 0 ||
	    (r = wb_u64(&w, e->revoked_at)) < 0 ||
	    (r = wb_u32(&w, e->n_accepted)) < 0)
		goto out;
	for (size_t i = 0; i < e->n_accepted; i++)
		if ((r = wb_bytes(&w, e->accepted[i], 32)) < 0)
			goto out;
	r = record_finish(kr, &w, out, len);
out:
	wb_fini(&w);
	return r;
}

int
rev_open(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const uint8_t *buf, size_t len, struct registry *reg)
{
	struct reg_entry *e = NULL;
	uint8_t id[16];
	struct rd r;
	int64_t at;
	uint32_t n;
	int rc;

	if ((rc = record_open(kr, REV_MAGIC, store_id, buf, len, &r,
	    id)) < 0)
		return rc;
	if (rd_i64(&r, &at) < 0 || rd_u32(&r, &n) < 0 ||
	    (uint64_t)n * 32 != r.len)
		return -EBADMSG;
	for (size_t i = 0; i < reg->n; i++)
		if (memcmp(reg->v[i].id, id, 16) == 0)
			e = &reg->v[i];
	if (e == NULL)
		return -ENOENT;
	/*
	 * Several records of one key (two owners revoking it at once): the
	 * earliest holds, whatever order the listing gives, and of two at
	 * the same second the one accepting fewer snapshots.
	 */
	if (e->is_revoked && (at > e->revoked_at || (at == e->revoked_at &&
	    n >= e->n_accepted)))
		return 0;
	free(e->accepted);
	if ((e->accepted = malloc(n ? (size_t)n * 32 : 1)) == NULL)
		return -ENOMEM;
	memcpy(e->accepted, r.p, (size_t)n * 32);
	e->n_accepted = n;
	e->is_revoked = 1;
	e->revoked_at = at;
	return 0;
}

void
registry_fini(struct registry *reg)
{
	for (size_t i = 0; i < reg->n; i++)
		free(reg->v[i].accepted);
	free(reg->v);
	reg->v = NULL;
	reg->n = 0;
}

const struct reg_entry *
registry_find(const struct registry *reg, const uint8_t id[16])
{
	for (size_t i = 0; i < reg->n; i++)
		if (memcmp(reg->v[i].id, id, 16) == 0)
			return &reg->v[i];
	return NULL;
}

/*
 * The key file is text, one "name hex" field per line, so that it can be
 * pasted into a secret store.  The secret line holds, in order: the chunk
 * id key, the chunk key key, the pack table key, the gear key, the store's
 * X25519 public key and the key's Ed25519 signing seed.
 */
#define SECRET_LEN (6 * 32)

int
ingest_keyfile_make(const struct keyring *kr,
    const uint8_t store_id[STORE_ID_LEN], const struct reg_entry *e,
    const uint8_t seed[32], char **out)
{
	uint8_t secret[SECRET_LEN];
	char sid[33];
	char kid[33];
	char hex[2 * SECRET_LEN + 1];
	char *text;
	size_t cap = 256 + sizeof(hex);

	if (!kr->has_master)
		return -EACCES;
	memcpy(secret, kr->id_key, 32);
	memcpy(secret + 32, kr->chunk_key, 32);
	memcpy(secret + 64, kr->toc_key, 32);
	memcpy(secret + 96, kr->gear_key, 32);
	memcpy(secret + 128, kr->box_pub, 32);
	memcpy(secret + 160, seed, 32);
	log_hex(store_id, 16, sid);
	log_hex(e->id, 16, kid);
	log_hex(secret, SECRET_LEN, hex);
	crypt_wipe(secret, sizeof(secret));
	if ((text = malloc(cap)) == NULL) {
		crypt_wipe(hex, sizeof(hex));
		return -ENOMEM;
	}
	snprintf(text, cap, "%s\nstore %s\nid %s\nsecret %s\n",
	    INGEST_KEYFILE_HEAD, sid, kid, hex);
	crypt_wipe(hex, sizeof(hex));
	*out = text;
	return 0;
}

static int
unhex_field(const char **p, const char *end, const char *name, uint8_t *out,
    size_t n)
{
	size_t nl = strlen(name);

	if ((size_t)(end - *p) < nl + 1 + 2 * n + 1 ||
	    memcmp(*p, name, nl) != 0 || (*p)[nl] != ' ')
		return -EBADMSG;
	*p += nl + 1;
	if (hex_decode(*p, out, n) < 0)
		return -EBADMSG;
	*p += 2 * n;
	if (**p != '\n')
		return -EBADMSG;
	(*p)++;
	return 0;
}

int
ingest_keyfile_parse(const char *text, size_t len,
    uint8_t store_id[STORE_ID_LEN], struct keyring *kr)
{
	const char *p = text;
	const char *end = text + len;
	size_t hl = strlen(INGEST_KEYFILE_HEAD);
	uint8_t secret[SECRET_LEN];
	int r;

	memset(kr, 0, sizeof(*kr));
	if (len < hl + 1 || memcmp(p, INGEST_KEYFILE_HEAD, hl) != 0 ||
	    p[hl] != '\n')
		return -EBADMSG;
	p += hl + 1;
	if ((r = unhex_field(&p, end, "store", store_id, 16)) < 0 ||
	    (r = unhex_field(&p, end, "id", kr->key_id, 16)) < 0 ||
	    (r = unhex_field(&p, end, "secret", secret, SECRET_LEN)) < 0)
		goto out;
	r = -EBADMSG;
	for (; p < end; p++)
		if (*p != '\n' && *p != ' ' && *p != '\r' && *p != '\t')
			goto out;
	memcpy(kr->id_key, secret, 32);
	memcpy(kr->chunk_key, secret + 32, 32);
	memcpy(kr->toc_key, secret + 64, 32);
	memcpy(kr->gear_key, secret + 96, 32);
	memcpy(kr->box_pub, secret + 128, 32);
	memcpy(kr->sign_seed, secret + 160, 32);
	if ((r = crypt_hkdf(kr->gear_key, 32, NULL, 0, "amber v1 gear table",
	    kr->gear_seed, sizeof(kr->gear_seed))) < 0 ||
	    (r = crypt_ed25519_pub(kr->sign_seed, kr->sign_pub)) < 0)
		goto out;
	kr->is_ingest = 1;
	r = 0;
out:
	crypt_wipe(secret, sizeof(secret));
	if (r < 0)
		crypt_wipe(kr, sizeof(*kr));
	return r;
}
