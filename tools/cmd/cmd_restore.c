/*
 * cmd_restore.c: `amber restore STORE SNAPSHOT[:PATH] TARGET` copies a
 * snapshot, or one item of it, out of the store.
 *
 * The item lands inside TARGET under its own name, as `cp -a ITEM
 * TARGET/` would put it; a whole snapshot gives TARGET/files, repos,
 * pipelines.  Safety rests on three rules:
 *  - Everything is made relative to directory fds that we opened with
 *    O_NOFOLLOW (openat, mkdirat, symlinkat, mknodat, linkat,
 *    renameat2), and every stored name is checked again here (no '/',
 *    no NUL, not "." or ".."), so nothing lands outside TARGET whatever
 *    the store or a pre-existing symlink says.
 *  - Every non-directory is made under a temporary name in its
 *    directory, completed (content, owner, mode, times), then renamed
 *    into place: a damaged chunk or a full disk leaves the temporary
 *    file removed and whatever was there before untouched, never wrong
 *    or partial bytes under the real name.
 *  - An existing item is replaced only with --overwrite (and then never
 *    followed: a symlink in the way is replaced, not written through;
 *    existing directories are merged into).
 * Directories are made 0700 and get their own mode and mtime after their
 * content.  Mtimes are effective ones: an entry that inherits its
 * directory's time (STORE_ENTRY_MTIME_INHERIT, the files of a git
 * branch) gets that time, carried down from the snapshot root (mtime.h).  Hard links (entries with equal non-zero `link` within one
 * source) become one inode; holes stay holes (extents are written where
 * they are, all-zero blocks are skipped, and the file is ftruncate()d to
 * its size).  Ownership and device nodes need root; without it device
 * nodes are skipped with a warning.  As with cp -a, set-id bits and
 * device nodes come back by default, whoever wrote the snapshot;
 * --no-setuid and --no-devices leave them out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cmd.h"
#include "mtime.h"
#include "store.h"

static const char usage[] =
    "usage: amber restore STORE SNAPSHOT[:PATH] TARGET [--overwrite]\n"
    "                     [--no-setuid] [--no-devices] [--json]\n"
    "\n"
    "Copy PATH of SNAPSHOT (default: the whole snapshot, that is its\n"
    "files/, repos/ and pipelines/) into the directory TARGET, created if\n"
    "needed, as cp -a would: contents with holes, modes, mtimes, hard\n"
    "links, symbolic links, fifos, and (as root) owners and device nodes.\n"
    "\n"
    "  --overwrite          replace existing items (directories are\n"
    "                       merged into; symbolic links in the way are\n"
    "                       replaced, never followed)\n"
    "  --no-setuid          clear the set-user-ID and set-group-ID bits\n"
    "                       of everything but directories\n"
    "  --no-devices         leave character and block devices out\n"
    "  --json               print a summary object on stdout\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

enum {
	OPT_OVERWRITE = CLI_OPT_FIRST_PRIVATE,
	OPT_NO_SETUID,
	OPT_NO_DEVICES,
};

#define RESTORE_BUF (1u << 20)	/* bytes read from the store at once */
#define RESTORE_DEPTH_MAX STORE_DEPTH_MAX	/* deeper: no real tree */
#define ZERO_BLOCK 4096		/* all-zero blocks this big become holes */

/* First restored name of one hard-link group. */
struct link_slot {
	uint64_t scope;		/* which source (ordinals are per source) */
	uint64_t link;		/* 0: empty slot */
	char *relpath;		/* relative to TARGET */
};

struct restore {
	const char *cmd;
	struct store *s;
	const char *snap;	/* the snapshot's name, for messages */
	int is_overwrite;
	int no_setid;		/* --no-setuid */
	int no_devices;		/* --no-devices */
	int is_root;		/* restore owners and device nodes */
	int target_fd;
	uint8_t *buf;		/* RESTORE_BUF bytes */
	char *path;		/* stored path from the snapshot root */
	size_t path_len;
	size_t path_cap;
	size_t rel_start;	/* where the TARGET-relative part starts */
	unsigned long n_tmp;	/* temporary names made */
	uint64_t scope;
	struct link_slot *links;
	size_t links_cap;	/* a power of two, or 0 */
	size_t n_links;
	uint64_t n_entries;
	uint64_t n_bytes;
	uint64_t n_errors;
	uint64_t n_warnings;
	int is_progress;	/* a progress line on stderr (a terminal) */
	int64_t next_ns;	/* when to update it next */
};

