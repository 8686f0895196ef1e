/*
 * doctor_s3.h: the checks of `amber doctor` on an S3 store, over the raw
 * requests of s3probe.h.  cmd_doctor.c parses the arguments and prints.
 */
#ifndef DOCTOR_S3_H
#define DOCTOR_S3_H

#include "store.h"

/* One finding of doctor_s3_run(). */
struct doctor_s3_finding {
	const char *what;	/* the attempt ("delete an object version") */
	int is_bad;		/* 1: a destructive attempt succeeded */
	long status;		/* the HTTP status it got, 0 if none */
	char detail[256];	/* the S3 error code, or an explanation */
};

/*
 * doctor_s3_run(url, o, report, ctx, n_bad):
 * Find out what the credentials in use (o->s3_credentials or the
 * environment, as store_open() would take them) can do to the store at
 * ${url} (s3://BUCKET/PREFIX): check that the bucket has Object Lock and
 * a COMPLIANCE default; write a canary object PREFIX/doctor/canary-*
 * locked in COMPLIANCE mode for three days; then try to delete its
 * version, to shorten its retention and to hide it behind a delete
 * marker (a marker that could be put is removed again).  Calls
 * ${report} once per finding; *${n_bad} counts those with is_bad set.
 * Returns 0 when the probe ran (whatever it found), -ENOENT if there is
 * no such bucket, -EACCES without credentials, -EIO if the endpoint
 * cannot be reached, -EINVAL for a malformed URL.
 */
int doctor_s3_run(const char *url, const struct store_opts *o,
    void (*report)(void *ctx, const struct doctor_s3_finding *f), void *ctx,
    int *n_bad);

#endif
