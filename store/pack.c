/*
 * pack.c: sealing and opening chunk blobs, and pack tables.  A chunk's
 * key is convergent (derived from its plaintext), so each key seals one
 * plaintext and the GCM nonce bound never comes near; the nonce is random
 * anyway.  Tables are sealed under the store's table key with random
 * nonces: one table per pack keeps that key far below 2^32 messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "hex.h"
#include "log.h"
#include "pack.h"
#include "rd.h"

int
blob_seal(const struct store_ref *ref, const uint8_t *data, size_t len,
    uint8_t *out, size_t cap, size_t *olen)
{
	uint8_t *body = out + CRYPT_NONCE_LEN;
	size_t plen;
	int r;

	if (cap < len + BLOB_OVERHEAD)
		return -ERANGE;
	if ((r = crypt_random(out, CRYPT_NONCE_LEN)) < 0)
		return r;
	/* Stored raw unless zstd saves at least 1/32 of it (and, for a
	 * large chunk, of a sample of it first). */
	if (len >= 64 && codec_is_worth_trying(data, len, body + 1,
	    len - len / 32) && codec_compress(data, len, body + 1,
	    len - len / 32, &plen) == 0) {
		body[0] = CODEC_ZSTD;
	} else {
		body[0] = CODEC_RAW;
		memcpy(body + 1, data, len);
		plen = len;
	}
	r = crypt_seal(ref->key, out, ref->id, STORE_HASH_LEN, body, plen + 1,
	    body);
	if (r < 0)
		return r;
	*olen = CRYPT_NONCE_LEN + plen + 1 + CRYPT_TAG_LEN;
	return 0;
}

/* Where blob_open() decrypts the rest of a plaintext after its codec
 * byte: raw data straight into the output, the rest into scratch. */
struct blob_dest {
	uint8_t *scratch;
	uint8_t *out;
	size_t cap;
};

static uint8_t *
blob_pick(void *ctx, uint8_t codec, size_t rest_len)
{
	struct blob_dest *d = ctx;

	if (codec != CODEC_RAW)
		return d->scratch + 1;
	return rest_len <= d->cap ? d->out : NULL;
}

int
blob_open(const struct store_ref *ref, const uint8_t *blob, size_t len,
    uint8_t *scratch, uint8_t *out, size_t cap, size_t *olen)
{
	struct blob_dest d = { scratch, out, cap };
	uint8_t codec;
	size_t plen;
	int r;

	if (len < BLOB_OVERHEAD)
		return -EBADMSG;
	/* One pass over the data: a raw chunk (the common case for data
	 * that does not compress) is decrypted into ${out} directly. */
	r = crypt_open_split(ref->key, blob, ref->id, STORE_HASH_LEN,
	    blob + CRYPT_NONCE_LEN, len - CRYPT_NONCE_LEN, &codec, blob_pick,
	    &d);
	if (r < 0)
		return r;
	plen = len - BLOB_OVERHEAD;
	if (codec == CODEC_RAW) {
		*olen = plen;
		return 0;
	}
	if (codec != CODEC_ZSTD)
		return -EBADMSG;
	return codec_decompress(scratch + 1, plen, out, cap, olen);
}

int
blob_open_parts(const struct store_ref *ref, uint8_t head[BLOB_HEAD_LEN],
    uint8_t *body, size_t len, const uint8_t tag[CRYPT_TAG_LEN],
    uint8_t *codec)
{
	int r;

	r = crypt_open_parts(ref->key, head, ref->id, STORE_HASH_LEN,
	    head + CRYPT_NONCE_LEN, body, len, tag);
	if (r < 0)
		return r;
	*codec = head[CRYPT_NONCE_LEN];
	return *codec == CODEC_RAW || *codec == CODEC_ZSTD ? 0 : -EBADMSG;
}

/* The table's plaintext before its entries: count, and in format 2 the
 * hash of the bytes before the table. */
static size_t
toc_head_len(int version)
{
	return version == 1 ? 4 : 4 + STORE_HASH_LEN;
}

