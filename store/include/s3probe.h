/*
 * s3probe.h: raw requests to an S3 store, for `amber doctor`, which
 * tries what a rogue agent would (delete a version, shorten a retention,
 * hide an object) to tell the user what the credentials in use can do.
 * Everything else goes through store.h; this is the only part of the S3
 * backend that tools/ sees.  Not safe for concurrent use of one probe.
 */
#ifndef S3PROBE_H
#define S3PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define S3PROBE_KEY_MAX 1024	/* S3's own limit on a key, in bytes */

struct s3probe;

/* The bucket's Object Lock configuration. */
struct s3probe_lock {
	int is_enabled;		/* ObjectLockEnabled */
	char mode[32];		/* default retention mode, "" if none */
	uint64_t days;		/* default retention, in days or years */
	uint64_t years;
};

/* What one request got back. */
struct s3probe_reply {
	long status;		/* the HTTP status */
	char code[128];		/* the S3 error code, "" if none */
	char version[128];	/* x-amz-version-id, "" if none */
};

/*
 * s3probe_open(url, o, out):
 * Open the S3 store at ${url} (s3://BUCKET/PREFIX) with the credentials
 * and endpoint of ${o} (or the environment), as store_open() would.
 * Returns 0 and a probe the caller must s3probe_close(); -ENOENT if there
 * is no such bucket, -EACCES without credentials, -EIO if the endpoint
 * cannot be reached, -EINVAL for a malformed URL (each logged).
 */
int s3probe_open(const char *url, const struct store_opts *o,
    struct s3probe **out);

/* s3probe_close(p): release ${p}; NULL is accepted. */
void s3probe_close(struct s3probe *p);

/*
 * s3probe_lock(p, out):
 * Read the bucket's Object Lock configuration into *${out}.  Returns 0;
 * -EACCES if these credentials may not ask; -ENOENT, -EIO (logged).
 */
int s3probe_lock(struct s3probe *p, struct s3probe_lock *out);

/* What a bucket's lifecycle configuration does to a store's prefix. */
struct s3probe_lifecycle {
	int is_set;		/* the bucket has a lifecycle configuration */
	unsigned n_rules;	/* rules in it, all of them */
	/* Enabled rules without a tag filter that reach the store: */
	unsigned n_expiration;	/* Expiration of current versions (Days or
				 * Date): delete markers on locked objects */
	unsigned n_noncurrent;	/* NoncurrentVersionExpiration over all of
				 * the store */
	uint64_t noncurrent_days;	/* the smallest NoncurrentDays */
	int has_marker_cleanup;	/* ExpiredObjectDeleteMarker true */
};

/*
 * s3probe_lifecycle_parse(buf, len, prefix, out):
 * Sum up the lifecycle configuration XML ${buf} for the store whose keys
 * start with ${prefix} in the bucket.  Returns 0, -EBADMSG if malformed,
 * -ENOMEM.
 */
int s3probe_lifecycle_parse(const uint8_t *buf, size_t len,
    const char *prefix, struct s3probe_lifecycle *out);

/*
 * s3probe_lifecycle(p, out):
 * Read the bucket's lifecycle configuration (GET ?lifecycle) and sum it
 * up for this store; none is is_set 0.  Returns 0; -EACCES if these
 * credentials may not read it (s3:GetLifecycleConfiguration); -EBADMSG,
 * -EIO (logged).
 */
int s3probe_lifecycle(struct s3probe *p, struct s3probe_lifecycle *out);

/*
 * s3probe_key(p, key, out, cap):
 * The object key in the bucket for the store key ${key} (PREFIX/key),
 * into ${out}.  Returns 0, or -EINVAL (logged) if it does not fit.
 */
int s3probe_key(const struct s3probe *p, const char *key, char *out,
    size_t cap);

/*
 * s3probe_put(p, key, buf, len, days):
 * Write ${buf} as the store key ${key} as the store would (refused if it
 * exists), locked in COMPLIANCE mode for a retention of ${days} days
 * (plus the backend's grace period, a quarter of it and at least a day)
 * when the bucket has Object Lock.  Returns 0 or -errno as the backend's put.
 */
int s3probe_put(struct s3probe *p, const char *key, const uint8_t *buf,
    size_t len, uint32_t days);

/*
 * s3probe_request(p, method, fk, version, sub, body, out):
 * Send one signed request ${method} on the bucket key ${fk} (from
 * s3probe_key()), with ?versionId=${version} and the sub-resource ?${sub}
 * when not NULL, and ${body} (with its Content-MD5) when not NULL.
 * Returns 0 when an answer came, whatever its status (in *${out}); -EIO
 * (logged) when none did; -ENOMEM.
 */
int s3probe_request(struct s3probe *p, const char *method, const char *fk,
    const char *version, const char *sub, const char *body,
    struct s3probe_reply *out);

#endif
