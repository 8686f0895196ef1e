/*
 * source.h: the interface between the ingest pipeline (ingest.c) and the
 * source readers (src_dir.c, src_git.c, src_forge.c).  A reader turns its
 * input into trees through the store writer and fills one or more
 * struct store_source (kind, name, origin, root directory entry, counts,
 * flags); the pipeline commits them all in one snapshot.
 *
 * Readers report each unreadable or changed input with src_warn() and go
 * on: the snapshot still commits and `amber ingest` exits 3 (partial).  A
 * reader returns -errno only when the source as a whole failed; the other
 * sources of the run still commit.
 */
#ifndef SOURCE_H
#define SOURCE_H

#include <stdint.h>
#include <pthread.h>

#include "store.h"

struct src_progress {
	uint64_t n_files;	/* entries recorded */
	uint64_t n_bytes;	/* content bytes read */
	uint64_t n_warnings;
};

struct src_ctx {
	struct store *s;
	struct store_writer *w;
	struct src_progress progress;	/* readers add to it as they go */
	pthread_mutex_t lock;	/* guards progress for parallel readers */
	int is_verbose;
	int is_line_shown;	/* guarded by lock: a progress line is up */
	/*
	 * A dry pass (src_forge_prefetch()): no writer (w is NULL), and
	 * warnings are counted but not shown, since the pass that stores
	 * the source repeats them.
	 */
	int is_dry;
};

/*
 * src_warn(c, fmt, ...): one warning line on stderr ("amber ingest:
 * warning: ..."), counted in c->progress.n_warnings (which makes the run
 * partial).  Thread-safe.  Defined in source.c.  With c->is_dry, counted
 * only.
 */
void src_warn(struct src_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* src_dir.c: a plain directory tree under files/NAME. */
struct src_dir_opts {
	const char *const *excludes;	/* fnmatch(3) patterns */
	size_t n_excludes;
	int is_one_file_system;
};

int src_dir_read(struct src_ctx *c, const char *name, const char *path,
    const struct src_dir_opts *o, struct store_source *out);

/*
 * src_git.c: a git repository under repos/NAME (browsable trees) and
 * repos/NAME.git (the mirror); fills out[0] and out[1].
 */
int src_git_read(struct src_ctx *c, const char *name, const char *location,
    struct store_source out[2]);

/*
 * src_forge.c: pipeline metadata under pipelines/NAME, from an exported
 * directory or a forge API (gitlab:URL, github:OWNER/REPO).  ${prev} is
 * this source in the previous snapshot, or NULL, for carrying runs
 * forward.  ${tape} is NULL, or what src_forge_prefetch() recorded: the
 * forge's answers are then played back from it rather than asked for.
 */
struct forge_tape;

int src_forge_read(struct src_ctx *c, const char *name, const char *spec,
    const struct store_source *prev, struct forge_tape *tape,
    struct store_source *out);

/*
 * src_forge_prefetch(c, name, spec, prev, dir, out):
 * The network half of src_forge_read(), for a thread of the parallel
 * phase: read the source with ${c} dry (c->is_dry, no writer), recording
 * every answer of the forge on a new tape in directory ${dir}, into
 * *${out} (the caller frees it with forge_tape_free() after handing it
 * to src_forge_read()).  *${out} is NULL for a spec that is no forge API
 * (an exported directory), and when no tape could be made: the source is
 * then read from the network by src_forge_read().  Returns 0 or -ENOMEM.
 */
int src_forge_prefetch(struct src_ctx *c, const char *name, const char *spec,
    const struct store_source *prev, const char *dir,
    struct forge_tape **out);

#endif
