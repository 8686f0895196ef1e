/*
 * test_crypt.c: crypt.h against published known-answer vectors
 * (AES-256-GCM: McGrew & Viega, "The Galois/Counter Mode of Operation",
 * test cases 13-16; SHA-256: FIPS 180-2 examples; HMAC-SHA-256: RFC 4231;
 * HKDF-SHA-256: RFC 5869 test cases 1 and 3; X25519: RFC 7748 section
 * 6.1; Ed25519: RFC 8032 section 7.1 tests 1 and 2), then seal/open round
 * trips and one flipped bit in each of ciphertext, tag, nonce and AAD.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "crypt.h"

/* Decode the hex string ${s} into ${out}; returns the byte count. */
static size_t
unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		unsigned v = 0;

		for (int i = 0; i < 2; i++) {
			char c = s[i];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				abort();
		}
		out[n++] = (uint8_t)v;
	}
	return n;
}

static int
eq_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t w[256];

	if (strlen(want) != 2 * len || len > sizeof(w))
		return 0;
	unhex(want, w);
	return memcmp(got, w, len) == 0;
}

struct gcm_vec {
	const char *name;
	const char *key;
	const char *iv;
	const char *pt;
	const char *aad;
	const char *ct;
	const char *tag;
};

#define K15 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define P15 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define C15 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" \
	"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"

