/*
 * mtime.c: the effective mtime of an entry reached by a path from a
 * snapshot's root (mtime.h).  It reads the trees on the way down, as
 * store_resolve() does, and applies store_entry_mtime() at each step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mtime.h"

int
mtime_at(struct store *s, const struct store_snap *sn, const char *path,
    int64_t *sec, uint32_t *nsec)
{
	struct store_tree *t = NULL;
	struct store_entry dir;
	const char *p = path;
	int64_t psec;
	uint32_t pnsec;
	int r = 0;

	store_entry_mtime(&sn->root, sn->time_sec, sn->time_nsec, &psec,
	    &pnsec);
	dir = sn->root;
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		struct store_tree *nt = NULL;
		const struct store_entry *e;
		size_t i;

		if (len == 0) {
			p++;
			continue;
		}
		if (dir.type != STORE_DIR) {
			r = -ENOTDIR;
			goto out;
		}
		if ((r = store_tree_read(s, &dir.tree, &nt)) < 0)
			goto out;
		if ((r = store_tree_find(nt, (const uint8_t *)p, len,
		    &i)) < 0) {
			store_tree_free(nt);
			goto out;
		}
		e = store_tree_entry(nt, i);
		store_entry_mtime(e, psec, pnsec, &psec, &pnsec);
		/* Only the type and tree are used from here on. */
		dir = *e;
		store_tree_free(t);
		t = nt;
		p += len;
	}
	*sec = psec;
	*nsec = pnsec;
out:
	store_tree_free(t);
	return r;
}
