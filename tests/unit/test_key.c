/*
 * test_key.c: keys and the objects read before the key is known (key.h).
 * Subkeys, public keys, the gear table and a chunk's id and key for a
 * fixed master were computed from amber-store(5) alone, with a second
 * implementation (Python's cryptography), so they pin the format.  Then
 * round trips and tampering of the config, passphrase key objects,
 * ingest-key registrations, revocations and key files.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "key.h"
#include "rd.h"
#include "storei.h"

static int
eq_hex(const uint8_t *got, size_t len, const char *want)
{
	char hex[2 * 64 + 1];

	if (len > 64 || strlen(want) != 2 * len)
		return 0;
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", got[i]);
	return strcmp(hex, want) == 0;
}

static void
master_keyring(struct keyring *kr, uint8_t byte)
{
	memset(kr, 0, sizeof(*kr));
	memset(kr->master, byte, sizeof(kr->master));
	if (key_derive(kr) != 0)
		abort();
}

static void
test_derive(void)
{
	struct keyring kr;
	struct keyring again;
	struct store *s = calloc(1, sizeof(*s));
	struct store_ref ref;

	if (s == NULL)
		abort();
	master_keyring(&kr, 0x4d);
	CHECK(kr.has_master == 1 && kr.is_ingest == 0);
	CHECK(eq_hex(kr.id_key, 32, "4178710540ce9d5f9069e0e0f6791a11"
	    "1569d8ef8a5f058ddbfc4dbd495df5d8"));
	CHECK(eq_hex(kr.chunk_key, 32, "c5c64646b06f22e0eacba89f1bb9104d"
	    "178cad8ef2964b6145ca8ceff69823ed"));
	CHECK(eq_hex(kr.toc_key, 32, "1e0bc379ec1c20bb2a339fd67237dfff"
	    "789c673438b3737f8e78be78b3bf5edc"));
	CHECK(eq_hex(kr.config_key, 32, "86c0cc917835d9fd9120701291032"
	    "8bf433ab0fd93c84e589b9149c490aa693e"));
	CHECK(eq_hex(kr.gear_key, 32, "2103a061622cfcdffc502ed7c1d90fbe"
	    "f97c449b043dd80ddc5b2f64a9fe5a3b"));
	CHECK(eq_hex(kr.reg_key, 32, "a9163e29af6de16a403face05308197a"
	    "a1d5c26e32e1ee3e2d3ad33361047bb2"));
	CHECK(eq_hex(kr.box_priv, 32, "1f60dc340f884936787f7e8f3f72277b"
	    "0dd2832d1060ff27ba9bc1344584f16c"));
	CHECK(eq_hex(kr.sign_seed, 32, "e3026915d3f27c02961d8a38b2644968"
	    "094e42f260fc2f2f5eb98cd9438c6408"));
	CHECK(eq_hex(kr.gear_seed, 16, "79d347546b274af2578bd206bfea304a"));
	CHECK(eq_hex(kr.gear_seed + 2032, 16,
	    "d2a68cdc82dc5aef11bf56427b347808"));
	CHECK(eq_hex(kr.box_pub, 32, "496ca0b3fcfd1bb5aacc3d4ff2985044"
	    "1b23183fe3d5c9d1463379205f743815"));
	CHECK(eq_hex(kr.sign_pub, 32, "627140ab59d2440dd6534257268d47a1"
	    "c3a65b70973d7afa0f0a544e65690618"));
	CHECK(memcmp(kr.master_sign_pub, kr.sign_pub, 32) == 0);
	/* A chunk's id and convergent key. */
	s->kr = kr;
	store_ref_of(s, (const uint8_t *)"abc", 3, &ref);
	CHECK(eq_hex(ref.id, 32, "f337d0a46729a54b36a4c36bccede645"
	    "cbf61f46f7aef47d6236c9beade67d4e"));
	CHECK(eq_hex(ref.key, 32, "96d48186b73c3ee1816a509e6123804f"
	    "2e04d1c7e5645aa40bdbe1d8cefa3193"));
	/* Deterministic; another master gives other keys. */
	master_keyring(&again, 0x4d);
	CHECK(memcmp(&again, &kr, sizeof(kr)) == 0);
	master_keyring(&again, 0x4e);
	CHECK(memcmp(again.id_key, kr.id_key, 32) != 0 &&
	    memcmp(again.box_pub, kr.box_pub, 32) != 0);
	keyring_wipe(&again);
	CHECK(again.has_master == 0 && again.id_key[0] == 0);
	crypt_wipe(s, sizeof(*s));
	free(s);
}

