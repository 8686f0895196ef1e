/*
 * fs.c: the mount's operations (see fs.h).
 *
 * Two kinds of node.  Virtual nodes make up the top level (the root,
 * snapshots/, latest, by-date/..., by-source/..., by-writer/...: vnode.c);
 * they are computed from the current snapshot view and change when a
 * rescan finds news, so they get short timeouts and no negative entries.
 * Every other node is an entry of a snapshot, found from its id by
 * descending from the snapshot's root directory: at each level the child
 * whose ordinal range holds the wanted ordinal is found by binary search
 * over the cached prefix sums (tcache.h).  Snapshot content never
 * changes, so those nodes get long timeouts, kept page cache and cached
 * directory listings.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "fs.h"
#include "gitcfg.h"
#include "inode.h"
#include "msg.h"
#include "share.h"
#include "snaps.h"
#include "tcache.h"
#include "vnode.h"

/* Where an entry of a snapshot stands, as found by resolve(). */
struct node {
	uint32_t slot;
	uint64_t ord;
	uint64_t sroot;		/* ordinal of its source root */
	unsigned depth;		/* 0: snapshot root; 2: source root */
	int in_repos;		/* repos/ or below it */
	int is_mirror;		/* repos/NAME.git (is_mirror_child()) */
	int in_mirror;		/* directly in repos/NAME.git */
	struct tnode *parent;	/* pinned tree holding it, or NULL */
	size_t idx;		/* its index in parent */
	struct store_entry root;	/* the snapshot root, at depth 0 */
	int64_t snap_sec;	/* the snapshot's time, for root defaults */
	int64_t mt_sec;		/* its effective mtime (inherited or own) */
	uint32_t mt_nsec;
	uint64_t phash;		/* share_phash() of its path */
	struct share_dir pdir;	/* the directory holding it, if parent */
};

/*
 * Damaged or missing stored data is EIO to the reader: never wrong bytes,
 * and never an ENOENT that would make a damaged file look deleted.
 */
static int
eio(int r)
{
	return r == -EBADMSG || r == -ENOENT ? -EIO : r;
}

static const struct store_entry *
node_entry(const struct node *n)
{
	if (n->parent == NULL)
		return &n->root;
	return store_tree_entry(tcache_tree(n->parent), n->idx);
}

static void
node_fini(struct fs *fs, struct node *n)
{
	tcache_put(fs->tc, n->parent);
	n->parent = NULL;
}

/*
 * Whether ${c}, a child of a directory at depth ${depth} (which is the
 * snapshot's repos/ if ${in_repos}), is repos/NAME.git: a bare mirror as
 * amber's git reader writes it (amber-git(5)), and the one place where
 * the owner flag is honoured.  Anywhere else a writer could use the flag
 * to make a repository of its own the reader's, which git trusts.
 */
static int
is_mirror_child(unsigned depth, int in_repos, const struct store_entry *c)
{
	return depth == 1 && in_repos && c->type == STORE_DIR &&
	    c->name_len > 4 &&
	    memcmp(c->name + c->name_len - 4, ".git", 4) == 0;
}

/*
 * Whether the entry ${e} of the directory whose tree is ${t} is served as
 * a config of our own (gitcfg.h) in place of its stored content: a
 * non-directory named as a config, in a directory that git could take
 * for a repository.  git takes a directory for one only if it holds HEAD
 * and refs and objects (those two in the common directory, whose config
 * it reads); any one of the three names is enough here, so that no
 * layout git accepts, now or later, escapes.
 */
static int
is_gitcfg(const struct store_tree *t, const struct store_entry *e)
{
	static const char *const marks[] = { "HEAD", "refs", "objects" };
	size_t i;
	size_t k;

	if (e->type == STORE_DIR || !gitcfg_is_name(e->name, e->name_len))
		return 0;
	for (k = 0; k < sizeof(marks) / sizeof(marks[0]); k++)
		if (store_tree_find(t, (const uint8_t *)marks[k],
		    strlen(marks[k]), &i) == 0)
			return 1;
	return 0;
}

static int
node_is_gitcfg(const struct node *n)
{
	return n->parent != NULL &&
	    is_gitcfg(tcache_tree(n->parent), node_entry(n));
}

/* Directory ${n} as share.h sees it. */
static void
node_as_dir(const struct node *n, struct share_dir *d)
{
	d->mt_sec = n->mt_sec;
	d->mt_nsec = n->mt_nsec;
	d->phash = n->phash;
}

/*
 * resolve(fs, slot, ord, n): find ordinal ${ord} of snapshot ${slot}.
 * Each step moves to a child with a strictly greater ordinal, so hostile
 * n_desc values cannot make this loop forever; every range is checked.
 */
