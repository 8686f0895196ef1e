/*
 * s3i.h: the S3 backend's internals, shared by its files and by no one
 * else: s3.c (the backend operations), s3req.c (signing, sending and
 * reading answers; listing versions), s3open.c (credentials, endpoint,
 * Object Lock configuration, opening) and s3probe.c (the raw requests
 * behind `amber doctor`, published in s3probe.h).
 */
#ifndef S3I_H
#define S3I_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "http.h"
#include "idset.h"
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
	uint64_t retention_secs;
	int is_locked;		/* 1 yes, 0 no, -1 unknown (no right to ask) */
	size_t page_keys;	/* max-keys of a listing page */
	int is_bad_creds;	/* the server said the credentials are wrong */
	pthread_mutex_t cache_lock;
	struct orig_slot *cache;	/* S3_CACHE_SLOTS; see original() */
	/* Under cache_lock: the SHA-256 of each key this process put with
	 * a lock, and the earliest retain-until it set (see s3_protect()). */
	struct idset put_keys;
	int64_t put_until_min;
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

struct err_xml {
	char code[128];
	char message[256];
};

struct lock_xml {
	int is_enabled;
	char mode[32];
	uint64_t days;
	uint64_t years;
};

extern const struct backend_ops s3_ops;

static inline struct s3 *
s3_of(struct backend *be)
{
	return (struct s3 *)be;
}

/* s3req.c */
char *s3_dup_n(const char *s, size_t n);
int s3_parse_time(const char *s, int64_t *out);
void s3_format_time(int64_t t, char *buf, size_t cap);
int s3_parse_u64(const char *s, uint64_t *out);
int s3_md5_base64(const uint8_t *buf, size_t len, char out[32]);
int s3_full_key(const struct s3 *s, const char *key, char *out, size_t cap);
int s3_send(struct s3 *s, const struct s3_call *c,
    struct http_response *resp);
void s3_err_parse(const struct http_response *resp, struct err_xml *e);
int s3_status(struct s3 *s, const char *op, const char *key,
    const struct http_response *resp);
/*
 * s3_call_xml(c, body, h, md5): give the call ${c} the XML ${body} and
 * its Content-MD5, which S3 requires on lock calls, as its one extra
 * header ${h}[0], whose value is kept in ${md5}.  Returns 0, or -EIO.
 */
int s3_call_xml(struct s3_call *c, const char *body, struct sigv4_param *h,
    char md5[32]);

/*
 * s3_put_xml(s, fk, q, n_q, body, op): PUT the XML ${body} on the bucket
 * key ${fk} (NULL: the bucket) with the query ${q} (s3_call_xml()).
 * Returns s3_status() of the answer for the operation ${op}, or -EIO,
 * -ENOMEM.
 */
int s3_put_xml(struct s3 *s, const char *fk, const struct sigv4_param *q,
    size_t n_q, const char *body, const char *op);
int s3_list_versions(struct s3 *s, const char *prefix, size_t max_keys,
    int (*fn)(void *ctx, const struct s3_entry *e), void *ctx);

/* s3.c */
int64_t s3_lock_until(const struct s3 *s);
int s3_put(struct backend *be, const char *key, const uint8_t *buf,
    size_t len);
void s3_free(struct s3 *s);
void s3_close(struct backend *be);

/* s3open.c */
int s3_read_lock(struct s3 *s, struct lock_xml *l);

#endif
