/*
 * forge_out.c: an in-memory directory tree of the files fetched from a
 * forge, whose contents are already in the store (each file is chunked
 * as soon as it is put, so memory holds entries, not bodies).  The
 * previous snapshot's trees are read lazily, one per directory, to carry
 * entries forward and to keep the mtime of files whose content did not
 * change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge_json.h"
#include "forge_out.h"
#include "hex.h"

#define FORGE_PREV_FILE_MAX ((size_t)16 << 20)
#define FORGE_MAX_CARRY 16

struct node {
	char *name;
	int is_dir;
	struct node *parent;
	struct store_entry e;	/* REG: complete; DIR: filled at finish */
	struct store_extent *extents;	/* REG: owned */
	struct node **kids;	/* DIR */
	size_t n_kids;
	size_t cap_kids;
	int is_carried;		/* DIR: keep the previous entries */
	int is_prev_loaded;	/* DIR: prev looked up */
	struct store_tree *prev;	/* DIR: previous snapshot's, or NULL */
};

struct forge_out {
	struct src_ctx *c;
	const struct store_source *prev;
	int64_t now;
	struct node root;
	json_t *errors;		/* array of {what, status, error} */
	char *cache_key;	/* the source's name, for the carry cache */
	json_t *cache;		/* carry cache read, when prev is unreadable */
	json_t *next_cache;	/* carry cache to write at commit */
	char *carry[FORGE_MAX_CARRY];
	size_t n_carry;
	uint64_t n_files;
	uint64_t n_bytes;
};

static void
node_fini(struct node *n)
{
	size_t i;

	for (i = 0; i < n->n_kids; i++) {
		node_fini(n->kids[i]);
		free(n->kids[i]);
	}
	free(n->kids);
	free(n->extents);
	free(n->name);
	store_tree_free(n->prev);
}

/*
 * The carry cache (table FORGE_CACHE_TABLE, key: the source's name) lets
 * a host holding only an ingest key, which cannot read the previous
 * snapshot, carry the runs it stored before all the same.  Its value is
 * JSON: {"dirs": {"runs": [ENTRY...], ...}, "state": {...}}, each ENTRY
 * {"n": name, "m": mode, "t": mtime, "u": mtime_nsec, "s": size,
 * "x": [[off, len, "id hex", "key hex"]...]}, regular files only.  Like
 * every cache value it is a hint: anything unexpected in it is ignored.
 */
#define FORGE_CACHE_TABLE "forge-carry"

static int
hex_get(const char *s, uint8_t *b, size_t n)
{
	if (s == NULL || strlen(s) != 2 * n || hex_decode(s, b, n) < 0)
		return -EBADMSG;
	return 0;
}

/* A regular file's entry as a cache record (a new reference). */
static json_t *
entry_to_json(const struct store_entry *e, const char *name)
{
	char id[2 * STORE_HASH_LEN + 1];
	char key[2 * STORE_HASH_LEN + 1];
	json_t *x;
	json_t *j;
	size_t i;

	if ((x = json_array()) == NULL)
		return NULL;
	for (i = 0; i < e->n_extents; i++) {
		hex_encode(e->extents[i].ref.id, STORE_HASH_LEN, id);
		hex_encode(e->extents[i].ref.key, STORE_HASH_LEN, key);
		if (json_array_append_new(x, json_pack("[I,I,s,s]",
		    (json_int_t)e->extents[i].off,
		    (json_int_t)e->extents[i].len, id, key)) < 0) {
			json_decref(x);
			return NULL;
		}
	}
	j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "n", name,
	    "m", (json_int_t)e->mode, "t", (json_int_t)e->mtime_sec,
	    "u", (json_int_t)e->mtime_nsec, "s", (json_int_t)e->size, "x", x);
	return j;
}