/* ---- messages --------------------------------------------------------- */

static void progress_end(struct restore *r);

static void
say(struct restore *r, const char *kind, const char *what)
{
	progress_end(r);
	fprintf(stderr, "%s: %s%s:", r->cmd, kind, r->snap);
	name_print(stderr, (const uint8_t *)r->path, r->path_len, 1);
	fprintf(stderr, ": %s\n", what);
}

/*
 * Report a failure for the current path: ${err} is a file system error
 * (fail()) or a store error (fail_store(), whose -EBADMSG is damage and
 * -EACCES a key).  Returns 0 to go on, or -ENOMEM to stop.
 */
static int
fail_msg(struct restore *r, const char *what, int err, const char *why)
{
	char msg[512];

	if (err != 0)
		snprintf(msg, sizeof(msg), "%s: %s", what, why);
	else
		snprintf(msg, sizeof(msg), "%s", what);
	say(r, "", msg);
	r->n_errors++;
	return err == -ENOMEM ? -ENOMEM : 0;
}

static int
fail(struct restore *r, const char *what, int err)
{
	return fail_msg(r, what, err, strerror(-err));
}

static int
fail_store(struct restore *r, const char *what, int err)
{
	return fail_msg(r, what, err, cli_strerror(err));
}

static void
warn_at(struct restore *r, const char *what)
{
	say(r, "warning: ", what);
	r->n_warnings++;
}

/* What the user asked for, said where it happens: not a warning. */
static void
note_at(struct restore *r, const char *what)
{
	say(r, "note: ", what);
}

#define PROGRESS_NS 250000000	/* at most 4 updates a second */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One entry more: update the progress line now and then. */
static void
progress(struct restore *r)
{
	char size[32];
	int64_t t;

	r->n_entries++;
	if (!r->is_progress || (t = now_ns()) < r->next_ns)
		return;
	r->next_ns = t + PROGRESS_NS;
	cli_size_human(r->n_bytes, size, sizeof(size));
	fprintf(stderr, "\r%s: %llu entries, %s\033[K", r->cmd,
	    (unsigned long long)r->n_entries, size);
}

static void
progress_end(struct restore *r)
{
	if (r->is_progress && r->next_ns != 0)
		fputs("\r\033[K", stderr);
	r->next_ns = 0;
}

/* ---- the current path ------------------------------------------------- */

static int
path_push(struct restore *r, const uint8_t *name, size_t len, size_t *old)
{
	size_t need = r->path_len + 1 + len + 1;
	char *p;

	if (need > r->path_cap) {
		if ((p = realloc(r->path, 2 * need)) == NULL)
			return -ENOMEM;
		r->path = p;
		r->path_cap = 2 * need;
	}
	*old = r->path_len;
	if (r->path_len > 0)
		r->path[r->path_len++] = '/';
	memcpy(r->path + r->path_len, name, len);
	r->path_len += len;
	r->path[r->path_len] = '\0';
	return 0;
}

static void
path_pop(struct restore *r, size_t old)
{
	r->path_len = old;
	r->path[old] = '\0';
}

/* The stored name as a C string, if it is one we may create. */
static int
name_ok(const struct store_entry *e, char out[STORE_NAME_MAX + 1])
{
	if (e->name_len == 0 || e->name_len > STORE_NAME_MAX ||
	    memchr(e->name, '/', e->name_len) != NULL ||
	    memchr(e->name, '\0', e->name_len) != NULL ||
	    (e->name_len == 1 && e->name[0] == '.') ||
	    (e->name_len == 2 && e->name[0] == '.' && e->name[1] == '.'))
		return 0;
	memcpy(out, e->name, e->name_len);
	out[e->name_len] = '\0';
	return 1;
}

/* ---- hard links ------------------------------------------------------- */

