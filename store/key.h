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

/* The format a new store is made with, and the oldest still read
 * (amber-store(5), SECURITY CONSIDERATIONS, on what changed). */
#define KEY_FORMAT_VERSION 2
#define KEY_FORMAT_OLDEST 1

struct keyring {
	int has_master;		/* a reader: everything below is set */
	int is_ingest;		/* an ingest key: see amber-store(5) */
	uint8_t key_id[16];	/* the writer id in manifests; zero: master */
	uint8_t master[32];
	uint8_t reg_key[32];	/* MACs of ingest-key records (master only) */
	uint8_t gear_key[32];	/* gear_seed = HKDF(gear_key) */
	uint8_t id_key[32];	/* chunk id = HMAC(id_key, SHA-256(data)) */
	uint8_t chunk_key[32];	/* chunk key = HMAC(chunk_key, SHA-256(data)) */
	uint8_t toc_key[32];	/* pack tables */
	uint8_t config_key[32];	/* the config's MAC */
	uint8_t gear_seed[2048];	/* the chunker's gear table */
	uint8_t box_priv[32];	/* X25519: manifests are sealed to box_pub */
	uint8_t box_pub[32];
	uint8_t sign_seed[32];	/* Ed25519: this key's manifest signatures */
	uint8_t sign_pub[32];
	uint8_t master_sign_pub[32];	/* the master's, for readers */
};

/* An ingest key registered in the store (keys/<id>, revoked/<id>). */
struct reg_entry {
	uint8_t id[16];
	uint8_t sign_pub[32];
	int64_t created;
	char label[128];
	int is_revoked;
	int64_t revoked_at;
	uint8_t (*accepted)[32];	/* snapshots made before revocation */
	size_t n_accepted;
};

struct registry {
	struct reg_entry *v;
	size_t n;
};

#define REG_MAGIC "AMBRING1"
#define REV_MAGIC "AMBRREV1"
#define INGEST_KEYFILE_HEAD "amber ingest key v1"

/*
 * reg_make(kr, store_id, e, out, len), reg_open(kr, store_id, buf, len, e):
 * An ingest key's registration record, MACed with the master's registry
 * key.  reg_open returns -EBADMSG if it is forged, damaged or foreign.
 */
int reg_make(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const struct reg_entry *e, uint8_t **out, size_t *len);
int reg_open(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const uint8_t *buf, size_t len, struct reg_entry *e);

/* The revocation record of ${e} (its accepted list included). */
int rev_make(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const struct reg_entry *e, uint8_t **out, size_t *len);
/* Apply a revocation record to the matching entry of ${reg}. */
int rev_open(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const uint8_t *buf, size_t len, struct registry *reg);

void registry_fini(struct registry *reg);
const struct reg_entry *registry_find(const struct registry *reg,
    const uint8_t id[16]);

/*
 * ingest_keyfile_make(kr, store_id, e, seed, out): the text of an ingest
 * key file for the registered entry ${e} with signing seed ${seed}.
 * ingest_keyfile_parse(text, len, store_id, kr): parse one into an ingest
 * keyring; -EBADMSG if malformed.  *${store_id} gets the store it is for.
 */
int ingest_keyfile_make(const struct keyring *kr,
    const uint8_t store_id[STORE_ID_LEN], const struct reg_entry *e,
    const uint8_t seed[32], char **out);
int ingest_keyfile_parse(const char *text, size_t len,
    uint8_t store_id[STORE_ID_LEN], struct keyring *kr);

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
