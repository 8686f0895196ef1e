/*
 * xattr.c: the extended attributes of a snapshot's directory
 * (amberfs(1)): user.amber.id, user.amber.writer, user.amber.flags.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "inode.h"
#include "snaps.h"
#include "xattr.h"

static const char xattr_names[] =
    "user.amber.id\0user.amber.writer\0user.amber.flags";

/* The value of xattr ${name} of ${snap} (of ${v}) into ${buf}
 * (XATTR_MAX). */
static int
xattr_value(const struct snaps_view *v, const struct snaps_snap *snap,
    const char *name, char *buf, size_t *len)
{
	const struct snaps_body *b;
	const struct snaps_writer *w;
	size_t n = 0;
	size_t i;
	int r;

	buf[0] = '\0';
	if (strcmp(name, "user.amber.id") == 0) {
		hex_encode(snap->rec->id, STORE_HASH_LEN, buf);
	} else if (strcmp(name, "user.amber.writer") == 0) {
		if ((r = snaps_load(v, snap, &b)) < 0)
			return r;
		w = b->writer;
		/* "master", or the key id and the label it was given. */
		if (w->is_master) {
			snprintf(buf, XATTR_MAX, "master");
		} else {
			hex_encode(w->key, STORE_ID_LEN, buf);
			i = 2 * STORE_ID_LEN;
			if (w->label[0] != '\0')
				snprintf(buf + i, XATTR_MAX - i,
				    " %s", w->label);
		}
	} else if (strcmp(name, "user.amber.flags") == 0) {
		const char *fname;
		uint32_t flag;

		for (i = 0; (fname = store_snap_flag_name(i, &flag)) != NULL;
		    i++) {
			if (!(snap->flags & flag))
				continue;
			n += (size_t)snprintf(buf + n, XATTR_MAX - n, "%s%s",
			    n > 0 ? "," : "", fname);
		}
	} else {
		return -ENODATA;
	}
	*len = strlen(buf);
	return 0;
}

int
xattr_get(struct fs *fs, fuse_ino_t ino, const char *name, char *buf,
    size_t cap, size_t *len)
{
	char val[XATTR_MAX];
	struct snaps_view *v;
	const struct snaps_snap *snap;
	int r;

	/* Every other node, at once: ls and friends ask for ACLs. */
	if (inode_is_virtual(ino) || inode_ord(ino) != 0 ||
	    strncmp(name, "user.amber.", 11) != 0)
		return -ENODATA;
	v = snaps_get(fs->snaps);
	if ((snap = snaps_by_slot(v, inode_slot(ino))) == NULL)
		r = -ENOENT;
	else
		r = xattr_value(v, snap, name, val, len);
	snaps_put(fs->snaps, v);
	if (r < 0)
		return r;
	if (cap > 0 && cap < *len)
		return -ERANGE;
	if (cap > 0)
		memcpy(buf, val, *len);
	return 0;
}

int
xattr_list(struct fs *fs, fuse_ino_t ino, char *buf, size_t cap,
    size_t *len)
{
	(void)fs;
	*len = 0;
	if (inode_is_virtual(ino) || inode_ord(ino) != 0)
		return 0;
	*len = sizeof(xattr_names);
	if (cap > 0 && cap < *len)
		return -ERANGE;
	if (cap > 0)
		memcpy(buf, xattr_names, *len);
	return 0;
}
