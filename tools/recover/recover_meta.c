/*
 * recover_meta.c: plan the metadata of one project (recoveri.h): for
 * each kind the target's dialect knows (recover_gitlab.c,
 * recover_github.c), the stored items of pipelines/SRC are matched by
 * their key with what the target lists, and each becomes a step:
 * create, update (--update), keep, or re-enter by hand (what was never
 * stored: variable values withheld, secrets, hook tokens).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "forge_json.h"
#include "recoveri.h"

/* Items of one kind recovered at most (variables, hooks...). */
#define RECOVER_ITEMS_MAX 10000

int
recover_key_str(const json_t *it, const char *k, char *out, size_t cap)
{
	const char *v = forge_json_str(it, k);

	if (v == NULL || strlen(v) >= cap || v[0] == '\0')
		return -EBADMSG;
	strcpy(out, v);
	return 0;
}

int
recover_key_description(const json_t *it, char *out, size_t cap)
{
	return recover_key_str(it, "description", out, cap);
}

int
recover_key_name(const json_t *it, char *out, size_t cap)
{
	return recover_key_str(it, "name", out, cap);
}

int
recover_key_url(const json_t *it, char *out, size_t cap)
{
	return recover_key_str(it, "url", out, cap);
}

int
recover_upath_id(const char *dir, const json_t *it, char *out, size_t cap)
{
	uint64_t id;
	int n;

	if (forge_json_id(it, "id", &id) < 0)
		return -EBADMSG;
	n = snprintf(out, cap, "%s/%llu", dir, (unsigned long long)id);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

int
recover_upath_name(const char *dir, const json_t *it, const char *k, char *out,
    size_t cap)
{
	char e[1024];
	int n;

	if (forge_json_str(it, k) == NULL ||
	    recover_url_enc(forge_json_str(it, k), e, sizeof(e)) < 0)
		return -EBADMSG;
	n = snprintf(out, cap, "%s/%s", dir, e);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

/* The items of a stored or listed value: an array, or its member. */
static json_t *
items_of(json_t *j, const char *key)
{
	if (json_is_array(j))
		return j;
	if (key != NULL && json_is_array(json_object_get(j, key)))
		return json_object_get(j, key);
	return NULL;
}

/* The planning of one kind: what its items are matched with. */
struct kind_plan {
	struct recover_target *t;
	const struct recover_opts *o;
	struct recover_proj *p;
	const struct recover_kind *k;
	const char *pp;		/* the project's path below the API base */
	json_t *have;		/* the target's items, or NULL */
	json_t *detail;		/* GitHub: the match's detail, owned */
	char key[1024];		/* the key of the item being planned */
};

/* The path of ${it} below the API base, for its update. */
static int
item_path(const struct kind_plan *kp, const json_t *it, char *path,
    size_t cap)
{
	char sub[4096];

	if (kp->k->upath(it, sub, sizeof(sub)) < 0)
		return -EBADMSG;
	snprintf(path, cap, "%s%s", kp->pp, sub);
	return 0;
}

/*
 * Set *${match} to the target's item with kp->key, or NULL.  Where the
 * listing lacks what can be set (has_detail), the match is its detail,
 * read.  Returns 1 when that read failed (the project is marked failed,
 * and the kind's planning stops).
 */
static int
item_match(struct kind_plan *kp, json_t **match)
{
	char path[8192];
	char hk[1024];
	struct err e;
	json_t *dv = NULL;
	json_t *hv;
	size_t j;
	int r;

	*match = NULL;
	for (j = 0; kp->have != NULL && j < json_array_size(kp->have); j++) {
		hv = json_array_get(kp->have, j);
		if (kp->k->key(hv, hk, sizeof(hk)) == 0 &&
		    strcmp(hk, kp->key) == 0) {
			*match = hv;
			break;
		}
	}
	if (*match == NULL || !kp->k->has_detail)
		return 0;
	if ((r = item_path(kp, *match, path, sizeof(path))) < 0)
		return r;
	if ((r = recover_get_json(kp->t, path, 0, NULL, &dv, &e)) < 0 &&
	    r != -ENOENT) {
		recover_fail(kp->p, "reading the target's %s %s: %s",
		    kp->k->part, kp->key, e.msg);
		return 1;
	}
	json_decref(kp->detail);
	kp->detail = json_pack("{s:s, s:o}", "name", kp->key, "protection",
	    dv != NULL ? dv : json_object());
	*match = kp->detail;
	return 0;
}

/* The target has ${match} for stored ${want} (taken): same, keep, update. */
static int
item_update(struct kind_plan *kp, json_t *match, json_t *want)
{
	const struct recover_kind *k = kp->k;
	json_t *hb = k->body(match);
	char path[8192];
	char d[600];
	json_t *a;
	int r;

	if (recover_covers(hb, want)) {
		recover_same_add(kp->p, k->part);
		json_decref(hb);
		json_decref(want);
		return 0;
	}
	recover_differs(hb, want, d, sizeof(d));
	json_decref(hb);
	if (!kp->o->is_update) {
		json_decref(want);
		return recover_step(kp->p, ST_META, "keep", k->part, kp->key,
		    d) == NULL ? -ENOMEM : 0;
	}
	if ((a = recover_step(kp->p, ST_META, "update", k->part, kp->key,
	    d)) == NULL || (r = item_path(kp, match, path,
	    sizeof(path))) < 0) {
		json_decref(want);
		return a == NULL ? -ENOMEM : -EBADMSG;
	}
	if (strcmp(k->umethod, "DELETE") == 0) {
		recover_req_add(kp->t, a, "DELETE", path, NULL);
		snprintf(path, sizeof(path), "%s%s", kp->pp, k->cpath);
		return recover_req_add(kp->t, a, "POST", path, want);
	}
	return recover_req_add(kp->t, a, k->umethod, path, want);
}

/* The target lacks stored ${it}: create it with ${want} (taken). */
static int
item_create(struct kind_plan *kp, const json_t *it, json_t *want)
{
	const struct recover_kind *k = kp->k;
	int is_hook = strcmp(k->part, "hook") == 0;
	char path[8192];
	json_t *a;
	size_t j;
	int r;

	if ((a = recover_step(kp->p, ST_META, "create", k->part, kp->key,
	    is_hook ? "needs its secret token set by hand (never stored)" :
	    NULL)) == NULL) {
		json_decref(want);
		return -ENOMEM;
	}
	if (is_hook)
		kp->p->n_todo++;
	if (k->cmethod != NULL) {
		if ((r = item_path(kp, it, path, sizeof(path))) < 0) {
			json_decref(want);
			return r;
		}
		r = recover_req_add(kp->t, a, k->cmethod, path, want);
	} else {
		snprintf(path, sizeof(path), "%s%s", kp->pp, k->cpath);
		r = recover_req_add(kp->t, a, "POST", path, want);
	}
	if (r < 0)
		return r;
	/* A schedule's variables follow it, once it has an id. */
	if (strcmp(k->part, "schedule") == 0) {
		static const char *const vk[] = { "key", "value",
		    "variable_type", NULL };
		json_t *vars = json_object_get(it, "variables");
		json_t *then = json_array();

		for (j = 0; json_is_array(vars) && j < json_array_size(vars);
		    j++)
			json_array_append_new(then, recover_pick(
			    json_array_get(vars, j), vk));
		json_object_set_new(a, "_then", then);
	}
	return 0;
}

/*
 * Plan stored item ${it}.  Returns 0, a negative errno (-EBADMSG or
 * -ERANGE: a name no URL can carry), or 1 to stop the kind's planning.
 */
static int
plan_item(struct kind_plan *kp, const json_t *it)
{
	json_t *match;
	int r;

	if (kp->k->key(it, kp->key, sizeof(kp->key)) < 0) {
		recover_note(kp->p, "a stored item without a name was left "
		    "out");
		return 0;
	}
	if ((r = item_match(kp, &match)) != 0)
		return r;
	/* A variable stored without its value: only its name is known. */
	if (strcmp(kp->k->part, "variable") == 0 &&
	    json_object_get(it, "value") == NULL) {
		if (match != NULL) {
			recover_same_add(kp->p, kp->k->part);
			return 0;
		}
		kp->p->n_todo++;
		return recover_step(kp->p, ST_META, "re-enter", kp->k->part,
		    kp->key, "the value was not stored: enter it by hand") ==
		    NULL ? -ENOMEM : 0;
	}
	if (match != NULL)
		return item_update(kp, match, kp->k->body(it));
	return item_create(kp, it, kp->k->body(it));
}

static int
plan_kind(struct recover_target *t, const struct recover_opts *o,
    struct recover_proj *p, const struct recover_kind *k, const char *pp,
    json_t *stored)
{
	struct kind_plan kp = { .t = t, .o = o, .p = p, .k = k, .pp = pp };
	char path[8192];
	struct err e;
	json_t *sv;
	size_t i;
	int r = 0;

	if ((sv = items_of(stored, k->list_key)) == NULL ||
	    json_array_size(sv) == 0)
		return 0;
	/* Each item is a request: a hostile snapshot must not make millions. */
	if (json_array_size(sv) > RECOVER_ITEMS_MAX) {
		recover_fail(p, "pipelines/%s: more than %d %ss stored", p->src,
		    RECOVER_ITEMS_MAX, k->part);
		return 0;
	}
	if (p->target != NULL) {
		snprintf(path, sizeof(path), "%s%s", pp, k->list);
		if ((r = recover_get_json(t, path, 1, k->list_key, &kp.have,
		    &e)) < 0 && r != -ENOENT) {
			recover_fail(p, "reading the target's %ss: %s",
			    k->part, e.msg);
			return 0;
		}
		r = 0;
	}
	for (i = 0; i < json_array_size(sv) && r == 0; i++)
		r = plan_item(&kp, json_array_get(sv, i));
	/* A name no URL can carry is this project's failure, not the run's. */
	if (r == -EBADMSG || r == -ERANGE)
		recover_fail(p, "pipelines/%s: a %s whose name cannot be used: "
		    "%.200s", p->src, k->part, kp.key);
	json_decref(kp.detail);
	json_decref(kp.have);
	return r < 0 && r != -EBADMSG && r != -ERANGE ? r : 0;
}

/* GitHub's protected_branches.json, {BRANCH: protection}, as a list. */
static json_t *
gh_protections(json_t *st)
{
	json_t *a = json_array();
	const char *k;
	json_t *v;

	json_object_foreach(st, k, v)
		json_array_append_new(a, json_pack("{s:s, s:O}", "name", k,
		    "protection", v));
	json_decref(st);
	return a;
}

int
recover_plan_meta(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p)
{
	const struct recover_kind *ks = t->is_github ? recover_github_kinds :
	    recover_gitlab_kinds;
	size_t nk = t->is_github ? recover_n_github_kinds :
	    recover_n_gitlab_kinds;
	char pp[4096];
	json_t *vars = NULL;
	size_t i;
	int r = 0;

	if (p->pipes == NULL)
		return 0;
	/* Unknown (no project.json nor repository.json): the target's. */
	if (p->src_is_github >= 0 && p->src_is_github != t->is_github) {
		recover_note(p, t->is_github ? "pipelines from GitLab: only "
		    "the repository is recovered onto GitHub" : "pipelines "
		    "from GitHub: only the repository is recovered onto "
		    "GitLab");
		return 0;
	}
	if ((r = recover_proj_path(t, p, pp, sizeof(pp))) < 0)
		return r;
	if (t->is_github) {
		json_t *sec;

		vars = recover_stored_json(s, p, "variables.json");
		sec = json_object_get(vars, "secrets");
		for (i = 0; json_is_array(sec) && i < json_array_size(sec);
		    i++) {
			const char *n = forge_json_str(json_array_get(sec, i),
			    "name");

			if (n == NULL)
				continue;
			p->n_todo++;
			if (recover_step(p, ST_META, "re-enter", "secret", n,
			    "secret values are never stored: enter it by "
			    "hand") == NULL) {
				r = -ENOMEM;
				goto out;
			}
		}
		if (json_is_object(json_object_get(vars, "environments")) &&
		    json_object_size(json_object_get(vars,
		    "environments")) > 0)
			recover_note(p, "the secrets and variables of "
			    "environments are not recovered: see "
			    "variables.json");
	}
	for (i = 0; i < nk && r == 0; i++) {
		json_t *st = ks[i].file != NULL ? recover_stored_json(s, p,
		    ks[i].file) : json_incref(json_object_get(vars,
		    "variables"));

		if (t->is_github && json_is_object(st) &&
		    strcmp(ks[i].part, "protected-branch") == 0)
			st = gh_protections(st);

		r = plan_kind(t, o, p, &ks[i], pp, st);
		json_decref(st);
	}
out:
	json_decref(vars);
	return r;
}
