/*
 * prune.c: freeing the space a retention policy expires, on a local
 * store (amber-store(5), PRUNING).  The one place in amber that deletes
 * objects.  What is live is found by walking the kept snapshots' trees:
 * every chunk they reference, and every pack the index locates one in.
 * A pack no kept snapshot references is deleted only if it is older
 * than the grace period and while no writer runs (the prune lock), so an
 * ingest never loses a pack it writes or a chunk it reuses; then the
 * index forgets what went, so that no writer here dedups against a
 * deleted pack.
 *
 * Before anything is deleted, a record of the expired snapshots, signed
 * by the master, is stored (pruned/<hex>): readers then know that a
 * parent it names was expired under the policy, not lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypt.h"
#include "hex.h"
#include "idset.h"
#include "index.h"
#include "log.h"
#include "pack.h"
#include "rd.h"
#include "repack.h"
#include "storei.h"

#define PRN_MAGIC "AMBRPRN1"
#define PRN_HEAD (8 + STORE_ID_LEN + 8 + 4)
/* A record is read whole under the cap of revoked/ (16 MiB). */
#define PRN_MAX_IDS ((REV_OBJ_MAX - PRN_HEAD - CRYPT_SIG_LEN) / \
	STORE_HASH_LEN)

int
prune_lock(struct store *s, int is_exclusive, int is_wait)
{
	char path[4096];
	int fd;

	if (!s->be->is_local || s->be->location == NULL ||
	    strncmp(s->be->location, "s3://", 5) == 0)
		return -EOPNOTSUPP;
	if (snprintf(path, sizeof(path), "%s/tmp/prune.lock",
	    s->be->location) >= (int)sizeof(path))
		return -EINVAL;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return log_err(-EIO, "%s: %s", path, strerror(errno));
	while (flock(fd, (is_exclusive ? LOCK_EX : LOCK_SH) |
	    (is_wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		return errno == EWOULDBLOCK ? -EBUSY : -EIO;
	}
	return fd;
}

/* ---- what the kept snapshots reference ------------------------------ */

struct walk {
	struct store *s;
	struct idset trees;	/* trees walked already */
	struct idset chunks;	/* every chunk referenced, trees too */
	uint64_t n_missing;
	struct repack *rp;	/* NULL: no repacking */
};

static int
walk_tree(struct walk *w, const struct store_ref *ref, unsigned depth)
{
	struct store_tree *t = NULL;
	size_t i;
	size_t k;
	int r;

	if ((r = idset_add(&w->trees, ref->id)) <= 0)
		return r;	/* seen (0), or -ENOMEM */
	if ((r = idset_add(&w->chunks, ref->id)) < 0 ||
	    (r = repack_note(w->rp, ref, 1)) < 0)
		return r;
	if (depth > STORE_DEPTH_MAX)
		return log_err(-EBADMSG, "a tree deeper than %u levels: "
		    "nothing is pruned", STORE_DEPTH_MAX);
	if ((r = store_tree_read(w->s, ref, &t)) < 0) {
		/* A kept snapshot we cannot walk: we cannot know what it
		 * needs, so nothing may be deleted. */
		return log_err(r == -ENOMEM ? r : -EBADMSG, "a tree of a "
		    "kept snapshot cannot be read: nothing is pruned");
	}
	for (i = 0; i < store_tree_len(t) && r >= 0; i++) {
		const struct store_entry *e = store_tree_entry(t, i);

		if (e->type == STORE_DIR) {
			r = walk_tree(w, &e->tree, depth + 1);
			continue;
		}
		for (k = 0; k < e->n_extents && r >= 0; k++)
			if ((r = idset_add(&w->chunks,
			    e->extents[k].ref.id)) >= 0)
				r = repack_note(w->rp, &e->extents[k].ref, 0);
	}
	store_tree_free(t);
	return r < 0 ? r : 0;
}

struct live_packs {
	struct store *s;
	struct idset packs;
	struct repack *rp;
};

static int
live_pack_of(void *ctx, const uint8_t id[32])
{
	struct live_packs *lp = ctx;
	struct index_locs it = INDEX_LOCS_INIT;
	struct chunk_loc loc;
	int r;

	/* Every location counts: any copy may be the sound one. */
	while ((r = index_locs_next(lp->s->ix, id, &it, &loc)) == 1)
		if ((r = idset_add(&lp->packs, loc.pack)) < 0 ||
		    (r = repack_count(lp->rp, &loc)) < 0)
			return r;
	return r == -ENOENT ? 0 : r;
}

int
prune_live_packs(struct store *s, const struct store_ref *roots, size_t n,
    struct idset *packs, uint64_t *n_chunks, struct repack *rp)
{
	struct walk w;
	struct live_packs lp;
	size_t i;
	int r = 0;

	memset(&w, 0, sizeof(w));
	memset(&lp, 0, sizeof(lp));
	w.s = s;
	lp.s = s;
	w.rp = lp.rp = rp;
	lp.packs = *packs;
	for (i = 0; i < n && r >= 0; i++)
		r = walk_tree(&w, &roots[i], 0);
	if (r >= 0)
		r = idset_each(&w.chunks, live_pack_of, &lp);
	*packs = lp.packs;
	*n_chunks = w.chunks.n;
	idset_fini(&w.trees);
	idset_fini(&w.chunks);
	return r < 0 ? r : 0;
}

/* ---- the packs of the store ----------------------------------------- */

struct pack_scan {
	const struct idset *live;
	int64_t cutoff;		/* packs modified after it are young */
	struct store_prune_stats *st;
	struct repack *rp;
	int dirfd;
	/* The packs to delete, found by the scan and deleted after the
	 * record: they grow with what is freed only. */
	uint8_t (*dead)[STORE_HASH_LEN];
	uint64_t *dead_size;
	struct idset is_dead;
	size_t n_dead;
	size_t cap_dead;
};

static int
unlink_object(int dirfd, const char *key)
{
	int fd;
	int flags;

	/* Objects of an --immutable store carry FS_IMMUTABLE_FL: lift
	 * it (root only) just before the unlink. */
	if ((fd = openat(dirfd, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
		    (flags & FS_IMMUTABLE_FL)) {
			flags &= ~FS_IMMUTABLE_FL;
			if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) {
				int e = errno;

				close(fd);
				return log_err(-EIO, "%s: cannot lift the "
				    "immutable attribute (needs root): %s",
				    key, strerror(e));
			}
		}
		close(fd);
	}
	if (unlinkat(dirfd, key, 0) != 0 && errno != ENOENT)
		return log_err(-EIO, "%s: unlink: %s", key, strerror(errno));
	return 0;
}

static int
is_dead(void *ctx, const uint8_t h[STORE_HASH_LEN])
{
	return idset_has(ctx, h);
}

/* Add pack ${h} to those to delete. */
static int
dead_push(struct pack_scan *ps, const uint8_t h[STORE_HASH_LEN],
    uint64_t size)
{
	int r;

	if (ps->n_dead == ps->cap_dead) {
		size_t cap = ps->cap_dead == 0 ? 64 : 2 * ps->cap_dead;
		uint8_t (*d)[STORE_HASH_LEN] = realloc(ps->dead,
		    cap * sizeof(*d));
		uint64_t *sz;

		if (d == NULL)
			return -ENOMEM;
		ps->dead = d;
		if ((sz = realloc(ps->dead_size, cap * sizeof(*sz))) == NULL)
			return -ENOMEM;
		ps->dead_size = sz;
		ps->cap_dead = cap;
	}
	if ((r = idset_add(&ps->is_dead, h)) < 0)
		return r;
	memcpy(ps->dead[ps->n_dead], h, STORE_HASH_LEN);
	ps->dead_size[ps->n_dead++] = size;
	return 0;
}

static int
pack_scan_one(void *ctx, const char *key, uint64_t size)
{
	struct pack_scan *ps = ctx;
	uint8_t h[STORE_HASH_LEN];
	struct stat sb;
	int r;

	if (pack_name_parse(key, h) < 0)
		return 0;	/* not a pack's name: not ours to touch */
	/* The age of a live pack is looked at only if it would be
	 * repacked for its live bytes: a stat per such pack, not per pack. */
	if (idset_has(ps->live, h)) {
		ps->st->n_packs_live++;
		ps->st->bytes_packs_live += size;
		if (!repack_wants(ps->rp, h, size, INT64_MIN) ||
		    fstatat(ps->dirfd, key, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			return 0;
		r = repack_consider(ps->rp, h, size, sb.st_mtime);
		return r < 0 ? r : 0;
	}
	if (fstatat(ps->dirfd, key, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    sb.st_mtime > ps->cutoff) {
		ps->st->n_packs_young++;
		ps->st->bytes_packs_young += size;
		return 0;
	}
	ps->st->n_packs++;
	ps->st->bytes_packs += size;
	return dead_push(ps, h, size);
}

/* A pack repacked (repack.c): it goes as an unreferenced one does. */
static int
retire(void *ctx, const uint8_t h[STORE_HASH_LEN], uint64_t size)
{
	struct pack_scan *ps = ctx;

	int r;

	ps->st->n_packs_live--;
	ps->st->bytes_packs_live -= size;
	return (r = dead_push(ps, h, size)) < 0 ? r : 1;
}

/* ---- the record of what expired ------------------------------------- */

int
prune_record_write(struct store *s, const uint8_t (*drop)[STORE_HASH_LEN],
    size_t n)
{
	struct wb w = { NULL, 0, 0 };
	uint8_t h[CRYPT_HASH_LEN];
	uint8_t sig[CRYPT_SIG_LEN];
	char hex[2 * CRYPT_HASH_LEN + 1];
	char key[16 + sizeof(hex)];
	int r;

	if (n > PRN_MAX_IDS)
		return log_err(-EINVAL, "%zu snapshots expire at once: at "
		    "most %zu a run", n, (size_t)PRN_MAX_IDS);
	if ((r = wb_bytes(&w, PRN_MAGIC, 8)) < 0 ||
	    (r = wb_bytes(&w, s->cfg.store_id, STORE_ID_LEN)) < 0 ||
	    (r = wb_le(&w, (uint64_t)time(NULL), 8)) < 0 ||
	    (r = wb_le(&w, n, 4)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = wb_bytes(&w, drop[i], STORE_HASH_LEN)) < 0)
			goto out;
	if ((r = crypt_ed25519_sign(s->kr.sign_seed, w.p, w.len, sig)) < 0 ||
	    (r = wb_bytes(&w, sig, sizeof(sig))) < 0)
		goto out;
	crypt_sha256(w.p, w.len, h);
	log_hex(h, sizeof(h), hex);
	snprintf(key, sizeof(key), "pruned/%s", hex);
	/* The same record (a rerun within the second of a killed run):
	 * its name is its hash, so what is there is what we would write. */
	if ((r = backend_put(s->be, key, w.p, w.len, h)) == -EEXIST)
		r = 0;
out:
	wb_fini(&w);
	return r;
}

struct expired_scan {
	struct store *s;
	int (*fn)(void *ctx, const uint8_t id[STORE_HASH_LEN]);
	void *ctx;
};

static int
expired_one(void *ctx, const char *key, uint64_t size)
{
	struct expired_scan *es = ctx;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint32_t n;
	int r;

	r = store_object_read_listed(es->s, key, size, &buf, &len);
	if (r == -ENOMEM || r == -EIO) {
		free(buf);
		return r;
	}
	if (r < 0 || len < PRN_HEAD + CRYPT_SIG_LEN ||
	    memcmp(buf, PRN_MAGIC, 8) != 0 ||
	    memcmp(buf + 8, es->s->cfg.store_id, STORE_ID_LEN) != 0 ||
	    (n = (uint32_t)le_get(buf + PRN_HEAD - 4, 4)) > PRN_MAX_IDS ||
	    len != PRN_HEAD + (size_t)n * STORE_HASH_LEN + CRYPT_SIG_LEN ||
	    crypt_ed25519_verify(es->s->cfg.sign_pub, buf,
	    len - CRYPT_SIG_LEN, buf + len - CRYPT_SIG_LEN) < 0) {
		log_warn("%s: not a record of expired snapshots signed by "
		    "this store's master; ignored", key);
		free(buf);
		return 0;
	}
	r = 0;
	for (uint32_t i = 0; i < n && r == 0; i++)
		r = es->fn(es->ctx, buf + PRN_HEAD + (size_t)i *
		    STORE_HASH_LEN);
	free(buf);
	return r;
}

int
store_expired_each(struct store *s,
    int (*fn)(void *ctx, const uint8_t id[STORE_HASH_LEN]), void *ctx)
{
	struct expired_scan es = { s, fn, ctx };
	int r;

	r = s->be->ops->list(s->be, "pruned/", expired_one, &es);
	return r == -ENOENT ? 0 : r;
}

static int
expired_add(void *ctx, const uint8_t id[STORE_HASH_LEN])
{
	int r = idset_add(ctx, id);

	return r < 0 ? r : 0;
}

int
prune_expired_set(struct store *s, struct idset *out)
{
	return store_expired_each(s, expired_add, out);
}

/*
 * Another machine's prune deletes packs this index still locates chunks
 * in, and a writer here would dedup against them.  Records are only
 * added, so a change in their number says a prune ran since this index
 * last looked: store_index_sync() then rebuilds it.  W2 adding junk
 * there costs a rebuild per object added, once.
 */
static const char prune_table[] = "prune";
static const char prune_key[] = "records";

static int
count_one(void *ctx, const char *key, uint64_t size)
{
	(void)key;
	(void)size;
	(*(uint64_t *)ctx)++;
	return 0;
}

int
prune_index_stale(struct store *s, uint64_t *n)
{
	void *val = NULL;
	size_t vlen = 0;
	uint64_t was;
	int r;

	*n = 0;
	if (s->ix == NULL)
		return 0;
	r = s->be->ops->list(s->be, "pruned/", count_one, n);
	if (r < 0 && r != -ENOENT)
		return r;
	r = index_cache_get(s->ix, prune_table, prune_key,
	    sizeof(prune_key) - 1, &val, &vlen);
	if (r < 0 && r != -ENOENT)
		return r;
	was = r == 0 && vlen == 8 ? le_get(val, 8) : 0;
	free(val);
	return was != *n;
}

void
prune_index_note(struct store *s, uint64_t n)
{
	uint8_t v[8];

	le_put(v, n, 8);
	(void)index_cache_put(s->ix, prune_table, prune_key,
	    sizeof(prune_key) - 1, v, sizeof(v));
}

/* ---- prune ---------------------------------------------------------- */

/*
 * List the packs: those to delete, unreferenced and old, and (repack.c)
 * those whose live blobs were copied, or with ${is_dry_run} would be;
 * call ${each} with each.
 */
static int
packs_dead(struct store *s, struct pack_scan *ps, int is_dry_run,
    void (*each)(void *ctx, const char *object, uint64_t size, int what),
    void *ctx)
{
	char name[80];
	size_t n_unref;
	int r;

	r = s->be->ops->list(s->be, "packs/", pack_scan_one, ps);
	if (r < 0 && r != -ENOENT)
		return r;
	/* The live blobs of mostly dead packs are copied first; the packs
	 * then go as unreferenced ones do. */
	n_unref = ps->n_dead;
	if ((r = repack_run(ps->rp, is_dry_run, retire, ps, ps->st)) < 0)
		return r;
	for (size_t i = 0; each != NULL && i < ps->n_dead; i++) {
		pack_name(ps->dead[i], name);
		each(ctx, name, ps->dead_size[i], i < n_unref ?
		    STORE_PRUNE_PACK : STORE_PRUNE_REPACKED);
	}
	return 0;
}

int
store_prune(struct store *s, const struct store_prune_in *in,
    void (*each)(void *ctx, const char *object, uint64_t size, int what),
    void *ctx, struct store_prune_stats *st)
{
	struct walk w;
	struct live_packs lp;
	struct pack_scan ps;
	char name[80];
	char hex[2 * STORE_HASH_LEN + 1];
	char key[16 + sizeof(hex)];
	uint64_t size;
	uint64_t n_records;
	int lockfd = -1;
	int dirfd = -1;
	size_t i;
	int r;

	memset(st, 0, sizeof(*st));
	memset(&w, 0, sizeof(w));
	memset(&lp, 0, sizeof(lp));
	memset(&ps, 0, sizeof(ps));
	w.s = s;
	lp.s = s;
	if (!s->kr.has_master || s->ix == NULL)
		return -EACCES;
	if (s->be->location != NULL &&
	    strncmp(s->be->location, "s3://", 5) == 0)
		return prune_s3(s, in, each, ctx, st);	/* prunes3.c */
	/* -EBUSY: a writer runs; the caller says so */
	if ((lockfd = prune_lock(s, 1, 0)) < 0)
		return lockfd;
	if ((dirfd = open(s->be->location, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		r = log_err(-EIO, "%s: %s", s->be->location, strerror(errno));
		goto out;
	}
	/* Under the lock no writer runs: what the index holds now is all
	 * that any snapshot may reference. */
	if ((r = store_index_sync(s, 0)) < 0)
		goto out;
	ps.cutoff = (int64_t)time(NULL) - in->grace;
	if ((r = repack_new(s, in->repack_threshold, ps.cutoff, &ps.rp)) < 0)
		goto out;
	w.rp = lp.rp = ps.rp;
	for (i = 0; i < in->n_keep; i++)
		if ((r = walk_tree(&w, &in->keep[i], 0)) < 0)
			goto out;
	if ((r = idset_each(&w.chunks, live_pack_of, &lp)) < 0)
		goto out;
	st->n_chunks_live = w.chunks.n;
	for (i = 0; i < in->n_drop; i++) {
		log_hex(in->drop[i], STORE_HASH_LEN, hex);
		snprintf(key, sizeof(key), "snapshots/%s", hex);
		if (s->be->ops->stat(s->be, key, &size) < 0)
			continue;
		st->n_snaps++;
		st->bytes_snaps += size;
		if (each != NULL)
			each(ctx, key, size, STORE_PRUNE_SNAPSHOT);
	}
	ps.live = &lp.packs;
	ps.st = st;
	ps.dirfd = dirfd;
	if ((r = packs_dead(s, &ps, in->is_dry_run, each, ctx)) < 0)
		goto out;
	if (in->is_dry_run || (st->n_snaps == 0 && ps.n_dead == 0))
		goto out;
	/*
	 * The record goes first whenever anything is deleted, even with no
	 * snapshot in it: the number of records then changes before any
	 * pack goes, so every index (this one too, if the run is killed
	 * before index_forget() below) rebuilds before a writer may dedup
	 * against a deleted pack.
	 */
	if ((r = prune_record_write(s, in->drop, in->n_drop)) < 0)
		goto out;
	/* Manifests first: a pack is deleted only once nothing that is
	 * left names it, so a run killed anywhere leaves every kept
	 * snapshot whole, and a rerun finishes the job. */
	for (i = 0; i < in->n_drop; i++) {
		log_hex(in->drop[i], STORE_HASH_LEN, hex);
		snprintf(key, sizeof(key), "snapshots/%s", hex);
		if ((r = unlink_object(dirfd, key)) < 0)
			goto out;
	}
	for (i = 0; i < ps.n_dead; i++) {
		pack_name(ps.dead[i], name);
		if ((r = unlink_object(dirfd, name)) < 0)
			goto out;
	}
	/*
	 * Forget the deleted packs and manifests before any writer may
	 * dedup against them: still under the lock.  Only then does the
	 * index note the record, so a run killed before this point leaves
	 * an index that the next sync rebuilds.  A failure here leaves it
	 * so too.
	 */
	if ((r = index_forget(s->ix, is_dead, &ps.is_dead,
	    (const uint8_t (*)[STORE_HASH_LEN])ps.dead, ps.n_dead,
	    in->drop, in->n_drop)) < 0)
		goto out;
	if ((r = prune_index_stale(s, &n_records)) < 0)
		goto out;
	prune_index_note(s, n_records);
	r = 0;
out:
	idset_fini(&w.trees);
	idset_fini(&w.chunks);
	idset_fini(&lp.packs);
	free(ps.dead);
	free(ps.dead_size);
	idset_fini(&ps.is_dead);
	repack_free(ps.rp);
	if (dirfd >= 0)
		close(dirfd);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}