static int
resolve(struct fs *fs, uint32_t slot, uint64_t ord, struct node *n)
{
	struct snaps_view *v = snaps_get(fs->snaps);
	const struct snaps_snap *snap = snaps_by_slot(v, slot);
	const struct snaps_body *b = NULL;
	const struct store_entry *e;
	struct tnode *t = NULL;
	uint64_t cur = 0;
	int r;

	memset(n, 0, sizeof(*n));
	r = snap == NULL ? -ENOENT : snaps_load(v, snap, &b);
	if (r < 0) {
		snaps_put(fs->snaps, v);
		return r;
	}
	n->slot = slot;
	n->snap_sec = snap->rec->time_sec;
	attr_snap_root(snap, b, &n->root);
	snaps_put(fs->snaps, v);

	e = &n->root;
	n->mt_sec = e->mtime_sec;
	n->mt_nsec = e->mtime_nsec;
	while (cur != ord) {
		const struct store_entry *c;
		uint64_t pre;
		uint64_t cord;
		size_t i;

		if (e->type != STORE_DIR || ord < cur) {
			r = -ENOENT;
			goto out;
		}
		if ((r = tcache_get(fs->tc, &e->tree, &t)) < 0)
			goto out;
		if ((r = tcache_child(t, ord - cur - 1, &i)) < 0)
			goto out;
		pre = tcache_pre(t, i);
		c = store_tree_entry(tcache_tree(t), i);
		if (pre >= UINT64_MAX - cur - 1) {
			r = -ENOENT;
			goto out;
		}
		cord = cur + 1 + pre;
		if (ord - cord > c->n_desc) {
			r = -ENOENT;
			goto out;
		}
		node_as_dir(n, &n->pdir);
		n->phash = share_phash(n->phash, c->name, c->name_len);
		tcache_put(fs->tc, n->parent);
		n->parent = t;
		t = NULL;
		n->idx = i;
		n->in_mirror = n->is_mirror;
		n->is_mirror = is_mirror_child(n->depth, n->in_repos, c);
		n->depth++;
		if (n->depth == 1)
			n->in_repos = c->name_len == 5 &&
			    memcmp(c->name, "repos", 5) == 0;
		if (n->depth == 2)
			n->sroot = cord;
		cur = cord;
		e = c;
		store_entry_mtime(e, n->mt_sec, n->mt_nsec, &n->mt_sec,
		    &n->mt_nsec);
	}
	n->ord = ord;
	r = 0;
out:
	tcache_put(fs->tc, t);
	if (r < 0)
		node_fini(fs, n);
	return r;
}

/*
 * resolve_ino(fs, ino, n): the entry node id ${ino} names: by where it
 * stands, or for a shared id where it was last seen, then where it was
 * first seen if that snapshot is gone.  What a shared id names is a
 * regular file with one name, or EIO.
 */
static int
resolve_ino(struct fs *fs, fuse_ino_t ino, struct node *n)
{
	uint64_t pos = ino;
	int r = -ENOENT;

	if (!share_is(ino))
		return resolve(fs, inode_slot(ino), inode_ord(ino), n);
	for (int k = 0; k < 2 && r == -ENOENT; k++)
		if (share_where(fs->share, ino, k, &pos) == 0)
			r = resolve(fs, inode_slot(pos), inode_ord(pos), n);
	if (r == 0 && (node_entry(n)->type != STORE_REG ||
	    node_entry(n)->link != 0)) {
		node_fini(fs, n);
		r = -EIO;
	}
	return r;
}

/*
 * The node id of entry ${e} of directory ${dir}, at ordinal ${ord} of
 * snapshot ${slot} and depth ${depth}: a regular file with one name gets
 * its shared id (share.h) while the table has room; every name of a
 * hard-link group gets the id of the group's first name.
 * ${link} is relative to the source root and names an earlier entry; one
 * that does not is ignored rather than trusted.  A config we serve
 * (${is_cfg}) keeps its own id: reads of it must find it, not another
 * name of its group.  (The other way round, a later name of a group whose
 * first name is such a config reads as the served config, with a stored
 * size: a rarity, and what it reads names no program either.)
 */
static int
entry_ino(struct fs *fs, const struct share_dir *dir, uint32_t slot,
    uint64_t ord, uint64_t sroot, unsigned depth,
    const struct store_entry *e, int is_cfg, fuse_ino_t *ino)
{
	if (!is_cfg && depth >= 3 && e->type != STORE_DIR && e->link != 0 &&
	    e->link <= ord - sroot)
		ord = sroot + e->link;
	if (ord > INODE_ORD_MAX)
		return msg_err(-EOVERFLOW, "snapshot slot %" PRIu32
		    ": ordinal %" PRIu64 " too large for a node id", slot, ord);
	*ino = inode_make(slot, ord);
	if (!is_cfg && e->type == STORE_REG && e->link == 0)
		(void)share_ino(fs->share, dir, e, *ino, ino);
	return 0;
}

/* A config we serve (gitcfg.h): a regular file, read-only to all. */
static void
gitcfg_stat(struct stat *st)
{
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = GITCFG_SIZE;
	st->st_blocks = GITCFG_SIZE / 512;
	st->st_rdev = 0;
}

