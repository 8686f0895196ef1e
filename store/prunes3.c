/*
 * prunes3.c: freeing the space a retention policy expires on S3
 * (amber-store(5), PRUNING).  The one place in amber that sends a
 * DELETE, and it never names a version: it only adds a delete marker on
 * top of what the policy no longer needs and whose Object Lock has
 * ended.  The bucket's NoncurrentVersionExpiration rule then removes the
 * versions under the markers, and skips any version still locked; the
 * prune credentials need s3:DeleteObject only, and should be denied
 * s3:DeleteObjectVersion.  A marker put on something kept by mistake
 * (or by a race with an ingest that lengthened the lock in between)
 * hides nothing: amber reads every key's original version through
 * markers, and the lifecycle rule cannot remove a locked version.
 *
 * The plan is the local prune's: the expired manifests, and the packs
 * no kept snapshot references, older than the grace.  An expired
 * manifest still locked stays, and so do the packs it references, so
 * that no manifest left names a pack that went.
 *
 * Repacking (repack.c) is the local prune's too, with the pack's age
 * from the listing (LastModified) and its lock read first: the new packs
 * are locked at least as long as an ingest now would lock them (the
 * policy's horizon) and as the longest lock of the packs repacked; once
 * they are put and indexed, the old packs' locations are forgotten by
 * this index, so that its ingests lengthen the new packs' locks, not
 * theirs.  An old pack whose lock has ended is marked with the others;
 * one still locked is left for a later run, where it is a pack no kept
 * snapshot references (in this index) and goes as one.  Every repacked
 * pack's lock is read again just before its marker: an ingest that
 * reused one of its chunks in between has lengthened it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "idset.h"
#include "index.h"
#include "log.h"
#include "pack.h"
#include "repack.h"
#include "s3i.h"
#include "storei.h"
#include "writer.h"

/* One object that may go: its key (below the store's prefix), the
 * original version a read uses, its size. */
struct gone {
	char key[96];
	char version[128];
	uint64_t size;
	uint8_t h[STORE_HASH_LEN];	/* pack hash, or snapshot id */
	int64_t until;		/* a pack to repack: its lock */
	int is_pack;
	int is_repacked;
};

struct plan {
	struct gone *v;
	size_t n;
	size_t cap;
};

static struct gone *
plan_add(struct plan *p)
{
	if (p->n == p->cap) {
		size_t cap = p->cap == 0 ? 64 : 2 * p->cap;
		struct gone *v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		p->v = v;
		p->cap = cap;
	}
	memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
	return &p->v[p->n++];
}

/* What the versions of one key say (listed newest first). */
struct key_acc {
	char key[S3_KEY_MAX + 1];	/* bucket key */
	char version[128];	/* the oldest real version */
	uint64_t size;
	int64_t mtime;
	int n_seen;
	int n_real;
	int is_hidden;		/* the newest entry is a delete marker */
};

static void
acc_add(struct key_acc *a, const struct s3_entry *e)
{
	if (a->n_seen++ == 0 && e->is_delete_marker)
		a->is_hidden = 1;
	if (e->is_delete_marker)
		return;
	a->n_real++;
	snprintf(a->version, sizeof(a->version), "%s", e->version);
	a->size = e->size;
	a->mtime = e->mtime;
}

/* ---- the expired manifests ------------------------------------------ */

static int
one_key_visit(void *ctx, const struct s3_entry *e)
{
	struct key_acc *a = ctx;

	if (strcmp(e->key, a->key) != 0)
		return a->n_seen > 0 ? 1 : 0;
	acc_add(a, e);
	return 0;
}

/*
 * The retain-until date of ${version} of the bucket key ${fk} in *until
 * (0: none).  Returns 0, -ENOENT, -EACCES (s3:GetObjectRetention is
 * needed, through HEAD), -EIO.
 */
static int
lock_until(struct s3 *s, const char *fk, const char *version, int64_t *until)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param q[1] = { { "versionId", version } };
	struct s3_call c = { "HEAD", fk, q, 1, NULL, 0, NULL, 0, 0, NULL };
	const char *v;
	int r;

	*until = 0;
	if ((r = s3_send(s, &c, &resp)) == 0 &&
	    (r = s3_status(s, "HEAD", fk, &resp)) == 0) {
		v = http_response_header(&resp,
		    "x-amz-object-lock-retain-until-date");
		if (v != NULL && s3_parse_time(v, until) < 0)
			r = log_err(-EIO, "%s: %s: unreadable retain-until "
			    "date '%s'", s->be.location, fk, v);
		/* A legal hold keeps it too, however long. */
		v = http_response_header(&resp, "x-amz-object-lock-legal-hold");
		if (v != NULL && strcmp(v, "ON") == 0)
			*until = INT64_MAX;
	}
	http_response_fini(&resp);
	return r;
}

