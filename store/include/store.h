/*
 * store.h: the whole public API of libstore for fs/ and tools/.
 *
 * A store is a write-once set of objects (a local directory or an S3
 * bucket prefix) holding encrypted, deduplicated trees and a hash-chained
 * DAG of snapshot manifests; man/amber-store.5 specifies the bytes.  An
 * LMDB index in a local cache directory makes lookups fast; it is derived
 * data and is rebuilt whenever it is missing or damaged.
 *
 * Conventions: functions return 0 or a negative errno, results
 * go out through trailing pointers, and each errno has one meaning:
 *   -ENOENT   no such store, snapshot, chunk or path
 *   -EBADMSG  failed authentication or malformed stored bytes
 *   -EACCES   wrong passphrase, or the key lacks the right asked for
 *   -EEXIST   the object or store already exists
 *   -EIO      backend or transport failure
 *   -EINVAL   bad argument
 *   -ENOMEM   out of memory
 *   -ERANGE   output buffer too small
 * Unless said otherwise, a struct store may be used by many threads at
 * once; a store_tree, store_snap_list or store_writer by one at a time.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define STORE_HASH_LEN 32	/* chunk ids, chunk keys, snapshot ids */
#define STORE_ID_LEN 16		/* the store id, key ids */
#define STORE_NAME_MAX 255	/* an entry name, in bytes */
#define STORE_TARGET_MAX 4095	/* a symlink target, in bytes */
#define STORE_SNAP_NAME_LEN 40	/* "YYYY-MM-DDTHH:MM:SSZ-NNN" + NUL fits */

struct store;
struct store_tree;
struct store_snap_list;
struct store_writer;
struct store_file;
struct store_tb;

/* A reference to one stored chunk: its id and its convergent key. */
struct store_ref {
	uint8_t id[STORE_HASH_LEN];
	uint8_t key[STORE_HASH_LEN];
};

/* One data extent of a regular file: ${len} bytes at file offset ${off}. */
struct store_extent {
	uint64_t off;
	uint32_t len;
	struct store_ref ref;
};

/* An extent as trees store it: u64 off, u32 len, id, key (little-endian). */
#define STORE_EXTENT_LEN (8 + 4 + 2 * STORE_HASH_LEN)

/*
 * store_extent_put(p, x): encode ${x} into the STORE_EXTENT_LEN bytes at
 * ${p}, as trees store it (amber-store(5), TREES), for callers that keep
 * extents in records of their own.  Returns p + STORE_EXTENT_LEN.
 * store_extent_get(p, x): the reverse; it checks nothing, and the caller
 * checks the extent against its file.  Both thread-safe.
 */
uint8_t *store_extent_put(uint8_t *p, const struct store_extent *x);
const uint8_t *store_extent_get(const uint8_t *p, struct store_extent *x);

/*
 * store_extents_get(p, n, size, ext): decode the ${n} extents at ${p}
 * (n * STORE_EXTENT_LEN bytes) into ${ext}, and check them as a tree's
 * reader does: each non-empty and at most STORE_CHUNK_MAX bytes, sorted,
 * disjoint, and inside a file of ${size} bytes.  Returns 0 or -EBADMSG.
 * Thread-safe.
 */
int store_extents_get(const uint8_t *p, size_t n, uint64_t size,
    struct store_extent *ext);

enum store_type {
	STORE_REG = 1,
	STORE_DIR = 2,
	STORE_LNK = 3,
	STORE_FIFO = 4,
	STORE_CHR = 5,
	STORE_BLK = 6,
	STORE_SOCK = 7,
};

/* Entry flags. */
#define STORE_ENTRY_PARTIAL 0x1	/* content could not be read whole */
/*
 * The entry's mtime is not its own: it is that of the nearest enclosing
 * directory without this flag (the snapshot root's being the snapshot
 * time when it has none); the entry's mtime fields are then zero.  Readers
 * carry the effective mtime down as they descend (store_entry_mtime()).
 * Sources whose entries share one time (a git branch: its tip's commit
 * time) use it so that a tree's stored bytes do not depend on that time,
 * and an unchanged directory is the same stored tree in every snapshot.
 */
#define STORE_ENTRY_MTIME_INHERIT 0x2
/*
 * The entry belongs to whoever looks at it: a reader that shows it to a
 * user (amberfs) gives it that user's uid and gid; its own uid and gid
 * are 0.  A git mirror's directory has it, since git reads a repository
 * only if the reader owns it ("dubious ownership").
 */
#define STORE_ENTRY_OWNER_VIEWER 0x4

/*
 * One directory entry.  In a tree returned by store_tree_read() every
 * pointer is borrowed from the tree and valid until store_tree_free().
 *
 * Ordinals: the entries below a source root are numbered in preorder,
 * the source root being 0; entry i of a directory with ordinal o has
 * ordinal o + 1 + sum over j < i of (1 + n_desc of entry j).  ${link} is
 * 0 for a file with one name, else the ordinal of the first name of its
 * hard-link group (relative to the enclosing source root), the same in
 * every name of the group.
 */
struct store_entry {
	const uint8_t *name;
	size_t name_len;
	uint8_t type;		/* enum store_type */
	uint32_t mode;		/* permission bits (07777) */
	uint32_t uid;
	uint32_t gid;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint64_t size;		/* REG: apparent size; LNK: target length */
	uint64_t link;		/* hard-link group, see above */
	uint32_t flags;		/* STORE_ENTRY_* */
	uint64_t rdev;		/* CHR, BLK */
	uint64_t n_desc;	/* DIR: entries below it, recursively */
	struct store_ref tree;	/* DIR */
	const uint8_t *target;	/* LNK */
	size_t target_len;
	size_t n_extents;	/* REG: data extents, sorted, disjoint */
	const struct store_extent *extents;
};

/*
 * store_entry_digest(e, mt_sec, mt_nsec, prefix, prefix_len, out): the
 * SHA-256 of ${prefix} and of all that a reader sees of entry ${e} but
 * its name: type, mode, owner, effective mtime (${mt_sec}.${mt_nsec}),
 * size, hard-link group, flags, device, a link's target and a file's
 * extents (each chunk's id and key).  Two entries with one digest read
 * alike, byte for byte.  -ENOMEM, else 0.  Thread-safe.
 */