static size_t
link_hash(uint64_t scope, uint64_t link)
{
	uint64_t h = link * 0x9e3779b97f4a7c15u ^ scope * 0xc2b2ae3d27d4eb4fu;

	return (size_t)(h ^ (h >> 29));
}

static struct link_slot *
link_find(struct restore *r, uint64_t link)
{
	size_t mask = r->links_cap - 1;
	size_t i;

	if (r->links_cap == 0)
		return NULL;
	for (i = link_hash(r->scope, link) & mask; r->links[i].link != 0;
	    i = (i + 1) & mask)
		if (r->links[i].link == link && r->links[i].scope == r->scope)
			return &r->links[i];
	return NULL;
}

static int
link_put(struct restore *r, uint64_t link, const char *relpath)
{
	struct link_slot *old = r->links;
	size_t old_cap = r->links_cap;
	size_t mask;
	size_t i;
	size_t j;
	char *copy;

	if (2 * (r->n_links + 1) > r->links_cap) {
		r->links_cap = old_cap ? 2 * old_cap : 64;
		if ((r->links = calloc(r->links_cap, sizeof(*r->links))) ==
		    NULL) {
			r->links = old;
			r->links_cap = old_cap;
			return -ENOMEM;
		}
		mask = r->links_cap - 1;
		for (i = 0; i < old_cap; i++) {
			if (old[i].link == 0)
				continue;
			for (j = link_hash(old[i].scope, old[i].link) & mask;
			    r->links[j].link != 0; j = (j + 1) & mask)
				;
			r->links[j] = old[i];
		}
		free(old);
	}
	if ((copy = strdup(relpath)) == NULL)
		return -ENOMEM;
	mask = r->links_cap - 1;
	for (j = link_hash(r->scope, link) & mask; r->links[j].link != 0;
	    j = (j + 1) & mask)
		;
	r->links[j].scope = r->scope;
	r->links[j].link = link;
	r->links[j].relpath = copy;
	r->n_links++;
	return 0;
}

/*
 * Open the directory holding ${relpath} (relative to TARGET) without
 * following any symlink, and point *${base} at its last component.
 */
static int
open_parent(struct restore *r, const char *relpath, const char **base)
{
	const char *p = relpath;
	const char *slash;
	char comp[STORE_NAME_MAX + 1];
	int fd;
	int next;
	size_t n;

	if ((fd = dup(r->target_fd)) < 0)
		return -errno;
	while ((slash = strchr(p, '/')) != NULL) {
		n = (size_t)(slash - p);
		if (n == 0 || n > STORE_NAME_MAX) {
			close(fd);
			return -EINVAL;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -errno;
		fd = next;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

/* ---- making and placing ------------------------------------------------ */

static void
tmp_name(struct restore *r, char *buf, size_t cap)
{
	snprintf(buf, cap, ".amber-restore.%ld.%lu", (long)getpid(),
	    r->n_tmp++);
}

/* rm -r of ${name} in ${dfd}, never following a symlink. */
static int
remove_tree(int dfd, const char *name, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int fd;
	int rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) == 0 ? 0 : -errno;
	if (depth > RESTORE_DEPTH_MAX)
		return -ELOOP;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		rc = remove_tree(dirfd(d), de->d_name, depth + 1);
	}
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) != 0)
		rc = -errno;
	return rc;
}

/*
 * Move the finished temporary ${tmp} to ${name}.  Without --overwrite an
 * existing ${name} is an error; with it, anything there is replaced (a
 * directory in the way is removed first).  ${tmp} is gone afterwards.
 */
static int
place(struct restore *r, int dfd, const char *tmp, const char *name)
{
	unsigned flags = r->is_overwrite ? 0 : RENAME_NOREPLACE;
	int rc;

	if (renameat2(dfd, tmp, dfd, name, flags) == 0)
		goto done;
	rc = -errno;
	if (rc == -EINVAL && !r->is_overwrite) {
		/* No RENAME_NOREPLACE here: link() never replaces. */
		if (linkat(dfd, tmp, dfd, name, 0) == 0)
			goto done;
		rc = -errno;
	}
	if (r->is_overwrite && (rc == -EISDIR || rc == -ENOTEMPTY ||
	    rc == -EEXIST)) {
		if ((rc = remove_tree(dfd, name, 0)) == 0) {
			if (renameat2(dfd, tmp, dfd, name, 0) == 0)
				goto done;
			rc = -errno;
		}
	}
	unlinkat(dfd, tmp, 0);
	return rc;
done:
	/*
	 * rename() between two names of one inode does nothing and leaves
	 * ${tmp}; a link() fallback leaves it too.
	 */
	unlinkat(dfd, tmp, 0);
	return 0;
}

