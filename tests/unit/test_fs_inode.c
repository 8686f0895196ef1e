/*
 * test_fs_inode.c: amberfs node ids (fs/inode.h, computed in fs/fs.c)
 * through fs_lookup() and fs_getattr() on a real store, with no FUSE
 * session and no /dev/fuse.  The encoding round-trips, never sets bit
 * 63, and keeps virtual nodes, snapshot roots and entries apart.  In a
 * snapshot of "files/a" = { d/ { x }, f1, f2 (a hard link of f1), f3 (a
 * hostile link that points forward), s -> x }: every entry's id is
 * (slot, preorder ordinal), distinct from every other, the names of one
 * hard-link group share the first name's id, and a link that does not
 * point back is ignored; a regular file with one name (x) has a shared id
 * (fs/share.h), the same in every snapshot that holds it unchanged and
 * another in one where it changed.  Ids are stable: the same on a second
 * lookup, after a rescan that adds a snapshot (which gets its own slot
 * and so its own ids), and in a second mount of the same store that
 * looks them up in the same order.  A shared file is still found when
 * the snapshot it was last seen in is gone, through the one it was first
 * seen in.  st_ino is the node id.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "fixture.h"
#include "hex.h"
#include "../../fs/fs.h"
#include "../../fs/inode.h"
#include "../../fs/share.h"

#define PASS "correct horse"
#define T1 1764201600	/* 2025-11-27T00:00:00Z */

static char top[64];
static char store_dir[128];
static char index_dir[128];
static int64_t x_mtime = T1 - 100;	/* of d/x in the next commit */
static uint8_t last_id[STORE_HASH_LEN];	/* of the last commit */
static uint8_t a_id[STORE_HASH_LEN];	/* of the snapshots a and b */
static uint8_t b_id[STORE_HASH_LEN];

static void
entry(struct store_entry *e, const char *name, uint8_t type, uint64_t link)
{
	store_entry_init(e, name, type, type == STORE_DIR ? 0755 : 0644);
	e->mtime_sec = T1 - 100;
	e->link = link;
	if (type == STORE_LNK) {
		e->target = (const uint8_t *)"d/x";
		e->target_len = 3;
		e->size = 3;
	}
}

/* One snapshot at ${t} of the source files/a described above. */
static int
commit(struct store *s, int64_t t)
{
	struct store_writer *w = NULL;
	struct store_tb *tb = NULL;
	struct store_source src;
	struct store_entry e;
	struct store_entry d;
	uint8_t id[STORE_HASH_LEN];
	int r;

	if ((r = store_writer_new(s, &w)) < 0)
		return r;
	if ((r = store_tb_new(&tb)) < 0)
		goto out;
	entry(&e, "x", STORE_REG, 0);
	e.mtime_sec = x_mtime;
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	entry(&d, "d", STORE_DIR, 0);
	if ((r = store_tb_finish(w, tb, &d)) < 0)
		goto out;
	store_tb_free(tb);
	tb = NULL;
	if ((r = store_tb_new(&tb)) < 0)
		goto out;
	/* Ordinals in a: d 1, d/x 2, f1 3, f2 4, f3 5, s 6. */
	if ((r = store_tb_add(tb, &d)) < 0)
		goto out;
	entry(&e, "f1", STORE_REG, 3);
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	entry(&e, "f2", STORE_REG, 3);
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	entry(&e, "f3", STORE_REG, 6);
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	entry(&e, "s", STORE_LNK, 0);
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	memset(&src, 0, sizeof(src));
	src.kind = STORE_FILES;
	snprintf(src.name, sizeof(src.name), "a");
	entry(&src.root, "", STORE_DIR, 0);
	src.root.name = NULL;
	src.root.name_len = 0;
	if ((r = store_tb_finish(w, tb, &src.root)) < 0)
		goto out;
	r = fixture_commit(w, t, "testhost", &src, 1, id);
	memcpy(last_id, id, sizeof(id));
out:
	store_tb_free(tb);
	store_writer_free(w);
	return r;
}

/* The id of ${path} (names separated by '/') below ${ino}; 0 if any
 * step fails or finds nothing. */
static fuse_ino_t
walk(struct fs *fs, fuse_ino_t ino, const char *path)
{
	struct fuse_entry_param e;
	char buf[256];
	char *save = NULL;
	char *name;

	snprintf(buf, sizeof(buf), "%s", path);
	for (name = strtok_r(buf, "/", &save); name != NULL;
	    name = strtok_r(NULL, "/", &save)) {
		memset(&e, 0, sizeof(e));
		if (fs_lookup(fs, NULL, ino, name, &e) < 0 || e.ino == 0)
			return 0;
		if (e.attr.st_ino != e.ino)
			return 0;
		ino = e.ino;
	}
	return ino;
}

/* Delete snapshot ${id} from the store, as a prune would (the caller
 * then rebuilds the index, as a prune makes every index do). */
static int
drop_snapshot(const uint8_t id[STORE_HASH_LEN])
{
	char hex[2 * STORE_HASH_LEN + 1];
	char path[256];

	hex_encode(id, STORE_HASH_LEN, hex);
	snprintf(path, sizeof(path), "%s/snapshots/%s", store_dir, hex);
	return unlink(path);
}

