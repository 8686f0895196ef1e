/*
 * snaps.c: snapshot records, views and slots (see snaps.h).
 *
 * What grows with the store: one small record per snapshot (its id, time
 * and slot), and per view a few dozen bytes per snapshot (its name).
 * Bodies come only with use: the ids of a snapshot's sources (4 bytes
 * each, once per distinct set of sources: snapshots with the same
 * sources share one array) and one interned name per distinct source.
 * Records are made under scan_lock, bodies, the id table, the interned
 * names and writers under load_lock, and none changes once made, so
 * views point into them without copying; views are swapped under lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "inode.h"
#include "msg.h"
#include "snaps.h"

/* A distinct set of source ids, and the body that owns its array. */
struct set_ent {
	uint64_t hash;
	const struct snaps_body *owner;
};

struct snaps {
	struct store *s;
	pthread_mutex_t lock;	/* guards cur and every view's n_ref */
	struct snaps_view *cur;
	pthread_mutex_t scan_lock;	/* one rescan at a time; recs */
	struct snaps_rec **recs;	/* every record, sorted by id */
	size_t n_recs;
	pthread_mutex_t load_lock;	/* bodies and the rest */
	struct snaps_src *names;	/* interned, sorted by kind, name */
	size_t n_names;		/* also the next source id */
	struct set_ent *sets;	/* sorted by hash */
	size_t n_sets;
	struct snaps_writer **writers;	/* interned, each its own block */
	size_t n_writers;
	size_t n_loaded;	/* bodies loaded (load_lock) */
	uint32_t n_slots;	/* slots given so far */
	uint32_t scan;		/* scans begun */
	int is_full_logged;
	struct timespec last_scan;
};

static void
rec_free(struct snaps_rec *r)
{
	if (r == NULL)
		return;
	if (r->body != NULL && r->body->owns_srcs)
		free((void *)r->body->srcs);
	free(r->body);
	free(r);
}

static void
view_free(struct snaps_view *v)
{
	if (v == NULL)
		return;
	free(v->writers);
	free(v->snaps);
	free(v->by_name);
	free(v->by_slot);
	free(v->srcs);
	free(v->src_by_id);
	free(v);
}

/* Order of sources: kind, then name. */
static int
src_cmp(uint8_t kind, const char *name, const struct snaps_src *x)
{
	if (kind != x->kind)
		return kind < x->kind ? -1 : 1;
	return strcmp(name, x->name);
}

/* Binary search of ${v}: the index of (${kind}, ${name}), or where it
 * would go (*${at}); 1 if found. */
static int
src_search(const struct snaps_src *v, size_t n, uint8_t kind,
    const char *name, size_t *at)
{
	size_t lo = 0;
	size_t hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = src_cmp(kind, name, &v[mid]);

		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return 0;
}

/* The id of source (${kind}, ${name}), interning it if new. load_lock. */
static int
intern(struct snaps *sn, uint8_t kind, const char *name, uint32_t *id)
{
	struct snaps_src *v;
	char *copy;
	size_t at;

	if (src_search(sn->names, sn->n_names, kind, name, &at)) {
		*id = sn->names[at].id;
		return 0;
	}
	if (sn->n_names >= UINT32_MAX - 1)
		return -ENOMEM;
	if ((copy = strdup(name)) == NULL)
		return -ENOMEM;
	v = realloc(sn->names, (sn->n_names + 1) * sizeof(*v));
	if (v == NULL) {
		free(copy);
		return -ENOMEM;
	}
	sn->names = v;
	memmove(&v[at + 1], &v[at], (sn->n_names - at) * sizeof(*v));
	v[at].kind = kind;
	v[at].id = (uint32_t)sn->n_names;
	v[at].name = copy;
	*id = v[at].id;
	sn->n_names++;
	return 0;
}

/* Whether a label can be (the start of) a name in by-writer/. */
static int
is_label_plain(const char *l)
{
	if (*l == '\0' || *l == '.')
		return 0;
	for (; *l != '\0'; l++)
		if ((unsigned char)*l < 0x20 || (unsigned char)*l >= 0x7f ||
		    *l == '/')
			return 0;
	return 1;
}

