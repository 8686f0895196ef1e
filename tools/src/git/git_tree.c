/*
 * git_tree.c: the browsable trees,
 * for the git reader (src_git.c; its types in gitint.h).
 */
#include "gitint.h"

/* ---- browsable trees --------------------------------------------------- */

/* One entry of a git tree object, pointing into the object. */
struct gent {
	uint32_t mode;
	const uint8_t *name;
	size_t name_len;
	const uint8_t *oid;
	int is_skipped;
};

static int
gent_cmp(const void *a, const void *b)
{
	const struct gent *x = *(const struct gent *const *)a;
	const struct gent *y = *(const struct gent *const *)b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);

	if (c)
		return c;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/*
 * Parse a tree object strictly: "<octal mode> <name>\0<raw id>" repeated.
 * *${out} is a malloc'd array pointing into ${buf}.
 */
static int
tree_parse(const struct gsrc *g, const uint8_t *buf, size_t len,
    struct gent **out, size_t *n_out)
{
	struct gent *e = NULL;
	size_t n = 0;
	size_t cap = 0;
	size_t i = 0;

	while (i < len) {
		uint32_t mode = 0;
		size_t digits = 0;
		size_t start;

		while (i < len && buf[i] != ' ') {
			if (buf[i] < '0' || buf[i] > '7' || ++digits > 7)
				goto bad;
			mode = mode << 3 | (uint32_t)(buf[i++] - '0');
		}
		if (digits == 0 || i++ >= len)
			goto bad;
		start = i;
		while (i < len && buf[i] != '\0')
			i++;
		if (i >= len || len - i - 1 < g->rawlen)
			goto bad;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct gent *ne = realloc(e, ncap * sizeof(*e));

			if (ne == NULL) {
				free(e);
				return -ENOMEM;
			}
			e = ne;
			cap = ncap;
		}
		e[n].mode = mode;
		e[n].name = buf + start;
		e[n].name_len = i - start;
		e[n].oid = buf + i + 1;
		e[n].is_skipped = 0;
		n++;
		i += 1 + g->rawlen;
	}
	*out = e;
	*n_out = n;
	return 0;
bad:
	free(e);
	return -EBADMSG;
}

/*
 * Mark entries that cannot be stored: an empty name, "." or "..", a name
 * over STORE_NAME_MAX bytes, and every repeat of a name (git trees are
 * never supposed to hold these; a hostile one may).
 */