static void
make_config(struct config *c, const struct keyring *kr)
{
	memset(c, 0, sizeof(*c));
	c->version = KEY_FORMAT_VERSION;
	memset(c->store_id, 0x51, STORE_ID_LEN);
	c->flags = CONFIG_IMMUTABLE;
	c->retention = 30 * 86400;
	c->chunk_min = 256u << 10;
	c->chunk_avg = 1u << 20;
	c->chunk_max = 4u << 20;
	memcpy(c->box_pub, kr->box_pub, 32);
	memcpy(c->sign_pub, kr->master_sign_pub, 32);
	config_mac(c, kr);
}

static void
test_config(void)
{
	struct keyring kr;
	struct keyring other;
	struct config c;
	struct config d;
	uint8_t buf[CONFIG_LEN + 1];
	uint8_t copy[CONFIG_LEN];

	master_keyring(&kr, 0x4d);
	master_keyring(&other, 0x4e);
	make_config(&c, &kr);
	config_encode(&c, buf);
	CHECK(memcmp(buf, "AMBRCFG1", 8) == 0);
	CHECK(config_decode(buf, CONFIG_LEN, &d) == 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	CHECK(config_check(&d, &kr) == 0);
	CHECK(config_check(&d, &other) == -EBADMSG);
	/* Every byte is covered by the MAC (or by the layout checks). */
	for (size_t i = 0; i < CONFIG_LEN; i++) {
		int r;

		memcpy(copy, buf, CONFIG_LEN);
		copy[i] ^= 0x01;
		r = config_decode(copy, CONFIG_LEN, &d);
		if (r == 0)
			r = config_check(&d, &kr);
		/* The reserved word is neither read nor MACed as read. */
		if (i >= 48 && i < 52)
			continue;
		CHECK(r == -EBADMSG);
		if (r != -EBADMSG)
			fprintf(stderr, "config byte %zu: %d\n", i, r);
	}
	CHECK(config_decode(buf, CONFIG_LEN - 1, &d) == -EBADMSG);
	CHECK(config_decode(buf, CONFIG_LEN + 1, &d) == -EBADMSG);
	/* Format 1: 16 bytes shorter (no init key), and read as such. */
	c.version = 1;
	config_mac(&c, &kr);
	config_encode(&c, buf);
	CHECK(config_len(1) == CONFIG_LEN_V1 && config_len(2) == CONFIG_LEN);
	CHECK(config_decode(buf, CONFIG_LEN_V1, &d) == 0 && d.version == 1);
	CHECK(config_check(&d, &kr) == 0);
	CHECK(config_decode(buf, CONFIG_LEN, &d) == -EBADMSG);
	/* Formats 1 and 2 hold days, format 3 seconds. */
	c.retention = 30;
	CHECK(config_retention_secs(&c) == 30 * 86400);
	c.version = 2;
	CHECK(config_retention_secs(&c) == 30 * 86400);
	c.version = 3;
	CHECK(config_retention_secs(&c) == 30);
	c.retention = 30 * 86400;
	c.version = KEY_FORMAT_VERSION;
	config_mac(&c, &kr);
	config_encode(&c, buf);
	CHECK(config_decode(buf, CONFIG_LEN_V1, &d) == -EBADMSG);
	/* Chunk sizes out of bounds are refused even when MACed. */
	c.chunk_avg = 3u << 19;
	config_mac(&c, &kr);
	config_encode(&c, buf);
	CHECK(config_decode(buf, CONFIG_LEN, &d) == -EBADMSG);
	c.chunk_avg = 1u << 20;
	c.chunk_max = STORE_CHUNK_MAX + 1;
	config_encode(&c, buf);
	CHECK(config_decode(buf, CONFIG_LEN, &d) == -EBADMSG);
	c.chunk_max = 4u << 20;
	c.chunk_min = 1023;
	config_encode(&c, buf);
	CHECK(config_decode(buf, CONFIG_LEN, &d) == -EBADMSG);
	c.chunk_min = 2u << 20;
	config_encode(&c, buf);
	CHECK(config_decode(buf, CONFIG_LEN, &d) == -EBADMSG);
	/* A config naming another store's public keys fails its check
	 * even with a valid MAC. */
	make_config(&c, &kr);
	memcpy(c.box_pub, other.box_pub, 32);
	config_mac(&c, &kr);
	CHECK(config_check(&c, &kr) == -EBADMSG);
	keyring_wipe(&kr);
	keyring_wipe(&other);
}

/*
 * The caps on a key object's KDF (amber-store(5), KEYS): memory
 * 128 * r * N at most 1 GiB, p at most 4.  An object above them is
 * refused before its KDF runs: had it run, a changed parameter (bound as
 * associated data) would give -EACCES after seconds, not -EFBIG at once.
 */
static void
test_kdf_caps(void)
{
	static const struct {
		struct store_kdf k;
		int is_ok;
	} v[] = {
		{ { 17, 8, 1 }, 1 },	/* the default: 128 MiB */
		{ { 20, 8, 1 }, 1 },	/* 1 GiB: the cap */
		{ { 23, 1, 1 }, 1 },
		{ { 14, 64, 4 }, 1 },
		{ { 13, 128, 1 }, 0 },	/* 128 MiB, but r above 64 */
		{ { 20, 9, 1 }, 0 },	/* 1.125 GiB */
		{ { 21, 8, 1 }, 0 },
		{ { 24, 1, 1 }, 0 },
		{ { 20, 64, 1 }, 0 },
		{ { 30, 64, 64 }, 0 },	/* the old limits */
		{ { 10, 8, 4 }, 1 },
		{ { 10, 8, 5 }, 0 },
		{ { 10, 8, 64 }, 0 },
		{ { 0, 8, 1 }, 0 },
		{ { 31, 1, 1 }, 0 },
		{ { 10, 0, 1 }, 0 },
		{ { 10, 8, 0 }, 0 },
		{ { 1, 0xffffffffu, 1 }, 0 },
	};
	struct keyring kr;
	struct keyring got;
	struct store_kdf k;
	struct store_kdf cheap = { 10, 8, 1 };
	struct store_kdf big = { 20, 9, 1 };
	struct reg_entry e;
	uint8_t sid[STORE_ID_LEN];
	uint8_t obj[KEYOBJ_LEN];
	uint8_t copy[KEYOBJ_LEN];
	uint8_t *rec = NULL;
	size_t len;
	char name[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		CHECK(key_kdf_ok(&v[i].k) == v[i].is_ok);
	CHECK(key_kdf_cost(&cheap) == 8192);
	CHECK(key_kdf_cost(&v[1].k) == ((uint64_t)8 << 20));
	master_keyring(&kr, 0x4d);
	memset(sid, 0x51, sizeof(sid));
	memset(&got, 0, sizeof(got));
	/* No key object above the caps is made... */
	CHECK(keyobj_make(&kr, sid, "pass", 4, &big, name, obj) == -EINVAL);
	CHECK(keyobj_make(&kr, sid, "pass", 4, &cheap, name, obj) == 0);
	CHECK(keyobj_params(obj, KEYOBJ_LEN, sid, &k) == 0 &&
	    k.log2_n == 10 && k.r == 8 && k.p == 1);
	/* ...and none is run: each of these would take seconds or more. */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i].is_ok)
			continue;
		memcpy(copy, obj, KEYOBJ_LEN);
		copy[41] = v[i].k.log2_n;
		le_put(copy + 42, v[i].k.r, 4);
		le_put(copy + 46, v[i].k.p, 4);
		CHECK(keyobj_params(copy, KEYOBJ_LEN, sid, &k) == -EFBIG);
		CHECK(k.log2_n == v[i].k.log2_n && k.r == v[i].k.r &&
		    k.p == v[i].k.p);
		CHECK(keyobj_open(copy, KEYOBJ_LEN, sid, "pass", 4, &got) ==
		    -EFBIG);
	}
	CHECK(got.has_master == 0);
	/* A revocation record readers would not read is not written. */
	memset(&e, 0, sizeof(e));
	e.n_accepted = (REV_OBJ_MAX - 84) / 32 + 1;
	CHECK(rev_make(&kr, sid, &e, &rec, &len) == -EFBIG && rec == NULL);
	e.n_accepted = 0;
	CHECK(rev_make(&kr, sid, &e, &rec, &len) == 0 && len <= REV_OBJ_MAX);
	free(rec);
	keyring_wipe(&kr);
}

