/*
 * s3req.c: one S3 request, signed with SigV4 (sigv4.c) and sent through
 * the pooled client of http.c; the S3 error an answer carries, mapped to
 * -errno once, here; and ListObjectVersions, page by page, with every
 * count and size bounded.  Small parsers of what S3 sends (times,
 * numbers) sit here too, for the other s3 files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "s3i.h"
#include "s3xml.h"

/* ---- small helpers ---------------------------------------------------- */

char *
s3_dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/* "2026-11-27T18:00:00Z", "...:00.123Z", "...:00.000000000Z" -> seconds. */
int
s3_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -EBADMSG;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0 &&
	    strcmp(p, "") != 0)
		return -EBADMSG;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -EBADMSG;
	*out = (int64_t)t;
	return 0;
}

void
s3_format_time(int64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
s3_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != 0)
		return -EBADMSG;
	*out = v;
	return 0;
}

/* Base64 MD5 of ${buf}, for Content-MD5 (S3 requires it on lock calls). */
int
s3_md5_base64(const uint8_t *buf, size_t len, char out[32])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(buf, len, md, &n, EVP_md5(), NULL) != 1 || n != 16)
		return -EIO;
	EVP_EncodeBlock((unsigned char *)out, md, 16);
	return 0;
}

/* The object key in the bucket for the store key ${key}. */
int
s3_full_key(const struct s3 *s, const char *key, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", s->prefix, key);

	if (n < 0 || (size_t)n >= cap || (size_t)n > S3_KEY_MAX)
		return log_err(-EINVAL, "%s: key too long: %s",
		    s->be.location, key);
	return 0;
}

/* ---- requests --------------------------------------------------------- */


/* One request on its way: what s3_send() builds, and frees in req_fini(). */
struct req {
	char *path;		/* the bucket's path, then the key, encoded */
	char *query;		/* canonical query string, "" if none */
	char *url;
	char date[SIGV4_DATE_LEN];
	char payload[SIGV4_HEX_LEN];	/* hex SHA-256 of the body */
	char auth[SIGV4_AUTH_MAX];
	struct sigv4_param sh[S3_HDRS_MAX];	/* the signed headers */
	size_t n_sh;
	const char *lines[S3_HDRS_MAX + 2];	/* "Name: value" */
	char *lbuf;		/* where lines[] point */
};

static void
req_fini(struct req *q)
{
	free(q->lbuf);
	free(q->path);
	free(q->query);
	free(q->url);
}

/* The path, query and URL of ${c}; -ENOMEM, or -ERANGE if too long. */
static int
req_url(const struct s3 *s, const struct s3_call *c, struct req *q)
{
	size_t path_cap;
	size_t url_cap;
	size_t bl = strlen(s->bucket_path);
	int r;

	path_cap = bl + 4 + (c->key ? strlen(c->key) * 3 : 0);
	if ((q->path = malloc(path_cap)) == NULL ||
	    (q->query = malloc(8192)) == NULL)
		return -ENOMEM;
	if (c->key != NULL) {
		memcpy(q->path, s->bucket_path, bl);
		q->path[bl] = '/';
		if ((r = http_url_encode(c->key, strlen(c->key), 1,
		    q->path + bl + 1, path_cap - bl - 1)) < 0)
			return r;
	} else {
		snprintf(q->path, path_cap, "%s",
		    s->bucket_path[0] ? s->bucket_path : "/");
	}
	if ((r = sigv4_query(c->q, c->n_q, q->query, 8192)) < 0)
		return r;
	url_cap = strlen(s->scheme) + strlen(s->host) + strlen(q->path) +
	    strlen(q->query) + 8;
	if ((q->url = malloc(url_cap)) == NULL)
		return -ENOMEM;
	snprintf(q->url, url_cap, "%s://%s%s%s%s", s->scheme, s->host,
	    q->path, q->query[0] ? "?" : "", q->query);
	return 0;
}