static int64_t
jint(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/*
 * A cache record as an entry; *${ext} is malloc'd for the caller.
 * Returns -EBADMSG for a record that is not what forge_out wrote.
 */
static int
entry_from_json(const json_t *j, struct store_entry *e,
    struct store_extent **ext)
{
	const char *name = forge_json_str(j, "n");
	json_t *x = json_object_get(j, "x");
	json_t *v;
	uint64_t end = 0;
	size_t i;

	*ext = NULL;
	memset(e, 0, sizeof(*e));
	if (name == NULL || !forge_json_is_safe_path(name) ||
	    strchr(name, '/') != NULL || !json_is_array(x) ||
	    jint(j, "m") < 0 || jint(j, "m") > 07777 || jint(j, "t") < 0 ||
	    jint(j, "u") < 0 || jint(j, "u") > 999999999 || jint(j, "s") < 0)
		return -EBADMSG;
	e->name = (const uint8_t *)name;
	e->name_len = strlen(name);
	e->type = STORE_REG;
	e->mode = (uint32_t)jint(j, "m");
	e->mtime_sec = jint(j, "t");
	e->mtime_nsec = (uint32_t)jint(j, "u");
	e->size = (uint64_t)jint(j, "s");
	if (json_array_size(x) > 0 &&
	    (*ext = calloc(json_array_size(x), sizeof(**ext))) == NULL)
		return -ENOMEM;
	json_array_foreach(x, i, v) {
		struct store_extent *t = &(*ext)[i];
		json_int_t off = json_integer_value(json_array_get(v, 0));
		json_int_t len = json_integer_value(json_array_get(v, 1));

		/* Sorted, disjoint and inside the file, as trees require. */
		if (!json_is_array(v) || json_array_size(v) != 4 ||
		    off < 0 || (uint64_t)off < end || len <= 0 ||
		    len > (json_int_t)STORE_CHUNK_MAX ||
		    (uint64_t)off + (uint64_t)len > e->size ||
		    hex_get(json_string_value(json_array_get(v, 2)),
		    t->ref.id, STORE_HASH_LEN) < 0 ||
		    hex_get(json_string_value(json_array_get(v, 3)),
		    t->ref.key, STORE_HASH_LEN) < 0) {
			free(*ext);
			*ext = NULL;
			return -EBADMSG;
		}
		t->off = (uint64_t)off;
		t->len = (uint32_t)len;
		end = t->off + t->len;
	}
	e->n_extents = json_array_size(x);
	e->extents = *ext;
	return 0;
}

/* The cached entries of the carried directory ${dir}, or NULL. */
static json_t *
cache_dir(const struct forge_out *o, const char *dir)
{
	json_t *a = json_object_get(json_object_get(o->cache, "dirs"), dir);

	return json_is_array(a) ? a : NULL;
}

int
forge_out_new(struct src_ctx *c, const struct store_source *prev,
    int64_t now, struct forge_out **out)
{
	struct forge_out *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -ENOMEM;
	o->c = c;
	o->prev = prev;
	o->now = now;
	o->root.is_dir = 1;
	if ((o->errors = json_array()) == NULL) {
		free(o);
		return -ENOMEM;
	}
	*out = o;
	return 0;
}

void
forge_out_free(struct forge_out *o)
{
	size_t i;

	if (o == NULL)
		return;
	node_fini(&o->root);
	json_decref(o->errors);
	json_decref(o->cache);
	json_decref(o->next_cache);
	free(o->cache_key);
	for (i = 0; i < o->n_carry; i++)
		free(o->carry[i]);
	free(o);
}

/* The previous snapshot's tree for the directory ${n}, or NULL. */
static int
node_prev(struct forge_out *o, struct node *n, struct store_tree **out)
{
	const struct store_entry *e = NULL;
	struct store_tree *pt;
	size_t idx;
	int r;

	*out = NULL;
	if (o->prev == NULL)
		return 0;
	if (n->is_prev_loaded) {
		*out = n->prev;
		return 0;
	}
	if (n->parent == NULL) {
		e = &o->prev->root;
	} else {
		if ((r = node_prev(o, n->parent, &pt)) < 0)
			return r;
		if (pt != NULL && store_tree_find(pt,
		    (const uint8_t *)n->name, strlen(n->name), &idx) == 0)
			e = store_tree_entry(pt, idx);
	}
	if (e != NULL && e->type == STORE_DIR &&
	    (r = store_tree_read(o->c->s, &e->tree, &n->prev)) < 0)
		return r;
	n->is_prev_loaded = 1;
	*out = n->prev;
	return 0;
}

static struct node *
node_find(const struct node *dir, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < dir->n_kids; i++)
		if (strlen(dir->kids[i]->name) == len &&
		    memcmp(dir->kids[i]->name, name, len) == 0)
			return dir->kids[i];
	return NULL;
}

