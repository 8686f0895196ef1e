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

#include "crypt.h"
#include "hex.h"
#include "log.h"
#include "s3i.h"
#include "s3xml.h"
#include "store.h"

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
	uint64_t g = s->retention_secs / 4;
	uint64_t floor = s->retention_secs < 86400 ? s->retention_secs : 86400;

	return (int64_t)(g < floor ? floor : g);
}

int64_t
s3_lock_until(const struct s3 *s)
{
	return (int64_t)time(NULL) + (int64_t)s->retention_secs +
	    grace_secs(s);
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
	if ((r = s3_full_key(s, key, fk, sizeof(fk))) < 0)
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

	if ((r = s3_full_key(s, key, fk, sizeof(fk))) < 0)
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

	if ((r = s3_full_key(s, key, fk, sizeof(fk))) < 0)
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
	if ((r = s3_full_key(s, key, fk, sizeof(fk))) < 0)
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
 * The keys this process put locked, and until when: protect() of such a
 * key (a pack this ingest wrote and then reused) needs no listing and
 * no HEAD while the earliest of those locks lasts the retention.  Best
 * effort: out of memory, the key is only not remembered.
 */
static void
put_note(struct s3 *s, const char *fk, int64_t until)
{
	uint8_t h[CRYPT_HASH_LEN];

	crypt_sha256(fk, strlen(fk), h);
	pthread_mutex_lock(&s->cache_lock);
	if (idset_add(&s->put_keys, h) >= 0 &&
	    (s->put_until_min == 0 || until < s->put_until_min))
		s->put_until_min = until;
	pthread_mutex_unlock(&s->cache_lock);
}

static int
put_covers(struct s3 *s, const char *fk, int64_t need)
{
	uint8_t h[CRYPT_HASH_LEN];
	int r;

	crypt_sha256(fk, strlen(fk), h);
	pthread_mutex_lock(&s->cache_lock);
	r = s->put_until_min >= need && idset_has(&s->put_keys, h) == 1;
	pthread_mutex_unlock(&s->cache_lock);
	return r;
}

/*
 * A PUT carries the SHA-256 of its body, signed (see s3_send()): from
 * ${sha256} when the caller has it, else computed here.  On a bucket
 * with Object Lock (or where we could not tell) it also carries the
 * checksum AWS requires of a PUT that sets a retention: "Content-MD5 or
 * x-amz-checksum-*"; x-amz-checksum-sha256 where the caller gave the
 * hash (every pack and manifest), else Content-MD5.
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
	char sum[48];		/* base64 of an MD5 or a SHA-256 */
	char until[32];
	int64_t lu = 0;
	int r;

	if ((r = s3_full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	if ((r = s3_head(s, fk, NULL, &resp)) < 0)
		goto out;
	if ((r = s3_status(s, "HEAD", fk, &resp)) == 0) {
		r = -EEXIST;
		goto out;
	}
	if (r != -ENOENT)
		goto out;
	if (s->is_locked != 0 && sha256 != NULL) {
		/* The SHA-256 we sign the body with serves as the checksum
		 * S3 asks of a PUT that sets a retention: no MD5 pass over
		 * every pack (16 MiB of MD5 is 25 ms of a core). */
		EVP_EncodeBlock((unsigned char *)sum, sha256, 32);
		h[c.n_h].name = "x-amz-checksum-sha256";
		h[c.n_h++].value = sum;
	} else if (s->is_locked != 0) {
		if ((r = s3_md5_base64(buf, len, sum)) < 0)
			goto out;
		h[c.n_h].name = "Content-MD5";
		h[c.n_h++].value = sum;
	}
	if (s->retention_secs > 0 && s->is_locked != 0) {
		lu = s3_lock_until(s);
		s3_format_time(lu, until, sizeof(until));
		h[c.n_h].name = "x-amz-object-lock-mode";
		h[c.n_h++].value = "COMPLIANCE";
		h[c.n_h].name = "x-amz-object-lock-retain-until-date";
		h[c.n_h++].value = until;
	}
	if (sha256 != NULL) {
		hex_encode(sha256, 32, hex);
		c.body_sha256 = hex;
	}
	c.key = fk;
	if ((r = s3_send(s, &c, &resp)) < 0)
		goto out;
	if ((r = s3_status(s, "PUT", fk, &resp)) == 0 && lu > 0)
		put_note(s, fk, lu);
out:
	http_response_fini(&resp);
	return r;
}

int
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

	if ((r = s3_full_key(s, prefix, fp, sizeof(fp))) < 0)
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
	struct sigv4_param q[2] = { { "retention", "" },
	    { "versionId", version } };
	char body[512];
	int n;

	n = snprintf(body, sizeof(body), "<Retention xmlns=\"http://s3."
	    "amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode>"
	    "<RetainUntilDate>%s</RetainUntilDate></Retention>", until);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -EINVAL;
	return s3_put_xml(s, fk, q, 2, body, "PutObjectRetention");
}

/*
 * Lengthen the lock of ${key} to ${until}, unless it is locked in
 * COMPLIANCE mode until ${need} or later already.  Only the original
 * version is extended: it is the one every read uses (see original());
 * newer versions are overwrites or identical copies.
 */
static int
retain_to(struct s3 *s, const char *key, int64_t need, int64_t until)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct orig o;
	char fk[S3_KEY_MAX + 1];
	char buf[32];
	const char *mode;
	const char *cur;
	int64_t t = 0;
	int r;

	if ((r = s3_full_key(s, key, fk, sizeof(fk))) < 0)
		return r;
	if (put_covers(s, fk, need))
		return 0;
	if ((r = original(s, fk, &o)) < 0)
		return r;
	if ((r = s3_head(s, fk, o.version, &resp)) < 0 ||
	    (r = s3_status(s, "HEAD", fk, &resp)) < 0)
		goto out;
	mode = http_response_header(&resp, "x-amz-object-lock-mode");
	cur = http_response_header(&resp,
	    "x-amz-object-lock-retain-until-date");
	if (mode != NULL && strcmp(mode, "COMPLIANCE") == 0 && cur != NULL &&
	    s3_parse_time(cur, &t) == 0 && t >= need)
		goto out;
	s3_format_time(until, buf, sizeof(buf));
	r = put_retention(s, fk, o.version, buf);
out:
	http_response_fini(&resp);
	return r;
}

