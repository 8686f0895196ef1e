/*
 * pack.h: chunk blobs and pack objects (amber-store(5), CHUNKS and PACKS).
 *
 * A blob is one sealed chunk: nonce(12) || AES-256-GCM(chunk key, AAD =
 * chunk id, codec(1) || payload) || tag(16).  A pack is "AMBRPCK2" ||
 * blobs || sealed table || table length (u32) || "AMBRPEN2" (format 1:
 * "AMBRPCK1" ... "AMBRPEND", a table not bound to its pack); its name is
 * packs/<first two hex digits>/<SHA-256 of the whole pack, hex>.  The
 * parsers here are pure: no I/O, no allocation unless said.
 */
#ifndef PACK_H
#define PACK_H

#include <stddef.h>
#include <stdint.h>

#include "crypt.h"
#include "store.h"

#define PACK_MAGIC "AMBRPCK2"	/* format 2: the table is bound */
#define PACK_END "AMBRPEN2"
#define PACK_MAGIC_V1 "AMBRPCK1"
#define PACK_END_V1 "AMBRPEND"
#define PACK_HEAD_LEN 8
#define PACK_TAIL_LEN 12	/* table length + end magic */
#define PACK_TARGET (16u << 20)	/* a pack is closed past this size */
#define PACK_MAX (128u << 20)	/* no pack is larger (one S3 PUT) */
#define PACK_TOC_ENTRY_LEN 48
#define PACK_TOC_MAX (PACK_MAX / 64)	/* a table a writer seals, bytes */
/* The entries a table of PACK_TOC_MAX bytes holds (format 2): a writer
 * closes a pack when it has that many, whatever its size. */
#define PACK_ENTRIES_MAX ((PACK_TOC_MAX - CRYPT_NONCE_LEN - 4 - \
	STORE_HASH_LEN - CRYPT_TAG_LEN) / PACK_TOC_ENTRY_LEN)
/* A table a reader takes, bytes at most: more than a writer seals, so
 * that the packs sealed before writers capped their entries (16 MiB of
 * tiny files made tables of up to 40 MiB) stay readable. */
#define PACK_TOC_READ_MAX (PACK_MAX / 2)
#define BLOB_HEAD_LEN (CRYPT_NONCE_LEN + 1)
#define BLOB_OVERHEAD (BLOB_HEAD_LEN + CRYPT_TAG_LEN)

#define CODEC_RAW 0
#define CODEC_ZSTD 1

/* One table entry: where a chunk's blob lies in its pack. */
struct pack_entry {
	uint8_t id[STORE_HASH_LEN];
	uint64_t off;
	uint32_t len;		/* blob bytes */
	uint32_t raw_len;	/* plaintext bytes */
};

/*
 * blob_seal(ref, data, len, out, cap, olen): compress (when it shrinks)
 * and seal ${data}; ${cap} >= len + BLOB_OVERHEAD always suffices.
 */
int blob_seal(const struct store_ref *ref, const uint8_t *data, size_t len,
    uint8_t *out, size_t cap, size_t *olen);

/*
 * blob_open(ref, blob, len, raw_len, out, cap, olen): authenticate, then
 * decrypt, then decompress into ${out}.  ${scratch} holds len bytes; it
 * may be blob + CRYPT_NONCE_LEN to decrypt in place.
 * Returns -EBADMSG if it fails authentication or is malformed, -ERANGE if
 * the plaintext would not fit ${cap}.
 */
int blob_open(const struct store_ref *ref, const uint8_t *blob, size_t len,
    uint8_t *scratch, uint8_t *out, size_t cap, size_t *olen);

/*
 * blob_open_parts(ref, head, body, len, tag, codec): open a blob read in
 * three parts, so that a raw chunk can be read straight into its final
 * buffer: ${head} its first BLOB_HEAD_LEN bytes (the nonce and the codec
 * byte), ${body} the ${len} bytes after them, decrypted in place, ${tag}
 * its last CRYPT_TAG_LEN.  Sets *${codec}: with CODEC_RAW, ${body} is the
 * data; with CODEC_ZSTD, its compressed form.  Returns -EBADMSG if it
 * fails authentication (${body} is then wiped) or names no known codec.
 */
int blob_open_parts(const struct store_ref *ref, uint8_t head[BLOB_HEAD_LEN],
    uint8_t *body, size_t len, const uint8_t tag[CRYPT_TAG_LEN],
    uint8_t *codec);

/*
 * pack_toc_seal(key, version, bound, entries, n, out, olen): the sealed
 * table of a pack of format ${version} (1 or 2), malloc'd into *${out}.
 * In format 2 the table holds ${bound}, the SHA-256 of every byte of the
 * pack before the table, which binds it to its pack: a copy of it in
 * another pack is told apart by whoever reads that pack.  Format 1 (for
 * tests of old stores) ignores ${bound}.
 */
int pack_toc_seal(const uint8_t key[32], int version,
    const uint8_t bound[STORE_HASH_LEN], const struct pack_entry *e,
    size_t n, uint8_t **out, size_t *olen);

/*
 * pack_tail_parse(tail, pack_size, toc_len, version): check the 12-byte
 * tail and return the sealed table's length and the pack's format (1 or
 * 2, which the end magic says); -EBADMSG if malformed.
 */
int pack_tail_parse(const uint8_t tail[PACK_TAIL_LEN], uint64_t pack_size,
    uint32_t *toc_len, int *version);

/*
 * pack_toc_open(key, version, sealed, len, pack_size, entries, n, bound):
 * authenticate and decode a table of format ${version}; *${entries} is
 * malloc'd.  Every entry is checked to lie inside the pack's blob area.
 * In format 2, ${bound} (unless NULL) gets the SHA-256 the table says the
 * bytes before it have; in format 1 it is zeroed.
 */
int pack_toc_open(const uint8_t key[32], int version, const uint8_t *sealed,
    size_t len, uint64_t pack_size, struct pack_entry **entries, size_t *n,
    uint8_t bound[STORE_HASH_LEN]);

/* "packs/xx/<64 hex>" for the pack hash ${h}. */
void pack_name(const uint8_t h[STORE_HASH_LEN], char out[80]);
/* Parse such a name back; -EINVAL if it is not one. */
int pack_name_parse(const char *name, uint8_t h[STORE_HASH_LEN]);

#endif
