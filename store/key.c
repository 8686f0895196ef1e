/*
 * key.c: key derivation, the config object and passphrase key objects
 * (amber-store(5), CONFIG and KEYS).  The master secret never leaves
 * memory unwrapped; a key object binds its header (type, ids, KDF
 * parameters) as associated data, so a parameter changed on disk fails
 * authentication instead of weakening the KDF silently.
 */
#include <errno.h>
#include <string.h>

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
		{ "amber v1 gear", offsetof(struct keyring, gear_seed), 2048 },
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
	if ((r = crypt_x25519_pub(kr->box_priv, kr->box_pub)) < 0)
		return r;
	if ((r = crypt_ed25519_pub(kr->sign_seed, kr->sign_pub)) < 0)
		return r;
	kr->has_master = 1;
	return 0;
}

void
keyring_wipe(struct keyring *kr)
{
	crypt_wipe(kr, sizeof(*kr));
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
	le_put(p + 4, c->retention_days, 4);
	le_put(p + 8, c->chunk_min, 4);
	le_put(p + 12, c->chunk_avg, 4);
	le_put(p + 16, c->chunk_max, 4);
	le_put(p + 20, 0, 4);	/* reserved */
	p += 24;
	memcpy(p, c->box_pub, 32);
	memcpy(p + 32, c->sign_pub, 32);
	memcpy(p + 64, c->mac, 32);
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
	if (len != CONFIG_LEN || rd_bytes(&r, 8, &magic) < 0 ||
	    memcmp(magic, config_magic, 8) != 0)
		return -EBADMSG;
	if (rd_u32(&r, &c->version) < 0 || c->version != KEY_FORMAT_VERSION)
		return -EBADMSG;
	if (rd_copy(&r, c->store_id, 16) < 0 || rd_u32(&r, &c->flags) < 0 ||
	    rd_u32(&r, &c->retention_days) < 0 ||
	    rd_u32(&r, &c->chunk_min) < 0 || rd_u32(&r, &c->chunk_avg) < 0 ||
	    rd_u32(&r, &c->chunk_max) < 0 || rd_u32(&r, &reserved) < 0 ||
	    rd_copy(&r, c->box_pub, 32) < 0 || rd_copy(&r, c->sign_pub, 32) < 0 ||
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
	crypt_hmac(kr->config_key, body, CONFIG_LEN - 32, NULL, 0, mac);
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

static void
kdf_defaults(const struct store_kdf *in, struct store_kdf *out)
{
	out->log2_n = in && in->log2_n ? in->log2_n : 17;
	out->r = in && in->r ? in->r : 8;
	out->p = in && in->p ? in->p : 1;
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

	kdf_defaults(kdf, &k);
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
keyobj_open(const uint8_t *buf, size_t len,
    const uint8_t store_id[STORE_ID_LEN], const char *pass, size_t plen,
    struct keyring *kr)
{
	struct store_kdf k;
	uint8_t kek[32];
	int r;

	if (len != KEYOBJ_LEN || memcmp(buf, keyobj_magic, 8) != 0 ||
	    buf[8] != 1)
		return -EBADMSG;
	if (memcmp(buf + 25, store_id, 16) != 0)
		return -EBADMSG;
	k.log2_n = buf[41];
	k.r = (uint32_t)le_get(buf + 42, 4);
	k.p = (uint32_t)le_get(buf + 46, 4);
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
