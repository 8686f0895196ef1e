/*
 * git_mirror.c: the mirror NAME.git,
 * for the git reader (src_git.c; its types in gitint.h).
 */
#include "gitint.h"

/* ---- the mirror -------------------------------------------------------- */

static int
tip_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Parse the previous packed-refs and HEAD into a sorted, unique array of
 * tips (pointers into ${p}'s buffers, which it NUL-terminates in place).
 * Returns -EBADMSG if anything is malformed.
 */
static int
prev_tips(struct gsrc *g, struct prev *p, char ***out, size_t *n_out)
{
	char **tips = NULL;
	size_t n = 0;
	size_t cap = 0;
	char *s = p->packed_refs;
	char *end = p->packed_refs + p->packed_refs_len;

	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));

		if (nl == NULL)
			goto bad;
		*nl = '\0';
		if (*s != '#' && *s != '^') {
			if ((size_t)(nl - s) < g->hexlen + 2 ||
			    s[g->hexlen] != ' ' || !hex_is_lower(s, g->hexlen))
				goto bad;
			s[g->hexlen] = '\0';
			if (n + 2 > cap) {
				size_t ncap = cap ? 2 * cap : 64;
				char **nt = realloc(tips, ncap * sizeof(*nt));

				if (nt == NULL) {
					free(tips);
					return -ENOMEM;
				}
				tips = nt;
				cap = ncap;
			}
			tips[n++] = s;
		}
		s = nl + 1;
	}
	if (p->head_len == g->hexlen + 1 && hex_is_lower(p->head, g->hexlen)) {
		if (n + 1 > cap) {
			char **nt = realloc(tips, (n + 1) * sizeof(*nt));

			if (nt == NULL) {
				free(tips);
				return -ENOMEM;
			}
			tips = nt;
		}
		p->head[g->hexlen] = '\0';
		tips[n++] = p->head;
	}
	if (n)
		qsort(tips, n, sizeof(*tips), tip_cmp);
	*n_out = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(tips[i], tips[i - 1]) != 0)
			tips[(*n_out)++] = tips[i];
	*out = tips;
	return 0;
bad:
	free(tips);
	return -EBADMSG;
}

