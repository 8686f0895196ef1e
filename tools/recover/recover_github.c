/*
 * recover_github.c: the kinds of metadata recovered onto GitHub, as
 * GitHub's API lists, sets and creates them (recoveri.h): Actions
 * variables, environments, branch protection and hooks.  Secrets are
 * never stored, so recover_meta.c only lists them for re-entry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "forge_json.h"
#include "recoveri.h"

static json_t *
gh_var_body(const json_t *it)
{
	static const char *const k[] = { "name", "value", NULL };

	return recover_pick(it, k);
}

static int
gh_var_upath(const json_t *it, char *out, size_t cap)
{
	return recover_upath_name("/actions/variables", it, "name", out, cap);
}

static json_t *
gh_env_body(const json_t *it)
{
	(void)it;
	return json_object();
}

static int
gh_env_upath(const json_t *it, char *out, size_t cap)
{
	return recover_upath_name("/environments", it, "name", out, cap);
}

static int
gh_hook_key(const json_t *it, char *out, size_t cap)
{
	return recover_key_str(json_object_get(it, "config"), "url", out, cap);
}

static json_t *
gh_hook_body(const json_t *it)
{
	static const char *const k[] = { "events", "active", NULL };
	static const char *const ck[] = { "url", "content_type",
	    "insecure_ssl", NULL };
	json_t *o = recover_pick(it, k);

	json_object_set_new(o, "config", recover_pick(json_object_get(it,
	    "config"), ck));
	return o;
}

static int
gh_hook_upath(const json_t *it, char *out, size_t cap)
{
	return recover_upath_id("/hooks", it, out, cap);
}

/*
 * GitHub branch protection: GET answers {"enforce_admins": {"enabled":
 * true}, ...}; PUT takes {"enforce_admins": true, ...}, with the four
 * members required_status_checks, enforce_admins,
 * required_pull_request_reviews and restrictions always present.
 */
static json_t *
enabled(const json_t *pr, const char *k)
{
	json_t *v = json_object_get(json_object_get(pr, k), "enabled");

	return json_is_boolean(v) ? json_incref(v) : NULL;
}

static json_t *
gh_pb_body(const json_t *it)
{
	static const char *const rk[] = { "dismiss_stale_reviews",
	    "require_code_owner_reviews", "required_approving_review_count",
	    "require_last_push_approval", NULL };
	static const char *const ck[] = { "strict", "contexts", NULL };
	const json_t *pr = json_object_get(it, "protection");
	json_t *o = json_object();
	json_t *v;

	v = json_object_get(pr, "required_status_checks");
	json_object_set_new(o, "required_status_checks", json_is_object(v) ?
	    recover_pick(v, ck) : json_null());
	v = enabled(pr, "enforce_admins");
	json_object_set_new(o, "enforce_admins", v != NULL ? v : json_null());
	v = json_object_get(pr, "required_pull_request_reviews");
	json_object_set_new(o, "required_pull_request_reviews",
	    json_is_object(v) ? recover_pick(v, rk) : json_null());
	json_object_set_new(o, "restrictions", json_null());
	if ((v = enabled(pr, "required_linear_history")) != NULL)
		json_object_set_new(o, "required_linear_history", v);
	if ((v = enabled(pr, "allow_force_pushes")) != NULL)
		json_object_set_new(o, "allow_force_pushes", v);
	if ((v = enabled(pr, "allow_deletions")) != NULL)
		json_object_set_new(o, "allow_deletions", v);
	return o;
}

static int
gh_pb_upath(const json_t *it, char *out, size_t cap)
{
	char e[1024];
	int n;

	if (forge_json_str(it, "name") == NULL ||
	    recover_url_enc(forge_json_str(it, "name"), e, sizeof(e)) < 0)
		return -EBADMSG;
	n = snprintf(out, cap, "/branches/%s/protection", e);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

const struct recover_kind recover_github_kinds[] = {
	{ "variable", NULL, "/actions/variables?per_page=100", "variables",
	    recover_key_name, gh_var_body, gh_var_upath, "PATCH",
	    "/actions/variables", NULL, 0 },
	{ "environment", "environments.json", "/environments?per_page=100",
	    "environments", recover_key_name, gh_env_body, gh_env_upath,
	    "PUT", NULL, "PUT", 0 },
	{ "protected-branch", "protected_branches.json",
	    "/branches?protected=true&per_page=100", NULL, recover_key_name,
	    gh_pb_body, gh_pb_upath, "PUT", NULL, "PUT", 1 },
	{ "hook", "hooks.json", "/hooks?per_page=100", NULL, gh_hook_key,
	    gh_hook_body, gh_hook_upath, "PATCH", "/hooks", NULL, 0 },
};

const size_t recover_n_github_kinds = sizeof(recover_github_kinds) /
    sizeof(recover_github_kinds[0]);