/* The signed headers of ${c} and the Authorization value, into ${q}. */
static int
req_sign(struct s3 *s, const struct s3_call *c, struct req *q)
{
	struct sigv4_creds cr = { s->access_key, s->secret_key,
	    s->session_token };
	size_t n = 0;
	int r;

	sigv4_date(time(NULL), q->date);
	/*
	 * Every body is signed by its SHA-256 (x-amz-content-sha256, a
	 * signed header; never UNSIGNED-PAYLOAD), and the server refuses a
	 * body that does not match it (XAmzContentSHA256Mismatch), so no one
	 * on the way can change what is stored under a request we signed.
	 * Packs and snapshots come with the hash they are named by.
	 */
	if (c->body != NULL && c->body_sha256 != NULL)
		snprintf(q->payload, sizeof(q->payload), "%s",
		    c->body_sha256);
	else if (c->body != NULL)
		sigv4_sha256_hex(c->body, c->body_len, q->payload);
	else
		snprintf(q->payload, sizeof(q->payload), "%s",
		    SIGV4_EMPTY_SHA256);
	q->sh[n].name = "x-amz-date";
	q->sh[n++].value = q->date;
	q->sh[n].name = "x-amz-content-sha256";
	q->sh[n++].value = q->payload;
	if (s->session_token != NULL) {
		q->sh[n].name = "x-amz-security-token";
		q->sh[n++].value = s->session_token;
	}
	for (size_t i = 0; i < c->n_h; i++)
		q->sh[n++] = c->h[i];
	q->n_sh = n;
	if ((r = sigv4_sign(&cr, s->region, "s3", q->date, c->method, s->host,
	    q->path, q->query, q->sh, n, q->payload, q->auth,
	    sizeof(q->auth))) < 0)
		return log_err(r == -ENOMEM ? r : -EINVAL,
		    "%s: cannot sign a request (%s)", s->be.location,
		    strerror(-r));
	return 0;
}

/* The header lines: the signed ones, Host and Authorization. */
static int
req_lines(const struct s3 *s, struct req *q)
{
	size_t n = q->n_sh;

	if ((q->lbuf = malloc((n + 2) * S3_LINE_MAX)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n + 2; i++) {
		char *l = q->lbuf + i * S3_LINE_MAX;
		int k;

		if (i < n)
			k = snprintf(l, S3_LINE_MAX, "%s: %s", q->sh[i].name,
			    q->sh[i].value);
		else if (i == n)
			k = snprintf(l, S3_LINE_MAX, "Host: %s", s->host);
		else
			k = snprintf(l, S3_LINE_MAX, "Authorization: %s",
			    q->auth);
		if (k < 0 || k >= S3_LINE_MAX)
			return log_err(-EINVAL, "%s: header too long",
			    s->be.location);
		q->lines[i] = l;
	}
	return 0;
}

/*
 * Sign and send one request.  Returns 0 when an answer came (any status),
 * -EIO (logged, naming the endpoint) when none did, -ENOMEM.
 */
int
s3_send(struct s3 *s, const struct s3_call *c, struct http_response *resp)
{
	struct http_request hr;
	struct req q;
	int r;

	memset(&q, 0, sizeof(q));
	/* Ours are at most three, and Host and Authorization are two more. */
	if (c->n_h + 4 > S3_HDRS_MAX) {
		r = -EINVAL;
		goto out;
	}
	if ((r = req_url(s, c, &q)) < 0 || (r = req_sign(s, c, &q)) < 0 ||
	    (r = req_lines(s, &q)) < 0)
		goto out;
	memset(&hr, 0, sizeof(hr));
	hr.method = c->method;
	hr.url = q.url;
	hr.headers = q.lines;
	hr.n_headers = q.n_sh + 2;
	hr.body = c->body;
	hr.body_len = c->body_len;
	hr.max_body = c->max_body ? c->max_body : S3_XML_MAX;
	r = http_do(s->http, &hr, resp);
	if (r == -EIO)
		r = log_err(-EIO, "%s: cannot reach S3 endpoint %s (%s %s): %s",
		    s->be.location, s->endpoint, c->method,
		    c->key ? c->key : "(bucket)", resp->error);
	else if (r == -ERANGE)
		r = log_err(-EIO, "%s: %s %s: %s", s->be.location, c->method,
		    c->key ? c->key : "(bucket)", resp->error);
out:
	req_fini(&q);
	return r;
}


static int
err_visit(void *ctx, const char *path, const char *text)
{
	struct err_xml *e = ctx;

	if (strcmp(path, "Error/Code") == 0)
		snprintf(e->code, sizeof(e->code), "%s", text);
	else if (strcmp(path, "Error/Message") == 0)
		snprintf(e->message, sizeof(e->message), "%s", text);
	return 0;
}

/* The S3 error code of an answer ("" if none). */
void
s3_err_parse(const struct http_response *resp, struct err_xml *e)
{
	memset(e, 0, sizeof(*e));
	if (resp->body != NULL && resp->body_len > 0)
		(void)s3xml_parse(resp->body, resp->body_len, err_visit, e);
}

/*
 * Map an answer's status to 0 or -errno, logging what is not routine:
 * 2xx 0; 404 -ENOENT (silent); 403 -EACCES; anything else -EIO.
 */
int
s3_status(struct s3 *s, const char *op, const char *key,
    const struct http_response *resp)
{
	struct err_xml e;

	if (resp->status >= 200 && resp->status < 300)
		return 0;
	if (resp->status == 404)
		return -ENOENT;
	s3_err_parse(resp, &e);
	if (strcmp(e.code, "RequestTimeTooSkewed") == 0)
		return log_err(-EIO, "%s: %s %s: this machine's clock is more "
		    "than 15 minutes away from the server's; fix the clock",
		    s->be.location, op, key ? key : "(bucket)");
	if (resp->status == 403)
		return log_err(-EACCES, "%s: %s %s: access denied (%s%s%s): "
		    "check the credentials and the bucket policy",
		    s->be.location, op, key ? key : "(bucket)",
		    e.code[0] ? e.code : "403", e.message[0] ? ": " : "",
		    e.message);
	if (resp->status == 301 || resp->status == 307 ||
	    strcmp(e.code, "AuthorizationHeaderMalformed") == 0 ||
	    strcmp(e.code, "PermanentRedirect") == 0)
		return log_err(-EIO, "%s: %s %s: wrong region or endpoint "
		    "(HTTP %ld %s): check AWS_REGION and the endpoint %s",
		    s->be.location, op, key ? key : "(bucket)", resp->status,
		    e.code, s->endpoint);
	return log_err(-EIO, "%s: %s %s: HTTP %ld %s%s%s", s->be.location, op,
	    key ? key : "(bucket)", resp->status, e.code,
	    e.message[0] ? ": " : "", e.message);
}

int
s3_call_xml(struct s3_call *c, const char *body, struct sigv4_param *h,
    char md5[32])
{
	int r;

	c->body = (const uint8_t *)body;
	c->body_len = strlen(body);
	if ((r = s3_md5_base64(c->body, c->body_len, md5)) < 0)
		return r;
	h[0].name = "Content-MD5";
	h[0].value = md5;
	c->h = h;
	c->n_h = 1;
	return 0;
}

int
s3_put_xml(struct s3 *s, const char *fk, const struct sigv4_param *q,
    size_t n_q, const char *body, const char *op)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param h[1];
	struct s3_call c = { "PUT", fk, q, n_q, NULL, 0, NULL, 0, 0, NULL };
	char md5[32];
	int r;

	if ((r = s3_call_xml(&c, body, h, md5)) < 0)
		return r;
	if ((r = s3_send(s, &c, &resp)) == 0)
		r = s3_status(s, op, fk, &resp);
	http_response_fini(&resp);
	return r;
}

