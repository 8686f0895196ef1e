/*
 * s3open.c: opening the S3 backend: the bucket and prefix from the URL,
 * the credentials (a file only its owner can read, or the environment),
 * the endpoint (plain http only on loopback unless asked), and the
 * bucket's Object Lock configuration, which a new store requires in
 * COMPLIANCE mode.
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
#include "store.h"

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
	s->bucket = s3_dup_n(b, slash ? (size_t)(slash - b) : strlen(b));
	if (s->bucket == NULL)
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
			(void)s3_parse_u64(text, &l->days);
		else if (strcmp(path, "Years") == 0)
			(void)s3_parse_u64(text, &l->years);
	}
	return 0;
}

/*
 * GET ?object-lock: sets s->is_locked and *${l}.  Returns -ENOENT (logged)
 * if the bucket does not exist, -EACCES if we may not ask.
 */
int
s3_read_lock(struct s3 *s, struct lock_xml *l)
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
		s3_err_parse(&resp, &e);
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
		s3_err_parse(&resp, &e);
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
	struct sigv4_param q[1] = { { "object-lock", "" } };
	char body[512];
	int n;

	n = snprintf(body, sizeof(body), "<ObjectLockConfiguration xmlns="
	    "\"http://s3.amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>"
	    "Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>"
	    "COMPLIANCE</Mode><Days>%" PRIu32 "</Days></DefaultRetention>"
	    "</Rule></ObjectLockConfiguration>", days);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -EINVAL;
	return s3_put_xml(s, NULL, q, 1, body, "PutObjectLockConfiguration");
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
	uint64_t want;
	int is_any = 0;
	int r;

	r = s3_read_lock(s, &l);
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
		s->retention_secs = 0;
	} else if (s->retention_secs > 0) {
		/* The default rule counts whole days: the retention rounded
		 * up (objects amber writes carry their own retain-until). */
		want = (s->retention_secs + 86399) / 86400;
		have = l.years ? l.years * 365 : l.days;
		if (strcmp(l.mode, "COMPLIANCE") != 0 || have < want) {
			if ((r = set_default_retention(s, (uint32_t)want)) < 0)
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
	if ((r = load_creds(s, o ? o->s3.credentials : NULL)) < 0)
		goto out;
	ep = o && o->s3.endpoint && *o->s3.endpoint ? o->s3.endpoint :
	    getenv("AMBER_S3_ENDPOINT");
	is_virtual = o ? o->s3.is_virtual_host : 0;
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
	    o ? o->s3.is_insecure_http : 0)) < 0)
		goto out;
	s->retention_secs = o ? o->retention_secs : 0;
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
	    s3_parse_u64(knob, &v) == 0 && v <= 20)
		ho.max_retries = v == 0 ? -1 : (int)v;
	s->page_keys = 1000;
	if ((knob = getenv("AMBER_S3_PAGE_KEYS")) != NULL &&
	    s3_parse_u64(knob, &v) == 0 && v >= 1 && v <= 1000)
		s->page_keys = (size_t)v;
	if ((r = http_client_new(&ho, &s->http)) < 0)
		goto out;
	if (create) {
		if ((r = s3_create_checks(s, o)) < 0)
			goto out;
	} else {
		r = s3_read_lock(s, &l);
		if (r == -ENOENT || r == -EIO || r == -ENOMEM ||
		    s->is_bad_creds)
			goto out;
		/*
		 * store_open() opens the backend before it can read the
		 * store's retention from the config.  Until it is told, take
		 * the bucket's COMPLIANCE default rule, which create set from
		 * that very retention (or found longer).
		 */
		if (r == 0 && s->retention_secs == 0 && s->is_locked == 1 &&
		    strcmp(l.mode, "COMPLIANCE") == 0) {
			uint64_t d = l.years ? l.years * 365 : l.days;

			s->retention_secs = d > 36500 ? STORE_RETENTION_MAX :
			    d * 86400;
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

