/*
 * share.h: one node for a file that several snapshots hold unchanged.
 *
 * A regular file with one name that two snapshots hold at the same path,
 * with the same attributes and the same chunks (store_entry_digest()), is
 * the same file, and amberfs gives it one node id in every snapshot.  The
 * kernel then keeps one inode and one page cache for it, and programs
 * that compare (st_dev, st_ino) see one file: GNU diff takes two names of
 * one file with the same attributes as equal without reading either, so
 * diff -r of two dates reads what changed and nothing else.  The path is
 * part of what must match, so two names in one snapshot never share, and
 * a snapshot shows no hard links it does not hold.
 *
 * A shared id has slot 0, which no snapshot has (inode.h), and the file's
 * number in this table (from 1) in the ordinal bits.  A file gets its
 * number the first time it needs an id and keeps it until unmount;
 * numbers are never reused, so an id names the same file for the whole
 * mount.  Once the table is full, files not in it keep their positional
 * ids, also for the whole mount (what is not in the table the first time
 * never is).
 *
 * A shared file is found through where it was last seen (the last lookup
 * or listing that gave the id) or, if that snapshot is gone (a prune
 * while mounted), where it was first seen.
 *
 * Memory: about 40 bytes per file numbered (measured: a find that looked
 * up 1,000,000 files, 40 MB more), for at most max_files (amberfs -o
 * share_files=N; SHARE_FILES by default and at most; 0: no sharing).
 * The key is a digest salted with a secret drawn at mount, so its bits
 * are uniform whatever a writer stored, and the table's probes stay short.
 * Thread-safe.
 */
#ifndef SHARE_H
#define SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SHARE_FILES (UINT32_C(1) << 20)
#define SHARE_KEY_LEN 16

/* A directory whose files get ids. */
struct share_dir {
	uint64_t phash;		/* share_phash() of its path */
	int64_t mt_sec;		/* its effective mtime */
	uint32_t mt_nsec;
};

struct share;

/* share_phash(parent, name, len): the path hash of entry ${name} of a
 * directory whose path hash is ${parent}; the snapshot root's is 0.  Not
 * a digest: a collision only lets two files that read alike share. */
uint64_t share_phash(uint64_t parent, const uint8_t *name, size_t len);

/* share_new(max_files, out): a table for at most ${max_files} files (at
 * most SHARE_FILES).  -ENOMEM, -EINVAL, else 0. */
int share_new(uint32_t max_files, struct share **out);

/* share_free(sh): accepts NULL. */
void share_free(struct share *sh);

/*
 * share_ino(sh, d, e, pos, ino): the shared id of regular file ${e} of
 * directory ${d}, whose positional id (inode.h) is ${pos}: numbering it
 * if it is new, and noting ${pos} as where it was last seen.  0, or
 * -ENOSPC (the table is full, or ${sh} is NULL) or -ENOMEM: the file
 * keeps ${pos}.
 */
int share_ino(struct share *sh, const struct share_dir *d,
    const struct store_entry *e, uint64_t pos, uint64_t *ino);

/* share_is(ino): whether ${ino} is a shared file's id. */
int share_is(uint64_t ino);

/*
 * share_where(sh, ino, k, pos): the positional id of shared file ${ino}
 * where it was last seen (${k} = 0) or first seen (${k} = 1).  -ENOENT
 * for an id this table never gave.
 */
int share_where(struct share *sh, uint64_t ino, int k, uint64_t *pos);

#endif
