/*
 * repack.c: repacking the packs a prune leaves mostly dead (amber-store(5),
 * PRUNING).  A pack that a kept snapshot references but whose live bytes
 * (the blobs of chunks the kept snapshots reference) are below the
 * threshold is not deleted whole: its live blobs are copied as they are
 * (sealed under their chunk's key, with the chunk id as AAD, so they
 * need no new sealing) into new packs, filled to the usual target size,
 * with a new table sealed under the table key and bound to the new
 * pack's bytes.  The new packs are written, fsynced and indexed first;
 * only then is the old pack handed back to the caller as dead.
 *
 * Anyone who may add a pack may add a location of a chunk, junk or a
 * forgery authentic under the chunk's key (issue 14).  So nothing is
 * copied, and no copy is counted on, before it has been opened and its
 * plaintext found to be the chunk its id and key name (the refs of the
 * kept trees say which): the bytes checked are the bytes copied.  A
 * chunk with no sound copy keeps every pack it is located in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypt.h"
#include "idset.h"
#include "index.h"
#include "log.h"
#include "pack.h"
#include "rd.h"
#include "repack.h"
#include "storei.h"
#include "writer.h"

/* A chunk's ref and kind, or a pack's live bytes, by id. */
struct ment {
	uint8_t id[STORE_HASH_LEN];
	uint8_t key[STORE_HASH_LEN];
	uint64_t n;		/* a pack's live blob bytes */
	uint64_t n_entries;	/* and live entries */
	uint8_t is_tree;
};

