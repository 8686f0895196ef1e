/*
 * s3.c: the S3 backend (backend.h) for buckets with Object Lock: AWS S3,
 * Ceph RGW, MinIO.  Requests are signed with SigV4 (sigv4.c), sent through
 * the pooled client of http.c (which retries 5xx, 429 and transport
 * failures with backoff), and answers in XML are read through s3xml.c.
 *
 * Write-once on S3: a PUT never replaces a version in a versioned bucket,
 * it adds one.  put() therefore checks with HEAD first and refuses an
 * existing key; two writers racing on one key (If-None-Match is ignored by
 * versioned buckets) leave two versions, which is harmless because keys
 * are content addresses and readers can reach every version.  Every PUT
 * carries COMPLIANCE retention headers, a Content-MD5 and the signed
 * SHA-256 of its body, as one request: RGW ignores lock headers on
 * multipart uploads, so we never use them.
 *
 * Reading sees through tampering.  amber never writes a key twice (HEAD
 * before PUT; a race leaves identical copies), and a COMPLIANCE-locked
 * version can be neither deleted nor changed, so the *first* real version
 * of a key is the one amber wrote: anything newer is an overwrite, and a
 * newest delete marker only hides it.  So a read without a version id
 * (get, stat, list) uses the oldest real version, found with
 * ListObjectVersions and remembered per key, and logs a warning naming
 * the key when a delete marker hides it or when a newer version's ETag
 * differs from it (an overwrite).  versions() and get(version) still give
 * every version to a caller that wants to look for itself.
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

#include "backend.h"
#include "http.h"
#include "log.h"
#include "s3.h"
#include "s3xml.h"
#include "sigv4.h"

#define S3_KEY_MAX 1024		/* S3's own limit on a key, in bytes */
#define S3_GET_MAX ((size_t)256 << 20)	/* largest body we accept */
#define S3_XML_MAX ((size_t)16 << 20)	/* largest XML answer */
#define S3_PAGES_MAX 1000000	/* listing pages before giving up */
#define S3_HDRS_MAX 16
#define S3_LINE_MAX 20000	/* one header line (tokens are long) */

struct s3 {
	struct backend be;	/* first: a struct backend * is a struct s3 * */
	struct http_client *http;
	char *endpoint;		/* scheme://host[:port][/path], for messages */
	char *scheme;		/* "http" or "https" */
	int is_loopback;	/* the host connected to is on loopback */
	char *host;		/* the Host header, virtual-host included */
	char *bucket_path;	/* path of the bucket ("/b", "/base/b" or "") */
	char *bucket;
	char *prefix;		/* "" or "PREFIX/" */
	char *region;
	char *access_key;
	char *secret_key;
	char *session_token;
	uint32_t retention_days;
	int is_locked;		/* 1 yes, 0 no, -1 unknown (no right to ask) */
	size_t page_keys;	/* max-keys of a listing page */
	int is_bad_creds;	/* the server said the credentials are wrong */
	pthread_mutex_t cache_lock;
	struct orig_slot *cache;	/* S3_CACHE_SLOTS; see original() */
};

/* The version a read without a version id uses. */
struct orig {
	char version[128];
	uint64_t size;
};

struct orig_slot {
	char *key;		/* bucket key, or NULL */
	struct orig o;
};

#define S3_CACHE_SLOTS 16384	/* about 2.5 MB */

/* One answer to ListObjectVersions, one entry at a time. */
struct s3_entry {
	char key[S3_KEY_MAX + 1];
	char version[128];
	char etag[80];
	uint64_t size;
	int64_t mtime;
	int is_delete_marker;
	int is_latest;
};

static const struct backend_ops s3_ops;

static struct s3 *
s3_of(struct backend *be)
{
	return (struct s3 *)be;
}

/* ---- small helpers ---------------------------------------------------- */

static char *
dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/* "2026-11-27T18:00:00Z", "...:00.123Z", "...:00.000000000Z" -> seconds. */
static int
parse_time(const char *s, int64_t *out)
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

static void
format_time(int64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Retention with a margin.  Objects are written locked until now +
 * retention + grace, and protect() lengthens a lock only once less than
 * the retention is left, again to now + retention + grace.  So every
 * object a snapshot references stays locked at least the retention after
 * that snapshot, while an object reused every day is touched only once
 * per grace period instead of on every ingest.
 */
static int64_t
grace_secs(const struct s3 *s)
{
	uint32_t g = s->retention_days / 4;

	return (int64_t)(g < 1 ? 1 : g) * 86400;
}

static int64_t
lock_until(const struct s3 *s)
{
	return (int64_t)time(NULL) + (int64_t)s->retention_days * 86400 +
	    grace_secs(s);
}

static int
parse_u64(const char *s, uint64_t *out)
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
static int
md5_base64(const uint8_t *buf, size_t len, char out[32])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(buf, len, md, &n, EVP_md5(), NULL) != 1 || n != 16)
		return -EIO;
	EVP_EncodeBlock((unsigned char *)out, md, 16);
	return 0;
}

/* The object key in the bucket for the store key ${key}. */
static int
full_key(const struct s3 *s, const char *key, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", s->prefix, key);

	if (n < 0 || (size_t)n >= cap || (size_t)n > S3_KEY_MAX)
		return log_err(-EINVAL, "%s: key too long: %s",
		    s->be.location, key);
	return 0;
}

/* ---- requests --------------------------------------------------------- */

struct s3_call {
	const char *method;
	const char *key;	/* object key in the bucket; NULL: the bucket */
	const struct sigv4_param *q;
	size_t n_q;
	const struct sigv4_param *h;	/* extra headers, all signed */
	size_t n_h;
	const uint8_t *body;
	size_t body_len;
	size_t max_body;	/* 0: S3_XML_MAX */
	const char *body_sha256;	/* hex SHA-256 of body; NULL: hash it */
};

/*
 * Sign and send one request.  Returns 0 when an answer came (any status),
 * -EIO (logged, naming the endpoint) when none did, -ENOMEM.
 */
