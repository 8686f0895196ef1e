/*
 * forge_fetch.h: what the GitLab and GitHub readers share: their options,
 * and "fetch this and store it there, or record why not" in one call, so
 * that each reader reads as a list of endpoints and paths.
 */
#ifndef FORGE_FETCH_H
#define FORGE_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "forge_http.h"
#include "forge_out.h"
#include "source.h"

struct forge_fetch_opts {
	size_t first_runs;	/* runs taken when there is no previous one */
	size_t max_new_runs;	/* runs taken at most in a later snapshot */
	int is_names_only;	/* store variable names, not values */
	int has_logs;		/* fetch job logs */
	size_t max_log;		/* bytes of one log */
	int has_artifacts;	/* fetch the artifacts themselves */
	size_t max_artifact;	/* bytes of one artifact archive */
	const char *skip;	/* parts not to fetch: "hooks,variables" */
};

struct forge_fetch {
	struct src_ctx *c;
	struct forge_out *o;
	struct forge_http *h;
	struct forge_fetch_opts opts;
	uint64_t prev_max_run;	/* newest run id of the previous snapshot */
	json_t *unfinished;	/* run ids to fetch again (from _state.json) */
	json_t *still_unfinished;	/* for this snapshot's _state.json */
};

/* Scrubbing applied before storing (forge_json_scrub()). */
#define FORGE_FETCH_RAW 0
#define FORGE_FETCH_SECRETS 1	/* hooks: no secrets */
#define FORGE_FETCH_VALUES 2	/* variables: no values if names-only */
/* Or'ed in: a 404 or 410 means "gone" or "none", not a failure. */
#define FORGE_FETCH_GONE_OK 0x100

/*
 * forge_fetch_opts_env(o):
 * Options from the environment (AMBER_FORGE_RUNS, AMBER_FORGE_MAX_RUNS,
 * AMBER_FORGE_NAMES_ONLY, AMBER_FORGE_LOGS, AMBER_FORGE_MAX_LOG,
 * AMBER_FORGE_ARTIFACTS, AMBER_FORGE_MAX_ARTIFACT, AMBER_FORGE_SKIP; see
 * amber-pipelines(5)).  Returns -EINVAL, naming the variable through
 * ${bad}, if one is not a number.
 */
int forge_fetch_opts_env(struct forge_fetch_opts *o, const char **bad);

/*
 * forge_fetch_init(f, c, o, h, opts), forge_fetch_fini(f):
 * Set up ${f} and read the previous snapshot's state (newest run,
 * unfinished runs).  Returns a store error if the previous snapshot
 * cannot be read.
 */
int forge_fetch_init(struct forge_fetch *f, struct src_ctx *c,
    struct forge_out *o, struct forge_http *h,
    const struct forge_fetch_opts *opts);
void forge_fetch_fini(struct forge_fetch *f);

/*
 * forge_fetch_wants(f, what):
 * 0 if the part ${what} belongs to (its first word before a space or a
 * slash: "hooks", "logs/12", "secrets of environment x") is in
 * AMBER_FORGE_SKIP, else 1.  The forge_fetch_* calls below skip such a
 * part by themselves (returning 0 with *out NULL).
 */
int forge_fetch_wants(const struct forge_fetch *f, const char *what);

/*
 * forge_fetch_json(f, what, url, path, scrub, mode, out):
 * GET ${url} and store it as ${path}; with ${out}, also hand the value
 * to the caller (a new reference).  Returns 0 when it was stored, and also
 * when the forge failed us: that is recorded under ${what} (_errors.json)
 * and *${out} is NULL.  Returns -errno only for what must end the source:
 * a store failure, -ENOMEM.
 */
int forge_fetch_json(struct forge_fetch *f, const char *what,
    const char *url, const char *path, int scrub, uint32_t mode,
    json_t **out);

/*
 * forge_fetch_list(f, what, url, key, path, scrub, mode, out):
 * As forge_fetch_json() for a paginated listing (forge_http_get_all()),
 * stored as one array.  ${path} may be NULL to only return it.
 */
int forge_fetch_list(struct forge_fetch *f, const char *what,
    const char *url, const char *key, const char *path, int scrub,
    uint32_t mode, json_t **out);

/*
 * forge_fetch_newer(f, what, url, key, above, out):
 * The items of listing ${url} (newest first; the array, or its member
 * ${key}) with an id above ${above}, into a new array *${out}: all of
 * f->opts.first_runs when ${above} is 0, else f->opts.max_new_runs.  A
 * forge error is recorded under ${what}, leaving *${out} NULL.  Returns
 * 0, -ENOMEM or a store error.
 */
int forge_fetch_newer(struct forge_fetch *f, const char *what,
    const char *url, const char *key, uint64_t above, json_t **out);

/*
 * forge_fetch_runs(f, url, key, run, again, ctx):
 * Unless runs are skipped: the runs of listing ${url} (the array, or its
 * member ${key}) newer than the previous snapshot's, each through
 * ${run}(ctx, item), then the previous snapshot's unfinished runs not
 * stored yet, each through ${again}(ctx, id).  Returns 0 or the first
 * negative return of forge_fetch_newer(), ${run} or ${again}.
 */
int forge_fetch_runs(struct forge_fetch *f, const char *url, const char *key,
    int (*run)(void *ctx, json_t *item), int (*again)(void *ctx, uint64_t id),
    void *ctx);