static void
test_keyobj(void)
{
	struct keyring kr;
	struct keyring got;
	struct store_kdf kdf = { 10, 8, 1 };
	uint8_t sid[STORE_ID_LEN];
	uint8_t other[STORE_ID_LEN];
	uint8_t obj[KEYOBJ_LEN];
	uint8_t copy[KEYOBJ_LEN];
	char name[64];

	master_keyring(&kr, 0x4d);
	memset(sid, 0x51, sizeof(sid));
	memset(other, 0x52, sizeof(other));
	CHECK(keyobj_make(&kr, sid, "pass", 4, &kdf, name, obj) == 0);
	CHECK(strncmp(name, "keys/", 5) == 0 && strlen(name) == 5 + 32);
	CHECK(memcmp(obj, "AMBRKEY1", 8) == 0 && obj[8] == 1);
	CHECK(obj[41] == 10 && le_get(obj + 42, 4) == 8 &&
	    le_get(obj + 46, 4) == 1);
	memset(&got, 0, sizeof(got));
	CHECK(keyobj_open(obj, KEYOBJ_LEN, sid, "pass", 4, &got) == 0);
	CHECK(got.has_master && memcmp(got.master, kr.master, 32) == 0 &&
	    memcmp(got.id_key, kr.id_key, 32) == 0);
	keyring_wipe(&got);
	/* Wrong passphrases: another, a prefix, a longer one, empty. */
	CHECK(keyobj_open(obj, KEYOBJ_LEN, sid, "Pass", 4, &got) == -EACCES);
	CHECK(keyobj_open(obj, KEYOBJ_LEN, sid, "pas", 3, &got) == -EACCES);
	CHECK(keyobj_open(obj, KEYOBJ_LEN, sid, "pass\n", 5, &got) ==
	    -EACCES);
	CHECK(keyobj_open(obj, KEYOBJ_LEN, sid, "", 0, &got) == -EACCES);
	/* Another store's object. */
	CHECK(keyobj_open(obj, KEYOBJ_LEN, other, "pass", 4, &got) ==
	    -EBADMSG);
	/* Weakened KDF parameters fail authentication (they are AAD). */
	memcpy(copy, obj, KEYOBJ_LEN);
	copy[41] = 9;
	CHECK(keyobj_open(copy, KEYOBJ_LEN, sid, "pass", 4, &got) ==
	    -EACCES);
	memcpy(copy, obj, KEYOBJ_LEN);
	le_put(copy + 42, 4, 4);
	CHECK(keyobj_open(copy, KEYOBJ_LEN, sid, "pass", 4, &got) ==
	    -EACCES);
	/* Refused parameters, bad magic or type, wrong length. */
	memcpy(copy, obj, KEYOBJ_LEN);
	copy[41] = 0;
	CHECK(keyobj_open(copy, KEYOBJ_LEN, sid, "pass", 4, &got) ==
	    -EFBIG);
	memcpy(copy, obj, KEYOBJ_LEN);
	copy[41] = 200;
	CHECK(keyobj_open(copy, KEYOBJ_LEN, sid, "pass", 4, &got) ==
	    -EFBIG);
	memcpy(copy, obj, KEYOBJ_LEN);
	copy[8] = 2;
	CHECK(keyobj_open(copy, KEYOBJ_LEN, sid, "pass", 4, &got) ==
	    -EBADMSG);
	memcpy(copy, obj, KEYOBJ_LEN);
	copy[0] = 'B';
	CHECK(keyobj_open(copy, KEYOBJ_LEN, sid, "pass", 4, &got) ==
	    -EBADMSG);
	CHECK(keyobj_open(obj, KEYOBJ_LEN - 1, sid, "pass", 4, &got) ==
	    -EBADMSG);
	/* Any other flipped byte: salt, nonce, wrapped key, tag. */
	for (size_t i = 50; i < KEYOBJ_LEN; i += 7) {
		memcpy(copy, obj, KEYOBJ_LEN);
		copy[i] ^= 0x80;
		CHECK(keyobj_open(copy, KEYOBJ_LEN, sid, "pass", 4, &got) ==
		    -EACCES);
	}
	/* Two objects for one master differ (random salt, id, nonce). */
	CHECK(keyobj_make(&kr, sid, "pass", 4, &kdf, name, copy) == 0);
	CHECK(memcmp(copy, obj, KEYOBJ_LEN) != 0);
	keyring_wipe(&kr);
}