int
pack_toc_seal(const uint8_t key[32], int version,
    const uint8_t bound[STORE_HASH_LEN], const struct pack_entry *e,
    size_t n, uint8_t **out, size_t *olen)
{
	size_t plen = toc_head_len(version) + n * PACK_TOC_ENTRY_LEN;
	size_t len = CRYPT_NONCE_LEN + plen + CRYPT_TAG_LEN;
	const char *aad = version == 1 ? PACK_MAGIC_V1 : PACK_MAGIC;
	uint8_t *buf;
	uint8_t *p;
	int r;

	if (n > PACK_ENTRIES_MAX)
		return -E2BIG;	/* a writer's bug: never a table too big */
	if ((buf = malloc(len)) == NULL)
		return -ENOMEM;
	p = buf + CRYPT_NONCE_LEN;
	le_put(p, n, 4);
	p += 4;
	if (version != 1) {
		memcpy(p, bound, STORE_HASH_LEN);
		p += STORE_HASH_LEN;
	}
	for (size_t i = 0; i < n; i++, p += PACK_TOC_ENTRY_LEN) {
		memcpy(p, e[i].id, 32);
		le_put(p + 32, e[i].off, 8);
		le_put(p + 40, e[i].len, 4);
		le_put(p + 44, e[i].raw_len, 4);
	}
	if ((r = crypt_random(buf, CRYPT_NONCE_LEN)) < 0 ||
	    (r = crypt_seal(key, buf, (const uint8_t *)aad, 8,
	    buf + CRYPT_NONCE_LEN, plen, buf + CRYPT_NONCE_LEN)) < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*olen = len;
	return 0;
}

int
pack_tail_parse(const uint8_t tail[PACK_TAIL_LEN], uint64_t pack_size,
    uint32_t *toc_len, int *version)
{
	uint32_t n = (uint32_t)le_get(tail, 4);
	int v;

	if (memcmp(tail + 4, PACK_END, 8) == 0)
		v = 2;
	else if (memcmp(tail + 4, PACK_END_V1, 8) == 0)
		v = 1;
	else
		return -EBADMSG;
	if (n < CRYPT_NONCE_LEN + toc_head_len(v) + CRYPT_TAG_LEN ||
	    n > PACK_TOC_READ_MAX ||
	    (uint64_t)n + PACK_HEAD_LEN + PACK_TAIL_LEN > pack_size)
		return -EBADMSG;
	*toc_len = n;
	*version = v;
	return 0;
}

int
pack_toc_open(const uint8_t key[32], int version, const uint8_t *sealed,
    size_t len, uint64_t pack_size, struct pack_entry **entries, size_t *n,
    uint8_t bound[STORE_HASH_LEN])
{
	const char *aad = version == 1 ? PACK_MAGIC_V1 : PACK_MAGIC;
	struct pack_entry *e = NULL;
	uint8_t b[STORE_HASH_LEN];
	uint64_t blob_end;
	uint8_t *plain = NULL;
	struct rd r;
	uint32_t count;
	int rc;

	if ((version != 1 && version != 2) ||
	    len < CRYPT_NONCE_LEN + toc_head_len(version) + CRYPT_TAG_LEN ||
	    len > PACK_TOC_READ_MAX ||
	    (uint64_t)len + PACK_HEAD_LEN + PACK_TAIL_LEN > pack_size)
		return -EBADMSG;
	blob_end = pack_size - PACK_TAIL_LEN - len;
	if ((plain = malloc(len)) == NULL)
		return -ENOMEM;
	rc = crypt_open(key, sealed, (const uint8_t *)aad, 8,
	    sealed + CRYPT_NONCE_LEN, len - CRYPT_NONCE_LEN, plain);
	if (rc < 0)
		goto out;
	r = rd_init(plain, len - CRYPT_NONCE_LEN - CRYPT_TAG_LEN);
	rc = -EBADMSG;
	if (rd_u32(&r, &count) < 0)
		goto out;
	memset(b, 0, sizeof(b));
	if (version != 1 && rd_copy(&r, b, sizeof(b)) < 0)
		goto out;
	if ((uint64_t)count * PACK_TOC_ENTRY_LEN != r.len)
		goto out;
	if ((e = calloc(count ? count : 1, sizeof(*e))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (rd_copy(&r, e[i].id, 32) < 0 || rd_u64(&r, &e[i].off) < 0 ||
		    rd_u32(&r, &e[i].len) < 0 || rd_u32(&r, &e[i].raw_len) < 0)
			goto out;
		if (e[i].off < PACK_HEAD_LEN || e[i].len < BLOB_OVERHEAD ||
		    e[i].off > blob_end || e[i].len > blob_end - e[i].off ||
		    e[i].raw_len > STORE_TREE_MAX)
			goto out;
	}
	*entries = e;
	*n = count;
	if (bound != NULL)
		memcpy(bound, b, sizeof(b));
	e = NULL;
	rc = 0;
out:
	free(e);
	free(plain);
	return rc;
}

void
pack_name(const uint8_t h[STORE_HASH_LEN], char out[80])
{
	char hex[65];

	log_hex(h, STORE_HASH_LEN, hex);
	snprintf(out, 80, "packs/%.2s/%s", hex, hex);
}

int
pack_name_parse(const char *name, uint8_t h[STORE_HASH_LEN])
{
	const char *hex;

	if (strncmp(name, "packs/", 6) != 0 || strlen(name) != 6 + 3 + 64 ||
	    name[8] != '/' || name[6] != name[9] || name[7] != name[10])
		return -EINVAL;
	hex = name + 9;
	return hex_decode(hex, h, STORE_HASH_LEN);
}
