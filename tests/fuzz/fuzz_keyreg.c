/*
 * fuzz_keyreg.c: the ingest-key records a reader loads from the store
 * (registrations in keys/, revocations in revoked/), the clear header of
 * a manifest (all an ingest host reads of one), and the text of an ingest
 * key file.  Records are opened with the keyring key_derive() makes from
 * a fixed master (bytes 0x4d) for the store id of bytes 0x51; a
 * revocation applies to a registry holding the key of id bytes 0x52, as
 * the corpus was made.  No crash; what is accepted stays in its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keyring kr;
static int has_kr;

static void
fuzz_reg(const uint8_t *data, size_t size, const uint8_t sid[16])
{
	struct reg_entry e;

	if (reg_open(&kr, sid, data, size, &e) != 0)
		return;
	if (strnlen(e.label, sizeof(e.label)) == sizeof(e.label) ||
	    e.accepted != NULL)
		abort();
}

static void
fuzz_rev(const uint8_t *data, size_t size, const uint8_t sid[16])
{
	struct registry reg = { NULL, 0 };

	if ((reg.v = calloc(1, sizeof(*reg.v))) == NULL)
		return;
	reg.n = 1;
	memset(reg.v[0].id, 0x52, 16);
	if (rev_open(&kr, sid, data, size, &reg) == 0 &&
	    (!reg.v[0].is_revoked ||
	    (reg.v[0].n_accepted > 0 && reg.v[0].accepted == NULL) ||
	    reg.v[0].n_accepted * 32 > size))
		abort();
	registry_fini(&reg);
}

static void
fuzz_header(const uint8_t *data, size_t size)
{
	const uint8_t *writer;
	const uint8_t *parents;
	size_t n;

	if (snap_header(data, size, &writer, &parents, &n) != 0)
		return;
	if (writer < data || writer + 16 > data + size ||
	    n > SNAP_MAX_PARENTS || parents < data ||
	    parents + 32 * n > data + size)
		abort();
}

static void
fuzz_keyfile(const uint8_t *data, size_t size)
{
	struct keyring k;
	uint8_t sid[STORE_ID_LEN];

	if (ingest_keyfile_parse((const char *)data, size, sid, &k) == 0 &&
	    (!k.is_ingest || k.has_master))
		abort();
	keyring_wipe(&k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sid[STORE_ID_LEN];

	if (!has_kr) {
		memset(kr.master, 0x4d, sizeof(kr.master));
		if (key_derive(&kr) != 0)
			abort();
		has_kr = 1;
	}
	memset(sid, 0x51, sizeof(sid));
	fuzz_reg(data, size, sid);
	fuzz_rev(data, size, sid);
	fuzz_header(data, size);
	fuzz_keyfile(data, size);
	return 0;
}