/*
 * An entry owned by whoever looks (STORE_ENTRY_OWNER_VIEWER: a git
 * mirror, which git reads only if the reader owns it) shows the ids of
 * the user asking, and its attributes do not stay in the kernel's cache,
 * which is shared by all users: each user's stat comes here.  The flag
 * counts only where ${is_mirror} (is_mirror_child()).  Returns the
 * attribute timeout to use instead of ${ttl}.
 */
static double
own_by_viewer(const struct store_entry *e, int is_mirror, fuse_req_t req,
    struct stat *st, double ttl)
{
	const struct fuse_ctx *c;

	if (!is_mirror || !(e->flags & STORE_ENTRY_OWNER_VIEWER) ||
	    req == NULL ||
	    (c = fuse_req_ctx(req)) == NULL)
		return ttl;
	st->st_uid = c->uid;
	st->st_gid = c->gid;
	return 0.0;
}

/* ---- operations (the virtual nodes are vnode.c's) ---------------------- */

static void on_learn(void *ctx);

int
fs_init(struct fs *fs, struct store *s, size_t tree_cache_entries,
    uint32_t share_files)
{
	int r;

	memset(fs, 0, sizeof(*fs));
	fs->s = s;
	fs->uid = getuid();
	fs->gid = getgid();
	fs->ttl_long = 86400.0;
	fs->ttl_short = 1.0;
	fs->t_mount = time(NULL);
	pthread_mutex_init(&fs->buf_lock, NULL);
	pthread_mutex_init(&fs->ra_lock, NULL);
	pthread_cond_init(&fs->ra_cond, NULL);
	if ((r = snaps_open(s, &fs->snaps)) < 0 ||
	    (r = tcache_new(s, tree_cache_entries, &fs->tc)) < 0 ||
	    (share_files > 0 &&
	    (r = share_new(share_files, &fs->share)) < 0)) {
		fs_fini(fs);
		return r;
	}
	store_on_learn(s, on_learn, fs);
	return 0;
}

void
fs_fini(struct fs *fs)
{
	if (fs->s != NULL) {
		store_on_learn(fs->s, NULL, NULL);
		/* Unmounted: a copy in progress need not end first. */
		store_interrupt(fs->s);
	}
	pthread_mutex_lock(&fs->ra_lock);
	fs->is_ra_stopping = 1;
	pthread_cond_signal(&fs->ra_cond);
	pthread_mutex_unlock(&fs->ra_lock);
	if (fs->is_ra_started)
		pthread_join(fs->ra_thread, NULL);
	fs->is_ra_started = 0;
	pthread_cond_destroy(&fs->ra_cond);
	pthread_mutex_destroy(&fs->ra_lock);
	tcache_free(fs->tc);
	snaps_close(fs->snaps);
	share_free(fs->share);
	fs->share = NULL;
	fs->tc = NULL;
	fs->snaps = NULL;
	while (fs->n_bufs > 0)
		free(fs->bufs[--fs->n_bufs]);
	pthread_mutex_destroy(&fs->buf_lock);
}

uint8_t *
fs_buf_get(struct fs *fs, size_t size)
{
	uint8_t *buf = NULL;

	if (size > FS_BUF_SIZE)
		return malloc(size);
	pthread_mutex_lock(&fs->buf_lock);
	if (fs->n_bufs > 0)
		buf = fs->bufs[--fs->n_bufs];
	pthread_mutex_unlock(&fs->buf_lock);
	if (buf == NULL)
		buf = malloc(FS_BUF_SIZE);
	return buf;
}

void
fs_buf_put(struct fs *fs, uint8_t *buf, size_t size)
{
	if (buf != NULL && size <= FS_BUF_SIZE) {
		pthread_mutex_lock(&fs->buf_lock);
		if (fs->n_bufs < FS_N_BUFS) {
			fs->bufs[fs->n_bufs++] = buf;
			buf = NULL;
		}
		pthread_mutex_unlock(&fs->buf_lock);
	}
	free(buf);
}

int
fs_rescan(struct fs *fs)
{
	int changed;

	return snaps_rescan(fs->snaps, SNAPS_FORCE, &changed);
}

/*
 * Whether ${name}, unknown in virtual directory ${dir}, could name
 * something a new snapshot brings: latest at the root; below that only
 * names of the right shape (snapshot names, dates and times start with a
 * digit; kinds and source names never with a dot).  Shells and tools probe
 * for .git, .hidden and the like everywhere, and each such probe must not
 * cost a rescan.
 */
static int
is_maybe_news(fuse_ino_t dir, const char *name)
{
	if (dir == INODE_ROOT)
		return strcmp(name, "latest") == 0;
	switch (inode_vtype(dir)) {
	case INODE_V_BYSOURCE:
	case INODE_V_KIND:
	case INODE_V_BYWRITER:
		return name[0] != '.';
	case INODE_V_SRCDIR:
	case INODE_V_WRITERDIR:
	case INODE_V_SNAPSHOTS:
	case INODE_V_BYDATE:
	case INODE_V_YEAR:
	case INODE_V_MONTH:
	case INODE_V_DAY:
		return name[0] >= '0' && name[0] <= '9';
	default:
		return 0;
	}
}

