/*
 * verify.c: `amber verify`.  Three passes: the packs (listed from the
 * backend; with STORE_VERIFY_READ_DATA each is read whole and its SHA-256
 * checked against its name, which covers every byte of it, and its table
 * authenticated), the snapshot DAG (each manifest's name is its hash, its
 * signature and seal hold, its parents exist), and every tree and chunk
 * reachable from a snapshot (present in an undamaged pack; with
 * READ_DATA, decrypted and authenticated), down to STORE_DEPTH_MAX
 * levels; a deeper directory is itself a problem.  Each problem is reported with
 * the object, whether anything references it, and a snapshot and path it
 * affects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pack.h"
#include "snap.h"
#include "storei.h"
#include "tree.h"
#include "idset.h"

struct bad_pack {
	char name[80];
	uint8_t h[32];
	char what[200];
	int is_referenced;
};

struct vctx {
	struct store *s;
	unsigned flags;
	void (*report)(void *ctx, const struct store_problem *p);
	void *rctx;
	uint64_t n_problems;
	struct bad_pack *bad;
	size_t n_bad;
	struct idset bad_set;
	struct idset seen_trees;	/* checked whole */
	struct idset cut_trees;		/* checked down to the limit: cut_key() */
	uint64_t n_cut;			/* directories past the limit met */
	struct idset seen_chunks;
	struct store_snap **snaps;
	size_t n_snaps;
	struct idset snap_ids;
	const char *cur_snap;
	char path[8192];
};

static void
problem(struct vctx *v, const char *object, const char *what, int is_ref,
    const char *path)
{
	struct store_problem p = { object, what, is_ref, v->cur_snap,
		path };

	v->n_problems++;
	v->report(v->rctx, &p);
}

static int
add_bad(struct vctx *v, const char *name, const uint8_t h[32],
    const char *what)
{
	struct bad_pack *b = realloc(v->bad, (v->n_bad + 1) * sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	v->bad = b;
	b = &v->bad[v->n_bad++];
	snprintf(b->name, sizeof(b->name), "%s", name);
	memcpy(b->h, h, 32);
	snprintf(b->what, sizeof(b->what), "%s", what);
	b->is_referenced = 0;
	return idset_add(&v->bad_set, h) < 0 ? -ENOMEM : 0;
}

static int
check_pack(void *ctx, const char *key, uint64_t size)
{
	struct vctx *v = ctx;
	struct pack_entry *e = NULL;
	struct hash_want hw;
	const char *why = NULL;
	char what[200];
	int is_unbound = 0;
	uint8_t *buf = NULL;
	size_t len;
	size_t n = 0;
	int r;

	if (pack_name_parse(key, hw.h) < 0) {
		problem(v, key, "not a pack name (foreign object)", 0, NULL);
		return 0;
	}
	if (v->flags & STORE_VERIFY_READ_DATA) {
		/* The whole pack, checked against its name; with it at hand
		 * its table is checked against its bytes, on any backend. */
		r = store_object_get(v->s, key, store_hash_check, &hw, &buf,
		    &len);
		if (r == 0)
			r = store_pack_toc_whole(v->s, buf, len, &e, &n, &why,
			    &is_unbound);
		else if (r == -EBADMSG)
			return add_bad(v, key, hw.h, "content does not match "
			    "its hash (damaged)");
		free(buf);
	} else {
		r = store_pack_toc_why(v->s, key, size, &e, &n, &why,
		    &is_unbound);
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0 && r != -EBADMSG)
		return add_bad(v, key, hw.h, "cannot be read");
	if (r < 0 || is_unbound) {
		snprintf(what, sizeof(what), "pack table: %s", why != NULL ?
		    why : "authentication failed");
		if ((r = add_bad(v, key, hw.h, what)) < 0 || e == NULL) {
			free(e);
			return r;
		}
	}
	if (index_pack_has(v->s->ix, hw.h) == 0)
		index_pack_add_last(v->s->ix, hw.h, size, e, n,
		    INDEX_PACK_DATA, is_unbound);
	free(e);
	return 0;
}

static int
check_snap(void *ctx, const char *key, uint64_t size)
{
	struct vctx *v = ctx;
	struct store_snap *sn = NULL;
	struct store_snap **vv;
	struct hash_want hw;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	(void)size;
	if (strlen(key) != 10 + 64) {
		problem(v, key, "not a snapshot name (foreign object)", 0,
		    NULL);
		return 0;
	}
	for (size_t i = 0; i < 32; i++) {
		unsigned x;

		if (sscanf(key + 10 + 2 * i, "%2x", &x) != 1)
			return 0;
		hw.h[i] = (uint8_t)x;
	}
	r = store_object_get(v->s, key, store_hash_check, &hw, &buf, &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		problem(v, key, r == -EBADMSG ? "content does not match its "
		    "hash (damaged)" : "cannot be read", 1, NULL);
		free(buf);
		return 0;
	}
	r = snap_open(&v->s->kr, &v->s->reg, buf, len, &sn);
	free(buf);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		problem(v, key, "manifest fails authentication", 1, NULL);
		return 0;
	}
	if ((vv = realloc(v->snaps, (v->n_snaps + 1) * sizeof(*vv))) == NULL) {
		snap_free(sn);
		return -ENOMEM;
	}
	v->snaps = vv;
	v->snaps[v->n_snaps++] = sn;
	return idset_add(&v->snap_ids, sn->id) < 0 ? -ENOMEM : 0;
}

