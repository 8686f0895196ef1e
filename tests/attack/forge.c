/*
 * forge.c: what a rogue writer adds to a local store, built from the
 * store format (amber-store(5), CHUNKS and PACKS) as an attacker would.
 * It writes packs straight into STORE/packs/, as anyone with write
 * access to the store's directory (or S3 PutObject) can.  Each pack's
 * name is ground (random nonces are drawn again) until its hash begins
 * with 00, so that a listing meets it before the genuine pack.
 *
 *   forge chunk KEYFILE STORE PLAIN FORGED [N]
 *	With an ingest key: N packs (default 1), each holding one blob
 *	that seals the bytes of FORGED (with N > 1, each copy followed by
 *	its number, so that no two are alike) under the id and key of the
 *	chunk whose plaintext is the whole of PLAIN, with a valid table.
 *   forge table STORE PACK
 *	With no key: a pack of junk as long as PACK, ending with PACK's
 *	sealed table and tail, copied as they are.
 *   forge v1chunk KEYFILE STORE PLAIN FORGED
 *	As chunk, in format version 1 (an "AMBRPCK1" pack, its table not
 *	bound to the pack), as one might be added after an upgrade.
 *   forge confuse KEYFILE STORE
 *	With an ingest key, through the store's own API: a snapshot whose
 *	source files/rogue holds one world-readable file per chunk id the
 *	pack tables list, each naming that id with a key of zeros.  The
 *	key holder cannot read those chunks; the question is whether a
 *	reader of the mount gives it what someone else read recently.
 *
 * "chunk" writes packs in the format of the store's config (its version
 * is readable to anyone), as an attacker would, so that readers of that
 * format take them.
 *
 * Prints the name of each pack written.  Exit 0, or 1 with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypt.h"
#include "key.h"
#include "pack.h"
#include "storei.h"

static int
read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16;
	size_t n = 0;
	size_t got;

	if (f == NULL)
		return -errno;
	if ((*buf = malloc(cap)) == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	while ((got = fread(*buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *p = realloc(*buf, cap *= 2);

			if (p == NULL) {
				fclose(f);
				return -ENOMEM;
			}
			*buf = p;
		}
	}
	fclose(f);
	*len = n;
	return 0;
}

/* Write ${len} bytes as pack STORE/packs/xx/<sha256>; print its name. */
static int
put_pack(const char *store, const uint8_t *p, size_t len)
{
	uint8_t h[CRYPT_HASH_LEN];
	char name[80];
	char path[4200];
	int fd;

	crypt_sha256(p, len, h);
	pack_name(h, name);
	snprintf(path, sizeof(path), "%s/packs", store);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%.8s", store, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s", store, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0444)) < 0 ||
	    write(fd, p, len) != (ssize_t)len) {
		perror(path);
		return -1;
	}
	close(fd);
	printf("%s\n", name);
	return 0;
}

static int
le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return 4;
}

/*
 * One pack holding the blob of ${data} sealed under ${ref}: magic, blob,
 * sealed table, its length, end.  Version 2 binds the table to the bytes
 * before it, as amber-store(5) says; version 1 does not.
 */
static int
one_blob_pack(const struct keyring *kr, const struct store_ref *ref,
    uint32_t raw_len, const uint8_t *data, size_t len, int version,
    uint8_t **out, size_t *olen)
{
	size_t cap = PACK_HEAD_LEN + len + BLOB_OVERHEAD + 4096;
	struct pack_entry e;
	uint8_t bound[CRYPT_HASH_LEN];
	uint8_t *p = malloc(cap);
	uint8_t *toc = NULL;
	size_t toc_len;
	size_t blen;
	size_t n;

	if (p == NULL)
		return -ENOMEM;
	memcpy(p, version == 1 ? PACK_MAGIC_V1 : PACK_MAGIC, PACK_HEAD_LEN);
	if (blob_seal(ref, data, len, p + PACK_HEAD_LEN, cap - PACK_HEAD_LEN,
	    &blen) < 0)
		goto fail;
	memcpy(e.id, ref->id, 32);
	e.off = PACK_HEAD_LEN;
	e.len = (uint32_t)blen;
	e.raw_len = raw_len;
	n = PACK_HEAD_LEN + blen;
	crypt_sha256(p, n, bound);
	if (pack_toc_seal(kr->toc_key, version, bound, &e, 1, &toc,
	    &toc_len) < 0)
		goto fail;
	memcpy(p + n, toc, toc_len);
	n += toc_len;
	n += (size_t)le32(p + n, (uint32_t)toc_len);
	memcpy(p + n, version == 1 ? PACK_END_V1 : PACK_END, 8);
	n += 8;
	free(toc);
	*out = p;
	*olen = n;
	return 0;
fail:
	free(toc);
	free(p);
	return -1;
}

