/*
 * fuzz_snap.c: snapshot manifests are listed from the store and may be
 * damaged, forged or replayed.  The input is one manifest, opened with
 * the keyring key_derive() makes from a fixed master secret (every byte
 * 0x4d) and a registry of one revoked ingest key (id bytes 0x52, signing
 * seed bytes 0x53, one accepted snapshot of id bytes 0xac), as the corpus
 * was made.  No crash; an accepted manifest has the SHA-256 of its bytes
 * as id, valid source names and kinds, strings that end within their
 * bounds, and the writer it names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypt.h"
#include "snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keyring kr;
static struct registry reg;
static int has_kr;

static void
setup(void)
{
	uint8_t seed[32];

	memset(kr.master, 0x4d, sizeof(kr.master));
	if (key_derive(&kr) != 0)
		abort();
	if ((reg.v = calloc(1, sizeof(*reg.v))) == NULL ||
	    (reg.v[0].accepted = calloc(1, 32)) == NULL)
		abort();
	reg.n = 1;
	memset(reg.v[0].id, 0x52, 16);
	memset(seed, 0x53, sizeof(seed));
	if (crypt_ed25519_pub(seed, reg.v[0].sign_pub) != 0)
		abort();
	reg.v[0].is_revoked = 1;
	reg.v[0].revoked_at = 1764201600;
	memset(reg.v[0].accepted[0], 0xac, 32);
	reg.v[0].n_accepted = 1;
	has_kr = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_snap *sn = NULL;
	uint8_t id[32];

	if (!has_kr)
		setup();
	if (snap_open(&kr, &reg, data, size, &sn) != 0)
		return 0;
	crypt_sha256(data, size, id);
	if (size < 24 || memcmp(sn->writer, data + 8, 16) != 0)
		abort();
	if (memcmp(id, sn->id, 32) != 0 || sn->host == NULL ||
	    strlen(sn->host) > 1024 || sn->root.type != STORE_DIR)
		abort();
	for (size_t i = 0; i < sn->n_tags; i++)
		if (sn->tags[i] == NULL || strlen(sn->tags[i]) > 1024)
			abort();
	for (size_t i = 0; i < sn->n_sources; i++) {
		const struct store_source *s = &sn->sources[i];
		size_t n = strnlen(s->name, sizeof(s->name));

		if (n == 0 || n == sizeof(s->name) || s->name[0] == '.' ||
		    strspn(s->name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n ||
		    strnlen(s->origin, sizeof(s->origin)) ==
		    sizeof(s->origin) || s->kind < STORE_FILES ||
		    s->kind > STORE_PIPELINES || s->root.type != STORE_DIR)
			abort();
	}
	snap_free(sn);
	return 0;
}