int store_entry_digest(const struct store_entry *e, int64_t mt_sec,
    uint32_t mt_nsec, const uint8_t *prefix, size_t prefix_len,
    uint8_t out[STORE_HASH_LEN]);

/*
 * store_entry_mtime(e, psec, pnsec, sec, nsec):
 * The effective mtime of ${e}, whose enclosing directory's effective mtime
 * is ${psec}.${pnsec}.
 */
static inline void
store_entry_mtime(const struct store_entry *e, int64_t psec, uint32_t pnsec,
    int64_t *sec, uint32_t *nsec)
{
	if (e->flags & STORE_ENTRY_MTIME_INHERIT) {
		*sec = psec;
		*nsec = pnsec;
	} else {
		*sec = e->mtime_sec;
		*nsec = e->mtime_nsec;
	}
}

/*
 * store_entry_init(e, name, type, mode):
 * Zero ${e}, then give it the name ${name} (a C string, borrowed: it must
 * outlive ${e}), the type ${type} (enum store_type) and the permission
 * bits ${mode}.
 */
void store_entry_init(struct store_entry *e, const char *name, uint8_t type,
    uint32_t mode);

struct stat;

/*
 * store_entry_stat(e, st):
 * Set ${e}'s permission bits, owner, group and mtime from ${st} (an
 * lstat(2) of the file it records); its other fields are left as they are.
 */
void store_entry_stat(struct store_entry *e, const struct stat *st);

/* ---- opening ---------------------------------------------------------- */

/* How to reach an s3:// store (a directory store ignores them). */
struct store_s3_opts {
	const char *endpoint;	/* NULL: $AMBER_S3_ENDPOINT or AWS */
	const char *credentials;	/* a credentials file, or NULL */
	int is_virtual_host;	/* 1: virtual-host-style addressing */
	int is_insecure_http;	/* 1: allow http:// off loopback */
};

struct store_opts {
	const char *index_dir;	/* NULL: $XDG_CACHE_HOME/amber/<store id> */
	size_t cache_size;	/* bytes of decrypted chunks kept; 0: default */
	struct store_s3_opts s3;
	int no_index_update;	/* 1: do not sync the index at unlock */
	/* 1: where reads are requests (S3), read trees from local copies
	 * of their packs, made by store_readahead_trees() (a mount; never
	 * verify, which must read the store itself) */
	int use_tree_copies;
	/* the key object to unlock with, as its hex id or a prefix of it:
	 * only that one is tried; NULL: the one this machine remembers,
	 * else every one, cheapest KDF first (store_unlock()) */
	const char *key_id;
	/* packs a writer puts at once, on threads of their own (1 to
	 * STORE_UPLOADS_MAX); 0: the default, STORE_UPLOADS_DEFAULT where
	 * a put is a request (S3), else the sealing workers put them */
	size_t uploads;
};

#define STORE_UPLOADS_MAX 64
#define STORE_UPLOADS_DEFAULT 4

struct store_kdf {
	uint8_t log2_n;		/* scrypt N = 2^log2_n; 0: default (17) */
	uint32_t r;		/* 0: default (8) */
	uint32_t p;		/* 0: default (1) */
};

/* The longest retention a store holds: 100 years of 365 days. */
#define STORE_RETENTION_MAX ((uint64_t)36500 * 86400)

struct store_create_opts {
	struct store_kdf kdf;
	int is_immutable;	/* set the immutable attribute on objects */
	uint64_t retention_secs;	/* S3 Object Lock retention; 0: none */
	int allow_no_lock;	/* S3: accept a bucket without Object Lock */
	struct store_s3_opts s3;
};

/*
 * store_create(location, o, pass, len):
 * Create a new store at ${location} (a directory path, created if needed
 * and required to be empty, or s3://BUCKET/PREFIX) with a fresh master key
 * wrapped under ${pass}.  Returns -EEXIST if a store or other files are
 * already there, -EIO on backend failure.
 */
int store_create(const char *location, const struct store_create_opts *o,
    const char *pass, size_t len);

/*
 * store_open(location, o, out):
 * Open the store at ${location} without unlocking it: the backend is
 * reached and the plaintext config read.  Returns -ENOENT if there is no
 * store there, -EBADMSG if its config is malformed or of an unknown
 * version.  The caller frees *${out} with store_close().
 */
int store_open(const char *location, const struct store_opts *o,
    struct store **out);

/*
 * store_unlock(s, pass, len):
 * Unwrap the master key with ${pass}, check the config's MAC, open the
 * index and bring it up to date (unless o->no_index_update).  The key
 * objects tried: only the one o->key_id names; else first the one that
 * worked last in this index directory (remembered there), and if that
 * fails every other, cheapest scrypt parameters first.  Key objects with
 * parameters above the caps (amber-store(5), KEYS) are never run; each
 * is named in a warning.  Returns -EACCES if no key object tried
 * accepts ${pass}; with o->key_id, -ENOENT if there is no such key
 * object, -EINVAL if a prefix matches several, -EBADMSG if it is
 * damaged or above the caps.
 */
int store_unlock(struct store *s, const char *pass, size_t len);

/* How the last store_unlock() went, for --verbose and tests. */
struct store_unlock_info {
	char key[64];		/* the key object that worked: "keys/<hex>" */
	int how;		/* STORE_UNLOCK_* */
	unsigned long n_read;	/* key objects read */
	unsigned long n_kdf;	/* key objects run through scrypt */
	unsigned long n_reg_read;	/* objects read for the registry (those
					 * of keys/ and revoked/ new here) */
};
#define STORE_UNLOCK_GIVEN 1	/* the one store_opts.key_id named */
#define STORE_UNLOCK_REMEMBERED 2	/* the one that worked here last */
#define STORE_UNLOCK_SEARCHED 3	/* found by trying, cheapest first */
#define STORE_UNLOCK_INIT 4	/* the one the config names (format 2) */
void store_unlock_info(const struct store *s, struct store_unlock_info *out);

