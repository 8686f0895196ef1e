/*
 * recover_gitlab.c: the kinds of metadata recovered onto GitLab, as
 * GitLab's API lists, sets and creates them (recoveri.h): CI/CD
 * variables (keyed by key and environment scope), pipeline schedules
 * (by description, with their variables), protected branches,
 * environments and hooks.  Bodies carry only the members named here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "forge_json.h"
#include "recoveri.h"

static int
gl_var_key(const json_t *it, char *out, size_t cap)
{
	const char *k = forge_json_str(it, "key");
	const char *sc = forge_json_str(it, "environment_scope");
	int n;

	if (k == NULL || k[0] == '\0')
		return -EBADMSG;
	n = snprintf(out, cap, "%s%s%s", k, sc != NULL &&
	    strcmp(sc, "*") != 0 ? " scope " : "", sc != NULL &&
	    strcmp(sc, "*") != 0 ? sc : "");
	return n < 0 || (size_t)n >= cap ? -EBADMSG : 0;
}

static json_t *
gl_var_body(const json_t *it)
{
	static const char *const k[] = { "key", "value", "variable_type",
	    "protected", "masked", "raw", "environment_scope",
	    "description", NULL };

	return recover_pick(it, k);
}

static int
gl_var_upath(const json_t *it, char *out, size_t cap)
{
	char k[1024];
	char sc[1024];
	const char *s = forge_json_str(it, "environment_scope");
	int n;

	if (recover_url_enc(forge_json_str(it, "key") ? forge_json_str(it,
	    "key") : "", k, sizeof(k)) < 0 ||
	    recover_url_enc(s != NULL ? s : "*", sc, sizeof(sc)) < 0)
		return -ERANGE;
	n = snprintf(out, cap, "/variables/%s?filter%%5Benvironment_scope"
	    "%%5D=%s", k, sc);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

static json_t *
gl_sched_body(const json_t *it)
{
	static const char *const k[] = { "description", "ref", "cron",
	    "cron_timezone", "active", NULL };

	return recover_pick(it, k);
}

static int
gl_sched_upath(const json_t *it, char *out, size_t cap)
{
	return recover_upath_id("/pipeline_schedules", it, out, cap);
}

/* GitLab lists access levels; the create call takes one of each. */
static void
level(json_t *o, const json_t *it, const char *list, const char *one)
{
	json_t *l = json_object_get(it, list);
	json_t *v;

	if (json_is_array(l) && json_array_size(l) > 0 &&
	    (v = json_object_get(json_array_get(l, 0), "access_level")) !=
	    NULL && json_is_integer(v))
		json_object_set(o, one, v);
}

static json_t *
gl_pb_body(const json_t *it)
{
	static const char *const k[] = { "name", "allow_force_push",
	    "code_owner_approval_required", NULL };
	json_t *o = recover_pick(it, k);

	level(o, it, "push_access_levels", "push_access_level");
	level(o, it, "merge_access_levels", "merge_access_level");
	level(o, it, "unprotect_access_levels", "unprotect_access_level");
	return o;
}

static int
gl_pb_upath(const json_t *it, char *out, size_t cap)
{
	return recover_upath_name("/protected_branches", it, "name", out, cap);
}

static json_t *
gl_env_body(const json_t *it)
{
	static const char *const k[] = { "name", "external_url", "tier",
	    NULL };

	return recover_pick(it, k);
}

static int
gl_env_upath(const json_t *it, char *out, size_t cap)
{
	return recover_upath_id("/environments", it, out, cap);
}

static json_t *
gl_hook_body(const json_t *it)
{
	static const char *const k[] = { "url", "name", "description",
	    "push_events", "push_events_branch_filter", "tag_push_events",
	    "merge_requests_events", "issues_events",
	    "confidential_issues_events", "note_events",
	    "confidential_note_events", "job_events", "pipeline_events",
	    "wiki_page_events", "deployment_events", "releases_events",
	    "enable_ssl_verification", NULL };

	return recover_pick(it, k);
}

static int
gl_hook_upath(const json_t *it, char *out, size_t cap)
{
	return recover_upath_id("/hooks", it, out, cap);
}

const struct recover_kind recover_gitlab_kinds[] = {
	{ "variable", "variables.json", "/variables", NULL, gl_var_key,
	    gl_var_body, gl_var_upath, "PUT", "/variables", NULL, 0 },
	{ "schedule", "schedules.json", "/pipeline_schedules", NULL,
	    recover_key_description, gl_sched_body, gl_sched_upath, "PUT",
	    "/pipeline_schedules", NULL, 0 },
	{ "protected-branch", "protected_branches.json",
	    "/protected_branches", NULL, recover_key_name, gl_pb_body,
	    gl_pb_upath, "DELETE", "/protected_branches", NULL, 0 },
	{ "environment", "environments.json", "/environments", NULL,
	    recover_key_name, gl_env_body, gl_env_upath, "PUT",
	    "/environments", NULL, 0 },
	{ "hook", "hooks.json", "/hooks", NULL, recover_key_url,
	    gl_hook_body, gl_hook_upath, "PUT", "/hooks", NULL, 0 },
};

const size_t recover_n_gitlab_kinds = sizeof(recover_gitlab_kinds) /
    sizeof(recover_gitlab_kinds[0]);
