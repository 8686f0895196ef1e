/*
 * tree.c: encoding, decoding and validation of trees, and the public tree
 * accessors.  Every tree read anywhere goes through tree_decode(), so a
 * tree that could make a restore write outside its target ("..", "/" in
 * a name) or loop never reaches a caller.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypt.h"
#include "tree.h"

#define TREE_MAGIC "ATR1"
/* Smallest encoded entry: name length, 1-byte name, fixed fields. */
#define ENTRY_MIN (2 + 1 + 1 + 4 * 3 + 8 + 4 + 8 + 8 + 4)

void
store_entry_init(struct store_entry *e, const char *name, uint8_t type,
    uint32_t mode)
{
	memset(e, 0, sizeof(*e));
	e->name = (const uint8_t *)name;
	e->name_len = strlen(name);
	e->type = type;
	e->mode = mode;
}

void
store_entry_stat(struct store_entry *e, const struct stat *st)
{
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mtime_sec = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
}

uint8_t *
store_extent_put(uint8_t *p, const struct store_extent *x)
{
	p = put_u64(p, x->off);
	p = put_u32(p, x->len);
	memcpy(p, x->ref.id, STORE_HASH_LEN);
	memcpy(p + STORE_HASH_LEN, x->ref.key, STORE_HASH_LEN);
	return p + 2 * STORE_HASH_LEN;
}

/* The entry's fields for store_entry_digest(): at most 64 bytes. */
static size_t
digest_head(const struct store_entry *e, int64_t mt_sec, uint32_t mt_nsec,
    uint8_t *p)
{
	uint8_t *q = p;

	q = put_u32(q, e->type);
	q = put_u32(q, e->mode);
	q = put_u32(q, e->uid);
	q = put_u32(q, e->gid);
	q = put_u64(q, (uint64_t)mt_sec);
	q = put_u32(q, mt_nsec);
	q = put_u64(q, e->size);
	q = put_u64(q, e->link);
	q = put_u32(q, e->flags);
	q = put_u64(q, e->rdev);
	q = put_u64(q, e->n_extents);
	return (size_t)(q - p);
}

int
store_entry_digest(const struct store_entry *e, int64_t mt_sec,
    uint32_t mt_nsec, const uint8_t *prefix, size_t prefix_len,
    uint8_t out[STORE_HASH_LEN])
{
	uint8_t buf[1024];
	size_t n_ext = e->type == STORE_REG ? e->n_extents : 0;
	size_t tlen = e->type == STORE_LNK ? e->target_len : 0;
	struct crypt_sha256 *h;
	size_t len;
	int r;

	len = digest_head(e, mt_sec, mt_nsec, buf);
	/* The common case, a small file: one pass over a buffer. */
	if (prefix_len <= 64 && tlen <= 256 && n_ext <= 8) {
		memmove(buf + prefix_len, buf, len);
		memcpy(buf, prefix, prefix_len);
		len += prefix_len;
		if (tlen > 0)
			memcpy(buf + len, e->target, tlen);
		len += tlen;
		for (size_t i = 0; i < n_ext; i++)
			len = (size_t)(store_extent_put(buf + len,
			    &e->extents[i]) - buf);
		crypt_sha256(buf, len, out);
		return 0;
	}
	if ((h = crypt_sha256_new()) == NULL)
		return -ENOMEM;
	r = crypt_sha256_add(h, prefix, prefix_len);
	if (r == 0)
		r = crypt_sha256_add(h, buf, len);
	if (r == 0 && tlen > 0)
		r = crypt_sha256_add(h, e->target, tlen);
	for (size_t i = 0; r == 0 && i < n_ext; i++) {
		store_extent_put(buf, &e->extents[i]);
		r = crypt_sha256_add(h, buf, STORE_EXTENT_LEN);
	}
	if (r == 0)
		return crypt_sha256_end(h, out);
	(void)crypt_sha256_end(h, buf);
	return r;
}

const uint8_t *
store_extent_get(const uint8_t *p, struct store_extent *x)
{
	x->off = get_u64(p);
	x->len = get_u32(p + 8);
	memcpy(x->ref.id, p + 12, STORE_HASH_LEN);
	memcpy(x->ref.key, p + 12 + STORE_HASH_LEN, STORE_HASH_LEN);
	return p + STORE_EXTENT_LEN;
}

