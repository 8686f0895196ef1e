/*
 * vnode.c: the virtual nodes at the top of the mount (vnode.h): the root,
 * snapshots/, latest, by-date/..., by-source/... and by-writer/....  They
 * are computed from the current snapshot view (snaps.h), never stored,
 * and their inode numbers carry what they stand for (inode.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attr.h"
#include "inode.h"
#include "snaps.h"
#include "state.h"
#include "vnode.h"

/* "YYYY-MM-DDTHH:MM:SSZ..." -> YYYYMMDD; -EINVAL for another shape. */
static int
name_date(const char *name, uint32_t *ymd)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	uint32_t x = 0;
	size_t i;

	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd') {
			if (name[i] < '0' || name[i] > '9')
				return -EINVAL;
			if (i < 10)
				x = x * 10 + (uint32_t)(name[i] - '0');
		} else if (name[i] != shape[i]) {
			return -EINVAL;
		}
	}
	if (name[i] != '\0' && name[i] != '-')
		return -EINVAL;
	*ymd = x;
	return 0;
}

/* A name we can show as one path component. */
static int
is_plain_name(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/*
 * The top level's mtime: the newest snapshot's time, or the mount's, with
 * the number of snapshots as nanoseconds.  The kernel keeps directory
 * listings (there is no opendir to say otherwise) and drops a kept listing
 * when the directory's mtime changes; snapshots are only ever added, so
 * the count makes every change of the view a change of the mtime, even
 * when the newest snapshot's second is the same.
 */
static struct timespec
view_time(const struct fs *fs, const struct snaps_view *v)
{
	struct timespec t;

	t.tv_sec = v->n == 0 ? fs->t_mount : v->snaps[v->n - 1].rec->time_sec;
	t.tv_nsec = (long)(v->n % 1000000000u);
	return t;
}

/*
 * The target of a virtual symlink; -ENOENT if it names a snapshot the view
 * does not hold (any more), -EINVAL if ${ino} is no virtual symlink.
 */
int
vnode_target(const struct snaps_view *v, fuse_ino_t ino, char *buf, size_t cap)
{
	const struct snaps_snap *snap;
	const struct snaps_src *src;
	uint64_t p = inode_payload(ino);
	int n;

	switch (inode_vtype(ino)) {
	case INODE_V_LATEST:	/* the snapshot latest when the node was
				 * made: the kernel keeps link targets
				 * (ops.c), so a new latest is a new node */
	case INODE_V_DATELINK:
	case INODE_V_WRITERLINK:
		if (p > UINT32_MAX ||
		    (snap = snaps_by_slot(v, (uint32_t)p)) == NULL)
			return -ENOENT;
		n = snprintf(buf, cap, "%ssnapshots/%s",
		    inode_vtype(ino) == INODE_V_LATEST ? "" :
		    inode_vtype(ino) == INODE_V_DATELINK ? "../../../../" :
		    "../../", snap->name);
		break;
	case INODE_V_SRCLINK:
		if ((n = snaps_view_full(v)) < 0)
			return n;
		if ((snap = snaps_by_slot(v, (uint32_t)(p >> 32))) == NULL ||
		    (src = snaps_src_by_id(v, p & UINT32_MAX)) == NULL ||
		    !snaps_has_src(snaps_loaded(snap), src->id))
			return -ENOENT;
		n = snprintf(buf, cap, "../../../snapshots/%s/%s/%s",
		    snap->name, store_kind_name(src->kind), src->name);
		break;
	default:
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= cap)
		return -ERANGE;
	return 0;
}

/* Attributes of a virtual node other than a snapshot directory. */
static int
vstat(struct fs *fs, const struct snaps_view *v, fuse_ino_t ino,
    struct stat *st)
{
	char target[STORE_TARGET_MAX + 1];
	int r;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mtim = view_time(fs, v);
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
	st->st_blksize = 4096;
	switch (ino == INODE_ROOT ? 0 : inode_vtype(ino)) {
	case INODE_V_LATEST:
	case INODE_V_DATELINK:
	case INODE_V_SRCLINK:
	case INODE_V_WRITERLINK:
		if ((r = vnode_target(v, ino, target, sizeof(target))) < 0)
			return r;
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(target);
		return 0;
	default:
		/* 1, as inside snapshots: no leaf optimisation, please. */
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 1;
		return 0;
	}
}

/* Attributes of snapshots/NAME, from the view alone. */
static int
snapdir_stat(const struct snaps_view *v, uint32_t slot, struct stat *st)
{
	const struct snaps_snap *snap = snaps_by_slot(v, slot);
	const struct snaps_body *b;
	struct store_entry root;
	int r;

	if (snap == NULL)
		return -ENOENT;
	if ((r = snaps_load(v, snap, &b)) < 0)
		return r;
	attr_snap_root(snap, b, &root);
	attr_entry(&root, inode_make(slot, 0), root.mtime_sec, root.mtime_nsec,
	    st);
	return 0;
}

static int
vlist_snaps(const struct snaps_view *v, vnode_list_fn *fn, void *ctx)
{
	size_t k;
	int r;

	for (k = 0; k < v->n; k++) {
		const struct snaps_snap *snap = &v->snaps[v->by_name[k]];

		if (!is_plain_name(snap->name))
			continue;
		r = fn(ctx, snap->name, inode_make(snap->rec->slot, 0));
		if (r != 0)
			return r;
	}
	return 0;
}

/* by-date levels: ${div} 0 lists years, 1 months of ${want}, 2 days,
 * 3 the snapshots of day ${want}. */
static int
vlist_date(const struct snaps_view *v, int level, uint32_t want,
    vnode_list_fn *fn, void *ctx)
{
	static const uint32_t div[] = { 10000, 100, 1, 1 };
	static const uint32_t up[] = { 1, 10000, 100, 1 };
	uint32_t prev = UINT32_MAX;
	size_t i;
	int r;

	for (i = 0; i < v->n; i++) {
		const struct snaps_snap *snap = &v->snaps[i];
		uint32_t ymd;
		uint32_t key;
		char name[16];

		if (name_date(snap->name, &ymd) < 0)
			continue;
		if (level > 0 && ymd / up[level] != want)
			continue;
		if (level == 3) {
			r = fn(ctx, snap->name + 11,
			    inode_virt(INODE_V_DATELINK, snap->rec->slot));
			if (r != 0)
				return r;
			continue;
		}
		key = ymd / div[level];
		/* The list is sorted by time, so equal keys are adjacent. */
		if (key == prev)
			continue;
		prev = key;
		if (level == 0) {
			snprintf(name, sizeof(name), "%04" PRIu32, key);
			r = fn(ctx, name, inode_virt(INODE_V_YEAR, key));
		} else if (level == 1) {
			snprintf(name, sizeof(name), "%02" PRIu32, key % 100);
			r = fn(ctx, name, inode_virt(INODE_V_MONTH, key));
		} else {
			snprintf(name, sizeof(name), "%02" PRIu32, key % 100);
			r = fn(ctx, name, inode_virt(INODE_V_DAY, key));
		}
		if (r != 0)
			return r;
	}
	return 0;
}

static uint64_t
src_payload(uint32_t slot, uint32_t id)
{
	return (uint64_t)slot << 32 | (uint64_t)id;
}

/* Whether listing virtual directory type ${t} needs every snapshot's
 * sources or writer (snaps_view_full()). */
static int
is_full_dir(unsigned t)
{
	return t == INODE_V_BYSOURCE || t == INODE_V_KIND ||
	    t == INODE_V_SRCDIR || t == INODE_V_BYWRITER ||
	    t == INODE_V_WRITERDIR;
}

int
vnode_list(struct fs *fs, const struct snaps_view *v, fuse_ino_t dir,
    vnode_list_fn *fn, void *ctx)
{
	uint64_t p = inode_payload(dir);
	const struct snaps_src *want;
	const struct snaps_writer *w;
	uint8_t kind;
	size_t i;
	int r;

	(void)fs;
	/* What needs every snapshot's sources or writer. */
	if (dir != INODE_ROOT && is_full_dir(inode_vtype(dir)) &&
	    (r = snaps_view_full(v)) < 0)
		return r;
	if (dir == INODE_ROOT) {
		if ((r = fn(ctx, "by-date", inode_virt(INODE_V_BYDATE, 0))))
			return r;
		if ((r = fn(ctx, "by-source",
		    inode_virt(INODE_V_BYSOURCE, 0))))
			return r;
		if ((r = fn(ctx, "by-writer",
		    inode_virt(INODE_V_BYWRITER, 0))))
			return r;
		if (v->latest != NULL && (r = fn(ctx, "latest",
		    inode_virt(INODE_V_LATEST, v->latest->rec->slot))))
			return r;
		return fn(ctx, "snapshots", inode_virt(INODE_V_SNAPSHOTS, 0));
	}
	switch (inode_vtype(dir)) {
	case INODE_V_SNAPSHOTS:
		return vlist_snaps(v, fn, ctx);
	case INODE_V_BYDATE:
		return vlist_date(v, 0, 0, fn, ctx);
	case INODE_V_YEAR:
		return vlist_date(v, 1, (uint32_t)p, fn, ctx);
	case INODE_V_MONTH:
		return vlist_date(v, 2, (uint32_t)p, fn, ctx);
	case INODE_V_DAY:
		return vlist_date(v, 3, (uint32_t)p, fn, ctx);
	case INODE_V_BYSOURCE:
		kind = 0;
		for (i = 0; i < v->n_srcs; i++) {
			if (v->srcs[i].kind == kind)
				continue;
			kind = v->srcs[i].kind;
			r = fn(ctx, store_kind_name(kind),
			    inode_virt(INODE_V_KIND, kind));
			if (r != 0)
				return r;
		}
		return 0;
	case INODE_V_KIND:
		for (i = 0; i < v->n_srcs; i++) {
			const struct snaps_src *s = &v->srcs[i];

			if (s->kind != p || !is_plain_name(s->name))
				continue;
			r = fn(ctx, s->name, inode_virt(INODE_V_SRCDIR, s->id));
			if (r != 0)
				return r;
		}
		return 0;
	case INODE_V_BYWRITER:
		for (i = 0; i < v->n_writers; i++) {
			r = fn(ctx, v->writers[i]->dir,
			    inode_virt(INODE_V_WRITERDIR, v->writers[i]->id));
			if (r != 0)
				return r;
		}
		return 0;
	case INODE_V_WRITERDIR:
		if ((w = snaps_writer_by_id(v, p)) == NULL)
			return -ENOENT;
		for (i = 0; i < v->n; i++) {
			const struct snaps_snap *s = &v->snaps[i];

			if (!is_plain_name(s->name) ||
			    snaps_loaded(s)->writer != w)
				continue;
			r = fn(ctx, s->name, inode_virt(INODE_V_WRITERLINK,
			    s->rec->slot));
			if (r != 0)
				return r;
		}
		return 0;
	case INODE_V_SRCDIR:
		if ((want = snaps_src_by_id(v, p)) == NULL)
			return -ENOENT;
		for (i = 0; i < v->n; i++) {
			const struct snaps_snap *s = &v->snaps[i];

			if (!is_plain_name(s->name) ||
			    !snaps_has_src(snaps_loaded(s), want->id))
				continue;
			r = fn(ctx, s->name, inode_virt(INODE_V_SRCLINK,
			    src_payload(s->rec->slot, want->id)));
			if (r != 0)
				return r;
		}
		return 0;
	default:
		return -ENOTDIR;
	}
}

struct vfind_ctx {
	const char *name;
	fuse_ino_t ino;
};

static int
vfind_fn(void *ctx, const char *name, fuse_ino_t ino)
{
	struct vfind_ctx *c = ctx;

	if (strcmp(name, c->name) != 0)
		return 0;
	c->ino = ino;
	return 1;
}

/* The child ${name} of virtual directory ${dir}; -ENOENT if absent. */
int
vnode_find(struct fs *fs, const struct snaps_view *v, fuse_ino_t dir,
    const char *name, fuse_ino_t *ino)
{
	struct vfind_ctx c = { .name = name, .ino = 0 };
	const struct snaps_snap *snap;
	const struct snaps_src *s;
	int r;

	/* The two directories that grow with the store: no linear scan. */
	if (dir != INODE_ROOT && inode_vtype(dir) == INODE_V_SNAPSHOTS) {
		if ((snap = snaps_by_name(v, name)) == NULL)
			return -ENOENT;
		*ino = inode_make(snap->rec->slot, 0);
		return 0;
	}
	if (dir != INODE_ROOT && inode_vtype(dir) == INODE_V_KIND) {
		if ((r = snaps_view_full(v)) < 0)
			return r;
		s = snaps_src_find(v, (uint8_t)inode_payload(dir), name);
		if (s == NULL)
			return -ENOENT;
		*ino = inode_virt(INODE_V_SRCDIR, s->id);
		return 0;
	}
	if ((r = vnode_list(fs, v, dir, vfind_fn, &c)) < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ino = c.ino;
	return 0;
}

/* Attributes and timeout of any top-level node, snapshot dirs included. */
int
vnode_stat(struct fs *fs, const struct snaps_view *v, fuse_ino_t ino,
    struct stat *st, double *ttl)
{
	if (!inode_is_virtual(ino)) {
		*ttl = fs->ttl_long;
		return snapdir_stat(v, inode_slot(ino), st);
	}
	*ttl = fs->ttl_short;
	return vstat(fs, v, ino, st);
}

/* Whether virtual node ${ino} is a directory (not one of the symlinks). */
int
vnode_is_dir(fuse_ino_t ino)
{
	return ino == INODE_ROOT || (inode_vtype(ino) != INODE_V_LATEST &&
	    inode_vtype(ino) != INODE_V_DATELINK &&
	    inode_vtype(ino) != INODE_V_SRCLINK &&
	    inode_vtype(ino) != INODE_V_WRITERLINK);
}

/*
 * The attribute timeout of node ${ino} whose entry times out after
 * ${ttl}.  A kept listing of a top-level directory is checked against the
 * directory's mtime, refreshed by a getattr when the attributes have timed
 * out (fs_getattr, which looks for news); with no timeout every listing
 * sees news from the last second on, while lookups, which never rescan
 * for a known name, stay cheap.
 */
double
vnode_ttl(fuse_ino_t ino, double ttl)
{
	return inode_is_virtual(ino) && vnode_is_dir(ino) ? 0.0 : ttl;
}
