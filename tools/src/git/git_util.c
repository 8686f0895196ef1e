/*
 * git_util.c: small helpers and the in-run map,
 * for the git reader (src_git.c; its types in gitint.h).
 */
#include "gitint.h"

/* ---- small helpers ----------------------------------------------------- */

char *
git_str_cat(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);
	size_t lc = strlen(c);
	char *s;

	if ((s = malloc(la + lb + lc + 1)) == NULL)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/*
 * Quote bytes for a message: anything but printable ASCII becomes \xNN,
 * so that a hostile name can neither forge a line nor drive a terminal.
 */
void
git_quote(const char *src, size_t n, char *dst, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			dst[o++] = (char)ch;
		} else {
			snprintf(dst + o, 5, "\\x%02x", ch);
			o += 4;
		}
	}
	dst[o] = '\0';
}

/* A warning about the current path (made partial): "repos/NAME/PATH: ". */
void
gwarn(struct gsrc *g, const char *what, const char *hex)
{
	char q[4 * sizeof(g->path) + 1];

	git_quote(g->path, g->path_len, q, sizeof(q));
	g->is_partial = 1;
	if (hex)
		src_warn(g->c, "repos/%s/%s: object %s: %s", g->name, q, hex,
		    what);
	else
		src_warn(g->c, "repos/%s/%s: %s", g->name, q, what);
}

/* An error that fails the source; returns ${r}. */
int
gerr(struct gsrc *g, int r, const char *what)
{
	fprintf(stderr, "amber ingest: repos/%s: %s\n", g->name, what);
	return r;
}

/* Append "/name" (or "name" when empty) to the message path. */
size_t
git_path_push(struct gsrc *g, const void *name, size_t len)
{
	size_t old = g->path_len;
	size_t room = sizeof(g->path) - 1 - g->path_len;

	if (room > 0 && g->path_len) {
		g->path[g->path_len++] = '/';
		room--;
	}
	if (len > room)
		len = room;
	memcpy(g->path + g->path_len, name, len);
	g->path_len += len;
	g->path[g->path_len] = '\0';
	return old;
}

void
git_path_pop(struct gsrc *g, size_t old)
{
	g->path_len = old;
	g->path[old] = '\0';
}

void
git_progress_add(struct gsrc *g, uint64_t n_files, uint64_t n_bytes)
{
	pthread_mutex_lock(&g->c->lock);
	g->c->progress.n_files += n_files;
	g->c->progress.n_bytes += n_bytes;
	pthread_mutex_unlock(&g->c->lock);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

/* rm -rf ${path}; symlinks are removed, never followed. */
void
git_rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the in-run map ---------------------------------------------------- */

static size_t
map_hash(const uint8_t *key, size_t klen)
{
	uint64_t h = 14695981039346656037u;

	for (size_t i = 0; i < klen; i++)
		h = (h ^ key[i]) * 1099511628211u;
	return (size_t)h;
}

struct map_slot *
gmap_find(struct map *m, const uint8_t *key, size_t klen)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = map_hash(key, klen) & (m->cap - 1);; i = (i + 1) &
	    (m->cap - 1)) {
		struct map_slot *s = &m->slots[i];

		if (s->val == NULL)
			return NULL;
		if (s->klen == klen && memcmp(s->key, key, klen) == 0)
			return s;
	}
}

/* Insert a copy of ${val} under ${key} (replacing nothing if present). */
int
gmap_put(struct map *m, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	struct map_slot *s;
	size_t i;

	if (klen > sizeof(s->key))
		return -EINVAL;
	if (gmap_find(m, key, klen) != NULL)
		return 0;
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		struct map_slot *ns = calloc(cap, sizeof(*ns));

		if (ns == NULL)
			return -ENOMEM;
		for (size_t j = 0; j < m->cap; j++) {
			struct map_slot *o = &m->slots[j];

			if (o->val == NULL)
				continue;
			for (i = map_hash(o->key, o->klen) & (cap - 1);
			    ns[i].val != NULL; i = (i + 1) & (cap - 1))
				;
			ns[i] = *o;
		}
		free(m->slots);
		m->slots = ns;
		m->cap = cap;
	}
	for (i = map_hash(key, klen) & (m->cap - 1); m->slots[i].val != NULL;
	    i = (i + 1) & (m->cap - 1))
		;
	s = &m->slots[i];
	if ((s->val = malloc(vlen ? vlen : 1)) == NULL)
		return -ENOMEM;
	memcpy(s->val, val, vlen);
	memcpy(s->key, key, klen);
	s->klen = (uint8_t)klen;
	s->vlen = vlen;
	m->n++;
	return 0;
}

void
gmap_fini(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].val);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
