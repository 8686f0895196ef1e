/*
 * crypt.c: OpenSSL 3 EVP behind the small interface of crypt.h.  The
 * SHA-256 digest, the AES-256-GCM cipher and the KDFs are fetched once
 * (pthread_once) and cipher/digest contexts kept per thread (a pthread
 * key whose destructor frees them), so no call on the data path takes
 * OpenSSL's global fetch lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypt.h"

struct tls {
	EVP_CIPHER_CTX *cipher;
	EVP_MD_CTX *md;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
static EVP_CIPHER *aes_gcm;
static EVP_MD *sha256;
static EVP_KDF *hkdf;
static EVP_KDF *scrypt;

static void
tls_free(void *p)
{
	struct tls *t = p;

	EVP_CIPHER_CTX_free(t->cipher);
	EVP_MD_CTX_free(t->md);
	OPENSSL_free(t);
}

static void
init_once(void)
{
	aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	scrypt = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	pthread_key_create(&tls_key, tls_free);
}

static struct tls *
tls_get(void)
{
	struct tls *t;

	pthread_once(&once, init_once);
	if ((t = pthread_getspecific(tls_key)) != NULL)
		return t;
	if ((t = OPENSSL_zalloc(sizeof(*t))) == NULL)
		return NULL;
	t->cipher = EVP_CIPHER_CTX_new();
	t->md = EVP_MD_CTX_new();
	if (t->cipher == NULL || t->md == NULL ||
	    pthread_setspecific(tls_key, t) != 0) {
		tls_free(t);
		return NULL;
	}
	return t;
}

int
crypt_random(void *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return -EIO;
	return 0;
}

void
crypt_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

void
crypt_sha256(const void *buf, size_t len, uint8_t out[CRYPT_HASH_LEN])
{
	struct tls *t = tls_get();

	if (t == NULL || sha256 == NULL ||
	    EVP_DigestInit_ex(t->md, sha256, NULL) != 1 ||
	    EVP_DigestUpdate(t->md, buf, len) != 1 ||
	    EVP_DigestFinal_ex(t->md, out, NULL) != 1)
		EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL);
}

struct crypt_sha256 {
	EVP_MD_CTX *md;
};

struct crypt_sha256 *
crypt_sha256_new(void)
{
	struct crypt_sha256 *h;

	pthread_once(&once, init_once);
	if (sha256 == NULL || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->md, sha256, NULL) != 1) {
		EVP_MD_CTX_free(h->md);
		free(h);
		return NULL;
	}
	return h;
}

int
crypt_sha256_add(struct crypt_sha256 *h, const void *buf, size_t len)
{
	return EVP_DigestUpdate(h->md, buf, len) == 1 ? 0 : -EIO;
}

int
crypt_sha256_end(struct crypt_sha256 *h, uint8_t out[CRYPT_HASH_LEN])
{
	int r = EVP_DigestFinal_ex(h->md, out, NULL) == 1 ? 0 : -EIO;

	EVP_MD_CTX_free(h->md);
	free(h);
	return r;
}

int
crypt_sha256_mid(const struct crypt_sha256 *h, uint8_t out[CRYPT_HASH_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int r = -EIO;

	if (c == NULL)
		return -ENOMEM;
	if (EVP_MD_CTX_copy_ex(c, h->md) == 1 &&
	    EVP_DigestFinal_ex(c, out, NULL) == 1)
		r = 0;
	EVP_MD_CTX_free(c);
	return r;
}

/*
 * HMAC built on the per-thread digest context (RFC 2104), so that no
 * EVP_MAC is fetched per call.
 */
void
crypt_hmac(const uint8_t key[CRYPT_KEY_LEN], const void *a, size_t alen,
    const void *b, size_t blen, uint8_t out[CRYPT_HASH_LEN])
{
	uint8_t pad[64];
	uint8_t inner[CRYPT_HASH_LEN];
	struct tls *t = tls_get();
	EVP_MD_CTX *md = t ? t->md : NULL;
	const EVP_MD *alg = sha256 ? sha256 : EVP_sha256();
	EVP_MD_CTX *own = NULL;

	if (md == NULL)
		md = own = EVP_MD_CTX_new();
	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < CRYPT_KEY_LEN; i++)
		pad[i] ^= key[i];
	EVP_DigestInit_ex(md, alg, NULL);
	EVP_DigestUpdate(md, pad, sizeof(pad));
	EVP_DigestUpdate(md, a, alen);
	if (b != NULL)
		EVP_DigestUpdate(md, b, blen);
	EVP_DigestFinal_ex(md, inner, NULL);
	memset(pad, 0x5c, sizeof(pad));
	for (size_t i = 0; i < CRYPT_KEY_LEN; i++)
		pad[i] ^= key[i];
	EVP_DigestInit_ex(md, alg, NULL);
	EVP_DigestUpdate(md, pad, sizeof(pad));
	EVP_DigestUpdate(md, inner, sizeof(inner));
	EVP_DigestFinal_ex(md, out, NULL);
	OPENSSL_cleanse(pad, sizeof(pad));
	EVP_MD_CTX_free(own);
}