static int
tree_screen(struct gsrc *g, struct gent *e, size_t n)
{
	struct gent **ix;

	for (size_t i = 0; i < n; i++) {
		if (e[i].name_len == 0 || e[i].name_len > STORE_NAME_MAX ||
		    (e[i].name_len == 1 && e[i].name[0] == '.') ||
		    (e[i].name_len == 2 && e[i].name[0] == '.' &&
		    e[i].name[1] == '.')) {
			size_t old = git_path_push(g, e[i].name, e[i].name_len);

			gwarn(g, "name cannot be stored; skipped", NULL);
			git_path_pop(g, old);
			e[i].is_skipped = 1;
		}
	}
	if (n < 2)
		return 0;
	if ((ix = malloc(n * sizeof(*ix))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ix[i] = &e[i];
	qsort(ix, n, sizeof(*ix), gent_cmp);
	for (size_t i = 1; i < n; i++) {
		if (gent_cmp(&ix[i - 1], &ix[i]) == 0 && !ix[i]->is_skipped) {
			size_t old = git_path_push(g, ix[i]->name,
			    ix[i]->name_len);

			gwarn(g, "duplicate name in tree; skipped", NULL);
			git_path_pop(g, old);
			ix[i]->is_skipped = 1;
		}
	}
	free(ix);
	return 0;
}

/* Report an object that could not be read; restart cat-file if needed. */
static int
obj_fail(struct gsrc *g, int r, const uint8_t *oid)
{
	char hex[HEX_MAX + 1];

	hex_encode(oid, g->rawlen, hex);
	switch (r) {
	case -ENOENT:
		gwarn(g, "missing; skipped", hex);
		return 0;
	case -EBADMSG:
		gwarn(g, "not of the type its tree says, or malformed; skipped",
		    hex);
		return 0;
	case -EFBIG:
		gwarn(g, "too large for its kind; skipped", hex);
		return 0;
	case -EPIPE:
		gwarn(g, "cannot be read (corrupt?); skipped", hex);
		g->is_cache_suspect = 1;
		return cf_restart(g);
	default:
		return r;
	}
}

/*
 * Ask cat-file for the contents of the files of ${ge} from entry
 * ${*ahead} on (at least ${i}, the one about to be read) that this run
 * and the cache do not know, up to CF_PIPE pending, and advance
 * *${ahead}.  Only -ENOMEM fails: git's errors show when the answers are
 * read.
 */
static int
blob_ask(struct gsrc *g, const struct gent *ge, size_t n_ge, size_t i,
    size_t *ahead)
{
	if (*ahead < i)
		*ahead = i;
	while (*ahead < n_ge && g->cf.n_pend < CF_PIPE) {
		const struct gent *x = &ge[(*ahead)++];
		struct store_extent *ext = NULL;
		char hex[HEX_MAX + 1];
		uint64_t size;
		size_t n;
		int r;

		if (x->is_skipped || (x->mode & 0170000) != 0100000)
			continue;
		r = git_blob_lookup(g, x->oid, &size, &ext, &n);
		free(ext);
		if (r == 0)
			continue;
		if (r == -ENOMEM)
			return r;
		hex_encode(x->oid, g->rawlen, hex);
		if (!cf_is_pending(g, hex) && cf_ask(g, hex) < 0)
			break;
	}
	return 0;
}

/* A submodule: a directory holding SUBMODULE_FILE with "<commit id>\n". */
static int
gitlink_store(struct gsrc *g, const uint8_t *oid, struct store_entry *dir)
{
	struct store_tb *tb = NULL;
	struct store_extent *ext = NULL;
	struct store_entry f;
	char text[HEX_MAX + 2];
	size_t n;
	int r;

	hex_encode(oid, g->rawlen, text);
	text[g->hexlen] = '\n';
	if ((r = git_bytes_store(g, (const uint8_t *)text, g->hexlen + 1, &ext,
	    &n)) < 0 || (r = store_tb_new(&tb)) < 0)
		goto out;
	store_entry_init(&f, SUBMODULE_FILE, STORE_REG, 0644);
	f.flags = STORE_ENTRY_MTIME_INHERIT;
	f.size = g->hexlen + 1;
	f.n_extents = n;
	f.extents = ext;
	if ((r = store_tb_add(tb, &f)) < 0)
		goto out;
	r = store_tb_finish(g->c->w, tb, dir);
out:
	store_tb_free(tb);
	free(ext);
	return r;
}

static int tree_store(struct gsrc *g, const uint8_t *oid, int depth,
    struct store_entry *dir, struct counts *cnt);

/*
 * The entry ${ge} of a tree at ${depth} into ${e}: a directory, file,
 * symlink or submodule, its counts added to *${cnt}.  *${ext} and *${tgt}
 * are the caller's to free; *${is_ok} is cleared if the entry is to be
 * left out.  Returns what reading it returned.
 */
static int
gent_store(struct gsrc *g, const struct gent *ge, int depth,
    struct store_entry *e, struct store_extent **ext, uint8_t **tgt,
    struct counts *cnt, int *is_ok)
{
	struct counts sub;
	int r = 0;

	switch (ge->mode & 0170000) {
	case 0040000:
		e->type = STORE_DIR;
		e->mode = 0755;
		if (depth >= DEPTH_MAX) {
			gwarn(g, "nested too deep; skipped", NULL);
			*is_ok = 0;
			break;
		}
		r = tree_store(g, ge->oid, depth + 1, e, &sub);
		if (r == 0) {
			cnt->n_files += sub.n_files;
			cnt->n_bytes += sub.n_bytes;
		}
		break;
	case 0100000:
		e->type = STORE_REG;
		e->mode = ge->mode & 0111 ? 0755 : 0644;
		r = git_blob_store(g, ge->oid, &e->size, ext,
		    &e->n_extents);
		e->extents = *ext;
		if (r == 0) {
			cnt->n_files++;
			cnt->n_bytes += e->size;
			git_progress_add(g, 1, e->size);
		}
		break;
	case 0120000: {
		size_t tlen = 0;
		char thex[HEX_MAX + 1];

		e->type = STORE_LNK;
		e->mode = 0777;
		hex_encode(ge->oid, g->rawlen, thex);
		r = cf_get(g, thex, OBJ_BLOB, STORE_TARGET_MAX, 1,
		    tgt, &tlen, NULL);
		if (r == 0 && (tlen == 0 ||
		    memchr(*tgt, '\0', tlen) != NULL)) {
			gwarn(g, "symlink target empty or holds NUL; "
			    "skipped", NULL);
			*is_ok = 0;
		}
		e->target = *tgt;
		e->target_len = tlen;
		e->size = tlen;
		if (r == 0 && *is_ok) {
			cnt->n_files++;
			git_progress_add(g, 1, 0);
		}
		break;
	}
	case 0160000:
		e->type = STORE_DIR;
		e->mode = 0755;
		r = gitlink_store(g, ge->oid, e);
		if (r == 0)
			cnt->n_files++;
		break;
	default:
		gwarn(g, "unknown file mode; skipped", NULL);
		*is_ok = 0;
		break;
	}
	return r;
}

/*
 * tree_store(g, oid, depth, dir, cnt):
 * Store git tree ${oid} as a directory whose entries all inherit its
 * mtime (STORE_ENTRY_MTIME_INHERIT), so that the stored tree depends on
 * ${oid} alone; fills dir->tree and dir->n_desc (the caller sets the
 * rest) and *${cnt}.
 * Unreadable entries are warned about and left out (and such a tree is
 * not cached).  Returns -ENOENT/-EBADMSG/-EPIPE when the tree object
 * itself cannot be read (the caller warns), other -errno on failure.
 */
static int
tree_store(struct gsrc *g, const uint8_t *oid, int depth,
    struct store_entry *dir, struct counts *cnt)
{
	uint8_t val[TREE_VAL_LEN];
	struct map_slot *s;
	struct store_tb *tb = NULL;
	struct gent *ge = NULL;
	uint8_t *obj = NULL;
	size_t objlen;
	size_t n_ge = 0;
	void *cv = NULL;
	size_t cvlen;
	char hex[HEX_MAX + 1];
	int was_partial = g->is_partial;
	int r;

	memset(cnt, 0, sizeof(*cnt));
	if ((s = gmap_find(&g->trees, oid, g->rawlen)) != NULL) {
		if (git_tree_val_decode(s->val, s->vlen, dir, cnt) < 0)
			return -EINVAL;
		git_progress_add(g, cnt->n_files, cnt->n_bytes);
		return 0;
	}
	if (store_cache_get(g->c->s, TABLE_TREE, oid, g->rawlen, &cv,
	    &cvlen) == 0 && git_tree_val_decode(cv, cvlen, dir, cnt) == 0 &&
	    store_has_chunk(g->c->s, dir->tree.id) == 1) {
		r = gmap_put(&g->trees, oid, g->rawlen, cv, cvlen);
		free(cv);
		git_progress_add(g, cnt->n_files, cnt->n_bytes);
		return r;
	}
	free(cv);
	memset(cnt, 0, sizeof(*cnt));
	g->is_partial = 0;

	hex_encode(oid, g->rawlen, hex);
	if ((r = cf_get(g, hex, OBJ_TREE, TREE_OBJ_MAX, 1, &obj, &objlen,
	    NULL)) < 0)
		goto out;
	if ((r = tree_parse(g, obj, objlen, &ge, &n_ge)) < 0) {
		if (r == -EBADMSG)
			gwarn(g, "malformed tree; stored as empty", hex);
		else
			goto out;
	}
	if ((r = tree_screen(g, ge, n_ge)) < 0 || (r = store_tb_new(&tb)) < 0)
		goto out;
	/*
	 * Files first, their contents asked of git ahead (blob_ask()), then
	 * the rest, whose reads would otherwise come between (the order of
	 * the entries does not matter: store_tb_finish() sorts them).
	 */
	for (size_t k = 0, ahead = 0; k < 2 * n_ge; k++) {
		size_t i = k % n_ge;
		int is_file = (ge[i].mode & 0170000) == 0100000;
		struct store_extent *ext = NULL;
		struct store_entry e;
		uint8_t *tgt = NULL;
		size_t old;
		int is_ok = 1;

		if (ge[i].is_skipped || is_file != (k < n_ge))
			continue;
		if (is_file && (r = blob_ask(g, ge, n_ge, i, &ahead)) < 0)
			goto out;
		old = git_path_push(g, ge[i].name, ge[i].name_len);
		memset(&e, 0, sizeof(e));
		e.name = ge[i].name;
		e.name_len = ge[i].name_len;
		e.flags = STORE_ENTRY_MTIME_INHERIT;
		r = gent_store(g, &ge[i], depth, &e, &ext, &tgt, cnt, &is_ok);
		if (r < 0) {
			is_ok = 0;
			r = obj_fail(g, r, ge[i].oid);
		}
		if (r == 0 && is_ok)
			r = store_tb_add(tb, &e);
		free(ext);
		free(tgt);
		git_path_pop(g, old);
		if (r < 0)
			goto out;
	}
	if ((r = store_tb_finish(g->c->w, tb, dir)) < 0)
		goto out;
	if (!g->is_partial) {
		git_tree_val_encode(val, dir, cnt);
		if ((r = gmap_put(&g->trees, oid, g->rawlen, val,
		    sizeof(val))) < 0)
			goto out;
		/* Deferred to the commit: a cached tree is reused with only
		 * its own chunk checked, so its whole subtree must be
		 * stored before the record is. */
		store_writer_cache_put(g->c->w, TABLE_TREE, oid, g->rawlen,
		    val, sizeof(val));
	}
out:
	g->is_partial |= was_partial;
	store_tb_free(tb);
	free(ge);
	free(obj);
	return r;
}

/*
 * Parse the time of a "committer ..." or "tagger ..." header line: the
 * decimal after the last '>'.  Returns 0 if absent or malformed.
 */
static int64_t
ident_time(const char *line, size_t len)
{
	const char *gt = NULL;
	int64_t t = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] == '>')
			gt = line + i;
	if (gt == NULL)
		return 0;
	i = (size_t)(gt - line) + 1;
	if (i >= len || line[i] != ' ')
		return 0;
	for (i++; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (t > (INT64_MAX - 9) / 10)
			return 0;
		t = t * 10 + (line[i] - '0');
	}
	return t;
}