static void
plist_fini(struct plist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((void *)l->v[i].name);
		free((void *)l->v[i].extents);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Append an owned copy of the regular file entry ${e}. */
static int
plist_add(struct plist *l, const struct store_entry *e)
{
	struct store_entry *c;
	uint8_t *name = NULL;
	struct store_extent *ext = NULL;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct store_entry *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if ((name = malloc(e->name_len + 1)) == NULL ||
	    (e->n_extents && (ext = malloc(e->n_extents * sizeof(*ext))) ==
	    NULL)) {
		free(name);
		return -ENOMEM;
	}
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	if (e->n_extents)
		memcpy(ext, e->extents, e->n_extents * sizeof(*ext));
	c = &l->v[l->n++];
	*c = *e;
	c->name = name;
	c->extents = ext;
	c->target = NULL;
	c->target_len = 0;
	return 0;
}

/*
 * Whether ${e} can be reused as a pack file of the mirror: a regular file
 * named pack-<hex>.pack or .idx whose extents cover it in order and whose
 * every chunk the store holds (so a record left by a run that never
 * committed is not trusted beyond what reached the store).
 */
static int
pack_entry_ok(struct gsrc *g, const struct store_entry *e)
{
	size_t hl;
	uint64_t at = 0;

	if (e->type != STORE_REG || e->name_len < 5 + 40 + 4 ||
	    memcmp(e->name, "pack-", 5) != 0)
		return 0;
	if (memcmp(e->name + e->name_len - 5, ".pack", 5) == 0)
		hl = e->name_len - 10;
	else if (memcmp(e->name + e->name_len - 4, ".idx", 4) == 0)
		hl = e->name_len - 9;
	else
		return 0;
	if ((hl != 40 && hl != 64) || !hex_is_lower((const char *)e->name + 5, hl))
		return 0;
	for (size_t i = 0; i < e->n_extents; i++) {
		if (e->extents[i].off != at || e->extents[i].len == 0 ||
		    store_has_chunk(g->c->s, e->extents[i].ref.id) != 1)
			return 0;
		at += e->extents[i].len;
	}
	return at == e->size;
}

static void
prev_fini(struct prev *p)
{
	free(p->packed_refs);
	free(p->head);
	free(p->shallow);
	plist_fini(&p->packs);
	memset(p, 0, sizeof(*p));
}

/* A bounds-checked reader of a cache record. */
/* A u32-length-prefixed string of at most ${max} bytes, malloc'd. */
static int
rd_str32(struct rd *c, size_t max, char **out, size_t *len)
{
	const uint8_t *p;
	uint32_t n;
	int r;

	if ((r = rd_u32(c, &n)) < 0)
		return r;
	if (n > max || n > c->len)
		return -EBADMSG;
	if ((*out = malloc((size_t)n + 1)) == NULL)
		return -ENOMEM;
	(void)rd_bytes(c, n, &p);
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

/*
 * The cache record of the mirror last stored (TABLE_MIRROR, key NAME):
 *   u8 version, packed-refs, HEAD, shallow (each u32 length + bytes;
 *   shallow's length is 1 + its length, 0 when not shallow), u32 count,
 *   then per pack file: u32 name length, name, u64 size, u64 mtime,
 *   u32 mode, u32 extent count, extents (u64 off, u32 len, id, key).
 */
static int
mirror_val_encode(const char *pr, size_t prlen, const char *head,
    const char *shallow, size_t shallow_len, const struct plist *l,
    uint8_t **out, size_t *len)
{
	size_t n = 1 + 4 + prlen + 4 + strlen(head) + 4 + shallow_len + 4;
	uint8_t *v;
	uint8_t *p;

	for (size_t i = 0; i < l->n; i++)
		n += 4 + l->v[i].name_len + 8 + 8 + 4 + 4 +
		    l->v[i].n_extents * EXT_VAL_LEN;
	if ((v = malloc(n)) == NULL)
		return -ENOMEM;
	p = v;
	*p++ = VAL_VERSION;
	p = put_u32(p, (uint32_t)prlen);
	memcpy(p, pr, prlen);
	p += prlen;
	p = put_u32(p, (uint32_t)strlen(head));
	memcpy(p, head, strlen(head));
	p += strlen(head);
	p = put_u32(p, shallow ? (uint32_t)shallow_len + 1 : 0);
	if (shallow) {
		memcpy(p, shallow, shallow_len);
		p += shallow_len;
	}
	p = put_u32(p, (uint32_t)l->n);
	for (size_t i = 0; i < l->n; i++) {
		const struct store_entry *e = &l->v[i];

		p = put_u32(p, (uint32_t)e->name_len);
		memcpy(p, e->name, e->name_len);
		p += e->name_len;
		p = put_u64(p, e->size);
		p = put_u64(p, (uint64_t)e->mtime_sec);
		p = put_u32(p, e->mode);
		p = put_u32(p, (uint32_t)e->n_extents);
		for (size_t k = 0; k < e->n_extents; k++)
			p = store_extent_put(p, &e->extents[k]);
	}
	*out = v;
	*len = (size_t)(p - v);
	return 0;
}

static int
mirror_val_decode(struct gsrc *g, const uint8_t *v, size_t len,
    struct prev *p)
{
	struct rd c = rd_init(v, len);
	uint8_t ver;
	uint32_t n;
	uint32_t sl;
	int r;

	if ((r = rd_copy(&c, &ver, 1)) < 0 || ver != VAL_VERSION)
		return -EBADMSG;
	if ((r = rd_str32(&c, META_MAX, &p->packed_refs,
	    &p->packed_refs_len)) < 0 ||
	    (r = rd_str32(&c, 4096, &p->head, &p->head_len)) < 0)
		return r;
	if ((r = rd_u32(&c, &sl)) < 0 || sl > META_MAX + 1 || sl > c.len)
		return -EBADMSG;
	if (sl > 0) {
		if ((p->shallow = malloc(sl)) == NULL)
			return -ENOMEM;
		p->shallow_len = sl - 1;
		rd_copy(&c, p->shallow, sl - 1);
		p->shallow[sl - 1] = '\0';
	}
	if ((r = rd_u32(&c, &n)) < 0 || n > 2 * PACKS_MAX + 2)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		struct store_entry e;
		uint8_t name[STORE_NAME_MAX + 1];
		struct store_extent *ext = NULL;
		uint32_t nl;
		uint32_t ne;
		uint64_t mt;

		memset(&e, 0, sizeof(e));
		if ((r = rd_u32(&c, &nl)) < 0 || nl == 0 ||
		    nl > STORE_NAME_MAX || (r = rd_copy(&c, name, nl)) < 0 ||
		    (r = rd_u64(&c, &e.size)) < 0 ||
		    (r = rd_u64(&c, &mt)) < 0 ||
		    (r = rd_u32(&c, &e.mode)) < 0 ||
		    (r = rd_u32(&c, &ne)) < 0)
			return -EBADMSG;
		if (ne > BLOB_VAL_EXT_MAX || (size_t)ne * EXT_VAL_LEN > c.len ||
		    e.mode > 07777)
			return -EBADMSG;
		if (ne && (ext = calloc(ne, sizeof(*ext))) == NULL)
			return -ENOMEM;
		/* ne * EXT_VAL_LEN <= c.len: checked above, so no short read. */
		for (uint32_t k = 0; k < ne; k++) {
			const uint8_t *x;

			if (rd_bytes(&c, EXT_VAL_LEN, &x) == 0)
				store_extent_get(x, &ext[k]);
		}
		e.name = name;
		e.name_len = nl;
		e.type = STORE_REG;
		e.mtime_sec = (int64_t)mt;
		e.n_extents = ne;
		e.extents = ext;
		r = pack_entry_ok(g, &e) ? plist_add(&p->packs, &e) : -EBADMSG;
		free(ext);
		if (r < 0)
			return r;
	}
	return c.len == 0 ? 0 : -EBADMSG;
}

/* The previous mirror from the cache record; -ENOENT if unusable. */
static int
prev_from_cache(struct gsrc *g, struct prev *p)
{
	void *v = NULL;
	size_t len;
	int r;

	r = store_cache_get(g->c->s, TABLE_MIRROR, g->name, strlen(g->name),
	    &v, &len);
	if (r < 0)
		return r == -ENOMEM ? r : -ENOENT;
	r = mirror_val_decode(g, v, len, p);
	free(v);
	if (r < 0) {
		prev_fini(p);
		return r == -ENOMEM ? r : -ENOENT;
	}
	return 0;
}

/* The previous mirror read back from the newest snapshot holding it. */
static int
prev_from_snapshot(struct gsrc *g, struct prev *p)
{
	struct store_snap_list *l = NULL;
	struct store_entry root;
	struct store_tree *t = NULL;
	struct store_tree *pt = NULL;
	char mname[STORE_NAME_MAX + 1];
	size_t i;
	int is_found = 0;
	int r;

	snprintf(mname, sizeof(mname), "%s.git", g->name);
	if ((r = store_snapshots(g->c->s, &l)) < 0)
		return r == -ENOMEM ? r : -ENOENT;
	for (i = store_snap_list_len(l); i-- > 0 && !is_found;) {
		const struct store_snap *sn = store_snap_list_get(l, i);

		for (size_t j = 0; j < sn->n_sources; j++) {
			const struct store_source *so = &sn->sources[j];

			if (so->kind == STORE_REPOS &&
			    strcmp(so->name, mname) == 0) {
				root = so->root;
				root.name = NULL;
				root.target = NULL;
				root.extents = NULL;
				is_found = 1;
				break;
			}
		}
	}
	store_snap_list_free(l);
	if (!is_found)
		return -ENOENT;
	if ((r = store_read_file(g->c->s, &root, "packed-refs", META_MAX,
	    &p->packed_refs, &p->packed_refs_len)) < 0 ||
	    (r = store_read_file(g->c->s, &root, "HEAD", 4096, &p->head,
	    &p->head_len)) < 0)
		goto out;
	r = store_read_file(g->c->s, &root, "shallow", META_MAX, &p->shallow,
	    &p->shallow_len);
	if (r < 0 && r != -ENOENT)
		goto out;
	if ((r = store_resolve(g->c->s, &root, "objects/pack", &t, &i)) < 0)
		goto out;
	if (t == NULL || store_tree_entry(t, i)->type != STORE_DIR) {
		r = -EBADMSG;
		goto out;
	}
	if ((r = store_tree_read(g->c->s, &store_tree_entry(t, i)->tree,
	    &pt)) < 0)
		goto out;
	if (store_tree_len(pt) > 2 * PACKS_MAX + 2) {
		r = -EBADMSG;
		goto out;
	}
	for (i = 0; i < store_tree_len(pt); i++) {
		const struct store_entry *e = store_tree_entry(pt, i);

		if (!pack_entry_ok(g, e)) {
			r = -EBADMSG;
			goto out;
		}
		if ((r = plist_add(&p->packs, e)) < 0)
			goto out;
	}
	r = 0;
out:
	store_tree_free(t);
	store_tree_free(pt);
	if (r < 0) {
		prev_fini(p);
		if (r == -ENOMEM)
			return r;
		if (g->c->is_verbose)
			fprintf(stderr, "amber ingest: repos/%s.git: previous "
			    "mirror unusable (%s)\n", g->name, strerror(-r));
		return -ENOENT;
	}
	return 0;
}

/*
 * prev_find(g, p):
 * What the mirror last stored holds: packed-refs, HEAD, shallow and the
 * pack files, from the local cache's record of the last ingest, else
 * read back from the newest snapshot holding NAME.git (which needs a key
 * that reads snapshots).  Leaves p->is_found 0 if neither can be used:
 * the caller then packs everything.
 */
static int
prev_find(struct gsrc *g, struct prev *p)
{
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = prev_from_cache(g, p)) == -ENOENT)
		r = prev_from_snapshot(g, p);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->packs.n; i++) {
		const struct store_entry *e = &p->packs.v[i];

		if (memcmp(e->name + e->name_len - 5, ".pack", 5) == 0)
			p->n_packs++;
	}
	p->is_found = 1;
	return 0;
}

