/*
 * policy.c: the store's retention policy (amber-store(5), POLICIES): the
 * signed policies/<hex> objects, which one counts, and the pure rule
 * that says, for a list of snapshots, which the policy keeps and why.
 *
 * A policy object is signed by the master (Ed25519, the key whose public
 * half is in the config), so anyone can check it and only a passphrase
 * holder can make one.  The newest by signed time counts: W1 and W2 can
 * add objects but cannot sign, and an old policy cannot be added again
 * (its name is its hash and is taken), so nobody without the passphrase
 * can change which policy counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypt.h"
#include "log.h"
#include "rd.h"
#include "storei.h"

#define POL_MAGIC "AMBRPOL1"
#define POL_BODY_LEN (8 + STORE_ID_LEN + 8 + 8 + 6 * 4)
#define POL_LEN (POL_BODY_LEN + CRYPT_SIG_LEN)

static void
pol_encode(const uint8_t store_id[STORE_ID_LEN],
    const struct store_policy *p, uint8_t out[POL_BODY_LEN])
{
	uint8_t *q = out;

	memcpy(q, POL_MAGIC, 8);
	q += 8;
	memcpy(q, store_id, STORE_ID_LEN);
	q += STORE_ID_LEN;
	le_put(q, (uint64_t)p->time, 8);
	q += 8;
	le_put(q, p->within, 8);
	q += 8;
	le_put(q, p->last, 4);
	le_put(q + 4, p->hourly, 4);
	le_put(q + 8, p->daily, 4);
	le_put(q + 12, p->weekly, 4);
	le_put(q + 16, p->monthly, 4);
	le_put(q + 20, p->yearly, 4);
}

/*
 * Check and decode one policy object: -EBADMSG unless it is exactly
 * POL_LEN bytes, of this store, signed by the master.
 */
static int
pol_decode(const struct store *s, const uint8_t *buf, size_t len,
    struct store_policy *p)
{
	struct rd rd = rd_init(buf, len);
	const uint8_t *b;

	if (len != POL_LEN || memcmp(buf, POL_MAGIC, 8) != 0 ||
	    memcmp(buf + 8, s->cfg.store_id, STORE_ID_LEN) != 0)
		return -EBADMSG;
	if (crypt_ed25519_verify(s->cfg.sign_pub, buf, POL_BODY_LEN,
	    buf + POL_BODY_LEN) < 0)
		return -EBADMSG;
	memset(p, 0, sizeof(*p));
	if (rd_bytes(&rd, 8 + STORE_ID_LEN, &b) < 0 ||
	    rd_bytes(&rd, 8 + 8 + 24, &b) < 0)
		return -EBADMSG;
	p->time = (int64_t)le_get(b, 8);
	p->within = le_get(b + 8, 8);
	p->last = (uint32_t)le_get(b + 16, 4);
	p->hourly = (uint32_t)le_get(b + 20, 4);
	p->daily = (uint32_t)le_get(b + 24, 4);
	p->weekly = (uint32_t)le_get(b + 28, 4);
	p->monthly = (uint32_t)le_get(b + 32, 4);
	p->yearly = (uint32_t)le_get(b + 36, 4);
	if (p->within > STORE_POLICY_WITHIN_MAX)
		return -EBADMSG;
	return 0;
}

struct pol_scan {
	struct store *s;
	struct store_policy best;
	int has_best;
	int r;
};

static int
pol_scan_one(void *ctx, const char *key, uint64_t size)
{
	struct pol_scan *sc = ctx;
	struct store_policy p;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = store_object_read_listed(sc->s, key, size, &buf, &len);
	if (r == -ENOMEM || r == -EIO) {
		sc->r = r;
		free(buf);
		return r;
	}
	if (r < 0 || pol_decode(sc->s, buf, len, &p) < 0) {
		log_warn("%s: not a policy signed by this store's master; "
		    "ignored", key);
		free(buf);
		return 0;
	}
	free(buf);
	snprintf(p.object, sizeof(p.object), "%s", key);
	/* Newest by signed time; of two of one second, the greater name,
	 * so that every reader picks the same one whatever the listing. */
	if (!sc->has_best || p.time > sc->best.time ||
	    (p.time == sc->best.time &&
	    strcmp(p.object, sc->best.object) > 0)) {
		sc->best = p;
		sc->has_best = 1;
	}
	return 0;
}