struct map {
	struct ment *v;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* A new pack being filled; with a dry run, its bytes are only counted. */
struct outpack {
	struct wb buf;
	struct pack_entry *e;
	size_t n;
	size_t cap;
	uint64_t len;
};

struct repack {
	struct store *s;
	unsigned threshold;
	int64_t cutoff;
	struct map refs;	/* live chunks */
	struct map live;	/* live bytes of each pack */
	uint8_t (*cand)[STORE_HASH_LEN];	/* the packs to repack */
	uint64_t *cand_size;
	size_t n_cand;
	size_t cap_cand;
	struct idset is_cand;
	struct idset done;	/* chunks with a sound copy that stays */
	struct idset failed;	/* chunks with no sound copy found */
	struct outpack out[2];	/* data, trees */
	uint8_t *plain;		/* a chunk opened to check it */
	size_t plain_cap;
	int is_dry_run;
	struct store_prune_stats *st;
};

static int
is_zero(const uint8_t id[STORE_HASH_LEN])
{
	static const uint8_t z[STORE_HASH_LEN];

	return memcmp(id, z, STORE_HASH_LEN) == 0;
}

static size_t
slot_of(const uint8_t id[STORE_HASH_LEN], size_t cap)
{
	return (size_t)le_get(id, 8) & (cap - 1);
}

/* The entry of ${id} (made, zeroed, if ${is_add}); NULL if none, or if
 * it cannot be added (-ENOMEM in *${r}). */
static struct ment *
map_get(struct map *m, const uint8_t id[STORE_HASH_LEN], int is_add, int *r)
{
	size_t i;

	*r = 0;
	if (is_zero(id))
		return NULL;	/* the free slot's mark: no chunk's id */
	if (is_add && (m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		struct ment *v = calloc(cap, sizeof(*v));

		if (v == NULL) {
			*r = -ENOMEM;
			return NULL;
		}
		for (size_t k = 0; k < m->cap; k++) {
			if (is_zero(m->v[k].id))
				continue;
			for (i = slot_of(m->v[k].id, cap); !is_zero(v[i].id);
			    i = (i + 1) & (cap - 1))
				;
			v[i] = m->v[k];
		}
		free(m->v);
		m->v = v;
		m->cap = cap;
	}
	if (m->cap == 0)
		return NULL;
	for (i = slot_of(id, m->cap); !is_zero(m->v[i].id);
	    i = (i + 1) & (m->cap - 1))
		if (memcmp(m->v[i].id, id, STORE_HASH_LEN) == 0)
			return &m->v[i];
	if (!is_add)
		return NULL;
	memcpy(m->v[i].id, id, STORE_HASH_LEN);
	m->n++;
	return &m->v[i];
}

int
repack_new(struct store *s, unsigned threshold, int64_t cutoff,
    struct repack **out)
{
	struct repack *rp;

	*out = NULL;
	if (threshold == 0)
		return 0;
	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return -ENOMEM;
	rp->s = s;
	rp->threshold = threshold > 100 ? 100 : threshold;
	rp->cutoff = cutoff;
	*out = rp;
	return 0;
}

void
repack_free(struct repack *rp)
{
	if (rp == NULL)
		return;
	if (rp->refs.v != NULL)
		crypt_wipe(rp->refs.v, rp->refs.cap * sizeof(*rp->refs.v));
	free(rp->refs.v);
	free(rp->live.v);
	free(rp->cand);
	free(rp->cand_size);
	idset_fini(&rp->is_cand);
	idset_fini(&rp->done);
	idset_fini(&rp->failed);
	for (size_t k = 0; k < 2; k++) {
		wb_fini(&rp->out[k].buf);
		free(rp->out[k].e);
	}
	if (rp->plain != NULL)
		crypt_wipe(rp->plain, rp->plain_cap);
	free(rp->plain);
	free(rp);
}

int
repack_note(struct repack *rp, const struct store_ref *ref, int is_tree)
{
	struct ment *m;
	int r;

	if (rp == NULL)
		return 0;
	if ((m = map_get(&rp->refs, ref->id, 1, &r)) == NULL)
		return r;
	memcpy(m->key, ref->key, STORE_HASH_LEN);
	m->is_tree |= is_tree != 0;
	return 0;
}

int
repack_count(struct repack *rp, const struct chunk_loc *loc)
{
	struct ment *m;
	int r;

	if (rp == NULL)
		return 0;
	if ((m = map_get(&rp->live, loc->pack, 1, &r)) == NULL)
		return r;
	m->n += loc->len;
	m->n_entries++;
	return 0;
}

int
repack_wants(struct repack *rp, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, int64_t mtime)
{
	const struct ment *m;
	uint64_t live;
	int r;

	if (rp == NULL || mtime > rp->cutoff)
		return 0;	/* young: as prune spares such packs */
	/* A pack's live bytes: its live blobs and what a pack of them
	 * alone would need besides (head, table, tail), so that a small
	 * pack all live, such as one a repack wrote, is never repacked
	 * again for the weight of its table. */
	m = map_get(&rp->live, h, 0, &r);
	live = m == NULL ? 0 : m->n + PACK_HEAD_LEN + CRYPT_NONCE_LEN + 4 +
	    STORE_HASH_LEN + m->n_entries * PACK_TOC_ENTRY_LEN +
	    CRYPT_TAG_LEN + PACK_TAIL_LEN;
	/* live / size < threshold / 100; no pack amber writes is larger
	 * than PACK_MAX, so this does not overflow */
	return live < size && size <= PACK_MAX &&
	    live * 100 < (uint64_t)rp->threshold * size;
}

int
repack_consider(struct repack *rp, const uint8_t h[STORE_HASH_LEN],
    uint64_t size, int64_t mtime)
{
	int r;

	if (!repack_wants(rp, h, size, mtime))
		return 0;
	if (rp->n_cand == rp->cap_cand) {
		size_t cap = rp->cap_cand ? 2 * rp->cap_cand : 64;
		uint8_t (*c)[STORE_HASH_LEN] = realloc(rp->cand,
		    cap * sizeof(*c));
		uint64_t *sz;

		if (c == NULL)
			return -ENOMEM;
		rp->cand = c;
		if ((sz = realloc(rp->cand_size, cap * sizeof(*sz))) == NULL)
			return -ENOMEM;
		rp->cand_size = sz;
		rp->cap_cand = cap;
	}
	if ((r = idset_add(&rp->is_cand, h)) < 0)
		return r;
	memcpy(rp->cand[rp->n_cand], h, STORE_HASH_LEN);
	rp->cand_size[rp->n_cand++] = size;
	return 1;
}

/* ---- the new packs -------------------------------------------------- */

/* The bytes of pack ${o} once closed: its table and tail added. */
static uint64_t
out_size(const struct outpack *o)
{
	return o->len + CRYPT_NONCE_LEN + 4 + STORE_HASH_LEN +
	    (uint64_t)o->n * PACK_TOC_ENTRY_LEN + CRYPT_TAG_LEN +
	    PACK_TAIL_LEN;
}

static int
out_close(struct repack *rp, int kind)
{
	struct outpack *o = &rp->out[kind];
	int r = 0;

	if (o->n == 0)
		return 0;
	rp->st->n_packs_written++;
	rp->st->bytes_packs_written += out_size(o);
	if (!rp->is_dry_run)
		r = writer_pack_close(rp->s, &o->buf, o->e, o->n, kind ?
		    INDEX_PACK_TREES : INDEX_PACK_DATA);
	o->buf.len = 0;
	o->n = 0;
	o->len = 0;
	return r;
}

/* Make room in the new pack of ${kind} for one more entry. */
static int
out_room(struct repack *rp, int kind)
{
	struct outpack *o = &rp->out[kind];
	int r;

	if (o->n == PACK_ENTRIES_MAX && (r = out_close(rp, kind)) < 0)
		return r;
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 256;
		struct pack_entry *e = realloc(o->e, cap * sizeof(*e));

		if (e == NULL)
			return -ENOMEM;
		o->e = e;
		o->cap = cap;
	}
	if (o->len == 0) {
		o->len = PACK_HEAD_LEN;
		if (!rp->is_dry_run &&
		    (r = wb_bytes(&o->buf, PACK_MAGIC, PACK_HEAD_LEN)) < 0)
			return r;
	}
	return 0;
}

/*
 * Copy the blob at ${loc} of chunk ${ref} into a new pack of ${kind} if
 * it is that chunk: 1 if copied, 0 if not the chunk (or unreadable),
 * -errno.  The blob is appended before it is checked (the check
 * decrypts it in place) and taken back if it fails.
 */
static int
copy_blob(struct repack *rp, const struct store_ref *ref, int kind,
    const struct chunk_loc *loc)
{
	struct backend *be = rp->s->be;
	struct outpack *o = &rp->out[kind];
	struct pack_entry *e;
	uint8_t *blob = NULL;
	char name[80];
	size_t got;
	size_t plen;
	int r;

	/* A blob is stored raw unless that is longer: no longer than this. */
	if (loc->len < BLOB_OVERHEAD ||
	    loc->len > (uint64_t)loc->raw_len + BLOB_OVERHEAD)
		return 0;
	if ((r = out_room(rp, kind)) < 0)
		return r;
	pack_name(loc->pack, name);
	r = be->ops->get(be, name, NULL, loc->off, loc->len, &blob, &got);
	if (r == -ENOMEM || r == -EIO)
		goto out;
	if (r < 0 || got != loc->len) {
		r = 0;
		goto out;
	}
	if (!rp->is_dry_run && (r = wb_bytes(&o->buf, blob, got)) < 0)
		goto out;
	r = store_blob_check(rp->s, ref, blob, got, loc->raw_len, rp->plain,
	    rp->plain_cap, &plen);
	if (r < 0) {
		if (!rp->is_dry_run)
			o->buf.len -= got;
		r = r == -ENOMEM ? r : 0;
		goto out;
	}
	e = &o->e[o->n++];
	memcpy(e->id, ref->id, STORE_HASH_LEN);
	e->off = o->len;
	e->len = loc->len;
	e->raw_len = loc->raw_len;
	o->len += got;
	rp->st->n_chunks_copied++;
	rp->st->bytes_copied += got;
	if (o->len >= PACK_TARGET && (r = out_close(rp, kind)) < 0)
		goto out;
	r = 1;
out:
	free(blob);
	return r;
}

/* ---- choosing the copy to keep -------------------------------------- */

static int
plain_room(struct repack *rp, size_t len)
{
	uint8_t *p;

	if (len + 1 <= rp->plain_cap)
		return 0;
	if ((p = malloc(len + 1)) == NULL)
		return -ENOMEM;
	if (rp->plain != NULL)
		crypt_wipe(rp->plain, rp->plain_cap);
	free(rp->plain);
	rp->plain = p;
	rp->plain_cap = len + 1;
	return 0;
}

/*
 * Give chunk ${m} a sound copy in a pack that stays: 1 if it has one
 * already or now (copied, from the pack being repacked first, ${own}),
 * 0 if no location of it holds it, -errno.
 */
static int
resolve(struct repack *rp, const struct ment *m, const struct chunk_loc *own)
{
	struct store_ref ref;
	struct index_locs it = INDEX_LOCS_INIT;
	struct chunk_loc loc;
	size_t got;
	int r;

	memcpy(ref.id, m->id, STORE_HASH_LEN);
	memcpy(ref.key, m->key, STORE_HASH_LEN);
	while ((r = index_locs_next(rp->s->ix, ref.id, &it, &loc)) == 1) {
		if (idset_has(&rp->is_cand, loc.pack))
			continue;
		if ((r = plain_room(rp, loc.raw_len)) < 0)
			goto out;
		r = store_chunk_open_at(rp->s, &ref, &loc, rp->plain,
		    loc.raw_len, &got, NULL);
		if (r == -ENOMEM)
			goto out;
		if (r == 0 && got == loc.raw_len) {
			r = 1;
			goto out;
		}
	}
	if (r < 0 || (r = plain_room(rp, own->raw_len)) < 0 ||
	    (r = copy_blob(rp, &ref, m->is_tree, own)) != 0)
		goto out;
	/* The pack's own copy is not the chunk: another one to repack. */
	it = (struct index_locs)INDEX_LOCS_INIT;
	while ((r = index_locs_next(rp->s->ix, ref.id, &it, &loc)) == 1) {
		if (!idset_has(&rp->is_cand, loc.pack) ||
		    memcmp(loc.pack, own->pack, STORE_HASH_LEN) == 0)
			continue;
		if ((r = plain_room(rp, loc.raw_len)) < 0 ||
		    (r = copy_blob(rp, &ref, m->is_tree, &loc)) != 0)
			goto out;
	}
out:
	crypt_wipe(&ref, sizeof(ref));
	return r;
}

/*
 * Repack candidate ${i}: 1 if every live chunk of it now has a sound
 * copy that stays (it may go), 0 if not, -errno.
 */
static int
repack_one(struct repack *rp, size_t i)
{
	struct pack_entry *e = NULL;
	struct chunk_loc own;
	char name[80];
	size_t n = 0;
	int is_whole = 1;
	int r;

	pack_name(rp->cand[i], name);
	r = store_pack_toc(rp->s, name, rp->cand_size[i], &e, &n);
	if (r == -ENOMEM || r == -EIO)
		return r;
	if (r < 0) {
		log_warn("%s: its table cannot be read: not repacked", name);
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		const struct ment *m = map_get(&rp->refs, e[k].id, 0, &r);

		if (m == NULL || idset_has(&rp->done, e[k].id))
			continue;	/* dead, or seen to already */
		if (idset_has(&rp->failed, e[k].id)) {
			is_whole = 0;
			continue;
		}
		memcpy(own.pack, rp->cand[i], STORE_HASH_LEN);
		own.off = e[k].off;
		own.len = e[k].len;
		own.raw_len = e[k].raw_len;
		if ((r = resolve(rp, m, &own)) < 0)
			goto out;
		r = idset_add(r == 1 ? &rp->done : &rp->failed, e[k].id);
		if (r < 0)
			goto out;
		if (!idset_has(&rp->done, e[k].id)) {
			log_warn("%s: a chunk it holds has no sound copy: "
			    "not repacked (see amber verify)", name);
			is_whole = 0;
		}
	}
	r = is_whole;
out:
	free(e);
	return r;
}

int
repack_run(struct repack *rp, int is_dry_run,
    int (*retire)(void *ctx, const uint8_t h[STORE_HASH_LEN], uint64_t size),
    void *ctx, struct store_prune_stats *st)
{
	uint8_t (*gone)[STORE_HASH_LEN] = NULL;
	uint64_t *gone_size = NULL;
	size_t n_gone = 0;
	size_t i;
	int r = 0;

	if (rp == NULL || rp->n_cand == 0)
		return 0;
	rp->is_dry_run = is_dry_run;
	rp->st = st;
	gone = calloc(rp->n_cand, sizeof(*gone));
	gone_size = calloc(rp->n_cand, sizeof(*gone_size));
	if (gone == NULL || gone_size == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < rp->n_cand; i++) {
		if ((r = repack_one(rp, i)) < 0)
			goto out;
		if (r == 1) {
			memcpy(gone[n_gone], rp->cand[i], STORE_HASH_LEN);
			gone_size[n_gone++] = rp->cand_size[i];
		}
	}
	/* The new packs are durable and indexed before any old one goes. */
	if ((r = out_close(rp, 0)) < 0 || (r = out_close(rp, 1)) < 0)
		goto out;
	for (i = 0; i < n_gone; i++) {
		if ((r = retire(ctx, gone[i], gone_size[i])) < 0)
			goto out;
		if (r == 0)
			continue;	/* stays for now (an S3 lock) */
		st->n_packs_repacked++;
		st->bytes_packs_repacked += gone_size[i];
	}
	r = 0;
out:
	free(gone);
	free(gone_size);
	return r;
}