static void
mark_bad_referenced(struct vctx *v, const uint8_t pack[32])
{
	for (size_t i = 0; i < v->n_bad; i++)
		if (memcmp(v->bad[i].h, pack, 32) == 0)
			v->bad[i].is_referenced = 1;
}

/* What check_pack() found wrong with pack ${h}; NULL if nothing. */
static const char *
bad_what(const struct vctx *v, const uint8_t h[32])
{
	for (size_t i = 0; i < v->n_bad; i++)
		if (memcmp(v->bad[i].h, h, 32) == 0)
			return v->bad[i].what;
	return NULL;
}

/* Locations of one chunk that verify names one by one, at most. */
#define BAD_LOCS_NAMED 256

/*
 * check_locs(v, ref): with READ_DATA, open chunk ${ref} at every location
 * the index knows, and name each that fails: anyone who may add a pack
 * may add a location, and a reader that falls back past it still pays
 * for it.  Returns the number of locations that gave the chunk, or
 * -ENOMEM.
 */
static int
check_locs(struct vctx *v, const struct store_ref *ref, const char *what)
{
	struct index_locs it = INDEX_LOCS_INIT;
	struct chunk_loc loc;
	struct chunk_loc *bad = NULL;
	int *forged = NULL;
	size_t n_bad = 0;
	char obj[120];
	char msg[512];
	int n_good = 0;
	int r;

	while ((r = index_locs_next(v->s->ix, ref->id, &it, &loc)) == 1) {
		uint8_t *buf = malloc(loc.raw_len + 1);
		size_t got;
		int is_forged = 0;

		if (buf == NULL) {
			r = -ENOMEM;
			goto out;
		}
		if (idset_has(&v->bad_set, loc.pack))
			mark_bad_referenced(v, loc.pack);
		r = store_chunk_open_at(v->s, ref, &loc, buf, loc.raw_len, &got,
		    &is_forged);
		free(buf);
		if (r == -ENOMEM)
			goto out;
		if (r == 0) {
			n_good++;
			continue;
		}
		if (n_bad < BAD_LOCS_NAMED) {
			struct chunk_loc *b = realloc(bad, (n_bad + 1) *
			    sizeof(*b));
			int *f = realloc(forged, (n_bad + 1) * sizeof(*f));

			if (b != NULL)
				bad = b;
			if (f != NULL)
				forged = f;
			if (b == NULL || f == NULL) {
				r = -ENOMEM;
				goto out;
			}
			bad[n_bad] = loc;
			forged[n_bad] = is_forged;
		}
		n_bad++;
	}
	if (r == -ENOMEM)
		goto out;
	for (size_t i = 0; i < n_bad && i < BAD_LOCS_NAMED; i++) {
		const char *pw = bad_what(v, bad[i].pack);

		pack_name(bad[i].pack, obj);
		snprintf(msg, sizeof(msg), "%s at offset %llu: %s%s", n_good ?
		    "a bad copy of a chunk" : what,
		    (unsigned long long)bad[i].off, forged[i] ?
		    "authentic, but not the chunk its id names (forged by a "
		    "key holder)" : pw != NULL ? pw : "fails authentication",
		    n_good ? " (another copy is intact)" : "");
		problem(v, obj, msg, 1, v->path);
	}
	if (n_bad > BAD_LOCS_NAMED) {
		snprintf(msg, sizeof(msg), "and %zu more bad copies of this "
		    "chunk", n_bad - BAD_LOCS_NAMED);
		problem(v, "(more packs)", msg, 1, v->path);
	}
	r = n_good;
out:
	free(bad);
	free(forged);
	return r;
}