/*
 * store_unlock_keyfile(s, text, len):
 * Unlock with the text of an ingest key file instead of a passphrase.
 * Such a store can ingest (with dedup) but decrypts nothing stored:
 * store_snapshots(), store_tree_read() of stored trees, store_verify()
 * and the like return -EACCES.  Returns -EACCES if the file is for
 * another store, -EBADMSG if it is not a key file.
 */
int store_unlock_keyfile(struct store *s, const char *text, size_t len);

/* 1 if the store was unlocked with a passphrase (can read), else 0. */
int store_is_reader(const struct store *s);

enum store_key_type {
	STORE_KEY_PASSPHRASE = 1,
	STORE_KEY_INGEST = 2,
	STORE_KEY_DAMAGED = 3,	/* unreadable, forged or foreign */
};

struct store_key_info {
	char id[40];		/* hex */
	int type;		/* enum store_key_type */
	uint8_t log2_n;		/* passphrase: scrypt parameters */
	uint32_t r;
	uint32_t p;
	char label[128];	/* ingest: what it was made for */
	int64_t created;
	int is_revoked;
	int64_t revoked_at;
};

/*
 * store_key_new_ingest(s, label, keyfile): register a new ingest key in
 * the store and hand back the text of its key file (malloc'd; wipe and
 * free it).  Needs a reader.
 */
int store_key_new_ingest(struct store *s, const char *label, char **keyfile);

/* Every key object of the store, in a malloc'd array.  Needs a reader. */
int store_key_list(struct store *s, struct store_key_info **v, size_t *n);

/*
 * store_key_revoke(s, id_prefix): revoke an ingest key for the future:
 * the snapshots it made so far stay accepted, later ones are flagged
 * STORE_SNAP_REVOKED.  Returns -ENOENT if no ingest key matches, -EINVAL
 * if several do, -EEXIST if it is revoked already.
 */
int store_key_revoke(struct store *s, const char *id_prefix);

void store_close(struct store *s);

/* The store id (STORE_ID_LEN bytes) and its lower-case hex form. */
const uint8_t *store_id(const struct store *s);
const char *store_id_hex(const struct store *s);

/* The index directory in use (valid until store_close()). */
const char *store_index_dir(const struct store *s);

/* store_is_local(s): whether ${s} is a directory store (else S3), where a
 * read costs microseconds rather than a request. */
int store_is_local(const struct store *s);

/*
 * store_key_add(s, pass, len, kdf):
 * Write a new key object wrapping the unlocked master key under ${pass}.
 * Needs an unlocked store.
 */
int store_key_add(struct store *s, const char *pass, size_t len,
    const struct store_kdf *kdf);

/*
 * store_index_sync(s, rebuild):
 * Bring the index up to date with what the store holds: index the tables
 * of packs and the snapshots not yet indexed.  With ${rebuild}, first
 * drop everything indexed.  Thread-safe; one writer at a time is
 * enforced by LMDB.
 */
int store_index_sync(struct store *s, int rebuild);

/* ---- snapshots -------------------------------------------------------- */

enum store_kind {
	STORE_FILES = 1,
	STORE_REPOS = 2,
	STORE_PIPELINES = 3,
};

/*
 * store_kind_name(kind):
 * The name of the top-level folder of a snapshot that holds sources of
 * ${kind}: "files", "repos" or "pipelines"; NULL for any other value.
 * The string is static.  Thread-safe.
 */
const char *store_kind_name(uint8_t kind);

/*
 * store_source_name_ok(name, len):
 * 1 if the ${len} bytes at ${name} make a valid source name, else 0: one
 * to STORE_NAME_MAX of [A-Za-z0-9._-], not starting with a dot (so never
 * "." or "..", and never hidden).  Writers refuse other names and readers
 * refuse snapshots holding them.  Thread-safe.
 */
int store_source_name_ok(const char *name, size_t len);

/* Source flags. */
#define STORE_SOURCE_PARTIAL 0x1	/* some input could not be read */
#define STORE_SOURCE_STALE 0x2		/* carried forward after a failure */

struct store_source {
	uint8_t kind;		/* enum store_kind */
	char name[STORE_NAME_MAX + 1];	/* [A-Za-z0-9._-]+ */
	char origin[1024];	/* where it came from (path, URL), for humans */
	struct store_entry root;	/* a STORE_DIR entry; name unused */
	uint64_t n_files;
	uint64_t n_bytes;
	uint32_t flags;		/* STORE_SOURCE_* */
};

/* Snapshot flags. */
#define STORE_SNAP_PARTIAL 0x1	/* some source is partial */
#define STORE_SNAP_FUTURE 0x100	/* (derived) time is in the future */
#define STORE_SNAP_ORPHAN 0x200	/* (derived) a parent is missing */
#define STORE_SNAP_REVOKED 0x400	/* made by an ingest key after its
					 * revocation: not to be trusted */
/* Dated more than STORE_SNAP_SLACK before its key's registration. */
#define STORE_SNAP_BEFORE_KEY 0x800
/* (derived) By an ingest key, dated more than STORE_SNAP_SLACK before
 * one of its parents. */
#define STORE_SNAP_BEFORE_PARENT 0x1000
/* (derived) By an ingest key, with no parent among the snapshots, while
 * another snapshot has none either: not the store's one first snapshot. */
#define STORE_SNAP_PARENTLESS 0x2000
/*
 * The flags that say a snapshot is not to be trusted (amber-store(5),
 * SECURITY CONSIDERATIONS): such a snapshot is never "latest", and never
 * takes a name before one without them in the same second.
 */
#define STORE_SNAP_UNTRUSTED (STORE_SNAP_FUTURE | STORE_SNAP_REVOKED | \
	STORE_SNAP_BEFORE_KEY | STORE_SNAP_BEFORE_PARENT | STORE_SNAP_PARENTLESS)
/* Seconds of clock skew forgiven by the time checks above. */
#define STORE_SNAP_SLACK 60

/*
 * store_snap_flag_name(i, flag): the ${i}th snapshot flag, in the order
 * `amber snapshots` prints them, and its name; NULL past the last (so a
 * loop from 0 visits them all).  The names are the same everywhere: the
 * CLI's text and JSON, and the mount's user.amber.flags.
 */
const char *store_snap_flag_name(size_t i, uint32_t *flag);