/* ${w}'s name in by-writer/ (snaps.h), unique among ${sn}'s writers. */
static void
writer_dir(const struct snaps *sn, struct snaps_writer *w)
{
	char hex[2 * STORE_ID_LEN + 1];
	size_t i;

	hex_encode(w->key, STORE_ID_LEN, hex);
	if (w->is_master)
		snprintf(w->dir, sizeof(w->dir), "master");
	else if (is_label_plain(w->label))
		snprintf(w->dir, sizeof(w->dir), "%s@%.8s", w->label, hex);
	else
		snprintf(w->dir, sizeof(w->dir), "%s", hex);
	for (i = 0; i < sn->n_writers; i++)
		if (strcmp(sn->writers[i]->dir, w->dir) == 0)
			snprintf(w->dir, sizeof(w->dir), "%s", hex);
}

/*
 * The writer of ${snap}, interning it if new.  load_lock.  Writers are
 * the master and the registered ingest keys (a snapshot by any other key
 * fails authentication and never gets here), so they are few.
 */
static int
intern_writer(struct snaps *sn, const struct store_snap *snap,
    const struct snaps_writer **out)
{
	struct snaps_writer **v;
	struct snaps_writer *w;
	size_t i;

	for (i = 0; i < sn->n_writers; i++)
		if (memcmp(sn->writers[i]->key, snap->writer,
		    STORE_ID_LEN) == 0) {
			*out = sn->writers[i];
			return 0;
		}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	v = realloc(sn->writers, (sn->n_writers + 1) * sizeof(*v));
	if (v == NULL) {
		free(w);
		return -ENOMEM;
	}
	sn->writers = v;
	memcpy(w->key, snap->writer, STORE_ID_LEN);
	w->is_master = store_snap_is_master(snap);
	w->id = (uint32_t)sn->n_writers;
	memcpy(w->label, snap->writer_label, sizeof(w->label));
	w->label[sizeof(w->label) - 1] = '\0';
	writer_dir(sn, w);
	v[sn->n_writers++] = w;
	*out = w;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
rec_id_cmp(const void *a, const void *b)
{
	return memcmp((*(struct snaps_rec *const *)a)->id,
	    (*(struct snaps_rec *const *)b)->id, STORE_HASH_LEN);
}

static struct snaps_rec *
rec_find(const struct snaps *sn, const uint8_t id[STORE_HASH_LEN])
{
	size_t lo = 0;
	size_t hi = sn->n_recs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(id, sn->recs[mid]->id, STORE_HASH_LEN);

		if (c == 0)
			return sn->recs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static uint64_t
set_hash(const uint32_t *ids, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= ids[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/* The index of the first entry of ${v} with a hash not below ${h}. */
static size_t
set_lower(const struct set_ent *v, size_t n, uint64_t h)
{
	size_t lo = 0;
	size_t hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The array of an equal set in ${v}, or NULL. */
static const uint32_t *
set_find(const struct set_ent *v, size_t n, uint64_t h, const uint32_t *ids,
    uint32_t n_ids)
{
	size_t i;

	for (i = set_lower(v, n, h); i < n && v[i].hash == h; i++)
		if (v[i].owner->n_srcs == n_ids && memcmp(v[i].owner->srcs,
		    ids, n_ids * sizeof(*ids)) == 0)
			return v[i].owner->srcs;
	return NULL;
}

/* The source ids of ${snap}, valid ones only, ascending and unique. */
static int
body_srcs(struct snaps *sn, const struct store_snap *snap, uint32_t **out,
    uint32_t *n_out)
{
	uint32_t *ids;
	size_t n = 0;
	size_t i;
	size_t j;
	int r;

	if (snap->n_sources > UINT32_MAX)
		return -ENOMEM;
	if ((ids = malloc((snap->n_sources + 1) * sizeof(*ids))) == NULL)
		return -ENOMEM;
	for (i = 0; i < snap->n_sources; i++) {
		const struct store_source *src = &snap->sources[i];

		if (store_kind_name(src->kind) == NULL ||
		    src->name[0] == '\0')
			continue;
		if ((r = intern(sn, src->kind, src->name, &ids[n])) < 0) {
			free(ids);
			return r;
		}
		n++;
	}
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (i = 0, j = 0; i < n; i++)
		if (j == 0 || ids[j - 1] != ids[i])
			ids[j++] = ids[i];
	*out = ids;
	*n_out = (uint32_t)j;
	return 0;
}

/* Give body ${b} the source ids ${ids}, shared with an equal set if
 * there is one (most snapshots hold the sources of many others). */
static int
body_share(struct snaps *sn, struct snaps_body *b, uint32_t *ids,
    uint32_t n_ids)
{
	const uint32_t *same;
	struct set_ent *v;
	uint64_t h = set_hash(ids, n_ids);
	size_t at;

	b->n_srcs = n_ids;
	if ((same = set_find(sn->sets, sn->n_sets, h, ids, n_ids)) != NULL) {
		free(ids);
		b->srcs = same;
		return 0;
	}
	if ((v = realloc(sn->sets, (sn->n_sets + 1) * sizeof(*v))) == NULL) {
		free(ids);
		return -ENOMEM;
	}
	sn->sets = v;
	b->srcs = ids;
	b->owns_srcs = 1;
	at = set_lower(v, sn->n_sets, h);
	memmove(&v[at + 1], &v[at], (sn->n_sets - at) * sizeof(*v));
	v[at].hash = h;
	v[at].owner = b;
	sn->n_sets++;
	return 0;
}

/* The body of ${rec}, decoding its manifest if not loaded.  load_lock. */
static int
body_load(struct snaps *sn, struct snaps_rec *rec, struct snaps_body **out)
{
	struct store_snap *snap = NULL;
	struct snaps_body *b;
	uint32_t *ids = NULL;
	uint32_t n_ids = 0;
	int r;

	if ((*out = rec->body) != NULL)
		return 0;
	if ((r = store_snap_load(sn->s, rec->id, &snap)) < 0)
		return r;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		store_snap_free(snap);
		return -ENOMEM;
	}
	b->size = snap->size;
	b->root = snap->root;
	b->root.name = NULL;
	b->root.name_len = 0;
	b->root.target = NULL;
	b->root.target_len = 0;
	b->root.extents = NULL;
	b->root.n_extents = 0;
	if ((r = intern_writer(sn, snap, &b->writer)) < 0 ||
	    (r = body_srcs(sn, snap, &ids, &n_ids)) < 0 ||
	    (r = body_share(sn, b, ids, n_ids)) < 0) {
		free(b);
		store_snap_free(snap);
		return r;
	}
	store_snap_free(snap);
	sn->n_loaded++;
	/* Readers that do not take the lock (snaps_loaded()) see it whole. */
	__atomic_store_n(&rec->body, b, __ATOMIC_RELEASE);
	*out = b;
	return 0;
}

size_t
snaps_n_loaded(struct snaps *sn)
{
	size_t n;

	pthread_mutex_lock(&sn->load_lock);
	n = sn->n_loaded;
	pthread_mutex_unlock(&sn->load_lock);
	return n;
}

const struct snaps_body *
snaps_loaded(const struct snaps_snap *snap)
{
	return __atomic_load_n(&snap->rec->body, __ATOMIC_ACQUIRE);
}

int
snaps_load(const struct snaps_view *v, const struct snaps_snap *snap,
    const struct snaps_body **out)
{
	struct snaps *sn = v->sn;
	struct snaps_body *b;
	int r;

	if ((*out = snaps_loaded(snap)) != NULL)
		return 0;
	pthread_mutex_lock(&sn->load_lock);
	r = body_load(sn, (struct snaps_rec *)snap->rec, &b);
	pthread_mutex_unlock(&sn->load_lock);
	if (r < 0) {
		msg_log(LOG_WARNING, "snapshot %s: cannot load (%d)",
		    snap->name, r);
		return r;
	}
	*out = b;
	return 0;
}

/* One scan: the snapshots of the records, newest first, and the records
 * it made, not yet merged. */
struct scan_ctx {
	struct snaps *sn;
	struct snaps_snap *all;
	size_t n;
	size_t cap;
	struct snaps_rec **v;
	size_t n_new;
	size_t cap_new;
};

static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? 2 * *cap : 64;
	if ((p = realloc(*v, c * size)) == NULL)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* store_snap_briefs_back() fn: one snapshot, and its record if new. */
static int
scan_one(void *ctx, const struct store_snap_brief *b)
{
	struct scan_ctx *c = ctx;
	struct snaps *sn = c->sn;
	struct snaps_rec *r = rec_find(sn, b->id);

	if (grow((void **)&c->all, &c->cap, c->n, sizeof(*c->all)) < 0)
		return -ENOMEM;
	if (r == NULL) {
		if (grow((void **)&c->v, &c->cap_new, c->n_new,
		    sizeof(*c->v)) < 0 || (r = calloc(1, sizeof(*r))) == NULL)
			return -ENOMEM;
		memcpy(r->id, b->id, STORE_HASH_LEN);
		r->time_sec = b->time_sec;
		c->v[c->n_new++] = r;
	}
	r->seen = sn->scan;
	c->all[c->n].rec = r;
	c->all[c->n].flags = b->flags;
	memcpy(c->all[c->n].name, b->name, sizeof(c->all[c->n].name));
	c->all[c->n].name[sizeof(c->all[c->n].name) - 1] = '\0';
	c->n++;
	return 0;
}

/* qsort has no context argument; the view travels with each index. */
struct name_ix {
	const char *name;
	uint32_t i;
};

static int
cmp_name_ix(const void *a, const void *b)
{
	return strcmp(((const struct name_ix *)a)->name,
	    ((const struct name_ix *)b)->name);
}

/* The distinct sources of ${v}'s snapshots.  load_lock held, every body
 * loaded. */
static int
view_srcs(struct snaps *sn, struct snaps_view *v)
{
	uint8_t *used = NULL;
	size_t i;
	size_t j;
	int r = -ENOMEM;

	v->n_src_ids = sn->n_names;
	used = calloc(sn->n_names + 1, 1);
	v->src_by_id = malloc((sn->n_names + 1) * sizeof(*v->src_by_id));
	v->srcs = malloc((sn->n_names + 1) * sizeof(*v->srcs));
	if (used == NULL || v->src_by_id == NULL || v->srcs == NULL)
		goto out;
	for (i = 0; i < v->n; i++) {
		const struct snaps_body *b = v->snaps[i].rec->body;

		/* Shared arrays come in runs: each is marked once. */
		if (i > 0 && v->snaps[i - 1].rec->body->srcs == b->srcs)
			continue;
		for (j = 0; j < b->n_srcs; j++)
			if (b->srcs[j] < sn->n_names)
				used[b->srcs[j]] = 1;
	}
	for (i = 0; i < sn->n_names; i++)
		v->src_by_id[i] = UINT32_MAX;
	for (i = 0; i < sn->n_names; i++) {
		if (!used[sn->names[i].id])
			continue;
		v->src_by_id[sn->names[i].id] = (uint32_t)v->n_srcs;
		v->srcs[v->n_srcs++] = sn->names[i];
	}
	r = 0;
out:
	free(used);
	return r;
}

/* The writers of ${v}'s snapshots, by id.  load_lock held, every body
 * loaded. */
static int
view_writers(struct snaps *sn, struct snaps_view *v)
{
	uint8_t *used = calloc(sn->n_writers + 1, 1);
	size_t i;

	v->writers = calloc(sn->n_writers + 1, sizeof(*v->writers));
	if (used == NULL || v->writers == NULL) {
		free(used);
		return -ENOMEM;
	}
	for (i = 0; i < v->n; i++)
		used[v->snaps[i].rec->body->writer->id] = 1;
	for (i = 0; i < sn->n_writers; i++)
		if (used[i])
			v->writers[v->n_writers++] = sn->writers[i];
	free(used);
	return 0;
}

int
snaps_view_full(const struct snaps_view *cv)
{
	struct snaps_view *v = (struct snaps_view *)cv;
	struct snaps *sn = v->sn;
	struct snaps_body *b;
	size_t i;
	int r = 0;

	pthread_mutex_lock(&sn->load_lock);
	if (v->is_full)
		goto out;
	for (i = 0; i < v->n; i++)
		if ((r = body_load(sn, (struct snaps_rec *)v->snaps[i].rec,
		    &b)) < 0) {
			msg_log(LOG_WARNING, "snapshot %s: cannot load (%d)",
			    v->snaps[i].name, r);
			goto out;
		}
	free(v->srcs);
	free(v->src_by_id);
	free(v->writers);
	v->srcs = NULL;
	v->src_by_id = NULL;
	v->writers = NULL;
	v->n_srcs = v->n_src_ids = v->n_writers = 0;
	if ((r = view_srcs(sn, v)) == 0 && (r = view_writers(sn, v)) == 0)
		v->is_full = 1;
out:
	pthread_mutex_unlock(&sn->load_lock);
	return r;
}

/*
 * A view over the snapshots ${all} (${n}, newest first, as the records
 * list them): give slots to the new ones in sorted order, and build the
 * lookups.  scan_lock held.
 */
static int
view_new(struct snaps *sn, const struct snaps_snap *all, size_t n,
    struct snaps_view **out)
{
	struct snaps_view *v = NULL;
	struct name_ix *nx = NULL;
	size_t i;
	int r = -ENOMEM;

	if (n >= UINT32_MAX)
		return -ENOMEM;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->snaps = calloc(n + 1, sizeof(*v->snaps))) == NULL)
		goto out;
	v->sn = sn;
	for (i = n; i > 0; i--) {
		const struct snaps_snap *x = &all[i - 1];
		struct snaps_rec *rec = (struct snaps_rec *)x->rec;

		/* Records are the scan's to change until a view shows them:
		 * a slot is given once, in sorted order. */
		if (!rec->has_slot) {
			rec->has_slot = 1;
			if (sn->n_slots < INODE_SLOT_MAX) {
				rec->slot = ++sn->n_slots;
			} else if (!sn->is_full_logged) {
				msg_log(LOG_ERR, "more than %u snapshots: "
				    "the newest are not shown",
				    (unsigned)INODE_SLOT_MAX);
				sn->is_full_logged = 1;
			}
		}
		if (rec->slot == 0)
			continue;
		v->snaps[v->n++] = *x;
	}

	v->n_by_slot = (size_t)sn->n_slots + 1;
	v->by_slot = malloc(v->n_by_slot * sizeof(*v->by_slot));
	v->by_name = calloc(v->n + 1, sizeof(*v->by_name));
	nx = calloc(v->n + 1, sizeof(*nx));
	if (v->by_slot == NULL || v->by_name == NULL || nx == NULL)
		goto out;
	for (i = 0; i < v->n_by_slot; i++)
		v->by_slot[i] = UINT32_MAX;
	for (i = 0; i < v->n; i++) {
		v->by_slot[v->snaps[i].rec->slot] = (uint32_t)i;
		nx[i].name = v->snaps[i].name;
		nx[i].i = (uint32_t)i;
	}
	qsort(nx, v->n, sizeof(*nx), cmp_name_ix);
	for (i = 0; i < v->n; i++)
		v->by_name[i] = nx[i].i;
	/* As store_snap_find(l, "latest"). */
	for (i = v->n; i > 0; i--)
		if (!(v->snaps[i - 1].flags & STORE_SNAP_UNTRUSTED)) {
			v->latest = &v->snaps[i - 1];
			break;
		}
	*out = v;
	v = NULL;
	r = 0;
out:
	free(nx);
	view_free(v);
	return r;
}

/*
 * One scan: list the snapshots from the index's records, make records of
 * the new ones, merge them, and build a view.  On failure nothing
 * changes.  scan_lock held.
 */
static int
scan(struct snaps *sn, struct snaps_view **out)
{
	struct scan_ctx c = { .sn = sn };
	struct snaps_rec **recs;
	size_t i;
	int r;

	sn->scan++;
	if ((r = store_snap_briefs_back(sn->s, scan_one, &c)) < 0)
		goto fail;
	if (c.n_new > 0) {
		recs = realloc(sn->recs, (sn->n_recs + c.n_new) *
		    sizeof(*recs));
		if (recs == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		sn->recs = recs;
		memcpy(&recs[sn->n_recs], c.v, c.n_new * sizeof(*recs));
		sn->n_recs += c.n_new;
		qsort(recs, sn->n_recs, sizeof(*recs), rec_id_cmp);
	}
	free(c.v);
	r = view_new(sn, c.all, c.n, out);
	free(c.all);
	return r;
fail:
	/* No view shows them. */
	for (i = 0; i < c.n_new; i++)
		rec_free(c.v[i]);
	free(c.v);
	free(c.all);
	return r;
}

int
snaps_open(struct store *s, struct snaps **out)
{
	struct snaps *sn;
	int r;

	if ((sn = calloc(1, sizeof(*sn))) == NULL)
		return -ENOMEM;
	sn->s = s;
	pthread_mutex_init(&sn->lock, NULL);
	pthread_mutex_init(&sn->scan_lock, NULL);
	pthread_mutex_init(&sn->load_lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &sn->last_scan);
	if ((r = scan(sn, &sn->cur)) < 0)
		goto out;
	sn->cur->n_ref = 1;
	*out = sn;
	sn = NULL;
out:
	snaps_close(sn);
	return r;
}

void
snaps_close(struct snaps *sn)
{
	size_t i;

	if (sn == NULL)
		return;
	view_free(sn->cur);
	for (i = 0; i < sn->n_recs; i++)
		rec_free(sn->recs[i]);
	free(sn->recs);
	free(sn->sets);
	for (i = 0; i < sn->n_names; i++)
		free((void *)sn->names[i].name);
	free(sn->names);
	for (i = 0; i < sn->n_writers; i++)
		free(sn->writers[i]);
	free(sn->writers);
	pthread_mutex_destroy(&sn->lock);
	pthread_mutex_destroy(&sn->scan_lock);
	pthread_mutex_destroy(&sn->load_lock);
	free(sn);
}

struct snaps_view *
snaps_get(struct snaps *sn)
{
	struct snaps_view *v;

	pthread_mutex_lock(&sn->lock);
	v = sn->cur;
	v->n_ref++;
	pthread_mutex_unlock(&sn->lock);
	return v;
}

void
snaps_put(struct snaps *sn, struct snaps_view *v)
{
	int is_last;

	if (v == NULL)
		return;
	pthread_mutex_lock(&sn->lock);
	is_last = --v->n_ref == 0;
	pthread_mutex_unlock(&sn->lock);
	if (is_last)
		view_free(v);
}

static int64_t
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

static int
ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

int
snaps_rescan(struct snaps *sn, enum snaps_when when, int *changed)
{
	struct snaps_view *v = NULL;
	struct snaps_view *old;
	struct timespec asked;
	uint32_t old_slots;
	int64_t wait_ms;
	int r = 0;

	*changed = 0;
	clock_gettime(CLOCK_MONOTONIC, &asked);
	pthread_mutex_lock(&sn->scan_lock);
	if (when == SNAPS_IF_STALE && ms_since(&sn->last_scan) < 1000)
		goto out;
	if (when == SNAPS_WAIT) {
		/* Callers that queued behind a rescan begun after they asked
		 * are answered by it. */
		if (ts_cmp(&sn->last_scan, &asked) >= 0)
			goto out;
		/* Never more than one a second: wait out the rest of it,
		 * holding the lock so that everyone waiting shares one. */
		wait_ms = 1000 - ms_since(&sn->last_scan);
		if (wait_ms > 0) {
			struct timespec d = {
				.tv_sec = wait_ms / 1000,
				.tv_nsec = (long)(wait_ms % 1000) * 1000000,
			};

			while (nanosleep(&d, &d) < 0 && errno == EINTR)
				;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &sn->last_scan);
	/* A failed sync leaves the index as it was: still worth a reload. */
	if ((r = store_index_sync(sn->s, 0)) < 0)
		msg_log(LOG_WARNING, "rescan: index sync failed (%d)", r);
	old_slots = sn->n_slots;
	if ((r = scan(sn, &v)) < 0) {
		msg_log(LOG_WARNING, "rescan: cannot list snapshots (%d)", r);
		goto out;
	}
	*changed = sn->n_slots != old_slots;
	v->n_ref = 1;
	pthread_mutex_lock(&sn->lock);
	old = sn->cur;
	sn->cur = v;
	pthread_mutex_unlock(&sn->lock);
	snaps_put(sn, old);
	if (*changed)
		msg_log(LOG_INFO, "rescan: %zu snapshots", v->n);
out:
	pthread_mutex_unlock(&sn->scan_lock);
	return r;
}

const struct snaps_snap *
snaps_by_slot(const struct snaps_view *v, uint32_t slot)
{
	if (slot == 0 || slot >= v->n_by_slot || v->by_slot[slot] == UINT32_MAX)
		return NULL;
	return &v->snaps[v->by_slot[slot]];
}

const struct snaps_snap *
snaps_by_name(const struct snaps_view *v, const char *name)
{
	size_t lo = 0;
	size_t hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct snaps_snap *x = &v->snaps[v->by_name[mid]];
		int c = strcmp(name, x->name);

		if (c == 0)
			return x;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct snaps_src *
snaps_src_find(const struct snaps_view *v, uint8_t kind, const char *name)
{
	size_t at;

	if (!src_search(v->srcs, v->n_srcs, kind, name, &at))
		return NULL;
	return &v->srcs[at];
}

const struct snaps_src *
snaps_src_by_id(const struct snaps_view *v, uint64_t id)
{
	if (id >= v->n_src_ids || v->src_by_id[id] == UINT32_MAX)
		return NULL;
	return &v->srcs[v->src_by_id[id]];
}

const struct snaps_writer *
snaps_writer_by_id(const struct snaps_view *v, uint64_t id)
{
	size_t i;

	for (i = 0; i < v->n_writers; i++)
		if (v->writers[i]->id == id)
			return v->writers[i];
	return NULL;
}

int
snaps_has_src(const struct snaps_body *b, uint64_t id)
{
	size_t lo = 0;
	size_t hi = b->n_srcs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->srcs[mid] == id)
			return 1;
		if (b->srcs[mid] > id)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}
