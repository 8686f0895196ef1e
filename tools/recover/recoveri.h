/*
 * recoveri.h: what the files of `amber recover` (tools/recover/) share:
 * the stages of a plan, the helpers that add its steps and requests,
 * the reading of the snapshot and the target, and the table of the
 * kinds of metadata each forge dialect recovers.  Private to this
 * folder; recover.h is the interface.
 *
 *   recover_plan.c     the target, the project, its refs; the plan
 *   recover_meta.c     metadata: matching stored items with the target's
 *   recover_gitlab.c   GitLab's kinds of metadata
 *   recover_github.c   GitHub's kinds of metadata
 *   recover_apply.c    carrying a plan out
 */
#ifndef RECOVERI_H
#define RECOVERI_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "recover.h"
#include "store.h"

/* Stages: the order of the steps of a plan. */
enum { ST_CREATE, ST_PUSH, ST_SETTINGS, ST_META, ST_ARCHIVE };

/* %-encode ${in} for one segment of a URL path. */
int recover_url_enc(const char *in, char *out, size_t cap);

/*
 * Append a step {action, part, name, detail} of ${stage} to ${p}'s plan.
 * Returns the step, borrowed from the plan, or NULL (no memory).
 */
json_t *recover_step(struct recover_proj *p, int stage, const char *action,
    const char *part, const char *name, const char *detail);

/*
 * Add a request to step ${a}: METHOD URL (${path} below the API base)
 * BODY.  Takes ${body}, which may be NULL.  Returns -ERANGE or -ENOMEM.
 */
int recover_req_add(struct recover_target *t, json_t *a, const char *method,
    const char *path, json_t *body);

/* Count one ${part} the target already has as stored. */
void recover_same_add(struct recover_proj *p, const char *part);
void recover_note(struct recover_proj *p, const char *msg);

/* Mark ${p} failed; the first reason given is kept. */
void __attribute__((format(printf, 2, 3)))
recover_fail(struct recover_proj *p, const char *fmt, ...);

/* pipelines/SRC/${name} as JSON (a new reference); NULL if absent. */
json_t *recover_stored_json(struct store *s, const struct recover_proj *p,
    const char *name);

/* A new object with the members ${keys} (NULL-ended) of ${in}. */
json_t *recover_pick(const json_t *in, const char *const *keys);

/* Whether every member of ${want} is in ${have}, equal. */
int recover_covers(const json_t *have, const json_t *want);

/* Into ${out}: "differs: " and the members of ${want} ${have} lacks. */
void recover_differs(const json_t *have, const json_t *want, char *out,
    size_t cap);

/* The project's URL path below the API base, e.g. /projects/g%2Fa. */
int recover_proj_path(const struct recover_target *t,
    const struct recover_proj *p, char *out, size_t cap);

/*
 * GET ${path} below the API base into *${out}; a listing (${is_list})
 * is read whole, every page, the items being the page or its member
 * ${key}.  Returns -ENOENT when the target has no such thing.
 */
int recover_get_json(struct recover_target *t, const char *path,
    int is_list, const char *key, json_t **out, struct err *e);

/* Whether the forge's clone URL ${url} is on its own host. */
int recover_clone_url_ok(const struct recover_target *t, const char *url);

/* Extract the stored mirror of ${p} below o->tmp, once. */
int recover_mirror_out(struct store *s, const struct recover_opts *o,
    struct recover_proj *p);

/* The target's git remote for ${p}, with the token as its password. */
int recover_proj_remote(struct recover_target *t, struct recover_proj *p,
    struct recover_remote *rm);

/* Plan the metadata (recover_meta.c): pipelines/SRC against the target. */
int recover_plan_meta(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p);

/*
 * One kind of metadata: where it is stored, how the target lists it,
 * what identifies an item, and what of it can be set.
 */
struct recover_kind {
	const char *part;	/* "variable" */
	const char *file;	/* "variables.json" */
	const char *list;	/* "/variables" below the project */
	const char *list_key;	/* GitHub: the array's member, or NULL */
	int (*key)(const json_t *it, char *out, size_t cap);
	json_t *(*body)(const json_t *it);	/* what can be set */
	/* the path (below the project) to update the target's ${it} */
	int (*upath)(const json_t *it, char *out, size_t cap);
	const char *umethod;	/* PUT, PATCH; "DELETE" deletes then posts */
	const char *cpath;	/* create: POST below the project */
	const char *cmethod;	/* NULL: POST; "PUT": to upath of stored */
	/* GitHub: the listing lacks what can be set; GET the upath of
	 * each match, and compare with {"name": key, "protection": it} */
	int has_detail;
};

extern const struct recover_kind recover_gitlab_kinds[];
extern const size_t recover_n_gitlab_kinds;
extern const struct recover_kind recover_github_kinds[];
extern const size_t recover_n_github_kinds;

/* Keys of items: member ${k} (or name, description, url) of ${it}. */
int recover_key_str(const json_t *it, const char *k, char *out, size_t cap);
int recover_key_name(const json_t *it, char *out, size_t cap);
int recover_key_description(const json_t *it, char *out, size_t cap);
int recover_key_url(const json_t *it, char *out, size_t cap);

/* Update paths: ${dir}/ID, or ${dir}/ and member ${k}, %-encoded. */
int recover_upath_id(const char *dir, const json_t *it, char *out,
    size_t cap);
int recover_upath_name(const char *dir, const json_t *it, const char *k,
    char *out, size_t cap);

#endif