struct store_snap {
	uint8_t id[STORE_HASH_LEN];
	/* Unique: its UTC second, then -2, -3... in commit order, trusted
	 * ones first (amber(1), Snapshots and paths). */
	char name[STORE_SNAP_NAME_LEN];
	int64_t time_sec;
	uint32_t time_nsec;
	uint64_t commit_ns;	/* when committed (writer's clock), ns */
	char *host;
	size_t n_tags;
	char **tags;
	size_t n_sources;
	struct store_source *sources;
	size_t n_parents;
	uint8_t (*parents)[STORE_HASH_LEN];
	uint8_t writer[STORE_ID_LEN];	/* key id that made it; zero: master */
	char writer_label[128];	/* the ingest key's label; "" for master */
	int is_writer_revoked;	/* the ingest key is revoked (now) */
	uint32_t flags;		/* STORE_SNAP_* */
	struct store_entry root;	/* the snapshot's root directory */
	uint64_t size;		/* sum of the sources' n_bytes */
};

/* 1 if ${sn} was made by the master key (its writer is zero), else 0. */
static inline int
store_snap_is_master(const struct store_snap *sn)
{
	for (size_t i = 0; i < STORE_ID_LEN; i++)
		if (sn->writer[i] != 0)
			return 0;
	return 1;
}

/*
 * store_snapshots(s, out):
 * List every snapshot the index knows (call store_index_sync() first for
 * news), sorted by time and then by commit order, each with its unique
 * name.  The caller frees *${out} with store_snap_list_free().
 * Returns -EACCES without a key that reads manifests.
 */
int store_snapshots(struct store *s, struct store_snap_list **out);
size_t store_snap_list_len(const struct store_snap_list *l);
/* Borrowed; valid until store_snap_list_free(). */
const struct store_snap *store_snap_list_get(const struct store_snap_list *l,
    size_t i);
void store_snap_list_free(struct store_snap_list *l);

/*
 * store_snap_find(l, spec, out):
 * Resolve ${spec}: "latest" (the newest without STORE_SNAP_UNTRUSTED), a
 * snapshot name, or a hex id prefix.  Returns -ENOENT if nothing matches,
 * -EINVAL if an id prefix is ambiguous.
 */
int store_snap_find(const struct store_snap_list *l, const char *spec,
    const struct store_snap **out);

/*
 * store_snap_recent(s, since, out):
 * The snapshots dated at or after ${since}, and back to the newest that
 * is not STORE_SNAP_UNTRUSTED ("latest") if it is older, in the order,
 * with the names and flags, of store_snapshots(), which is what it
 * answers; from the records this machine's index keeps of them (derived
 * once, not from every manifest at each call).  Freed with
 * store_snap_list_free().  -EACCES without a key that reads manifests.
 */
int store_snap_recent(struct store *s, int64_t since,
    struct store_snap_list **out);

/*
 * store_snap_name_of(s, id, name, cap):
 * The unique name store_snapshots() gives snapshot ${id}, from the same
 * records.  -ENOENT if the index holds no such snapshot; -EACCES without
 * a key that reads manifests.
 */
int store_snap_name_of(struct store *s, const uint8_t id[STORE_HASH_LEN],
    char *name, size_t cap);

/* One snapshot as store_snapshots() lists it, without its manifest. */
struct store_snap_brief {
	uint8_t id[STORE_HASH_LEN];
	int64_t time_sec;
	uint32_t flags;		/* with the derived ones */
	char name[STORE_SNAP_NAME_LEN];
};

/*
 * store_snap_briefs_back(s, fn, ctx):
 * Call ${fn} with every snapshot of store_snapshots(), from the newest
 * back (its order, names and flags), from the same records, until it
 * returns non-zero (returned, but 1 as 0).  ${fn} runs inside a read of
 * the index and must not call libstore.  -EACCES without a key that
 * reads manifests.
 */
int store_snap_briefs_back(struct store *s,
    int (*fn)(void *ctx, const struct store_snap_brief *b), void *ctx);

/*
 * store_snap_ids_cached(location, o, fn, ctx):
 * Call ${fn} with the id of every snapshot this machine's index of the
 * local store at ${location} holds, in id order, without a key: the ids
 * are all that the index keeps of snapshots in clear (names and times
 * are in the sealed manifests).  It reads the store's plaintext config
 * to find the index, prompts for nothing, and creates or changes
 * nothing.  The ids are those of objects under snapshots/, not checked
 * (anyone who may add objects may add one that fails authentication).
 * No index (this machine never unlocked the store) is no id, and 0.
 * Returns -EPROTONOSUPPORT for an s3:// location (never reached from
 * here), -ENOENT if there is no store there, or a non-zero return of
 * ${fn}.
 */
int store_snap_ids_cached(const char *location, const struct store_opts *o,
    int (*fn)(void *ctx, const uint8_t id[STORE_HASH_LEN]), void *ctx);

/*
 * One snapshot at a time, for readers that must not hold every decoded
 * manifest at once (the mount, with thousands of snapshots of hundreds of
 * sources each).  Snapshots come in no particular order and with no
 * derived flag (STORE_SNAP_FUTURE, _ORPHAN, _BEFORE_PARENT, _PARENTLESS):
 * their unique names and those flags depend on all of them, so a caller
 * keeps what ordering needs (struct store_snap_ord) and calls
 * store_snap_order() at the end.
 * Until then ${name} is the bare "YYYY-MM-DDTHH:MM:SSZ" of the time.
 */

/*
 * store_snap_each(s, skip, fn, ctx):
 * Call ${fn} with every snapshot the index knows, decoded one at a time;
 * the snapshot is borrowed for the call only.  If ${skip} (may be NULL)
 * returns 1 for an id, that manifest is not decoded (a caller that has it
 * already); it is called with every id the index holds, so it also tells
 * the caller which snapshots are still there.  A non-zero return of
 * ${fn} or a negative one of ${skip} stops the walk and is returned.
 * ${fn} and ${skip} run inside a read of the index and must not call
 * libstore.  Manifests that fail authentication are logged and left out,
 * as by store_snapshots().  Returns -EACCES without a key that reads
 * manifests.
 */
