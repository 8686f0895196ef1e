/*
 * snaps.h: the mount's view of the snapshot list, and the slots that name
 * snapshots in node ids.
 *
 * A view is an immutable snapshot list plus the lookups the top level
 * needs (by name, by slot, the distinct sources).  A rescan builds a new
 * view and swaps it in; threads that hold the old one keep using it until
 * they let go (views are reference-counted), so no lock is held while a
 * FUSE request does I/O.  Slots are given to snapshots as the mount first
 * sees them (in sorted order at start) and never change, so node ids stay
 * valid across rescans.  All functions are thread-safe.
 */
#ifndef SNAPS_H
#define SNAPS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One distinct source (kind, name) across all snapshots of a view. */
struct snaps_src {
	uint8_t kind;		/* enum store_kind */
	const char *name;	/* borrowed from the view's list */
	uint32_t slot;		/* the lowest slot holding it */
	uint32_t idx;		/* its index in that snapshot's sources */
};

/* A view.  Callers only read it, between snaps_get() and snaps_put(). */
struct snaps_view {
	struct store_snap_list *list;	/* sorted by time, then commit */
	size_t n;
	uint32_t *slot;		/* slot of list entry i; 0: none */
	size_t *by_name;	/* list indices sorted by name */
	size_t *by_slot;	/* slot -> list index, SIZE_MAX if absent */
	size_t n_by_slot;
	const struct store_snap *latest;	/* NULL if none */
	struct snaps_src *srcs;	/* sorted by kind, then name */
	size_t n_srcs;
	unsigned n_ref;		/* guarded by the snaps lock */
};

struct snaps;

/*
 * snaps_open(s, out):
 * Load the snapshot list of the (unlocked) store ${s} and give every
 * snapshot a slot.  Returns what store_snapshots() returns, or -ENOMEM.
 * Close with snaps_close().
 */
int snaps_open(struct store *s, struct snaps **out);
void snaps_close(struct snaps *sn);

/* snaps_get(sn): pin and return the current view (never NULL). */
struct snaps_view *snaps_get(struct snaps *sn);

/* snaps_put(sn, v): unpin ${v}; accepts NULL. */
void snaps_put(struct snaps *sn, struct snaps_view *v);

/* How eager a rescan is; see snaps_rescan(). */
enum snaps_when {
	SNAPS_FORCE,		/* now (SIGHUP, the periodic check) */
	SNAPS_WAIT,		/* now, or after the rest of the second */
	SNAPS_IF_STALE,		/* only if the last began a second ago */
};

/*
 * snaps_rescan(sn, when, changed):
 * Bring the index up to date (store_index_sync) and reload the list.
 * Rescans are at most one a second unless ${when} is SNAPS_FORCE.  With
 * SNAPS_WAIT (a lookup of an unknown name) the caller waits for the rest
 * of that second, and callers that queued behind a rescan begun after
 * they asked share its result, so a stream of lookups cannot turn into a
 * stream of backend listings, yet every lookup sees what was committed
 * before it began.  SNAPS_IF_STALE (opening a top-level directory) never
 * waits: it rescans only if the last rescan is a second old.  Sets
 * *${changed} to 1 if the list now holds snapshots the previous view did
 * not.  Returns 0, or what store_snapshots() returns (the old view stays).
 */
int snaps_rescan(struct snaps *sn, enum snaps_when when, int *changed);

/* Lookups in a view; NULL (or -ENOENT) if absent. */
const struct store_snap *snaps_by_slot(const struct snaps_view *v,
    uint32_t slot);
int snaps_by_name(const struct snaps_view *v, const char *name,
    size_t *idx);
const struct snaps_src *snaps_src_find(const struct snaps_view *v,
    uint8_t kind, const char *name);

/*
 * snaps_source_idx(snap, kind, name, idx): the index of source (${kind},
 * ${name}) in ${snap}; -ENOENT if it has none.
 */
int snaps_source_idx(const struct store_snap *snap, uint8_t kind,
    const char *name, size_t *idx);

/* "files", "repos", "pipelines", or NULL for an unknown kind. */
const char *snaps_kind_name(uint8_t kind);

#endif