/* Check one referenced chunk; returns -ENOMEM only. */
static int
check_chunk(struct vctx *v, const struct store_ref *ref, size_t raw_len,
    const char *what)
{
	struct chunk_loc loc;
	char obj[120];
	char hex[65];
	int r;

	log_hex(ref->id, 32, hex);
	r = index_chunk_get(v->s->ix, ref->id, &loc);
	if (r == -ENOENT) {
		snprintf(obj, sizeof(obj), "chunk %.16s", hex);
		problem(v, obj, "missing: in no pack", 1, v->path);
		return 0;
	}
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	if ((v->flags & STORE_VERIFY_READ_DATA) && raw_len > 0) {
		/* Every location is read and each bad one named; a chunk
		 * of a damaged pack that still authenticates is intact. */
		r = check_locs(v, ref, what);
		return r == -ENOMEM ? r : 0;
	}
	pack_name(loc.pack, obj);
	if (idset_has(&v->bad_set, loc.pack)) {
		mark_bad_referenced(v, loc.pack);
		problem(v, obj, what, 1, v->path);
	}
	return 0;
}

/*
 * The key under which a tree whose walk from ${depth} met the depth limit
 * is remembered: its id with the depth mixed into two bytes (ids are keyed
 * hashes; two that differ in those bytes alone are not to be found).
 */
static void
cut_key(const uint8_t id[32], size_t depth, uint8_t k[32])
{
	memcpy(k, id, 32);
	k[0] ^= (uint8_t)depth;
	k[1] ^= (uint8_t)(depth >> 8);
}

/*
 * Check the directory ${dir} at ${depth} below the snapshot's root.  A
 * tree checked whole is not checked again.  One whose walk met the
 * limit is remembered with its depth: met again higher up, through a
 * shorter path, it is walked again and can be checked further (a tree
 * first met deep must not hide what lies below it elsewhere), yet each
 * tree is walked at most once per depth, so that a hostile DAG of shared
 * trees costs at most STORE_DEPTH_MAX walks of each, never one walk per
 * path.
 */
static int
walk(struct vctx *v, const struct store_entry *dir, size_t depth)
{
	struct store_tree *t = NULL;
	size_t plen = strlen(v->path);
	uint64_t cut = v->n_cut;
	uint8_t key[32];
	int r;

	/*
	 * The walk recurses: a limit keeps a hostile chain of trees from
	 * exhausting the stack.  It is restore's, so that what verify
	 * passes can be read, and what it cannot check is named.
	 */
	if (depth > STORE_DEPTH_MAX) {
		char hex[65];
		char obj[80];

		v->n_cut++;
		log_hex(dir->tree.id, 32, hex);
		snprintf(obj, sizeof(obj), "tree %.16s", hex);
		problem(v, obj, "directory nested deeper than 2048 levels: "
		    "not checked (amber restore refuses it)", 1, v->path);
		return 0;
	}
	cut_key(dir->tree.id, depth, key);
	if (idset_has(&v->seen_trees, dir->tree.id) ||
	    idset_has(&v->cut_trees, key))
		return 0;	/* checked already, through another path */
	r = store_tree_read(v->s, &dir->tree, &t);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char hex[65];
		char obj[80];

		if (idset_add(&v->seen_trees, dir->tree.id) < 0)
			return -ENOMEM;

		log_hex(dir->tree.id, 32, hex);
		snprintf(obj, sizeof(obj), "tree %.16s", hex);
		if (check_chunk(v, &dir->tree, 0, "holds a damaged tree") < 0)
			return -ENOMEM;
		problem(v, obj, "directory cannot be read", 1, v->path);
		return 0;
	}
	/* The tree read; every other copy of it is checked too. */
	if ((v->flags & STORE_VERIFY_READ_DATA) &&
	    check_locs(v, &dir->tree, "holds this directory's tree") ==
	    -ENOMEM) {
		store_tree_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < store_tree_len(t) && r == 0; i++) {
		const struct store_entry *e = store_tree_entry(t, i);

		snprintf(v->path + plen, sizeof(v->path) - plen, "%s%.*s",
		    plen ? "/" : "", (int)e->name_len, (const char *)e->name);
		if (e->type == STORE_DIR) {
			r = walk(v, e, depth + 1);
		} else if (e->type == STORE_REG) {
			for (size_t k = 0; k < e->n_extents && r == 0; k++) {
				if (idset_add(&v->seen_chunks,
				    e->extents[k].ref.id) == 0)
					continue;
				r = check_chunk(v, &e->extents[k].ref,
				    e->extents[k].len,
				    "holds data of this file (damaged)");
			}
		}
	}
	v->path[plen] = '\0';
	store_tree_free(t);
	if (r == 0 && (v->n_cut == cut ? idset_add(&v->seen_trees,
	    dir->tree.id) : idset_add(&v->cut_trees, key)) < 0)
		r = -ENOMEM;
	return r;
}

