/*
 * http.h: a small HTTP client over libcurl, shared by the S3 backend
 * (store/s3.c) and the forge API readers (tools/src/forge/src_forge.c).
 *
 * One struct http_client is shared by all threads.  It keeps a pool of
 * curl easy handles, so connections (and TLS sessions) are reused by the
 * next request that takes the same handle; a request never shares a
 * handle with another request running at the same time.  Each request is
 * retried, with exponential backoff and full jitter, when the transport
 * fails (connect, send or receive error, timeout, stalled transfer) or the
 * server answers 429, 500, 502, 503 or 504, unless the request says it
 * must not be repeated.  A 429 or 503 with a Retry-After header in seconds
 * waits that long (capped by backoff_max_ms).
 *
 * Redirects are followed only when the request asks for it, at most 5,
 * only to http(s), and libcurl never forwards an Authorization header
 * (or credentials in the URL) to a host other than the first one.
 *
 * http.c logs nothing: on a transport failure it returns -EIO and puts a
 * one-line reason (curl's message, the host) into resp->error, which the
 * caller logs with its own context.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

struct http_client;

struct http_opts {
	long connect_timeout_ms;	/* 0: 10000 */
	long timeout_ms;	/* whole attempt; 0: no limit (use stall_sec) */
	long stall_sec;		/* abort an attempt that moves < 1 byte/s for
				   this long; 0: 30 */
	int max_retries;	/* 0: 6; -1: never retry */
	long backoff_ms;	/* first backoff; 0: 200 */
	long backoff_max_ms;	/* 0: 8000 */
	const char *user_agent;	/* NULL: "amber" */
	int is_direct;		/* 1: never through a proxy, whatever
				   http_proxy or ALL_PROXY say */
};

/* A request.  Nothing in it is retained after http_do() returns. */
struct http_request {
	const char *method;	/* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *url;	/* absolute, already %-encoded */
	const char *const *headers;	/* "Name: value" lines (no CRLF) */
	size_t n_headers;
	const uint8_t *body;	/* PUT/POST body, or NULL */
	size_t body_len;
	size_t max_body;	/* response body limit; 0: 64 MiB + 1 MiB */
	int follow_redirects;	/* 1: follow 3xx (see above) */
	int is_not_retryable;	/* 1: never repeat (non-idempotent POST) */
};

struct http_header {
	char *name;		/* as received; compare case-insensitively */
	char *value;		/* leading/trailing blanks removed */
};

/*
 * A response; zero it (or use HTTP_RESPONSE_INIT) before the first
 * http_do() and release it with http_response_fini().  A response may be
 * reused for several requests: http_do() finis it first.
 */
struct http_response {
	long status;		/* HTTP status of the final response */
	uint8_t *body;		/* malloc'd, NUL-terminated (not counted) */
	size_t body_len;
	struct http_header *headers;	/* of the final response only */
	size_t n_headers;
	int n_attempts;		/* attempts made (1 + retries) */
	char error[256];	/* why http_do() returned -EIO/-ERANGE */
};

#define HTTP_RESPONSE_INIT { 0, NULL, 0, NULL, 0, 0, { 0 } }

/*
 * http_client_new(o, out):
 * Create a client with options ${o} (NULL: defaults).  Initialises libcurl
 * once per process (thread-safe).  Returns -ENOMEM, or -EIO if libcurl
 * cannot be initialised.  The caller frees *${out} with
 * http_client_free().
 */
int http_client_new(const struct http_opts *o, struct http_client **out);

/*
 * http_client_free(c): close every pooled connection and free ${c}.  No
 * request may be running on ${c}.  Accepts NULL.
 */
void http_client_free(struct http_client *c);

/*
 * http_do(c, req, resp):
 * Perform ${req}, retrying as described above, and fill ${resp} with the
 * final status, headers and body.  Thread-safe: many threads may call it
 * on one client at once.
 * Returns 0 whenever an HTTP response was received, whatever its status
 * (the caller maps 403, 404... itself; a retried 5xx that persists is
 * returned as that 5xx); -EIO if no response came after all retries
 * (resp->error says why and names the host); -ERANGE if the body exceeded
 * req->max_body; -EINVAL on a bad request (no URL or method); -ENOMEM.
 */
int http_do(struct http_client *c, const struct http_request *req,
    struct http_response *resp);

/*
 * http_response_header(resp, name):
 * The value of the first header called ${name} (case-insensitive) in
 * ${resp}, or NULL.  Borrowed: valid until ${resp} is reused or finied.
 */
const char *http_response_header(const struct http_response *resp,
    const char *name);

/* http_response_fini(resp): free what ${resp} holds and zero it. */
void http_response_fini(struct http_response *resp);

/*
 * http_url_encode(in, len, keep_slash, out, cap):
 * %-encode ${len} bytes of ${in} per RFC 3986 (unreserved characters
 * A-Z a-z 0-9 - . _ ~ stay; '/' stays too when ${keep_slash}) into ${out}
 * with a terminating NUL.  This is the encoding SigV4 and S3 keys need.
 * Returns -ERANGE if ${cap} is too small.
 */
int http_url_encode(const char *in, size_t len, int keep_slash, char *out,
    size_t cap);

#endif
