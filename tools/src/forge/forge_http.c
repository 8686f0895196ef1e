/*
 * forge_http.c: forge API requests over store/http.h.  Redirects are
 * followed here rather than by libcurl so that the rule "the token goes
 * to the API's origin and nowhere else" is explicit and checked on every
 * hop, whatever the host, port or scheme of the Location.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forge_http.h"
#include "forge_tape.h"
#include "http.h"

#define FORGE_MAX_REDIRECTS 5
#define FORGE_MAX_RATE_WAITS 5
#define FORGE_HEADERS_MAX 8
#define RATE_ORIGINS_MAX 16	/* forges whose limits are shared */

struct forge_http {
	struct http_client *hc;
	char base[FORGE_URL_MAX];
	char origin[FORGE_URL_MAX];
	char *auth;		/* "Authorization: Bearer ..." or NULL */
	const char *token_env;
	const char *headers[FORGE_HEADERS_MAX];
	size_t n_headers;
	long max_wait_sec;
	unsigned max_pages;
	struct forge_tape *tape;	/* borrowed, or NULL */
};

/*
 * The forges' rate limits, shared by every client and thread of the
 * process: when one answer says the limit is spent (remaining 0 with a
 * reset time, or 429/403 with Retry-After), no request to that origin
 * leaves before the time it names.  Beyond RATE_ORIGINS_MAX origins, a
 * client waits on its own answers only, as each did before.
 */
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char origin[FORGE_URL_MAX];
	double until;		/* CLOCK_REALTIME seconds */
} rate_v[RATE_ORIGINS_MAX];
static size_t rate_n;

int
forge_http_origin(const char *url, char *out, size_t cap)
{
	const char *host;
	const char *p;
	size_t n;
	size_t i;

	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return -EINVAL;
	p = host;
	while (*p != '\0' && *p != '/' && *p != '?' && *p != '#')
		p++;
	n = (size_t)(p - url);
	if (n + 1 > cap)
		return -ERANGE;
	/* userinfo in a URL would be a credential sent where we cannot see */
	if (memchr(url, '@', n) != NULL)
		return -EINVAL;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)url[i]);
	out[n] = '\0';
	if (p == host)
		return -EINVAL;
	return 0;
}

int
forge_http_open(const struct forge_http_opts *o, struct forge_http **out)
{
	struct http_opts ho;
	struct forge_http *h = NULL;
	size_t n;
	size_t i;
	int r;

	if (o->n_headers > FORGE_HEADERS_MAX)
		return -EINVAL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	n = strlen(o->base);
	while (n > 0 && o->base[n - 1] == '/')
		n--;
	if (n + 1 > sizeof(h->base)) {
		r = -EINVAL;
		goto out;
	}
	memcpy(h->base, o->base, n);
	h->base[n] = '\0';
	if (forge_http_origin(h->base, h->origin, sizeof(h->origin)) < 0) {
		r = -EINVAL;
		goto out;
	}
	if (o->token != NULL && o->token[0] != '\0') {
		/* A header line must not be split by the token's bytes. */
		for (i = 0; o->token[i] != '\0'; i++)
			if (o->token[i] < 0x21 || o->token[i] == 0x7f) {
				r = -EINVAL;
				goto out;
			}
		if (asprintf(&h->auth, "Authorization: Bearer %s",
		    o->token) < 0) {
			h->auth = NULL;
			r = -ENOMEM;
			goto out;
		}
	}
	h->token_env = o->token_env != NULL ? o->token_env : "the token";
	for (i = 0; i < o->n_headers; i++)
		h->headers[i] = o->headers[i];
	h->n_headers = o->n_headers;
	h->max_wait_sec = o->max_wait_sec;
	h->tape = o->tape;
	h->max_pages = o->max_pages ? o->max_pages : 1000;
	memset(&ho, 0, sizeof(ho));
	ho.timeout_ms = o->timeout_sec * 1000;
	ho.max_retries = o->max_retries;
	ho.user_agent = "amber (pipeline metadata backup)";
	/* http.c waits on 429's Retry-After up to this much per retry. */
	ho.backoff_max_ms = o->max_wait_sec > 0 && o->max_wait_sec < 60 ?
	    o->max_wait_sec * 1000 : 60000;
	if ((r = http_client_new(&ho, &h->hc)) < 0)
		goto out;
	*out = h;
	h = NULL;
out:
	forge_http_close(h);
	return r;
}

