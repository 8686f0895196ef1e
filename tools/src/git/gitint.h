/*
 * gitint.h: what the files of the git reader (tools/src/git/) share:
 * its limits, its types and the functions one file defines for another.
 * Private to this folder; src_git.h is the reader's interface.
 */
#ifndef GITINT_H
#define GITINT_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "io.h"
#include "rd.h"
#include "source.h"
#include "url.h"

extern char **environ;

#define RAW_MAX 32		/* sha256; sha1 ids have 20 bytes */
#define HEX_MAX 64
#define IO_LEN (1u << 20)	/* one read of object or pack content */
#define CF_BUF (256u << 10)	/* the cat-file reader's buffer */
#define HDR_OBJ_MAX (1u << 20)	/* commit and tag bytes we look at */
#define TREE_OBJ_MAX STORE_TREE_MAX
#define DEPTH_MAX 1024		/* directory nesting we follow */
#define PEEL_MAX 64		/* tags of tags we follow */
#define PACKS_MAX 32		/* stored packs before a full repack */
#define REFS_OUT_MAX (1024u << 20)	/* for-each-ref output */
#define META_MAX (256u << 20)	/* packed-refs or shallow read back */
#define N_RESTART_MAX 64	/* cat-file restarts after bad objects */
/*
 * Blobs asked of cat-file ahead of reading them, so that git inflates the
 * next ones while we chunk and store this one.  The requests (~50 bytes
 * each) must fit in the socket's buffer whatever git does, or both sides
 * could block writing: a few KiB is far below it.
 */
#define CF_PIPE 32

/*
 * Memory bounds for the git commands that read the whole repository:
 * by default git maps packs in windows of 1 GiB and keeps 96 MiB of delta
 * bases, so reading every blob of a big repository (cat-file) or packing
 * all of it (pack-objects) held the whole pack in its resident set, which
 * was then the peak RSS of an ingest.  These cost a few per cent of time.
 */
#define GIT_MEM_OPTS "-c", "core.packedGitWindowSize=16m", "-c", \
	"core.packedGitLimit=64m", "-c", "core.deltaBaseCacheLimit=32m"

/* Keyed by the tree id alone; "git-tree" was keyed by id and mtime. */
#define TABLE_TREE "git-tree2"
#define TABLE_BLOB "git-blob"
#define TABLE_MIRROR "git-mirror"
/* NAME -> the fetch state's hash and the two stored roots made from it */
#define TABLE_STATE "git-state1"
#define VAL_VERSION 1
#define TREE_VAL_LEN (1 + 2 * STORE_HASH_LEN + 3 * 8)
#define EXT_VAL_LEN STORE_EXTENT_LEN
#define BLOB_VAL_HDR (1 + 8 + 4)
#define BLOB_VAL_EXT_MAX (1u << 24)

#define SUBMODULE_FILE ".gitlink"
/*
 * In the mirror cache, from its clone until its first fetch: the one pack
 * the clone wrote holds exactly what the refs reach, so the first ingest
 * stores it as it is instead of running pack-objects again.
 */
#define GIT_CLONED_FILE "amber-cloned"

enum obj_type {
	OBJ_NONE = 0,
	OBJ_COMMIT,
	OBJ_TREE,
	OBJ_BLOB,
	OBJ_TAG,
};

/* An in-memory map for this run, keyed by an object id. */
struct map_slot {
	uint8_t key[RAW_MAX];
	uint8_t klen;
	uint8_t *val;
	size_t vlen;
};

