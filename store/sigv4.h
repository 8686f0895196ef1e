/*
 * sigv4.h: AWS Signature Version 4 (header-based, single-chunk payload),
 * computed with OpenSSL.  Pure functions: no I/O, no clock, no
 * allocation beyond a bounded scratch buffer, so the unit test can check
 * them against AWS's published examples byte for byte.
 *
 * We sign ourselves rather than use libcurl's CURLOPT_AWS_SIGV4 because
 * curl 7.88 (Debian 12) signs the query string exactly as given (so every
 * caller must pre-sort and pre-encode it), does not add
 * x-amz-content-sha256 (RGW then refuses the request) nor
 * x-amz-security-token for session credentials.  Here the canonical query
 * is built once by sigv4_query() and sent as is, so what is signed is
 * exactly what goes on the wire.
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SIGV4_DATE_LEN 17	/* "YYYYMMDDTHHMMSSZ" + NUL */
#define SIGV4_HEX_LEN 65	/* 64 hex digits + NUL */
#define SIGV4_AUTH_MAX 1024	/* an Authorization header value */

/* The hex SHA-256 of nothing: the payload hash of a request without body. */
#define SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_creds {
	const char *access_key;
	const char *secret_key;
	const char *session_token;	/* NULL unless temporary credentials */
};

/* A query parameter or a header: name and raw (unencoded) value. */
struct sigv4_param {
	const char *name;
	const char *value;	/* "" for a bare parameter like "?versions" */
};

/* sigv4_date(t, out): format ${t} as "YYYYMMDDTHHMMSSZ" (UTC). */
void sigv4_date(time_t t, char out[SIGV4_DATE_LEN]);

/* sigv4_sha256_hex(buf, len, out): lower-case hex SHA-256 of ${buf}. */
void sigv4_sha256_hex(const uint8_t *buf, size_t len,
    char out[SIGV4_HEX_LEN]);

/*
 * sigv4_query(p, n, out, cap):
 * Build the canonical query string of ${n} parameters: each name and
 * value %-encoded (RFC 3986 unreserved kept), sorted by encoded name then
 * value, joined as "k=v&k=v" ("" when ${n} is 0).  Send this very string
 * as the URL's query.  Returns -ERANGE if ${cap} is too small, -ENOMEM.
 */
int sigv4_query(const struct sigv4_param *p, size_t n, char *out,
    size_t cap);

/*
 * sigv4_sign(c, region, service, date, method, host, path, query, h, n,
 *     payload_hash, auth, cap):
 * Compute the Authorization header value for a request to ${host} (the
 * Host header exactly as sent, with ":port" when not the default) for
 * ${path} (already %-encoded, '/' kept) and the canonical ${query} (from
 * sigv4_query()).  The signed headers are "host" plus the ${n} headers
 * ${h} (names any case; values trimmed and inner runs of blanks squeezed);
 * the caller must also send each of them, and must have put
 * "x-amz-date: ${date}" among them (and x-amz-content-sha256 for S3,
 * x-amz-security-token when c->session_token is set).  ${payload_hash} is
 * the hex SHA-256 of the body or "UNSIGNED-PAYLOAD".
 * Returns 0, -ERANGE if ${cap} is too small or a header is too long,
 * -EINVAL on a malformed ${date} or a header name repeated, -ENOMEM,
 * -EIO if OpenSSL fails.
 */
int sigv4_sign(const struct sigv4_creds *c, const char *region,
    const char *service, const char *date, const char *method,
    const char *host, const char *path, const char *query,
    const struct sigv4_param *h, size_t n, const char *payload_hash,
    char *auth, size_t cap);

/*
 * sigv4_canonical(...): as sigv4_sign(), but writes the canonical request
 * (step 1 of the algorithm) into ${out}; for tests and debugging.
 */
int sigv4_canonical(const char *method, const char *host, const char *path,
    const char *query, const struct sigv4_param *h, size_t n,
    const char *payload_hash, char *out, size_t cap);

#endif
