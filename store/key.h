/*
 * key.h: the store's keys (amber-store(5), KEYS) and the two objects that
 * must be read before the key is known: "config" (plaintext, MACed) and
 * "keys/<id>" (the master secret wrapped under a passphrase).  Every
 * subkey is derived from the 32-byte master secret by HKDF-SHA-256.
 */
#ifndef KEY_H
#define KEY_H

#include <stddef.h>
#include <stdint.h>

#include "crypt.h"
#include "store.h"

#define KEY_FORMAT_VERSION 1

struct keyring {
	int has_master;
	uint8_t master[32];
	uint8_t id_key[32];	/* chunk id = HMAC(id_key, SHA-256(data)) */
	uint8_t chunk_key[32];	/* chunk key = HMAC(chunk_key, SHA-256(data)) */
	uint8_t toc_key[32];	/* pack tables */
	uint8_t config_key[32];	/* the config's MAC */
	uint8_t gear_seed[2048];	/* the chunker's gear table */
	uint8_t box_priv[32];	/* X25519: manifests are sealed to box_pub */
	uint8_t box_pub[32];
	uint8_t sign_seed[32];	/* Ed25519: the master's manifest signatures */
	uint8_t sign_pub[32];
};

struct config {
	uint32_t version;
	uint8_t store_id[STORE_ID_LEN];
	uint32_t flags;		/* CONFIG_IMMUTABLE */
	uint32_t retention_days;
	uint32_t chunk_min;
	uint32_t chunk_avg;
	uint32_t chunk_max;
	uint8_t box_pub[32];
	uint8_t sign_pub[32];
	uint8_t mac[32];
};

#define CONFIG_IMMUTABLE 0x1
#define CONFIG_LEN (8 + 4 + 16 + 4 * 6 + 32 + 32 + 32)
#define KEYOBJ_LEN (8 + 1 + 16 + 16 + 1 + 4 + 4 + 32 + 12 + 32 + 16)

/* Derive every subkey from kr->master (which must be set). */
int key_derive(struct keyring *kr);

/* Encode ${c} (MAC included) into ${out}; decode and check the layout. */
void config_encode(const struct config *c, uint8_t out[CONFIG_LEN]);
int config_decode(const uint8_t *buf, size_t len, struct config *c);
/* Compute (set) or check (-EBADMSG) the config's MAC with ${kr}. */
void config_mac(struct config *c, const struct keyring *kr);
int config_check(const struct config *c, const struct keyring *kr);

/*
 * keyobj_make(kr, store_id, pass, len, kdf, name, out):
 * Wrap kr->master under ${pass}; ${out} gets the object, ${name} its key
 * ("keys/<hex id>").
 */
int keyobj_make(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const char *pass, size_t len, const struct store_kdf *kdf,
    char name[64], uint8_t out[KEYOBJ_LEN]);

/*
 * keyobj_open(buf, len, store_id, pass, plen, kr):
 * Unwrap: -EACCES if ${pass} is not this object's passphrase, -EBADMSG if
 * the object is malformed or belongs to another store.
 */
int keyobj_open(const uint8_t *buf, size_t len,
    const uint8_t store_id[STORE_ID_LEN], const char *pass, size_t plen,
    struct keyring *kr);

void keyring_wipe(struct keyring *kr);

#endif