/* fs_getattr() gives ${ino} as st_ino. */
static int
st_ino_is(struct fs *fs, fuse_ino_t ino)
{
	struct stat st;
	double ttl;

	memset(&st, 0, sizeof(st));
	return fs_getattr(fs, NULL, ino, &st, &ttl) == 0 && st.st_ino == ino;
}

/* The encoding alone. */
static void
test_encoding(void)
{
	static const uint32_t slots[] = { 1, 2, 4095, INODE_SLOT_MAX };
	static const uint64_t ords[] = { 0, 1, 12345, INODE_ORD_MAX };
	int ok = 1;

	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++) {
			uint64_t ino = inode_make(slots[i], ords[j]);

			ok &= inode_slot(ino) == slots[i];
			ok &= inode_ord(ino) == ords[j];
			ok &= !inode_is_virtual(ino);
			ok &= ino != INODE_ROOT && (ino >> 63) == 0;
			/* Distinct from every other pair. */
			for (size_t k = 0; k < 4; k++)
				for (size_t l = 0; l < 4; l++)
					ok &= (k == i && l == j) ||
					    ino != inode_make(slots[k],
					    ords[l]);
		}
	CHECK(ok);
	ok = 1;
	for (unsigned t = INODE_V_SNAPSHOTS; t <= INODE_V_WRITERLINK; t++) {
		uint64_t a = inode_virt((enum inode_vtype)t, 0);
		uint64_t b = inode_virt((enum inode_vtype)t,
		    INODE_PAYLOAD_MAX);

		ok &= inode_is_virtual(a) && inode_is_virtual(b);
		ok &= inode_vtype(a) == t && inode_vtype(b) == t;
		ok &= inode_payload(a) == 0 &&
		    inode_payload(b) == INODE_PAYLOAD_MAX;
		ok &= (a >> 63) == 0 && (b >> 63) == 0;
		ok &= a != INODE_ROOT;
	}
	CHECK(ok);
	CHECK(inode_is_virtual(INODE_ROOT));
	/* The root and slot 0 (never given) do not meet an entry's id. */
	CHECK(inode_make(1, 0) != INODE_ROOT);
	CHECK(inode_virt(INODE_V_SRCLINK, 1) != inode_virt(INODE_V_DATELINK,
	    1));
}

struct ids {
	fuse_ino_t snapdir, files, a, d, x, f1, f2, f3, s;
};

static void
lookup_all(struct fs *fs, const char *snap, struct ids *o)
{
	fuse_ino_t snaps = walk(fs, INODE_ROOT, "snapshots");

	memset(o, 0, sizeof(*o));
	if (snaps == 0)
		return;
	o->snapdir = walk(fs, snaps, snap);
	o->files = walk(fs, o->snapdir, "files");
	o->a = walk(fs, o->snapdir, "files/a");
	o->d = walk(fs, o->a, "d");
	o->x = walk(fs, o->a, "d/x");
	o->f1 = walk(fs, o->a, "f1");
	o->f2 = walk(fs, o->a, "f2");
	o->f3 = walk(fs, o->a, "f3");
	o->s = walk(fs, o->a, "s");
}