/*
 * Find "<key> <value>" among the header lines of a commit or tag (before
 * the first empty line); returns a pointer to the value and its length.
 */
static const char *
header_find(const char *obj, size_t len, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	size_t i = 0;

	while (i < len && obj[i] != '\n') {
		const char *nl = memchr(obj + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (obj + i)) : len - i;

		if (ll > klen && memcmp(obj + i, key, klen) == 0 &&
		    obj[i + klen] == ' ') {
			*vlen = ll - klen - 1;
			return obj + i + klen + 1;
		}
		i += ll + 1;
	}
	return NULL;
}

/*
 * peel(g, hex, type, oid, mtime):
 * Follow tags from object ${hex} to a commit's tree (*${type} OBJ_TREE,
 * *${mtime} the committer time), or to a tree or blob (*${mtime} the
 * innermost tagger's time, or 0).  Errors as cf_get; -EBADMSG if a tag or
 * commit is malformed or tags nest too deep.
 */
static int
peel(struct gsrc *g, const char *start, enum obj_type *type, uint8_t *oid,
    int64_t *mtime)
{
	char hex[HEX_MAX + 1];
	int64_t t = 0;

	memcpy(hex, start, g->hexlen + 1);
	for (int i = 0; i < PEEL_MAX; i++) {
		enum obj_type got;
		uint8_t *obj = NULL;
		size_t len;
		const char *v;
		size_t vlen;
		int r;

		if ((r = cf_begin(g, "info", hex, &got, &(uint64_t){ 0 })) < 0)
			return r;
		if (got == OBJ_TREE || got == OBJ_BLOB) {
			*type = got;
			(void)hex_decode(hex, oid, g->rawlen);
			*mtime = t;
			return 0;
		}
		if ((r = cf_get(g, hex, got, HDR_OBJ_MAX, 0, &obj, &len,
		    NULL)) < 0)
			return r;
		if (got == OBJ_COMMIT) {
			v = header_find((char *)obj, len, "tree", &vlen);
			if (v == NULL || vlen != g->hexlen ||
			    !hex_is_lower(v, vlen)) {
				free(obj);
				return -EBADMSG;
			}
			(void)hex_decode(v, oid, g->rawlen);
			v = header_find((char *)obj, len, "committer", &vlen);
			*mtime = v ? ident_time(v, vlen) : 0;
			*type = OBJ_TREE;
			free(obj);
			return 0;
		}
		v = header_find((char *)obj, len, "object", &vlen);
		if (v == NULL || vlen != g->hexlen || !hex_is_lower(v, vlen)) {
			free(obj);
			return -EBADMSG;
		}
		memcpy(hex, v, vlen);
		hex[vlen] = '\0';
		v = header_find((char *)obj, len, "tagger", &vlen);
		t = v ? ident_time(v, vlen) : t;
		free(obj);
	}
	return -EBADMSG;
}

