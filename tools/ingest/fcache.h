/*
 * fcache.h: the records of the incremental-ingest cache (table "files"
 * of store_cache_get/put).  A record says which stored extents held a
 * file's content when the file had a given device, inode, size, mtime
 * and ctime.  Records come back from a local cache anyone with the
 * cache directory could have written, so decoding treats them as hostile.
 * Pure functions: no I/O.
 */
#ifndef FCACHE_H
#define FCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define FCACHE_VERSION 1
#define FCACHE_HDR_LEN 53
#define FCACHE_EXT_LEN STORE_EXTENT_LEN
#define FCACHE_MAX_EXTENTS (1u << 24)

/* The version of a file a record is for. */
struct fcache_stat {
	uint64_t dev;
	uint64_t ino;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	int64_t ctime_sec;
	uint32_t ctime_nsec;
};

/*
 * fcache_encode(st, ext, n, out, len):
 * Encode the record of ${n} extents ${ext} for ${st} into a malloc'd
 * *${out} of *${len} bytes: u8 version, u64 dev, u64 ino, u64 size,
 * i64 mtime sec, u32 mtime nsec, i64 ctime sec, u32 ctime nsec, u32 n,
 * then n times u64 off, u32 len, id, key; little-endian.  Returns -EINVAL
 * if ${n} > FCACHE_MAX_EXTENTS, -ENOMEM.
 */
int fcache_encode(const struct fcache_stat *st, const struct store_extent *ext,
    size_t n, uint8_t **out, size_t *len);

/*
 * fcache_decode(v, len, st, out, n):
 * Decode the record ${v} if it is for ${st}: *${out} is a malloc'd array
 * of *${n} extents (the caller frees it).  Returns -EBADMSG if the record
 * is malformed (wrong version or length; extents empty, longer than
 * STORE_CHUNK_MAX, unsorted, overlapping or past the size), -ESTALE if
 * it is well formed but for another version of the file, -ENOMEM.
 */
int fcache_decode(const uint8_t *v, size_t len, const struct fcache_stat *st,
    struct store_extent **out, size_t *n);

#endif