int
store_extents_get(const uint8_t *p, size_t n, uint64_t size,
    struct store_extent *ext)
{
	uint64_t end = 0;

	for (size_t i = 0; i < n; i++) {
		p = store_extent_get(p, &ext[i]);
		if (ext[i].len == 0 || ext[i].len > STORE_CHUNK_MAX ||
		    ext[i].off < end || ext[i].off > size ||
		    size - ext[i].off < ext[i].len)
			return -EBADMSG;
		end = ext[i].off + ext[i].len;
	}
	return 0;
}

int
tree_name_ok(const uint8_t *name, size_t len)
{
	if (len == 0 || len > STORE_NAME_MAX)
		return 0;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	return memchr(name, '/', len) == NULL && memchr(name, 0, len) == NULL;
}

int
tree_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int
tree_entry_encode(struct wb *w, const struct store_entry *e)
{
	int r = 0;

	if ((e->flags & STORE_ENTRY_MTIME_INHERIT) &&
	    (e->mtime_sec != 0 || e->mtime_nsec != 0))
		return -EINVAL;
	if ((r = wb_str16(w, e->name, e->name_len)) < 0 ||
	    (r = wb_u8(w, e->type)) < 0 || (r = wb_u32(w, e->mode)) < 0 ||
	    (r = wb_u32(w, e->uid)) < 0 || (r = wb_u32(w, e->gid)) < 0 ||
	    (r = wb_u64(w, e->mtime_sec)) < 0 ||
	    (r = wb_u32(w, e->mtime_nsec)) < 0 ||
	    (r = wb_u64(w, e->size)) < 0 || (r = wb_u64(w, e->link)) < 0 ||
	    (r = wb_u32(w, e->flags)) < 0)
		return r;
	switch (e->type) {
	case STORE_DIR:
		if ((r = wb_bytes(w, &e->tree, sizeof(e->tree))) < 0 ||
		    (r = wb_u64(w, e->n_desc)) < 0)
			return r;
		break;
	case STORE_REG:
		if ((r = wb_u32(w, e->n_extents)) < 0)
			return r;
		for (size_t i = 0; i < e->n_extents; i++) {
			if ((r = wb_reserve(w, STORE_EXTENT_LEN)) < 0)
				return r;
			store_extent_put(w->p + w->len, &e->extents[i]);
			w->len += STORE_EXTENT_LEN;
		}
		break;
	case STORE_LNK:
		r = wb_str16(w, e->target, e->target_len);
		break;
	case STORE_CHR:
	case STORE_BLK:
		r = wb_u64(w, e->rdev);
		break;
	default:
		break;
	}
	return r;
}

int
tree_entry_decode(struct rd *r, struct store_entry *e,
    struct store_extent *ext, size_t cap, size_t *n_ext)
{
	const uint8_t *p;
	uint32_t n;

