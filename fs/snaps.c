/*
 * snaps.c: snapshot views and slots (see snaps.h).  The slot table maps
 * snapshot ids to slots; it grows by one small record per snapshot ever
 * seen, which is the one thing in the mount that grows with the store
 * (the snapshot list itself does too).  It is only touched under
 * scan_lock; views are swapped under lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inode.h"
#include "msg.h"
#include "snaps.h"

struct slot_id {
	uint8_t id[STORE_HASH_LEN];
	uint32_t slot;
};

struct snaps {
	struct store *s;
	pthread_mutex_t lock;	/* guards cur and every view's n_ref */
	struct snaps_view *cur;
	pthread_mutex_t scan_lock;	/* one rescan at a time; the table */
	struct slot_id *ids;	/* sorted by id */
	size_t n_ids;
	uint32_t n_slots;	/* slots given so far */
	int is_full_logged;
	struct timespec last_scan;
};

const char *
snaps_kind_name(uint8_t kind)
{
	switch (kind) {
	case STORE_FILES:
		return "files";
	case STORE_REPOS:
		return "repos";
	case STORE_PIPELINES:
		return "pipelines";
	default:
		return NULL;
	}
}

static int
cmp_slot_id(const void *a, const void *b)
{
	return memcmp(((const struct slot_id *)a)->id,
	    ((const struct slot_id *)b)->id, STORE_HASH_LEN);
}

static void
view_free(struct snaps_view *v)
{
	if (v == NULL)
		return;
	store_snap_list_free(v->list);
	free(v->slot);
	free(v->by_name);
	free(v->by_slot);
	free(v->srcs);
	free(v);
}

/* qsort has no context argument; the list travels with each index. */
struct name_ix {
	const char *name;
	size_t i;
};

static int
cmp_name_ix(const void *a, const void *b)
{
	return strcmp(((const struct name_ix *)a)->name,
	    ((const struct name_ix *)b)->name);
}

static int
cmp_src(const void *a, const void *b)
{
	const struct snaps_src *x = a;
	const struct snaps_src *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return 0;
}

/* Give slots to the new snapshots of ${l}.  scan_lock held. */
static int
assign_slots(struct snaps *sn, struct snaps_view *v)
{
	struct slot_id *ids;
	size_t n_new = 0;
	size_t i;

	ids = realloc(sn->ids, (sn->n_ids + v->n + 1) * sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	sn->ids = ids;
	for (i = 0; i < v->n; i++) {
		const struct store_snap *snap = store_snap_list_get(v->list, i);
		struct slot_id key;
		struct slot_id *hit;

		memcpy(key.id, snap->id, STORE_HASH_LEN);
		hit = bsearch(&key, sn->ids, sn->n_ids, sizeof(key),
		    cmp_slot_id);
		if (hit != NULL) {
			v->slot[i] = hit->slot;
			continue;
		}
		if (sn->n_slots >= INODE_SLOT_MAX) {
			if (!sn->is_full_logged)
				msg_log(LOG_ERR, "more than %u snapshots: "
				    "the newest are not shown",
				    (unsigned)INODE_SLOT_MAX);
			sn->is_full_logged = 1;
			v->slot[i] = 0;
			continue;
		}
		key.slot = ++sn->n_slots;
		v->slot[i] = key.slot;
		/* Appended past the sorted part; sorted in below. */
		sn->ids[sn->n_ids + n_new++] = key;
	}
	sn->n_ids += n_new;
	if (n_new > 0)
		qsort(sn->ids, sn->n_ids, sizeof(*sn->ids), cmp_slot_id);
	return 0;
}

/* Build a view over ${l} (taking it).  scan_lock held. */
static int
view_new(struct snaps *sn, struct store_snap_list *l, struct snaps_view **out)
{
	struct snaps_view *v = NULL;
	struct name_ix *nx = NULL;
	size_t n_src = 0;
	size_t i;
	size_t j;
	int r = -ENOMEM;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		store_snap_list_free(l);
		return -ENOMEM;
	}
	v->list = l;
	v->n = store_snap_list_len(l);
	v->slot = calloc(v->n + 1, sizeof(*v->slot));
	v->by_name = calloc(v->n + 1, sizeof(*v->by_name));
	nx = calloc(v->n + 1, sizeof(*nx));
	if (v->slot == NULL || v->by_name == NULL || nx == NULL)
		goto out;
	if ((r = assign_slots(sn, v)) < 0)
		goto out;
	r = -ENOMEM;

	v->n_by_slot = (size_t)sn->n_slots + 1;
	if ((v->by_slot = malloc(v->n_by_slot * sizeof(*v->by_slot))) == NULL)
		goto out;
	for (i = 0; i < v->n_by_slot; i++)
		v->by_slot[i] = SIZE_MAX;
	for (i = 0; i < v->n; i++) {
		const struct store_snap *snap = store_snap_list_get(l, i);

		if (v->slot[i] != 0)
			v->by_slot[v->slot[i]] = i;
		nx[i].name = snap->name;
		nx[i].i = i;
		n_src += snap->n_sources;
	}
	qsort(nx, v->n, sizeof(*nx), cmp_name_ix);
	for (i = 0; i < v->n; i++)
		v->by_name[i] = nx[i].i;
	if (store_snap_find(l, "latest", &v->latest) < 0)
		v->latest = NULL;

	if ((v->srcs = calloc(n_src + 1, sizeof(*v->srcs))) == NULL)
		goto out;
	for (i = 0; i < v->n; i++) {
		const struct store_snap *snap = store_snap_list_get(l, i);

		if (v->slot[i] == 0)
			continue;
		for (j = 0; j < snap->n_sources; j++) {
			const struct store_source *src = &snap->sources[j];
			struct snaps_src *d = &v->srcs[v->n_srcs];

			if (snaps_kind_name(src->kind) == NULL ||
			    src->name[0] == '\0' || j > UINT32_MAX)
				continue;
			d->kind = src->kind;
			d->name = src->name;
			d->slot = v->slot[i];
			d->idx = (uint32_t)j;
			v->n_srcs++;
		}
	}
	qsort(v->srcs, v->n_srcs, sizeof(*v->srcs), cmp_src);
	/* Keep the first (lowest slot) of each (kind, name). */
	for (i = 0, j = 0; i < v->n_srcs; i++) {
		if (j > 0 && v->srcs[j - 1].kind == v->srcs[i].kind &&
		    strcmp(v->srcs[j - 1].name, v->srcs[i].name) == 0)
			continue;
		v->srcs[j++] = v->srcs[i];
	}
	v->n_srcs = j;
	*out = v;
	v = NULL;
	r = 0;
out:
	free(nx);
	view_free(v);
	return r;
}