/*
 * Whether every previous tip is in the cache and reachable from the new
 * tips (0 or 1), so that the old packs plus a pack of the difference hold
 * exactly the reachable objects.
 */
static int
is_incremental_ok(struct gsrc *g, char **old, size_t n_old, char **tips,
    size_t n_tips)
{
	const char *argv[] = { "git", g->gitdir_arg, "rev-list", "--objects",
		"--no-object-names", "--stdin", NULL };
	char *in = NULL;
	char *out = NULL;
	size_t len;
	size_t o = 0;
	int r;

	for (size_t i = 0; i < n_old; i++) {
		enum obj_type type;
		uint64_t size;

		if ((r = cf_begin(g, "info", old[i], &type, &size)) < 0) {
			if (r == -EPIPE && (r = cf_restart(g)) < 0)
				return r;
			return 0;
		}
	}
	if ((in = malloc((n_old + n_tips) * (g->hexlen + 2) + 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n_old; i++)
		o += (size_t)sprintf(in + o, "%s\n", old[i]);
	for (size_t i = 0; i < n_tips; i++)
		o += (size_t)sprintf(in + o, "^%s\n", tips[i]);
	r = git_run(g, argv, in, o, &out, &len, 1u << 20);
	free(in);
	if (r == -EFBIG || r == -EIO)
		r = 0;
	else if (r == 0)
		r = len == 0;
	free(out);
	return r;
}

/* Store file ${path} (streamed) as entry ${name} of ${tb} and ${l}. */
static int
file_add(struct gsrc *g, struct store_tb *tb, const char *name,
    const char *path, uint32_t mode, struct counts *cnt, struct plist *l)
{
	struct store_file *f = NULL;
	struct store_extent *ext = NULL;
	struct store_entry e;
	uint64_t off = 0;
	int fd;
	int r;

	memset(&e, 0, sizeof(e));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((r = store_file_new(g->c->w, &f)) < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, g->iobuf, IO_LEN);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if ((r = store_file_write(f, off, g->iobuf, (size_t)n)) < 0)
			goto out;
		off += (uint64_t)n;
	}
	if ((r = store_file_end(f, &ext, &e.n_extents)) < 0)
		goto out;
	e.name = (const uint8_t *)name;
	e.name_len = strlen(name);
	e.type = STORE_REG;
	e.mode = mode;
	e.mtime_sec = g->mirror_mtime;
	e.size = off;
	e.extents = ext;
	if ((r = store_tb_add(tb, &e)) < 0 || (r = plist_add(l, &e)) < 0)
		goto out;
	cnt->n_files++;
	cnt->n_bytes += off;
	git_progress_add(g, 1, off);
out:
	close(fd);
	store_file_free(f);
	free(ext);
	return r;
}

/* Store ${len} bytes as entry ${name} of ${tb}. */
static int
text_add(struct gsrc *g, struct store_tb *tb, const char *name,
    const char *text, size_t len, struct counts *cnt)
{
	struct store_extent *ext = NULL;
	struct store_entry e;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = git_bytes_store(g, (const uint8_t *)text, len, &ext,
	    &e.n_extents)) < 0)
		return r;
	e.name = (const uint8_t *)name;
	e.name_len = strlen(name);
	e.type = STORE_REG;
	e.mode = 0644;
	e.mtime_sec = g->mirror_mtime;
	e.size = len;
	e.extents = ext;
	if ((r = store_tb_add(tb, &e)) == 0) {
		cnt->n_files++;
		cnt->n_bytes += len;
		git_progress_add(g, 1, len);
	}
	free(ext);
	return r;
}

