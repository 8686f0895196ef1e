/*
 * doctor_s3.c: what `amber doctor` tries on an S3 store (doctor_s3.h).
 * Each step is one attempt a rogue agent holding these credentials could
 * make; a destructive one that succeeds is a finding with is_bad set.
 * The canary is written with a retention of two days (locked three, with
 * the backend's grace period added), so that shortening its retention
 * can be tried; it stays unless the bucket lets the first attempt below
 * delete it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "doctor_s3.h"
#include "s3probe.h"

/* One run: where findings go, and how many were bad. */
struct doctor {
	struct s3probe *p;
	void (*report)(void *ctx, const struct doctor_s3_finding *f);
	void *ctx;
	int *n_bad;
	char fk[S3PROBE_KEY_MAX + 1];	/* the canary's bucket key */
	char version[128];	/* the canary's version id, "" if none */
};

static void
finding(struct doctor *d, const char *what, int is_bad, long status,
    const char *detail)
{
	struct doctor_s3_finding f;

	memset(&f, 0, sizeof(f));
	f.what = what;
	f.is_bad = is_bad;
	f.status = status;
	snprintf(f.detail, sizeof(f.detail), "%s", detail ? detail : "");
	if (is_bad)
		(*d->n_bad)++;
	d->report(d->ctx, &f);
}