static int
node_add(struct node *dir, const char *name, size_t len, int is_dir,
    struct node **out)
{
	struct node *n;
	struct node **k;

	if (dir->n_kids == dir->cap_kids) {
		size_t cap = dir->cap_kids ? dir->cap_kids * 2 : 8;

		if ((k = realloc(dir->kids, cap * sizeof(*k))) == NULL)
			return -ENOMEM;
		dir->kids = k;
		dir->cap_kids = cap;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -ENOMEM;
	if ((n->name = strndup(name, len)) == NULL) {
		free(n);
		return -ENOMEM;
	}
	n->is_dir = is_dir;
	n->parent = dir;
	dir->kids[dir->n_kids++] = n;
	*out = n;
	return 0;
}

/*
 * Walk ${path} from the root, making directories on the way; *${dir} is
 * the parent directory and *${base} the last component.
 */
static int
walk(struct forge_out *o, const char *path, struct node **dir,
    const char **base)
{
	struct node *d = &o->root;
	const char *p = path;
	const char *slash;
	struct node *n;
	int r;

	if (!forge_json_is_safe_path(path))
		return -EINVAL;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t len = (size_t)(slash - p);

		if ((n = node_find(d, p, len)) == NULL) {
			if ((r = node_add(d, p, len, 1, &n)) < 0)
				return r;
		} else if (!n->is_dir) {
			return -EINVAL;
		}
		d = n;
		p = slash + 1;
	}
	*dir = d;
	*base = p;
	return 0;
}

static int
same_content(const struct store_entry *a, const struct store_entry *b)
{
	size_t i;

	if (a->type != b->type || a->size != b->size ||
	    a->n_extents != b->n_extents || a->mode != b->mode)
		return 0;
	for (i = 0; i < a->n_extents; i++)
		if (a->extents[i].off != b->extents[i].off ||
		    a->extents[i].len != b->extents[i].len ||
		    memcmp(a->extents[i].ref.id, b->extents[i].ref.id,
		    STORE_HASH_LEN) != 0)
			return 0;
	return 1;
}

int
forge_out_cache(struct forge_out *o, const char *name)
{
	void *v = NULL;
	size_t len;
	json_t *j = NULL;

	if ((o->cache_key = strdup(name)) == NULL ||
	    (o->next_cache = json_pack("{s:{}}", "dirs")) == NULL)
		return -ENOMEM;
	if (o->prev != NULL || store_is_reader(o->c->s))
		return 0;
	if (store_cache_get(o->c->s, FORGE_CACHE_TABLE, name, strlen(name),
	    &v, &len) == 0 &&
	    forge_json_parse(v, len, &j) == 0 && json_is_object(j)) {
		o->cache = j;
		j = NULL;
	}
	json_decref(j);
	free(v);
	return 0;
}

int
forge_out_cache_state(struct forge_out *o, const json_t *state)
{
	if (o->next_cache == NULL)
		return 0;
	return json_object_set(o->next_cache, "state", (json_t *)state) < 0 ?
	    -ENOMEM : 0;
}