int
store_policy_get(struct store *s, struct store_policy *out)
{
	struct pol_scan sc;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	r = s->be->ops->list(s->be, "policies/", pol_scan_one, &sc);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		return sc.r < 0 ? sc.r : r;
	if (!sc.has_best)
		return -ENOENT;
	*out = sc.best;
	return 0;
}

int
store_policy_set(struct store *s, const struct store_policy *p,
    char *object, size_t cap)
{
	struct store_policy cur;
	struct store_policy np;
	uint8_t obj[POL_LEN];
	uint8_t h[CRYPT_HASH_LEN];
	char hex[2 * CRYPT_HASH_LEN + 1];
	char key[16 + sizeof(hex)];
	int r;

	if (!s->kr.has_master)
		return -EACCES;
	if (p->within > STORE_POLICY_WITHIN_MAX)
		return -EINVAL;
	np = *p;
	np.time = (int64_t)time(NULL);
	/* The newest counts: a clock behind the last policy's must not
	 * make the new one lose. */
	r = store_policy_get(s, &cur);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && cur.time >= np.time)
		np.time = cur.time + 1;
	pol_encode(s->cfg.store_id, &np, obj);
	if ((r = crypt_ed25519_sign(s->kr.sign_seed, obj, POL_BODY_LEN,
	    obj + POL_BODY_LEN)) < 0)
		return r;
	crypt_sha256(obj, sizeof(obj), h);
	log_hex(h, sizeof(h), hex);
	snprintf(key, sizeof(key), "policies/%s", hex);
	if ((r = backend_put(s->be, key, obj, sizeof(obj), h)) < 0)
		return r;
	if (object != NULL)
		snprintf(object, cap, "%s", key);
	return 0;
}

/* ---- the keep rule: pure ------------------------------------------- */

/* The bucket of ${t} for rule ${rule} (STORE_KEEP_HOURLY...), in UTC. */
static int64_t
bucket_of(int64_t t, uint32_t rule)
{
	struct tm tm;
	time_t tt = (time_t)t;
	int64_t days;

	switch (rule) {
	case STORE_KEEP_HOURLY:
		return t >= 0 ? t / 3600 : -((-t + 3599) / 3600);
	case STORE_KEEP_DAILY:
		return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	case STORE_KEEP_WEEKLY:
		/* Weeks start on Monday; 1970-01-01 was a Thursday. */
		days = (t >= 0 ? t / 86400 : -((-t + 86399) / 86400)) + 3;
		return days >= 0 ? days / 7 : -((-days + 6) / 7);
	default:
		break;
	}
	if (gmtime_r(&tt, &tm) == NULL)
		return t;
	if (rule == STORE_KEEP_MONTHLY)
		return (int64_t)tm.tm_year * 12 + tm.tm_mon;
	return tm.tm_year;
}

static int
same_writer(const struct store_keep_in *a, const struct store_keep_in *b)
{
	return memcmp(a->writer, b->writer, STORE_ID_LEN) == 0;
}

/* Newest first; then by index, so that the result never depends on qsort. */
struct keep_sort {
	const struct store_keep_in *v;
	size_t i;
};

static int
keep_cmp(const void *pa, const void *pb)
{
	const struct keep_sort *a = pa;
	const struct keep_sort *b = pb;
	int c = memcmp(a->v->writer, b->v->writer, STORE_ID_LEN);

	if (c != 0)
		return c;
	if (a->v->time != b->v->time)
		return a->v->time > b->v->time ? -1 : 1;
	return a->i < b->i ? 1 : a->i > b->i ? -1 : 0;
}