/* ---- listing versions ------------------------------------------------- */

struct lv_page {
	struct s3_entry cur;
	int (*fn)(void *ctx, const struct s3_entry *e);
	void *ctx;
	int is_truncated;
	char next_key[S3_KEY_MAX + 1];
	char next_version[128];
	int fn_rc;		/* what the caller's fn returned, if not 0 */
	size_t n;
};

static int
lv_visit(void *ctx, const char *path, const char *text)
{
	struct lv_page *p = ctx;
	const char *leaf;
	int is_dm;

	if (strncmp(path, "ListVersionsResult/", 19) != 0)
		return 0;
	path += 19;
	if (strcmp(path, "IsTruncated") == 0) {
		p->is_truncated = strcmp(text, "true") == 0;
	} else if (strcmp(path, "NextKeyMarker") == 0) {
		if (strlen(text) > S3_KEY_MAX)
			return -EBADMSG;
		snprintf(p->next_key, sizeof(p->next_key), "%s", text);
	} else if (strcmp(path, "NextVersionIdMarker") == 0) {
		if (strlen(text) >= sizeof(p->next_version))
			return -EBADMSG;
		snprintf(p->next_version, sizeof(p->next_version), "%s",
		    text);
	} else if (strcmp(path, "Version") == 0 ||
	    strcmp(path, "DeleteMarker") == 0) {
		int r;

		p->cur.is_delete_marker = strcmp(path, "DeleteMarker") == 0;
		if (p->cur.key[0] == 0)
			return -EBADMSG;
		p->n++;
		r = p->fn(p->ctx, &p->cur);
		memset(&p->cur, 0, sizeof(p->cur));
		p->fn_rc = r;
		return r;
	} else if (strncmp(path, "Version/", 8) == 0 ||
	    strncmp(path, "DeleteMarker/", 13) == 0) {
		is_dm = path[0] == 'D';
		leaf = path + (is_dm ? 13 : 8);
		if (strcmp(leaf, "Key") == 0) {
			if (strlen(text) > S3_KEY_MAX)
				return -EBADMSG;
			snprintf(p->cur.key, sizeof(p->cur.key), "%s", text);
		} else if (strcmp(leaf, "VersionId") == 0) {
			if (strlen(text) >= sizeof(p->cur.version))
				return -EBADMSG;
			snprintf(p->cur.version, sizeof(p->cur.version), "%s",
			    text);
		} else if (strcmp(leaf, "Size") == 0) {
			if (s3_parse_u64(text, &p->cur.size) < 0)
				return -EBADMSG;
		} else if (strcmp(leaf, "ETag") == 0) {
			snprintf(p->cur.etag, sizeof(p->cur.etag), "%s", text);
		} else if (strcmp(leaf, "IsLatest") == 0) {
			p->cur.is_latest = strcmp(text, "true") == 0;
		} else if (strcmp(leaf, "LastModified") == 0) {
			if (s3_parse_time(text, &p->cur.mtime) < 0)
				p->cur.mtime = 0;
		}
	}
	return 0;
}

