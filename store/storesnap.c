/*
 * storesnap.c: the snapshot list (every manifest in the index that
 * authenticates, in order), finding one by name or id prefix, and
 * walking or loading snapshots one at a time, for callers that must not
 * hold them all.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "log.h"
#include "pack.h"
#include "rd.h"
#include "snap.h"
#include "storei.h"
#include "tree.h"

/*
 * Open one sealed manifest: *${out} is NULL for one that fails
 * authentication (logged, and passed over) or does not match its id.
 */
static int
snap_decode(struct store *s, const uint8_t id[STORE_HASH_LEN],
    const uint8_t *buf, size_t len, struct store_snap **out)
{
	struct store_snap *sn;
	char hex[65];
	int r;

	*out = NULL;
	if ((r = snap_open(&s->kr, &s->reg, buf, len, &sn)) < 0) {
		if (r == -ENOMEM || r == -EACCES)
			return r;
		log_hex(id, 32, hex);
		log_err(r, "snapshots/%s: manifest fails authentication; "
		    "ignored", hex);
		return 0;
	}
	if (memcmp(sn->id, id, 32) != 0) {
		snap_free(sn);
		return 0;
	}
	*out = sn;
	return 0;
}

struct list_ctx {
	struct store *s;
	struct store_snap_list *l;
	size_t cap;
};

static int
list_one(void *ctx, const uint8_t id[STORE_HASH_LEN], const uint8_t *buf,
    size_t len)
{
	struct list_ctx *c = ctx;
	struct store_snap *sn;
	int r;

	if ((r = snap_decode(c->s, id, buf, len, &sn)) < 0 || sn == NULL)
		return r;
	if (c->l->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct store_snap **v = realloc(c->l->v, cap * sizeof(*v));

		if (v == NULL) {
			snap_free(sn);
			return -ENOMEM;
		}
		c->l->v = v;
		c->cap = cap;
	}
	c->l->v[c->l->n++] = sn;
	return 0;
}

const char *
store_snap_flag_name(size_t i, uint32_t *flag)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} names[] = {
		{ STORE_SNAP_PARTIAL, "partial" },
		{ STORE_SNAP_FUTURE, "future" },
		{ STORE_SNAP_ORPHAN, "orphan" },
		{ STORE_SNAP_REVOKED, "revoked" },
		{ STORE_SNAP_BEFORE_KEY, "before-key" },
		{ STORE_SNAP_BEFORE_PARENT, "before-parent" },
		{ STORE_SNAP_PARENTLESS, "parentless" },
	};

	if (i >= sizeof(names) / sizeof(names[0]))
		return NULL;
	*flag = names[i].flag;
	return names[i].name;
}

int
store_snapshots(struct store *s, struct store_snap_list **out)
{
	struct list_ctx c = { s, NULL, 0 };
	int r;

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	if ((c.l = calloc(1, sizeof(*c.l))) == NULL)
		return -ENOMEM;
	if ((r = index_snap_each(s->ix, list_one, &c)) < 0) {
		store_snap_list_free(c.l);
		return r;
	}
	if ((r = snap_order(s, c.l->v, c.l->n, (int64_t)time(NULL))) < 0) {
		store_snap_list_free(c.l);
		return r;
	}
	*out = c.l;
	return 0;
}

size_t
store_snap_list_len(const struct store_snap_list *l)
{
	return l->n;
}

const struct store_snap *
store_snap_list_get(const struct store_snap_list *l, size_t i)
{
	return i < l->n ? l->v[i] : NULL;
}

void
store_snap_list_free(struct store_snap_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		snap_free(l->v[i]);
	free(l->v);
	free(l);
}

int
store_snap_find(const struct store_snap_list *l, const char *spec,
    const struct store_snap **out)
{
	const struct store_snap *found = NULL;
	size_t n = strlen(spec);

	if (strcmp(spec, "latest") == 0) {
		for (size_t i = l->n; i > 0; i--)
			if (!(l->v[i - 1]->flags & STORE_SNAP_UNTRUSTED)) {
				*out = l->v[i - 1];
				return 0;
			}
		return -ENOENT;
	}
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->name, spec) == 0) {
			*out = l->v[i];
			return 0;
		}
	if (n < 4 || n > 64 || strspn(spec, "0123456789abcdef") != n)
		return -ENOENT;
	for (size_t i = 0; i < l->n; i++) {
		char hex[65];

		log_hex(l->v[i]->id, 32, hex);
		if (strncmp(hex, spec, n) != 0)
			continue;
		if (found != NULL)
			return -EINVAL;
		found = l->v[i];
	}
	if (found == NULL)
		return -ENOENT;
	*out = found;
	return 0;
}

/* ---- one snapshot at a time --------------------------------------------- */

struct each_ctx {
	struct store *s;
	int (*skip)(void *ctx, const uint8_t id[STORE_HASH_LEN]);
	int (*fn)(void *ctx, const struct store_snap *snap);
	void *ctx;
};

static int
each_one(void *ctx, const uint8_t id[STORE_HASH_LEN], const uint8_t *buf,
    size_t len)
{
	struct each_ctx *c = ctx;
	struct store_snap *sn;
	int r;

	if (c->skip != NULL && (r = c->skip(c->ctx, id)) != 0)
		return r < 0 ? r : 0;
	if ((r = snap_decode(c->s, id, buf, len, &sn)) < 0 || sn == NULL)
		return r;
	store_time_format(sn->time_sec, sn->name, sizeof(sn->name));
	r = c->fn(c->ctx, sn);
	snap_free(sn);
	return r;
}

int
store_snap_each(struct store *s,
    int (*skip)(void *ctx, const uint8_t id[STORE_HASH_LEN]),
    int (*fn)(void *ctx, const struct store_snap *snap), void *ctx)
{
	struct each_ctx c = { s, skip, fn, ctx };

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	return index_snap_each(s->ix, each_one, &c);
}

int
store_snap_load(struct store *s, const uint8_t id[STORE_HASH_LEN],
    struct store_snap **out)
{
	struct store_snap *sn;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (s->ix == NULL || !s->kr.has_master)
		return -EACCES;
	if ((r = index_snap_get(s->ix, id, &buf, &len)) < 0)
		return r;
	r = snap_decode(s, id, buf, len, &sn);
	free(buf);
	if (r < 0)
		return r;
	if (sn == NULL)
		return -EBADMSG;
	store_time_format(sn->time_sec, sn->name, sizeof(sn->name));
	*out = sn;
	return 0;
}

void
store_snap_free(struct store_snap *snap)
{
	snap_free(snap);
}