/* Lookup in a virtual directory, with one rescan for an unknown name. */
static int
lookup_top(struct fs *fs, fuse_ino_t parent, const char *name,
    struct fuse_entry_param *e)
{
	struct snaps_view *v = snaps_get(fs->snaps);
	fuse_ino_t ino;
	int changed;
	int r;

	r = vnode_find(fs, v, parent, name, &ino);
	if (r == -ENOENT && is_maybe_news(parent, name)) {
		snaps_put(fs->snaps, v);
		snaps_rescan(fs->snaps, SNAPS_WAIT, &changed);
		v = snaps_get(fs->snaps);
		r = vnode_find(fs, v, parent, name, &ino);
	}
	if (r < 0)
		goto out;
	e->ino = ino;
	if ((r = vnode_stat(fs, v, ino, &e->attr, &e->entry_timeout)) < 0)
		goto out;
	e->attr_timeout = vnode_ttl(ino, e->entry_timeout);
out:
	snaps_put(fs->snaps, v);
	return r;
}

int
fs_lookup(struct fs *fs, fuse_req_t req, fuse_ino_t parent,
    const char *name, struct fuse_entry_param *e)
{
	struct node dir;
	const struct store_entry *d;
	const struct store_entry *c;
	struct tnode *t = NULL;
	struct share_dir sd;
	size_t i;
	uint64_t cord;
	int is_cfg;
	int r;

	memset(e, 0, sizeof(*e));
	if (inode_is_virtual(parent))
		return lookup_top(fs, parent, name, e);
	if ((r = resolve_ino(fs, parent, &dir)) < 0)
		return eio(r);
	d = node_entry(&dir);
	if (d->type != STORE_DIR) {
		r = -ENOTDIR;
		goto out;
	}
	if ((r = tcache_get(fs->tc, &d->tree, &t)) < 0) {
		r = eio(r);
		goto out;
	}
	r = store_tree_find(tcache_tree(t), (const uint8_t *)name,
	    strlen(name), &i);
	if (r == -ENOENT) {
		/* Nothing inside a snapshot ever appears: cache the miss. */
		e->ino = 0;
		e->entry_timeout = fs->ttl_long;
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	c = store_tree_entry(tcache_tree(t), i);
	if (tcache_pre(t, i) >= UINT64_MAX - dir.ord - 1) {
		r = -EIO;
		goto out;
	}
	cord = dir.ord + 1 + tcache_pre(t, i);
	is_cfg = is_gitcfg(tcache_tree(t), c);
	node_as_dir(&dir, &sd);
	if ((r = entry_ino(fs, &sd, dir.slot, cord, dir.depth + 1 == 2 ? cord :
	    dir.sroot, dir.depth + 1, c, is_cfg, &e->ino)) < 0)
		goto out;
	{
		int64_t sec;
		uint32_t nsec;

		store_entry_mtime(c, dir.mt_sec, dir.mt_nsec, &sec, &nsec);
		attr_entry(c, e->ino, sec, nsec, &e->attr);
	}
	if (is_cfg)
		gitcfg_stat(&e->attr);
	e->attr_timeout = own_by_viewer(c, is_mirror_child(dir.depth,
	    dir.in_repos, c), req, &e->attr, fs->ttl_long);
	e->entry_timeout = fs->ttl_long;
out:
	tcache_put(fs->tc, t);
	node_fini(fs, &dir);
	return r;
}

int
fs_getattr(struct fs *fs, fuse_req_t req, fuse_ino_t ino, struct stat *st,
    double *ttl)
{
	struct snaps_view *v;
	struct node n;
	int changed;
	int r;

	if (inode_is_virtual(ino) || inode_ord(ino) == 0) {
		/* Asked again once the short timeout of a top-level directory
		 * ran out: that is when a kept listing is checked against the
		 * mtime, so let it see news from the last second on. */
		if (inode_is_virtual(ino) && vnode_is_dir(ino))
			snaps_rescan(fs->snaps, SNAPS_IF_STALE, &changed);
		v = snaps_get(fs->snaps);
		r = vnode_stat(fs, v, ino, st, ttl);
		snaps_put(fs->snaps, v);
		*ttl = vnode_ttl(ino, *ttl);
		return r;
	}
	if ((r = resolve_ino(fs, ino, &n)) < 0)
		return eio(r);
	/* The id asked for, even if the entry found is a later name of
	 * its hard-link group (it never is: ids name first names). */
	attr_entry(node_entry(&n), ino, n.mt_sec, n.mt_nsec, st);
	if (node_is_gitcfg(&n))
		gitcfg_stat(st);
	*ttl = own_by_viewer(node_entry(&n), n.is_mirror, req, st,
	    fs->ttl_long);
	node_fini(fs, &n);
	return 0;
}

int
fs_readlink(struct fs *fs, fuse_ino_t ino, char *buf, size_t cap)
{
	const struct store_entry *e;
	struct snaps_view *v;
	struct node n;
	int r;

	if (inode_is_virtual(ino)) {
		if (ino == INODE_ROOT)
			return -EINVAL;
		v = snaps_get(fs->snaps);
		r = vnode_target(v, ino, buf, cap);
		snaps_put(fs->snaps, v);
		return r;
	}
	if ((r = resolve_ino(fs, ino, &n)) < 0)
		return eio(r);
	e = node_entry(&n);
	if (e->type != STORE_LNK || node_is_gitcfg(&n)) {
		r = -EINVAL;
	} else if (e->target_len >= cap) {
		r = -ERANGE;
	} else {
		/* Targets are raw bytes; a NUL in one would cut it. */
		memcpy(buf, e->target, e->target_len);
		buf[e->target_len] = '\0';
		r = 0;
	}
	node_fini(fs, &n);
	return r;
}

/*
 * Directories and files need no handle: every request names its node, and
 * finding a node is cheap (resolve()).  The kernel may therefore skip
 * opendir, open and their releases altogether (op_init asks it to), which
 * halves the round trips of a walk and keeps listings in its cache; where
 * it cannot, these two check what the kernel would otherwise find out.
 */
int
fs_opendir(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct store_entry *e;
	struct node n;
	int r;

	fi->fh = 0;
	if (inode_is_virtual(ino))
		return vnode_is_dir(ino) ? 0 : -ENOTDIR;
	if ((r = resolve_ino(fs, ino, &n)) < 0)
		return eio(r);
	e = node_entry(&n);
	r = e->type == STORE_DIR ? 0 : -ENOTDIR;
	node_fini(fs, &n);
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	return r;
}

/* Filling one readdir reply. */
struct fill {
	struct fs *fs;
	fuse_req_t req;
	const struct snaps_view *view;	/* virtual directories */
	int is_plus;
	char *buf;
	size_t size;
	size_t len;
	off_t pos;		/* position of the next entry */
	off_t skip;		/* entries before the requested offset */
	int is_bare;		/* the next entry without attributes */
	int err;
};

/* Add one entry; 1 when the buffer is full. */
static int
fill_add_ttl(struct fill *f, const char *name, const struct stat *st,
    double ttl, double attr_ttl)
{
	struct fuse_entry_param e;
	size_t need;

	f->pos++;
	if (f->pos <= f->skip)
		return 0;
	if (f->is_plus) {
		memset(&e, 0, sizeof(e));
		/* No attributes (node 0): the kernel looks the entry up. */
		e.ino = f->is_bare ? 0 : st->st_ino;
		e.attr = *st;
		e.attr_timeout = attr_ttl;
		e.entry_timeout = ttl;
		need = fuse_add_direntry_plus(f->req, f->buf + f->len,
		    f->size - f->len, name, &e, f->pos);
	} else {
		need = fuse_add_direntry(f->req, f->buf + f->len,
		    f->size - f->len, name, st, f->pos);
	}
	if (need > f->size - f->len)
		return 1;
	f->len += need;
	return 0;
}

static int
fill_add(struct fill *f, const char *name, const struct stat *st,
    double ttl)
{
	return fill_add_ttl(f, name, st, ttl, vnode_ttl(st->st_ino, ttl));
}

static int
fill_virtual(void *ctx, const char *name, fuse_ino_t ino)
{
	struct fill *f = ctx;
	const struct snaps_snap *snap;
	struct stat st;
	double ttl;
	int r;

	if (f->pos + 1 <= f->skip) {
		f->pos++;
		return 0;
	}
	/* A snapshot not looked up yet is listed without its attributes:
	 * listing snapshots/ decodes no manifest. */
	if (!inode_is_virtual(ino) && (snap = snaps_by_slot(f->view,
	    inode_slot(ino))) != NULL && snaps_loaded(snap) == NULL) {
		memset(&st, 0, sizeof(st));
		st.st_ino = ino;
		st.st_mode = S_IFDIR;
		f->is_bare = 1;
		r = fill_add(f, name, &st, 0);
		f->is_bare = 0;
		return r;
	}
	if ((r = vnode_stat(f->fs, f->view, ino, &st, &ttl)) < 0) {
		/* Not listed rather than failing the whole listing. */
		return 0;
	}
	return fill_add(f, name, &st, ttl);
}

static int
fill_dots(struct fill *f, fuse_ino_t ino)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	st.st_mode = S_IFDIR;
	if (fill_add(f, ".", &st, 0))
		return 1;
	return fill_add(f, "..", &st, 0);
}

