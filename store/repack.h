/*
 * repack.h: what prune.c asks of the repacking of mostly dead packs
 * (repack.c; amber-store(5), PRUNING).  Inside store/ only.
 *
 * A prune that repacks makes one with repack_new(), tells it every chunk
 * the kept snapshots reference as it walks them (repack_note()), every
 * location of those chunks (repack_count()) and every pack they live in
 * (repack_consider(), with its age: a file's modification time, or an
 * S3 object's LastModified, which the caller has from its listing); then
 * repack_run() copies the live blobs of the packs whose live bytes are
 * below the threshold into new packs, and names each old pack whose live
 * chunks all have a sound copy elsewhere: the caller may delete it, or
 * (S3) mark it once its lock has ended.  Nothing here knows the backend
 * beyond its get and the writer's put.  Every function accepts a NULL
 * repack (no repacking) and then does nothing.
 */
#ifndef REPACK_H
#define REPACK_H

#include <stdint.h>

#include "store.h"

struct repack;
struct chunk_loc;

/*
 * repack_new(s, threshold, cutoff, out): repack packs whose live bytes
 * are below ${threshold} percent of their size (1 to 100) and that were
 * modified at or before ${cutoff}.  *${out} is NULL if ${threshold} is
 * 0.  Returns 0 or -ENOMEM.
 */
int repack_new(struct store *s, unsigned threshold, int64_t cutoff,
    struct repack **out);
void repack_free(struct repack *rp);

/* Chunk ${ref} (a tree if ${is_tree}) is referenced: 0 or -ENOMEM. */
int repack_note(struct repack *rp, const struct store_ref *ref, int is_tree);
/* A referenced chunk lies at ${loc}: 0 or -ENOMEM. */
int repack_count(struct repack *rp, const struct chunk_loc *loc);
/*
 * repack_wants(rp, h, size, mtime): 1 if pack ${h} (${size} bytes, last
 * modified at ${mtime}), referenced, is to be repacked: old enough, and
 * its live bytes (as counted so far) below the threshold; else 0.
 * repack_consider(rp, h, size, mtime): add it if so: 1 if added, 0 if
 * not, -ENOMEM.
 */
int repack_wants(struct repack *rp, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, int64_t mtime);
int repack_consider(struct repack *rp, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, int64_t mtime);

/*
 * repack_run(rp, is_dry_run, retire, ctx, st): copy the live blobs of
 * the packs to repack, each exactly as stored and only once it has been
 * opened and found to be the chunk its id names, into new packs (written,
 * fsynced and indexed before this returns), unless a pack that stays
 * holds a sound copy already; then call ${retire} with each old pack all
 * of whose live chunks now have a sound copy in a pack that stays; it
 * returns 1 if the pack goes now (counted as repacked), 0 if it stays
 * for now (an S3 lock), or -errno.  The new packs are locked as the
 * backend locks what is put (the caller sets that first).  With
 * ${is_dry_run}, write nothing and count the same.  Fills the repack
 * figures of ${st}.  Returns 0, or -errno (-EIO, -ENOMEM): nothing is
 * retired then.
 */
int repack_run(struct repack *rp, int is_dry_run,
    int (*retire)(void *ctx, const uint8_t h[STORE_HASH_LEN], uint64_t size),
    void *ctx, struct store_prune_stats *st);

#endif
