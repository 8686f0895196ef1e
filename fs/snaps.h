/*
 * snaps.h: the mount's view of the snapshot list, and the slots that name
 * snapshots in node ids.
 *
 * The list (order, names, flags, times) comes from the records the index
 * keeps of the snapshots (store_snap_briefs_back(): derived once, MACed,
 * rebuilt when they do not verify), so mounting and listing snapshots/
 * decodes no manifest.  Per snapshot the mount keeps a small record
 * (struct snaps_rec) and, only once the snapshot is first looked up, its
 * body (struct snaps_body: its root, size, writer and the ids of its
 * sources), never a decoded manifest: a store of 500 sources snapshotted
 * hourly holds 360,000 sources a month.  Bodies live until snaps_close();
 * what needs every snapshot's sources or writer (by-source/, by-writer/)
 * loads them all, once per mount, when first listed (snaps_view_full()).
 * Source (kind, name) pairs are interned once each and given ids that,
 * like slots, never change while mounted.
 *
 * A view is an immutable list of the snapshots present plus the lookups
 * the top level needs (by name, by slot).  A rescan builds a new view over
 * the records and swaps it in; threads that hold the old one keep using it
 * until they let go (views are reference-counted), so no lock is held
 * while a FUSE request does I/O.  Slots are given to snapshots as the
 * mount first sees them (in sorted order at start) and never change, so
 * node ids stay valid across rescans.  All functions are thread-safe.
 */
#ifndef SNAPS_H
#define SNAPS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One distinct source (kind, name). */
struct snaps_src {
	uint8_t kind;		/* enum store_kind */
	uint32_t id;		/* never changes while mounted */
	const char *name;	/* interned: valid until snaps_close() */
};

/* A writer of snapshots: the master or one ingest key.  Interned: one per
 * key, valid until snaps_close(). */
struct snaps_writer {
	uint8_t key[STORE_ID_LEN];	/* zero: the master */
	int is_master;
	uint32_t id;		/* never changes while mounted */
	char label[128];	/* the registration's label; "" for master */
	/* Its name in by-writer/: "master", LABEL@KEYID (8 hex digits of
	 * the key id) or, if the label will not do as a file name or that
	 * name is taken, the key id's 32 hex digits. */
	char dir[160];
};

/* What a snapshot's manifest gives, loaded on first use; immutable, valid
 * until snaps_close(). */
struct snaps_body {
	uint64_t size;		/* sum of the sources' n_bytes */
	const struct snaps_writer *writer;
	struct store_entry root;	/* no name, target or extents */
	uint32_t n_srcs;
	uint8_t owns_srcs;	/* srcs is its own, not shared */
	const uint32_t *srcs;	/* source ids, ascending, unique */
};

/* A snapshot as the mount keeps it; valid until snaps_close(). */
struct snaps_rec {
	uint8_t id[STORE_HASH_LEN];
	int64_t time_sec;
	uint32_t slot;		/* 0: none (more than INODE_SLOT_MAX) */
	uint32_t seen;		/* scan that last found it (scan_lock) */
	uint8_t has_slot;	/* a slot was given (or refused) */
	struct snaps_body *body;	/* NULL until loaded: snaps_load() */
};

/* A snapshot of a view. */
struct snaps_snap {
	char name[STORE_SNAP_NAME_LEN];	/* as store_snapshots() */
	uint32_t flags;		/* with the derived ones (store.h) */
	const struct snaps_rec *rec;
};

/* A view.  Callers only read it, between snaps_get() and snaps_put(). */
struct snaps_view {
	struct snaps_snap *snaps;	/* sorted by time, then commit */
	size_t n;		/* only snapshots with a slot */
	uint32_t *by_name;	/* indices in snaps sorted by name */
	uint32_t *by_slot;	/* slot -> index in snaps; UINT32_MAX */
	size_t n_by_slot;
	/* The newest without STORE_SNAP_UNTRUSTED; NULL if none. */
	const struct snaps_snap *latest;
	/* Only after snaps_view_full(): */
	struct snaps_src *srcs;	/* of its snapshots; by kind, name */
	size_t n_srcs;
	uint32_t *src_by_id;	/* id -> index in srcs; UINT32_MAX */
	size_t n_src_ids;
	/* The writers of its snapshots, by id. */
	const struct snaps_writer **writers;
	size_t n_writers;
	int is_full;		/* guarded by the load lock */
	struct snaps *sn;
	unsigned n_ref;		/* guarded by the snaps lock */
};

struct snaps;

/*
 * snaps_open(s, out):
 * List the snapshots of the (unlocked) store ${s} and give every one a
 * slot.  Returns what store_snap_briefs_back() returns, or -ENOMEM.
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
 * Bring the index up to date (store_index_sync), list the snapshots from
 * its records and make a new view.  Rescans are at most one a second
 * unless ${when} is SNAPS_FORCE.  With SNAPS_WAIT (a lookup of an unknown
 * name) the caller waits for the rest of that second, and callers that
 * queued behind a rescan begun after they asked share its result, so a
 * stream of lookups cannot turn into a stream of backend listings, yet
 * every lookup sees what was committed before it began.  SNAPS_IF_STALE
 * (opening a top-level directory) never waits: it rescans only if the
 * last rescan is a second old.  Sets *${changed} to 1 if the view now
 * holds snapshots the previous one did not.  Returns 0, or what
 * store_snap_briefs_back() returns (the old view stays).
 */
int snaps_rescan(struct snaps *sn, enum snaps_when when, int *changed);

/*
 * snaps_load(v, snap, out): the body of ${snap} (of view ${v}), decoding
 * its manifest if this is the first use.  Returns 0, or what
 * store_snap_load() returns.
 */
int snaps_load(const struct snaps_view *v, const struct snaps_snap *snap,
    const struct snaps_body **out);

/* snaps_n_loaded(sn): how many bodies were loaded so far. */
size_t snaps_n_loaded(struct snaps *sn);

/* snaps_loaded(snap): its body if loaded already, else NULL. */
const struct snaps_body *snaps_loaded(const struct snaps_snap *snap);

/*
 * snaps_view_full(v): load the body of every snapshot of ${v} and fill in
 * its sources and writers (once per view).  Returns 0, or what
 * snaps_load() returns.
 */
int snaps_view_full(const struct snaps_view *v);

/* Lookups in a view; NULL if absent.  The source and writer lookups
 * answer NULL until snaps_view_full(). */
const struct snaps_snap *snaps_by_slot(const struct snaps_view *v,
    uint32_t slot);
const struct snaps_snap *snaps_by_name(const struct snaps_view *v,
    const char *name);
const struct snaps_src *snaps_src_find(const struct snaps_view *v,
    uint8_t kind, const char *name);
const struct snaps_src *snaps_src_by_id(const struct snaps_view *v,
    uint64_t id);

/* The writer ${id} of a view's snapshots; NULL if none. */
const struct snaps_writer *snaps_writer_by_id(const struct snaps_view *v,
    uint64_t id);

/* snaps_has_src(b, id): 1 if the snapshot of body ${b} holds source
 * ${id}. */
int snaps_has_src(const struct snaps_body *b, uint64_t id);

#endif