struct map {
	struct map_slot *slots;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* A running `git cat-file --batch-command`. */
struct cf {
	pid_t pid;
	int fd;
	uint8_t *buf;
	size_t off;
	size_t len;
	/* "contents" asked but not read yet, oldest first (a ring). */
	char pend[CF_PIPE][HEX_MAX + 1];
	size_t pend_head;
	size_t n_pend;
};

/* One ref: "refs/..." and its object. */
struct gref {
	char *name;
	char hex[HEX_MAX + 1];
};

/* Owned copies of the entries of objects/pack. */
struct plist {
	struct store_entry *v;	/* names and extents malloc'd */
	size_t n;
	size_t cap;
};

/* What the previous snapshot holds of NAME.git. */
struct prev {
	int is_found;
	char *packed_refs;
	size_t packed_refs_len;
	char *head;
	size_t head_len;
	char *shallow;		/* NULL: not shallow */
	size_t shallow_len;
	struct plist packs;	/* objects/pack */
	size_t n_packs;		/* of which .pack files */
};

/* Counts below a directory. */
struct counts {
	uint64_t n_files;
	uint64_t n_bytes;
};

struct gsrc {
	struct src_ctx *c;
	const char *name;
	char *dir;		/* the mirror cache */
	char *gitdir_arg;	/* "--git-dir=<dir>" */
	char **envp;
	char *url;		/* the location as git gets it: no userinfo */
	char *genv[8];		/* GIT_CONFIG_* and the like (git_creds_take()) */
	size_t n_genv;
	size_t rawlen;
	size_t hexlen;
	int64_t mirror_mtime;	/* the newest tip's time, else now */
	int is_partial;
	int is_cache_suspect;	/* git failed reading the mirror cache */
	int is_prefetched;	/* src_git_fetch() updated the cache */
	int n_restarts;
	struct cf cf;
	struct map trees;
	struct map blobs;
	uint8_t *iobuf;		/* IO_LEN bytes */
	char path[8192];	/* the current path, for messages */
	size_t path_len;
};


/* git_util.c */
char *git_str_cat(const char *a, const char *b, const char *c);
void git_quote(const char *src, size_t n, char *dst, size_t cap);
void gwarn(struct gsrc *g, const char *what, const char *hex);
int gerr(struct gsrc *g, int r, const char *what);
size_t git_path_push(struct gsrc *g, const void *name, size_t len);
void git_path_pop(struct gsrc *g, size_t old);
void git_progress_add(struct gsrc *g, uint64_t n_files, uint64_t n_bytes);
void git_rm_tree(const char *path);
struct map_slot *gmap_find(struct map *m, const uint8_t *key, size_t klen);
int gmap_put(struct map *m, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen);
void gmap_fini(struct map *m);

/* git_run.c */
int git_env_build(struct gsrc *g);
int git_creds_take(struct gsrc *g, const char *location, unsigned flags);
void git_creds_free(struct gsrc *g);
int git_reap(pid_t pid);
int git_run(struct gsrc *g, const char *const *argv, const char *in,
    size_t inlen, char **out, size_t *outlen, size_t max);
void cf_close(struct gsrc *g);
int cf_open(struct gsrc *g);
int cf_restart(struct gsrc *g);
int cf_read(struct gsrc *g, uint8_t *dst, uint64_t len);
int cf_end(struct gsrc *g);
int cf_is_pending(const struct gsrc *g, const char *hex);
int cf_ask(struct gsrc *g, const char *hex);
int cf_begin(struct gsrc *g, const char *verb, const char *hex,
    enum obj_type *type, uint64_t *size);
int cf_get(struct gsrc *g, const char *hex, enum obj_type want, size_t cap,
    int is_strict, uint8_t **buf, size_t *len, enum obj_type *got);

/* git_blob.c */
void git_tree_val_encode(uint8_t v[TREE_VAL_LEN], const struct store_entry *dir,
    const struct counts *n);
int git_tree_val_decode(const uint8_t *v, size_t len, struct store_entry *dir,
    struct counts *n);
int git_blob_lookup(struct gsrc *g, const uint8_t *oid, uint64_t *size,
    struct store_extent **ext, size_t *n);
int git_blob_store(struct gsrc *g, const uint8_t *oid, uint64_t *size,
    struct store_extent **ext, size_t *n);
int git_bytes_store(struct gsrc *g, const uint8_t *buf, size_t len,
    struct store_extent **ext, size_t *n);

/* git_tree.c */
int git_dir_add(struct gsrc *g, struct store_tb *parent, const char *name,
    struct store_tb *tb, int64_t mtime);
int git_browse_build(struct gsrc *g, const struct gref *refs, size_t n_refs,
    const char *head, struct store_source *out);

/* git_cache.c */
char *git_location_resolve(const char *location);
/* 0 updated, 1 nothing changed since the last complete update, -errno */
int git_cache_update(struct gsrc *g, const char *location, int *lockfd);
/* The fetch state of the cache in g->dir (malloc'd, NUL-terminated). */
int git_state_read(const struct gsrc *g, char **text, size_t *len);
int git_refs_list(struct gsrc *g, struct gref **out, size_t *n_out);

/* git_mirror.c */
int git_mirror_build(struct gsrc *g, const struct gref *refs, size_t n_refs,
    const char *head, struct store_source *out);

#endif