int
forge_out_put(struct forge_out *o, const char *path, const void *buf,
    size_t len, uint32_t mode)
{
	struct store_file *f = NULL;
	struct store_extent *ext = NULL;
	struct store_tree *pt;
	struct node *dir;
	struct node *n;
	const char *base;
	size_t n_ext = 0;
	size_t idx;
	int r;

	if ((r = walk(o, path, &dir, &base)) < 0)
		return r;
	/* Dry (source.h): the path is noted, nothing stored. */
	if (!o->c->is_dry && ((r = store_file_new(o->c->w, &f)) < 0 ||
	    (len > 0 && (r = store_file_write(f, 0, buf, len)) < 0) ||
	    (r = store_file_end(f, &ext, &n_ext)) < 0))
		goto out;
	if ((n = node_find(dir, base, strlen(base))) == NULL) {
		if ((r = node_add(dir, base, strlen(base), 0, &n)) < 0)
			goto out;
	} else if (n->is_dir) {
		r = -EINVAL;
		goto out;
	} else {
		o->n_files--;
		o->n_bytes -= n->e.size;
	}
	free(n->extents);
	n->extents = ext;
	ext = NULL;
	memset(&n->e, 0, sizeof(n->e));
	n->e.name = (const uint8_t *)n->name;
	n->e.name_len = strlen(n->name);
	n->e.type = STORE_REG;
	n->e.mode = mode;
	n->e.mtime_sec = o->now;
	n->e.size = len;
	n->e.n_extents = n_ext;
	n->e.extents = n->extents;
	r = 0;
	if (o->c->is_dry)
		goto out;
	if ((r = node_prev(o, dir, &pt)) < 0)
		goto out;
	if (pt != NULL && store_tree_find(pt, n->e.name, n->e.name_len,
	    &idx) == 0 && same_content(&n->e, store_tree_entry(pt, idx))) {
		n->e.mtime_sec = store_tree_entry(pt, idx)->mtime_sec;
		n->e.mtime_nsec = store_tree_entry(pt, idx)->mtime_nsec;
	}
	o->n_files++;
	o->n_bytes += len;
	pthread_mutex_lock(&o->c->lock);
	o->c->progress.n_files++;
	o->c->progress.n_bytes += len;
	pthread_mutex_unlock(&o->c->lock);
	r = 0;
out:
	free(ext);
	store_file_free(f);
	return r;
}

int
forge_out_put_json(struct forge_out *o, const char *path, const json_t *j,
    uint32_t mode)
{
	char *s = NULL;
	size_t len;
	int r;

	if ((r = forge_json_dump(j, &s, &len)) < 0)
		return r;
	r = forge_out_put(o, path, s, len, mode);
	free(s);
	return r;
}

int
forge_out_has(const struct forge_out *o, const char *path)
{
	const struct node *d = &o->root;
	const char *p = path;
	const char *slash;

	while ((slash = strchr(p, '/')) != NULL) {
		if ((d = node_find(d, p, (size_t)(slash - p))) == NULL ||
		    !d->is_dir)
			return 0;
		p = slash + 1;
	}
	return node_find(d, p, strlen(p)) != NULL;
}

int
forge_out_error(struct forge_out *o, const char *what,
    const struct err *e)
{
	char w[256];
	char m[sizeof(e->msg)];
	json_t *j;

	/* Cut messages and server words may not be UTF-8; JSON must be. */
	snprintf(w, sizeof(w), "%s", what);
	snprintf(m, sizeof(m), "%s", e->msg);
	forge_json_utf8_fix(w);
	forge_json_utf8_fix(m);
	j = json_pack("{s:s, s:I, s:s}", "what", w, "status",
	    (json_int_t)e->status, "error", m);
	if (j == NULL || json_array_append_new(o->errors, j) < 0)
		return -ENOMEM;
	src_warn(o->c, "%s: %s", w, m);
	return 0;
}

size_t
forge_out_n_errors(const struct forge_out *o)
{
	return json_array_size(o->errors);
}

int
forge_out_carry(struct forge_out *o, const char *dir)
{
	if (o->n_carry == FORGE_MAX_CARRY || strchr(dir, '/') != NULL)
		return -EINVAL;
	if ((o->carry[o->n_carry] = strdup(dir)) == NULL)
		return -ENOMEM;
	o->n_carry++;
	return 0;
}

/* The previous snapshot's top-level directory ${dir}, or NULL. */
static int
prev_dir(struct forge_out *o, const char *dir, struct node **out)
{
	struct store_tree *pt;
	struct node *n;
	size_t idx;
	int r;

	*out = NULL;
	if ((r = node_prev(o, &o->root, &pt)) < 0 || pt == NULL)
		return r;
	if (store_tree_find(pt, (const uint8_t *)dir, strlen(dir), &idx) < 0 ||
	    store_tree_entry(pt, idx)->type != STORE_DIR)
		return 0;
	if ((n = node_find(&o->root, dir, strlen(dir))) == NULL &&
	    (r = node_add(&o->root, dir, strlen(dir), 1, &n)) < 0)
		return r;
	if (!n->is_dir)
		return -EINVAL;
	*out = n;
	return 0;
}

