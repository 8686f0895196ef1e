/*
 * snapx.h: what is derived from the snapshot manifests, kept in the
 * index (its "snapx" table) and brought up to date as manifests are
 * added, so that the commands that need the newest snapshots, the heads
 * or one snapshot's name do not open every manifest each time
 * (amber-store(5), SNAPSHOTS).  Only a reader keeps it (the records are
 * MACed under a key derived from the keyring's snapc_key); every answer
 * is the one store_snapshots() gives, which is what a rebuild of the
 * records runs.
 */
#ifndef SNAPX_H
#define SNAPX_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One snapshot, in the order of store_snapshots(). */
struct snapx_rec {
	uint8_t id[STORE_HASH_LEN];
	int64_t time_sec;
	uint32_t flags;
	char name[STORE_SNAP_NAME_LEN];
};

/*
 * snapx_add(s, id, buf, len): manifest ${buf} (${len} bytes, id ${id})
 * was just put into the index: append it to the records where that is
 * what a rebuild would give (dated after every other one, all of its
 * parents there, no one waiting for it as a parent), else leave them to
 * be rebuilt at the next use.  Errors are not reported: records that
 * are not brought up to date are rebuilt.
 */
void snapx_add(struct store *s, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len);

/*
 * snapx_heads(s, out, n): the snapshots no other snapshot names as a
 * parent (a malloc'd array).  -EACCES without a reader key.
 */
int snapx_heads(struct store *s, uint8_t (**out)[32], size_t *n);

/*
 * store_heads(s, out, n): the same (storesnap.c), for any key: after a
 * sync of the index, from its records where the keyring may open them,
 * else from the signed clear headers of the manifests (an ingest key).
 */
int store_heads(struct store *s, uint8_t (**out)[32], size_t *n);

/*
 * snapx_each_back(s, fn, ctx): call ${fn} with the records from the
 * newest backwards until it returns non-zero (which is returned, but 1
 * as 0).  -EACCES without a reader key.
 */
int snapx_each_back(struct store *s, int (*fn)(void *ctx,
    const struct snapx_rec *r), void *ctx);

/* snapx_find(s, id, out): the record of ${id}; -ENOENT if none. */
int snapx_find(struct store *s, const uint8_t id[STORE_HASH_LEN],
    struct snapx_rec *out);

#endif
