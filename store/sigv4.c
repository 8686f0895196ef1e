/*
 * sigv4.c: AWS Signature Version 4 (see sigv4.h).  The algorithm, as
 * AWS documents it: a canonical request (method, encoded path, sorted
 * encoded query, sorted lower-case headers with trimmed values, the list
 * of signed header names, the payload hash) is hashed into a string to
 * sign together with the time and the scope (date/region/service/
 * aws4_request); the signing key is an HMAC-SHA-256 chain from "AWS4" +
 * secret over date, region, service and "aws4_request".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "hex.h"
#include "http.h"
#include "sigv4.h"

#define SIGV4_HEADERS_MAX 32
#define SIGV4_NAME_MAX 64
#define SIGV4_VALUE_MAX 16384	/* session tokens can be long */
#define SIGV4_CANON_MAX 65536

void
sigv4_date(time_t t, char out[SIGV4_DATE_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, SIGV4_DATE_LEN, "%Y%m%dT%H%M%SZ", &tm);
}

void
sigv4_sha256_hex(const uint8_t *buf, size_t len, char out[SIGV4_HEX_LEN])
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	SHA256(buf, len, md);
	hex_encode(md, sizeof(md), out);
}

struct qpair {
	char *name;
	char *value;
};

static int
qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a;
	const struct qpair *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->value, y->value);
}

static char *
encode_dup(const char *s)
{
	size_t cap = strlen(s) * 3 + 1;
	char *d;

	if ((d = malloc(cap)) == NULL)
		return NULL;
	if (http_url_encode(s, strlen(s), 0, d, cap) < 0) {
		free(d);
		return NULL;
	}
	return d;
}

int
sigv4_query(const struct sigv4_param *p, size_t n, char *out, size_t cap)
{
	struct qpair *q = NULL;
	size_t used = 0;
	size_t i;
	int r = -ENOMEM;

	if (cap == 0)
		return -ERANGE;
	out[0] = 0;
	if (n == 0)
		return 0;
	if ((q = calloc(n, sizeof(*q))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		q[i].name = encode_dup(p[i].name);
		q[i].value = encode_dup(p[i].value ? p[i].value : "");
		if (q[i].name == NULL || q[i].value == NULL)
			goto out;
	}
	qsort(q, n, sizeof(*q), qpair_cmp);
	for (i = 0; i < n; i++) {
		int k = snprintf(out + used, cap - used, "%s%s=%s",
		    i ? "&" : "", q[i].name, q[i].value);

		if (k < 0 || (size_t)k >= cap - used) {
			r = -ERANGE;
			goto out;
		}
		used += (size_t)k;
	}
	r = 0;
out:
	for (i = 0; i < n; i++) {
		free(q[i].name);
		free(q[i].value);
	}
	free(q);
	return r;
}

struct hdr {
	char name[SIGV4_NAME_MAX];
	char *value;		/* malloc'd */
};

static int
hdr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hdr *)a)->name,
	    ((const struct hdr *)b)->name);
}

