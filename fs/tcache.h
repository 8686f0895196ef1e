/*
 * tcache.h: a bounded cache of decoded directory trees, keyed by tree id.
 *
 * The mount finds an entry from its inode number by descending from a
 * snapshot's root tree, so the same few trees are decoded over and over;
 * this cache keeps the most recently used ones.  Each cached tree carries
 * the prefix sums of its entries' subtree sizes, which turn "which child
 * holds ordinal k" into a binary search.  Memory is bounded by a number of
 * entries, not by the store: unpinned trees are dropped least recently
 * used first.  All functions are thread-safe.
 */
#ifndef TCACHE_H
#define TCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct tcache;
struct tnode;

/*
 * tcache_new(s, max_entries, out):
 * A cache over store ${s} holding trees of at most ${max_entries} entries
 * in all (a tree bigger than that is still returned, and dropped as soon
 * as it is unpinned).  Returns -ENOMEM.  Free with tcache_free().
 */
int tcache_new(struct store *s, size_t max_entries, struct tcache **out);
void tcache_free(struct tcache *c);

/*
 * tcache_get(c, ref, out):
 * Pin the tree ${ref}, reading and decoding it on a miss.  Returns 0 and
 * sets *${out}, which stays valid until tcache_put(); or what
 * store_tree_read() returns (-ENOENT, -EBADMSG, -EIO, -ENOMEM).
 */
int tcache_get(struct tcache *c, const struct store_ref *ref,
    struct tnode **out);

/* tcache_put(c, n): unpin ${n}.  Accepts NULL. */
void tcache_put(struct tcache *c, struct tnode *n);

/* The pinned node's tree (borrowed until tcache_put()). */
const struct store_tree *tcache_tree(const struct tnode *n);

/* The number of entries of the node's tree. */
size_t tcache_len(const struct tnode *n);

/*
 * tcache_pre(n, i): sum over j < ${i} of (1 + n_desc of entry j),
 * saturating at UINT64_MAX; ${i} may equal tcache_len(n).  The ordinal of
 * entry i of a directory with ordinal o is o + 1 + tcache_pre(n, i).
 */
uint64_t tcache_pre(const struct tnode *n, size_t i);

/*
 * tcache_child(n, rel, idx):
 * The entry whose subtree holds relative ordinal ${rel} (ordinal minus the
 * directory's ordinal minus one): the last i with tcache_pre(n, i) <= rel.
 * Returns -ENOENT if ${rel} is past the last subtree.
 */
int tcache_child(const struct tnode *n, uint64_t rel, size_t *idx);

#endif