/* Entries of snapshot directory ${dir} (its tree ${t}); names are raw
 * bytes, NUL-free. */
static int
fill_tree(struct fill *f, const struct node *dir, struct tnode *t)
{
	const struct store_tree *tree = tcache_tree(t);
	size_t n = tcache_len(t);
	size_t i = 0;
	char name[STORE_NAME_MAX + 1];
	struct share_dir sd;
	struct stat st;
	int r;

	node_as_dir(dir, &sd);
	if (f->skip > 2)
		i = (size_t)(f->skip - 2);
	f->pos = (off_t)i + 2;
	for (; i < n; i++) {
		const struct store_entry *e = store_tree_entry(tree, i);
		uint64_t pre = tcache_pre(t, i);
		uint64_t cord;
		fuse_ino_t ino = 0;
		int64_t sec;
		uint32_t nsec;
		int is_cfg = is_gitcfg(tree, e);

		if (e->name_len == 0 || e->name_len > STORE_NAME_MAX ||
		    pre >= UINT64_MAX - dir->ord - 1)
			return -EIO;
		cord = dir->ord + 1 + pre;
		if ((r = entry_ino(f->fs, &sd, dir->slot, cord,
		    dir->depth + 1 == 2 ? cord : dir->sroot, dir->depth + 1, e,
		    is_cfg, &ino)) < 0)
			return r;
		/* A NUL would cut the name short: leave such an entry out. */
		if (memchr(e->name, '\0', e->name_len) != NULL) {
			f->pos++;
			continue;
		}
		memcpy(name, e->name, e->name_len);
		name[e->name_len] = '\0';
		store_entry_mtime(e, dir->mt_sec, dir->mt_nsec, &sec, &nsec);
		attr_entry(e, ino, sec, nsec, &st);
		if (is_cfg)
			gitcfg_stat(&st);
		if (fill_add_ttl(f, name, &st, f->fs->ttl_long,
		    own_by_viewer(e, is_mirror_child(dir->depth,
		    dir->in_repos, e), f->req, &st, f->fs->ttl_long)))
			return 0;
	}
	return 0;
}

