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
#define KEY_FORMAT_VERSION 3
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
	uint8_t snapc_key[32];	/* this machine's index: opened manifests */
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
/*
 * Apply a revocation record to the matching entry of ${reg} (-ENOENT if
 * none); of several records of one key, the earliest counts.
 */
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
	/* S3 Object Lock retention as stored: days in formats 1 and 2,
	 * seconds from format 3; see config_retention_secs() */
	uint32_t retention;
	uint32_t chunk_min;
	uint32_t chunk_avg;
	uint32_t chunk_max;
	uint8_t box_pub[32];
	uint8_t sign_pub[32];
	/* format 2: the id of the key object made with the store, which
	 * a machine that has never unlocked it tries first */
	uint8_t init_key[16];
	uint8_t mac[32];
};

/* The retention of ${c} in seconds, whatever its format. */
uint64_t config_retention_secs(const struct config *c);

#define CONFIG_IMMUTABLE 0x1
#define CONFIG_LEN_V1 (8 + 4 + 16 + 4 * 6 + 32 + 32 + 32)
#define CONFIG_LEN (CONFIG_LEN_V1 + 16)	/* format 2, the longest */

/* The length of a config of format ${version}. */
size_t config_len(uint32_t version);
#define KEYOBJ_LEN (8 + 1 + 16 + 16 + 1 + 4 + 4 + 32 + 12 + 32 + 16)

/* Derive every subkey from kr->master (which must be set). */
int key_derive(struct keyring *kr);

/* Encode ${c} (MAC included) into ${out}, config_len(c->version) bytes;
 * decode and check the layout. */
void config_encode(const struct config *c, uint8_t out[CONFIG_LEN]);
int config_decode(const uint8_t *buf, size_t len, struct config *c);
/* Compute (set) or check (-EBADMSG) the config's MAC with ${kr}. */
void config_mac(struct config *c, const struct keyring *kr);
int config_check(const struct config *c, const struct keyring *kr);

/*
 * The caps on a key object's scrypt parameters (amber-store(5), KEYS):
 * its memory, 128 * r * N bytes, at most KEY_KDF_MEM_MAX, and p at most
 * KEY_KDF_P_MAX (and r at most 64, crypt_scrypt()'s limit).  Anyone who
 * may add objects can add a key object, and an unlock without a
 * remembered key may run the KDF of each, so these bound what one
 * planted object costs: 1 GiB, and p runs of a 1 GiB scrypt (about 5 s
 * of CPU each, measured on the machine this was written on).
 */
#define KEY_KDF_MEM_MAX ((uint64_t)1 << 30)
#define KEY_KDF_P_MAX 4

/*
 * The largest objects read before the key is known, and of the ingest-key
 * records (amber-store(5), SECURITY CONSIDERATIONS, "Sizes of objects
 * read"): a reader reads at most this many bytes of each, and counts a
 * larger one as damage.  A revocation record lists the snapshots its key
 * made (32 bytes each), so it may be large: rev_make() refuses to write
 * one above REV_OBJ_MAX (over 500,000 snapshots).
 */
#define CONFIG_OBJ_MAX 4096u
#define KEY_OBJ_MAX 4096u	/* keys/: key objects and registrations */
#define REV_OBJ_MAX (16u << 20)

/*
 * key_kdf_ok(kdf): 1 if ${kdf} (no zero field) is within the caps above
 * and those of crypt_scrypt(), else 0.  key_kdf_cost(kdf): the work of
 * one run, as N * r * p (the memory, 128 * r * N, is in proportion).
 */
int key_kdf_ok(const struct store_kdf *kdf);
/* ${in} (may be NULL) with each zero field replaced by its default. */
void key_kdf_defaults(const struct store_kdf *in, struct store_kdf *out);
uint64_t key_kdf_cost(const struct store_kdf *kdf);

/*
 * keyobj_make(kr, store_id, pass, len, kdf, name, out):
 * Wrap kr->master under ${pass}; ${out} gets the object, ${name} its key
 * ("keys/<hex id>").  Returns -EINVAL if ${kdf} is above the caps.
 */
int keyobj_make(const struct keyring *kr, const uint8_t store_id[STORE_ID_LEN],
    const char *pass, size_t len, const struct store_kdf *kdf,
    char name[64], uint8_t out[KEYOBJ_LEN]);

/*
 * keyobj_params(buf, len, store_id, kdf): parse the clear header of a key
 * object of the store ${store_id} into *${kdf}, without authenticating
 * it (nothing can, before the KDF runs).  Returns -EBADMSG if it is not
 * a well-formed key object of that store, -EFBIG if its KDF parameters
 * are above the caps (it is then never run).
 */
int keyobj_params(const uint8_t *buf, size_t len,
    const uint8_t store_id[STORE_ID_LEN], struct store_kdf *kdf);

/*
 * keyobj_open(buf, len, store_id, pass, plen, kr):
 * Unwrap: -EACCES if ${pass} is not this object's passphrase, -EBADMSG if
 * the object is malformed or belongs to another store, -EFBIG if its KDF
 * parameters are above the caps (the KDF is not run).
 */
int keyobj_open(const uint8_t *buf, size_t len,
    const uint8_t store_id[STORE_ID_LEN], const char *pass, size_t plen,
    struct keyring *kr);

void keyring_wipe(struct keyring *kr);

#endif
