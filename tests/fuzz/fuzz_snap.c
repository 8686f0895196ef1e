/*
 * fuzz_snap.c: snapshot manifests are listed from the store and may be
 * damaged, forged or replayed.  The input is one manifest, opened with
 * the keyring key_derive() makes from a fixed master secret (every byte
 * 0x4d, as the corpus was made).  No crash; an accepted manifest has the
 * SHA-256 of its bytes as id, valid source names and kinds, and strings
 * that end within their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypt.h"
#include "snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keyring kr;
static int has_kr;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_snap *sn = NULL;
	uint8_t id[32];

	if (!has_kr) {
		memset(kr.master, 0x4d, sizeof(kr.master));
		if (key_derive(&kr) != 0)
			abort();
		has_kr = 1;
	}
	if (snap_open(&kr, NULL, data, size, &sn) != 0)
		return 0;
	crypt_sha256(data, size, id);
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