int
forge_out_prev_max(struct forge_out *o, const char *dir, uint64_t *max)
{
	struct store_tree *pt;
	struct node *n;
	size_t i;
	int r;

	*max = 0;
	if (o->cache != NULL) {
		json_t *v;

		json_array_foreach(cache_dir(o, dir), i, v) {
			const char *name = forge_json_str(v, "n");
			char *end;
			unsigned long long id;

			if (name == NULL || name[0] < '0' || name[0] > '9')
				continue;
			id = strtoull(name, &end, 10);
			if (strcmp(end, ".json") == 0 && id > *max)
				*max = id;
		}
		return 0;
	}
	if ((r = prev_dir(o, dir, &n)) < 0 || n == NULL)
		return r;
	if ((r = node_prev(o, n, &pt)) < 0 || pt == NULL)
		return r;
	for (i = 0; i < store_tree_len(pt); i++) {
		const struct store_entry *e = store_tree_entry(pt, i);
		uint64_t v = 0;
		size_t k;

		/* "<digits>.json", at most 19 digits so that v cannot wrap */
		if (e->name_len < 6 || e->name_len > 24 ||
		    memcmp(e->name + e->name_len - 5, ".json", 5) != 0)
			continue;
		for (k = 0; k < e->name_len - 5; k++) {
			if (e->name[k] < '0' || e->name[k] > '9')
				break;
			v = v * 10 + (uint64_t)(e->name[k] - '0');
		}
		if (k == e->name_len - 5 && v > *max)
			*max = v;
	}
	return 0;
}

int
forge_out_prev_json(struct forge_out *o, const char *path, json_t **out)
{
	struct store_tree *t = NULL;
	const struct store_entry *e;
	char *buf = NULL;
	size_t idx;
	size_t got;
	int r;

	if (o->cache != NULL && strcmp(path, "_state.json") == 0 &&
	    json_is_object(json_object_get(o->cache, "state"))) {
		*out = json_incref(json_object_get(o->cache, "state"));
		return 0;
	}
	if (o->prev == NULL)
		return -ENOENT;
	if ((r = store_resolve(o->c->s, &o->prev->root, path, &t, &idx)) < 0)
		goto out;
	e = t != NULL ? store_tree_entry(t, idx) : NULL;
	if (e == NULL || e->type != STORE_REG) {
		r = -ENOENT;
		goto out;
	}
	if ((r = store_read_whole(o->c->s, e, FORGE_PREV_FILE_MAX, &buf,
	    &got)) < 0)
		goto out;
	r = forge_json_parse((const uint8_t *)buf, got, out);
out:
	if (r == -ENOTDIR)
		r = -ENOENT;
	free(buf);
	store_tree_free(t);
	return r;
}

static int
is_carried_dir(const struct forge_out *o, const struct node *n)
{
	size_t i;

	if (n->parent != &o->root)
		return 0;
	for (i = 0; i < o->n_carry; i++)
		if (strcmp(o->carry[i], n->name) == 0)
			return 1;
	return 0;
}

/* Note a regular file of a carried directory for the next carry cache. */
static int
cache_note(struct forge_out *o, const struct node *dir,
    const struct store_entry *e)
{
	json_t *dirs;
	json_t *a;
	char name[STORE_NAME_MAX + 1];

	if (o->next_cache == NULL || e->type != STORE_REG ||
	    e->name_len > STORE_NAME_MAX)
		return 0;
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	dirs = json_object_get(o->next_cache, "dirs");
	if ((a = json_object_get(dirs, dir->name)) == NULL &&
	    (json_object_set_new(dirs, dir->name, json_array()) < 0 ||
	    (a = json_object_get(dirs, dir->name)) == NULL))
		return -ENOMEM;
	if (json_array_append_new(a, entry_to_json(e, name)) < 0)
		return -ENOMEM;
	return 0;
}

/* Add ${e}, an entry kept from before, to the carried directory ${n}. */
static int
add_carried(struct forge_out *o, struct node *n, struct store_tb *tb,
    const struct store_entry *e, int64_t *mtime)
{
	int r;

	if (node_find(n, (const char *)e->name, e->name_len) != NULL)
		return 0;	/* put again by this run */
	if ((r = store_tb_add(tb, e)) < 0 ||
	    (r = cache_note(o, n, e)) < 0)
		return r;
	if (e->mtime_sec > *mtime)
		*mtime = e->mtime_sec;
	o->n_files += 1 + (e->type == STORE_DIR ? e->n_desc : 0);
	if (e->type == STORE_REG)
		o->n_bytes += e->size;
	return 1;
}