int
snaps_open(struct store *s, struct snaps **out)
{
	struct snaps *sn;
	struct store_snap_list *l = NULL;
	int r;

	if ((sn = calloc(1, sizeof(*sn))) == NULL)
		return -ENOMEM;
	sn->s = s;
	pthread_mutex_init(&sn->lock, NULL);
	pthread_mutex_init(&sn->scan_lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &sn->last_scan);
	if ((r = store_snapshots(s, &l)) < 0)
		goto out;
	if ((r = view_new(sn, l, &sn->cur)) < 0)
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
	if (sn == NULL)
		return;
	view_free(sn->cur);
	free(sn->ids);
	pthread_mutex_destroy(&sn->lock);
	pthread_mutex_destroy(&sn->scan_lock);
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
	struct store_snap_list *l = NULL;
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
	if ((r = store_snapshots(sn->s, &l)) < 0) {
		msg_log(LOG_WARNING, "rescan: cannot list snapshots (%d)", r);
		goto out;
	}
	old_slots = sn->n_slots;
	if ((r = view_new(sn, l, &v)) < 0)
		goto out;
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

const struct store_snap *
snaps_by_slot(const struct snaps_view *v, uint32_t slot)
{
	if (slot == 0 || slot >= v->n_by_slot || v->by_slot[slot] == SIZE_MAX)
		return NULL;
	return store_snap_list_get(v->list, v->by_slot[slot]);
}

int
snaps_by_name(const struct snaps_view *v, const char *name, size_t *idx)
{
	size_t lo = 0;
	size_t hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t i = v->by_name[mid];
		int c = strcmp(name, store_snap_list_get(v->list, i)->name);

		if (c == 0) {
			if (v->slot[i] == 0)
				return -ENOENT;
			*idx = i;
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -ENOENT;
}

const struct snaps_src *
snaps_src_find(const struct snaps_view *v, uint8_t kind, const char *name)
{
	struct snaps_src key = { .kind = kind, .name = name, .slot = 0 };
	size_t lo = 0;
	size_t hi = v->n_srcs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct snaps_src *x = &v->srcs[mid];
		int c;

		if (x->kind != kind)
			c = kind < x->kind ? -1 : 1;
		else
			c = strcmp(key.name, x->name);
		if (c == 0)
			return x;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
snaps_source_idx(const struct store_snap *snap, uint8_t kind,
    const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < snap->n_sources; i++) {
		if (snap->sources[i].kind == kind &&
		    strcmp(snap->sources[i].name, name) == 0) {
			*idx = i;
			return 0;
		}
	}
	return -ENOENT;
}