static void
test_ingest_records(void)
{
	struct keyring kr;
	struct keyring other;
	struct keyring ik;
	struct reg_entry e;
	struct reg_entry back;
	struct registry reg = { NULL, 0 };
	uint8_t sid[STORE_ID_LEN];
	uint8_t sid2[STORE_ID_LEN];
	uint8_t acc[2][32];
	uint8_t seed[32];
	uint8_t *buf = NULL;
	size_t len = 0;
	char *text = NULL;

	master_keyring(&kr, 0x4d);
	master_keyring(&other, 0x4e);
	memset(sid, 0x51, sizeof(sid));
	memset(sid2, 0x50, sizeof(sid2));
	memset(&e, 0, sizeof(e));
	memset(e.id, 0x52, 16);
	memset(seed, 0x53, sizeof(seed));
	CHECK(crypt_ed25519_pub(seed, e.sign_pub) == 0);
	e.created = 1764201600;
	snprintf(e.label, sizeof(e.label), "runner\n\xff");

	/* Registration: round trip, forged, foreign, damaged. */
	CHECK(reg_make(&kr, sid, &e, &buf, &len) == 0);
	CHECK(reg_open(&kr, sid, buf, len, &back) == 0);
	CHECK(memcmp(back.id, e.id, 16) == 0 &&
	    memcmp(back.sign_pub, e.sign_pub, 32) == 0 &&
	    back.created == e.created && strcmp(back.label, e.label) == 0);
	CHECK(reg_open(&other, sid, buf, len, &back) == -EBADMSG);
	CHECK(reg_open(&kr, sid2, buf, len, &back) == -EBADMSG);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x02;
		CHECK(reg_open(&kr, sid, buf, len, &back) == -EBADMSG);
		buf[i] ^= 0x02;
	}
	CHECK(reg_open(&kr, sid, buf, len - 1, &back) == -EBADMSG);
	free(buf);
	buf = NULL;

	/* Revocation: applied to the matching entry only. */
	if ((reg.v = calloc(2, sizeof(*reg.v))) == NULL)
		abort();
	reg.n = 2;
	memset(reg.v[0].id, 0x11, 16);
	reg.v[1] = e;
	memset(acc[0], 0xac, 32);
	memset(acc[1], 0xad, 32);
	e.accepted = acc;
	e.n_accepted = 2;
	e.revoked_at = 1764300000;
	CHECK(rev_make(&kr, sid, &e, &buf, &len) == 0);
	CHECK(rev_open(&other, sid, buf, len, &reg) == -EBADMSG);
	CHECK(rev_open(&kr, sid2, buf, len, &reg) == -EBADMSG);
	buf[len / 2] ^= 1;
	CHECK(rev_open(&kr, sid, buf, len, &reg) == -EBADMSG);
	buf[len / 2] ^= 1;
	CHECK(!reg.v[1].is_revoked && !reg.v[0].is_revoked);
	CHECK(rev_open(&kr, sid, buf, len, &reg) == 0);
	CHECK(reg.v[1].is_revoked && reg.v[1].revoked_at == 1764300000 &&
	    reg.v[1].n_accepted == 2 &&
	    memcmp(reg.v[1].accepted[1], acc[1], 32) == 0);
	CHECK(!reg.v[0].is_revoked);
	CHECK(registry_find(&reg, e.id) == &reg.v[1]);
	CHECK(registry_find(&reg, sid) == NULL);
	free(buf);
	buf = NULL;
	/* Several records of one key: the earliest counts, in any order. */
	{
		uint8_t *later = NULL;
		uint8_t *fewer = NULL;
		size_t llen = 0;
		size_t flen = 0;

		e.revoked_at = 1764400000;
		CHECK(rev_make(&kr, sid, &e, &later, &llen) == 0);
		e.revoked_at = 1764300000;
		e.n_accepted = 1;
		CHECK(rev_make(&kr, sid, &e, &fewer, &flen) == 0);
		e.n_accepted = 2;
		CHECK(rev_open(&kr, sid, later, llen, &reg) == 0);
		CHECK(reg.v[1].revoked_at == 1764300000 &&
		    reg.v[1].n_accepted == 2);
		CHECK(rev_open(&kr, sid, fewer, flen, &reg) == 0);
		CHECK(reg.v[1].revoked_at == 1764300000 &&
		    reg.v[1].n_accepted == 1);
		reg.v[1].is_revoked = 0;
		CHECK(rev_open(&kr, sid, later, llen, &reg) == 0);
		CHECK(reg.v[1].revoked_at == 1764400000);
		CHECK(rev_open(&kr, sid, fewer, flen, &reg) == 0);
		CHECK(rev_open(&kr, sid, later, llen, &reg) == 0);
		CHECK(reg.v[1].revoked_at == 1764300000 &&
		    reg.v[1].n_accepted == 1);
		free(later);
		free(fewer);
	}
	/* A revocation of a key the registry does not hold. */
	memset(e.id, 0x77, 16);
	CHECK(rev_make(&kr, sid, &e, &buf, &len) == 0);
	CHECK(rev_open(&kr, sid, buf, len, &reg) == -ENOENT);
	free(buf);
	buf = NULL;
	memset(e.id, 0x52, 16);
	e.accepted = NULL;
	e.n_accepted = 0;
	registry_fini(&reg);
	CHECK(reg.v == NULL && reg.n == 0);

	/* Key file: what it gives an ingest host, and nothing more. */
	CHECK(ingest_keyfile_make(&kr, sid, &e, seed, &text) == 0);
	if (text == NULL)
		goto out;
	CHECK(strncmp(text, "amber ingest key v1\n", 20) == 0);
	memset(sid2, 0, sizeof(sid2));
	CHECK(ingest_keyfile_parse(text, strlen(text), sid2, &ik) == 0);
	CHECK(memcmp(sid2, sid, 16) == 0);
	CHECK(ik.is_ingest == 1 && ik.has_master == 0);
	CHECK(memcmp(ik.key_id, e.id, 16) == 0);
	CHECK(memcmp(ik.id_key, kr.id_key, 32) == 0 &&
	    memcmp(ik.chunk_key, kr.chunk_key, 32) == 0 &&
	    memcmp(ik.toc_key, kr.toc_key, 32) == 0 &&
	    memcmp(ik.gear_seed, kr.gear_seed, 2048) == 0 &&
	    memcmp(ik.box_pub, kr.box_pub, 32) == 0 &&
	    memcmp(ik.sign_pub, e.sign_pub, 32) == 0);
	{
		static const uint8_t zero[32];

		CHECK(memcmp(ik.master, zero, 32) == 0 &&
		    memcmp(ik.box_priv, zero, 32) == 0 &&
		    memcmp(ik.config_key, zero, 32) == 0 &&
		    memcmp(ik.reg_key, zero, 32) == 0);
	}
	keyring_wipe(&ik);
	/* Damaged key files. */
	{
		size_t n = strlen(text);
		char *c = malloc(n + 8);
		char *p;

		if (c == NULL)
			abort();
		CHECK(ingest_keyfile_parse(text, n - 2, sid2, &ik) ==
		    -EBADMSG);
		memcpy(c, text, n + 1);
		c[0] = 'A';
		CHECK(ingest_keyfile_parse(c, n, sid2, &ik) == -EBADMSG);
		memcpy(c, text, n + 1);
		p = strstr(c, "secret ");
		CHECK(p != NULL);
		if (p != NULL) {
			p[7] = 'G';
			CHECK(ingest_keyfile_parse(c, n, sid2, &ik) ==
			    -EBADMSG);
		}
		memcpy(c, text, n + 1);
		strcat(c, "junk\n");
		CHECK(ingest_keyfile_parse(c, strlen(c), sid2, &ik) ==
		    -EBADMSG);
		memcpy(c, text, n + 1);
		strcat(c, " \n\n");
		CHECK(ingest_keyfile_parse(c, strlen(c), sid2, &ik) == 0);
		keyring_wipe(&ik);
		CHECK(ingest_keyfile_parse("", 0, sid2, &ik) == -EBADMSG);
		crypt_wipe(c, n);
		free(c);
	}
out:
	if (text != NULL) {
		crypt_wipe(text, strlen(text));
		free(text);
	}
	keyring_wipe(&kr);
	keyring_wipe(&other);
}

int
main(void)
{
	test_derive();
	test_config();
	test_keyobj();
	test_kdf_caps();
	test_ingest_records();
	return check_done("test_key");
}
