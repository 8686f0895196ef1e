/*
 * crypt.h: every cryptographic primitive amber uses, over OpenSSL 3 EVP:
 * SHA-256, HMAC-SHA-256, HKDF-SHA-256, scrypt, AES-256-GCM, X25519 and
 * Ed25519.  Algorithms are fetched once per process and cipher contexts
 * kept per thread, since OpenSSL's implicit fetches take global locks.
 * All functions are thread-safe.  Errors: -EBADMSG when authentication
 * fails, -EIO when OpenSSL itself fails, -ENOMEM.
 */
#ifndef CRYPT_H
#define CRYPT_H

#include <stddef.h>
#include <stdint.h>

#define CRYPT_KEY_LEN 32
#define CRYPT_NONCE_LEN 12
#define CRYPT_TAG_LEN 16
#define CRYPT_HASH_LEN 32
#define CRYPT_SIG_LEN 64

/* Fill ${buf} with ${len} random bytes from OpenSSL's CSPRNG. */
int crypt_random(void *buf, size_t len);

void crypt_sha256(const void *buf, size_t len, uint8_t out[CRYPT_HASH_LEN]);

/*
 * SHA-256 of data given in pieces: crypt_sha256_new() (NULL if out of
 * memory), crypt_sha256_add() for each piece, crypt_sha256_end(), which
 * writes the hash and frees the context.
 */
struct crypt_sha256;
struct crypt_sha256 *crypt_sha256_new(void);
int crypt_sha256_add(struct crypt_sha256 *h, const void *buf, size_t len);
int crypt_sha256_end(struct crypt_sha256 *h, uint8_t out[CRYPT_HASH_LEN]);
/* The hash of the pieces given so far, without ending: more may follow. */
int crypt_sha256_mid(const struct crypt_sha256 *h,
    uint8_t out[CRYPT_HASH_LEN]);

/* HMAC-SHA-256 of the concatenation of ${a} and ${b} (${b} may be NULL). */
void crypt_hmac(const uint8_t key[CRYPT_KEY_LEN], const void *a, size_t alen,
    const void *b, size_t blen, uint8_t out[CRYPT_HASH_LEN]);

/* HKDF-SHA-256 (RFC 5869) of ${ikm} with ${salt} (may be empty). */
int crypt_hkdf(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
    size_t saltlen, const char *info, uint8_t *out, size_t outlen);

/* scrypt with N = 2^${log2_n}; -EINVAL for parameters OpenSSL refuses. */
int crypt_scrypt(const char *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, unsigned log2_n, uint32_t r, uint32_t p,
    uint8_t out[CRYPT_KEY_LEN]);

/*
 * crypt_seal(key, nonce, aad, aadlen, in, len, out):
 * AES-256-GCM: write ${len} bytes of ciphertext then the 16-byte tag to
 * ${out} (which may equal ${in}).  The caller guarantees the nonce never
 * repeats under ${key}.
 */
int crypt_seal(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *out);

/*
 * crypt_open_split(key, nonce, aad, aadlen, in, len, first, pick, ctx):
 * As crypt_open(), for plaintexts whose first byte says where the rest
 * belongs: the first byte goes to *${first}, then ${pick}(ctx, *first,
 * rest_len) names the buffer for the remaining rest_len bytes (NULL:
 * stop, -ERANGE).  ${in} may not overlap the buffer picked unless exactly
 * (in + 1).  On an authentication failure (-EBADMSG) the buffer picked
 * is wiped.  So a reader can decrypt straight into its final buffer.
 */
int crypt_open_split(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *first,
    uint8_t *(*pick)(void *ctx, uint8_t first, size_t rest_len), void *ctx);

/*
 * crypt_open_parts(key, nonce, aad, aadlen, first, rest, rest_len, tag):
 * As crypt_open_split(), for a ciphertext read into separate buffers and
 * decrypted where it lies: its first byte at *${first}, the ${rest_len}
 * bytes after it at ${rest}, then its tag.  On an authentication failure
 * (-EBADMSG) both are wiped.
 */
int crypt_open_parts(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    uint8_t *first, uint8_t *rest, size_t rest_len,
    const uint8_t tag[CRYPT_TAG_LEN]);

/*
 * crypt_open(key, nonce, aad, aadlen, in, len, out):
 * Authenticate and decrypt ${len} bytes (ciphertext then tag; len >= 16)
 * into ${out} (len - 16 bytes).  Returns -EBADMSG if the tag does not
 * verify; ${out} is then wiped.
 */
int crypt_open(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *out);

/* X25519: public key of a private one, and the shared secret. */
int crypt_x25519_pub(const uint8_t priv[32], uint8_t pub[32]);
int crypt_x25519(const uint8_t priv[32], const uint8_t peer[32],
    uint8_t shared[32]);

/* Ed25519 with a 32-byte seed as private key. */
int crypt_ed25519_pub(const uint8_t seed[32], uint8_t pub[32]);
int crypt_ed25519_sign(const uint8_t seed[32], const uint8_t *msg,
    size_t len, uint8_t sig[CRYPT_SIG_LEN]);
/* Returns -EBADMSG if ${sig} is not a valid signature of ${msg}. */
int crypt_ed25519_verify(const uint8_t pub[32], const uint8_t *msg,
    size_t len, const uint8_t sig[CRYPT_SIG_LEN]);

/* Wipe ${len} bytes at ${p} (not optimised away). */
void crypt_wipe(void *p, size_t len);

/* 1 if the ${len} bytes at ${a} and ${b} are equal, in constant time. */
int crypt_equal(const void *a, const void *b, size_t len);

#endif
