/*
 * s3lc.c: a bucket's lifecycle configuration (the answer to GET
 * ?lifecycle), summed up for `amber doctor` as what it does to a store's
 * prefix (s3probe.h; amber-store(5), PRUNING on S3).  The XML comes from
 * the network: it goes through s3xml_parse() (bounded), and only counts
 * and the smallest day numbers are kept.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "s3probe.h"
#include "s3xml.h"

/* One rule being read. */
struct lc_rule {
	char prefix[S3XML_TEXT_MAX];
	int is_enabled;
	int has_tag;		/* a tag filter: amber's objects carry none */
	int has_expiration;	/* Expiration Days or Date */
	int has_marker_cleanup;	/* ExpiredObjectDeleteMarker true */
	int has_noncurrent;
	uint64_t noncurrent_days;
};

struct lc_ctx {
	const char *prefix;	/* the store's, in the bucket */
	struct lc_rule r;
	struct s3probe_lifecycle *out;
};

static int
days_parse(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > UINT64_MAX / 10 - 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return 0;
}

/* Does a rule with ${rp} reach keys under ${sp}: either is a prefix of
 * the other. */
static int
overlaps(const char *rp, const char *sp)
{
	size_t a = strlen(rp);
	size_t b = strlen(sp);

	return strncmp(rp, sp, a < b ? a : b) == 0;
}

static void
rule_done(struct lc_ctx *c)
{
	struct lc_rule *r = &c->r;
	struct s3probe_lifecycle *o = c->out;

	o->n_rules++;
	if (r->is_enabled && !r->has_tag && overlaps(r->prefix, c->prefix)) {
		if (r->has_expiration)
			o->n_expiration++;
		if (r->has_marker_cleanup)
			o->has_marker_cleanup = 1;
		/* Noncurrent expiry must reach the whole store. */
		if (r->has_noncurrent &&
		    strncmp(r->prefix, c->prefix, strlen(r->prefix)) == 0 &&
		    (o->n_noncurrent++ == 0 ||
		    r->noncurrent_days < o->noncurrent_days))
			o->noncurrent_days = r->noncurrent_days;
	}
	memset(r, 0, sizeof(*r));
}

static int
lc_visit(void *ctx, const char *path, const char *text)
{
	struct lc_ctx *c = ctx;
	struct lc_rule *r = &c->r;
	const char *p;
	uint64_t v;

	if (strncmp(path, "LifecycleConfiguration/Rule", 27) != 0)
		return 0;
	p = path + 27;
	if (*p == '\0') {
		rule_done(c);
		return 0;
	}
	if (strcmp(p, "/Status") == 0)
		r->is_enabled = strcmp(text, "Enabled") == 0;
	else if (strcmp(p, "/Prefix") == 0 || strcmp(p, "/Filter/Prefix") == 0 ||
	    strcmp(p, "/Filter/And/Prefix") == 0)
		snprintf(r->prefix, sizeof(r->prefix), "%s", text);
	else if (strncmp(p, "/Filter/Tag/", 12) == 0 ||
	    strncmp(p, "/Filter/And/Tag/", 16) == 0)
		r->has_tag = 1;
	else if (strcmp(p, "/Expiration/Days") == 0 ||
	    strcmp(p, "/Expiration/Date") == 0)
		r->has_expiration = 1;
	else if (strcmp(p, "/Expiration/ExpiredObjectDeleteMarker") == 0)
		r->has_marker_cleanup = strcmp(text, "true") == 0;
	else if (strcmp(p, "/NoncurrentVersionExpiration/NoncurrentDays") ==
	    0) {
		if (days_parse(text, &v) < 0)
			return -EBADMSG;
		r->has_noncurrent = 1;
		r->noncurrent_days = v;
	}
	return 0;
}

int
s3probe_lifecycle_parse(const uint8_t *buf, size_t len, const char *prefix,
    struct s3probe_lifecycle *out)
{
	struct lc_ctx c;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.prefix = prefix;
	c.out = out;
	if ((r = s3xml_parse(buf, len, lc_visit, &c)) < 0) {
		memset(out, 0, sizeof(*out));
		return r == -ENOMEM ? r : -EBADMSG;
	}
	out->is_set = 1;
	return 0;
}
