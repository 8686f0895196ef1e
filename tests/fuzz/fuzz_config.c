/*
 * fuzz_config.c: the two objects read before the key is known, "config"
 * (plaintext, MACed) and "keys/<id>" (the master secret wrapped under a
 * passphrase).  An input of a config's length (format 1 or 2) is decoded
 * as a config: an
 * accepted one re-encodes to the same bytes (but for the reserved word)
 * and has sane chunk sizes, and its MAC is checked with a fixed keyring.
 * An input of KEYOBJ_LEN bytes is opened as a key object with the
 * passphrase "fuzz" and the store id it names; scrypt's parameters come
 * from the input, so inputs asking for more than N = 2^12, r = 16 or
 * p = 4 are skipped to keep each run short.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "rd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keyring fixed;
static int has_fixed;

static void
fuzz_config(const uint8_t *data, size_t size)
{
	struct config c;
	uint8_t out[CONFIG_LEN];

	if (config_decode(data, size, &c) != 0)
		return;
	if (size != config_len(c.version) || c.chunk_min > c.chunk_avg ||
	    c.chunk_avg > c.chunk_max || c.chunk_max > STORE_CHUNK_MAX ||
	    c.chunk_min == 0)
		abort();
	config_encode(&c, out);
	/* Bytes 48..51 are reserved: written as zero, read as anything. */
	if (memcmp(out, data, 48) != 0 ||
	    memcmp(out + 52, data + 52, size - 52) != 0)
		abort();
	if (!has_fixed) {
		memset(fixed.master, 0x4d, sizeof(fixed.master));
		if (key_derive(&fixed) != 0)
			abort();
		has_fixed = 1;
	}
	(void)config_check(&c, &fixed);
}

static void
fuzz_keyobj(const uint8_t *data, size_t size)
{
	struct keyring kr;
	uint8_t other[STORE_ID_LEN];
	int r;

	if (size != KEYOBJ_LEN)
		return;
	memset(&kr, 0, sizeof(kr));
	memset(other, 0, sizeof(other));
	/* Another store's id is refused before any scrypt. */
	if (memcmp(data + 25, other, STORE_ID_LEN) != 0 &&
	    keyobj_open(data, size, other, "fuzz", 4, &kr) == 0)
		abort();
	if (data[41] > 12 || le_get(data + 42, 4) > 16 ||
	    le_get(data + 46, 4) > 4)
		return;
	r = keyobj_open(data, size, data + 25, "fuzz", 4, &kr);
	if (r == 0 && !kr.has_master)
		abort();
	keyring_wipe(&kr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_config(data, size);
	fuzz_keyobj(data, size);
	return 0;
}
