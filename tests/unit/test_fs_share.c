/*
 * test_fs_share.c: the table of shared file ids (fs/share.c) on its own.
 * One file seen from two directories (two snapshots) gets one id, and
 * where it was first and last seen is kept; a change to anything a
 * reader sees (name, path, mode, owner, mtime, inherited mtime, size,
 * flags, a chunk's id or key) gives another id; ids are never the root's
 * nor positional ones and keep bit 63 clear; a full table refuses new
 * files, every time, and still answers for those it holds; 100,000 files
 * (the index doubling many times) keep distinct ids and their places.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../../fs/inode.h"
#include "../../fs/share.h"

static struct store_extent ext[2];

/* A regular file "f" of two extents. */
static void
file(struct store_entry *e)
{
	memset(e, 0, sizeof(*e));
	memset(ext, 0, sizeof(ext));
	e->name = (const uint8_t *)"f";
	e->name_len = 1;
	e->type = STORE_REG;
	e->mode = 0644;
	e->uid = 1000;
	e->gid = 1000;
	e->mtime_sec = 1764201600;
	e->mtime_nsec = 5;
	e->size = 300;
	ext[0].off = 0;
	ext[0].len = 100;
	ext[0].ref.id[0] = 1;
	ext[1].off = 100;
	ext[1].len = 200;
	ext[1].ref.id[0] = 2;
	e->n_extents = 2;
	e->extents = ext;
}

static struct share_dir
dir(void)
{
	struct share_dir d = { 77, 1700000000, 9 };

	return d;
}

/* The id of ${e} in directory ${d}, at positional id ${pos}; 0 on error. */
static uint64_t
id_of(struct share *sh, struct share_dir d, uint64_t pos,
    const struct store_entry *e)
{
	uint64_t ino = 0;

	return share_ino(sh, &d, e, pos, &ino) == 0 ? ino : 0;
}

static void
test_same_and_different(void)
{
	struct share *sh = NULL;
	struct store_entry e;
	struct share_dir d;
	uint64_t a;
	uint64_t pos;
	int ok = 1;

	CHECK(share_new(0, &sh) == -EINVAL && sh == NULL);
	CHECK(share_new(SHARE_FILES + 1, &sh) == -EINVAL && sh == NULL);
	CHECK(share_new(1000, &sh) == 0 && sh != NULL);
	if (sh == NULL)
		return;
	file(&e);
	a = id_of(sh, dir(), inode_make(1, 13), &e);
	CHECK(a != 0 && share_is(a) && a != INODE_ROOT && (a >> 63) == 0);
	CHECK(!share_is(INODE_ROOT) && !share_is(inode_make(1, 5)) &&
	    !share_is(inode_virt(INODE_V_SNAPSHOTS, 0)));
	/* The same file in another snapshot, at another index. */
	CHECK(id_of(sh, dir(), inode_make(2, 47), &e) == a);
	CHECK(share_where(sh, a, 0, &pos) == 0 && pos == inode_make(2, 47));
	CHECK(share_where(sh, a, 1, &pos) == 0 && pos == inode_make(1, 13));
	CHECK(share_where(sh, a + 1, 0, &pos) == -ENOENT);
	CHECK(share_where(sh, inode_make(1, 5), 0, &pos) == -ENOENT);

	/* Each change makes another file. */
	e.name = (const uint8_t *)"g";
	CHECK(id_of(sh, dir(), inode_make(1, 13), &e) != a);
	file(&e);
	d = dir();
	d.phash = 78;		/* another path */
	CHECK(id_of(sh, d, inode_make(1, 13), &e) != a);
	d = dir();
	d.mt_sec++;		/* the directory's mtime: inherited or not */
	CHECK(id_of(sh, d, inode_make(1, 13), &e) == a);
	e.flags = STORE_ENTRY_MTIME_INHERIT;
	CHECK(id_of(sh, d, inode_make(1, 13), &e) != a);
	/* Each field a reader sees, changed alone. */
	for (int k = 0; k < 11; k++) {
		file(&e);
		switch (k) {
		case 0: e.mode = 0600; break;
		case 1: e.uid = 0; break;
		case 2: e.gid = 0; break;
		case 3: e.mtime_nsec = 6; break;
		case 4: e.size = 301; break;
		case 5: e.flags = STORE_ENTRY_PARTIAL; break;
		case 6: ext[1].ref.id[31] = 1; break;
		case 7: ext[1].ref.key[0] = 1; break;
		case 8: ext[1].len = 199; break;
		case 9: e.n_extents = 1; break;
		default: e.type = STORE_LNK; break;
		}
		ok &= id_of(sh, dir(), inode_make(1, 13), &e) != a;
	}
	CHECK(ok);
	/* And nothing changed: the first id again. */
	file(&e);
	CHECK(id_of(sh, dir(), inode_make(3, 1), &e) == a);
	share_free(sh);
	share_free(NULL);
}

