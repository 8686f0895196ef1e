/*
 * recover_apply.c: carry out a plan made by recover_plan() (recover.h),
 * stage by stage: create the project, push the refs (one git push of
 * the extracted mirror), then the settings and metadata requests, then
 * archive.  Each step records its result; a step that fails marks the
 * project failed and the others go on, except that nothing follows a
 * project that could not be created.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge_json.h"
#include "recoveri.h"

/* ---- carrying it out -------------------------------------------------- */

static int
do_req(struct recover_target *t, const json_t *rq, json_t **out,
    struct err *e)
{
	return forge_http_send(t->h, forge_json_str(rq, "method"),
	    forge_json_str(rq, "url"), json_object_get(rq, "body"), out, e);
}

static void
step_failed(struct recover_proj *p, json_t *a, const char *msg)
{
	json_object_set_new(a, "result", json_string(msg));
	p->n_failed++;
	recover_fail(p, "%s %s", forge_json_str(a, "part"), msg);
}

static int
apply_reqs(struct recover_target *t, struct recover_proj *p, json_t *a)
{
	json_t *reqs = json_object_get(a, "_req");
	json_t *then = json_object_get(a, "_then");
	json_t *ans = NULL;
	struct err e;
	size_t i;
	int r = 0;

	for (i = 0; i < json_array_size(reqs); i++) {
		json_decref(ans);
		ans = NULL;
		r = do_req(t, json_array_get(reqs, i), &ans, &e);
		/* deleting what is already gone is done */
		if (r == -ENOENT && strcmp(forge_json_str(json_array_get(reqs,
		    i), "method"), "DELETE") == 0)
			r = 0;
		if (r < 0) {
			step_failed(p, a, e.msg);
			goto out;
		}
	}
	if (strcmp(forge_json_str(a, "part"), "project") == 0 && ans != NULL) {
		const char *cu = forge_json_str(ans, t->is_github ?
		    "clone_url" : "http_url_to_repo");

		if (!recover_clone_url_ok(t, cu)) {
			step_failed(p, a, "the new project's clone URL is "
			    "not on the forge's host");
			r = -EINVAL;
			goto out;
		}
		free(p->clone_url);
		if ((p->clone_url = strdup(cu)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (json_array_size(then) > 0) {
		uint64_t id;
		char url[FORGE_URL_MAX];
		char pp[4096];

		if (forge_json_id(ans, "id", &id) < 0 ||
		    recover_proj_path(t, p, pp, sizeof(pp)) < 0 ||
		    forge_http_url(t->h, url, sizeof(url),
		    "%s/pipeline_schedules/%llu/variables", pp,
		    (unsigned long long)id) < 0) {
			step_failed(p, a, "no schedule id in the answer");
			r = -EBADMSG;
			goto out;
		}
		for (i = 0; i < json_array_size(then); i++) {
			if ((r = forge_http_send(t->h, "POST", url,
			    json_array_get(then, i), NULL, &e)) < 0) {
				step_failed(p, a, e.msg);
				goto out;
			}
		}
	}
	p->n_done++;
	json_object_set_new(a, "result", json_string("done"));
out:
	json_decref(ans);
	return r;
}

static int
apply_push(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p)
{
	const struct recover_ref **refs = NULL;
	struct recover_push_res *res = NULL;
	struct recover_ref *tmp = NULL;
	struct recover_remote rm;
	json_t **acts = NULL;
	int *force = NULL;
	char why[512];
	size_t n = 0;
	size_t i;
	json_t *a;
	int r = 0;

	memset(&rm, 0, sizeof(rm));
	json_array_foreach(p->actions, i, a)
		if (strcmp(forge_json_str(a, "part"), "ref") == 0 &&
		    (strcmp(forge_json_str(a, "action"), "push") == 0 ||
		    strcmp(forge_json_str(a, "action"), "force") == 0))
			n++;
	if (n == 0)
		return 0;
	if (p->clone_url == NULL) {
		recover_fail(p, "push: no clone URL");
		return 0;
	}
	if ((r = recover_mirror_out(s, o, p)) < 0) {
		recover_fail(p, "repos/%s.git: cannot copy the mirror out: %s",
		    p->src, strerror(-r));
		return r == -ENOMEM ? r : 0;
	}
	if ((r = recover_proj_remote(t, p, &rm)) < 0) {
		recover_fail(p, "%s: cannot be used as a git remote",
		    p->clone_url);
		return 0;
	}
	if ((refs = calloc(n, sizeof(*refs))) == NULL ||
	    (tmp = calloc(n, sizeof(*tmp))) == NULL ||
	    (acts = calloc(n, sizeof(*acts))) == NULL ||
	    (force = calloc(n, sizeof(*force))) == NULL ||
	    (res = calloc(n, sizeof(*res))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	n = 0;
	json_array_foreach(p->actions, i, a) {
		const char *act = forge_json_str(a, "action");

		if (strcmp(forge_json_str(a, "part"), "ref") != 0 ||
		    (strcmp(act, "push") != 0 && strcmp(act, "force") != 0))
			continue;
		tmp[n].name = (char *)forge_json_str(a, "name");
		snprintf(tmp[n].oid, sizeof(tmp[n].oid), "%s",
		    forge_json_str(a, "_oid"));
		refs[n] = &tmp[n];
		force[n] = strcmp(act, "force") == 0;
		acts[n] = a;
		n++;
	}
	if ((r = recover_git_push(&rm, p->mirror_dir, refs, force, n, res,
	    why, sizeof(why))) < 0) {
		recover_fail(p, "git push: %s", why[0] ? why : strerror(-r));
		r = r == -ENOMEM ? r : 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (res[i].is_ok) {
			p->n_done++;
			json_object_set_new(acts[i], "result",
			    json_string("done"));
		} else {
			char m[700];

			snprintf(m, sizeof(m), "%s: not pushed: %s",
			    refs[i]->name, res[i].why ? res[i].why : "?");
			step_failed(p, acts[i], m);
		}
	}
out:
	for (i = 0; res != NULL && i < n; i++) {
		free(res[i].ref);
		free(res[i].why);
	}
	free(res);
	free(force);
	free(acts);
	free(tmp);
	free(refs);
	recover_remote_fini(&rm);
	return r;
}

int
recover_apply(struct store *s, struct recover_target *t,
    const struct recover_opts *o, struct recover_proj *p)
{
	size_t i;
	json_t *a;
	int stage;
	int r;

	for (stage = ST_CREATE; stage <= ST_ARCHIVE; stage++) {
		if (stage == ST_PUSH) {
			if ((r = apply_push(s, t, o, p)) < 0)
				return r;
			continue;
		}
		json_array_foreach(p->actions, i, a) {
			if (json_integer_value(json_object_get(a, "_stage")) !=
			    stage || json_object_get(a, "_req") == NULL)
				continue;
			r = apply_reqs(t, p, a);
			if (r == -ENOMEM)
				return r;
			if (r < 0 && stage == ST_CREATE)
				return 0;
		}
	}
	return 0;
}
