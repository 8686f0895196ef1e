/*
 * test_index_forget.c: index_forget() forgets the locations in the packs
 * it is told are gone, and only those, as a prune that repacks leaves
 * them: 1,500 packs of 11 chunks each go, and one new pack (a repack's)
 * that holds a copy of every 7th of those chunks stays.  Ids and pack
 * hashes are pseudo-random, as real ones are, so that the location that
 * stays falls anywhere among a chunk's duplicates and whole pages of the
 * index empty.  Deleting through the cursor as it walked them lost 51 of
 * the 2,358 locations that stay.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "idset.h"
#include "index.h"

#define N_GONE 1500		/* packs that go */
#define PER_PACK 11
#define N_CHUNKS (N_GONE * PER_PACK)
#define EVERY 7			/* the new pack holds every 7th chunk */

static uint64_t xs_state = 88172645463325252ull;

/* Fill ${b} with 32 pseudo-random bytes (xorshift64). */
static void
fill(uint8_t b[STORE_HASH_LEN])
{
	for (size_t i = 0; i < STORE_HASH_LEN; i++) {
		xs_state ^= xs_state << 13;
		xs_state ^= xs_state >> 7;
		xs_state ^= xs_state << 17;
		b[i] = (uint8_t)xs_state;
	}
}

static int
is_gone(void *ctx, const uint8_t h[STORE_HASH_LEN])
{
	return idset_has(ctx, h);
}

int
main(void)
{
	char dir[] = "/tmp/amber-test-forget.XXXXXX";
	char cmd[64];
	struct index *ix = NULL;
	struct idset gone = { NULL, 0, 0 };
	struct pack_entry *e = calloc(N_CHUNKS, sizeof(*e));
	struct pack_entry *kept = calloc(N_CHUNKS / EVERY + 1, sizeof(*kept));
	uint8_t kept_pack[STORE_HASH_LEN];
	uint8_t h[STORE_HASH_LEN];
	struct chunk_loc loc;
	size_t n_kept = 0;
	size_t n_lost = 0;
	size_t n_left = 0;

	CHECK(e != NULL && kept != NULL);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(index_open(dir, &ix) == 0);
	if (e == NULL || kept == NULL || ix == NULL)
		return check_done("test_index_forget");
	for (size_t i = 0; i < N_CHUNKS; i++) {
		fill(e[i].id);
		e[i].off = 8 + 50 * (i % PER_PACK);
		e[i].len = 50;
		e[i].raw_len = 21;
	}
	for (size_t p = 0; p < N_GONE; p++) {
		fill(h);
		CHECK(index_pack_add(ix, h, 1000, e + p * PER_PACK,
		    PER_PACK) == 0);
		CHECK(idset_add(&gone, h) == 1);
	}
	for (size_t i = 0; i < N_CHUNKS; i += EVERY)
		kept[n_kept++] = e[i];
	fill(kept_pack);
	CHECK(index_pack_add(ix, kept_pack, 1000, kept, n_kept) == 0);
	CHECK(index_forget(ix, is_gone, &gone, NULL, 0, NULL, 0) == 0);
	for (size_t i = 0; i < N_CHUNKS; i++) {
		int r = index_chunk_get(ix, e[i].id, &loc);

		if (i % EVERY != 0) {
			n_left += r != -ENOENT;
			continue;
		}
		if (r != 0 || memcmp(loc.pack, kept_pack, STORE_HASH_LEN) != 0)
			n_lost++;
	}
	fprintf(stderr, "%zu of %zu kept locations lost, %zu gone ones "
	    "left\n", n_lost, n_kept, n_left);
	CHECK(n_lost == 0);
	CHECK(n_left == 0);
	index_close(ix);
	idset_fini(&gone);
	free(e);
	free(kept);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	return check_done("test_index_forget");
}
