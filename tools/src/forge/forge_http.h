/*
 * forge_http.h: GET requests to a forge's REST API (GitLab v4, GitHub),
 * over the shared client of store/http.h.  Adds what forges need on top
 * of it: the token sent only to the API's own origin, redirects followed
 * by hand (a job log answers with a redirect to another host, which must
 * not see the token), waits on rate limits up to a bound, pagination by
 * Link rel="next" or X-Next-Page, and clear errors for 401 and 403.
 *
 * Rate limits are shared by every client and thread of the process, per
 * API origin: once an answer says the limit is spent (a 429, or a 403
 * that is a rate limit, with Retry-After; or x-ratelimit-remaining (GitHub)
 * or RateLimit-Remaining (GitLab) at 0 with its reset time, on any
 * answer), no request to that origin leaves before the time it names.
 * A request never waits more than max_wait_sec in all: a limit that
 * resets later is not waited for, and the forge's refusal is returned
 * (-EAGAIN, with the wait it asked for).  Thread-safe: one client per
 * thread.
 */
#ifndef FORGE_HTTP_H
#define FORGE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "forge_json.h"

struct forge_http;
struct forge_tape;

/*
 * The forge refused the token (HTTP 401 or 403, not a rate limit): its
 * own code, so that no caller takes it for the store's -EACCES (a wrong
 * passphrase or key).  Functions here return -FORGE_ETOKEN.
 */
#define FORGE_ETOKEN EKEYREJECTED


struct forge_http_opts {
	const char *base;	/* API base URL, e.g. https://api.github.com */
	const char *token;	/* NULL or "": no Authorization header */
	const char *token_env;	/* the variable it came from, for messages */
	const char *const *headers;	/* sent to the API origin only */
	size_t n_headers;
	long max_wait_sec;	/* longest total wait on rate limits */
	long timeout_sec;	/* whole request; 0: only a stall limit */
	int max_retries;	/* transport retries; 0: http.h default */
	unsigned max_pages;	/* per listing; 0: 1000 */
	struct forge_tape *tape;	/* NULL, or every GET recorded on it
					 * or played back (forge_tape.h) */
};

/*
 * forge_http_open(o, out):
 * Make a client for the API at ${o}->base (copied).  Returns -EINVAL if
 * the base is not an http(s) URL, -ENOMEM, -EIO.  The caller closes
 * *${out} with forge_http_close().
 */
int forge_http_open(const struct forge_http_opts *o, struct forge_http **out);
void forge_http_close(struct forge_http *h);

/* The API base in use, without a trailing slash (borrowed). */
const char *forge_http_base(const struct forge_http *h);

/*
 * forge_http_get(h, url, max_body, body, len, err):
 * GET ${url} (absolute) and return its body when the final status is
 * 2xx: *${body} is malloc'd, NUL-terminated, and the caller's.  The token
 * goes only to the origin of the API base; redirects (at most 5) are
 * followed by hand, with no token to any other origin.
 * Returns -FORGE_ETOKEN on 401 or 403 (not a rate limit), -ENOENT on 404
 * or 410, -EAGAIN when rate-limited longer than the bound allows, -ERANGE
 * when the body exceeds ${max_body}, -EIO on any other failure; then
 * ${err} says what happened.
 */
int forge_http_get(struct forge_http *h, const char *url, size_t max_body,
    uint8_t **body, size_t *len, struct err *err);

/*
 * forge_http_get_json(h, url, out, err):
 * forge_http_get() of ${url} parsed as JSON (forge_json_parse()).  Returns
 * as forge_http_get(), and -EBADMSG if the body is not JSON.
 */
int forge_http_get_json(struct forge_http *h, const char *url, json_t **out,
    struct err *err);

/*
 * forge_http_pages(h, url, key, fn, ctx, err):
 * Walk a paginated listing starting at ${url}: for each page, call
 * ${fn}(${ctx}, items) with the page's array (forge_json_items() with
 * ${key}; borrowed for the call).  ${fn} returns 0 to go on, 1 to stop,
 * or -errno to fail.  The next page is the Link rel="next" URL, else the
 * X-Next-Page number; a next URL outside the API's origin, a repeated
 * URL or more than max_pages pages is an error (-EBADMSG).  A page over
 * FORGE_PAGE_MAX bytes, or pages adding up to over FORGE_LISTING_MAX,
 * end the walk with -EFBIG and a message naming the cap.
 * Returns 0, ${fn}'s error, or as forge_http_get_json().
 */
int forge_http_pages(struct forge_http *h, const char *url, const char *key,
    int (*fn)(void *ctx, json_t *items), void *ctx, struct err *err);

/*
 * forge_http_get_all(h, url, key, out, err):
 * Every item of the paginated listing at ${url} (see forge_http_pages())
 * in one new array *${out}, which the caller json_decref()s.  At most
 * ${limit} items (0: no limit).
 */
int forge_http_get_all(struct forge_http *h, const char *url, const char *key,
    size_t limit, json_t **out, struct err *err);

/*
 * forge_http_get_newer(h, url, key, above, limit, out, err):
 * The items of a listing sorted newest first whose integer "id" is above
 * ${above}, at most ${limit} of them (0: no limit), in a new array
 * *${out}; stops reading pages at the first item not above ${above}.
 * Items without an integer id are skipped.
 */
int forge_http_get_newer(struct forge_http *h, const char *url,
    const char *key, uint64_t above, size_t limit, json_t **out,
    struct err *err);

/*
 * forge_http_url(h, out, cap, fmt, ...):
 * The API base followed by the path formatted from ${fmt} into ${out}.
 * Returns -ERANGE if it does not fit.
 */
int forge_http_url(const struct forge_http *h, char *out, size_t cap,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * forge_http_origin(url, out, cap):
 * The origin of ${url}: "scheme://host[:port]" in lower case.  Returns
 * -EINVAL if ${url} is not http(s), -ERANGE if ${cap} is too small.
 */
int forge_http_origin(const char *url, char *out, size_t cap);

/*
 * forge_http_set_page(url, page, out, cap):
 * ${url} with its "page" query parameter set to ${page} (GitLab's
 * X-Next-Page).  Returns -ERANGE if ${cap} is too small, -EINVAL if
 * ${page} is not a positive decimal number.
 */
int forge_http_set_page(const char *url, const char *page, char *out,
    size_t cap);

/*
 * forge_http_send(h, method, url, body, out, err):
 * ${method} ("POST", "PUT", "PATCH", "DELETE") ${url}, which must be on
 * the API's origin (-EINVAL otherwise), with the JSON ${body} (may be
 * NULL) and the token.  No redirect is followed.  Transport failures,
 * 429 and 5xx are retried by store/http.h (a bounded number of times),
 * rate limits waited out as for forge_http_get().  With ${out}, a JSON
 * answer is parsed into *${out} (NULL for an empty one; the caller
 * json_decref()s it).  Returns 0 for a 2xx; -EACCES for 401 and 403,
 * -ENOENT for 404 and 410, -EEXIST for 400, 409 and 422 (the forge
 * refused the value, often because it exists), -EAGAIN for a rate limit
 * beyond the bound, -EBADMSG for a 2xx that is not JSON, -EIO else; then
 * ${err} says what happened.
 */
int forge_http_send(struct forge_http *h, const char *method, const char *url,
    const json_t *body, json_t **out, struct err *err);

#endif
