/*
 * fuzz_forge_json.c: the forge readers' handling of network bytes
 * (tools/src/forge/forge_json.c, and the page arithmetic of tools/src/forge/forge_http.c):
 * JSON parse, stored form, scrubbing, ids and lists; the Link header;
 * base64; X-Next-Page; UTF-8 repair of messages; the scan of GitLab CI
 * files for local includes.  The stored form must be a fixed point: parsing
 * and dumping it again gives the same bytes (else `diff -r` of two
 * snapshots would show changes that are not there), and a scrubbed value
 * keeps no secret member.  The tools/ code comes from libtools.a.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forge_json.h"
#include "forge_http.h"
#include "forge_out.h"
#include "forge_fetch.h"
#include "forge_gitlab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_fixed_point(const json_t *j)
{
	json_t *j2 = NULL;
	char *a = NULL;
	char *b = NULL;
	size_t la;
	size_t lb;

	if (forge_json_dump(j, &a, &la) < 0)
		return;
	if (forge_json_parse((const uint8_t *)a, la, &j2) < 0 ||
	    forge_json_dump(j2, &b, &lb) < 0 || la != lb ||
	    memcmp(a, b, la) != 0 || a[la - 1] != '\n')
		abort();
	json_decref(j2);
	free(a);
	free(b);
}

static int
has_member(const json_t *j, const char *name)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			if (strcmp(k, name) == 0 || has_member(v, name))
				return 1;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (has_member(v, name))
				return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char url[FORGE_URL_MAX];
	char small[16];
	char *s;
	uint8_t *bin = NULL;
	size_t blen;
	json_t *j = NULL;
	json_t *items;
	uint64_t id;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (forge_json_link_next(s, url, sizeof(url)) == 0 &&
	    (url[0] == '\0' || strchr(url, '>') != NULL))
		abort();
	(void)forge_json_link_next(s, small, sizeof(small));
	if (forge_json_b64(s, strlen(s), &bin, &blen) == 0) {
		if (blen > strlen(s) / 4 * 3)
			abort();
		free(bin);
	}
	if (forge_json_is_safe_path(s) &&
	    (s[0] == '/' || strstr(s, "//") != NULL))
		abort();
	if (forge_http_set_page("http://127.0.0.1:1/x?page=3&per_page=100",
	    s, url, sizeof(url)) == 0 && strstr(url, "?page=3") != NULL)
		abort();
	(void)forge_http_origin(s, url, sizeof(url));
	/* After the fix, jansson must take the text as a JSON string. */
	forge_json_utf8_fix(s);
	if ((j = json_string(s)) == NULL)
		abort();
	json_decref(j);
	j = NULL;
	memcpy(s, data, size);
	s[size] = '\0';

	/* GitLab CI includes: each found path is a UTF-8 string. */
	if ((items = json_array()) != NULL) {
		size_t i;
		json_t *v;

		if (forge_gitlab_includes((const char *)data, size, items) == 0)
			json_array_foreach(items, i, v)
				if (json_string_length(v) == 0)
					abort();
		json_decref(items);
	}
	if (forge_json_parse(data, size, &j) == 0) {
		(void)forge_json_items(j, NULL, &items);
		(void)forge_json_items(j, "workflow_runs", &items);
		(void)forge_json_id(j, "id", &id);
		(void)forge_json_str(j, "message");
		check_fixed_point(j);
		forge_json_scrub(j, 1);
		if (has_member(j, "value") || has_member(j, "secret") ||
		    has_member(j, "token"))
			abort();
		check_fixed_point(j);
		json_decref(j);
	}
	free(s);
	return 0;
}