/*
 * forge_fetch_deployments(f, url, out):
 * Unless deployments are skipped: those of listing ${url} newer than the
 * previous snapshot's, each stored as deployments/ID.json, and into a
 * new array *${out} (may be NULL).  Returns 0 or a store error.
 */
int forge_fetch_deployments(struct forge_fetch *f, const char *url,
    json_t **out);

/*
 * forge_fetch_next_unfinished(f, i, id):
 * The next run, from position *${i} of the previous snapshot's
 * unfinished runs, that this snapshot has not stored yet (runs/ID.json):
 * sets *${id}, moves *${i} past it and returns 1; 0 when none is left.
 * Start with *${i} = 0.
 */
int forge_fetch_next_unfinished(struct forge_fetch *f, size_t *i,
    uint64_t *id);

/*
 * forge_fetch_config_name(f, name, keep_slash, enc, cap):
 * %-encode the configuration file name ${name} into ${enc} (${cap} bytes;
 * '/' left as it is if ${keep_slash}).  A name that is not a safe
 * relative path (forge_json_is_safe_path()), or too long, is recorded as
 * an error of "config".  Returns 1 with ${enc} set, 0 for an unusable
 * name, or a store error.
 */
int forge_fetch_config_name(struct forge_fetch *f, const char *name,
    int keep_slash, char *enc, size_t cap);

/*
 * forge_fetch_put_item(f, item, dir, id):
 * Store ${item} as ${dir}/ID.json, ID being its integer "id", and set
 * *${id}.  Returns 1, 0 (and stores nothing) if it has no such id, or a
 * store error.
 */
int forge_fetch_put_item(struct forge_fetch *f, json_t *item,
    const char *dir, uint64_t *id);

/*
 * forge_fetch_put_items(f, items, dir):
 * Store each item of array ${items} that has an integer "id" as
 * ${dir}/ID.json.  Returns 0 or a store error.
 */
int forge_fetch_put_items(struct forge_fetch *f, json_t *items,
    const char *dir);

/* One project being read: where it is, and a buffer for its URLs. */
struct forge_fetch_proj {
	struct forge_fetch *f;
	char under[1040];	/* /projects/PATH or /repos/OWNER/NAME,
				 * the names %-encoded */
	char ref[512];		/* %-encoded default branch */
	char url[FORGE_URL_MAX];
};

/*
 * forge_fetch_url(p, fmt, ...):
 * The API base, p->under and the path formatted from ${fmt}, into
 * p->url (valid until the next call); "" if it does not fit (a request
 * to "" fails, and is recorded).  Returns p->url.
 */
const char *forge_fetch_url(struct forge_fetch_proj *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * forge_fetch_jobs(p, run, url, key, job):
 * The jobs of run ${run}: listing ${url} (the array, or its member
 * ${key}); each job with an integer "id" is stored as jobs/ID.json and
 * then handed to ${job}(p, item, id), which fetches what the job kept
 * (its log, its artifacts).  A forge error is recorded under "jobs of
 * runs/RUN".  Returns 0 or the first negative return (a store error).
 */
int forge_fetch_jobs(struct forge_fetch_proj *p, uint64_t run,
    const char *url, const char *key,
    int (*job)(struct forge_fetch_proj *p, json_t *item, uint64_t id));

/*
 * forge_fetch_end(p):
 * End reading project ${p}: its hooks (secrets removed) and releases,
 * which both forges list alike, then _state.json (forge_fetch_state()).
 * Returns 0 or a store error.
 */
int forge_fetch_end(struct forge_fetch_proj *p);

/*
 * forge_fetch_begin(f, url, file, out):
 * Start reading a project: carry the previous snapshot's runs, jobs,
 * logs, artifacts and deployments (forge_out_carry()), then GET the
 * project at ${url} into *${out} and store it as ${file}.  A forge
 * error is a warning of the source, and returned.
 */
int forge_fetch_begin(struct forge_fetch *f, const char *url,
    const char *file, json_t **out);

/*
 * forge_fetch_log(f, job, url):
 * GET the log of job ${job} and store it as logs/<job>.log.  A log the
 * forge does not have (404, 410: expired or never written) is skipped
 * silently; other failures are recorded.  Returns as forge_fetch_json().
 */
int forge_fetch_log(struct forge_fetch *f, uint64_t job, const char *url);

/*
 * forge_fetch_file(f, what, url, path, max):
 * GET ${url} (at most ${max} bytes) and store it as ${path} byte for
 * byte; used for artifacts.  As forge_fetch_log() otherwise.
 */
int forge_fetch_file(struct forge_fetch *f, const char *what,
    const char *url, const char *path, size_t max);

/*
 * forge_fetch_put(f, path, buf, len, mode):
 * forge_out_put(), except that a path the layout cannot hold (a file
 * where a directory is, from a hostile listing) is recorded, not fatal.
 */
int forge_fetch_put(struct forge_fetch *f, const char *path,
    const void *buf, size_t len, uint32_t mode);

/*
 * forge_fetch_run_done(f, id, is_finished):
 * Note that run ${id} was stored; unfinished runs are fetched again by
 * the next snapshot (they are listed in _state.json).
 */
int forge_fetch_run_done(struct forge_fetch *f, uint64_t id, int is_finished);

/*
 * forge_fetch_state(f): store _state.json.
 */
int forge_fetch_state(struct forge_fetch *f);

#endif