static int
s3_send(struct s3 *s, const struct s3_call *c, struct http_response *resp)
{
	struct sigv4_param sh[S3_HDRS_MAX];
	struct sigv4_creds cr = { s->access_key, s->secret_key,
	    s->session_token };
	const char *lines[S3_HDRS_MAX + 2];
	char *lbuf = NULL;
	char date[SIGV4_DATE_LEN];
	char payload[SIGV4_HEX_LEN];
	char auth[SIGV4_AUTH_MAX];
	char *path = NULL;
	char *query = NULL;
	char *url = NULL;
	size_t path_cap;
	size_t url_cap;
	size_t n = 0;
	size_t i;
	struct http_request req;
	int r;

	if (c->n_h + 4 > S3_HDRS_MAX)
		return -EINVAL;
	path_cap = strlen(s->bucket_path) + 4 +
	    (c->key ? strlen(c->key) * 3 : 0);
	if ((path = malloc(path_cap)) == NULL ||
	    (query = malloc(8192)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (c->key != NULL) {
		size_t bl = strlen(s->bucket_path);

		memcpy(path, s->bucket_path, bl);
		path[bl] = '/';
		if ((r = http_url_encode(c->key, strlen(c->key), 1,
		    path + bl + 1, path_cap - bl - 1)) < 0)
			goto out;
	} else {
		snprintf(path, path_cap, "%s",
		    s->bucket_path[0] ? s->bucket_path : "/");
	}
	if ((r = sigv4_query(c->q, c->n_q, query, 8192)) < 0)
		goto out;
	url_cap = strlen(s->scheme) + strlen(s->host) + strlen(path) +
	    strlen(query) + 8;
	if ((url = malloc(url_cap)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(url, url_cap, "%s://%s%s%s%s", s->scheme, s->host, path,
	    query[0] ? "?" : "", query);

	sigv4_date(time(NULL), date);
	/*
	 * Every body is signed by its SHA-256 (x-amz-content-sha256, a
	 * signed header; never UNSIGNED-PAYLOAD), and the server refuses a
	 * body that does not match it (XAmzContentSHA256Mismatch), so no one
	 * on the way can change what is stored under a request we signed.
	 * Packs and snapshots come with the hash they are named by.
	 */
	if (c->body != NULL && c->body_sha256 != NULL)
		snprintf(payload, sizeof(payload), "%s", c->body_sha256);
	else if (c->body != NULL)
		sigv4_sha256_hex(c->body, c->body_len, payload);
	else
		snprintf(payload, sizeof(payload), "%s", SIGV4_EMPTY_SHA256);
	sh[n].name = "x-amz-date";
	sh[n++].value = date;
	sh[n].name = "x-amz-content-sha256";
	sh[n++].value = payload;
	if (s->session_token != NULL) {
		sh[n].name = "x-amz-security-token";
		sh[n++].value = s->session_token;
	}
	for (i = 0; i < c->n_h; i++)
		sh[n++] = c->h[i];
	if ((r = sigv4_sign(&cr, s->region, "s3", date, c->method, s->host,
	    path, query, sh, n, payload, auth, sizeof(auth))) < 0) {
		r = log_err(r == -ENOMEM ? r : -EINVAL,
		    "%s: cannot sign a request (%s)", s->be.location,
		    strerror(-r));
		goto out;
	}
	if ((lbuf = malloc((n + 2) * S3_LINE_MAX)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n + 2; i++) {
		char *l = lbuf + i * S3_LINE_MAX;
		int k;

		if (i < n)
			k = snprintf(l, S3_LINE_MAX, "%s: %s", sh[i].name,
			    sh[i].value);
		else if (i == n)
			k = snprintf(l, S3_LINE_MAX, "Host: %s", s->host);
		else
			k = snprintf(l, S3_LINE_MAX, "Authorization: %s",
			    auth);
		if (k < 0 || k >= S3_LINE_MAX) {
			r = log_err(-EINVAL, "%s: header too long",
			    s->be.location);
			goto out;
		}
		lines[i] = l;
	}

	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.url = url;
	req.headers = lines;
	req.n_headers = n + 2;
	req.body = c->body;
	req.body_len = c->body_len;
	req.max_body = c->max_body ? c->max_body : S3_XML_MAX;
	r = http_do(s->http, &req, resp);
	if (r == -EIO)
		r = log_err(-EIO, "%s: cannot reach S3 endpoint %s (%s %s): %s",
		    s->be.location, s->endpoint, c->method,
		    c->key ? c->key : "(bucket)", resp->error);
	else if (r == -ERANGE)
		r = log_err(-EIO, "%s: %s %s: %s", s->be.location, c->method,
		    c->key ? c->key : "(bucket)", resp->error);
out:
	free(lbuf);
	free(path);
	free(query);
	free(url);
	return r;
}

struct err_xml {
	char code[128];
	char message[256];
};

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
static void
err_parse(const struct http_response *resp, struct err_xml *e)
{
	memset(e, 0, sizeof(*e));
	if (resp->body != NULL && resp->body_len > 0)
		(void)s3xml_parse(resp->body, resp->body_len, err_visit, e);
}

/*
 * Map an answer's status to 0 or -errno, logging what is not routine:
 * 2xx 0; 404 -ENOENT (silent); 403 -EACCES; anything else -EIO.
 */
static int
s3_status(struct s3 *s, const char *op, const char *key,
    const struct http_response *resp)
{
	struct err_xml e;

	if (resp->status >= 200 && resp->status < 300)
		return 0;
	if (resp->status == 404)
		return -ENOENT;
	err_parse(resp, &e);
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
			if (parse_u64(text, &p->cur.size) < 0)
				return -EBADMSG;
		} else if (strcmp(leaf, "ETag") == 0) {
			snprintf(p->cur.etag, sizeof(p->cur.etag), "%s", text);
		} else if (strcmp(leaf, "IsLatest") == 0) {
			p->cur.is_latest = strcmp(text, "true") == 0;
		} else if (strcmp(leaf, "LastModified") == 0) {
			if (parse_time(text, &p->cur.mtime) < 0)
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
static int
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

struct versions_ctx {
	const char *key;	/* bucket key */
	struct backend_version *v;
	size_t n;
	size_t cap;
};

static int
versions_visit(void *ctx, const struct s3_entry *e)
{
	struct versions_ctx *vc = ctx;
	struct backend_version *nv;

	if (strcmp(e->key, vc->key) != 0)
		return vc->n > 0 ? 1 : 0;	/* past our key: done */
	if (vc->n == vc->cap) {
		size_t ncap = vc->cap ? vc->cap * 2 : 8;

		if ((nv = realloc(vc->v, ncap * sizeof(*nv))) == NULL)
			return -ENOMEM;
		vc->v = nv;
		vc->cap = ncap;
	}
	nv = &vc->v[vc->n++];
	memset(nv, 0, sizeof(*nv));
	snprintf(nv->id, sizeof(nv->id), "%s", e->version);
	nv->size = e->size;
	nv->mtime = e->mtime;
	nv->is_delete_marker = e->is_delete_marker;
	nv->is_latest = e->is_latest;
	return 0;
}

static int
s3_versions(struct backend *be, const char *key, struct backend_version **out,
    size_t *n)
{
	struct s3 *s = s3_of(be);
	struct versions_ctx vc;
	char fk[S3_KEY_MAX + 1];
	int r;

	memset(&vc, 0, sizeof(vc));
	if ((r = full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	vc.key = fk;
	r = s3_list_versions(s, fk, 0, versions_visit, &vc);
	if (r < 0) {
		free(vc.v);
		return r;
	}
	if (vc.n == 0) {
		free(vc.v);
		return -ENOENT;
	}
	*out = vc.v;
	*n = vc.n;
	return 0;
}

/*
 * What the versions of one key (listed newest first) say: its original
 * version, whether a delete marker hides it, whether it was overwritten.
 */
struct orig_acc {
	char key[S3_KEY_MAX + 1];	/* bucket key */
	struct orig o;		/* the oldest real version seen so far */
	char etag[80];		/* its ETag */
	int n_real;
	int n_seen;
	int is_hidden;		/* the newest entry is a delete marker */
	int is_overwritten;	/* real versions with different ETags */
};

static void
acc_add(struct orig_acc *a, const struct s3_entry *e)
{
	if (a->n_seen++ == 0 && e->is_delete_marker)
		a->is_hidden = 1;
	if (e->is_delete_marker)
		return;
	/* Newest first: each real version replaces the previous one. */
	if (a->n_real++ > 0 && strcmp(e->etag, a->etag) != 0)
		a->is_overwritten = 1;
	snprintf(a->o.version, sizeof(a->o.version), "%s", e->version);
	snprintf(a->etag, sizeof(a->etag), "%s", e->etag);
	a->o.size = e->size;
}

static size_t
slot_of(const char *key)
{
	uint64_t h = 1469598103934665603ull;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 1099511628211ull;
	return (size_t)(h % S3_CACHE_SLOTS);
}

static void
cache_drop(struct s3 *s, const char *fk)
{
	struct orig_slot *sl = &s->cache[slot_of(fk)];

	pthread_mutex_lock(&s->cache_lock);
	if (sl->key != NULL && strcmp(sl->key, fk) == 0) {
		free(sl->key);
		sl->key = NULL;
	}
	pthread_mutex_unlock(&s->cache_lock);
}

/*
 * A key's versions are all known: report tampering (once, since the
 * result is remembered) and remember the original version.
 */
static void
acc_done(struct s3 *s, const struct orig_acc *a)
{
	struct orig_slot *sl = &s->cache[slot_of(a->key)];
	char *dup;
	int is_known;

	if (a->n_real == 0)
		return;
	pthread_mutex_lock(&s->cache_lock);
	is_known = sl->key != NULL && strcmp(sl->key, a->key) == 0;
	pthread_mutex_unlock(&s->cache_lock);
	if (is_known)
		return;		/* remembered, and reported, already */
	if (a->is_hidden)
		log_warn("%s: a delete marker hides %s; reading its original "
		    "version %s", s->be.location, a->key, a->o.version);
	if (a->is_overwritten)
		log_warn("%s: %s was overwritten (%d versions with different "
		    "contents); reading the original, version %s",
		    s->be.location, a->key, a->n_real, a->o.version);
	if ((dup = strdup(a->key)) == NULL)
		return;		/* not remembered; not an error */
	pthread_mutex_lock(&s->cache_lock);
	free(sl->key);
	sl->key = dup;
	sl->o = a->o;
	pthread_mutex_unlock(&s->cache_lock);
}

static int
orig_visit(void *ctx, const struct s3_entry *e)
{
	struct orig_acc *a = ctx;

	if (strcmp(e->key, a->key) != 0)
		return a->n_seen > 0 ? 1 : 0;
	acc_add(a, e);
	return 0;
}

/*
 * original(s, fk, out): the oldest real version of the bucket key ${fk}
 * (see the top of this file), remembered from an earlier call or listing
 * where possible.  -ENOENT if it has none.
 */
static int
original(struct s3 *s, const char *fk, struct orig *out)
{
	struct orig_slot *sl = &s->cache[slot_of(fk)];
	struct orig_acc *a;
	int r;

	pthread_mutex_lock(&s->cache_lock);
	if (sl->key != NULL && strcmp(sl->key, fk) == 0) {
		*out = sl->o;
		pthread_mutex_unlock(&s->cache_lock);
		return 0;
	}
	pthread_mutex_unlock(&s->cache_lock);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	snprintf(a->key, sizeof(a->key), "%s", fk);
	if ((r = s3_list_versions(s, fk, 0, orig_visit, a)) < 0)
		goto out;
	r = -ENOENT;
	if (a->n_real > 0) {
		acc_done(s, a);
		*out = a->o;
		r = 0;
	}
out:
	free(a);
	return r;
}

/* ---- backend operations ----------------------------------------------- */

static int
s3_head(struct s3 *s, const char *fk, const char *version,
    struct http_response *resp)
{
	struct sigv4_param q[1] = { { "versionId", version } };
	struct s3_call c = { "HEAD", fk, q, version ? 1 : 0, NULL, 0, NULL, 0,
	    0, NULL };

	return s3_send(s, &c, resp);
}

static int
s3_stat(struct backend *be, const char *key, uint64_t *size)
{
	struct s3 *s = s3_of(be);
	struct orig o;
	char fk[S3_KEY_MAX + 1];
	int r;

	if ((r = full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	if ((r = original(s, fk, &o)) < 0)
		return r;
	*size = o.size;
	return 0;
}

static int
s3_get_version(struct s3 *s, const char *key, const char *version,
    uint64_t off, uint64_t len, uint8_t **buf, size_t *got)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param q[1] = { { "versionId", version } };
	struct sigv4_param h[1];
	struct s3_call c = { "GET", NULL, q, version ? 1 : 0, h, 0, NULL, 0,
	    S3_GET_MAX, NULL };
	char fk[S3_KEY_MAX + 1];
	char range[64];
	int has_range = off > 0 || len != UINT64_MAX;
	int r;

	if ((r = full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	if (len == 0) {
		uint64_t size;

		if (version == NULL && (r = s3_stat(&s->be, key, &size)) < 0)
			return r;
		if ((*buf = malloc(1)) == NULL)
			return -ENOMEM;
		*got = 0;
		return 0;
	}
	if (len != UINT64_MAX && (len > S3_GET_MAX || off > UINT64_MAX - len))
		return -EINVAL;
	if (has_range) {
		if (len == UINT64_MAX)
			snprintf(range, sizeof(range), "bytes=%" PRIu64 "-",
			    off);
		else
			snprintf(range, sizeof(range),
			    "bytes=%" PRIu64 "-%" PRIu64, off, off + len - 1);
		h[0].name = "Range";
		h[0].value = range;
		c.n_h = 1;
	}
	c.key = fk;
	if ((r = s3_send(s, &c, &resp)) < 0)
		goto out;
	if (resp.status == 416) {	/* the range starts past the end */
		if ((*buf = malloc(1)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		*got = 0;
		r = 0;
		goto out;
	}
	if ((r = s3_status(s, "GET", fk, &resp)) < 0)
		goto out;
	if (resp.status == 200 && has_range) {
		/* The server ignored the range: cut it out ourselves. */
		size_t n = 0;

		if (off < resp.body_len) {
			n = resp.body_len - (size_t)off;
			if (len != UINT64_MAX && n > len)
				n = (size_t)len;
			memmove(resp.body, resp.body + off, n);
		}
		resp.body_len = n;
	}
	*buf = resp.body;
	*got = resp.body_len;
	resp.body = NULL;
out:
	http_response_fini(&resp);
	return r;
}

static int
s3_get(struct backend *be, const char *key, const char *version,
    uint64_t off, uint64_t len, uint8_t **buf, size_t *got)
{
	struct s3 *s = s3_of(be);
	struct orig o;
	char fk[S3_KEY_MAX + 1];
	int r;

	if (version != NULL)
		return s3_get_version(s, key, version, off, len, buf, got);
	if ((r = full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	if ((r = original(s, fk, &o)) < 0)
		return r;
	r = s3_get_version(s, key, o.version, off, len, buf, got);
	if (r == -ENOENT) {
		/* Remembered version gone (expired and removed): ask again. */
		cache_drop(s, fk);
		if ((r = original(s, fk, &o)) < 0)
			return r;
		r = s3_get_version(s, key, o.version, off, len, buf, got);
	}
	return r;
}

/*
 * A PUT carries the SHA-256 of its body, signed (see s3_send()): from
 * ${sha256} when the caller has it, else computed here.  On a bucket
 * with Object Lock (or where we could not tell) it also carries a
 * Content-MD5, which AWS requires of a PUT that sets a retention.
 */
static int
s3_put_hashed(struct backend *be, const char *key, const uint8_t *buf,
    size_t len, const uint8_t sha256[32])
{
	struct s3 *s = s3_of(be);
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param h[3];
	struct s3_call c = { "PUT", NULL, NULL, 0, h, 0, buf, len, 0, NULL };
	char fk[S3_KEY_MAX + 1];
	char hex[SIGV4_HEX_LEN];
	char md5[32];
	char until[32];
	int r;

	if ((r = full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	if ((r = s3_head(s, fk, NULL, &resp)) < 0)
		goto out;
	if ((r = s3_status(s, "HEAD", fk, &resp)) == 0) {
		r = -EEXIST;
		goto out;
	}
	if (r != -ENOENT)
		goto out;
	if (s->is_locked != 0) {
		if ((r = md5_base64(buf, len, md5)) < 0)
			goto out;
		h[c.n_h].name = "Content-MD5";
		h[c.n_h++].value = md5;
	}
	if (s->retention_days > 0 && s->is_locked != 0) {
		format_time(lock_until(s), until, sizeof(until));
		h[c.n_h].name = "x-amz-object-lock-mode";
		h[c.n_h++].value = "COMPLIANCE";
		h[c.n_h].name = "x-amz-object-lock-retain-until-date";
		h[c.n_h++].value = until;
	}
	if (sha256 != NULL) {
		for (size_t i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", sha256[i]);
		c.body_sha256 = hex;
	}
	c.key = fk;
	if ((r = s3_send(s, &c, &resp)) < 0)
		goto out;
	r = s3_status(s, "PUT", fk, &resp);
out:
	http_response_fini(&resp);
	return r;
}

static int
s3_put(struct backend *be, const char *key, const uint8_t *buf, size_t len)
{
	return s3_put_hashed(be, key, buf, len, NULL);
}

struct list_ctx {
	struct s3 *s;
	int (*fn)(void *ctx, const char *key, uint64_t size);
	void *ctx;
	struct orig_acc a;	/* the key being gathered */
};

/* Hand the gathered key to the caller, and remember its original. */
static int
list_flush(struct list_ctx *lc)
{
	size_t pl = strlen(lc->s->prefix);
	int r = 0;

	if (lc->a.n_real > 0) {
		acc_done(lc->s, &lc->a);
		if (strncmp(lc->a.key, lc->s->prefix, pl) == 0)
			r = lc->fn(lc->ctx, lc->a.key + pl, lc->a.o.size);
	}
	memset(&lc->a, 0, sizeof(lc->a));
	return r;
}

static int
list_visit(void *ctx, const struct s3_entry *e)
{
	struct list_ctx *lc = ctx;
	int r;

	/* Versions of one key come together, newest first. */
	if (strcmp(e->key, lc->a.key) != 0) {
		if ((r = list_flush(lc)) != 0)
			return r;
		snprintf(lc->a.key, sizeof(lc->a.key), "%s", e->key);
	}
	acc_add(&lc->a, e);
	return 0;
}

static int
s3_list(struct backend *be, const char *prefix,
    int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx)
{
	struct s3 *s = s3_of(be);
	struct list_ctx *lc;
	char fp[S3_KEY_MAX + 1];
	int r;

	if ((r = full_key(s, prefix, fp, sizeof(fp))) < 0)
		return r;
	if ((lc = calloc(1, sizeof(*lc))) == NULL)
		return -ENOMEM;
	lc->s = s;
	lc->fn = fn;
	lc->ctx = ctx;
	r = s3_list_versions(s, fp, 0, list_visit, lc);
	if (r == 0)
		r = list_flush(lc);
	free(lc);
	return r;
}

static int
put_retention(struct s3 *s, const char *fk, const char *version,
    const char *until)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param q[2] = { { "retention", "" },
	    { "versionId", version } };
	struct sigv4_param h[1];
	char body[512];
	char md5[32];
	struct s3_call c = { "PUT", fk, q, 2, h, 1, NULL, 0, 0, NULL };
	int n;
	int r;

	n = snprintf(body, sizeof(body), "<Retention xmlns=\"http://s3."
	    "amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode>"
	    "<RetainUntilDate>%s</RetainUntilDate></Retention>", until);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -EINVAL;
	if ((r = md5_base64((const uint8_t *)body, (size_t)n, md5)) < 0)
		return r;
	h[0].name = "Content-MD5";
	h[0].value = md5;
	c.body = (const uint8_t *)body;
	c.body_len = (size_t)n;
	if ((r = s3_send(s, &c, &resp)) == 0)
		r = s3_status(s, "PutObjectRetention", fk, &resp);
	http_response_fini(&resp);
	return r;
}

/*
 * Only the original version is extended: it is the one every read uses
 * (see original()); newer versions are overwrites or identical copies.
 */
static int
s3_protect(struct backend *be, const char *key)
{
	struct s3 *s = s3_of(be);
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct orig o;
	char fk[S3_KEY_MAX + 1];
	char until[32];
	const char *mode;
	const char *cur;
	int64_t need;
	int64_t t = 0;
	int r;

	if (s->retention_days == 0 || s->is_locked == 0)
		return 0;
	if ((r = full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	if ((r = original(s, fk, &o)) < 0)
		return r;
	need = (int64_t)time(NULL) + (int64_t)s->retention_days * 86400;
	if ((r = s3_head(s, fk, o.version, &resp)) < 0 ||
	    (r = s3_status(s, "HEAD", fk, &resp)) < 0)
		goto out;
	mode = http_response_header(&resp, "x-amz-object-lock-mode");
	cur = http_response_header(&resp,
	    "x-amz-object-lock-retain-until-date");
	if (mode != NULL && strcmp(mode, "COMPLIANCE") == 0 && cur != NULL &&
	    parse_time(cur, &t) == 0 && t >= need)
		goto out;
	format_time(lock_until(s), until, sizeof(until));
	r = put_retention(s, fk, o.version, until);
out:
	http_response_fini(&resp);
	return r;
}

static void
s3_free(struct s3 *s)
{
	if (s == NULL)
		return;
	http_client_free(s->http);
	if (s->cache != NULL) {
		for (size_t i = 0; i < S3_CACHE_SLOTS; i++)
			free(s->cache[i].key);
		free(s->cache);
		pthread_mutex_destroy(&s->cache_lock);
	}
	free(s->be.location);
	free(s->endpoint);
	free(s->scheme);
	free(s->host);
	free(s->bucket_path);
	free(s->bucket);
	free(s->prefix);
	free(s->region);
	free(s->access_key);
	if (s->secret_key != NULL) {
		OPENSSL_cleanse(s->secret_key, strlen(s->secret_key));
		free(s->secret_key);
	}
	if (s->session_token != NULL) {
		OPENSSL_cleanse(s->session_token, strlen(s->session_token));
		free(s->session_token);
	}
	free(s);
}

static void
s3_close(struct backend *be)
{
	s3_free(s3_of(be));
}

/* The config's retention replaces the bucket default read at open. */
static void
s3_set_retention(struct backend *be, uint32_t days)
{
	if (days > 0)
		s3_of(be)->retention_days = days > 36500 ? 36500 : days;
}

static const struct backend_ops s3_ops = {
	s3_put, s3_get, s3_list, s3_stat, s3_versions, s3_protect, s3_close,
	s3_set_retention,
	NULL,	/* willneed: see backend.h */
	NULL,	/* read_into: see backend.h */
	s3_put_hashed,
};

/* ---- opening ---------------------------------------------------------- */

/*
 * Open the credentials file ${file} for reading, refusing it (-EACCES,
 * logged with its name and mode) when the group or others have any access
 * to it: as ssh does with a private key, since a secret others could read
 * may already be theirs, and one others could write is not ours.  The
 * mode is that of the file opened (fstat), not of the name.
 */
static int
creds_open(const struct s3 *s, const char *file, FILE **out)
{
	struct stat st;
	int fd;
	int e;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		return log_err(e == ENOENT ? -ENOENT : -EACCES,
		    "%s: cannot read credentials file %s: %s",
		    s->be.location, file, strerror(e));
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		return log_err(-EACCES, "%s: credentials file %s: %s",
		    s->be.location, file, strerror(e));
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		return log_err(-EACCES, "%s: credentials file %s has mode "
		    "%04o: the group or others may %s it; refused (chmod 600 "
		    "%s)", s->be.location, file,
		    (unsigned)(st.st_mode & 07777),
		    (st.st_mode & 044) != 0 ? "read" : "access", file);
	}
	if ((*out = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Credentials: a file of AWS-style "key = value" lines (the names of the
 * environment variables, or aws_access_key_id & co. as in
 * ~/.aws/credentials; "[section]" and "#" lines are skipped), else the
 * environment.
 */
static int
load_creds(struct s3 *s, const char *file)
{
	char line[4096];
	FILE *f = NULL;
	int r = 0;

	if (file != NULL) {
		if ((r = creds_open(s, file, &f)) < 0)
			return r;
		while (fgets(line, sizeof(line), f) != NULL) {
			char *k = line;
			char *v = strchr(line, '=');
			char *e;
			char **dst = NULL;

			if (v == NULL)
				continue;
			*v++ = 0;
			while (*k == ' ' || *k == '\t')
				k++;
			for (e = v - 1; e > k && (e[-1] == ' ' ||
			    e[-1] == '\t'); e--)
				e[-1] = 0;
			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\r\n")] = 0;
			for (e = v + strlen(v); e > v && (e[-1] == ' ' ||
			    e[-1] == '\t'); e--)
				e[-1] = 0;
			if (strcasecmp(k, "aws_access_key_id") == 0)
				dst = &s->access_key;
			else if (strcasecmp(k, "aws_secret_access_key") == 0)
				dst = &s->secret_key;
			else if (strcasecmp(k, "aws_session_token") == 0)
				dst = &s->session_token;
			else if (strcasecmp(k, "aws_region") == 0 ||
			    strcasecmp(k, "region") == 0) {
				free(s->region);
				dst = &s->region;
			}
			if (dst == NULL)
				continue;
			free(*dst);
			if ((*dst = strdup(v)) == NULL) {
				r = -ENOMEM;
				break;
			}
		}
		OPENSSL_cleanse(line, sizeof(line));
		fclose(f);
		if (r < 0)
			return r;
	} else {
		const char *ak = getenv("AWS_ACCESS_KEY_ID");
		const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
		const char *st = getenv("AWS_SESSION_TOKEN");

		if ((ak && (s->access_key = strdup(ak)) == NULL) ||
		    (sk && (s->secret_key = strdup(sk)) == NULL) ||
		    (st && *st && (s->session_token = strdup(st)) == NULL))
			return -ENOMEM;
	}
	if (s->access_key == NULL || s->secret_key == NULL ||
	    !s->access_key[0] || !s->secret_key[0])
		return log_err(-EACCES, "%s: no S3 credentials: set "
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a "
		    "credentials file", s->be.location);
	return 0;
}

/* s3://BUCKET[/PREFIX] -> bucket, "PREFIX/" (or ""). */
static int
parse_url(struct s3 *s, const char *url)
{
	const char *b;
	const char *slash;
	size_t pl;

	if (strncmp(url, "s3://", 5) != 0)
		return -EINVAL;
	b = url + 5;
	slash = strchr(b, '/');
	if ((s->bucket = dup_n(b, slash ? (size_t)(slash - b) : strlen(b))) ==
	    NULL)
		return -ENOMEM;
	if (s->bucket[0] == 0 || strlen(s->bucket) > 63 ||
	    strspn(s->bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") !=
	    strlen(s->bucket))
		return log_err(-EINVAL, "%s: not a valid bucket name", url);
	slash = slash ? slash + 1 : "";
	while (*slash == '/')
		slash++;
	pl = strlen(slash);
	while (pl > 0 && slash[pl - 1] == '/')
		pl--;
	if (pl > 512)
		return log_err(-EINVAL, "%s: prefix too long", url);
	if ((s->prefix = malloc(pl + 2)) == NULL)
		return -ENOMEM;
	memcpy(s->prefix, slash, pl);
	if (pl > 0)
		s->prefix[pl++] = '/';
	s->prefix[pl] = 0;
	return 0;
}

/*
 * Is ${host} (the host a request connects to: "name", "name:port",
 * "[v6]:port") on loopback?  Yes for an IPv4 address in 127.0.0.0/8
 * written as a dotted quad, for [::1], and for "localhost" and names
 * under ".localhost", which libcurl resolves to loopback itself (RFC
 * 6761) without asking a name server.  Any other name is not: what it
 * resolves to is the network's choice, not ours.
 */
static int
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[256];
	const char *e;
	size_t n;

	if (host[0] == '[') {
		if ((e = strchr(host, ']')) == NULL ||
		    (n = (size_t)(e - host - 1)) >= sizeof(h))
			return 0;
		memcpy(h, host + 1, n);
		h[n] = 0;
		return inet_pton(AF_INET6, h, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	}
	if ((n = strcspn(host, ":")) >= sizeof(h))
		return 0;
	memcpy(h, host, n);
	h[n] = 0;
	/* Letters, digits, '-' and '.' only: no escape for libcurl to undo. */
	if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") != n)
		return 0;
	if (strcasecmp(h, "localhost") == 0 || (n > 10 &&
	    strcasecmp(h + n - 10, ".localhost") == 0))
		return 1;
	return inet_pton(AF_INET, h, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127;
}

/*
 * scheme://host[:port][/path] -> scheme, host, bucket path.  Plain http
 * goes only to loopback unless ${is_insecure_ok}: on any other path an
 * eavesdropper would read the access key id, every key name and every
 * answer, and could replay or withhold requests.  The check is on the
 * host a request connects to, and comes before any connection; requests
 * to loopback never go through a proxy (see s3_open()).
 */
static int
parse_endpoint(struct s3 *s, const char *ep, int is_virtual,
    int is_insecure_ok)
{
	const char *h;
	const char *p;
	size_t hl;
	size_t pl;
	size_t cap;

	if (strncmp(ep, "http://", 7) == 0)
		s->scheme = strdup("http");
	else if (strncmp(ep, "https://", 8) == 0)
		s->scheme = strdup("https");
	else
		return log_err(-EINVAL, "S3 endpoint %s: not an http(s) URL",
		    ep);
	if (s->scheme == NULL || (s->endpoint = strdup(ep)) == NULL)
		return -ENOMEM;
	h = strstr(ep, "://") + 3;
	hl = strcspn(h, "/?#");
	if (hl == 0 || h[hl] == '?' || h[hl] == '#' || memchr(h, '@', hl))
		return log_err(-EINVAL, "S3 endpoint %s: malformed", ep);
	p = h + hl;
	pl = strlen(p);
	while (pl > 0 && p[pl - 1] == '/')
		pl--;
	cap = hl + strlen(s->bucket) + 2;
	if ((s->host = malloc(cap)) == NULL)
		return -ENOMEM;
	if (is_virtual)
		snprintf(s->host, cap, "%s.%.*s", s->bucket, (int)hl, h);
	else
		snprintf(s->host, cap, "%.*s", (int)hl, h);
	cap = pl + strlen(s->bucket) + 2;
	if ((s->bucket_path = malloc(cap)) == NULL)
		return -ENOMEM;
	if (is_virtual)
		snprintf(s->bucket_path, cap, "%.*s", (int)pl, p);
	else
		snprintf(s->bucket_path, cap, "%.*s/%s", (int)pl, p,
		    s->bucket);
	s->is_loopback = is_loopback(s->host);
	if (strcmp(s->scheme, "http") == 0 && !is_insecure_ok &&
	    !s->is_loopback)
		return log_err(-EINVAL, "S3 endpoint %s: plain http to %s, "
		    "which is not loopback, would let anyone on the way read "
		    "and replay the requests: use https, or give "
		    "--insecure-http (amberfs: -o insecure_http) to accept it",
		    ep, s->host);
	return 0;
}

struct lock_xml {
	int is_enabled;
	char mode[32];
	uint64_t days;
	uint64_t years;
};

static int
lock_visit(void *ctx, const char *path, const char *text)
{
	struct lock_xml *l = ctx;
	const char *rule = "ObjectLockConfiguration/Rule/DefaultRetention/";

	if (strcmp(path, "ObjectLockConfiguration/ObjectLockEnabled") == 0)
		l->is_enabled = strcmp(text, "Enabled") == 0;
	else if (strncmp(path, rule, strlen(rule)) == 0) {
		path += strlen(rule);
		if (strcmp(path, "Mode") == 0)
			snprintf(l->mode, sizeof(l->mode), "%s", text);
		else if (strcmp(path, "Days") == 0)
			(void)parse_u64(text, &l->days);
		else if (strcmp(path, "Years") == 0)
			(void)parse_u64(text, &l->years);
	}
	return 0;
}

/*
 * GET ?object-lock: sets s->is_locked and *${l}.  Returns -ENOENT (logged)
 * if the bucket does not exist, -EACCES if we may not ask.
 */
static int
read_lock(struct s3 *s, struct lock_xml *l)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param q[1] = { { "object-lock", "" } };
	struct s3_call c = { "GET", NULL, q, 1, NULL, 0, NULL, 0, 0, NULL };
	struct err_xml e;
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = s3_send(s, &c, &resp)) < 0)
		goto out;
	if (resp.status == 404) {
		err_parse(&resp, &e);
		if (e.code[0] == 0) {
			r = log_err(-EIO, "%s: %s does not answer like an S3 "
			    "server (HTTP 404 without an S3 error): check the "
			    "endpoint", s->be.location, s->endpoint);
		} else if (strcmp(e.code, "NoSuchBucket") == 0) {
			r = log_err(-ENOENT, "%s: no such bucket",
			    s->be.location);
		} else {
			s->is_locked = 0;	/* no lock configuration */
			r = 0;
		}
		goto out;
	}
	if (resp.status == 403) {
		err_parse(&resp, &e);
		s->is_locked = -1;
		r = -EACCES;
		/* Wrong credentials are worth saying now, whoever asks. */
		if (strcmp(e.code, "SignatureDoesNotMatch") == 0 ||
		    strcmp(e.code, "InvalidAccessKeyId") == 0) {
			s->is_bad_creds = 1;
			r = log_err(-EACCES, "%s: the S3 credentials are wrong "
			    "(%s): check the access key and the secret key",
			    s->be.location, e.code);
		}
		goto out;
	}
	if ((r = s3_status(s, "GetObjectLockConfiguration", NULL,
	    &resp)) < 0)
		goto out;
	if (s3xml_parse(resp.body, resp.body_len, lock_visit, l) < 0) {
		r = log_err(-EIO, "%s: malformed Object Lock configuration",
		    s->be.location);
		goto out;
	}
	s->is_locked = l->is_enabled;
out:
	http_response_fini(&resp);
	return r;
}

static int
set_default_retention(struct s3 *s, uint32_t days)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param q[1] = { { "object-lock", "" } };
	struct sigv4_param h[1];
	struct s3_call c = { "PUT", NULL, q, 1, h, 1, NULL, 0, 0, NULL };
	char body[512];
	char md5[32];
	int n;
	int r;

	n = snprintf(body, sizeof(body), "<ObjectLockConfiguration xmlns="
	    "\"http://s3.amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>"
	    "Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>"
	    "COMPLIANCE</Mode><Days>%" PRIu32 "</Days></DefaultRetention>"
	    "</Rule></ObjectLockConfiguration>", days);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -EINVAL;
	if ((r = md5_base64((const uint8_t *)body, (size_t)n, md5)) < 0)
		return r;
	h[0].name = "Content-MD5";
	h[0].value = md5;
	c.body = (const uint8_t *)body;
	c.body_len = (size_t)n;
	if ((r = s3_send(s, &c, &resp)) == 0)
		r = s3_status(s, "PutObjectLockConfiguration", NULL, &resp);
	http_response_fini(&resp);
	return r;
}

static int
any_visit(void *ctx, const struct s3_entry *e)
{
	(void)e;
	*(int *)ctx = 1;
	return 1;
}

/* The checks and settings of a new store (see s3_open()). */
static int
s3_create_checks(struct s3 *s, const struct backend_opts *o)
{
	struct lock_xml l;
	uint64_t have;
	int is_any = 0;
	int r;

	r = read_lock(s, &l);
	if (r == -EACCES && s->is_bad_creds)
		return r;
	if (r == -EACCES)
		return log_err(-EACCES, "%s: may not read the bucket's Object "
		    "Lock configuration (s3:GetBucketObjectLockConfiguration)",
		    s->be.location);
	if (r < 0)
		return r;
	if (!s->is_locked) {
		if (!o->allow_no_lock)
			return log_err(-EINVAL, "%s: the bucket has no Object "
			    "Lock; anyone with write access could delete "
			    "history.  Create it with Object Lock enabled "
			    "(or explicitly accept a bucket without it)",
			    s->be.location);
		log_warn("%s: THE BUCKET HAS NO OBJECT LOCK: history can be "
		    "deleted or overwritten by anyone with write access",
		    s->be.location);
		s->retention_days = 0;
	} else if (s->retention_days > 0) {
		have = l.years ? l.years * 365 : l.days;
		if (strcmp(l.mode, "COMPLIANCE") != 0 ||
		    have < s->retention_days) {
			if ((r = set_default_retention(s,
			    s->retention_days)) < 0)
				return r;
		}
	} else {
		log_warn("%s: no retention set: objects are written without "
		    "an Object Lock retain-until date", s->be.location);
	}
	if ((r = s3_list_versions(s, s->prefix, 1, any_visit, &is_any)) < 0)
		return r;
	if (is_any)
		return log_err(-EEXIST, "%s: objects already exist under this "
		    "prefix", s->be.location);
	return 0;
}

int
s3_open(const char *url, const struct backend_opts *o, int create,
    struct backend **out)
{
	struct http_opts ho;
	struct s3 *s;
	struct lock_xml l;
	const char *ep;
	const char *region;
	char *aws_ep = NULL;
	const char *knob;
	uint64_t v;
	int is_virtual;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->be.ops = &s3_ops;
	if ((s->cache = calloc(S3_CACHE_SLOTS, sizeof(*s->cache))) == NULL ||
	    pthread_mutex_init(&s->cache_lock, NULL) != 0) {
		free(s->cache);
		free(s);
		return -ENOMEM;
	}
	if ((s->be.location = strdup(url)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = parse_url(s, url)) < 0)
		goto out;
	region = getenv("AWS_REGION");
	if (region == NULL || !*region)
		region = getenv("AWS_DEFAULT_REGION");
	if ((s->region = strdup(region && *region ? region : "us-east-1")) ==
	    NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = load_creds(s, o ? o->s3_credentials : NULL)) < 0)
		goto out;
	ep = o && o->s3_endpoint && *o->s3_endpoint ? o->s3_endpoint :
	    getenv("AMBER_S3_ENDPOINT");
	is_virtual = o ? o->s3_virtual_host : 0;
	if (ep == NULL || !*ep) {
		size_t cap = strlen(s->region) + 32;

		if ((aws_ep = malloc(cap)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		snprintf(aws_ep, cap, "https://s3.%s.amazonaws.com",
		    s->region);
		ep = aws_ep;
		is_virtual = 1;
	}
	if ((r = parse_endpoint(s, ep, is_virtual,
	    o ? o->s3_insecure_http : 0)) < 0)
		goto out;
	s->retention_days = o ? o->retention_days : 0;
	s->is_locked = -1;
	/*
	 * Knobs for tests and troubleshooting: AMBER_S3_RETRIES (0: none),
	 * AMBER_S3_PAGE_KEYS (listing page size, 1..1000).
	 */
	memset(&ho, 0, sizeof(ho));
	ho.user_agent = "amber";
	/* A proxy from http_proxy would carry loopback requests away. */
	ho.is_direct = s->is_loopback;
	if ((knob = getenv("AMBER_S3_RETRIES")) != NULL &&
	    parse_u64(knob, &v) == 0 && v <= 20)
		ho.max_retries = v == 0 ? -1 : (int)v;
	s->page_keys = 1000;
	if ((knob = getenv("AMBER_S3_PAGE_KEYS")) != NULL &&
	    parse_u64(knob, &v) == 0 && v >= 1 && v <= 1000)
		s->page_keys = (size_t)v;
	if ((r = http_client_new(&ho, &s->http)) < 0)
		goto out;
	if (create) {
		if ((r = s3_create_checks(s, o)) < 0)
			goto out;
	} else {
		r = read_lock(s, &l);
		if (r == -ENOENT || r == -EIO || r == -ENOMEM ||
		    s->is_bad_creds)
			goto out;
		/*
		 * store_open() opens the backend before it can read the
		 * store's retention from the config.  Until it is told, take
		 * the bucket's COMPLIANCE default rule, which create set from
		 * that very retention (or found longer).
		 */
		if (r == 0 && s->retention_days == 0 && s->is_locked == 1 &&
		    strcmp(l.mode, "COMPLIANCE") == 0) {
			uint64_t d = l.years ? l.years * 365 : l.days;

			s->retention_days = d > 36500 ? 36500 : (uint32_t)d;
		}
		/* -EACCES: a reader may not ask; that is fine. */
		r = 0;
	}
	*out = &s->be;
	s = NULL;
out:
	free(aws_ep);
	s3_free(s);
	return r;
}

/* ---- amber doctor ------------------------------------------------------ */

static void
probe(void (*report)(void *ctx, const struct s3_probe *p), void *ctx,
    const char *what, int is_bad, long status, const char *detail)
{
	struct s3_probe p;

	memset(&p, 0, sizeof(p));
	p.what = what;
	p.is_bad = is_bad;
	p.status = status;
	snprintf(p.detail, sizeof(p.detail), "%s", detail ? detail : "");
	report(ctx, &p);
}

static int
doctor_req(struct s3 *s, const char *method, const char *fk,
    const char *version, const char *sub, const char *body, long *status,
    char *code, size_t cap, char *version_out, size_t vcap)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param q[2];
	struct sigv4_param h[1];
	struct s3_call c = { method, fk, q, 0, h, 0, NULL, 0, 0, NULL };
	struct err_xml e;
	const char *v;
	char md5[32];
	int r;

	if (sub != NULL) {
		q[c.n_q].name = sub;
		q[c.n_q++].value = "";
	}
	if (version != NULL) {
		q[c.n_q].name = "versionId";
		q[c.n_q++].value = version;
	}
	if (body != NULL) {
		c.body = (const uint8_t *)body;
		c.body_len = strlen(body);
		if ((r = md5_base64(c.body, c.body_len, md5)) < 0)
			return r;
		h[0].name = "Content-MD5";
		h[0].value = md5;
		c.n_h = 1;
	}
	if ((r = s3_send(s, &c, &resp)) < 0)
		return r;
	*status = resp.status;
	err_parse(&resp, &e);
	snprintf(code, cap, "%s", e.code);
	if (version_out != NULL) {
		v = http_response_header(&resp, "x-amz-version-id");
		snprintf(version_out, vcap, "%s", v ? v : "");
	}
	http_response_fini(&resp);
	return 0;
}

int
s3_doctor(const char *url, const struct store_opts *o,
    void (*report)(void *ctx, const struct s3_probe *p), void *ctx,
    int *n_bad)
{
	struct backend *be = NULL;
	struct s3 *s;
	struct lock_xml l;
	char fk[S3_KEY_MAX + 1];
	char key[128];
	char version[128] = "";
	char marker[128] = "";
	char code[128];
	char detail[256];
	char until[32];
	char shorter[32];
	char body[512];
	struct backend_opts bo;
	uint8_t canary[64];
	int64_t now = (int64_t)time(NULL);
	long st = 0;
	int r;

	*n_bad = 0;
	memset(&bo, 0, sizeof(bo));
	if (o != NULL) {
		bo.s3_endpoint = o->s3_endpoint;
		bo.s3_credentials = o->s3_credentials;
		bo.s3_virtual_host = o->s3_virtual_host;
		bo.s3_insecure_http = o->s3_insecure_http;
	}
	if ((r = s3_open(url, &bo, 0, &be)) < 0)
		return r;
	s = s3_of(be);

	r = read_lock(s, &l);
	if (r == -EACCES) {
		probe(report, ctx, "read the bucket's Object Lock "
		    "configuration", 0, 403, "not allowed: cannot check");
	} else if (r < 0) {
		goto out;
	} else if (!l.is_enabled) {
		(*n_bad)++;
		probe(report, ctx, "bucket has Object Lock", 1, 0,
		    "NO: history can be deleted by anyone with write access");
	} else {
		if (l.mode[0] == 0)
			snprintf(detail, sizeof(detail), "none: an object "
			    "written without lock headers is not protected");
		else
			snprintf(detail, sizeof(detail), "%s, %" PRIu64 " %s",
			    l.mode, l.years ? l.years : l.days,
			    l.years ? "years" : "days");
		if (strcmp(l.mode, "COMPLIANCE") != 0) {
			(*n_bad)++;
			probe(report, ctx, "bucket default retention is "
			    "COMPLIANCE", 1, 0, detail);
		} else {
			probe(report, ctx, "bucket default retention is "
			    "COMPLIANCE", 0, 0, detail);
		}
	}

	/* The canary: locked for two days, so shortening can be tried. */
	snprintf(key, sizeof(key), "doctor/canary-%" PRId64 "-%u", now,
	    (unsigned)getpid());
	if ((r = full_key(s, key, fk, sizeof(fk))) < 0)
		goto out;
	memset(canary, 'c', sizeof(canary));
	s->retention_days = 2;
	if (l.is_enabled)
		s->is_locked = 1;
	if ((r = s3_put(be, key, canary, sizeof(canary))) < 0) {
		probe(report, ctx, "write a canary object", 0, 0,
		    "refused: these credentials cannot write");
		r = 0;
		goto out;
	}
	if ((r = doctor_req(s, "HEAD", fk, NULL, NULL, NULL, &st, code,
	    sizeof(code), version, sizeof(version))) < 0)
		goto out;
	snprintf(detail, sizeof(detail), "%.120s (version %.100s)", fk,
	    version[0] ? version : "none");
	probe(report, ctx, "write a canary object", 0, st, detail);

	/* 1. Delete the canary's version outright. */
	if (version[0]) {
		if ((r = doctor_req(s, "DELETE", fk, version, NULL, NULL, &st,
		    code, sizeof(code), NULL, 0)) < 0)
			goto out;
		if (st >= 200 && st < 300) {
			(*n_bad)++;
			probe(report, ctx, "delete an object version", 1, st,
			    "SUCCEEDED: these credentials can destroy "
			    "history");
		} else {
			probe(report, ctx, "delete an object version", 0, st,
			    code);
		}
	} else {
		(*n_bad)++;
		probe(report, ctx, "bucket keeps versions", 1, 0,
		    "NO: an overwrite or delete destroys the old data");
	}

	/* 2. Shorten its retention. */
	format_time(now + 2 * 86400, until, sizeof(until));
	format_time(now + 3600, shorter, sizeof(shorter));
	snprintf(body, sizeof(body), "<Retention xmlns=\"http://s3.amazonaws"
	    ".com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>"
	    "%s</RetainUntilDate></Retention>", shorter);
	if ((r = doctor_req(s, "PUT", fk, version[0] ? version : NULL,
	    "retention", body, &st, code, sizeof(code), NULL, 0)) < 0)
		goto out;
	if (st >= 200 && st < 300) {
		(*n_bad)++;
		probe(report, ctx, "shorten an object's retention", 1, st,
		    "SUCCEEDED: retention is not COMPLIANCE-locked");
	} else {
		probe(report, ctx, "shorten an object's retention", 0, st,
		    code);
	}

	/* 3. Hide it behind a delete marker. */
	if ((r = doctor_req(s, "DELETE", fk, NULL, NULL, NULL, &st, code,
	    sizeof(code), marker, sizeof(marker))) < 0)
		goto out;
	if (st >= 200 && st < 300) {
		(*n_bad)++;
		snprintf(detail, sizeof(detail), "SUCCEEDED: these credentials "
		    "can hide objects (amber reads through delete markers, "
		    "but grant no s3:DeleteObject to the ingesting side)");
		probe(report, ctx, "put a delete marker", 1, st, detail);
		/* Take our marker away again, where allowed. */
		if (marker[0])
			(void)doctor_req(s, "DELETE", fk, marker, NULL, NULL,
			    &st, code, sizeof(code), NULL, 0);
	} else {
		probe(report, ctx, "put a delete marker", 0, st, code);
	}
	r = 0;
out:
	s3_close(be);
	return r;
}
