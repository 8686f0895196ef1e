/*
 * git_blob.c: cache values and blobs,
 * for the git reader (src_git.c; its types in gitint.h).
 */
#include "gitint.h"

/* ---- cache values ------------------------------------------------------ */

void
git_tree_val_encode(uint8_t v[TREE_VAL_LEN], const struct store_entry *dir,
    const struct counts *n)
{
	uint8_t *p = v;

	*p++ = VAL_VERSION;
	memcpy(p, dir->tree.id, STORE_HASH_LEN);
	p += STORE_HASH_LEN;
	memcpy(p, dir->tree.key, STORE_HASH_LEN);
	p += STORE_HASH_LEN;
	p = put_u64(p, dir->n_desc);
	p = put_u64(p, n->n_files);
	put_u64(p, n->n_bytes);
}

int
git_tree_val_decode(const uint8_t *v, size_t len, struct store_entry *dir,
    struct counts *n)
{
	const uint8_t *p = v;
	uint64_t n_desc;
	uint64_t n_files;

	if (len != TREE_VAL_LEN || *p++ != VAL_VERSION)
		return -EBADMSG;
	n_desc = get_u64(p + 2 * STORE_HASH_LEN);
	n_files = get_u64(p + 2 * STORE_HASH_LEN + 8);
	if (n_files > n_desc)
		return -EBADMSG;
	memcpy(dir->tree.id, p, STORE_HASH_LEN);
	memcpy(dir->tree.key, p + STORE_HASH_LEN, STORE_HASH_LEN);
	dir->n_desc = n_desc;
	n->n_files = n_files;
	n->n_bytes = get_u64(p + 2 * STORE_HASH_LEN + 16);
	return 0;
}