/*
 * The read-ahead of the index and the tree packs has a thread of its own:
 * on a cold store posix_fadvise() blocks until the block layer takes the
 * reads, a second and more on a slow disk (measured: a first `ls` of a
 * snapshot took 1.5 s instead of 0.04 s), and the listing that asks for
 * it must not wait for it.
 */
static void *
ra_main(void *arg)
{
	struct fs *fs = arg;

	struct timespec next = { 0, 0 };

	pthread_mutex_lock(&fs->ra_lock);
	for (;;) {
		while (!fs->is_ra_wanted && !fs->is_ra_stopping)
			pthread_cond_wait(&fs->ra_cond, &fs->ra_lock);
		/* At most a round a second: a walk over many snapshots
		 * asks at every source root, and a round walks the page
		 * cache of every tree pack even when all is there. */
		while (!fs->is_ra_stopping && pthread_cond_timedwait(
		    &fs->ra_cond, &fs->ra_lock, &next) != ETIMEDOUT)
			;
		if (fs->is_ra_stopping)
			break;
		fs->is_ra_wanted = 0;
		pthread_mutex_unlock(&fs->ra_lock);
		store_readahead_trees(fs->s, FS_READAHEAD_MAX);
		clock_gettime(CLOCK_REALTIME, &next);
		next.tv_sec += 1;
		pthread_mutex_lock(&fs->ra_lock);
	}
	pthread_mutex_unlock(&fs->ra_lock);
	return NULL;
}

static void
readahead_trees(struct fs *fs)
{
	pthread_mutex_lock(&fs->ra_lock);
	/* Started here, not at fs_init(): no thread before the fork. */
	if (!fs->is_ra_started && !fs->is_ra_stopping &&
	    pthread_create(&fs->ra_thread, NULL, ra_main, fs) == 0)
		fs->is_ra_started = 1;
	/* Without the thread, no read-ahead: it is only a hint. */
	fs->is_ra_wanted = 1;
	pthread_cond_signal(&fs->ra_cond);
	pthread_mutex_unlock(&fs->ra_lock);
}

/* A pack of trees the index did not know: one more round records it
 * (and, from S3, copies it). */
static void
on_learn(void *ctx)
{
	readahead_trees(ctx);
}