/*
 * Whether ${base}-${id}.pack (${id}: ${hexlen} bytes) is a pack with at
 * least one object: then ${id} into ${hex}, else "" there.
 */
static int
pack_check(struct gsrc *g, const char *base, const char *id, char *hex)
{
	char *path;
	uint8_t hdr[12];
	int fd = -1;
	int r = 0;

	hex[0] = '\0';
	if ((path = malloc(strlen(base) + g->hexlen + 8)) == NULL)
		return -ENOMEM;
	sprintf(path, "%s-%.*s.pack", base, (int)g->hexlen, id);
	/* The header's object count (big-endian, bytes 8-11). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, "PACK", 4) != 0)
		r = gerr(g, -EIO, "the new pack is not readable");
	else if (hdr[8] | hdr[9] | hdr[10] | hdr[11])
		sprintf(hex, "%.*s", (int)g->hexlen, id);
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/*
 * Write a pack of the objects reachable from ${tips} but not ${old} into
 * the directory ${tmp}; *${hex} names it, or is "" if it has no object.
 */
static int
pack_write(struct gsrc *g, const char *tmp, char **tips, size_t n_tips,
    char **old, size_t n_old, char *hex)
{
	const char *argv[] = { "git", GIT_MEM_OPTS, g->gitdir_arg,
		"pack-objects", "--revs", "--delta-base-offset", "--quiet", NULL,
		NULL };
	char *base = NULL;
	char *in = NULL;
	char *out = NULL;
	size_t len;
	size_t o = 0;
	int r;

	hex[0] = '\0';
	if ((base = git_str_cat(tmp, "/pack", "")) == NULL ||
	    (in = malloc((n_old + n_tips) * (g->hexlen + 2) + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	argv[sizeof(argv) / sizeof(argv[0]) - 2] = base;
	for (size_t i = 0; i < n_tips; i++)
		o += (size_t)sprintf(in + o, "%s\n", tips[i]);
	for (size_t i = 0; i < n_old; i++)
		o += (size_t)sprintf(in + o, "^%s\n", old[i]);
	if ((r = git_run(g, argv, in, o, &out, &len, 4096)) < 0)
		goto out;
	if (len != g->hexlen + 1 || !hex_is_lower(out, g->hexlen)) {
		r = gerr(g, -EIO, "unexpected pack-objects output");
		goto out;
	}
	r = pack_check(g, base, out, hex);
out:
	free(base);
	free(in);
	free(out);
	return r;
}

/*
 * The one pack of a fresh clone (GIT_CLONED_FILE) into ${tmp}, as hard
 * links: *${hex} names it as pack_write() would.  Returns 0, 1 if the
 * cache is not such a clone (one pack, none kept, promised or cruft),
 * -errno.
 */
static int
pack_cloned(struct gsrc *g, const char *tmp, char *hex)
{
	static const char *const ext[] = { ".pack", ".idx" };
	char *mark = git_str_cat(g->dir, "/", GIT_CLONED_FILE);
	char *dir = git_str_cat(g->dir, "/objects/pack", "");
	char *base = git_str_cat(tmp, "/pack", "");
	char id[HEX_MAX + 1];
	struct dirent *d;
	struct stat st;
	DIR *dp = NULL;
	size_t n_packs = 0;
	int r = 1;

	if (mark == NULL || dir == NULL || base == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (stat(mark, &st) < 0 || (dp = opendir(dir)) == NULL)
		goto out;
	while ((d = readdir(dp)) != NULL) {
		const char *dot = strrchr(d->d_name, '.');
		size_t len = strlen(d->d_name);

		if (dot == NULL || d->d_name[0] == '.' ||
		    strcmp(dot, ".idx") == 0 ||
		    strcmp(dot, ".rev") == 0 || strcmp(dot, ".bitmap") == 0)
			continue;
		if (strcmp(dot, ".pack") != 0 || len != g->hexlen + 10 ||
		    strncmp(d->d_name, "pack-", 5) != 0 ||
		    !hex_is_lower(d->d_name + 5, g->hexlen) || ++n_packs > 1)
			goto out;	/* .keep, .promisor, .mtimes, ... */
		memcpy(id, d->d_name + 5, g->hexlen);
		id[g->hexlen] = '\0';
	}
	if (n_packs != 1)
		goto out;
	for (size_t k = 0; k < 2; k++) {
		char name[HEX_MAX + 16];
		char *from;
		char *to;

		snprintf(name, sizeof(name), "/pack-%s%s", id, ext[k]);
		from = git_str_cat(dir, name, "");
		to = git_str_cat(tmp, name, "");
		r = from == NULL || to == NULL ? -ENOMEM :
		    link(from, to) < 0 ? 1 : 0;
		free(from);
		free(to);
		if (r != 0)
			goto out;
	}
	r = pack_check(g, base, id, hex);
out:
	if (dp != NULL)
		closedir(dp);
	free(mark);
	free(dir);
	free(base);
	return r;
}

static const char CONFIG_SHA1[] =
    "[core]\n"
    "\trepositoryformatversion = 0\n"
    "\tfilemode = true\n"
    "\tbare = true\n";
static const char CONFIG_SHA256[] =
    "[core]\n"
    "\trepositoryformatversion = 1\n"
    "\tfilemode = true\n"
    "\tbare = true\n"
    "[extensions]\n"
    "\tobjectformat = sha256\n";

/* Add an empty directory ${name} to ${parent}. */
static int
empty_dir_add(struct gsrc *g, struct store_tb *parent, const char *name)
{
	struct store_tb *tb = NULL;
	int r;

	if ((r = store_tb_new(&tb)) == 0)
		r = git_dir_add(g, parent, name, tb, g->mirror_mtime);
	store_tb_free(tb);
	return r;
}

/*
 * packed-refs (without the peeled trait: git peels when it needs) into
 * *${pr} (*${len} bytes), and the tips, every ref's object and a
 * detached HEAD, sorted and unique, into *${tips} (pointing into
 * ${refs} and ${head}).  Returns 0 or -ENOMEM.
 */
static int
refs_text(struct gsrc *g, const struct gref *refs, size_t n_refs,
    const char *head, char **pr, size_t *len, char ***tips, size_t *n_tips)
{
	size_t cap = 1;
	size_t o = 0;
	size_t n = 0;
	size_t k = 0;

	for (size_t i = 0; i < n_refs; i++)
		cap += g->hexlen + strlen(refs[i].name) + 2;
	if ((*pr = malloc(cap)) == NULL ||
	    (*tips = calloc(n_refs + 1, sizeof(**tips))) == NULL)
		return -ENOMEM;
	(*pr)[0] = '\0';
	for (size_t i = 0; i < n_refs; i++) {
		o += (size_t)sprintf(*pr + o, "%s %s\n", refs[i].hex,
		    refs[i].name);
		(*tips)[n++] = (char *)refs[i].hex;
	}
	if (strlen(head) == g->hexlen)
		(*tips)[n++] = (char *)head;
	if (n)
		qsort(*tips, n, sizeof(**tips), tip_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp((*tips)[i], (*tips)[k - 1]) != 0)
			(*tips)[k++] = (*tips)[i];
	*len = o;
	*n_tips = k;
	return 0;
}

/*
 * Whether to pack everything: 1 yes, 0 no (only the objects not
 * reachable from the previous tips *${old}, or, with *${is_reuse} set,
 * nothing new at all), -errno.  The previous packs serve only if there
 * are few enough of them and the shallow boundary did not move.
 */
static int
pack_plan(struct gsrc *g, struct prev *p, const char *shallow,
    size_t shallow_len, char **tips, size_t n_tips, char ***old,
    size_t *n_old, int *is_reuse)
{
	int is_same;
	int r;

	if (!p->is_found || p->n_packs >= PACKS_MAX ||
	    (p->shallow == NULL) != (shallow == NULL) ||
	    (shallow != NULL && (p->shallow_len != shallow_len ||
	    memcmp(p->shallow, shallow, shallow_len) != 0)) ||
	    prev_tips(g, p, old, n_old) != 0)
		return 1;
	is_same = *n_old == n_tips;
	for (size_t i = 0; is_same && i < n_tips; i++)
		is_same = strcmp((*old)[i], tips[i]) == 0;
	if (is_same) {
		*is_reuse = 1;
		return 0;
	}
	if (*n_old == 0)
		return 0;
	if ((r = is_incremental_ok(g, *old, *n_old, tips, n_tips)) < 0)
		return r;
	return !r;
}

/*
 * The new pack pack-${hex}.{pack,idx}, written in ${tmp}, into ${packs},
 * but not a file the previous packs ${p} (NULL: none kept) already hold.
 */
static int
new_pack_add(struct gsrc *g, const char *tmp, const char *hex,
    const struct prev *p, struct store_tb *packs, struct counts *cnt,
    struct plist *kept)
{
	static const char *const ext[] = { ".pack", ".idx" };
	char *f;
	int r;

	for (size_t k = 0; k < 2; k++) {
		char name[HEX_MAX + 16];
		int is_dup = 0;

		snprintf(name, sizeof(name), "pack-%s%s", hex, ext[k]);
		for (size_t i = 0; p != NULL && i < p->packs.n; i++) {
			const struct store_entry *e = &p->packs.v[i];

			if (e->name_len == strlen(name) &&
			    memcmp(e->name, name, e->name_len) == 0)
				is_dup = 1;
		}
		if (is_dup)
			continue;
		if ((f = git_str_cat(tmp, "/", name)) == NULL)
			return -ENOMEM;
		r = file_add(g, packs, name, f, 0444, cnt, kept);
		free(f);
		if (r < 0)
			return r;
	}
	return 0;
}

/* objects/pack (${packs}), objects/info, refs/heads and refs/tags. */
static int
dirs_add(struct gsrc *g, struct store_tb *root, struct store_tb *objs,
    struct store_tb *packs, struct store_tb *rtb)
{
	int r;

	if ((r = git_dir_add(g, objs, "pack", packs, g->mirror_mtime)) < 0 ||
	    (r = empty_dir_add(g, objs, "info")) < 0 ||
	    (r = git_dir_add(g, root, "objects", objs, g->mirror_mtime)) < 0 ||
	    (r = empty_dir_add(g, rtb, "heads")) < 0 ||
	    (r = empty_dir_add(g, rtb, "tags")) < 0 ||
	    (r = git_dir_add(g, root, "refs", rtb, g->mirror_mtime)) < 0)
		return r;
	return 0;
}

/* The source's root: ${root} stored, and the counts ${cnt}. */
static int
root_finish(struct gsrc *g, struct store_tb *root, const struct counts *cnt,
    struct store_source *out)
{
	int r;

	memset(&out->root, 0, sizeof(out->root));
	out->root.type = STORE_DIR;
	out->root.mode = 0755;
	out->root.mtime_sec = g->mirror_mtime;
	/* git reads a repository only if the reader owns it. */
	out->root.flags = STORE_ENTRY_OWNER_VIEWER;
	if ((r = store_tb_finish(g->c->w, root, &out->root)) < 0)
		return r;
	out->n_files = cnt->n_files;
	out->n_bytes = cnt->n_bytes;
	return 0;
}

/*
 * One pack of what ${tips} reach and ${old} do not, in a new temporary
 * directory *${tmp} (the caller removes it); its id into ${hex}.  With
 * ${is_cloned} (everything is packed, and the tips are the refs alone),
 * a fresh clone's pack serves as it is (pack_cloned()).
 */
static int
pack_new(struct gsrc *g, char **tmp, char **tips, size_t n_tips,
    char **old, size_t n_old, int is_cloned, char hex[HEX_MAX + 1])
{
	int r;

	if ((*tmp = git_str_cat(g->dir, ".pack-XXXXXX", "")) == NULL)
		return -ENOMEM;
	if (mkdtemp(*tmp) == NULL) {
		r = -errno;
		free(*tmp);
		*tmp = NULL;
		return r;
	}
	r = is_cloned ? pack_cloned(g, *tmp, hex) : 1;
	if (r == 1)
		r = pack_write(g, *tmp, tips, n_tips, old, n_old, hex);
	if (r < 0)
		g->is_cache_suspect = r == -EIO;
	return r < 0 ? r : 0;
}

/*
 * git_mirror_build(g, refs, n_refs, head, out):
 * The mirror source NAME.git: HEAD, config, packed-refs, shallow (if the
 * repository is shallow), objects/pack/ (the previous snapshot's packs
 * plus one new pack, or one pack of everything), objects/info/, refs/.
 */
int
git_mirror_build(struct gsrc *g, const struct gref *refs, size_t n_refs,
    const char *head, struct store_source *out)
{
	struct store_tb *root = NULL;
	struct store_tb *objs = NULL;
	struct store_tb *packs = NULL;
	struct store_tb *rtb = NULL;
	struct counts cnt = { 0, 0 };
	struct plist kept = { NULL, 0, 0 };
	struct prev p;
	uint8_t *val = NULL;
	size_t vlen;
	char **tips = NULL;
	char **old = NULL;
	size_t n_tips = 0;
	size_t n_old = 0;
	char *pr = NULL;
	char *shallow = NULL;
	char *shallow_path = NULL;
	char *tmp = NULL;
	size_t shallow_len = 0;
	size_t o = 0;
	char hex[HEX_MAX + 1];
	char headline[1100];
	int is_full = 1;
	int is_reuse = 0;
	int r;

	memset(&p, 0, sizeof(p));
	if ((r = refs_text(g, refs, n_refs, head, &pr, &o, &tips,
	    &n_tips)) < 0)
		goto out;
	if ((shallow_path = git_str_cat(g->dir, "/shallow", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = io_read_file(shallow_path, META_MAX, &shallow, &shallow_len);
	if (r < 0 && r != -ENOENT)
		goto out;

	/* Decide: reuse the previous packs as they are, add one, or repack. */
	if ((r = prev_find(g, &p)) < 0)
		goto out;
	if ((r = pack_plan(g, &p, shallow, shallow_len, tips, n_tips, &old,
	    &n_old, &is_reuse)) < 0)
		goto out;
	is_full = r;
	if (is_full)
		n_old = 0;
	if (g->c->is_verbose)
		fprintf(stderr, "amber ingest: repos/%s.git: %s\n", g->name,
		    is_reuse ? "unchanged" : is_full ? "packing everything" :
		    "packing the new objects");

	if ((r = store_tb_new(&root)) < 0 || (r = store_tb_new(&objs)) < 0 ||
	    (r = store_tb_new(&packs)) < 0 || (r = store_tb_new(&rtb)) < 0)
		goto out;
	if (!is_full)
		for (size_t i = 0; i < p.packs.n; i++) {
			const struct store_entry *e = &p.packs.v[i];

			if ((r = store_tb_add(packs, e)) < 0 ||
			    (r = plist_add(&kept, e)) < 0)
				goto out;
			cnt.n_files++;
			cnt.n_bytes += e->size;
		}
	hex[0] = '\0';
	if (!is_reuse && n_tips > 0 &&
	    (r = pack_new(g, &tmp, tips, n_tips, old, n_old,
	    is_full && strlen(head) != g->hexlen, hex)) < 0)
		goto out;
	if (hex[0] && (r = new_pack_add(g, tmp, hex, is_full ? NULL : &p,
	    packs, &cnt, &kept)) < 0)
		goto out;
	if ((r = dirs_add(g, root, objs, packs, rtb)) < 0)
		goto out;
	snprintf(headline, sizeof(headline), "%s\n", head);
	if ((r = text_add(g, root, "HEAD", headline, strlen(headline),
	    &cnt)) < 0 ||
	    (r = text_add(g, root, "config", g->hexlen == 64 ? CONFIG_SHA256 :
	    CONFIG_SHA1, strlen(g->hexlen == 64 ? CONFIG_SHA256 :
	    CONFIG_SHA1), &cnt)) < 0 ||
	    (r = text_add(g, root, "packed-refs", pr, o, &cnt)) < 0)
		goto out;
	if (shallow && (r = text_add(g, root, "shallow", shallow, shallow_len,
	    &cnt)) < 0)
		goto out;
	if ((r = root_finish(g, root, &cnt, out)) < 0)
		goto out;
	/* Remember this mirror for the next ingest (a hint; may be lost). */
	if ((r = mirror_val_encode(pr, o, headline, shallow, shallow_len,
	    &kept, &val, &vlen)) < 0)
		goto out;
	store_cache_put(g->c->s, TABLE_MIRROR, g->name, strlen(g->name), val,
	    vlen);
out:
	free(val);
	plist_fini(&kept);
	if (tmp)
		git_rm_tree(tmp);
	store_tb_free(root);
	store_tb_free(objs);
	store_tb_free(packs);
	store_tb_free(rtb);
	prev_fini(&p);
	free(tips);
	free(old);
	free(pr);
	free(shallow);
	free(shallow_path);
	free(tmp);
	return r;
}