static int
keyring_of(const char *keyfile, struct keyring *kr)
{
	uint8_t store_id[STORE_ID_LEN];
	uint8_t *text = NULL;
	size_t len;
	int r;

	if ((r = read_file(keyfile, &text, &len)) < 0)
		return r;
	r = ingest_keyfile_parse((char *)text, len, store_id, kr);
	free(text);
	return r;
}

static int
forge_chunk(const char *keyfile, const char *store, const char *plain,
    const char *forged, long n_copies, int version)
{
	static struct keyring kr;
	struct store_ref ref;
	uint8_t *pt = NULL;
	uint8_t *fake = NULL;
	uint8_t h[CRYPT_HASH_LEN];
	size_t pt_len;
	size_t fake_len;
	int r;

	if (keyring_of(keyfile, &kr) < 0) {
		fprintf(stderr, "forge: %s: not an ingest key file\n", keyfile);
		return 1;
	}
	if (read_file(plain, &pt, &pt_len) < 0 ||
	    read_file(forged, &fake, &fake_len) < 0) {
		fprintf(stderr, "forge: cannot read %s or %s\n", plain, forged);
		return 1;
	}
	/* The ref the victim's tree holds: anyone who knows the plaintext
	 * and has the id and chunk-key keys computes it. */
	crypt_sha256(pt, pt_len, h);
	crypt_hmac(kr.id_key, h, 32, NULL, 0, ref.id);
	crypt_hmac(kr.chunk_key, h, 32, NULL, 0, ref.key);
	if ((fake = realloc(fake, fake_len + 32)) == NULL)
		return 1;
	for (long i = 0; i < n_copies; i++) {
		size_t len = fake_len;
		uint8_t *p = NULL;
		size_t plen;

		if (n_copies > 1)
			len += (size_t)snprintf((char *)fake + fake_len, 32,
			    " %ld", i);
		do {
			free(p);
			/* The table claims the genuine length, so the
			 * reader's size checks pass. */
			if ((r = one_blob_pack(&kr, &ref, (uint32_t)len, fake,
			    len, version, &p, &plen)) < 0) {
				fprintf(stderr, "forge: sealing failed\n");
				return 1;
			}
			crypt_sha256(p, plen, h);
		} while (h[0] != 0);
		if (put_pack(store, p, plen) < 0)
			return 1;
		free(p);
	}
	free(pt);
	free(fake);
	return 0;
}

static int
forge_table(const char *store, const char *pack)
{
	uint8_t *src = NULL;
	uint8_t *p = NULL;
	uint8_t h[CRYPT_HASH_LEN];
	uint32_t toc_len;
	int version;
	size_t len;
	size_t head;
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", store, pack);
	if (read_file(path, &src, &len) < 0 || len < PACK_HEAD_LEN +
	    PACK_TAIL_LEN || pack_tail_parse(src + len - PACK_TAIL_LEN, len,
	    &toc_len, &version) < 0) {
		fprintf(stderr, "forge: %s: not a pack\n", path);
		return 1;
	}
	head = len - PACK_TAIL_LEN - toc_len;
	if ((p = malloc(len)) == NULL)
		return 1;
	memcpy(p, src, PACK_HEAD_LEN);
	memcpy(p + head, src + head, len - head);
	do {
		crypt_random(p + PACK_HEAD_LEN, head - PACK_HEAD_LEN);
		crypt_sha256(p, len, h);
	} while (h[0] != 0);
	if (put_pack(store, p, len) < 0)
		return 1;
	free(src);
	free(p);
	return 0;
}