/* The effective mtime of ${e}, whose directory's is ${pt}. */
static struct timespec
ts_of(const struct store_entry *e, struct timespec pt)
{
	struct timespec t;
	int64_t sec;
	uint32_t nsec;

	store_entry_mtime(e, (int64_t)pt.tv_sec, (uint32_t)pt.tv_nsec, &sec,
	    &nsec);
	t.tv_sec = (time_t)sec;
	t.tv_nsec = nsec < 1000000000u ? (long)nsec : 0;
	return t;
}

/* The permission bits a non-directory gets. */
static mode_t
mode_of(const struct restore *r, const struct store_entry *e)
{
	mode_t m = (mode_t)(e->mode & 07777);

	if (r->no_setid)
		m &= (mode_t)~(S_ISUID | S_ISGID);
	return m;
}

/*
 * Owner, mode and times of the non-directory ${name} (not yet placed);
 * ${pt} is the effective mtime of its directory, here and below.
 */
static int
set_meta_at(struct restore *r, int dfd, const char *name,
    const struct store_entry *e, struct timespec pt)
{
	struct timespec ts[2];

	if (r->is_root && fchownat(dfd, name, e->uid, e->gid,
	    AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	if (e->type != STORE_LNK && fchmodat(dfd, name, mode_of(r, e), 0) != 0)
		return -errno;
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = ts_of(e, pt);
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	return 0;
}

static int
set_meta_fd(struct restore *r, int fd, const struct store_entry *e,
    struct timespec pt)
{
	struct timespec ts[2];

	/* chown first: it clears set-id bits that fchmod then sets. */
	if (r->is_root && fchown(fd, e->uid, e->gid) != 0)
		return -errno;
	if (fchmod(fd, mode_of(r, e)) != 0)
		return -errno;
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = ts_of(e, pt);
	if (futimens(fd, ts) != 0)
		return -errno;
	return 0;
}

static int
is_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* pwrite ${buf} at ${off}, skipping all-zero aligned blocks (holes). */
static int
write_sparse(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t i = 0;
	size_t n;
	ssize_t w;

	while (i < len) {
		n = ZERO_BLOCK - (size_t)((off + i) % ZERO_BLOCK);
		if (n > len - i)
			n = len - i;
		if (is_zero(buf + i, n)) {
			i += n;
			continue;
		}
		w = pwrite(fd, buf + i, n, (off_t)(off + i));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		i += (size_t)w;
	}
	return 0;
}

/* Write the content of the regular file ${e} to ${fd}. */
static int
write_content(struct restore *r, int fd, const struct store_entry *e,
    int *is_store)
{
	const struct store_extent *x;
	uint64_t off;
	uint64_t end;
	size_t want;
	size_t got;
	size_t i;
	int rc;

	for (i = 0; i < e->n_extents; i++) {
		x = &e->extents[i];
		off = x->off;
		end = x->off + x->len;
		if (end < off || end > e->size)
			end = e->size;
		while (off < end) {
			want = end - off > RESTORE_BUF ? RESTORE_BUF :
			    (size_t)(end - off);
			if ((rc = store_read(r->s, e, off, r->buf, want,
			    &got)) < 0) {
				*is_store = 1;
				return rc;
			}
			if (got == 0) {
				*is_store = 1;
				return -EBADMSG;
			}
			if ((rc = write_sparse(fd, r->buf, got, off)) < 0)
				return rc;
			off += got;
		}
	}
	if (ftruncate(fd, (off_t)e->size) != 0)
		return -errno;
	return 0;
}

/* Make a hard link to the first restored name of ${e}'s group. */
static int
make_link(struct restore *r, int dfd, const char *tmp,
    const struct link_slot *first)
{
	const char *base = NULL;
	int pfd;
	int rc = 0;

	if ((pfd = open_parent(r, first->relpath, &base)) < 0)
		return pfd;
	if (linkat(pfd, base, dfd, tmp, 0) != 0)
		rc = -errno;
	close(pfd);
	return rc;
}

/*
 * Create the non-directory ${e} under the fresh name ${tmp}; on failure
 * *${what} says what failed and *${is_store} whether the store did.
 */
static int
make_node(struct restore *r, int dfd, const char *tmp,
    const struct store_entry *e, struct timespec pt, const char **what,
    int *is_store)
{
	char target[STORE_TARGET_MAX + 1];
	int fd;
	int rc;

	switch (e->type) {
	case STORE_REG:
		*what = "cannot create the file";
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		rc = write_content(r, fd, e, is_store);
		if (rc < 0 && *is_store)
			*what = rc == -ENOENT ? "not restored, data missing" :
			    "not restored";
		else if (rc < 0)
			*what = "cannot write the file";
		if (rc == 0 && (rc = set_meta_fd(r, fd, e, pt)) < 0)
			*what = "cannot set owner, mode or mtime";
		if (close(fd) != 0 && rc == 0) {
			rc = -errno;
			*what = "cannot write the file";
		}
		if (rc < 0)
			unlinkat(dfd, tmp, 0);
		return rc;
	case STORE_LNK:
		*what = "cannot create the symbolic link";
		if (e->target_len == 0 || e->target_len > STORE_TARGET_MAX ||
		    memchr(e->target, '\0', e->target_len) != NULL) {
			*what = "invalid symbolic link target";
			*is_store = 1;
			return -EBADMSG;
		}
		memcpy(target, e->target, e->target_len);
		target[e->target_len] = '\0';
		if (symlinkat(target, dfd, tmp) != 0)
			return -errno;
		break;
	case STORE_FIFO:
		*what = "cannot create the fifo";
		if (mknodat(dfd, tmp, S_IFIFO | 0600, 0) != 0)
			return -errno;
		break;
	case STORE_SOCK:
		*what = "cannot create the socket";
		if (mknodat(dfd, tmp, S_IFSOCK | 0600, 0) != 0)
			return -errno;
		break;
	case STORE_CHR:
	case STORE_BLK:
		*what = "cannot create the device node";
		if (mknodat(dfd, tmp, (e->type == STORE_CHR ? S_IFCHR :
		    S_IFBLK) | 0600, (dev_t)e->rdev) != 0)
			return -errno;
		break;
	default:
		*what = "unknown entry type";
		*is_store = 1;
		return -EBADMSG;
	}
	if ((rc = set_meta_at(r, dfd, tmp, e, pt)) < 0) {
		*what = "cannot set owner, mode or mtime";
		unlinkat(dfd, tmp, 0);
	}
	return rc;
}

static int
restore_nondir(struct restore *r, int dfd, const struct store_entry *e,
    const char *name, struct timespec pt)
{
	char tmp[64];
	struct link_slot *first = NULL;
	const char *what = "cannot restore";
	int is_store = 0;
	int tries;
	int rc;

	if ((e->type == STORE_CHR || e->type == STORE_BLK) && r->no_devices) {
		note_at(r, "device node skipped (--no-devices)");
		return 0;
	}
	if ((e->type == STORE_CHR || e->type == STORE_BLK) && !r->is_root) {
		warn_at(r, "device node skipped (needs root)");
		return 0;
	}
	if (e->link != 0)
		first = link_find(r, e->link);
	for (tries = 0; tries < 100; tries++) {
		tmp_name(r, tmp, sizeof(tmp));
		if (first != NULL) {
			what = "cannot make the hard link";
			rc = make_link(r, dfd, tmp, first);
		} else {
			rc = make_node(r, dfd, tmp, e, pt, &what,
			    &is_store);
		}
		if (rc != -EEXIST)
			break;
	}
	if (rc < 0)
		return is_store ? fail_store(r, what, rc) : fail(r, what, rc);
	if ((rc = place(r, dfd, tmp, name)) < 0) {
		if (rc == -EEXIST)
			return fail(r, "exists (use --overwrite to replace "
			    "it)", 0);
		return fail(r, "cannot put it in place", rc);
	}
	if (e->type == STORE_REG && first == NULL)
		r->n_bytes += e->size;
	progress(r);
	if (e->flags & STORE_ENTRY_PARTIAL)
		warn_at(r, "could not be read whole when it was stored");
	if (e->link != 0 && first == NULL &&
	    (rc = link_put(r, e->link, r->path + r->rel_start)) < 0)
		return rc;
	return 0;
}

static int restore_entry(struct restore *r, int dfd,
    const struct store_entry *e, int depth, struct timespec pt);

/*
 * The children of the directory entry ${e} into ${fd}; ${depth} is the
 * directory's depth below the snapshot root, ${mt} its effective mtime.
 */
static int
restore_children(struct restore *r, int fd, const struct store_entry *e,
    int depth, struct timespec mt)
{
	struct store_tree *t = NULL;
	size_t i;
	size_t n;
	int rc;

	if ((rc = store_tree_read(r->s, &e->tree, &t)) < 0)
		return fail_store(r, "cannot read the directory", rc);
	n = store_tree_len(t);
	for (i = 0; i < n; i++)
		if ((rc = restore_entry(r, fd, store_tree_entry(t, i),
		    depth + 1, mt)) < 0)
			break;
	store_tree_free(t);
	return rc;
}

static int
restore_dir(struct restore *r, int dfd, const struct store_entry *e,
    const char *name, int depth, struct timespec pt)
{
	struct timespec mt = ts_of(e, pt);
	struct timespec ts[2];
	int fd = -1;
	int rc;

	if (depth > RESTORE_DEPTH_MAX)
		return fail(r, "too deep", -ELOOP);
	if (mkdirat(dfd, name, 0700) != 0) {
		rc = -errno;
		if (rc != -EEXIST)
			return fail(r, "cannot create the directory", rc);
		if (!r->is_overwrite)
			return fail(r, "exists (use --overwrite to replace "
			    "it)", 0);
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 && r->is_overwrite && (errno == ENOTDIR ||
	    errno == ELOOP)) {
		/* A file or a symlink in the way: replace, never follow. */
		if ((rc = remove_tree(dfd, name, 0)) < 0)
			return fail(r, "cannot remove what is in the way", rc);
		if (mkdirat(dfd, name, 0700) != 0)
			return fail(r, "cannot create the directory", -errno);
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd < 0)
		return fail(r, "cannot open the directory", -errno);
	/*
	 * An existing directory we merge into may be read-only (a previous
	 * restore of a 0555 one): open it up as a new one would be; its own
	 * mode is set after its content.  Best effort: if it is not ours,
	 * the errors come, clearer, from what we then try to put in it.
	 */
	if (r->is_overwrite)
		(void)fchmod(fd, 0700);
	/* Hard-link ordinals count from each source root (kind/name). */
	if (depth == 2)
		r->scope++;
	if ((rc = restore_children(r, fd, e, depth, mt)) < 0)
		goto out;
	/* After the content, which would change the mtime. */
	if (r->is_root && fchown(fd, e->uid, e->gid) != 0) {
		rc = fail(r, "cannot set the owner", -errno);
		goto out;
	}
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = mt;
	if (fchmod(fd, (mode_t)(e->mode & 07777)) != 0 ||
	    futimens(fd, ts) != 0) {
		rc = fail(r, "cannot set the mode or mtime", -errno);
		goto out;
	}
	progress(r);
out:
	close(fd);
	return rc;
}

/* Restore ${e} into ${dfd}; ${pt} is the effective mtime of its
 * directory. */
static int
restore_entry(struct restore *r, int dfd, const struct store_entry *e,
    int depth, struct timespec pt)
{
	char name[STORE_NAME_MAX + 1];
	size_t old;
	int rc;

	if ((rc = path_push(r, e->name, e->name_len, &old)) < 0)
		return rc;
	if (!name_ok(e, name))
		rc = fail_store(r, "invalid name, skipped", -EBADMSG);
	else if (e->type == STORE_DIR)
		rc = restore_dir(r, dfd, e, name, depth, pt);
	else
		rc = restore_nondir(r, dfd, e, name, pt);
	path_pop(r, old);
	return rc;
}

/*
 * mkdir -p ${path}, then open it (it may be a symlink: the user's).  As
 * with mkdir -p, the directories made get the umask's mode plus u+wx, so
 * that we can go on into them.
 */
static int
make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0)
		return errno == EEXIST ? 0 : -errno;
	/* A mode we cannot use would stop us at the next step. */
	if ((mode & 0300) != 0300 && chmod(path, mode | 0300) != 0)
		return -errno;
	return 0;
}

