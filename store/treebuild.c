/*
 * treebuild.c: the tree builder of store.h (store_tb_*): the entries of
 * one directory are copied in as the caller finds them, then sorted,
 * checked for duplicate names, encoded (tree.h) and handed to the
 * writer as one chunk of its tree packs (writer.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "storei.h"
#include "tree.h"
#include "writer.h"

struct store_tb {
	struct store_entry *e;
	size_t n;
	size_t cap;
};

int
store_tb_new(struct store_tb **out)
{
	return (*out = calloc(1, sizeof(**out))) == NULL ? -ENOMEM : 0;
}

static void
entry_release(struct store_entry *e)
{
	free((void *)e->name);
	free((void *)e->target);
	free((void *)e->extents);
}

int
store_tb_add(struct store_tb *tb, const struct store_entry *e)
{
	struct store_entry *c;
	uint8_t *name = NULL;
	uint8_t *target = NULL;
	struct store_extent *ext = NULL;

	if (!tree_name_ok(e->name, e->name_len))
		return -EINVAL;
	if (e->type == STORE_LNK && (e->target_len == 0 ||
	    e->target_len > STORE_TARGET_MAX))
		return -EINVAL;
	if (tb->n == tb->cap) {
		size_t cap = tb->cap ? 2 * tb->cap : 16;

		if ((c = realloc(tb->e, cap * sizeof(*c))) == NULL)
			return -ENOMEM;
		tb->e = c;
		tb->cap = cap;
	}
	if ((name = malloc(e->name_len)) == NULL)
		goto nomem;
	memcpy(name, e->name, e->name_len);
	if (e->type == STORE_LNK) {
		if ((target = malloc(e->target_len)) == NULL)
			goto nomem;
		memcpy(target, e->target, e->target_len);
	}
	if (e->type == STORE_REG && e->n_extents > 0) {
		if ((ext = calloc(e->n_extents, sizeof(*ext))) == NULL)
			goto nomem;
		memcpy(ext, e->extents, e->n_extents * sizeof(*ext));
	}
	c = &tb->e[tb->n++];
	*c = *e;
	c->name = name;
	c->target = e->type == STORE_LNK ? target : NULL;
	c->target_len = e->type == STORE_LNK ? e->target_len : 0;
	c->extents = ext;
	c->n_extents = e->type == STORE_REG ? e->n_extents : 0;
	if (e->type == STORE_LNK)
		c->size = e->target_len;
	return 0;
nomem:
	free(name);
	free(target);
	free(ext);
	return -ENOMEM;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct store_entry *x = a;
	const struct store_entry *y = b;

	return tree_name_cmp(x->name, x->name_len, y->name, y->name_len);
}

int
store_tb_finish(struct store_writer *w, struct store_tb *tb,
    struct store_entry *dir)
{
	struct wb enc = { 0 };
	uint64_t n_desc = 0;
	int r;

	if (tb->n > 1)
		qsort(tb->e, tb->n, sizeof(*tb->e), entry_cmp);
	/*
	 * Where objects expire (S3 Object Lock), every pack this snapshot
	 * references must be kept locked as long as it is, including the
	 * packs of files reused from the incremental cache, which never
	 * pass through the writer's queue.
	 */
	if (writer_keep_extents(w, tb->e, tb->n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < tb->n; i++) {
		if (i > 0 && entry_cmp(&tb->e[i - 1], &tb->e[i]) == 0)
			return log_err(-EINVAL, "duplicate name in a tree");
		n_desc += 1 + (tb->e[i].type == STORE_DIR ?
		    tb->e[i].n_desc : 0);
	}
	if ((r = tree_encode(tb->e, tb->n, &enc)) < 0)
		goto out;
	if (enc.len > STORE_TREE_MAX) {
		r = log_err(-EINVAL, "a directory of %zu entries is too large "
		    "to store", tb->n);
		goto out;
	}
	if ((r = writer_put_tree(w, enc.p, enc.len, &dir->tree)) < 0)
		goto out;
	dir->type = STORE_DIR;
	dir->n_desc = n_desc;
out:
	wb_fini(&enc);
	return r;
}

void
store_tb_free(struct store_tb *tb)
{
	if (tb == NULL)
		return;
	for (size_t i = 0; i < tb->n; i++)
		entry_release(&tb->e[i]);
	free(tb->e);
	free(tb);
}