int store_snap_each(struct store *s,
    int (*skip)(void *ctx, const uint8_t id[STORE_HASH_LEN]),
    int (*fn)(void *ctx, const struct store_snap *snap), void *ctx);

/*
 * store_snap_load(s, id, out):
 * Decode the one snapshot ${id} the index holds into *${out}, freed with
 * store_snap_free(); named and flagged as by store_snap_each().  Returns
 * -ENOENT if the index does not hold it, -EBADMSG if its manifest fails
 * authentication, -EACCES without a key that reads manifests.
 */
int store_snap_load(struct store *s, const uint8_t id[STORE_HASH_LEN],
    struct store_snap **out);
void store_snap_free(struct store_snap *snap);

/* What ordering and naming a snapshot takes; see store_snap_order(). */
struct store_snap_ord {
	const uint8_t *id;	/* STORE_HASH_LEN bytes */
	int64_t time_sec;
	uint64_t commit_ns;
	size_t n_parents;
	const uint8_t (*parents)[STORE_HASH_LEN];
	int is_master;		/* made by the master key (writer zero) */
	uint32_t flags;		/* in: the snapshot's; out: + derived */
	char *name;		/* out: STORE_SNAP_NAME_LEN bytes */
};

/*
 * store_snap_order(v, n, now):
 * Add the derived flags: STORE_SNAP_ORPHAN (a parent is not among them),
 * STORE_SNAP_FUTURE (dated more than STORE_SNAP_SLACK after ${now}),
 * and for snapshots not made by the master STORE_SNAP_BEFORE_PARENT and
 * STORE_SNAP_PARENTLESS.  Then sort the ${n} pointers ${v} as
 * store_snapshots() sorts snapshots: by time (the second), then trusted
 * before untrusted (STORE_SNAP_UNTRUSTED), then by depth in the DAG
 * (parents first), then by commit time, then by id; and write each
 * unique name (the time, with "-2", "-3" ... for later ones of the same
 * second; amber-store(5), SNAPSHOTS).  The one implementation
 * store_snapshots() uses too, so names agree.  Returns 0, or -ENOMEM
 * with ${v} unchanged.
 */
int store_snap_order(struct store_snap_ord **v, size_t n, int64_t now);

/*
 * store_snap_order_in(s, v, n, now): store_snap_order(), where a missing
 * parent that a signed record of ${s} says was expired under the
 * retention policy (pruned/, amber-store(5), PRUNING) counts as present:
 * no STORE_SNAP_ORPHAN, no STORE_SNAP_PARENTLESS for it.  What
 * store_snapshots() does.  Returns 0, or -ENOMEM.
 */
int store_snap_order_in(struct store *s, struct store_snap_ord **v, size_t n,
    int64_t now);

/*
 * store_snap_names_keep(s, v, n): after store_snap_order(), give each
 * snapshot of ${v} the name this machine showed it with before, if any
 * (the index remembers them), and the others the lowest names of their
 * second left free; then remember the names of those not flagged
 * STORE_SNAP_UNTRUSTED.  So a trusted snapshot's name, once shown, never
 * changes here, whatever manifests are added later (amber-store(5),
 * Names).  The order of ${v} is not changed.  Without an index, or when
 * it cannot be read or written, the names of store_snap_order() stay or
 * are not remembered: never an error.  Returns 0, or -ENOMEM.
 */
int store_snap_names_keep(struct store *s, struct store_snap_ord **v,
    size_t n);

/* ---- trees and contents ----------------------------------------------- */

/*
 * store_tree_read(s, ref, out):
 * Read, authenticate and decode the tree ${ref}; every tree is validated
 * (entries sorted and unique, no empty name, no ".", ".." or "/" in a
 * name).  Returns -ENOENT if a chunk is missing, -EBADMSG if damaged.
 */
int store_tree_read(struct store *s, const struct store_ref *ref,
    struct store_tree **out);
size_t store_tree_len(const struct store_tree *t);
const struct store_entry *store_tree_entry(const struct store_tree *t,
    size_t i);
/* Binary search; returns -ENOENT if ${name} is absent. */
int store_tree_find(const struct store_tree *t, const uint8_t *name,
    size_t len, size_t *idx);
void store_tree_free(struct store_tree *t);

/*
 * store_resolve(s, root, path, parent, idx):
 * Walk ${path} ("a/b/c", no leading slash; "" is ${root} itself) down from
 * the directory entry ${root}.  On success *${parent} is a tree the caller
 * frees and *${idx} the entry's index in it; for "" *${parent} is NULL.
 * Returns -ENOENT if a component is missing, -ENOTDIR if one is not a
 * directory.
 */
int store_resolve(struct store *s, const struct store_entry *root,
    const char *path, struct store_tree **parent, size_t *idx);

/*
 * store_read(s, e, off, buf, len, got):
 * Read up to ${len} bytes at ${off} of the regular file ${e} into ${buf},
 * holes as zeros; *${got} < ${len} only at the end of the file.  Every
 * byte is authenticated before it is copied.  Returns -EBADMSG if a chunk
 * is damaged, -ENOENT if one is missing.  Uses the chunk cache.
 */
int store_read(struct store *s, const struct store_entry *e, uint64_t off,
    uint8_t *buf, size_t len, size_t *got);

/*
 * store_read_whole(s, e, max, out, len):
 * Read all of the regular file ${e}, at most ${max} bytes, into a
 * malloc'd buffer with a NUL after its *${len} bytes, which the caller
 * frees.  Returns 0; -EBADMSG if ${e} is not a regular file, is longer
 * than ${max} or reads short; -ENOMEM; or as store_read().  Thread
 * safety as store_read().
 */
int store_read_whole(struct store *s, const struct store_entry *e,
    size_t max, char **out, size_t *len);

/*
 * store_read_file(s, root, path, max, out, len):
 * store_read_whole() of the file ${path} below the directory entry
 * ${root} (store_resolve()).  Returns as store_resolve() where ${path}
 * does not lead to an entry (-ENOENT, -ENOTDIR), else as
 * store_read_whole() (-EBADMSG for "", ${root} itself).
 */
int store_read_file(struct store *s, const struct store_entry *root,
    const char *path, size_t max, char **out, size_t *len);