static const struct gcm_vec gcm[] = {
	{ "GCM test case 13",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000", "", "", "",
	    "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "GCM test case 14",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000", "00000000000000000000000000000000", "",
	    "cea7403d4d606b6e074ec5d3baf39d18",
	    "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "GCM test case 15", K15, "cafebabefacedbaddecaf888",
	    P15 "1aafd255", "", C15 "898015ad",
	    "b094dac5d93471bdec1a502270e3cc6c" },
	{ "GCM test case 16", K15, "cafebabefacedbaddecaf888", P15,
	    "feedfacedeadbeeffeedfacedeadbeefabaddad2", C15,
	    "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static void
test_gcm_vectors(void)
{
	for (size_t i = 0; i < sizeof(gcm) / sizeof(gcm[0]); i++) {
		const struct gcm_vec *v = &gcm[i];
		uint8_t key[32], iv[12], pt[64], aad[32], ct[64], tag[16];
		uint8_t out[80], back[64];
		size_t kl = unhex(v->key, key);
		size_t il = unhex(v->iv, iv);
		size_t pl = unhex(v->pt, pt);
		size_t al = unhex(v->aad, aad);
		size_t cl = unhex(v->ct, ct);

		unhex(v->tag, tag);
		CHECK(kl == 32 && il == 12 && pl == cl);
		CHECK(crypt_seal(key, iv, al ? aad : NULL, al, pt, pl,
		    out) == 0);
		if (memcmp(out, ct, cl) != 0 || memcmp(out + cl, tag, 16) != 0)
			fprintf(stderr, "%s: seal mismatch\n", v->name);
		CHECK(memcmp(out, ct, cl) == 0);
		CHECK(memcmp(out + cl, tag, 16) == 0);
		memset(back, 0xee, sizeof(back));
		CHECK(crypt_open(key, iv, al ? aad : NULL, al, out, cl + 16,
		    back) == 0);
		CHECK(memcmp(back, pt, pl) == 0);
	}
}

static void
test_sha256(void)
{
	uint8_t h[32];
	uint8_t *m;

	crypt_sha256("", 0, h);
	CHECK(eq_hex(h, 32, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855"));
	crypt_sha256("abc", 3, h);
	CHECK(eq_hex(h, 32, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad"));
	crypt_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, h);
	CHECK(eq_hex(h, 32, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1"));
	if ((m = malloc(1000000)) == NULL)
		abort();
	memset(m, 'a', 1000000);
	crypt_sha256(m, 1000000, h);
	CHECK(eq_hex(h, 32, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0"));
	/* The same million in pieces of 1, 999 and the rest, and none. */
	{
		struct crypt_sha256 *p = crypt_sha256_new();

		CHECK(p != NULL);
		if (p != NULL) {
			memset(h, 0, sizeof(h));
			CHECK(crypt_sha256_add(p, m, 1) == 0);
			CHECK(crypt_sha256_add(p, m + 1, 999) == 0);
			CHECK(crypt_sha256_add(p, m, 0) == 0);
			CHECK(crypt_sha256_add(p, m + 1000, 999000) == 0);
			CHECK(crypt_sha256_end(p, h) == 0);
			CHECK(eq_hex(h, 32, "cdc76e5c9914fb9281a1c7e284d73e67"
			    "f1809a48a497200e046d39ccc7112cd0"));
		}
		p = crypt_sha256_new();
		CHECK(p != NULL && crypt_sha256_end(p, h) == 0);
		CHECK(eq_hex(h, 32, "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855"));
	}
	/* A hash midway ("ab"), then the whole ("abc"), from one context. */
	{
		struct crypt_sha256 *p = crypt_sha256_new();
		uint8_t ab[32];

		CHECK(p != NULL);
		if (p != NULL) {
			crypt_sha256("ab", 2, ab);
			CHECK(crypt_sha256_add(p, "ab", 2) == 0);
			CHECK(crypt_sha256_mid(p, h) == 0);
			CHECK(memcmp(h, ab, 32) == 0);
			CHECK(crypt_sha256_add(p, "c", 1) == 0);
			CHECK(crypt_sha256_end(p, h) == 0);
			CHECK(eq_hex(h, 32, "ba7816bf8f01cfea414140de5dae2223"
			    "b00361a396177a9cb410ff61f20015ad"));
		}
	}
	free(m);
}

/*
 * crypt_hmac takes a 32-byte key.  HMAC pads a shorter key with zeros to
 * the block size, so RFC 4231's keys of up to 32 bytes are used zero-
 * padded to 32 and must give the published MACs (test cases 1-5; 6 and 7
 * use 131-byte keys).
 */
static void
test_hmac(void)
{
	static const char *data2 = "what do ya want for nothing?";
	uint8_t key[32];
	uint8_t data[50];
	uint8_t mac[32];

	memset(key, 0, sizeof(key));
	memset(key, 0x0b, 20);
	crypt_hmac(key, "Hi There", 8, NULL, 0, mac);
	CHECK(eq_hex(mac, 32, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7"));

	memset(key, 0, sizeof(key));
	memcpy(key, "Jefe", 4);
	crypt_hmac(key, data2, strlen(data2), NULL, 0, mac);
	CHECK(eq_hex(mac, 32, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843"));
	/* The two-part form MACs the concatenation. */
	crypt_hmac(key, data2, 11, data2 + 11, strlen(data2) - 11, mac);
	CHECK(eq_hex(mac, 32, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843"));
	crypt_hmac(key, data2, 0, data2, strlen(data2), mac);
	CHECK(eq_hex(mac, 32, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843"));

	memset(key, 0, sizeof(key));
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	crypt_hmac(key, data, 50, NULL, 0, mac);
	CHECK(eq_hex(mac, 32, "773ea91e36800e46854db8ebd09181a7"
	    "2959098b3ef8c122d9635514ced565fe"));

	memset(key, 0, sizeof(key));
	for (int i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	crypt_hmac(key, data, 50, NULL, 0, mac);
	CHECK(eq_hex(mac, 32, "82558a389a443c0ea4cc819899f2083a"
	    "85f0faa3e578f8077a2e3ff46729665b"));

	memset(key, 0, sizeof(key));
	memset(key, 0x0c, 20);
	crypt_hmac(key, "Test With Truncation", 20, NULL, 0, mac);
	CHECK(eq_hex(mac, 16, "a3b6167473100ee06e0c796c2955552b"));
}

static void
test_hkdf(void)
{
	uint8_t ikm[22];
	uint8_t salt[13];
	char info[11];
	uint8_t okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (char)(0xf0 + i);
	info[10] = '\0';
	/* RFC 5869 A.1 */
	CHECK(crypt_hkdf(ikm, 22, salt, 13, info, okm, 42) == 0);
	CHECK(eq_hex(okm, 42, "3cb25f25faacd57a90434f64d0362f2a"
	    "2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
	/* RFC 5869 A.3: no salt, no info (as key_derive calls it). */
	CHECK(crypt_hkdf(ikm, 22, NULL, 0, "", okm, 42) == 0);
	CHECK(eq_hex(okm, 42, "8da4e775a563c18f715f802a063c5a31"
	    "b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"));
}

static void
test_x25519(void)
{
	uint8_t a[32], b[32], pub[32], s1[32], s2[32];

	unhex("77076d0a7318a57d3c16c17251b26645"
	    "df4c2f87ebc0992ab177fba51db92c2a",
	    a);
	unhex("5dab087e624a8a4b79e17f8b83800ee6"
	    "6f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b);
	CHECK(crypt_x25519_pub(a, pub) == 0);
	CHECK(eq_hex(pub, 32, "8520f0098930a754748b7ddcb43ef75a"
	    "0dbf3a0d26381af4eba4a98eaa9b4e6a"));
	CHECK(crypt_x25519(b, pub, s1) == 0);
	CHECK(crypt_x25519_pub(b, pub) == 0);
	CHECK(eq_hex(pub, 32, "de9edb7d7b7dc1b4d35b61c2ece43537"
	    "3f8343c85b78674dadfc7e146f882b4f"));
	CHECK(crypt_x25519(a, pub, s2) == 0);
	CHECK(eq_hex(s1, 32, "4a5d9d5ba4ce2de1728e3bf480350f25"
	    "e07e21c947d19e3376f09b3c1e161742"));
	CHECK(memcmp(s1, s2, 32) == 0);
	/* A small-order peer point (zero) gives no shared secret. */
	memset(pub, 0, sizeof(pub));
	CHECK(crypt_x25519(a, pub, s1) < 0);
}

static void
test_ed25519(void)
{
	uint8_t seed[32], pub[32], sig[64];
	uint8_t msg[1] = { 0x72 };

	unhex("9d61b19deffd5a60ba844af492ec2cc4"
	    "4449c5697b326919703bac031cae7f60",
	    seed);
	CHECK(crypt_ed25519_pub(seed, pub) == 0);
	CHECK(eq_hex(pub, 32, "d75a980182b10ab7d54bfed3c964073a"
	    "0ee172f3daa62325af021a68f707511a"));
	CHECK(crypt_ed25519_sign(seed, (const uint8_t *)"", 0, sig) == 0);
	CHECK(eq_hex(sig, 64, "e5564300c360ac729086e2cc806e828a"
	    "84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
	    "6bd25bf5f0595bbe24655141438e7a100b"));
	CHECK(crypt_ed25519_verify(pub, (const uint8_t *)"", 0, sig) == 0);
	sig[10] ^= 1;
	CHECK(crypt_ed25519_verify(pub, (const uint8_t *)"", 0, sig) ==
	    -EBADMSG);

	unhex("4ccd089b28ff96da9db6c346ec114e0f"
	    "5b8a319f35aba624da8cf6ed4fb8a6fb",
	    seed);
	CHECK(crypt_ed25519_pub(seed, pub) == 0);
	CHECK(eq_hex(pub, 32, "3d4017c3e843895a92b70aa74d1b7ebc"
	    "9c982ccf2ec4968cc0cd55f12af4660c"));
	CHECK(crypt_ed25519_sign(seed, msg, 1, sig) == 0);
	CHECK(eq_hex(sig, 64, "92a009a9f0d4cab8720e820b5f642540"
	    "a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d"
	    "8c387b2eaeb4302aeeb00d291612bb0c00"));
	CHECK(crypt_ed25519_verify(pub, msg, 1, sig) == 0);
	msg[0] ^= 0x80;
	CHECK(crypt_ed25519_verify(pub, msg, 1, sig) == -EBADMSG);
}

/* Round trips of random sizes, then each kind of tampering. */
static void
test_seal_open(void)
{
	uint8_t key[32], nonce[12], aad[40];
	uint8_t pt[1000], ct[1016], back[1000], copy[1016];
	size_t sizes[] = { 0, 1, 15, 16, 17, 255, 1000 };

	CHECK(crypt_random(key, sizeof(key)) == 0);
	CHECK(crypt_random(nonce, sizeof(nonce)) == 0);
	CHECK(crypt_random(aad, sizeof(aad)) == 0);
	/* No zero byte, so that a wiped output never equals it. */
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i % 251 + 1);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		size_t clen = n + CRYPT_TAG_LEN;

		CHECK(crypt_seal(key, nonce, aad, sizeof(aad), pt, n, ct) == 0);
		CHECK(n == 0 || memcmp(ct, pt, n) != 0);
		CHECK(crypt_open(key, nonce, aad, sizeof(aad), ct, clen,
		    back) == 0);
		CHECK(memcmp(back, pt, n) == 0);

		/* Every byte of ciphertext and tag is authenticated. */
		for (size_t i = 0; i < clen; i += (n > 64 ? 37 : 1)) {
			memcpy(copy, ct, clen);
			copy[i] ^= 0x01;
			memset(back, 0x55, sizeof(back));
			CHECK(crypt_open(key, nonce, aad, sizeof(aad), copy,
			    clen, back) == -EBADMSG);
			/* Nothing of the plaintext is left behind. */
			CHECK(n == 0 || memcmp(back, pt, n) != 0);
		}
		nonce[11] ^= 0x80;
		CHECK(crypt_open(key, nonce, aad, sizeof(aad), ct, clen,
		    back) == -EBADMSG);
		nonce[11] ^= 0x80;
		aad[0] ^= 0x01;
		CHECK(crypt_open(key, nonce, aad, sizeof(aad), ct, clen,
		    back) == -EBADMSG);
		aad[0] ^= 0x01;
		CHECK(crypt_open(key, nonce, aad, sizeof(aad) - 1, ct, clen,
		    back) == -EBADMSG);
		CHECK(crypt_open(key, nonce, NULL, 0, ct, clen, back) ==
		    -EBADMSG);
		key[31] ^= 0x01;
		CHECK(crypt_open(key, nonce, aad, sizeof(aad), ct, clen,
		    back) == -EBADMSG);
		key[31] ^= 0x01;
		/* Truncated: a shorter input cannot authenticate. */
		if (clen > CRYPT_TAG_LEN)
			CHECK(crypt_open(key, nonce, aad, sizeof(aad), ct,
			    clen - 1, back) == -EBADMSG);
		CHECK(crypt_open(key, nonce, aad, sizeof(aad), ct,
		    CRYPT_TAG_LEN - 1, back) == -EBADMSG);
	}
	/* In place (out == in), as blob_seal uses it. */
	memcpy(copy, pt, 100);
	CHECK(crypt_seal(key, nonce, NULL, 0, copy, 100, copy) == 0);
	CHECK(crypt_open(key, nonce, NULL, 0, copy, 116, back) == 0);
	CHECK(memcmp(back, pt, 100) == 0);
}

/* crypt_open_split: the first byte picks the buffer for the rest. */
struct split_ctx {
	uint8_t *a;		/* for first byte 'a' */
	uint8_t *b;		/* for anything else */
	size_t cap;
	size_t seen_len;
	int n_picks;
};

static uint8_t *
split_pick(void *ctx, uint8_t first, size_t rest_len)
{
	struct split_ctx *c = ctx;

	c->n_picks++;
	c->seen_len = rest_len;
	if (rest_len > c->cap)
		return NULL;
	return first == 'a' ? c->a : c->b;
}

static void
test_open_split(void)
{
	uint8_t key[32], nonce[12], aad[8] = "aad-8by";
	uint8_t pt[300], ct[316], a[300], b[300], copy[316];
	struct split_ctx c = { a, b, sizeof(a), 0, 0 };
	uint8_t first = 0;

	CHECK(crypt_random(key, sizeof(key)) == 0);
	CHECK(crypt_random(nonce, sizeof(nonce)) == 0);
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i % 251 + 1);
	for (int which = 0; which < 2; which++) {
		pt[0] = which ? 'x' : 'a';
		CHECK(crypt_seal(key, nonce, aad, sizeof(aad), pt, 300, ct) ==
		    0);
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		c.n_picks = 0;
		CHECK(crypt_open_split(key, nonce, aad, sizeof(aad), ct, 316,
		    &first, split_pick, &c) == 0);
		CHECK(first == pt[0] && c.n_picks == 1 && c.seen_len == 299);
		CHECK(memcmp(which ? b : a, pt + 1, 299) == 0);
		/* The other buffer is untouched. */
		CHECK((which ? a : b)[0] == 0 && (which ? a : b)[298] == 0);
		/* Tampering anywhere fails and wipes what was written. */
		for (size_t i = 0; i < 316; i += 41) {
			memcpy(copy, ct, 316);
			copy[i] ^= 0x04;
			memset(a, 0x55, sizeof(a));
			memset(b, 0x55, sizeof(b));
			CHECK(crypt_open_split(key, nonce, aad, sizeof(aad),
			    copy, 316, &first, split_pick, &c) == -EBADMSG);
			CHECK(memcmp(a, pt + 1, 299) != 0);
			CHECK(memcmp(b, pt + 1, 299) != 0);
		}
	}
	/* In place at in + 1, as blob_open uses it for compressed data. */
	pt[0] = 'x';
	CHECK(crypt_seal(key, nonce, NULL, 0, pt, 300, copy) == 0);
	c.b = copy + 1;
	CHECK(crypt_open_split(key, nonce, NULL, 0, copy, 316, &first,
	    split_pick, &c) == 0);
	CHECK(first == 'x' && memcmp(copy + 1, pt + 1, 299) == 0);
	/* A pick that refuses: -ERANGE; too short an input: -EBADMSG. */
	c.cap = 10;
	CHECK(crypt_open_split(key, nonce, aad, sizeof(aad), ct, 316, &first,
	    split_pick, &c) == -ERANGE);
	CHECK(crypt_open_split(key, nonce, aad, sizeof(aad), ct, 16, &first,
	    split_pick, &c) == -EBADMSG);
}

static void
test_scrypt(void)
{
	uint8_t a[32], b[32], c[32];
	static const uint8_t salt[32] = { 1, 2, 3 };

	CHECK(crypt_scrypt("pass", 4, salt, 32, 10, 8, 1, a) == 0);
	CHECK(crypt_scrypt("pass", 4, salt, 32, 10, 8, 1, b) == 0);
	CHECK(memcmp(a, b, 32) == 0);
	CHECK(crypt_scrypt("pasS", 4, salt, 32, 10, 8, 1, c) == 0);
	CHECK(memcmp(a, c, 32) != 0);
	CHECK(crypt_scrypt("pass", 4, salt, 32, 11, 8, 1, c) == 0);
	CHECK(memcmp(a, c, 32) != 0);
	/* RFC 7914 section 12, second vector, shortened to 32 bytes. */
	CHECK(crypt_scrypt("password", 8, (const uint8_t *)"NaCl", 4, 10, 8,
	    16, a) == 0);
	CHECK(eq_hex(a, 32, "fdbabe1c9d3472007856e7190d01e9fe"
	    "7c6ad7cbc8237830e77376634b373162"));
	CHECK(crypt_scrypt("pass", 4, salt, 32, 0, 8, 1, c) == -EINVAL);
	CHECK(crypt_scrypt("pass", 4, salt, 32, 31, 8, 1, c) == -EINVAL);
	CHECK(crypt_scrypt("pass", 4, salt, 32, 10, 0, 1, c) == -EINVAL);
	CHECK(crypt_scrypt("pass", 4, salt, 32, 10, 8, 0, c) == -EINVAL);
}

int
main(void)
{
	test_gcm_vectors();
	test_sha256();
	test_hmac();
	test_hkdf();
	test_x25519();
	test_ed25519();
	test_seal_open();
	test_open_split();
	test_scrypt();
	return check_done("test_crypt");
}