int
crypt_hkdf(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
    size_t saltlen, const char *info, uint8_t *out, size_t outlen)
{
	OSSL_PARAM params[5];
	OSSL_PARAM *p = params;
	EVP_KDF_CTX *kctx;
	int r = -EIO;

	pthread_once(&once, init_once);
	if (hkdf == NULL || (kctx = EVP_KDF_CTX_new(hkdf)) == NULL)
		return -EIO;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikmlen);
	if (saltlen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) == 1)
		r = 0;
	EVP_KDF_CTX_free(kctx);
	return r;
}

int
crypt_scrypt(const char *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, unsigned log2_n, uint32_t r, uint32_t p,
    uint8_t out[CRYPT_KEY_LEN])
{
	OSSL_PARAM params[6];
	EVP_KDF_CTX *kctx;
	uint64_t n;
	/* OpenSSL's default limit (32 MiB) is below N=2^17, r=8. */
	uint64_t maxmem = (uint64_t)1 << 33;
	int rc = -EINVAL;

	if (log2_n < 1 || log2_n > 30 || r == 0 || p == 0 || r > 64 ||
	    p > 64)
		return -EINVAL;
	n = (uint64_t)1 << log2_n;
	pthread_once(&once, init_once);
	if (scrypt == NULL || (kctx = EVP_KDF_CTX_new(scrypt)) == NULL)
		return -EIO;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)pass, passlen);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, saltlen);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	params[5] = OSSL_PARAM_construct_end();
	if (EVP_KDF_CTX_set_params(kctx, params) == 1) {
		OSSL_PARAM mm[2];

		mm[0] = OSSL_PARAM_construct_uint64(
		    OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
		mm[1] = OSSL_PARAM_construct_end();
		if (EVP_KDF_CTX_set_params(kctx, mm) == 1 &&
		    EVP_KDF_derive(kctx, out, CRYPT_KEY_LEN, NULL) == 1)
			rc = 0;
	}
	EVP_KDF_CTX_free(kctx);
	return rc;
}

int
crypt_seal(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *out)
{
	struct tls *t = tls_get();
	EVP_CIPHER_CTX *c;
	int n;

	if (t == NULL || aes_gcm == NULL)
		return -ENOMEM;
	if (len > INT32_MAX || aadlen > INT32_MAX)
		return -EINVAL;
	c = t->cipher;
	if (EVP_EncryptInit_ex2(c, aes_gcm, key, nonce, NULL) != 1)
		return -EIO;
	if (aadlen > 0 && EVP_EncryptUpdate(c, NULL, &n, aad, (int)aadlen) != 1)
		return -EIO;
	if (len > 0 && EVP_EncryptUpdate(c, out, &n, in, (int)len) != 1)
		return -EIO;
	if (EVP_EncryptFinal_ex(c, out + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CRYPT_TAG_LEN,
	    out + len) != 1)
		return -EIO;
	return 0;
}

/*
 * Opening takes three steps on the calling thread's context: open_begin()
 * sets the key, nonce and additional data, open_update() decrypts a run of
 * ciphertext (any number of runs, in order), open_end() checks the tag.
 * Decrypted bytes are not to be trusted, nor kept, until open_end()
 * returns 0.
 */
static int
open_begin(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    EVP_CIPHER_CTX **out)
{
	struct tls *t = tls_get();
	int n;

	if (t == NULL || aes_gcm == NULL)
		return -ENOMEM;
	if (aadlen > INT32_MAX)
		return -EBADMSG;
	if (EVP_DecryptInit_ex2(t->cipher, aes_gcm, key, nonce, NULL) != 1 ||
	    (aadlen > 0 && EVP_DecryptUpdate(t->cipher, NULL, &n, aad,
	    (int)aadlen) != 1))
		return -EIO;
	*out = t->cipher;
	return 0;
}

static int
open_update(EVP_CIPHER_CTX *c, const uint8_t *in, uint8_t *out, size_t len)
{
	int n;

	if (len > INT32_MAX)
		return -EBADMSG;
	if (len > 0 && EVP_DecryptUpdate(c, out, &n, in, (int)len) != 1)
		return -EIO;
	return 0;
}

static int
open_end(EVP_CIPHER_CTX *c, const uint8_t tag[CRYPT_TAG_LEN])
{
	uint8_t t[CRYPT_TAG_LEN];
	uint8_t last[16];
	int n;

	memcpy(t, tag, sizeof(t));
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CRYPT_TAG_LEN, t) != 1)
		return -EIO;
	return EVP_DecryptFinal_ex(c, last, &n) == 1 ? 0 : -EBADMSG;
}

