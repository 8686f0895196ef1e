/*
 * storewhole.c: store_read_whole() and store_read_file(), a small stored
 * file read whole into memory, for the readers of stored metadata (a
 * mirror's packed-refs, a forge's JSON records) that each had their own
 * copy of it.
 */
#include <errno.h>
#include <stdlib.h>

#include "store.h"

int
store_read_whole(struct store *s, const struct store_entry *e, size_t max,
    char **out, size_t *len)
{
	char *buf;
	size_t got;
	int r;

	*out = NULL;
	*len = 0;
	if (e->type != STORE_REG || e->size > max)
		return -EBADMSG;
	if ((buf = malloc((size_t)e->size + 1)) == NULL)
		return -ENOMEM;
	if ((r = store_read(s, e, 0, (uint8_t *)buf, (size_t)e->size,
	    &got)) < 0 || got != e->size) {
		free(buf);
		return r < 0 ? r : -EBADMSG;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int
store_read_file(struct store *s, const struct store_entry *root,
    const char *path, size_t max, char **out, size_t *len)
{
	struct store_tree *t = NULL;
	size_t idx;
	int r;

	*out = NULL;
	*len = 0;
	if ((r = store_resolve(s, root, path, &t, &idx)) < 0)
		return r;
	if (t == NULL)
		r = -EBADMSG;
	else
		r = store_read_whole(s, store_tree_entry(t, idx), max, out,
		    len);
	store_tree_free(t);
	return r;
}