int
store_verify(struct store *s, unsigned flags, const char *expect,
    void (*report)(void *ctx, const struct store_problem *p), void *ctx,
    uint64_t *n_problems)
{
	struct vctx v = { 0 };
	struct idset expired = { NULL, 0, 0 };
	int r;

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	v.s = s;
	v.flags = flags;
	v.report = report;
	v.rctx = ctx;
	if ((r = s->be->ops->list(s->be, "packs/", check_pack, &v)) < 0)
		goto out;
	if ((r = s->be->ops->list(s->be, "snapshots/", check_snap, &v)) < 0)
		goto out;
	/* Now, not 0: the names reported are those amber snapshots shows,
	 * and they depend on which snapshots are trusted. */
	snap_order(s, v.snaps, v.n_snaps, (int64_t)time(NULL));
	/* Parents expired under the signed policy are not missing; a
	 * deletion nobody signed still is (amber-store(5), PRUNING). */
	if ((r = prune_expired_set(s, &expired)) == -ENOMEM)
		goto out;
	r = 0;
	for (size_t i = 0; i < v.n_snaps; i++) {
		struct store_snap *sn = v.snaps[i];

		v.cur_snap = sn->name;
		if (sn->flags & STORE_SNAP_REVOKED) {
			char obj[80];
			char hex[65];

			log_hex(sn->id, 32, hex);
			snprintf(obj, sizeof(obj), "snapshots/%s", hex);
			problem(&v, obj, "made by an ingest key after it was "
			    "revoked: not to be trusted", 1, NULL);
		}
		for (size_t k = 0; k < sn->n_parents; k++) {
			char obj[80];
			char hex[65];

			if (idset_has(&v.snap_ids, sn->parents[k]) ||
			    idset_has(&expired, sn->parents[k]))
				continue;
			log_hex(sn->parents[k], 32, hex);
			snprintf(obj, sizeof(obj), "snapshots/%s", hex);
			problem(&v, obj, "missing: a later snapshot names it "
			    "as its parent (deleted or withheld)", 1, NULL);
		}
	}
	if (expect != NULL) {
		int found = 0;

		for (size_t i = 0; i < v.n_snaps; i++) {
			char hex[65];

			log_hex(v.snaps[i]->id, 32, hex);
			if (strncmp(hex, expect, strlen(expect)) == 0)
				found = 1;
		}
		if (!found) {
			v.cur_snap = NULL;
			problem(&v, expect, "expected snapshot is missing", 1,
			    NULL);
		}
	}
	for (size_t i = 0; i < v.n_snaps && r == 0; i++) {
		/* Named in a signed record of expired snapshots: its data
		 * may go (on S3 a manifest still locked outlives the packs
		 * only it referenced); not damage. */
		if (idset_has(&expired, v.snaps[i]->id))
			continue;
		v.cur_snap = v.snaps[i]->name;
		v.path[0] = '\0';
		r = walk(&v, &v.snaps[i]->root, 0);
	}
	v.cur_snap = NULL;
	for (size_t i = 0; i < v.n_bad; i++)
		if (!v.bad[i].is_referenced)
			problem(&v, v.bad[i].name, v.bad[i].what, 0, NULL);
	*n_problems = v.n_problems;
out:
	for (size_t i = 0; i < v.n_snaps; i++)
		snap_free(v.snaps[i]);
	free(v.snaps);
	free(v.bad);
	idset_fini(&v.bad_set);
	idset_fini(&v.seen_trees);
	idset_fini(&v.cut_trees);
	idset_fini(&v.seen_chunks);
	idset_fini(&v.snap_ids);
	idset_fini(&expired);
	return r;
}