/*
 * The directory name of a ref below refs/heads/ or refs/tags/: '%' becomes
 * "%25" and '/' becomes "%2F", so that one ref is one path component and
 * the mapping is reversible.  Returns -ENAMETOOLONG past STORE_NAME_MAX.
 */
static int
ref_encode(const char *ref, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = ref; *p; p++) {
		const char *rep = *p == '%' ? "%25" : *p == '/' ? "%2F" : NULL;
		size_t n = rep ? 3 : 1;

		if (o + n > STORE_NAME_MAX || o + n >= cap)
			return -ENAMETOOLONG;
		if (rep)
			memcpy(out + o, rep, 3);
		else
			out[o] = *p;
		o += n;
	}
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return -EINVAL;
	return 0;
}

/*
 * One browsable entry named ${ename} for the object ${hex}: a directory
 * for what peels to a tree, a file for a blob.  A ref that cannot be read
 * is warned about and left out (*${is_added} 0).
 */
static int
tip_add(struct gsrc *g, struct store_tb *tb, const char *ename,
    const char *hex, struct counts *cnt, int64_t *max_mtime, int *is_added)
{
	struct store_extent *ext = NULL;
	struct store_entry e;
	struct counts sub = { 0, 0 };
	enum obj_type type;
	uint8_t oid[RAW_MAX];
	int64_t mtime;
	int r;

	*is_added = 0;
	memset(&e, 0, sizeof(e));
	(void)hex_decode(hex, oid, g->rawlen);
	if ((r = peel(g, hex, &type, oid, &mtime)) < 0)
		return obj_fail(g, r, oid);
	e.name = (const uint8_t *)ename;
	e.name_len = strlen(ename);
	e.mtime_sec = mtime;
	if (type == OBJ_TREE) {
		e.type = STORE_DIR;
		e.mode = 0755;
		r = tree_store(g, oid, 0, &e, &sub);
	} else {
		e.type = STORE_REG;
		e.mode = 0644;
		r = git_blob_store(g, oid, &e.size, &ext, &e.n_extents);
		e.extents = ext;
		sub.n_files = 1;
		sub.n_bytes = e.size;
	}
	if (r < 0) {
		free(ext);
		return obj_fail(g, r, oid);
	}
	if ((r = store_tb_add(tb, &e)) == 0) {
		*is_added = 1;
		cnt->n_files += sub.n_files;
		cnt->n_bytes += sub.n_bytes;
		if (mtime > *max_mtime)
			*max_mtime = mtime;
	}
	free(ext);
	return r;
}