/*
 * Store the directory ${n} and fill its entry; *${is_empty} is set when
 * it holds nothing, and then it is not stored (empty directories would
 * only make the layout depend on what failed).
 */
static int
node_finish(struct forge_out *o, struct node *n, int *is_empty)
{
	struct store_tb *tb = NULL;
	struct store_tree *pt = NULL;
	struct store_extent *ext = NULL;
	int is_carried = is_carried_dir(o, n);
	int64_t mtime = 0;
	size_t n_added = 0;
	size_t i;
	json_t *v;
	int r;

	*is_empty = 1;
	if ((r = store_tb_new(&tb)) < 0)
		return r;
	for (i = 0; i < n->n_kids; i++) {
		struct node *k = n->kids[i];

		if (k->is_dir) {
			int is_kid_empty;

			if ((r = node_finish(o, k, &is_kid_empty)) < 0)
				goto out;
			if (is_kid_empty)
				continue;
		}
		if ((r = store_tb_add(tb, &k->e)) < 0 ||
		    (is_carried && (r = cache_note(o, n, &k->e)) < 0))
			goto out;
		if (k->e.mtime_sec > mtime)
			mtime = k->e.mtime_sec;
		n_added++;
	}
	if (is_carried && (r = node_prev(o, n, &pt)) < 0)
		goto out;
	for (i = 0; pt != NULL && i < store_tree_len(pt); i++) {
		if ((r = add_carried(o, n, tb, store_tree_entry(pt, i),
		    &mtime)) < 0)
			goto out;
		n_added += (size_t)r;
	}
	/* No previous tree to read: the carry cache stands in for it. */
	json_array_foreach(is_carried && pt == NULL ? cache_dir(o, n->name) :
	    NULL, i, v) {
		struct store_entry e;

		if (entry_from_json(v, &e, &ext) < 0)
			continue;
		r = add_carried(o, n, tb, &e, &mtime);
		free(ext);
		ext = NULL;
		if (r < 0)
			goto out;
		n_added += (size_t)r;
	}
	r = 0;
	memset(&n->e, 0, sizeof(n->e));
	if (n->name != NULL) {
		n->e.name = (const uint8_t *)n->name;
		n->e.name_len = strlen(n->name);
	}
	n->e.type = STORE_DIR;
	n->e.mode = 0755;
	n->e.mtime_sec = mtime != 0 ? mtime : o->now;
	if (n_added == 0 && n->parent != NULL)
		goto out;
	if ((r = store_tb_finish(o->c->w, tb, &n->e)) < 0)
		goto out;
	*is_empty = n_added == 0;
	o->n_files += n->parent != NULL;
out:
	store_tb_free(tb);
	return r;
}

int
forge_out_finish(struct forge_out *o, struct store_source *out)
{
	struct node *n;
	char *s;
	size_t i;
	int is_empty;
	int r;

	if (json_array_size(o->errors) > 0 &&
	    (r = forge_out_put_json(o, "_errors.json", o->errors, 0644)) < 0)
		return r;
	/* A carried directory exists even when nothing new went into it. */
	for (i = 0; i < o->n_carry; i++) {
		if ((r = prev_dir(o, o->carry[i], &n)) < 0)
			return r;
		if (n == NULL && cache_dir(o, o->carry[i]) != NULL &&
		    node_find(&o->root, o->carry[i],
		    strlen(o->carry[i])) == NULL &&
		    (r = node_add(&o->root, o->carry[i], strlen(o->carry[i]),
		    1, &n)) < 0)
			return r;
	}
	if ((r = node_finish(o, &o->root, &is_empty)) < 0)
		return r;
	if (o->next_cache != NULL && (s = json_dumps(o->next_cache,
	    JSON_COMPACT)) != NULL) {
		/* Written at commit only; a lost value costs a full fetch. */
		(void)store_writer_cache_put(o->c->w, FORGE_CACHE_TABLE,
		    o->cache_key, strlen(o->cache_key), s, strlen(s));
		free(s);
	}
	out->root = o->root.e;
	out->root.name = NULL;
	out->root.name_len = 0;
	out->n_files = o->n_files;
	out->n_bytes = o->n_bytes;
	return 0;
}
