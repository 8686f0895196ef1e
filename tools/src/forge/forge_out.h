/*
 * forge_out.h: the stored layout of one pipelines/NAME source being
 * built from a forge API (amber-pipelines(5), "Layout").  Files are
 * put by path as they are fetched and stored at once through the
 * snapshot's writer; forge_out_finish() makes the trees.  Directories
 * marked with forge_out_carry() keep every entry of the previous snapshot
 * that was not put again, by reference to its stored chunks, so that old
 * runs never vanish from `latest`.
 */
#ifndef FORGE_OUT_H
#define FORGE_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "forge_http.h"
#include "source.h"

struct forge_out;

/*
 * forge_out_new(c, prev, now, out):
 * Start a layout for ${c}'s writer.  ${prev} is this source in the
 * previous snapshot, or NULL; it must stay valid until forge_out_free().
 * Files get ${now} as mtime unless their content equals the previous
 * snapshot's, which keeps the previous mtime (unchanged trees then
 * dedup).  With ${c}->is_dry (a dry pass, no writer: source.h), a put
 * only notes its path, for forge_out_has(), and forge_out_finish() is
 * not called.  The caller frees *${out} with forge_out_free().
 */
int forge_out_new(struct src_ctx *c, const struct store_source *prev,
    int64_t now, struct forge_out **out);
void forge_out_free(struct forge_out *o);

/*
 * forge_out_cache(o, name):
 * Keep a carry cache for the source ${name} in the local cache: written
 * at commit with what the carried directories hold, and read back when
 * ${prev} cannot be had because the store was unlocked with an ingest
 * key (which reads nothing stored), so that such a host carries runs
 * forward too.  Call once, after forge_out_new().  Returns -ENOMEM; a
 * missing or damaged cache value is not an error.
 */
int forge_out_cache(struct forge_out *o, const char *name);

/* forge_out_cache_state(o, state): the _state.json kept in the cache. */
int forge_out_cache_state(struct forge_out *o, const json_t *state);

/*
 * forge_out_put(o, path, buf, len, mode):
 * Store ${len} bytes as the file ${path} ("runs/12.json"; checked with
 * forge_json_is_safe_path()) with permission bits ${mode}, replacing an
 * earlier put of that path.  Returns -EINVAL for a bad path, or a store
 * error.
 */
int forge_out_put(struct forge_out *o, const char *path, const void *buf,
    size_t len, uint32_t mode);

/* forge_out_put_json(o, path, j, mode): forge_json_dump() then put. */
int forge_out_put_json(struct forge_out *o, const char *path,
    const json_t *j, uint32_t mode);

/* Whether ${path} was put in this run (1) or not (0). */
int forge_out_has(const struct forge_out *o, const char *path);

/*
 * forge_out_error(o, what, e):
 * Record that ${what} ("variables", "logs/123") could not be fetched,
 * for _errors.json, and warn through src_warn() (the run is partial).
 * Returns 0 or -ENOMEM.
 */
int forge_out_error(struct forge_out *o, const char *what,
    const struct err *e);

/* The number of errors recorded so far. */
size_t forge_out_n_errors(const struct forge_out *o);

/*
 * forge_out_carry(o, dir):
 * Keep, in the top-level directory ${dir} ("runs"), the previous
 * snapshot's entries that this run does not put.
 */
int forge_out_carry(struct forge_out *o, const char *dir);

/*
 * forge_out_prev_max(o, dir, max):
 * The largest N among the previous snapshot's files ${dir}/N.json; 0 if
 * there is no previous snapshot or no such file.
 */
int forge_out_prev_max(struct forge_out *o, const char *dir, uint64_t *max);

/*
 * forge_out_prev_json(o, path, out):
 * The previous snapshot's file ${path} parsed as JSON.  Returns -ENOENT
 * if there is none, -EBADMSG if it is not JSON, or a store error.
 */
int forge_out_prev_json(struct forge_out *o, const char *path, json_t **out);

/*
 * forge_out_finish(o, out):
 * Write _errors.json if anything failed, store every directory, and fill
 * ${out}'s root entry, n_files and n_bytes (the caller sets the kind,
 * name, origin and flags).  Call once.
 */
int forge_out_finish(struct forge_out *o, struct store_source *out);

#endif
