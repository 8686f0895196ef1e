/*
 * inode.h: amberfs node ids, computed rather than allocated.
 *
 * An entry inside a snapshot is named by where it stands: the snapshot's
 * per-mount slot (given to each snapshot the first time the mount sees
 * it, never reused) and its preorder ordinal below the snapshot's root
 * directory (the root being 0), both recorded in the trees at ingest.  So
 * a node id needs no table that grows with the files looked up:
 *
 *     bit 62 = 0:  slot (bits 40..61, >= 1) | ordinal (bits 0..39)
 *                  slot 0: a regular file that snapshots share, by its
 *                  number (share.h) in bits 0..39, from 2
 *     bit 62 = 1:  a virtual node of the top level: type (bits 56..61)
 *                  | payload (bits 0..55)
 *     1:           the mount's root (FUSE_ROOT_ID)
 *
 * Bit 63 stays clear, so that programs that hold st_ino in a signed
 * 64-bit integer see positive numbers.
 *
 * The node id is also st_ino, so inode numbers are unique within a mount
 * and every name of a hard-link group shares the id of its first name.
 * A regular file that several snapshots hold unchanged has one shared id
 * instead (share.h), from a table bounded in size; beyond that bound,
 * files keep the computed id.
 */
#ifndef INODE_H
#define INODE_H

#include <stdint.h>

#define INODE_ROOT UINT64_C(1)
#define INODE_ORD_BITS 40
#define INODE_ORD_MAX ((UINT64_C(1) << INODE_ORD_BITS) - 1)
#define INODE_SLOT_MAX ((UINT32_C(1) << 22) - 1)
#define INODE_VIRTUAL (UINT64_C(1) << 62)
#define INODE_PAYLOAD_MAX ((UINT64_C(1) << 56) - 1)

/* The virtual nodes of the top level; payloads in parentheses. */
enum inode_vtype {
	INODE_V_SNAPSHOTS = 1,	/* snapshots/ */
	INODE_V_LATEST = 2,	/* latest */
	INODE_V_BYDATE = 3,	/* by-date/ */
	INODE_V_YEAR = 4,	/* by-date/YYYY/ (YYYY) */
	INODE_V_MONTH = 5,	/* by-date/YYYY/MM/ (YYYYMM) */
	INODE_V_DAY = 6,	/* by-date/YYYY/MM/DD/ (YYYYMMDD) */
	INODE_V_DATELINK = 7,	/* by-date/YYYY/MM/DD/HH:MM:SSZ (slot) */
	INODE_V_BYSOURCE = 8,	/* by-source/ */
	INODE_V_KIND = 9,	/* by-source/KIND/ (kind) */
	INODE_V_SRCDIR = 10,	/* by-source/KIND/NAME/ (source id) */
	INODE_V_SRCLINK = 11,	/* by-source/KIND/NAME/SNAP (slot, id) */
	INODE_V_BYWRITER = 12,	/* by-writer/ */
	INODE_V_WRITERDIR = 13,	/* by-writer/WRITER/ (writer id) */
	INODE_V_WRITERLINK = 14,	/* by-writer/WRITER/SNAP (slot) */
};

/* inode_make(slot, ord): the id of ordinal ${ord} of snapshot ${slot}. */
static inline uint64_t
inode_make(uint32_t slot, uint64_t ord)
{
	return (uint64_t)slot << INODE_ORD_BITS | ord;
}

/* inode_virt(type, payload): the id of a virtual node. */
static inline uint64_t
inode_virt(enum inode_vtype type, uint64_t payload)
{
	return INODE_VIRTUAL | (uint64_t)type << 56 | payload;
}

static inline int
inode_is_virtual(uint64_t ino)
{
	return ino == INODE_ROOT || (ino & INODE_VIRTUAL) != 0;
}

/* For a virtual id other than the root: its type and payload. */
static inline unsigned
inode_vtype(uint64_t ino)
{
	return (unsigned)((ino >> 56) & 0x3f);
}

static inline uint64_t
inode_payload(uint64_t ino)
{
	return ino & INODE_PAYLOAD_MAX;
}

/* For an id inside a snapshot: its slot and ordinal. */
static inline uint32_t
inode_slot(uint64_t ino)
{
	return (uint32_t)(ino >> INODE_ORD_BITS);
}

static inline uint64_t
inode_ord(uint64_t ino)
{
	return ino & INODE_ORD_MAX;
}

#endif