static void
run(void)
{
	struct store *s = NULL;
	struct fs fs;
	struct fs fs2;
	struct ids a1, a2, b1, c1;
	struct fuse_entry_param e;
	fuse_ino_t top_ids[3];
	uint32_t slot;
	int is_fs = 0;
	int is_fs2 = 0;

	CHECK(fixture_create_open(store_dir, index_dir, PASS, &s) == 0);
	if (s == NULL)
		return;
	CHECK(commit(s, T1) == 0);
	memcpy(a_id, last_id, sizeof(a_id));
	is_fs = fs_init(&fs, s, 1000, SHARE_FILES) == 0;
	CHECK(is_fs);
	if (!is_fs)
		goto out;

	/* The top level: virtual, distinct, bit 63 clear. */
	top_ids[0] = walk(&fs, INODE_ROOT, "snapshots");
	top_ids[1] = walk(&fs, INODE_ROOT, "by-date");
	top_ids[2] = walk(&fs, INODE_ROOT, "by-source");
	for (int i = 0; i < 3; i++) {
		CHECK(top_ids[i] != 0 && inode_is_virtual(top_ids[i]) &&
		    top_ids[i] != INODE_ROOT && (top_ids[i] >> 63) == 0);
		CHECK(st_ino_is(&fs, top_ids[i]));
	}
	CHECK(top_ids[0] != top_ids[1] && top_ids[1] != top_ids[2] &&
	    top_ids[0] != top_ids[2]);
	CHECK(st_ino_is(&fs, INODE_ROOT));

	/* Entries: (slot, ordinal), the hard link shares f1's id. */
	lookup_all(&fs, "2025-11-27T00:00:00Z", &a1);
	slot = inode_slot(a1.snapdir);
	CHECK(slot == 1 && a1.snapdir == inode_make(1, 0));
	CHECK(!inode_is_virtual(a1.snapdir) && st_ino_is(&fs, a1.snapdir));
	CHECK(a1.files == inode_make(slot, 1));
	CHECK(a1.a == inode_make(slot, 2));
	CHECK(a1.d == inode_make(slot, 3));
	CHECK(share_is(a1.x) && a1.x != inode_make(slot, 4));
	CHECK(a1.f1 == inode_make(slot, 5));
	CHECK(a1.f2 == a1.f1);
	CHECK(a1.f3 == inode_make(slot, 7));
	CHECK(a1.s == inode_make(slot, 8));
	CHECK(st_ino_is(&fs, a1.x) && st_ino_is(&fs, a1.f2) &&
	    st_ino_is(&fs, a1.s) && st_ino_is(&fs, a1.d));
	/* No two other entries share an id, nor with the top level. */
	{
		fuse_ino_t v[] = { a1.snapdir, a1.files, a1.a, a1.d, a1.x,
			a1.f1, a1.f3, a1.s, top_ids[0], top_ids[1],
			top_ids[2], INODE_ROOT };
		size_t n = sizeof(v) / sizeof(v[0]);
		int ok = 1;

		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				ok &= v[i] != v[j] && v[i] != 0;
		CHECK(ok);
	}
	/* A missing name inside a snapshot: a negative entry (id 0). */
	memset(&e, 0xff, sizeof(e));
	CHECK(fs_lookup(&fs, NULL, a1.a, "nope", &e) == 0 && e.ino == 0);

	/* Stable: again, after a rescan that adds a snapshot, and in
	 * another mount. */
	lookup_all(&fs, "2025-11-27T00:00:00Z", &a2);
	CHECK(memcmp(&a1, &a2, sizeof(a1)) == 0);
	CHECK(commit(s, T1) == 0);
	memcpy(b_id, last_id, sizeof(b_id));
	CHECK(fs_rescan(&fs) == 0);
	lookup_all(&fs, "2025-11-27T00:00:00Z", &a2);
	CHECK(memcmp(&a1, &a2, sizeof(a1)) == 0);
	lookup_all(&fs, "2025-11-27T00:00:00Z-2", &b1);
	CHECK(b1.snapdir == inode_make(2, 0) && b1.f2 == b1.f1 &&
	    b1.f1 == inode_make(2, 5) && b1.d == inode_make(2, 3));
	/* x is unchanged: one file in both; the rest is b's own. */
	CHECK(b1.x == a1.x && b1.snapdir != a1.snapdir && b1.f1 != a1.f1 &&
	    b1.d != a1.d);
	/* x changed (its mtime): a file of its own. */
	x_mtime = T1 - 50;
	CHECK(commit(s, T1) == 0);
	x_mtime = T1 - 100;
	CHECK(fs_rescan(&fs) == 0);
	lookup_all(&fs, "2025-11-27T00:00:00Z-3", &c1);
	CHECK(share_is(c1.x) && c1.x != a1.x && st_ino_is(&fs, c1.x));
	CHECK(st_ino_is(&fs, a1.x));

	is_fs2 = fs_init(&fs2, s, 1000, SHARE_FILES) == 0;
	CHECK(is_fs2);
	if (is_fs2) {
		lookup_all(&fs2, "2025-11-27T00:00:00Z", &c1);
		CHECK(memcmp(&a1, &c1, sizeof(a1)) == 0);
		lookup_all(&fs2, "2025-11-27T00:00:00Z-2", &c1);
		CHECK(memcmp(&b1, &c1, sizeof(b1)) == 0);
		fs_fini(&fs2);
		is_fs2 = 0;
	}

	/* x first seen in b, last in a; a goes, then b. */
	is_fs2 = fs_init(&fs2, s, 1000, SHARE_FILES) == 0;
	CHECK(is_fs2);
	if (is_fs2) {
		lookup_all(&fs2, "2025-11-27T00:00:00Z-2", &b1);
		lookup_all(&fs2, "2025-11-27T00:00:00Z", &a2);
		CHECK(share_is(b1.x) && a2.x == b1.x);
		CHECK(drop_snapshot(a_id) == 0 &&
		    store_index_sync(s, 1) == 0 && fs_rescan(&fs2) == 0);
		lookup_all(&fs2, "2025-11-27T00:00:00Z", &a2);
		CHECK(a2.snapdir == 0);
		CHECK(st_ino_is(&fs2, b1.x));
		CHECK(drop_snapshot(b_id) == 0 &&
		    store_index_sync(s, 1) == 0 && fs_rescan(&fs2) == 0);
		CHECK(!st_ino_is(&fs2, b1.x));
	}

out:
	if (is_fs2)
		fs_fini(&fs2);
	if (is_fs)
		fs_fini(&fs);
	store_close(s);
}

int
main(void)
{
	int r;

	store_log_set(fixture_quiet);
	test_encoding();
	if (fixture_tmp(top, sizeof(top), "fs-inode") < 0)
		return 1;
	snprintf(store_dir, sizeof(store_dir), "%s/store", top);
	snprintf(index_dir, sizeof(index_dir), "%s/index", top);
	run();
	r = check_done("test_fs_inode");
	fixture_rm(top, "test_fs_inode");
	return r;
}
