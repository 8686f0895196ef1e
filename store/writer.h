/*
 * writer.h: what the tree builder (treebuild.c) asks of a snapshot
 * writer (writer.c).  Inside store/ only; store.h is the interface.
 */
#ifndef WRITER_H
#define WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * writer_put_tree(w, buf, len, ref):
 * Queue encoded tree ${buf} (at most STORE_TREE_MAX bytes) for the tree
 * packs of ${w}; sets *${ref}.  Returns 0, -EINVAL if too long, -ENOMEM,
 * or the writer's first error.
 */
int writer_put_tree(struct store_writer *w, const uint8_t *buf, size_t len,
    struct store_ref *ref);

/*
 * writer_keep_extents(w, e, n):
 * Where the backend protects objects, note the packs of every extent of
 * the ${n} entries ${e} to be kept locked at commit.  Returns 0 or
 * -ENOMEM.
 */
int writer_keep_extents(struct store_writer *w, const struct store_entry *e,
    size_t n);

/*
 * writer_pack_close(s, pack, e, n, kind): end the pack ${pack} (its magic
 * and blobs, as the ${n} entries ${e} say) with its sealed, bound table,
 * put it, and index it as this machine's, of ${kind} (INDEX_PACK_*).
 * ${pack} grows by the table and tail.  Also repack.c's.
 */
struct wb;
struct pack_entry;
int writer_pack_close(struct store *s, struct wb *pack,
    const struct pack_entry *e, size_t n, int kind);

/*
 * writer_lock_horizon(s, at_least): where the backend locks what is put
 * (and the config has a retention), lock it from now on for the longest
 * of the retention, the horizon of the policy that counts
 * (store_policy_horizon()) and ${at_least} seconds.  Returns 0, or the
 * error of reading the policy.  Also prunes3.c's, for a repack's packs.
 */
int writer_lock_horizon(struct store *s, uint64_t at_least);

#endif