static int
open_target(const char *path)
{
	mode_t mask = umask(0);
	mode_t mode = 0777 & ~mask;
	char *copy;
	char *p;
	int fd;
	int rc;

	umask(mask);
	if ((copy = strdup(path)) == NULL)
		return -ENOMEM;
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if ((rc = make_dir(copy, mode)) < 0) {
			free(copy);
			return rc;
		}
		*p = '/';
	}
	free(copy);
	if ((rc = make_dir(path, mode)) < 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	return fd;
}

/* Without --overwrite, refuse before writing anything if an item exists. */
static int
check_free(struct restore *r, const char *target,
    const struct store_entry *e)
{
	char name[STORE_NAME_MAX + 1];
	struct stat st;

	if (r->is_overwrite || !name_ok(e, name))
		return 0;
	if (fstatat(r->target_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	fprintf(stderr, "%s: %s/", r->cmd, target);
	name_print(stderr, e->name, e->name_len, 1);
	fprintf(stderr, ": exists (use --overwrite to replace it)\n");
	return -EEXIST;
}

/* Number of components of ${path} ("" has none). */
static int
depth_of(const char *path)
{
	int n = *path != '\0';

	for (; *path != '\0'; path++)
		n += *path == '/';
	return n;
}

/*
 * The path buffer starts with ${path}'s parent ("" for a top item);
 * ${path} is cut to it.  Returns 0 or -ENOMEM.
 */
static int
path_start(struct restore *r, char *path)
{
	char *slash;
	size_t n;

	if ((slash = strrchr(path, '/')) != NULL)
		*slash = '\0';
	else
		*path = '\0';
	n = strlen(path);
	r->path_cap = n + 256;
	if ((r->path = malloc(r->path_cap)) == NULL)
		return -ENOMEM;
	memcpy(r->path, path, n + 1);
	r->path_len = n;
	r->rel_start = n > 0 ? n + 1 : 0;
	return 0;
}

/* The last line: JSON on stdout, or one line on stderr. */
static void
summary(const struct restore *r, const struct cli_common *c,
    const char *target)
{
	if (c->is_json) {
		json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:b}",
		    "entries", (json_int_t)r->n_entries,
		    "bytes", (json_int_t)r->n_bytes,
		    "errors", (json_int_t)r->n_errors,
		    "warnings", (json_int_t)r->n_warnings,
		    "ok", r->n_errors == 0);

		if (o != NULL) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			fflush(stdout);
		}
		json_decref(o);
	} else if (!c->is_quiet) {
		fprintf(stderr, "%s: %llu entr%s (%llu bytes) restored into "
		    "%s%s\n", r->cmd, (unsigned long long)r->n_entries,
		    r->n_entries == 1 ? "y" : "ies",
		    (unsigned long long)r->n_bytes, target,
		    r->n_errors > 0 ? ", with errors" : "");
	}
}