/*
 * store_chunk_read(s, ref, buf, cap, len):
 * Read one chunk into ${buf}; -ERANGE if ${cap} is too small.  Chunks are
 * at most STORE_CHUNK_MAX bytes; trees may be larger (STORE_TREE_MAX).
 */
#define STORE_CHUNK_MAX (8u << 20)
#define STORE_TREE_MAX (64u << 20)
int store_chunk_read(struct store *s, const struct store_ref *ref,
    uint8_t *buf, size_t cap, size_t *len);

/* Whether the index knows chunk ${id} (0 or 1); -errno on failure. */
int store_has_chunk(struct store *s, const uint8_t id[STORE_HASH_LEN]);

/* ---- writing: one snapshot per writer --------------------------------- */

struct store_writer_stats {
	uint64_t n_chunks;	/* chunks passed in */
	uint64_t n_new;		/* of which not yet stored */
	uint64_t bytes_in;	/* plaintext bytes passed in */
	uint64_t bytes_new;	/* plaintext bytes of new chunks */
	uint64_t bytes_stored;	/* bytes written to the backend */
	uint64_t n_packs;
};

/*
 * store_writer_new(s, out):
 * Start writing one snapshot; new chunks are compressed and sealed by a
 * pool of threads (one per core) and written in packs.  Packs are
 * unreferenced until store_writer_commit() writes the manifest, so a
 * writer freed without commit (or a killed process) leaves only
 * unreferenced objects.  One thread at a time per writer.
 */
int store_writer_new(struct store *s, struct store_writer **out);

/* Store one chunk (at most STORE_CHUNK_MAX bytes); *${ref} names it. */
int store_writer_put(struct store_writer *w, const uint8_t *buf, size_t len,
    struct store_ref *ref);

/*
 * store_file_new(w, out), store_file_write(f, off, buf, len),
 * store_file_end(f, extents, n):
 * Chunk a file's content with the content-defined chunker.  Writes come
 * in increasing offsets; a gap from the end of the previous write is a
 * hole.  store_file_end() hands the caller a malloc'd extent array.
 * store_file_free() frees the file (after end, or to abandon it).
 */
int store_file_new(struct store_writer *w, struct store_file **out);
int store_file_write(struct store_file *f, uint64_t off, const uint8_t *buf,
    size_t len);
int store_file_end(struct store_file *f, struct store_extent **extents,
    size_t *n);
/*
 * store_file_take(f, buf, len): the whole content of a file not yet
 * written to, ${len} bytes in malloc'd ${buf}, which ${f} takes (it is
 * freed whatever the result).  Up to store_file_take_max(f) bytes it is
 * one chunk, queued without a copy; the extents are those
 * store_file_write(f, 0, buf, len) would give.
 */
int store_file_take(struct store_file *f, uint8_t *buf, size_t len);
size_t store_file_take_max(const struct store_file *f);
void store_file_free(struct store_file *f);

/*
 * Tree builder: store_tb_new(out); store_tb_add(tb, e) copies ${e}
 * (names, targets and extents included); store_tb_finish(w, tb, dir)
 * sorts, checks (-EINVAL on a duplicate or invalid name), stores the tree
 * and fills the tree ref and n_desc of the directory entry ${dir} (its
 * other fields are the caller's).
 */
int store_tb_new(struct store_tb **out);
int store_tb_add(struct store_tb *tb, const struct store_entry *e);
int store_tb_finish(struct store_writer *w, struct store_tb *tb,
    struct store_entry *dir);
void store_tb_free(struct store_tb *tb);

struct store_snap_new {
	int64_t time_sec;
	uint32_t time_nsec;
	const char *host;
	const char *const *tags;
	size_t n_tags;
	const struct store_source *sources;	/* roots filled by tb_finish */
	size_t n_sources;
};

/*
 * store_writer_commit(w, sn, id):
 * Flush every pack, build the snapshot's root tree (files/, repos/,
 * pipelines/ holding the sources), and write the sealed manifest whose
 * parents are the newest snapshots known now.  Sets ${id}.  Returns
 * -EINVAL on a duplicate or invalid source name.
 */
int store_writer_commit(struct store_writer *w, const struct store_snap_new *sn,
    uint8_t id[STORE_HASH_LEN]);
void store_writer_stats(const struct store_writer *w,
    struct store_writer_stats *st);

/*
 * store_writer_error(w):
 * 0 while ${w} can still commit; else the first error of its workers or
 * of a put (the store failed, not the input): every later write and the
 * commit fail with it, so a caller stops rather than blame its input.
 */
int store_writer_error(struct store_writer *w);
void store_writer_free(struct store_writer *w);

/* ---- local cache (in the index; mode 0700; may vanish at any time) ---- */

/*
 * store_cache_get(s, table, key, klen, val, vlen), store_cache_put(...):
 * A small persistent key-value cache for source readers (e.g. file
 * metadata -> extents for incremental ingest, git object id -> tree).
 * *${val} is malloc'd and the caller's.  Returns -ENOENT on a miss.
 * Values are hints: callers must survive any value being lost.
 */
int store_cache_get(struct store *s, const char *table, const void *key,
    size_t klen, void **val, size_t *vlen);
int store_cache_put(struct store *s, const char *table, const void *key,
    size_t klen, const void *val, size_t vlen);

/*
 * store_writer_cache_put(w, table, key, klen, val, vlen): as
 * store_cache_put(), but written only when store_writer_commit()
 * succeeds: for records (such as a tree's id) whose chunks are trusted
 * without checking each one.  Lost if the writer is freed uncommitted.
 */
int store_writer_cache_put(struct store_writer *w, const char *table,
    const void *key, size_t klen, const void *val, size_t vlen);

/* ---- verify ----------------------------------------------------------- */

#define STORE_VERIFY_READ_DATA 0x1
/*
 * Directory levels below a snapshot's root that readers descend (restore,
 * verify); a writer never nests deeper.  store_verify() reports a deeper
 * directory as a problem rather than checking it.
 */
#define STORE_DEPTH_MAX 2048

