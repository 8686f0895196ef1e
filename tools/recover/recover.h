/*
 * recover.h: `amber recover`'s plan and its execution.  A plan is built
 * per project by comparing what a snapshot holds (repos/NAME.git and
 * pipelines/NAME) with what the target forge has now, read through its
 * API and `git ls-remote`: never with a local journal, so that a run on
 * another machine resumes where one failed.  Each step of a plan is a
 * JSON object {"action", "part", "name", "detail"} that --json prints
 * as it is; the requests that carry it out are kept beside it in members
 * whose name starts with '_', which are never printed.
 */
#ifndef RECOVER_H
#define RECOVER_H

#include <jansson.h>

#include "forge_http.h"
#include "recover_git.h"
#include "store.h"

struct recover_target {
	int is_github;
	char spec[1024];	/* as given to --to */
	char web[512];		/* https://HOST of the forge */
	char group[512];	/* GitLab group path, or GitHub owner */
	char base[1024];	/* API base */
	const char *token;	/* borrowed from the environment, or NULL */
	const char *token_env;
	struct forge_http *h;
	uint64_t group_id;	/* GitLab: the namespace to create in */
};

struct recover_opts {
	int is_update;		/* --update: change what exists */
	int is_force;		/* --force: refs need not fast-forward */
	const char *tmp;	/* scratch directory for mirrors */
};

struct recover_proj {
	char *src;		/* the source name: repos/SRC.git */
	char *dst;		/* the name below the group or owner */
	char full[1100];	/* group/dst */
	const struct store_entry *mirror;	/* borrowed from the snapshot */
	const struct store_entry *pipes;	/* pipelines/SRC, or NULL */
	int src_is_github;	/* -1: unknown (no pipelines source) */
	json_t *actions;	/* the plan's steps */
	json_t *same;		/* {"part": count} left as they are */
	json_t *notes;		/* strings */
	json_t *target;		/* the project on the target, or NULL */
	char *clone_url;	/* the target's git URL */
	char *mirror_dir;	/* the extracted mirror, once needed */
	struct recover_refs refs;	/* stored */
	/* results */
	int is_failed;
	char why[1024];		/* the first failure */
	size_t n_done;		/* steps carried out */
	size_t n_failed;
	size_t n_todo;		/* left to a human (secrets, re-entry) */
};

/*
 * recover_target_open(t, spec, why, cap):
 * Parse ${spec} ("gitlab:https://HOST/GROUP", "github:ORG",
 * "github:https://HOST/ORG") into ${t}, find the API base (overridden by
 * AMBER_GITLAB_API or AMBER_GITHUB_API) and the token (AMBER_GITLAB_TOKEN
 * or GITLAB_TOKEN, AMBER_GITHUB_TOKEN or GITHUB_TOKEN), open the client,
 * and check the group or owner exists.  Returns -EINVAL for a bad spec
 * or a token over plain http off loopback, or an API error; ${why} says
 * which.
 */
int recover_target_open(struct recover_target *t, const char *spec,
    char *why, size_t cap);
void recover_target_close(struct recover_target *t);

/*
 * recover_plan(s, t, o, p):
 * Fill ${p}'s actions, same and notes by comparing the snapshot with the
 * target.  Writes nothing on the target.  A failure to read the target
 * marks ${p} failed (is_failed, why) and returns 0; returns -ENOMEM or
 * a store error otherwise.
 */
int recover_plan(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p);

/*
 * recover_apply(s, t, o, p):
 * Carry out ${p}'s plan, in order: create the project, push the refs,
 * then settings and metadata, then archive.  A step that fails is
 * recorded on ${p} (and in its action as "result") and the others go
 * on, except that nothing follows a project that could not be created.
 */
int recover_apply(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p);

void recover_proj_fini(struct recover_proj *p);

#endif
