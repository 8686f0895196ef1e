/*
 * s3probe.c: the raw S3 requests of s3probe.h, over the backend's own
 * opening, signing and sending (s3i.h), so that `amber doctor` tries its
 * attacks with exactly the requests and credentials amber uses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "s3i.h"
#include "s3probe.h"

struct s3probe {
	struct backend *be;
	int is_lock_enabled;	/* from the last s3probe_lock() */
};

int
s3probe_open(const char *url, const struct store_opts *o,
    struct s3probe **out)
{
	struct backend_opts bo;
	struct s3probe *p;
	int r;

	memset(&bo, 0, sizeof(bo));
	if (o != NULL)
		bo.s3 = o->s3;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	if ((r = s3_open(url, &bo, 0, &p->be)) < 0) {
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

void
s3probe_close(struct s3probe *p)
{
	if (p == NULL)
		return;
	s3_close(p->be);
	free(p);
}

int
s3probe_lock(struct s3probe *p, struct s3probe_lock *out)
{
	struct lock_xml l;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = s3_read_lock(s3_of(p->be), &l)) < 0)
		return r;
	out->is_enabled = l.is_enabled;
	snprintf(out->mode, sizeof(out->mode), "%s", l.mode);
	out->days = l.days;
	out->years = l.years;
	p->is_lock_enabled = l.is_enabled;
	return 0;
}

int
s3probe_key(const struct s3probe *p, const char *key, char *out,
    size_t cap)
{
	return s3_full_key(s3_of(p->be), key, out, cap);
}

int
s3probe_put(struct s3probe *p, const char *key, const uint8_t *buf,
    size_t len, uint32_t days)
{
	struct s3 *s = s3_of(p->be);

	s->retention_secs = (uint64_t)days * 86400;
	if (p->is_lock_enabled)
		s->is_locked = 1;
	return s3_put(p->be, key, buf, len);
}

int
s3probe_request(struct s3probe *p, const char *method, const char *fk,
    const char *version, const char *sub, const char *body,
    struct s3probe_reply *out)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param q[2];
	struct sigv4_param h[1];
	struct s3_call c = { method, fk, q, 0, NULL, 0, NULL, 0, 0, NULL };
	struct err_xml e;
	const char *v;
	char md5[32];
	int r;

	memset(out, 0, sizeof(*out));
	if (sub != NULL) {
		q[c.n_q].name = sub;
		q[c.n_q++].value = "";
	}
	if (version != NULL) {
		q[c.n_q].name = "versionId";
		q[c.n_q++].value = version;
	}
	if (body != NULL && (r = s3_call_xml(&c, body, h, md5)) < 0)
		return r;
	if ((r = s3_send(s3_of(p->be), &c, &resp)) < 0)
		return r;
	out->status = resp.status;
	s3_err_parse(&resp, &e);
	snprintf(out->code, sizeof(out->code), "%s", e.code);
	v = http_response_header(&resp, "x-amz-version-id");
	snprintf(out->version, sizeof(out->version), "%s", v ? v : "");
	http_response_fini(&resp);
	return 0;
}

int
s3probe_lifecycle(struct s3probe *p, struct s3probe_lifecycle *out)
{
	struct s3 *s = s3_of(p->be);
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct sigv4_param q[1] = { { "lifecycle", "" } };
	struct s3_call c = { "GET", NULL, q, 1, NULL, 0, NULL, 0, 0, NULL };
	struct err_xml e;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = s3_send(s, &c, &resp)) < 0)
		goto out;
	if (resp.status == 404) {
		s3_err_parse(&resp, &e);
		if (strcmp(e.code, "NoSuchLifecycleConfiguration") == 0)
			goto out;	/* none: r is 0 */
	}
	if (resp.status == 403) {
		r = -EACCES;
		goto out;
	}
	if ((r = s3_status(s, "GetBucketLifecycleConfiguration", NULL,
	    &resp)) < 0)
		goto out;
	if ((r = s3probe_lifecycle_parse(resp.body, resp.body_len, s->prefix,
	    out)) == -EBADMSG)
		r = log_err(-EBADMSG, "%s: malformed lifecycle configuration",
		    s->be.location);
out:
	http_response_fini(&resp);
	return r;
}