/*
 * Call ${fn} with every version and delete marker of every key starting
 * with ${prefix} (bucket keys), in S3's order: by key, newest first.  A
 * non-zero return of ${fn} stops and is returned (1 means "enough").
 */
int
s3_list_versions(struct s3 *s, const char *prefix, size_t max_keys,
    int (*fn)(void *ctx, const struct s3_entry *e), void *ctx)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct lv_page *p = NULL;
	char key_marker[S3_KEY_MAX + 1] = "";
	char version_marker[128] = "";
	char mk[16];
	long pages;
	int r = 0;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	snprintf(mk, sizeof(mk), "%zu", max_keys ? max_keys : s->page_keys);
	for (pages = 0; pages < S3_PAGES_MAX; pages++) {
		struct sigv4_param q[5];
		size_t nq = 0;
		struct s3_call c = { "GET", NULL, q, 0, NULL, 0, NULL, 0, 0,
		    NULL };

		q[nq].name = "versions";
		q[nq++].value = "";
		q[nq].name = "prefix";
		q[nq++].value = prefix;
		q[nq].name = "max-keys";
		q[nq++].value = mk;
		if (key_marker[0]) {
			q[nq].name = "key-marker";
			q[nq++].value = key_marker;
			if (version_marker[0]) {
				q[nq].name = "version-id-marker";
				q[nq++].value = version_marker;
			}
		}
		c.n_q = nq;
		if ((r = s3_send(s, &c, &resp)) < 0)
			goto out;
		if ((r = s3_status(s, "list", prefix, &resp)) < 0) {
			if (r == -ENOENT)
				r = log_err(-ENOENT, "%s: no such bucket",
				    s->be.location);
			goto out;
		}
		memset(p, 0, sizeof(*p));
		p->fn = fn;
		p->ctx = ctx;
		r = s3xml_parse(resp.body, resp.body_len, lv_visit, p);
		if (p->fn_rc != 0) {
			r = p->fn_rc;
			goto out;
		}
		if (r == -EBADMSG) {
			r = log_err(-EIO, "%s: malformed listing from %s",
			    s->be.location, s->endpoint);
			goto out;
		}
		if (r != 0 || !p->is_truncated || max_keys != 0)
			goto out;
		/* Bounded: a server must make progress on every page. */
		if (p->next_key[0] == 0 || (strcmp(p->next_key,
		    key_marker) == 0 && strcmp(p->next_version,
		    version_marker) == 0)) {
			r = log_err(-EIO, "%s: listing from %s does not "
			    "advance", s->be.location, s->endpoint);
			goto out;
		}
		memcpy(key_marker, p->next_key, sizeof(key_marker));
		memcpy(version_marker, p->next_version,
		    sizeof(version_marker));
	}
	r = log_err(-EIO, "%s: listing has more than %d pages",
	    s->be.location, S3_PAGES_MAX);
out:
	http_response_fini(&resp);
	free(p);
	return r;
}

