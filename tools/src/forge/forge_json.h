/*
 * forge_json.h: the JSON and header handling of the forge readers
 * (forge_gitlab.c, forge_github.c), kept free of I/O so that
 * tests/fuzz/fuzz_forge_json.c can drive it byte for byte.  Everything
 * here takes bytes that came from the network and treats them as hostile.
 */
#ifndef FORGE_JSON_H
#define FORGE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define FORGE_JSON_MAX ((size_t)64 << 20)	/* one API response */
#define FORGE_PAGE_MAX ((size_t)16 << 20)	/* one page of a listing */
#define FORGE_LISTING_MAX ((size_t)128 << 20)	/* all pages of one */
#define FORGE_URL_MAX 4096

/*
 * forge_json_parse(buf, len, out):
 * Parse ${len} bytes of ${buf} (at most FORGE_JSON_MAX; NULs refused) as
 * one JSON value.  Returns -EBADMSG if it is not JSON or too large.  The
 * caller releases *${out} with json_decref().
 */
int forge_json_parse(const uint8_t *buf, size_t len, json_t **out);

/*
 * forge_json_dump(j, out, len):
 * The stored form of ${j}: indented by two spaces, keys sorted, one
 * trailing newline, so that equal data gives equal bytes and `diff`
 * shows real changes only.  *${out} is malloc'd and the caller's.
 * Returns -ENOMEM, or -EINVAL if ${j} cannot be encoded.
 */
int forge_json_dump(const json_t *j, char **out, size_t *len);

/*
 * forge_json_id(obj, key, id):
 * The non-negative integer member ${key} of the object ${obj} (e.g. "id").
 * Returns -EBADMSG if ${obj} is not an object or the member is missing,
 * not an integer, or negative.
 */
int forge_json_id(const json_t *obj, const char *key, uint64_t *id);

/*
 * forge_json_str(obj, key):
 * The string member ${key} of ${obj}, or NULL if absent or not a string.
 * Borrowed from ${obj}.
 */
const char *forge_json_str(const json_t *obj, const char *key);

/*
 * forge_json_items(page, key, items):
 * The list of a page of results: ${page} itself when ${key} is NULL
 * (GitLab, and most GitHub lists), else its member ${key} (GitHub's
 * {"total_count": N, "workflow_runs": [...]}).  *${items} is borrowed.
 * Returns -EBADMSG if that is not an array.
 */
int forge_json_items(json_t *page, const char *key, json_t **items);

/*
 * forge_json_scrub(j, names_only):
 * Remove, at any depth of ${j}, the members that hold webhook or
 * integration secrets ("token", "secret", "secret_token", "password",
 * "url_variables" values...); with ${names_only}, remove "value" too
 * (CI/CD variable values).  Returns the number of members removed.
 */
size_t forge_json_scrub(json_t *j, int names_only);

/*
 * forge_json_link_next(link, out, cap):
 * Find the URL marked rel="next" in the HTTP Link header value ${link}
 * (RFC 8288: <url>; rel="next", <url>; rel="last").  Returns 0 and copies
 * it to ${out}; -ENOENT if there is none; -EBADMSG if the header is
 * malformed; -ERANGE if ${cap} is too small.
 */
int forge_json_link_next(const char *link, char *out, size_t cap);

/*
 * forge_json_b64(in, len, out, olen):
 * Decode standard base64 (GitHub's contents API: line breaks allowed,
 * '=' padding) into a malloc'd buffer.  Returns -EBADMSG on any other
 * character or bad padding, -ENOMEM.
 */
int forge_json_b64(const char *in, size_t len, uint8_t **out, size_t *olen);

/*
 * forge_json_utf8_fix(s):
 * Make the NUL-terminated ${s} valid UTF-8 in place, each byte of an
 * invalid or truncated sequence becoming '?', so that a message cut by
 * snprintf() or sent by a hostile server can go into JSON.  Returns the
 * number of bytes replaced.
 */
size_t forge_json_utf8_fix(char *s);

/*
 * forge_json_is_safe_path(path):
 * 1 if ${path} is a relative path whose every component is a valid stored
 * name (not empty, ".", "..", at most STORE_NAME_MAX bytes), with no
 * leading, trailing or doubled "/", else 0.  Paths from the forge (file
 * names in a repository) pass this before they name a stored file.
 */
int forge_json_is_safe_path(const char *path);

#endif
