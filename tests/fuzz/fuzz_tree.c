/*
 * fuzz_tree.c: trees are read from the store and may be damaged or
 * forged by whoever wrote it.  tree_decode() must reject or accept any
 * input without a crash, every tree it accepts must hold only valid,
 * sorted, unique names and in-file extents, and re-encoding it must give
 * back the very same bytes (the encoding is deterministic, so identical
 * directories deduplicate).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_tree *t = NULL;
	struct wb w = { 0 };
	uint8_t *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (tree_decode(buf, size, &t) != 0)
		return 0;
	for (size_t i = 0; i < store_tree_len(t); i++) {
		const struct store_entry *e = store_tree_entry(t, i);
		uint64_t end = 0;

		if (!tree_name_ok(e->name, e->name_len))
			abort();
		if (i > 0 && tree_name_cmp(t->e[i - 1].name,
		    t->e[i - 1].name_len, e->name, e->name_len) >= 0)
			abort();
		for (size_t k = 0; e->type == STORE_REG && k < e->n_extents;
		    k++) {
			const struct store_extent *x = &e->extents[k];

			if (x->len == 0 || x->off < end ||
			    x->off + x->len > e->size)
				abort();
			end = x->off + x->len;
		}
	}
	if (tree_encode(t->e, t->n, &w) != 0 || w.len != size ||
	    memcmp(w.p, data, size) != 0)
		abort();
	wb_fini(&w);
	store_tree_free(t);
	return 0;
}