/*
 * The pack format of a store: 1 if its config states format 1 (bytes 8
 * to 11), else 2 (format 3 changed the config alone).
 */
static int
store_version(const char *store)
{
	uint8_t *cfg = NULL;
	char path[4200];
	size_t len;
	int v = 2;

	snprintf(path, sizeof(path), "%s/config", store);
	if (read_file(path, &cfg, &len) == 0 && len >= 12)
		v = cfg[8] | cfg[9] << 8;
	free(cfg);
	return v == 1 ? 1 : 2;
}

struct confuse {
	struct store_tb *tb;
	size_t n;
	int r;
};

static int
confuse_one(void *ctx, const uint8_t id[STORE_HASH_LEN],
    const struct chunk_loc *loc)
{
	struct confuse *c = ctx;
	struct store_extent x = { 0 };
	struct store_entry e = { 0 };
	char name[32];

	if (loc->raw_len == 0)
		return 0;
	snprintf(name, sizeof(name), "c%zu", c->n++);
	memcpy(x.ref.id, id, STORE_HASH_LEN);
	x.len = loc->raw_len;
	e.name = (const uint8_t *)name;
	e.name_len = strlen(name);
	e.type = STORE_REG;
	e.mode = 0444;
	e.size = loc->raw_len;
	e.mtime_sec = 1700000000;
	e.n_extents = 1;
	e.extents = &x;
	c->r = store_tb_add(c->tb, &e);
	return c->r;
}

static int
forge_confuse(const char *keyfile, const char *store)
{
	struct store_opts o = { 0 };
	struct store *s = NULL;
	struct store_writer *w = NULL;
	struct confuse c = { 0 };
	struct store_source src = { 0 };
	struct store_snap_new sn = { 0 };
	uint8_t id[STORE_HASH_LEN];
	uint8_t *text = NULL;
	size_t len;
	int r;

	if ((r = read_file(keyfile, &text, &len)) < 0 ||
	    (r = store_open(store, &o, &s)) < 0 ||
	    (r = store_unlock_keyfile(s, (char *)text, len)) < 0 ||
	    (r = store_writer_new(s, &w)) < 0 ||
	    (r = store_tb_new(&c.tb)) < 0)
		goto out;
	if ((r = index_chunk_each(s->ix, confuse_one, &c)) < 0 ||
	    (r = c.r) < 0)
		goto out;
	src.kind = STORE_FILES;
	strcpy(src.name, "rogue");
	strcpy(src.origin, "/rogue");
	src.root.type = STORE_DIR;
	src.root.mode = 0755;
	src.root.mtime_sec = 1700000000;
	if ((r = store_tb_finish(w, c.tb, &src.root)) < 0)
		goto out;
	sn.time_sec = time(NULL);
	sn.host = "rogue";
	sn.sources = &src;
	sn.n_sources = 1;
	if ((r = store_writer_commit(w, &sn, id)) < 0)
		goto out;
	printf("%zu files\n", c.n);
out:
	if (r < 0)
		fprintf(stderr, "forge: confuse: %s\n", strerror(-r));
	store_tb_free(c.tb);
	store_writer_free(w);
	store_close(s);
	free(text);
	return r < 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "chunk") == 0)
		return forge_chunk(argv[2], argv[3], argv[4], argv[5],
		    argc > 6 ? atol(argv[6]) : 1, store_version(argv[3]));
	if (argc == 4 && strcmp(argv[1], "confuse") == 0)
		return forge_confuse(argv[2], argv[3]);
	if (argc == 6 && strcmp(argv[1], "v1chunk") == 0)
		return forge_chunk(argv[2], argv[3], argv[4], argv[5], 1, 1);
	if (argc == 4 && strcmp(argv[1], "table") == 0)
		return forge_table(argv[2], argv[3]);
	fprintf(stderr, "usage: forge chunk KEYFILE STORE PLAIN FORGED [N]\n"
	    "       forge v1chunk KEYFILE STORE PLAIN FORGED\n"
	    "       forge table STORE PACK\n"
	    "       forge confuse KEYFILE STORE\n");
	return 2;
}