/* Finish ${tb} as directory ${name} and add it to ${parent}. */
int
git_dir_add(struct gsrc *g, struct store_tb *parent, const char *name,
    struct store_tb *tb, int64_t mtime)
{
	struct store_entry e;
	int r;

	store_entry_init(&e, name, STORE_DIR, 0755);
	e.mtime_sec = mtime;
	if ((r = store_tb_finish(g->c->w, tb, &e)) < 0)
		return r;
	return store_tb_add(parent, &e);
}

/*
 * git_browse_build(g, refs, n_refs, head, out):
 * The browsable source NAME: HEAD, branches/, tags/ (see the file
 * comment and amber-git(5)).
 */
int
git_browse_build(struct gsrc *g, const struct gref *refs, size_t n_refs,
    const char *head, struct store_source *out)
{
	struct store_tb *root = NULL;
	struct store_tb *br = NULL;
	struct store_tb *tg = NULL;
	struct counts cnt = { 0, 0 };
	int64_t t_br = 0;
	int64_t t_tg = 0;
	char ename[STORE_NAME_MAX + 1];
	char head_target[STORE_NAME_MAX + 16];
	int has_head = 0;
	int r;

	head_target[0] = '\0';
	if ((r = store_tb_new(&root)) < 0 || (r = store_tb_new(&br)) < 0 ||
	    (r = store_tb_new(&tg)) < 0)
		goto out;
	for (size_t i = 0; i < n_refs; i++) {
		const char *rn = refs[i].name;
		int is_branch = strncmp(rn, "refs/heads/", 11) == 0;
		int is_tag = strncmp(rn, "refs/tags/", 10) == 0;
		int is_added;
		size_t old;

		if (!is_branch && !is_tag)
			continue;
		r = ref_encode(rn + (is_branch ? 11 : 10), ename,
		    sizeof(ename));
		if (r < 0) {
			char q[4 * 1024 + 1];

			git_quote(rn, strlen(rn), q, sizeof(q));
			g->is_partial = 1;
			src_warn(g->c, "repos/%s: ref %s: name too long for a "
			    "directory (the ref is in the mirror); not "
			    "browsable", g->name, q);
			continue;
		}
		old = git_path_push(g, is_branch ? "branches" : "tags",
		    is_branch ? 8 : 4);
		git_path_push(g, ename, strlen(ename));
		r = tip_add(g, is_branch ? br : tg, ename, refs[i].hex, &cnt,
		    is_branch ? &t_br : &t_tg, &is_added);
		git_path_pop(g, old);
		if (r < 0)
			goto out;
		if (is_added && is_branch && strncmp(head, "ref: ", 5) == 0 &&
		    strcmp(head + 5, rn) == 0) {
			snprintf(head_target, sizeof(head_target),
			    "branches/%s", ename);
			has_head = 1;
		}
	}
	if (has_head) {
		struct store_entry e;

		store_entry_init(&e, "HEAD", STORE_LNK, 0777);
		e.mtime_sec = t_br;
		e.target = (const uint8_t *)head_target;
		e.target_len = strlen(head_target);
		e.size = e.target_len;
		if ((r = store_tb_add(root, &e)) < 0)
			goto out;
	} else if (strlen(head) == g->hexlen) {
		/* A detached HEAD: the directory of its commit's tree. */
		int is_added;
		int64_t t = 0;
		size_t old = git_path_push(g, "HEAD", 4);

		r = tip_add(g, root, "HEAD", head, &cnt, &t, &is_added);
		git_path_pop(g, old);
		if (r < 0)
			goto out;
	}
	/* An empty branches/ or tags/ takes the other's time. */
	if ((r = git_dir_add(g, root, "branches", br, t_br ? t_br : t_tg)) < 0 ||
	    (r = git_dir_add(g, root, "tags", tg, t_tg ? t_tg : t_br)) < 0)
		goto out;
	memset(&out->root, 0, sizeof(out->root));
	out->root.type = STORE_DIR;
	out->root.mode = 0755;
	out->root.mtime_sec = t_br > t_tg ? t_br : t_tg;
	if ((r = store_tb_finish(g->c->w, root, &out->root)) < 0)
		goto out;
	if (out->root.mtime_sec > 0)
		g->mirror_mtime = out->root.mtime_sec;
	out->n_files = cnt.n_files;
	out->n_bytes = cnt.n_bytes;
out:
	store_tb_free(root);
	store_tb_free(br);
	store_tb_free(tg);
	return r;
}
