/*
 * tree.h: the encoding of directories (amber-store(5), TREES).  A tree is
 * "ATR1" || u32 count || entries sorted by name (memcmp order, shorter
 * first on a common prefix), stored as an ordinary chunk.
 */
#ifndef TREE_H
#define TREE_H

#include <stddef.h>
#include <stdint.h>

#include "rd.h"
#include "store.h"

struct store_tree {
	uint8_t *buf;		/* the plaintext; names point into it */
	size_t n;
	struct store_entry *e;
	struct store_extent *ext;
};

/*
 * tree_decode(buf, len, out): validate and decode a tree, taking
 * ownership of the malloc'd ${buf} in every case.  Returns -EBADMSG if it
 * is malformed: bad layout, unsorted or duplicate names, an empty name,
 * ".", "..", or a name holding '/' or NUL, extents out of order, an
 * entry with STORE_ENTRY_MTIME_INHERIT and a non-zero mtime.
 */
int tree_decode(uint8_t *buf, size_t len, struct store_tree **out);

/* Append the encoding of ${e} to ${w}; -EINVAL if ${e} has
 * STORE_ENTRY_MTIME_INHERIT and a non-zero mtime. */
int tree_entry_encode(struct wb *w, const struct store_entry *e);

/* Decode one entry (as in a tree) into ${e}; extents go to ${ext} (room
 * for at most ${cap}); *${n_ext} gets their number. */
int tree_entry_decode(struct rd *r, struct store_entry *e,
    struct store_extent *ext, size_t cap, size_t *n_ext);

/* Whether ${name} is a valid entry name (1) or not (0). */
int tree_name_ok(const uint8_t *name, size_t len);

/* memcmp order of names, shorter first on a common prefix. */
int tree_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen);

/* Encode a whole tree from entries already sorted and checked. */
int tree_encode(const struct store_entry *e, size_t n, struct wb *w);

#endif