/* One problem found by store_verify(). */
struct store_problem {
	const char *object;	/* e.g. "packs/3f/3f2a...", "snapshots/..." */
	const char *what;	/* e.g. "authentication failed" */
	int is_referenced;	/* -1 unknown */
	const char *snapshot;	/* an affected snapshot's name, or NULL */
	const char *path;	/* an affected path, or NULL */
};

/*
 * store_verify(s, flags, expect, report, ctx, n_problems):
 * Check the snapshot DAG (every parent present, ${expect} (an id prefix,
 * or NULL) present), that every referenced tree and chunk exists and
 * every tree decodes; with STORE_VERIFY_READ_DATA, that every object in
 * the store authenticates.  Calls ${report} once per problem.
 * Returns 0 when the check ran (problems or not), -errno if it could not.
 */
int store_verify(struct store *s, unsigned flags, const char *expect,
    void (*report)(void *ctx, const struct store_problem *p), void *ctx,
    uint64_t *n_problems);

/* ---- logging ---------------------------------------------------------- */

/*
 * store_log_set(fn): where libstore's messages go (default: stderr as
 * "amber: MSG").  Set once at start-up, before threads exist.
 */
void store_log_set(void (*fn)(int level, const char *msg));

/* Formats a time as "YYYY-MM-DDTHH:MM:SSZ" into ${buf} (at least 21). */
void store_time_format(int64_t sec, char *buf, size_t cap);
/* Parses an RFC 3339 time into UTC seconds; -EINVAL if malformed. */
int store_time_parse(const char *s, int64_t *sec, uint32_t *nsec);

/*
 * store_readahead_trees(s, cap): a hint that a walk over snapshots is
 * coming: the kernel is asked to read ahead the index and every pack of
 * trees, up to ${cap} bytes of each (the local backend; it returns at
 * once).  Where reads are requests (S3), the packs of trees within
 * ${cap} bytes are copied into the index directory instead, which takes
 * as long as the transfer: a job for a thread of its own.  Packs learned
 * to hold trees are recorded in the index first.  Errors are ignored.
 */
void store_readahead_trees(struct store *s, uint64_t cap);

/*
 * store_on_learn(s, fn, ctx): call ${fn}(ctx) when a tree is found in a
 * pack the index did not know to hold trees (an index that a sync or a
 * rebuild filled), from the thread that read the tree: a sign that
 * store_readahead_trees() has something new to do.  ${fn} must be quick.
 */
void store_on_learn(struct store *s, void (*fn)(void *ctx), void *ctx);

/*
 * store_interrupt(s): the store is about to be closed: long background
 * work (copies of packs of trees by store_readahead_trees()) ends at its
 * next step instead of running to its end.  From any thread.
 */
void store_interrupt(struct store *s);

/* ---- reading without a copy ------------------------------------------- */

#define STORE_PIN_MAX 8

/*
 * What store_read_pin() lends: ${iov}[0..${n_iov}) are the bytes asked
 * for, in order, pointing into decrypted chunks held for the caller (for
 * example for fuse_reply_iov()).  The caller allocates it (on the stack);
 * ${held} is store_unpin()'s.
 */
struct store_pin {
	size_t n_iov;
	struct iovec iov[STORE_PIN_MAX];
	const uint8_t *held[STORE_PIN_MAX];
};

/*
 * store_read_pin(s, e, off, len, p, got):
 * As store_read(), but instead of copying into a buffer, fill ${p} with
 * pointers into the chunk cache, each chunk authenticated as for
 * store_read(), and valid until store_unpin(s, ${p}), which the caller
 * must call exactly once after a return of 0 (also when *${got} is 0),
 * and before store_close().  Returns -ERANGE (holding nothing) when the
 * range has a hole or spans more than STORE_PIN_MAX chunks: the caller
 * then uses store_read().  Other returns as store_read(); on an error
 * nothing is held.  Safe from many threads at once, like store_read().
 */
int store_read_pin(struct store *s, const struct store_entry *e,
    uint64_t off, size_t len, struct store_pin *p, size_t *got);
void store_unpin(struct store *s, struct store_pin *p);

/* ---- retention policy (policy.c; amber-store(5), POLICIES) ---------- */

/* The longest --keep-within: 100 years, in seconds. */
#define STORE_POLICY_WITHIN_MAX ((uint64_t)100 * 366 * 86400)

/* A retention policy: 0 in a field means that rule keeps nothing. */
struct store_policy {
	int64_t time;		/* when it was set, signed (UTC seconds) */
	uint64_t within;	/* keep-within, seconds */
	uint32_t last;		/* keep-last */
	uint32_t hourly;
	uint32_t daily;
	uint32_t weekly;
	uint32_t monthly;
	uint32_t yearly;
	char object[80];	/* "policies/<hex>" it came from */
};

/*
 * store_policy_get(s, out): the policy that counts: of the policies/
 * objects signed by this store's master, the one with the newest signed
 * time (then the greatest name).  Any other object there is named in a
 * warning and ignored.  Needs no key (the config holds the public key).
 * Returns -ENOENT if there is none (then every snapshot is kept), -EIO.
 */
int store_policy_get(struct store *s, struct store_policy *out);

/*
 * store_policy_set(s, p, object, cap): sign ${p} with the master key and
 * store it, dated now (or one second after the newest policy, if that is
 * not earlier), so that it counts from now on; its object name goes to
 * ${object} (may be NULL).  Returns -EACCES without the passphrase,
 * -EINVAL if a field is out of range.
 */
int store_policy_set(struct store *s, const struct store_policy *p,
    char *object, size_t cap);

/* Why a snapshot is kept: bits of the result of store_policy_keep(). */
#define STORE_KEEP_LAST 0x1
#define STORE_KEEP_WITHIN 0x2
#define STORE_KEEP_HOURLY 0x4
#define STORE_KEEP_DAILY 0x8
#define STORE_KEEP_WEEKLY 0x10
#define STORE_KEEP_MONTHLY 0x20
#define STORE_KEEP_YEARLY 0x40

/* What store_policy_keep() needs of a snapshot. */
struct store_keep_in {
	int64_t time;		/* its time, UTC seconds */
	uint8_t writer[STORE_ID_LEN];	/* the key that wrote it */
	uint32_t flags;		/* STORE_SNAP_* */
};