static int
s3_protect(struct backend *be, const char *key)
{
	struct s3 *s = s3_of(be);

	if (s->retention_secs == 0 || s->is_locked == 0)
		return 0;
	return retain_to(s, key, (int64_t)time(NULL) +
	    (int64_t)s->retention_secs, s3_lock_until(s));
}

/* As protect, to a date given: at least ${until}. */
static int
s3_retain(struct backend *be, const char *key, int64_t until)
{
	struct s3 *s = s3_of(be);

	if (s->is_locked == 0)
		return 0;
	return retain_to(s, key, until, until);
}

void
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
		idset_fini(&s->put_keys);
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

void
s3_close(struct backend *be)
{
	s3_free(s3_of(be));
}

/* The config's retention replaces the bucket default read at open. */
static void
s3_set_retention(struct backend *be, uint64_t secs)
{
	if (secs > 0)
		s3_of(be)->retention_secs = secs > STORE_RETENTION_MAX ?
		    STORE_RETENTION_MAX : secs;
}

const struct backend_ops s3_ops = {
	s3_put, s3_get, s3_list, s3_stat, s3_versions, s3_protect, s3_close,
	s3_set_retention,
	NULL,	/* willneed: see backend.h */
	NULL,	/* read_into: see backend.h */
	s3_put_hashed,
	NULL,	/* set_immutable: Object Lock does that on S3 */
	NULL,	/* list_keys: a listing gives the sizes anyway */
	NULL,	/* stamp: none */
	s3_retain,
	NULL, NULL, NULL, NULL,	/* put_open and the rest: objects are put
				 * whole, signed with their hash */
};