/* Lower-case the name; trim the value and squeeze runs of blanks. */
static int
hdr_set(struct hdr *d, const char *name, const char *value)
{
	size_t i;
	size_t o = 0;
	size_t vl = strlen(value);
	int is_blank = 0;

	if (strlen(name) >= SIGV4_NAME_MAX || name[0] == 0 ||
	    vl >= SIGV4_VALUE_MAX)
		return -ERANGE;
	if ((d->value = malloc(vl + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; name[i]; i++)
		d->name[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	d->name[i] = 0;
	while (*value == ' ' || *value == '\t')
		value++;
	for (i = 0; value[i]; i++) {
		if (value[i] == ' ' || value[i] == '\t') {
			is_blank = 1;
			continue;
		}
		if (is_blank) {
			d->value[o++] = ' ';
			is_blank = 0;
		}
		d->value[o++] = value[i];
	}
	d->value[o] = 0;
	return 0;
}

/*
 * Sorted canonical headers (host first among equals) into ${hs}, and the
 * signed-header list into ${signed_list}.
 */
static int
canonical_headers(const char *host, const struct sigv4_param *h, size_t n,
    struct hdr *hs, size_t *nh, char *signed_list, size_t cap)
{
	size_t used = 0;
	size_t i;
	int r;

	if (n + 1 > SIGV4_HEADERS_MAX)
		return -ERANGE;
	if ((r = hdr_set(&hs[0], "host", host)) < 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = hdr_set(&hs[i + 1], h[i].name, h[i].value)) < 0)
			return r;
	*nh = n + 1;
	qsort(hs, *nh, sizeof(*hs), hdr_cmp);
	for (i = 0; i < *nh; i++) {
		size_t len = strlen(hs[i].name);

		if (i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0)
			return -EINVAL;
		if (used + len + 2 > cap)
			return -ERANGE;
		if (i > 0)
			signed_list[used++] = ';';
		memcpy(signed_list + used, hs[i].name, len);
		used += len;
	}
	signed_list[used] = 0;
	return 0;
}

static int
canonical(const char *method, const char *host, const char *path,
    const char *query, const struct sigv4_param *h, size_t n,
    const char *payload_hash, char *out, size_t cap, char *signed_list,
    size_t slcap)
{
	struct hdr *hs;
	size_t nh = 0;
	size_t used;
	size_t i;
	int k;
	int r;

	if ((hs = calloc(SIGV4_HEADERS_MAX, sizeof(*hs))) == NULL)
		return -ENOMEM;
	if ((r = canonical_headers(host, h, n, hs, &nh, signed_list,
	    slcap)) < 0)
		goto out;
	k = snprintf(out, cap, "%s\n%s\n%s\n", method, path,
	    query ? query : "");
	if (k < 0 || (size_t)k >= cap) {
		r = -ERANGE;
		goto out;
	}
	used = (size_t)k;
	for (i = 0; i < nh; i++) {
		k = snprintf(out + used, cap - used, "%s:%s\n", hs[i].name,
		    hs[i].value);
		if (k < 0 || (size_t)k >= cap - used) {
			r = -ERANGE;
			goto out;
		}
		used += (size_t)k;
	}
	k = snprintf(out + used, cap - used, "\n%s\n%s", signed_list,
	    payload_hash);
	if (k < 0 || (size_t)k >= cap - used) {
		r = -ERANGE;
		goto out;
	}
	r = 0;
out:
	for (i = 0; i < SIGV4_HEADERS_MAX; i++)
		free(hs[i].value);
	free(hs);
	return r;
}

int
sigv4_canonical(const char *method, const char *host, const char *path,
    const char *query, const struct sigv4_param *h, size_t n,
    const char *payload_hash, char *out, size_t cap)
{
	char signed_list[SIGV4_HEADERS_MAX * SIGV4_NAME_MAX];

	return canonical(method, host, path, query, h, n, payload_hash, out,
	    cap, signed_list, sizeof(signed_list));
}

static int
hmac(const uint8_t *key, size_t klen, const char *msg,
    uint8_t out[SHA256_DIGEST_LENGTH])
{
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), key, (int)klen, (const uint8_t *)msg,
	    strlen(msg), out, &len) == NULL || len != SHA256_DIGEST_LENGTH)
		return -EIO;
	return 0;
}

int
sigv4_sign(const struct sigv4_creds *c, const char *region,
    const char *service, const char *date, const char *method,
    const char *host, const char *path, const char *query,
    const struct sigv4_param *h, size_t n, const char *payload_hash,
    char *auth, size_t cap)
{
	char signed_list[SIGV4_HEADERS_MAX * SIGV4_NAME_MAX];
	char scope[256];
	char day[9];
	char creq_hash[SIGV4_HEX_LEN];
	char sts[512];
	char sig[SIGV4_HEX_LEN];
	char *creq = NULL;
	char *kbuf = NULL;
	uint8_t k[SHA256_DIGEST_LENGTH];
	uint8_t k2[SHA256_DIGEST_LENGTH];
	uint8_t md[SHA256_DIGEST_LENGTH];
	size_t klen;
	int len;
	int r;

	if (strlen(date) != SIGV4_DATE_LEN - 1 || date[8] != 'T')
		return -EINVAL;
	memcpy(day, date, 8);
	day[8] = 0;
	len = snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", day,
	    region, service);
	if (len < 0 || (size_t)len >= sizeof(scope))
		return -ERANGE;
	if ((creq = malloc(SIGV4_CANON_MAX)) == NULL)
		return -ENOMEM;
	if ((r = canonical(method, host, path, query, h, n, payload_hash,
	    creq, SIGV4_CANON_MAX, signed_list, sizeof(signed_list))) < 0)
		goto out;
	sigv4_sha256_hex((const uint8_t *)creq, strlen(creq), creq_hash);
	len = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", date,
	    scope, creq_hash);
	if (len < 0 || (size_t)len >= sizeof(sts)) {
		r = -ERANGE;
		goto out;
	}
	klen = strlen(c->secret_key) + 4;
	if ((kbuf = malloc(klen + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(kbuf, klen + 1, "AWS4%s", c->secret_key);
	if ((r = hmac((const uint8_t *)kbuf, klen, day, k)) < 0 ||
	    (r = hmac(k, sizeof(k), region, k2)) < 0 ||
	    (r = hmac(k2, sizeof(k2), service, k)) < 0 ||
	    (r = hmac(k, sizeof(k), "aws4_request", k2)) < 0 ||
	    (r = hmac(k2, sizeof(k2), sts, md)) < 0)
		goto out;
	hex_encode(md, sizeof(md), sig);
	len = snprintf(auth, cap,
	    "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
	    "Signature=%s", c->access_key, scope, signed_list, sig);
	if (len < 0 || (size_t)len >= cap) {
		r = -ERANGE;
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(k2, sizeof(k2));
	if (kbuf != NULL) {
		OPENSSL_cleanse(kbuf, strlen(kbuf));
		free(kbuf);
	}
	free(creq);
	return r;
}