static int
blob_val_encode(uint64_t size, const struct store_extent *ext, size_t n,
    uint8_t **val, size_t *len)
{
	uint8_t *v;
	uint8_t *p;

	if (n > BLOB_VAL_EXT_MAX)
		return -EINVAL;
	if ((v = malloc(BLOB_VAL_HDR + n * EXT_VAL_LEN)) == NULL)
		return -ENOMEM;
	p = v;
	*p++ = VAL_VERSION;
	p = put_u64(p, size);
	p = put_u32(p, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		p = store_extent_put(p, &ext[i]);
	*val = v;
	*len = (size_t)(p - v);
	return 0;
}

/*
 * Decode a blob value strictly: the extents must cover [0, size) in order
 * without gaps or overlap (the writer never leaves holes in git blobs).
 */
static int
blob_val_decode(const uint8_t *v, size_t len, uint64_t *size,
    struct store_extent **ext, size_t *n)
{
	struct store_extent *e = NULL;
	uint64_t at = 0;
	uint64_t sz;
	uint32_t cnt;

	if (len < BLOB_VAL_HDR || v[0] != VAL_VERSION)
		return -EBADMSG;
	sz = get_u64(v + 1);
	cnt = get_u32(v + 9);
	if (cnt > BLOB_VAL_EXT_MAX ||
	    len != BLOB_VAL_HDR + (size_t)cnt * EXT_VAL_LEN ||
	    (cnt == 0) != (sz == 0))
		return -EBADMSG;
	if (cnt && (e = calloc(cnt, sizeof(*e))) == NULL)
		return -ENOMEM;
	if (store_extents_get(v + BLOB_VAL_HDR, cnt, sz, e) < 0) {
		free(e);
		return -EBADMSG;
	}
	/* Sorted and disjoint inside [0, size): no gap if they sum to it. */
	for (uint32_t i = 0; i < cnt; i++)
		at += e[i].len;
	if (at != sz) {
		free(e);
		return -EBADMSG;
	}
	*size = sz;
	*ext = e;
	*n = cnt;
	return 0;
}

/* ---- blobs ------------------------------------------------------------- */

/*
 * Look a blob up in this run's map, then in the cache (trusted only if
 * the store has every chunk it names).  Returns -ENOENT on a miss.
 */
int
git_blob_lookup(struct gsrc *g, const uint8_t *oid, uint64_t *size,
    struct store_extent **ext, size_t *n)
{
	struct map_slot *s;
	void *v = NULL;
	size_t vlen;
	int r;

	if ((s = gmap_find(&g->blobs, oid, g->rawlen)) != NULL)
		return blob_val_decode(s->val, s->vlen, size, ext, n);
	r = store_cache_get(g->c->s, TABLE_BLOB, oid, g->rawlen, &v, &vlen);
	if (r < 0)
		return r == -ENOMEM ? r : -ENOENT;
	r = blob_val_decode(v, vlen, size, ext, n);
	/*
	 * Every chunk must be in the store: a record written by a run that
	 * never committed may name chunks that never reached it.
	 */
	for (size_t i = 0; r == 0 && i < *n; i++) {
		if (store_has_chunk(g->c->s, (*ext)[i].ref.id) != 1) {
			free(*ext);
			*ext = NULL;
			r = -ENOENT;
		}
	}
	if (r == 0)
		r = gmap_put(&g->blobs, oid, g->rawlen, v, vlen);
	free(v);
	return r == -EBADMSG ? -ENOENT : r;
}

/*
 * git_blob_store(g, oid, size, ext, n):
 * The stored extents of blob ${oid}, reading and storing its content
 * (streamed, never held whole) unless this run or the cache knows it.
 * Returns -ENOENT if the object is missing, -EBADMSG if it is not a blob,
 * -EPIPE if git could not read it (the caller warns and restarts git).
 */
int
git_blob_store(struct gsrc *g, const uint8_t *oid, uint64_t *size,
    struct store_extent **ext, size_t *n)
{
	struct store_file *f = NULL;
	char hex[HEX_MAX + 1];
	enum obj_type type;
	uint64_t sz;
	uint64_t off = 0;
	uint8_t *val = NULL;
	size_t vlen;
	int r;

	*ext = NULL;
	*n = 0;
	if ((r = git_blob_lookup(g, oid, size, ext, n)) != -ENOENT)
		return r;
	hex_encode(oid, g->rawlen, hex);
	if ((r = cf_begin(g, "contents", hex, &type, &sz)) < 0)
		return r;
	if (type != OBJ_BLOB) {
		if ((r = cf_read(g, NULL, sz)) < 0 || (r = cf_end(g)) < 0)
			return r;
		return -EBADMSG;
	}
	if ((r = store_file_new(g->c->w, &f)) < 0)
		goto fail;
	while (off < sz) {
		size_t len = sz - off > IO_LEN ? IO_LEN : (size_t)(sz - off);

		if ((r = cf_read(g, g->iobuf, len)) < 0)
			goto out;
		if ((r = store_file_write(f, off, g->iobuf, len)) < 0)
			goto fail;
		off += len;
	}
	if ((r = cf_end(g)) < 0)
		goto out;
	if ((r = store_file_end(f, ext, n)) < 0)
		goto out;
	*size = sz;
	if ((r = blob_val_encode(sz, *ext, *n, &val, &vlen)) < 0 ||
	    (r = gmap_put(&g->blobs, oid, g->rawlen, val, vlen)) < 0)
		goto out;
	/* The cache is a hint: losing a record costs only time. */
	store_cache_put(g->c->s, TABLE_BLOB, oid, g->rawlen, val, vlen);
	r = 0;
	goto out;
fail:
	/* A store error leaves cat-file mid-object: it cannot go on. */
	cf_close(g);
out:
	if (r < 0) {
		free(*ext);
		*ext = NULL;
		*n = 0;
	}
	free(val);
	store_file_free(f);
	return r;
}

/* Store ${len} bytes as a regular file entry's extents. */
int
git_bytes_store(struct gsrc *g, const uint8_t *buf, size_t len,
    struct store_extent **ext, size_t *n)
{
	struct store_file *f = NULL;
	int r;

	*ext = NULL;
	*n = 0;
	if ((r = store_file_new(g->c->w, &f)) < 0)
		return r;
	if ((len == 0 || (r = store_file_write(f, 0, buf, len)) == 0))
		r = store_file_end(f, ext, n);
	store_file_free(f);
	return r;
}