struct run {
	struct store *s;
	struct s3 *s3;
	const struct store_prune_in *in;
	void (*each)(void *ctx, const char *object, uint64_t size, int what);
	void *ctx;
	struct store_prune_stats *st;
	int64_t now;
	struct plan go;		/* objects to mark, manifests first */
	struct idset live;	/* packs a kept (or locked) manifest needs */
	struct idset dead;	/* packs marked */
	struct repack *rp;	/* NULL: no repacking */
	struct plan cand;	/* the packs to repack, with their locks */
	int64_t cand_until;	/* the longest of those locks */
	struct idset moved;	/* repacked packs: locations to forget */
	/* The root trees whose packs stay: the kept snapshots', then the
	 * expired manifests still locked. */
	struct store_ref *roots;
	size_t n_roots;
};

/*
 * Is ${g} (its original version known) free to go: its lock ended?  If
 * not, it is reported as locked; returns 1 if it may go, 0 if not.
 */
static int
may_go(struct run *rn, const char *fk, const struct gone *g)
{
	int64_t until;
	int r;

	if ((r = lock_until(rn->s3, fk, g->version, &until)) < 0)
		return r == -ENOENT ? 0 : r;
	if (until <= rn->now)
		return 1;
	rn->st->n_locked++;
	rn->st->bytes_locked += g->size;
	if (rn->in->locked != NULL)
		rn->in->locked(rn->ctx, g->key, g->size, until);
	return 0;
}

static int
plan_manifests(struct run *rn)
{
	const struct store_prune_in *in = rn->in;
	struct key_acc *a;
	struct gone *g;
	char hex[2 * STORE_HASH_LEN + 1];
	char fk[S3_KEY_MAX + 1];
	size_t i;
	int r = 0;

	if ((a = malloc(sizeof(*a))) == NULL)
		return -ENOMEM;
	for (i = 0; i < in->n_drop && r >= 0; i++) {
		log_hex(in->drop[i], STORE_HASH_LEN, hex);
		memset(a, 0, sizeof(*a));
		snprintf(a->key, sizeof(a->key), "%ssnapshots/%s",
		    rn->s3->prefix, hex);
		snprintf(fk, sizeof(fk), "%s", a->key);
		if ((r = s3_list_versions(rn->s3, fk, 0, one_key_visit,
		    a)) < 0)
			break;
		if (a->n_real == 0)
			continue;	/* gone already */
		if (a->is_hidden) {
			rn->st->n_hidden++;
			continue;
		}
		if ((g = plan_add(&rn->go)) == NULL) {
			r = -ENOMEM;
			break;
		}
		snprintf(g->key, sizeof(g->key), "snapshots/%s", hex);
		snprintf(g->version, sizeof(g->version), "%s", a->version);
		g->size = a->size;
		memcpy(g->h, in->drop[i], STORE_HASH_LEN);
		if ((r = may_go(rn, fk, g)) == 1) {
			rn->st->n_snaps++;
			rn->st->bytes_snaps += g->size;
			continue;
		}
		rn->go.n--;	/* stays: and its packs with it */
		if (r == 0 && in->drop_tree != NULL)
			rn->roots[rn->n_roots++] = in->drop_tree[i];
	}
	free(a);
	return r < 0 ? r : 0;
}

/* ---- the packs -------------------------------------------------------- */

struct pack_acc {
	struct run *rn;
	struct key_acc a;
	int64_t cutoff;
};

/*
 * A live pack, read whole from the listing: to be repacked?  Its lock is
 * read first (a HEAD for each pack to repack only): the new packs must
 * be locked at least as long.  One under a legal hold never goes, and
 * one under a marker waits for the lifecycle rule: neither is repacked.
 */
static int
repack_candidate(struct pack_acc *pa, const uint8_t h[STORE_HASH_LEN])
{
	struct run *rn = pa->rn;
	struct key_acc *a = &pa->a;
	struct gone *g;
	int r;

	if (a->is_hidden || !repack_wants(rn->rp, h, a->size, a->mtime))
		return 0;
	if ((g = plan_add(&rn->cand)) == NULL)
		return -ENOMEM;
	snprintf(g->key, sizeof(g->key), "%s",
	    a->key + strlen(rn->s3->prefix));
	snprintf(g->version, sizeof(g->version), "%s", a->version);
	g->size = a->size;
	g->is_pack = 1;
	memcpy(g->h, h, STORE_HASH_LEN);
	if ((r = lock_until(rn->s3, a->key, a->version, &g->until)) < 0 ||
	    g->until == INT64_MAX) {
		rn->cand.n--;
		return r == -ENOENT ? 0 : r;
	}
	if (g->until > rn->cand_until)
		rn->cand_until = g->until;
	r = repack_consider(rn->rp, h, a->size, a->mtime);
	return r < 0 ? r : 0;
}