static void
keep_group(const struct store_policy *p, const struct keep_sort *g,
    size_t n, uint32_t *why)
{
	static const uint32_t rules[] = { STORE_KEEP_HOURLY, STORE_KEEP_DAILY,
	    STORE_KEEP_WEEKLY, STORE_KEEP_MONTHLY, STORE_KEEP_YEARLY };
	const uint32_t counts[] = { p->hourly, p->daily, p->weekly,
	    p->monthly, p->yearly };
	int64_t newest = 0;
	int has_newest = 0;
	uint32_t left;
	size_t i;
	size_t k;

	for (i = 0; i < n; i++) {
		if (g[i].v->flags & STORE_SNAP_UNTRUSTED)
			continue;
		if (!has_newest) {
			newest = g[i].v->time;
			has_newest = 1;
		}
	}
	/* keep-within: from the group's newest trusted snapshot, as
	 * restic does, so that a stopped ingest never lets history age
	 * out of the window.  It counts nothing, so it keeps flagged
	 * snapshots in the window too. */
	for (i = 0; has_newest && p->within > 0 && i < n; i++)
		if (g[i].v->time >= newest - (int64_t)p->within &&
		    g[i].v->time <= newest)
			why[g[i].i] |= STORE_KEEP_WITHIN;
	left = p->last;
	for (i = 0; i < n && left > 0; i++) {
		if (g[i].v->flags & STORE_SNAP_UNTRUSTED)
			continue;
		why[g[i].i] |= STORE_KEEP_LAST;
		left--;
	}
	for (k = 0; k < sizeof(rules) / sizeof(rules[0]); k++) {
		int64_t last_bucket = 0;
		int has_bucket = 0;

		left = counts[k];
		for (i = 0; i < n && left > 0; i++) {
			int64_t b;

			if (g[i].v->flags & STORE_SNAP_UNTRUSTED)
				continue;
			b = bucket_of(g[i].v->time, rules[k]);
			if (has_bucket && b == last_bucket)
				continue;
			why[g[i].i] |= rules[k];
			last_bucket = b;
			has_bucket = 1;
			left--;
		}
	}
}

int
store_policy_keep(const struct store_policy *p, const struct store_keep_in *v,
    size_t n, uint32_t *why)
{
	struct keep_sort *g;
	size_t i;
	size_t start;

	memset(why, 0, n * sizeof(*why));
	if (n == 0)
		return 0;
	if ((g = calloc(n, sizeof(*g))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		g[i].v = &v[i];
		g[i].i = i;
	}
	qsort(g, n, sizeof(*g), keep_cmp);
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && same_writer(g[i].v, g[start].v);
		    i++)
			;
		keep_group(p, g + start, i - start, why);
	}
	free(g);
	return 0;
}

const char *
store_keep_name(size_t i, uint32_t *rule)
{
	static const struct {
		uint32_t rule;
		const char *name;
	} names[] = {
		{ STORE_KEEP_LAST, "last" },
		{ STORE_KEEP_WITHIN, "within" },
		{ STORE_KEEP_HOURLY, "hourly" },
		{ STORE_KEEP_DAILY, "daily" },
		{ STORE_KEEP_WEEKLY, "weekly" },
		{ STORE_KEEP_MONTHLY, "monthly" },
		{ STORE_KEEP_YEARLY, "yearly" },
	};

	if (i >= sizeof(names) / sizeof(names[0]))
		return NULL;
	*rule = names[i].rule;
	return names[i].name;
}

uint64_t
store_policy_horizon(const struct store_policy *p)
{
	/* Period lengths, the longest of each (a month of 31 days). */
	static const uint64_t len[5] = { 3600, 86400, 7 * 86400,
	    31 * 86400, 366 * 86400 };
	const uint32_t n[5] = { p->hourly, p->daily, p->weekly, p->monthly,
	    p->yearly };
	uint64_t h = p->within;

	for (size_t i = 0; i < 5; i++) {
		uint64_t k = n[i] == 0 ? 0 : ((uint64_t)n[i] + 1) * len[i];

		if (k > h)
			h = k;
	}
	return h > STORE_RETENTION_MAX ? STORE_RETENTION_MAX : h;
}