/*
 * The options into ${c} and ${r}.  Returns -1 to go on, else the exit
 * status (--help, or a usage error).
 */
static int
restore_opts(int argc, char **argv, struct cli_common *c, struct restore *r)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "overwrite", no_argument, NULL, OPT_OVERWRITE },
		{ "no-setuid", no_argument, NULL, OPT_NO_SETUID },
		{ "no-devices", no_argument, NULL, OPT_NO_DEVICES },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = cli_getopt(argc, argv, longopts, c)) != -1) {
		switch (opt) {
		case OPT_OVERWRITE:
			r->is_overwrite = 1;
			break;
		case OPT_NO_SETUID:
			r->no_setid = 1;
			break;
		case OPT_NO_DEVICES:
			r->no_devices = 1;
			break;
		default:
			return cli_usage(argv[0], usage, 1);
		}
	}
	if (c->is_help)
		return cli_usage(argv[0], usage, 0);
	if (argc - optind != 3 || *argv[optind + 2] == '\0')
		return cli_usage(argv[0], usage, 1);
	return -1;
}

int
cmd_restore(int argc, char **argv)
{
	struct cli_found f = { 0 };
	struct store_tree *top = NULL;
	const struct store_snap *sn;
	const struct store_entry *e;
	struct cli_common c;
	struct restore r;
	const char *target;
	char *spec = NULL;
	char *path = NULL;
	struct timespec pt;
	int64_t psec;
	uint32_t pnsec;
	size_t i;
	size_t n;
	int depth;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	r.cmd = argv[0];
	r.target_fd = -1;
	if ((rc = restore_opts(argc, argv, &c, &r)) >= 0)
		return rc;
	target = argv[optind + 2];
	if (cli_split_spec(argv[optind + 1], &spec, &path) < 0) {
		cli_err(argv[0], "%s: not SNAPSHOT[:PATH] (PATH may not "
		    "hold '..')", argv[optind + 1]);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	r.is_root = geteuid() == 0;
	r.is_progress = !c.is_quiet && !c.is_json && isatty(STDERR_FILENO);
	cli_raise_fd_limit();
	if ((rc = cli_open(argv[0], argv[optind], &c, 1, &r.s)) != 0)
		goto out;
	if ((rc = cli_find(argv[0], r.s, argv[optind + 1], &f)) != 0)
		goto out;
	sn = f.snap;
	e = f.entry;
	r.snap = sn->name;
	if ((r.buf = malloc(RESTORE_BUF)) == NULL) {
		rc = -ENOMEM;
		goto fatal;
	}
	if ((rc = path_start(&r, path)) < 0)
		goto fatal;
	depth = depth_of(path);
	/* The time the item inherits, if it does: its directory's. */
	if ((rc = mtime_at(r.s, sn, path, &psec, &pnsec)) < 0) {
		cli_err(argv[0], "%s: %s", sn->name, cli_strerror(rc));
		rc = cli_exit_status(rc);
		goto out;
	}
	pt.tv_sec = (time_t)psec;
	pt.tv_nsec = (long)pnsec;
	if (f.parent == NULL) {
		/* The whole snapshot: its top-level directories. */
		if ((rc = store_tree_read(r.s, &e->tree, &top)) < 0) {
			cli_err(argv[0], "%s: cannot read the root: %s",
			    sn->name, cli_strerror(rc));
			rc = cli_exit_status(rc);
			goto out;
		}
		n = store_tree_len(top);
	} else {
		n = 1;
	}
	if ((rc = open_target(target)) < 0) {
		cli_err(argv[0], "%s: %s", target, strerror(-rc));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	r.target_fd = rc;
	/*
	 * Every mode is set explicitly; the umask must only not stop us
	 * from filling the directories we make (0700) before that.
	 */
	umask(077);
	for (i = 0; i < n; i++) {
		if (check_free(&r, target, top != NULL ?
		    store_tree_entry(top, i) : e) < 0) {
			rc = CLI_EXIT_ERROR;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if ((rc = restore_entry(&r, r.target_fd, top != NULL ?
		    store_tree_entry(top, i) : e, depth + 1, pt)) < 0)
			goto fatal;
	}
	progress_end(&r);
	summary(&r, &c, target);
	rc = r.n_errors > 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
	goto out;
fatal:
	progress_end(&r);
	cli_err(argv[0], "%s", cli_strerror(rc));
	rc = cli_exit_status(rc);
out:
	for (i = 0; i < r.links_cap; i++)
		free(r.links[i].relpath);
	free(r.links);
	free(r.path);
	free(r.buf);
	if (r.target_fd >= 0)
		close(r.target_fd);
	free(spec);
	free(path);
	store_tree_free(top);
	cli_found_free(&f);
	store_close(r.s);
	return rc;
}