int
crypt_open(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t tag[CRYPT_TAG_LEN];
	EVP_CIPHER_CTX *c;
	size_t clen;
	int r;

	if (len < CRYPT_TAG_LEN)
		return -EBADMSG;
	clen = len - CRYPT_TAG_LEN;
	/* Taken first: ${out} may be ${in}. */
	memcpy(tag, in + clen, CRYPT_TAG_LEN);
	if ((r = open_begin(key, nonce, aad, aadlen, &c)) < 0 ||
	    (r = open_update(c, in, out, clen)) < 0)
		return r;
	if ((r = open_end(c, tag)) == -EBADMSG)
		OPENSSL_cleanse(out, clen);
	return r;
}

int
crypt_open_split(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *first,
    uint8_t *(*pick)(void *ctx, uint8_t first, size_t rest_len), void *ctx)
{
	uint8_t tag[CRYPT_TAG_LEN];
	EVP_CIPHER_CTX *c;
	uint8_t *rest;
	size_t clen;
	int r;

	if (len < CRYPT_TAG_LEN + 1)
		return -EBADMSG;
	clen = len - CRYPT_TAG_LEN;
	memcpy(tag, in + clen, CRYPT_TAG_LEN);
	if ((r = open_begin(key, nonce, aad, aadlen, &c)) < 0 ||
	    (r = open_update(c, in, first, 1)) < 0)
		return r;
	/* Unauthenticated until the tag is checked: only used to choose. */
	if ((rest = pick(ctx, *first, clen - 1)) == NULL)
		return -ERANGE;
	if ((r = open_update(c, in + 1, rest, clen - 1)) < 0)
		return r;
	if ((r = open_end(c, tag)) == -EBADMSG) {
		OPENSSL_cleanse(rest, clen - 1);
		*first = 0;
	}
	return r;
}

int
crypt_open_parts(const uint8_t key[CRYPT_KEY_LEN],
    const uint8_t nonce[CRYPT_NONCE_LEN], const uint8_t *aad, size_t aadlen,
    uint8_t *first, uint8_t *rest, size_t rest_len,
    const uint8_t tag[CRYPT_TAG_LEN])
{
	EVP_CIPHER_CTX *c;
	int r;

	if ((r = open_begin(key, nonce, aad, aadlen, &c)) < 0 ||
	    (r = open_update(c, first, first, 1)) < 0 ||
	    (r = open_update(c, rest, rest, rest_len)) < 0)
		return r;
	if ((r = open_end(c, tag)) == -EBADMSG) {
		OPENSSL_cleanse(rest, rest_len);
		*first = 0;
	}
	return r;
}

static int
raw_pub(int type, const uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(type, NULL, priv, 32);
	size_t len = 32;
	int r = -EIO;

	if (k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 &&
	    len == 32)
		r = 0;
	EVP_PKEY_free(k);
	return r;
}

int
crypt_x25519_pub(const uint8_t priv[32], uint8_t pub[32])
{
	return raw_pub(EVP_PKEY_X25519, priv, pub);
}

int
crypt_x25519(const uint8_t priv[32], const uint8_t peer[32],
    uint8_t shared[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
	    priv, 32);
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL,
	    peer, 32);
	EVP_PKEY_CTX *c = NULL;
	size_t len = 32;
	int r = -EIO;

	if (k == NULL || pk == NULL)
		goto out;
	if ((c = EVP_PKEY_CTX_new(k, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_derive_init(c) != 1 || EVP_PKEY_derive_set_peer(c,
	    pk) != 1 || EVP_PKEY_derive(c, shared, &len) != 1 || len != 32) {
		r = -EBADMSG;
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(k);
	EVP_PKEY_free(pk);
	return r;
}

int
crypt_ed25519_pub(const uint8_t seed[32], uint8_t pub[32])
{
	return raw_pub(EVP_PKEY_ED25519, seed, pub);
}

int
crypt_ed25519_sign(const uint8_t seed[32], const uint8_t *msg, size_t len,
    uint8_t sig[CRYPT_SIG_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    seed, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t slen = CRYPT_SIG_LEN;
	int r = -EIO;

	if (k != NULL && md != NULL &&
	    EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, k, NULL) == 1 &&
	    EVP_DigestSign(md, sig, &slen, msg, len) == 1 &&
	    slen == CRYPT_SIG_LEN)
		r = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r;
}

int
crypt_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
    const uint8_t sig[CRYPT_SIG_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int r = -EIO;

	if (k != NULL && md != NULL &&
	    EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, k, NULL) == 1)
		r = EVP_DigestVerify(md, sig, CRYPT_SIG_LEN, msg, len) == 1 ?
		    0 : -EBADMSG;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r;
}

int
crypt_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