int
fs_readdir(struct fs *fs, fuse_req_t req, fuse_ino_t ino, size_t size,
    off_t off, int is_plus, char *buf, size_t *len)
{
	struct fill f = {
		.fs = fs, .req = req, .is_plus = is_plus, .buf = buf,
		.size = size, .len = 0, .pos = 0, .skip = off < 0 ? 0 : off,
	};
	struct snaps_view *v = NULL;
	struct tnode *t = NULL;
	struct node n;
	int changed;
	int r = 0;

	memset(&n, 0, sizeof(n));
	if (inode_is_virtual(ino)) {
		if (!vnode_is_dir(ino))
			return -ENOTDIR;
		/* A listing of the top level shows news from the last
		 * second on, without making anyone wait. */
		if (off <= 0)
			snaps_rescan(fs->snaps, SNAPS_IF_STALE, &changed);
		v = snaps_get(fs->snaps);
	} else {
		if ((r = resolve_ino(fs, ino, &n)) < 0)
			return eio(r);
		/* A listing near the top of a snapshot (its root, files/,
		 * a source's root) likely starts a walk (find, du, diff -r):
		 * have the kernel read the index and the packs of trees
		 * ahead while we answer (in the read-ahead thread, at most a
		 * round a second; requests in between make one more round). */
		if (off <= 0 && n.depth <= 2)
			readahead_trees(fs);
		if (node_entry(&n)->type != STORE_DIR) {
			r = -ENOTDIR;
			goto out;
		}
		if ((r = tcache_get(fs->tc, &node_entry(&n)->tree,
		    &t)) < 0) {
			r = eio(r);
			goto out;
		}
	}
	if (fill_dots(&f, ino))
		goto out;
	if (v != NULL) {
		f.view = v;
		r = vnode_list(fs, v, ino, fill_virtual, &f);
		if (r > 0)
			r = 0;
	} else {
		r = fill_tree(&f, &n, t);
	}
out:
	*len = f.len;
	if (v != NULL)
		snaps_put(fs->snaps, v);
	tcache_put(fs->tc, t);
	node_fini(fs, &n);
	return r;
}

int
fs_open(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node n;
	uint8_t type;
	int r;

	fi->fh = 0;
	if ((fi->flags & O_ACCMODE) != O_RDONLY ||
	    (fi->flags & (O_TRUNC | O_CREAT | O_APPEND)) != 0)
		return -EROFS;
	if (inode_is_virtual(ino) || inode_ord(ino) == 0)
		return -EISDIR;
	if ((r = resolve_ino(fs, ino, &n)) < 0)
		return eio(r);
	type = node_is_gitcfg(&n) ? STORE_REG : node_entry(&n)->type;
	node_fini(fs, &n);
	if (type == STORE_DIR)
		return -EISDIR;
	if (type != STORE_REG)
		return -EINVAL;
	fi->keep_cache = 1;
	fi->noflush = 1;
	return 0;
}

/* The regular file ${ino}, found for a read or a seek; *${is_cfg}: one
 * whose content is a config of ours (gitcfg.h). */
static int
file_node(struct fs *fs, fuse_ino_t ino, struct node *n, int *is_cfg)
{
	int r;

	if (inode_is_virtual(ino) || inode_ord(ino) == 0)
		return -EISDIR;
	if ((r = resolve_ino(fs, ino, n)) < 0)
		return eio(r);
	if ((*is_cfg = node_is_gitcfg(n)) != 0)
		return 0;
	if (node_entry(n)->type != STORE_REG) {
		r = node_entry(n)->type == STORE_DIR ? -EISDIR : -EINVAL;
		node_fini(fs, n);
		return r;
	}
	return 0;
}

/*
 * Read the config we serve for node ${n} (gitcfg.h), made from the first
 * GITCFG_IN_MAX bytes of the stored one (none if it is no regular file).
 */
static int
gitcfg_read(struct fs *fs, const struct node *n, uint64_t off, size_t size,
    uint8_t *buf, size_t *got)
{
	const struct store_entry *e = node_entry(n);
	uint8_t out[GITCFG_SIZE];
	uint8_t *in = NULL;
	size_t len = 0;
	size_t want;
	int r = 0;

	if (e->type == STORE_REG && e->size > 0) {
		want = e->size < GITCFG_IN_MAX ? (size_t)e->size :
		    GITCFG_IN_MAX;
		if ((in = malloc(want)) == NULL)
			return -ENOMEM;
		if ((r = store_read(fs->s, e, 0, in, want, &len)) < 0) {
			r = eio(r);
			goto out;
		}
	}
	gitcfg_make(in, len, n->in_mirror, out);
	if (off < GITCFG_SIZE) {
		*got = size < GITCFG_SIZE - off ? size :
		    (size_t)(GITCFG_SIZE - off);
		memcpy(buf, out + off, *got);
	}
out:
	free(in);
	return r;
}

int
fs_read(struct fs *fs, fuse_ino_t ino, size_t size, off_t off, uint8_t *buf,
    size_t *got)
{
	const struct store_entry *e;
	struct node n;
	int is_cfg;
	int r;

	*got = 0;
	if (off < 0)
		return -EINVAL;
	if ((r = file_node(fs, ino, &n, &is_cfg)) < 0)
		return r;
	e = node_entry(&n);
	r = 0;
	if (is_cfg)
		r = gitcfg_read(fs, &n, (uint64_t)off, size, buf, got);
	else if ((uint64_t)off < e->size &&
	    (r = store_read(fs->s, e, (uint64_t)off, buf, size, got)) < 0)
		r = eio(r);
	node_fini(fs, &n);
	return r;
}