void
forge_http_close(struct forge_http *h)
{
	if (h == NULL)
		return;
	http_client_free(h->hc);
	if (h->auth != NULL) {
		explicit_bzero(h->auth, strlen(h->auth));
		free(h->auth);
	}
	free(h);
}

const char *
forge_http_base(const struct forge_http *h)
{
	return h->base;
}

int
forge_http_url(const struct forge_http *h, char *out, size_t cap,
    const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(h->base);
	int m;

	if (n + 1 > cap)
		return -ERANGE;
	memcpy(out, h->base, n);
	va_start(ap, fmt);
	m = vsnprintf(out + n, cap - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= cap - n)
		return -ERANGE;
	return 0;
}

static double
now_real(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
sleep_sec(double sec)
{
	struct timespec ts;

	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
parse_long(const char *s, long *v)
{
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	return 0;
}

/*
 * How long a rate-limited answer asks us to wait, in seconds, or -1 if
 * ${resp} is no rate limit.  GitHub says "403 or 429, with Retry-After,
 * or with x-ratelimit-remaining: 0 and x-ratelimit-reset (epoch
 * seconds)"; GitLab answers 429 with Retry-After and RateLimit-Reset.
 */
static long
rate_wait(const struct http_response *resp)
{
	const char *rem;
	long v;

	if (resp->status != 429 && resp->status != 403)
		return -1;
	if (parse_long(http_response_header(resp, "retry-after"), &v) == 0)
		return v;
	rem = http_response_header(resp, "x-ratelimit-remaining");
	if (rem == NULL)
		rem = http_response_header(resp, "ratelimit-remaining");
	if (resp->status == 403 && (rem == NULL || strcmp(rem, "0") != 0))
		return -1;
	if (parse_long(http_response_header(resp, "x-ratelimit-reset"),
	    &v) == 0 ||
	    parse_long(http_response_header(resp, "ratelimit-reset"),
	    &v) == 0) {
		v -= (long)time(NULL);
		return v < 1 ? 1 : v;
	}
	return resp->status == 429 ? 60 : -1;
}

/*
 * Tell every thread what ${resp} says of the limit of ${h}'s forge: spent
 * until its reset (remaining 0 and a reset time, GitHub's x-ratelimit-*
 * or GitLab's RateLimit-*), or limited for as long as rate_wait() says.
 * Returns -ENOSPC if the table of origins is full (nothing is shared:
 * each thread waits on the answers it gets, as before).
 */
static int
rate_note(const struct forge_http *h, const struct http_response *resp)
{
	const char *rem = http_response_header(resp, "x-ratelimit-remaining");
	double now = now_real();
	double until = 0;
	long v;
	size_t i;

	if (rem == NULL)
		rem = http_response_header(resp, "ratelimit-remaining");
	if ((v = rate_wait(resp)) >= 0)
		until = now + (double)v;
	else if (rem != NULL && strcmp(rem, "0") == 0 &&
	    (parse_long(http_response_header(resp, "x-ratelimit-reset"),
	    &v) == 0 || parse_long(http_response_header(resp,
	    "ratelimit-reset"), &v) == 0))
		until = (double)v;
	if (until <= now)
		return 0;
	pthread_mutex_lock(&rate_lock);
	for (i = 0; i < rate_n; i++)
		if (strcmp(rate_v[i].origin, h->origin) == 0)
			break;
	if (i == rate_n && rate_n < RATE_ORIGINS_MAX) {
		snprintf(rate_v[i].origin, sizeof(rate_v[i].origin), "%s",
		    h->origin);
		rate_v[i].until = 0;
		rate_n++;
	}
	if (i < rate_n && rate_v[i].until < until)
		rate_v[i].until = until;
	pthread_mutex_unlock(&rate_lock);
	return i < rate_n ? 0 : -ENOSPC;
}

/*
 * Before a request to ${h}'s forge: wait until its limit resets if an
 * answer said it is spent.  A wait that would take the request's waits
 * (*${waited}, seconds) beyond AMBER_FORGE_MAX_WAIT is not made: the
 * request goes, and the forge's answer (a 429 or 403 that get_live()
 * reports as beyond the bound) is recorded like any failed part.
 */
static void
rate_gate(const struct forge_http *h, double *waited)
{
	double until = 0;
	double wait;

	pthread_mutex_lock(&rate_lock);
	for (size_t i = 0; i < rate_n; i++)
		if (strcmp(rate_v[i].origin, h->origin) == 0)
			until = rate_v[i].until;
	pthread_mutex_unlock(&rate_lock);
	if ((wait = until - now_real()) <= 0 ||
	    *waited + wait > (double)h->max_wait_sec)
		return;
	sleep_sec(wait);
	*waited += wait;
}

/* The forge's own words: GitLab's "message"/"error", GitHub's "message". */
static void
forge_message(const struct http_response *resp, char *out, size_t cap)
{
	const char *m = NULL;
	json_t *j = NULL;

	out[0] = '\0';
	if (forge_json_parse(resp->body, resp->body_len, &j) == 0) {
		if ((m = forge_json_str(j, "message")) == NULL)
			m = forge_json_str(j, "error");
		if (m != NULL)
			snprintf(out, cap, ": %s", m);
		json_decref(j);
	}
	/* Keep the line one line whatever the server said. */
	for (; *out != '\0'; out++)
		if (iscntrl((unsigned char)*out))
			*out = ' ';
}

/* Resolve a Location value against ${url}: absolute or path-absolute. */
static int
resolve_location(const char *url, const char *loc, char *out, size_t cap)
{
	char origin[FORGE_URL_MAX];
	int r;
	int n;

	if (strncasecmp(loc, "http://", 7) == 0 ||
	    strncasecmp(loc, "https://", 8) == 0)
		n = snprintf(out, cap, "%s", loc);
	else if (loc[0] == '/' && loc[1] != '/') {
		if ((r = forge_http_origin(url, origin, sizeof(origin))) < 0)
			return r;
		n = snprintf(out, cap, "%s%s", origin, loc);
	} else
		return -EINVAL;
	if (n < 0 || (size_t)n >= cap)
		return -ERANGE;
	return 0;
}

/*
 * One logical GET: redirects and rate-limit waits included.  Leaves the
 * final answer in ${resp} (the caller finis it) and returns 0 for a 2xx,
 * else the code and message forge_http_get() documents.
 */
/*
 * The URL as messages show it: a URL outside the API loses its query,
 * which for storage hosts is a signature granting access.
 */
static void
show_url(const char *url, int is_api, char *out, size_t cap)
{
	size_t n = is_api ? strlen(url) : strcspn(url, "?#");

	if (n >= cap)
		n = cap - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

/*
 * One GET of ${cur}, with the API's headers and token only when ${cur} is
 * on the API's origin; ${shown} gets the URL as messages may show it.
 */
static int
get_once(struct forge_http *h, const char *cur, size_t max_body,
    struct http_response *resp, char shown[FORGE_URL_MAX],
    struct err *err)
{
	struct http_request req;
	const char *hdrs[FORGE_HEADERS_MAX + 1];
	char origin[FORGE_URL_MAX];
	size_t n = 0;
	int is_api;
	int r;

	r = forge_http_origin(cur, origin, sizeof(origin));
	is_api = r == 0 && strcmp(origin, h->origin) == 0;
	show_url(cur, is_api, shown, FORGE_URL_MAX);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg),
		    "GET %.200s: not an http(s) URL", shown);
		return -EIO;
	}
	if (is_api) {
		for (size_t i = 0; i < h->n_headers; i++)
			hdrs[n++] = h->headers[i];
		if (h->auth != NULL)
			hdrs[n++] = h->auth;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = cur;
	req.headers = hdrs;
	req.n_headers = n;
	req.max_body = max_body;
	r = http_do(h->hc, &req, resp);
	if (r < 0 && r != -ENOMEM)
		snprintf(err->msg, sizeof(err->msg), "GET %.200s: %s", shown,
		    resp->error);
	return r;
}

/* A final answer that is not 2xx, as -errno and a message in ${err}. */
static int
status_error(const struct forge_http *h, const struct http_response *resp,
    const char *shown, struct err *err)
{
	char msg[256];

	forge_message(resp, msg, sizeof(msg));
	switch (resp->status) {
	case 401:
		snprintf(err->msg, sizeof(err->msg), "GET %.200s: HTTP 401%s "
		    "(the token in %s is missing, expired or revoked)", shown,
		    msg, h->token_env);
		return -FORGE_ETOKEN;
	case 403:
		snprintf(err->msg, sizeof(err->msg), "GET %.200s: HTTP 403%s "
		    "(the token in %s lacks a permission this needs)", shown,
		    msg, h->token_env);
		return -FORGE_ETOKEN;
	case 404:
	case 410:
		/* GitHub answers 404 for what the token may not see. */
		snprintf(err->msg, sizeof(err->msg), "GET %.200s: HTTP %ld%s "
		    "(missing, or hidden from the token in %s)", shown,
		    resp->status, msg, h->token_env);
		return -ENOENT;
	default:
		snprintf(err->msg, sizeof(err->msg), "GET %.200s: HTTP %ld%s",
		    shown, resp->status, msg);
		return -EIO;
	}
}

/*
 * GET ${url}, following redirects (at most FORGE_MAX_REDIRECTS) and
 * waiting out rate limits (at most FORGE_MAX_RATE_WAITS, and no longer
 * than AMBER_FORGE_MAX_WAIT in all).  Returns 0 on a 2xx answer in
 * *${resp}; else -errno with a message in ${err}.
 */
static int
get_live(struct forge_http *h, const char *url, size_t max_body,
    struct http_response *resp, struct err *err)
{
	char cur[FORGE_URL_MAX];
	char next[FORGE_URL_MAX];
	char shown[FORGE_URL_MAX];
	const char *loc;
	double waited = 0;
	long wait;
	int n_redirects = 0;
	int n_waits = 0;
	int r;

	err->status = 0;
	err->msg[0] = '\0';
	if (strlen(url) + 1 > sizeof(cur))
		return -EINVAL;
	strcpy(cur, url);
	for (;;) {
		rate_gate(h, &waited);
		if ((r = get_once(h, cur, max_body, resp, shown, err)) < 0)
			return r;
		err->status = resp->status;
		(void)rate_note(h, resp);
		loc = http_response_header(resp, "location");
		if (resp->status >= 300 && resp->status < 400 && loc != NULL) {
			if (++n_redirects > FORGE_MAX_REDIRECTS) {
				snprintf(err->msg, sizeof(err->msg),
				    "GET %.200s: too many redirects", url);
				return -EIO;
			}
			if (resolve_location(cur, loc, next, sizeof(next)) < 0) {
				snprintf(err->msg, sizeof(err->msg),
				    "GET %.200s: bad redirect", shown);
				return -EIO;
			}
			strcpy(cur, next);
			continue;
		}
		if ((wait = rate_wait(resp)) < 0)
			break;
		if (waited + (double)wait > (double)h->max_wait_sec ||
		    ++n_waits > FORGE_MAX_RATE_WAITS) {
			snprintf(err->msg, sizeof(err->msg),
			    "GET %.200s: rate limited (HTTP %ld), retry in "
			    "%ld s, beyond the %ld s AMBER_FORGE_MAX_WAIT "
			    "allows", shown, resp->status, wait,
			    h->max_wait_sec);
			return -EAGAIN;
		}
		/* The other threads wait in rate_gate(); this one here. */
		sleep_sec((double)wait);
		waited += (double)wait;
	}
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	return status_error(h, resp, shown, err);
}

/*
 * As get_live(), but answered from the tape when it is playing, and
 * recorded on it when it is recording (forge_tape.h).
 */
static int
get_resp(struct forge_http *h, const char *url, size_t max_body,
    struct http_response *resp, struct err *err)
{
	int k;
	int r;

	if (h->tape != NULL && (k = forge_tape_get(h->tape, url, max_body,
	    &r, err, resp)) != 0)
		return k < 0 ? k : r;
	r = get_live(h, url, max_body, resp, err);
	if (h->tape != NULL)
		forge_tape_put(h->tape, url, max_body, r, err, resp);
	return r;
}

int
forge_http_get(struct forge_http *h, const char *url, size_t max_body,
    uint8_t **body, size_t *len, struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	int r;

	if ((r = get_resp(h, url, max_body, &resp, err)) == 0) {
		*body = resp.body;
		*len = resp.body_len;
		resp.body = NULL;
	}
	http_response_fini(&resp);
	return r;
}

int
forge_http_get_json(struct forge_http *h, const char *url, json_t **out,
    struct err *err)
{
	uint8_t *body = NULL;
	size_t len;
	int r;

	if ((r = forge_http_get(h, url, FORGE_JSON_MAX, &body, &len, err)) < 0)
		return r;
	if ((r = forge_json_parse(body, len, out)) < 0)
		snprintf(err->msg, sizeof(err->msg),
		    "GET %.200s: the answer is not JSON", url);
	free(body);
	return r;
}

int
forge_http_set_page(const char *url, const char *page, char *out,
    size_t cap)
{
	const char *q;
	const char *p;
	size_t n;
	size_t i;
	int has_query;

	if (page == NULL || page[0] == '\0' || page[0] == '0')
		return -EINVAL;
	for (i = 0; page[i] != '\0'; i++)
		if (!isdigit((unsigned char)page[i]) || i > 9)
			return -EINVAL;
	q = strchr(url, '?');
	n = q != NULL ? (size_t)(q - url) : strlen(url);
	if (n + 1 > cap)
		return -ERANGE;
	memcpy(out, url, n);
	out[n] = '\0';
	has_query = 0;
	/* Copy every parameter but "page", then append the new one. */
	for (p = q != NULL ? q + 1 : NULL; p != NULL && *p != '\0';) {
		const char *e = strchr(p, '&');
		size_t plen = e != NULL ? (size_t)(e - p) : strlen(p);

		if (!(plen >= 5 && strncmp(p, "page=", 5) == 0) &&
		    !(plen == 4 && strncmp(p, "page", 4) == 0) && plen > 0) {
			if (n + plen + 2 > cap)
				return -ERANGE;
			out[n++] = has_query ? '&' : '?';
			memcpy(out + n, p, plen);
			n += plen;
			out[n] = '\0';
			has_query = 1;
		}
		p = e != NULL ? e + 1 : NULL;
	}
	if (n + strlen(page) + 7 > cap)
		return -ERANGE;
	snprintf(out + n, cap - n, "%cpage=%s", has_query ? '&' : '?', page);
	return 0;
}

int
forge_http_pages(struct forge_http *h, const char *url, const char *key,
    int (*fn)(void *ctx, json_t *items), void *ctx, struct err *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	char *cur = NULL;
	char *next = NULL;
	char origin[FORGE_URL_MAX];
	json_t *page = NULL;
	json_t *items;
	unsigned n_pages = 0;
	size_t total = 0;
	int r;

	if ((cur = malloc(FORGE_URL_MAX)) == NULL ||
	    (next = malloc(FORGE_URL_MAX)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (strlen(url) + 1 > FORGE_URL_MAX) {
		r = -EINVAL;
		goto out;
	}
	strcpy(cur, url);
	for (;;) {
		const char *link;
		const char *xnext;

		/*
		 * Each page is parsed whole, and collectors keep every page's
		 * items: both caps bound the memory one listing can take.
		 */
		json_decref(page);
		page = NULL;
		if ((r = get_resp(h, cur, FORGE_PAGE_MAX, &resp, err)) < 0) {
			if (r == -ERANGE) {
				snprintf(err->msg, sizeof(err->msg), "GET "
				    "%.200s: a page of the listing is over "
				    "%zu MiB, the cap on one page", cur,
				    FORGE_PAGE_MAX >> 20);
				r = -EFBIG;
			}
			goto out;
		}
		total += resp.body_len;
		if (total > FORGE_LISTING_MAX) {
			snprintf(err->msg, sizeof(err->msg), "GET %.200s: the "
			    "listing is over %zu MiB in all, the cap on one "
			    "listing (after %u pages)", url,
			    FORGE_LISTING_MAX >> 20, n_pages + 1);
			r = -EFBIG;
			goto out;
		}
		if (forge_json_parse(resp.body, resp.body_len, &page) < 0 ||
		    forge_json_items(page, key, &items) < 0) {
			snprintf(err->msg, sizeof(err->msg),
			    "GET %.200s: the answer is not a JSON list", cur);
			r = -EBADMSG;
			goto out;
		}
		if ((r = fn(ctx, items)) != 0) {
			if (r > 0)
				r = 0;
			goto out;
		}
		link = http_response_header(&resp, "link");
		xnext = http_response_header(&resp, "x-next-page");
		r = -ENOENT;
		if (link != NULL &&
		    (r = forge_json_link_next(link, next, FORGE_URL_MAX)) < 0 &&
		    r != -ENOENT) {
			snprintf(err->msg, sizeof(err->msg),
			    "GET %.200s: malformed Link header", cur);
			r = -EBADMSG;
			goto out;
		}
		if (r == -ENOENT) {
			/* GitLab without Link: X-Next-Page, empty at the end */
			if (xnext == NULL || xnext[0] == '\0')
				break;
			if (forge_http_set_page(cur, xnext, next,
			    FORGE_URL_MAX) < 0) {
				snprintf(err->msg, sizeof(err->msg),
				    "GET %.200s: bad X-Next-Page", cur);
				r = -EBADMSG;
				goto out;
			}
		}
		if (forge_http_origin(next, origin, sizeof(origin)) < 0 ||
		    strcmp(origin, h->origin) != 0) {
			snprintf(err->msg, sizeof(err->msg), "GET %.200s: "
			    "next page outside the API (%.200s)", cur, next);
			r = -EBADMSG;
			goto out;
		}
		if (strcmp(next, cur) == 0 || ++n_pages >= h->max_pages) {
			snprintf(err->msg, sizeof(err->msg), "GET %.200s: "
			    "pagination does not end", url);
			r = -EBADMSG;
			goto out;
		}
		strcpy(cur, next);
	}
	r = 0;
out:
	http_response_fini(&resp);
	json_decref(page);
	free(cur);
	free(next);
	return r;
}

struct collect {
	json_t *all;
	uint64_t above;
	int is_newer;		/* stop at the first id not above ${above} */
	size_t limit;
};

static int
collect_page(void *ctx, json_t *items)
{
	struct collect *cl = ctx;
	json_t *v;
	size_t i;

	json_array_foreach(items, i, v) {
		uint64_t id;

		if (cl->limit != 0 && json_array_size(cl->all) >= cl->limit)
			return 1;
		if (cl->is_newer) {
			if (forge_json_id(v, "id", &id) < 0)
				continue;
			if (id <= cl->above)
				return 1;
		}
		if (json_array_append(cl->all, v) < 0)
			return -ENOMEM;
	}
	if (cl->limit != 0 && json_array_size(cl->all) >= cl->limit)
		return 1;
	return 0;
}

static int
collect(struct forge_http *h, const char *url, const char *key,
    struct collect *cl, json_t **out, struct err *err)
{
	int r;

	if ((cl->all = json_array()) == NULL)
		return -ENOMEM;
	if ((r = forge_http_pages(h, url, key, collect_page, cl, err)) < 0) {
		json_decref(cl->all);
		return r;
	}
	*out = cl->all;
	return 0;
}

int
forge_http_get_all(struct forge_http *h, const char *url, const char *key,
    size_t limit, json_t **out, struct err *err)
{
	struct collect cl = { NULL, 0, 0, limit };

	return collect(h, url, key, &cl, out, err);
}

int
forge_http_get_newer(struct forge_http *h, const char *url,
    const char *key, uint64_t above, size_t limit, json_t **out,
    struct err *err)
{
	struct collect cl = { NULL, above, 1, limit };

	return collect(h, url, key, &cl, out, err);
}

int
forge_http_send(struct forge_http *h, const char *method, const char *url,
    const json_t *body, json_t **out, struct err *err)
{
	struct http_request req;
	struct http_response resp = HTTP_RESPONSE_INIT;
	const char *hdrs[FORGE_HEADERS_MAX + 2];
	char origin[FORGE_URL_MAX];
	char msg[160];
	char *text = NULL;
	json_t *ans = NULL;
	double waited = 0;
	long wait;
	int n_waits = 0;
	size_t n = 0;
	size_t i;
	int r;

	err->status = 0;
	err->msg[0] = '\0';
	if (out != NULL)
		*out = NULL;
	/* Writes go to the API's origin, with the token, and nowhere else. */
	if (forge_http_origin(url, origin, sizeof(origin)) < 0 ||
	    strcmp(origin, h->origin) != 0) {
		snprintf(err->msg, sizeof(err->msg), "%s %.200s: not on the "
		    "API's origin %.200s", method, url, h->origin);
		return -EINVAL;
	}
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL)
		return -ENOMEM;
	for (i = 0; i < h->n_headers; i++)
		hdrs[n++] = h->headers[i];
	if (h->auth != NULL)
		hdrs[n++] = h->auth;
	hdrs[n++] = "Content-Type: application/json";
	for (;;) {
		rate_gate(h, &waited);
		memset(&req, 0, sizeof(req));
		req.method = method;
		req.url = url;
		req.headers = hdrs;
		req.n_headers = n;
		req.body = (const uint8_t *)text;
		req.body_len = text != NULL ? strlen(text) : 0;
		req.max_body = FORGE_JSON_MAX;
		r = http_do(h->hc, &req, &resp);
		if (r == -ENOMEM)
			goto out;
		if (r < 0) {
			snprintf(err->msg, sizeof(err->msg), "%s %.200s: %s",
			    method, url, resp.error);
			r = -EIO;
			goto out;
		}
		err->status = resp.status;
		(void)rate_note(h, &resp);
		wait = rate_wait(&resp);
		if (wait < 0)
			break;
		if (waited + (double)wait > (double)h->max_wait_sec ||
		    ++n_waits > FORGE_MAX_RATE_WAITS) {
			snprintf(err->msg, sizeof(err->msg), "%s %.200s: rate "
			    "limited (HTTP %ld), retry in %ld s, beyond the "
			    "%ld s AMBER_FORGE_MAX_WAIT allows", method, url,
			    resp.status, wait, h->max_wait_sec);
			r = -EAGAIN;
			goto out;
		}
		sleep_sec((double)wait);
		waited += (double)wait;
	}
	if (resp.status >= 200 && resp.status < 300) {
		r = 0;
		if (out != NULL && resp.body_len > 0 &&
		    forge_json_parse(resp.body, resp.body_len, out) < 0) {
			snprintf(err->msg, sizeof(err->msg), "%s %.200s: the "
			    "answer is not JSON", method, url);
			r = -EBADMSG;
		}
		goto out;
	}
	msg[0] = '\0';
	if (forge_json_parse(resp.body, resp.body_len, &ans) == 0) {
		const char *m = forge_json_str(ans, "message");

		if (m == NULL)
			m = forge_json_str(ans, "error");
		if (m != NULL)
			snprintf(msg, sizeof(msg), ": %.150s", m);
		json_decref(ans);
		forge_json_utf8_fix(msg);
		for (i = 0; msg[i] != '\0'; i++)
			if (iscntrl((unsigned char)msg[i]))
				msg[i] = ' ';
	}
	snprintf(err->msg, sizeof(err->msg), "%s %.200s: HTTP %ld%.160s%s",
	    method, url, resp.status, msg, resp.status == 401 ||
	    resp.status == 403 ? " (the token lacks a permission this "
	    "needs)" : "");
	r = resp.status == 401 || resp.status == 403 ? -EACCES :
	    resp.status == 404 || resp.status == 410 ? -ENOENT :
	    resp.status == 400 || resp.status == 409 ||
	    resp.status == 422 ? -EEXIST : -EIO;
out:
	http_response_fini(&resp);
	free(text);
	return r;
}