static void
test_full(void)
{
	struct share *sh = NULL;
	struct store_entry e;
	uint64_t ids[3];
	uint64_t ino;
	int ok = 1;

	CHECK(share_new(3, &sh) == 0);
	if (sh == NULL)
		return;
	file(&e);
	for (int i = 0; i < 3; i++) {
		e.size = 300 + (uint64_t)i;
		ids[i] = id_of(sh, dir(), inode_make(1, 1 + (uint64_t)i), &e);
		ok &= ids[i] != 0 && (i == 0 || ids[i] != ids[i - 1]);
	}
	CHECK(ok);
	e.size = 400;
	CHECK(share_ino(sh, &(struct share_dir){ 0, 0, 0 }, &e,
	    inode_make(1, 6), &ino) == -ENOSPC);
	CHECK(share_ino(sh, &(struct share_dir){ 0, 0, 0 }, &e,
	    inode_make(1, 6), &ino) == -ENOSPC);
	e.size = 301;
	CHECK(id_of(sh, dir(), inode_make(2, 2), &e) == ids[1]);
	CHECK(share_ino(NULL, &(struct share_dir){ 0, 0, 0 }, &e,
	    inode_make(1, 1), &ino) == -ENOSPC);
	share_free(sh);
}

static void
test_many(void)
{
	enum { N = 100000 };
	struct share *sh = NULL;
	struct store_entry e;
	uint64_t *ids = calloc(N, sizeof(*ids));
	uint64_t pos;
	int ok = 1;

	CHECK(ids != NULL && share_new(SHARE_FILES, &sh) == 0);
	if (ids == NULL || sh == NULL) {
		free(ids);
		share_free(sh);
		return;
	}
	file(&e);
	for (uint32_t i = 0; i < N; i++) {
		e.size = i;
		ids[i] = id_of(sh, dir(), inode_make(1, 2 * (uint64_t)i), &e);
		ok &= ids[i] != 0 && share_is(ids[i]);
	}
	CHECK(ok);
	/* Distinct: numbered in order of first sight. */
	for (uint32_t i = 1; i < N; i++)
		ok &= ids[i] == ids[i - 1] + 1;
	CHECK(ok);
	for (uint32_t i = 0; i < N; i += 997) {
		e.size = i;
		ok &= id_of(sh, dir(), inode_make(2, 2 * (uint64_t)i + 1), &e) == ids[i];
		ok &= share_where(sh, ids[i], 0, &pos) == 0 &&
		    pos == inode_make(2, 2 * (uint64_t)i + 1);
		ok &= share_where(sh, ids[i], 1, &pos) == 0 &&
		    pos == inode_make(1, 2 * (uint64_t)i);
	}
	CHECK(ok);
	free(ids);
	share_free(sh);
}

int
main(void)
{
	test_same_and_different();
	test_full();
	test_many();
	return check_done("test_fs_share");
}