	memset(e, 0, sizeof(*e));
	*n_ext = 0;
	if (rd_str16(r, STORE_NAME_MAX, &e->name, &e->name_len) < 0 ||
	    !tree_name_ok(e->name, e->name_len) || rd_u8(r, &e->type) < 0 ||
	    rd_u32(r, &e->mode) < 0 || rd_u32(r, &e->uid) < 0 ||
	    rd_u32(r, &e->gid) < 0 || rd_i64(r, &e->mtime_sec) < 0 ||
	    rd_u32(r, &e->mtime_nsec) < 0 || rd_u64(r, &e->size) < 0 ||
	    rd_u64(r, &e->link) < 0 || rd_u32(r, &e->flags) < 0)
		return -EBADMSG;
	if (e->mode > 07777 || e->mtime_nsec >= 1000000000u)
		return -EBADMSG;
	/* amber-store(5): an inherited mtime leaves the fields zero. */
	if ((e->flags & STORE_ENTRY_MTIME_INHERIT) &&
	    (e->mtime_sec != 0 || e->mtime_nsec != 0))
		return -EBADMSG;
	switch (e->type) {
	case STORE_DIR:
		if (rd_copy(r, &e->tree, sizeof(e->tree)) < 0 ||
		    rd_u64(r, &e->n_desc) < 0 || e->n_desc > (UINT64_C(1) << 40))
			return -EBADMSG;
		break;
	case STORE_REG:
		if (rd_u32(r, &n) < 0 || n > cap ||
		    (uint64_t)n * STORE_EXTENT_LEN > r->len ||
		    rd_bytes(r, (size_t)n * STORE_EXTENT_LEN, &p) < 0 ||
		    store_extents_get(p, n, e->size, ext) < 0)
			return -EBADMSG;
		e->n_extents = n;
		*n_ext = n;
		break;
	case STORE_LNK:
		if (rd_str16(r, STORE_TARGET_MAX, &e->target,
		    &e->target_len) < 0 || e->target_len == 0 ||
		    memchr(e->target, 0, e->target_len) != NULL ||
		    e->size != e->target_len)
			return -EBADMSG;
		break;
	case STORE_CHR:
	case STORE_BLK:
		if (rd_u64(r, &e->rdev) < 0)
			return -EBADMSG;
		break;
	case STORE_FIFO:
	case STORE_SOCK:
		break;
	default:
		return -EBADMSG;
	}
	return 0;
}

int
tree_decode(uint8_t *buf, size_t len, struct store_tree **out)
{
	struct store_tree *t = NULL;
	struct rd r = rd_init(buf, len);
	const uint8_t *magic;
	size_t n_ext = 0;
	size_t cap_ext;
	uint32_t n;
	int rc = -EBADMSG;

	if (rd_bytes(&r, 4, &magic) < 0 || memcmp(magic, TREE_MAGIC, 4) != 0 ||
	    rd_u32(&r, &n) < 0 || (uint64_t)n * ENTRY_MIN > r.len)
		goto out;
	rc = -ENOMEM;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto out;
	/* Extents can take no more than the bytes left. */
	cap_ext = r.len / STORE_EXTENT_LEN;
	if ((t->e = calloc(n ? n : 1, sizeof(*t->e))) == NULL ||
	    (t->ext = calloc(cap_ext ? cap_ext : 1, sizeof(*t->ext))) == NULL)
		goto out;
	rc = -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		size_t k;

		if (tree_entry_decode(&r, &t->e[i], t->ext + n_ext,
		    cap_ext - n_ext, &k) < 0)
			goto out;
		if (i > 0 && tree_name_cmp(t->e[i - 1].name,
		    t->e[i - 1].name_len, t->e[i].name, t->e[i].name_len) >= 0)
			goto out;
		/* Pointers into t->ext are fixed up below, as offsets now. */
		t->e[i].extents = (const struct store_extent *)(uintptr_t)n_ext;
		n_ext += k;
	}
	if (r.len != 0)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		t->e[i].extents = t->ext + (uintptr_t)t->e[i].extents;
	t->n = n;
	t->buf = buf;
	buf = NULL;
	*out = t;
	t = NULL;
	rc = 0;
out:
	if (t != NULL) {
		free(t->e);
		free(t->ext);
		free(t);
	}
	free(buf);
	return rc;
}

int
tree_encode(const struct store_entry *e, size_t n, struct wb *w)
{
	int r;

	if ((r = wb_bytes(w, TREE_MAGIC, 4)) < 0 || (r = wb_u32(w, n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = tree_entry_encode(w, &e[i])) < 0)
			return r;
	return 0;
}

size_t
store_tree_len(const struct store_tree *t)
{
	return t->n;
}

const struct store_entry *
store_tree_entry(const struct store_tree *t, size_t i)
{
	return i < t->n ? &t->e[i] : NULL;
}

int
store_tree_find(const struct store_tree *t, const uint8_t *name, size_t len,
    size_t *idx)
{
	size_t lo = 0;
	size_t hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = tree_name_cmp(t->e[mid].name, t->e[mid].name_len, name,
		    len);

		if (c == 0) {
			*idx = mid;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

void
store_tree_free(struct store_tree *t)
{
	if (t == NULL)
		return;
	free(t->buf);
	free(t->e);
	free(t->ext);
	free(t);
}