/*
 * store_policy_keep(p, v, n, why): which of the ${n} snapshots ${v} the
 * policy ${p} keeps: why[i] is the STORE_KEEP_* rules that keep v[i], 0
 * if none does.  Snapshots are grouped by writer and each group is
 * judged alone (restic's and borg's rules, newest first, buckets in
 * UTC), so that no key's snapshots take another's places.  Snapshots
 * flagged STORE_SNAP_UNTRUSTED never take a place of keep-last or of a
 * bucket; keep-within, which takes no place, keeps them while they are
 * within ${within} before the group's newest trusted snapshot.  Pure (it
 * reads no clock); returns 0 or -ENOMEM.
 */
int store_policy_keep(const struct store_policy *p,
    const struct store_keep_in *v, size_t n, uint32_t *why);

/*
 * store_policy_horizon(p): how long after its time a snapshot may still
 * be kept by a period rule of ${p} that it may be the keeper of: the
 * keep-within duration, and N + 1 of the longest period for each
 * keep-hourly/daily/weekly/monthly/yearly N (a month counts 31 days, a
 * year 366), whichever is longest; at most STORE_RETENTION_MAX.
 * keep-last has no horizon in time: the config's retention stands for
 * it.  Ingest on S3 locks at least this long (amber-store(5), PRUNING on
 * S3).
 */
uint64_t store_policy_horizon(const struct store_policy *p);

/*
 * store_keep_lock(s, kept, n, horizon, n_objects): where the backend
 * locks objects (S3 Object Lock), lengthen the lock of the manifest of
 * each of the ${n} snapshots ${kept} to its time (or commit, if later,
 * and never after now) + ${horizon} (at least the config's retention),
 * and of every pack they reference to the latest of those; locks are
 * never shortened.  For `amber policy set` with a longer horizon
 * (amber-store(5), PRUNING on S3).  *${n_objects}: how many objects
 * were looked at.  Returns 0 or -errno.
 */
int store_keep_lock(struct store *s, const struct store_snap *const *kept,
    size_t n, uint64_t horizon, uint64_t *n_objects);

/* The ${i}th STORE_KEEP_* rule and its name; NULL past the last. */
const char *store_keep_name(size_t i, uint32_t *rule);

/* ---- pruning a local store (prune.c; amber-store(5), PRUNING) ------- */

struct store_prune_in {
	const struct store_ref *keep;	/* root trees of kept snapshots */
	size_t n_keep;
	const uint8_t (*drop)[STORE_HASH_LEN];	/* expired snapshot ids */
	size_t n_drop;
	int64_t grace;		/* seconds: younger packs are never deleted */
	int is_dry_run;
	/* S3: the root trees of ${drop}, in its order (an expired manifest
	 * still locked stays, and so do the packs it references), and a
	 * callback (may be NULL) for each object left locked until ${until}. */
	const struct store_ref *drop_tree;
	void (*locked)(void *ctx, const char *object, uint64_t size,
	    int64_t until);
	/* Repack a referenced pack whose live bytes are below this percent
	 * of its size (0: never; STORE_REPACK_DEFAULT by default). */
	unsigned repack_threshold;
};

#define STORE_REPACK_DEFAULT 50

struct store_prune_stats {
	uint64_t n_snaps;	/* expired manifests (deleted) */
	uint64_t bytes_snaps;
	uint64_t n_packs;	/* packs no kept snapshot references */
	uint64_t bytes_packs;
	uint64_t n_packs_young;	/* unreferenced, but within the grace */
	uint64_t bytes_packs_young;
	uint64_t n_packs_live;	/* packs a kept snapshot references */
	uint64_t bytes_packs_live;
	uint64_t n_chunks_live;	/* chunks (and trees) kept snapshots use */
	/* S3 */
	uint64_t n_markers;	/* delete markers added (counted in n_snaps,
				 * n_packs and their bytes) */
	uint64_t n_locked;	/* expired, but locked: left for a later run */
	uint64_t bytes_locked;
	uint64_t n_hidden;	/* under a marker already (an earlier run):
				 * the lifecycle rule removes them */
	uint64_t n_packs_repacked;	/* mostly dead packs repacked (deleted) */
	uint64_t bytes_packs_repacked;
	uint64_t n_packs_written;	/* the new packs they were copied into */
	uint64_t bytes_packs_written;
	uint64_t n_chunks_copied;	/* live blobs copied */
	uint64_t bytes_copied;
};

#define STORE_PRUNE_SNAPSHOT 1
#define STORE_PRUNE_PACK 2
#define STORE_PRUNE_REPACKED 3	/* a pack whose live blobs were copied */

/*
 * store_prune(s, in, each, ctx, st): delete from a local store the
 * manifests ${in}->drop and every pack that no snapshot of ${in}->keep
 * references and that is older than ${in}->grace; with is_dry_run,
 * delete nothing and only count.  ${each} (may be NULL) is called with
 * each object that goes (what: STORE_PRUNE_*).  Before deleting, a
 * record of the expired snapshots signed by the master is stored
 * (pruned/<hex>).  A referenced pack older than the grace whose live
 * bytes are below ${in}->repack_threshold percent has its live blobs
 * copied into new packs (written and indexed first), and is then deleted
 * too (repack.c).  Holds the prune lock throughout, and removes what
 * it deleted from the index.  Needs the passphrase.  Returns -EBUSY if a
 * writer holds the prune lock, -EOPNOTSUPP for a store that is not a
 * local directory, -EBADMSG if a kept snapshot's tree cannot be read
 * (nothing is deleted then), -EACCES without the passphrase, -EIO.
 */
int store_prune(struct store *s, const struct store_prune_in *in,
    void (*each)(void *ctx, const char *object, uint64_t size, int what),
    void *ctx, struct store_prune_stats *st);

/*
 * store_expired_each(s, fn, ctx): call ${fn} with every snapshot id that
 * a record of expired snapshots signed by the master (pruned/<hex>)
 * names; other objects there are named in a warning and ignored.  An id
 * may come more than once.  A non-zero return of ${fn} stops it.
 */
int store_expired_each(struct store *s,
    int (*fn)(void *ctx, const uint8_t id[STORE_HASH_LEN]), void *ctx);

#endif