/* Every version of a key seen: judge the pack. */
static int
pack_flush(struct pack_acc *pa)
{
	struct run *rn = pa->rn;
	struct key_acc *a = &pa->a;
	size_t pl = strlen(rn->s3->prefix);
	uint8_t h[STORE_HASH_LEN];
	struct gone *g;

	if (a->n_real == 0 || strncmp(a->key, rn->s3->prefix, pl) != 0 ||
	    pack_name_parse(a->key + pl, h) < 0)
		return 0;	/* not a pack's name: not ours to touch */
	if (idset_has(&rn->live, h)) {
		if (a->is_hidden)
			log_warn("%s: a delete marker hides %s, which a kept "
			    "snapshot references; it stays readable while "
			    "its lock lasts", rn->s3->be.location, a->key);
		rn->st->n_packs_live++;
		rn->st->bytes_packs_live += a->size;
		return repack_candidate(pa, h);
	}
	if (a->is_hidden) {
		rn->st->n_hidden++;
		return 0;
	}
	if (a->mtime > pa->cutoff) {
		rn->st->n_packs_young++;
		rn->st->bytes_packs_young += a->size;
		return 0;
	}
	if ((g = plan_add(&rn->go)) == NULL)
		return -ENOMEM;
	snprintf(g->key, sizeof(g->key), "%s", a->key + pl);
	snprintf(g->version, sizeof(g->version), "%s", a->version);
	g->size = a->size;
	g->is_pack = 1;
	memcpy(g->h, h, STORE_HASH_LEN);
	return 0;
}

static int
pack_visit(void *ctx, const struct s3_entry *e)
{
	struct pack_acc *pa = ctx;
	int r;

	if (strcmp(e->key, pa->a.key) != 0) {
		if ((r = pack_flush(pa)) < 0)
			return r;
		memset(&pa->a, 0, sizeof(pa->a));
		snprintf(pa->a.key, sizeof(pa->a.key), "%s", e->key);
	}
	acc_add(&pa->a, e);
	return 0;
}

static int
plan_packs(struct run *rn)
{
	struct pack_acc *pa;
	char fp[S3_KEY_MAX + 1];
	char fk[S3_KEY_MAX + 1];
	size_t first = rn->go.n;
	size_t i;
	size_t k;
	int r;

	if ((pa = calloc(1, sizeof(*pa))) == NULL)
		return -ENOMEM;
	pa->rn = rn;
	pa->cutoff = rn->now - rn->in->grace;
	if ((r = s3_full_key(rn->s3, "packs/", fp, sizeof(fp))) == 0 &&
	    (r = s3_list_versions(rn->s3, fp, 0, pack_visit, pa)) == 0)
		r = pack_flush(pa);
	free(pa);
	if (r == -ENOENT)
		r = 0;
	/* Unreferenced and old enough: the lock decides. */
	for (i = k = first; i < rn->go.n && r >= 0; i++) {
		struct gone *g = &rn->go.v[i];

		if ((r = s3_full_key(rn->s3, g->key, fk, sizeof(fk))) < 0 ||
		    (r = may_go(rn, fk, g)) <= 0)
			continue;
		rn->go.v[k++] = *g;
		rn->st->n_packs++;
		rn->st->bytes_packs += g->size;
	}
	if (r >= 0)
		rn->go.n = k;
	return r < 0 ? r : 0;
}

/* ---- repacking ------------------------------------------------------- */

/*
 * A pack repacked (repack.c): its live chunks have a checked copy in a
 * pack that stays, put and indexed.  This index forgets its locations;
 * it is marked with the others if its lock has ended (1), else left for
 * a later run (0).
 */
static int
retire(void *ctx, const uint8_t h[STORE_HASH_LEN], uint64_t size)
{
	struct run *rn = ctx;
	const struct gone *c = NULL;
	struct gone *g;
	int r;

	for (size_t i = 0; i < rn->cand.n && c == NULL; i++)
		if (memcmp(rn->cand.v[i].h, h, STORE_HASH_LEN) == 0)
			c = &rn->cand.v[i];
	if (c == NULL)
		return -EINVAL;	/* not one we named: cannot be */
	if ((r = idset_add(&rn->moved, h)) < 0)
		return r;
	rn->st->n_packs_live--;
	rn->st->bytes_packs_live -= size;
	if (c->until > rn->now) {
		rn->st->n_locked++;
		rn->st->bytes_locked += size;
		if (rn->in->locked != NULL)
			rn->in->locked(rn->ctx, c->key, size, c->until);
		return 0;
	}
	if ((g = plan_add(&rn->go)) == NULL)
		return -ENOMEM;
	*g = *c;
	g->is_repacked = 1;
	return 1;
}