int
fs_read_pin(struct fs *fs, fuse_ino_t ino, size_t size, off_t off,
    struct store_pin *p, size_t *got)
{
	const struct store_entry *e;
	struct node n;
	int is_cfg;
	int r;

	*got = 0;
	p->n_iov = 0;
	if (off < 0)
		return -EINVAL;
	if ((r = file_node(fs, ino, &n, &is_cfg)) < 0)
		return r;
	e = node_entry(&n);
	if (is_cfg)
		r = -ERANGE;	/* not stored bytes: fs_read() makes them */
	else
		r = store_read_pin(fs->s, e, (uint64_t)off, size, p, got);
	node_fini(fs, &n);
	return r == -ERANGE ? r : eio(r);
}

int
fs_siblings(struct fs *fs, fuse_ino_t ino, fs_sibling_fn *fn, void *ctx)
{
	struct node n;
	const struct store_tree *tree;
	uint64_t dord;
	fuse_ino_t si;
	int r;

	if (inode_is_virtual(ino) || inode_ord(ino) == 0)
		return -EINVAL;
	if ((r = resolve_ino(fs, ino, &n)) < 0)
		return r;
	tree = n.parent != NULL && n.depth >= 3 ? tcache_tree(n.parent) : NULL;
	dord = tree != NULL ? n.ord - 1 - tcache_pre(n.parent, n.idx) : 0;
	for (size_t i = n.idx + 1; tree != NULL && r == 0 &&
	    i < tcache_len(n.parent); i++) {
		const struct store_entry *e = store_tree_entry(tree, i);

		if (e->type == STORE_REG && e->link == 0 &&
		    !is_gitcfg(tree, e) && entry_ino(fs, &n.pdir, n.slot,
		    dord + 1 + tcache_pre(n.parent, i), n.sroot, n.depth, e, 0,
		    &si) == 0)
			r = fn(ctx, inode_make(n.slot, dord), si, e);
	}
	node_fini(fs, &n);
	return r < 0 ? r : 0;
}

/* The first data offset at or after ${off}, or -ENXIO. */
static int
seek_data(const struct store_entry *e, uint64_t off, uint64_t *out)
{
	uint64_t best = UINT64_MAX;
	size_t i;

	for (i = 0; i < e->n_extents; i++) {
		const struct store_extent *x = &e->extents[i];
		uint64_t end = x->off + x->len;

		if (x->len == 0 || end <= off || x->off >= e->size)
			continue;
		if ((x->off > off ? x->off : off) < best)
			best = x->off > off ? x->off : off;
	}
	if (best == UINT64_MAX)
		return -ENXIO;
	*out = best;
	return 0;
}

/* The first hole at or after ${off}; the end of the file counts as one.
 * Extents are sorted and disjoint when the store is sound; this does not
 * rely on it, it only stops making progress when they are not. */
static uint64_t
seek_hole(const struct store_entry *e, uint64_t off)
{
	uint64_t pos = off;
	size_t pass;
	size_t i;

	for (pass = 0; pass <= e->n_extents; pass++) {
		int moved = 0;

		for (i = 0; i < e->n_extents; i++) {
			const struct store_extent *x = &e->extents[i];
			uint64_t end = x->off + x->len;

			if (x->off <= pos && pos < end) {
				pos = end;
				moved = 1;
			}
		}
		if (!moved)
			break;
	}
	return pos < e->size ? pos : e->size;
}

int
fs_lseek(struct fs *fs, fuse_ino_t ino, off_t off, int whence, off_t *out)
{
	const struct store_entry *e;
	struct node n;
	uint64_t pos;
	int is_cfg;
	int r;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	if ((r = file_node(fs, ino, &n, &is_cfg)) < 0)
		return r;
	e = node_entry(&n);
	if (is_cfg) {
		/* No holes. */
		if (off < 0 || off >= GITCFG_SIZE)
			r = -ENXIO;
		else
			*out = whence == SEEK_DATA ? off : GITCFG_SIZE;
	} else if (off < 0 || (uint64_t)off >= e->size) {
		r = -ENXIO;
	} else if (whence == SEEK_DATA) {
		if ((r = seek_data(e, (uint64_t)off, &pos)) == 0)
			*out = (off_t)pos;
	} else {
		*out = (off_t)seek_hole(e, (uint64_t)off);
	}
	node_fini(fs, &n);
	return r;
}

int
fs_statfs(struct fs *fs, struct statvfs *st)
{
	struct snaps_view *v = snaps_get(fs->snaps);
	const struct snaps_body *b;

	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	/* The newest snapshot's size: what a restore of it would take. */
	if (v->latest != NULL && snaps_load(v, v->latest, &b) == 0)
		st->f_blocks = (fsblkcnt_t)((b->size + 4095) / 4096);
	st->f_files = v->n;
	st->f_namemax = STORE_NAME_MAX;
	st->f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
	snaps_put(fs->snaps, v);
	return 0;
}