static void
time_format(int64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The bucket's Object Lock configuration: on, and COMPLIANCE. */
static int
check_lock(struct doctor *d)
{
	struct s3probe_lock l;
	char detail[256];
	int r;

	r = s3probe_lock(d->p, &l);
	if (r == -EACCES) {
		finding(d, "read the bucket's Object Lock configuration", 0,
		    403, "not allowed: cannot check");
		return 0;
	}
	if (r < 0)
		return r;
	if (!l.is_enabled) {
		finding(d, "bucket has Object Lock", 1, 0, "NO: history can "
		    "be deleted by anyone with write access");
		return 0;
	}
	if (l.mode[0] == 0)
		snprintf(detail, sizeof(detail), "none: an object written "
		    "without lock headers is not protected");
	else
		snprintf(detail, sizeof(detail), "%s, %" PRIu64 " %s", l.mode,
		    l.years ? l.years : l.days, l.years ? "years" : "days");
	finding(d, "bucket default retention is COMPLIANCE",
	    strcmp(l.mode, "COMPLIANCE") != 0, 0, detail);
	return 0;
}

/*
 * The bucket's lifecycle rules (amber-store(5), PRUNING on S3): an
 * Expiration of current versions puts delete markers on kept objects,
 * and the lifecycle rule removes them once their locks end; without a
 * NoncurrentVersionExpiration over the store, amber prune's markers free
 * nothing.
 */
static int
check_lifecycle(struct doctor *d)
{
	struct s3probe_lifecycle l;
	char detail[256];
	int r;

	r = s3probe_lifecycle(d->p, &l);
	if (r == -EACCES) {
		finding(d, "read the bucket's lifecycle configuration", 0,
		    403, "not allowed: cannot check");
		return 0;
	}
	if (r < 0)
		return r;
	if (l.n_expiration > 0)
		snprintf(detail, sizeof(detail), "%u rule(s) reaching the "
		    "store: they put delete markers on kept objects, whose "
		    "versions then go when their locks end", l.n_expiration);
	else
		snprintf(detail, sizeof(detail), "none");
	finding(d, "lifecycle expires current versions", l.n_expiration > 0,
	    0, detail);
	if (l.n_noncurrent > 0)
		snprintf(detail, sizeof(detail), "after %llu day(s)%s",
		    (unsigned long long)l.noncurrent_days,
		    l.has_marker_cleanup ? ", lone markers removed" : "");
	else
		snprintf(detail, sizeof(detail), "NONE over the store: amber "
		    "prune's delete markers free no space (%s)", l.is_set ?
		    "no NoncurrentVersionExpiration rule reaches it" :
		    "no lifecycle configuration");
	finding(d, "lifecycle removes versions under delete markers",
	    l.n_noncurrent == 0, 0, detail);
	return 0;
}

/*
 * Write the canary, with a retention of two days.  Returns 1 when it was
 * written (d->fk and d->version set), 0 when these credentials cannot
 * write, or -errno.
 */
static int
write_canary(struct doctor *d, int64_t now)
{
	struct s3probe_reply a;
	uint8_t canary[64];
	char key[128];
	char detail[256];
	int r;

	snprintf(key, sizeof(key), "doctor/canary-%" PRId64 "-%u", now,
	    (unsigned)getpid());
	if ((r = s3probe_key(d->p, key, d->fk, sizeof(d->fk))) < 0)
		return r;
	memset(canary, 'c', sizeof(canary));
	if (s3probe_put(d->p, key, canary, sizeof(canary), 2) < 0) {
		finding(d, "write a canary object", 0, 0,
		    "refused: these credentials cannot write");
		return 0;
	}
	if ((r = s3probe_request(d->p, "HEAD", d->fk, NULL, NULL, NULL,
	    &a)) < 0)
		return r;
	snprintf(d->version, sizeof(d->version), "%s", a.version);
	snprintf(detail, sizeof(detail), "%.120s (version %.100s)", d->fk,
	    d->version[0] ? d->version : "none");
	finding(d, "write a canary object", 0, a.status, detail);
	return 1;
}

/*
 * One destructive attempt on the canary: ${method} with ${version},
 * ${sub} and ${body} as s3probe_request() takes them.  A 2xx answer is a
 * bad finding, said with ${if_done}; a refusal is fine, said with the S3
 * error code.  *${a} gets the answer.
 */
static int
attempt(struct doctor *d, const char *what, const char *method,
    const char *version, const char *sub, const char *body,
    const char *if_done, struct s3probe_reply *a)
{
	int r;

	if ((r = s3probe_request(d->p, method, d->fk, version, sub, body,
	    a)) < 0)
		return r;
	if (a->status >= 200 && a->status < 300)
		finding(d, what, 1, a->status, if_done);
	else
		finding(d, what, 0, a->status, a->code);
	return 0;
}

/* 1. Delete the canary's version outright. */
static int
try_delete_version(struct doctor *d)
{
	struct s3probe_reply a;

	if (!d->version[0]) {
		finding(d, "bucket keeps versions", 1, 0,
		    "NO: an overwrite or delete destroys the old data");
		return 0;
	}
	return attempt(d, "delete an object version", "DELETE", d->version,
	    NULL, NULL, "SUCCEEDED: these credentials can destroy history",
	    &a);
}

/* 2. Shorten its retention to one hour from now. */
static int
try_shorten(struct doctor *d, int64_t now)
{
	struct s3probe_reply a;
	char shorter[32];
	char body[512];

	time_format(now + 3600, shorter, sizeof(shorter));
	snprintf(body, sizeof(body), "<Retention xmlns=\"http://s3.amazonaws"
	    ".com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>"
	    "%s</RetainUntilDate></Retention>", shorter);
	return attempt(d, "shorten an object's retention", "PUT",
	    d->version[0] ? d->version : NULL, "retention", body,
	    "SUCCEEDED: retention is not COMPLIANCE-locked", &a);
}

/* 3. Hide it behind a delete marker, and take the marker away again. */
static int
try_marker(struct doctor *d)
{
	struct s3probe_reply a;
	struct s3probe_reply ignored;
	int r;

	if ((r = attempt(d, "put a delete marker", "DELETE", NULL, NULL, NULL,
	    "SUCCEEDED: these credentials can hide objects (amber reads "
	    "through delete markers, but grant no s3:DeleteObject to the "
	    "ingesting side)", &a)) < 0)
		return r;
	if (a.status >= 200 && a.status < 300 && a.version[0])
		(void)s3probe_request(d->p, "DELETE", d->fk, a.version, NULL,
		    NULL, &ignored);
	return 0;
}

int
doctor_s3_run(const char *url, const struct store_opts *o,
    void (*report)(void *ctx, const struct doctor_s3_finding *f), void *ctx,
    int *n_bad)
{
	struct doctor d;
	int64_t now = (int64_t)time(NULL);
	int r;

	*n_bad = 0;
	memset(&d, 0, sizeof(d));
	d.report = report;
	d.ctx = ctx;
	d.n_bad = n_bad;
	if ((r = s3probe_open(url, o, &d.p)) < 0)
		return r;
	if ((r = check_lock(&d)) < 0 || (r = check_lifecycle(&d)) < 0 ||
	    (r = write_canary(&d, now)) <= 0)
		goto out;
	if ((r = try_delete_version(&d)) < 0 || (r = try_shorten(&d,
	    now)) < 0 || (r = try_marker(&d)) < 0)
		goto out;
	r = 0;
out:
	s3probe_close(d.p);
	return r;
}