static int
repack_s3(struct run *rn)
{
	uint64_t old = 0;
	int r;

	if (rn->rp == NULL || rn->cand.n == 0)
		return 0;
	/* The new packs: locked as an ingest now locks what it writes, and
	 * never shorter than any pack whose chunks they take. */
	if (rn->cand_until > rn->now)
		old = (uint64_t)(rn->cand_until - rn->now);
	if (!rn->in->is_dry_run && (r = writer_lock_horizon(rn->s, old)) < 0)
		return r;
	return repack_run(rn->rp, rn->in->is_dry_run, retire, rn, rn->st);
}

/* ---- marking ---------------------------------------------------------- */

/* DELETE by key, without a version id: a delete marker, nothing more. */
static int
mark(struct s3 *s, const char *key)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct s3_call c = { "DELETE", NULL, NULL, 0, NULL, 0, NULL, 0, 0,
	    NULL };
	char fk[S3_KEY_MAX + 1];
	int r;

	if ((r = s3_full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	c.key = fk;
	if ((r = s3_send(s, &c, &resp)) == 0)
		r = s3_status(s, "DELETE", fk, &resp);
	http_response_fini(&resp);
	return r;
}

/* Locations this index forgets: of packs marked, and of packs repacked. */
static int
is_gone(void *ctx, const uint8_t h[STORE_HASH_LEN])
{
	const struct run *rn = ctx;

	return idset_has(&rn->dead, h) || idset_has(&rn->moved, h);
}

/*
 * The index's note of the packs a repack retired here: marked later as
 * unreferenced, such a pack keeps its row too (see mark_all()).
 */
static const char repacked_table[] = "repacked";

static int
note_repacked(void *ctx, const uint8_t h[STORE_HASH_LEN])
{
	(void)index_cache_put(ctx, repacked_table, h, STORE_HASH_LEN, "", 0);
	return 0;
}

static int
was_repacked(struct run *rn, const struct gone *g)
{
	return g->is_repacked || index_cache_get(rn->s->ix, repacked_table,
	    g->h, STORE_HASH_LEN, NULL, NULL) == 0;
}

/*
 * After a repack wrote packs (which takes time), a pack's lock is read
 * again just before its marker: an ingest that reused one of its chunks
 * since has lengthened it.  1 if it may still go, 0 if not (counted as
 * locked, not as going), -errno.
 */
static int
recheck(struct run *rn, const struct gone *g)
{
	char fk[S3_KEY_MAX + 1];
	int r;

	if (!g->is_pack || rn->st->n_packs_written == 0)
		return 1;
	rn->now = (int64_t)time(NULL);
	if ((r = s3_full_key(rn->s3, g->key, fk, sizeof(fk))) < 0 ||
	    (r = may_go(rn, fk, g)) != 0)
		return r;
	if (g->is_repacked) {
		rn->st->n_packs_repacked--;
		rn->st->bytes_packs_repacked -= g->size;
	} else {
		rn->st->n_packs--;
		rn->st->bytes_packs -= g->size;
	}
	return 0;
}

static int
mark_all(struct run *rn)
{
	uint8_t (*packs)[STORE_HASH_LEN] = NULL;
	uint8_t (*snaps)[STORE_HASH_LEN] = NULL;
	size_t n_packs = 0;
	size_t n_snaps = 0;
	uint64_t n_records;
	size_t i;
	int r;

	/* The record first: every index rebuilds (and readers know the
	 * parents it names expired) before any marker is put. */
	if (rn->go.n > 0 && (r = prune_record_write(rn->s, rn->in->drop,
	    rn->in->n_drop)) < 0)
		return r;
	packs = calloc(rn->go.n + 1, sizeof(*packs));
	snaps = calloc(rn->go.n + 1, sizeof(*snaps));
	if (packs == NULL || snaps == NULL) {
		r = -ENOMEM;
		goto out;
	}
	(void)idset_each(&rn->moved, note_repacked, rn->s->ix);
	/* Manifests first (plan order): a killed run leaves no manifest
	 * that names a pack under a marker, and a rerun goes on. */
	for (i = 0; i < rn->go.n; i++) {
		const struct gone *g = &rn->go.v[i];

		if ((r = recheck(rn, g)) <= 0) {
			if (r < 0)
				goto out;
			continue;
		}
		if ((r = mark(rn->s3, g->key)) < 0)
			goto out;
		rn->st->n_markers++;
		if (!g->is_pack)
			memcpy(snaps[n_snaps++], g->h, STORE_HASH_LEN);
		else if ((r = idset_add(&rn->dead, g->h)) < 0)
			goto out;
		else if (!was_repacked(rn, g))
			memcpy(packs[n_packs++], g->h, STORE_HASH_LEN);
	}
	/* A pack repacked, marked or left (locked), keeps its row in the
	 * index, so that no sync (nor verify) indexes it again while it is
	 * listed: its chunks have their copies in the new packs; only its
	 * locations go.  A pack marked otherwise is forgotten whole: a
	 * sync indexes it again while it is listed, should an ingest
	 * elsewhere have reused it. */
	if ((r = index_forget(rn->s->ix, is_gone, rn,
	    (const uint8_t (*)[STORE_HASH_LEN])packs, n_packs,
	    (const uint8_t (*)[STORE_HASH_LEN])snaps, n_snaps)) < 0 ||
	    (r = prune_index_stale(rn->s, &n_records)) < 0)
		goto out;
	prune_index_note(rn->s, n_records);
out:
	free(packs);
	free(snaps);
	return r;
}

int
prune_s3(struct store *s, const struct store_prune_in *in,
    void (*each)(void *ctx, const char *object, uint64_t size, int what),
    void *ctx, struct store_prune_stats *st)
{
	struct run rn;
	size_t i;
	int r;

	memset(&rn, 0, sizeof(rn));
	rn.s = s;
	rn.s3 = s3_of(s->be);
	rn.in = in;
	rn.each = each;
	rn.ctx = ctx;
	rn.st = st;
	rn.now = (int64_t)time(NULL);
	if ((rn.roots = calloc(in->n_keep + in->n_drop + 1,
	    sizeof(*rn.roots))) == NULL)
		return -ENOMEM;
	memcpy(rn.roots, in->keep, in->n_keep * sizeof(*rn.roots));
	rn.n_roots = in->n_keep;
	/* No lock holds writers off on S3: an ingest lengthens the lock of
	 * every pack it reuses before it commits a manifest naming it, and
	 * a pack is marked only once its lock has ended. */
	if ((r = store_index_sync(s, 0)) < 0 ||
	    (r = plan_manifests(&rn)) < 0 ||
	    (r = repack_new(s, in->repack_threshold, rn.now - in->grace,
	    &rn.rp)) < 0)
		goto out;
	/*
	 * This index forgot the packs an earlier prune marked; an ingest
	 * elsewhere may have reused one since (lengthening its lock first,
	 * so its version stays).  A kept chunk this index cannot locate
	 * then costs one rebuild, which reads every pack still there,
	 * under a marker or not, and a second walk.
	 */
	r = prune_live_packs(s, rn.roots, rn.n_roots, &rn.live,
	    &st->n_chunks_live, rn.rp);
	if (r == -EBADMSG) {
		log_warn("%s: a kept snapshot names a chunk this index does "
		    "not locate: rebuilding the index", s->be->location);
		idset_fini(&rn.live);
		memset(&rn.live, 0, sizeof(rn.live));
		repack_free(rn.rp);
		rn.rp = NULL;
		if ((r = store_index_sync(s, 1)) == 0 &&
		    (r = repack_new(s, in->repack_threshold,
		    rn.now - in->grace, &rn.rp)) == 0)
			r = prune_live_packs(s, rn.roots, rn.n_roots,
			    &rn.live, &st->n_chunks_live, rn.rp);
	}
	if (r < 0 || (r = plan_packs(&rn)) < 0 || (r = repack_s3(&rn)) < 0)
		goto out;
	for (i = 0; each != NULL && i < rn.go.n; i++)
		each(ctx, rn.go.v[i].key, rn.go.v[i].size,
		    rn.go.v[i].is_repacked ? STORE_PRUNE_REPACKED :
		    rn.go.v[i].is_pack ? STORE_PRUNE_PACK :
		    STORE_PRUNE_SNAPSHOT);
	if (in->is_dry_run || (rn.go.n == 0 && rn.moved.n == 0))
		goto out;
	r = mark_all(&rn);
out:
	free(rn.go.v);
	free(rn.cand.v);
	free(rn.roots);
	idset_fini(&rn.live);
	idset_fini(&rn.dead);
	idset_fini(&rn.moved);
	repack_free(rn.rp);
	return r;
}
