/*
 * attr.c: the attributes a stored entry shows through the mount (attr.h).
 */
#include <string.h>
#include <sys/stat.h>

#include "attr.h"

static mode_t
type_bits(uint8_t type)
{
	switch (type) {
	case STORE_DIR:
		return S_IFDIR;
	case STORE_LNK:
		return S_IFLNK;
	case STORE_FIFO:
		return S_IFIFO;
	case STORE_CHR:
		return S_IFCHR;
	case STORE_BLK:
		return S_IFBLK;
	case STORE_SOCK:
		return S_IFSOCK;
	default:
		return S_IFREG;
	}
}

/* Stored blocks: the extents' bytes in 512-byte units. */
static blkcnt_t
entry_blocks(const struct store_entry *e)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < e->n_extents; i++)
		sum += e->extents[i].len;
	return (blkcnt_t)((sum + 511) / 512);
}

/*
 * st_nlink: 1 for directories (as on btrfs: the count of subdirectories
 * would cost a tree read per stat, and find(1) then skips its leaf
 * optimisation, which is right here); 2 for a name of a hard-link group
 * (at least two names, and what cp -a, tar and rsync -H look for: the exact
 * count needs a scan of the whole source); 1 otherwise.
 */
void
attr_entry(const struct store_entry *e, fuse_ino_t ino, int64_t mt_sec,
    uint32_t mt_nsec, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = type_bits(e->type) | (mode_t)(e->mode & 07777);
	st->st_nlink = e->type != STORE_DIR && e->link != 0 ? 2 : 1;
	st->st_uid = e->uid;
	st->st_gid = e->gid;
	if (e->type == STORE_REG)
		st->st_size = (off_t)e->size;
	else if (e->type == STORE_LNK)
		st->st_size = (off_t)e->target_len;
	if (e->type == STORE_CHR || e->type == STORE_BLK)
		st->st_rdev = (dev_t)e->rdev;
	st->st_blksize = 128 * 1024;
	if (e->type == STORE_REG)
		st->st_blocks = entry_blocks(e);
	st->st_mtim.tv_sec = mt_sec;
	st->st_mtim.tv_nsec = mt_nsec < 1000000000 ? mt_nsec : 0;
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
}

/* The snapshot root as a directory entry, with defaults for what the
 * writer may leave zero. */
void
attr_snap_root(const struct snaps_snap *snap, const struct snaps_body *b,
    struct store_entry *e)
{
	*e = b->root;
	e->type = STORE_DIR;
	if (e->mode == 0)
		e->mode = 0555;
	if (e->mtime_sec == 0 && e->mtime_nsec == 0)
		e->mtime_sec = snap->rec->time_sec;
	e->name = NULL;
	e->name_len = 0;
}
