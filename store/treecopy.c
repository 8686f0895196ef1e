/*
 * treecopy.c: local copies of the packs of trees, for backends where
 * every read is a request over the network (S3).
 *
 * A walk of a snapshot reads one tree per directory.  From a local store
 * the kernel reads each pack of trees ahead (the backend's willneed);
 * from S3 every tree would be a ranged GET of its own, thousands of round
 * trips for one source tree.  So store_readahead_trees() (a mount's
 * read-ahead thread: never a reader waiting for an answer) copies each
 * pack of trees whole into <index dir>/trees/ (fetched 4 MiB at a
 * time, so that a copy costs no more memory whatever the pack's size),
 * checked against its name (the SHA-256 of the pack), and a read of a
 * tree (chunk_open_at() with OPEN_TREE) takes its blob from a copy where
 * there is one; other reads never look.  The copies are ciphertext, as
 * the store is; every blob read from one is authenticated as ever, and
 * one that fails is read from the backend instead while the copy is
 * removed.  They are bounded like the read-ahead: the packs of trees
 * within ${cap} bytes are copied, copies of any other pack are removed.
 * A copy that fails (a full disk, the network) stops the fetching for a
 * minute; a pack whose bytes are not what its name says is not fetched
 * again; store_interrupt() ends a copy between two pieces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypt.h"
#include "index.h"
#include "io.h"
#include "log.h"
#include "pack.h"
#include "storei.h"

#define TREES_DIR "trees"
#define TREECOPY_RETRY 60	/* seconds without fetching after a failure */
#define COPY_PIECE (4u << 20)	/* bytes fetched at a time */
#define TMP_MAX_AGE 3600	/* seconds a copy in the making is left alone */

/* The path of the copy of ${pack} (NULL: the directory of copies) in
 * ${path}; -1 if there is none to give. */
static int
copy_path(const struct store *s, const uint8_t *pack, char *path,
    size_t cap)
{
	char hex[65] = "";
	int n;

	if (s->index_dir == NULL)
		return -1;
	if (pack != NULL)
		log_hex(pack, STORE_HASH_LEN, hex);
	n = snprintf(path, cap, "%s/" TREES_DIR "%s%s", s->index_dir,
	    pack != NULL ? "/" : "", hex);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The directory of copies, opened (created on ${is_create}); -1 if none. */
static int
copies_dir(const struct store *s, int is_create)
{
	char path[4096];

	if (copy_path(s, NULL, path, sizeof(path)) < 0)
		return -1;
	if (is_create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
treecopy_get(struct store *s, const struct chunk_loc *loc, uint8_t **buf,
    size_t *got)
{
	char path[4096];
	struct stat st;
	uint8_t *p;
	size_t done = 0;
	int fd;

	/* One open per tree read: a reader's path. */
	if (copy_path(s, loc->pack, path, sizeof(path)) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -ENOENT;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < loc->off ||
	    (uint64_t)st.st_size - loc->off < loc->len ||
	    (p = malloc(loc->len ? loc->len : 1)) == NULL) {
		close(fd);
		return -ENOENT;
	}
	while (done < loc->len) {
		ssize_t n = pread(fd, p + done, loc->len - done,
		    (off_t)(loc->off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	if (done != loc->len) {
		free(p);
		return -ENOENT;
	}
	*buf = p;
	*got = done;
	return 0;
}

void
treecopy_drop(struct store *s, const uint8_t pack[STORE_HASH_LEN])
{
	char path[4096];

	if (copy_path(s, pack, path, sizeof(path)) == 0)
		(void)unlink(path);
}

/*
 * Fetch pack ${h} (${size} bytes) in pieces of COPY_PIECE, so that a copy
 * costs that much memory whatever the pack's size, write it aside, check
 * it against its name (the SHA-256 of the whole), and rename it to ${hex}
 * in ${dfd}: a copy is never seen half written or wrong.  The original
 * version is read, as for every read; if it does not match, there is no
 * copy, and the reads that go to the backend deal with the damage.
 */
static int
copy_pack(struct store *s, int dfd, const uint8_t h[STORE_HASH_LEN],
    const char *hex, uint64_t size)
{
	struct crypt_sha256 *hash;
	uint8_t sum[CRYPT_HASH_LEN];
	char name[80];
	char tmp[80];
	uint64_t piece = s->treecopy_piece ? s->treecopy_piece : COPY_PIECE;
	uint64_t off;
	int fd;
	int r = 0;

	pack_name(h, name);
	snprintf(tmp, sizeof(tmp), ".%s.%ld", hex, (long)getpid());
	if ((hash = crypt_sha256_new()) == NULL)
		return -ENOMEM;
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0) {
		r = -errno;
		(void)crypt_sha256_end(hash, sum);
		return r;
	}
	for (off = 0; off < size && r == 0; ) {
		if (atomic_load(&s->is_interrupted)) {
			r = -EINTR;
			break;
		}
		uint64_t want = size - off < piece ? size - off : piece;
		uint8_t *buf = NULL;
		size_t got = 0;

		r = s->be->ops->get(s->be, name, NULL, off, want, &buf, &got);
		if (r == 0 && got != want)
			r = -EIO;
		if (r == 0)
			r = crypt_sha256_add(hash, buf, got);
		if (r == 0)
			r = io_write_all(fd, buf, got) < 0 ? -EIO : 0;
		free(buf);
		off += want;
	}
	if (crypt_sha256_end(hash, sum) < 0 && r == 0)
		r = -EIO;
	if (r == 0 && memcmp(sum, h, STORE_HASH_LEN) != 0)
		r = -EBADMSG;
	if (close(fd) < 0 && r == 0)
		r = -EIO;
	if (r == 0 && renameat(dfd, tmp, dfd, hex) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dfd, tmp, 0);
	return r;
}

struct tree_pack {
	uint8_t h[STORE_HASH_LEN];
	char hex[65];
	uint64_t size;
};

struct list_ctx {
	uint64_t left;
	struct tree_pack *v;
	size_t n;
	size_t cap;
};

/* Collect the packs of trees within the cap (the fetching is done after
 * the index's read transaction: it may take seconds). */
static int
list_one(void *ctx, const uint8_t h[STORE_HASH_LEN], uint64_t size)
{
	struct list_ctx *c = ctx;

	if (size > c->left)
		return 1;
	c->left -= size;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct tree_pack *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return 1;
		c->v = v;
		c->cap = cap;
	}
	memcpy(c->v[c->n].h, h, STORE_HASH_LEN);
	log_hex(h, STORE_HASH_LEN, c->v[c->n].hex);
	c->v[c->n].size = size;
	c->n++;
	return 0;
}

static int
is_listed(const struct list_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].hex, name) == 0)
			return 1;
	return 0;
}

static int
is_bad(const struct store *s, const uint8_t h[STORE_HASH_LEN])
{
	for (size_t i = 0; i < s->n_treecopy_bad; i++)
		if (memcmp(s->treecopy_bad[i], h, STORE_HASH_LEN) == 0)
			return 1;
	return 0;
}

void
treecopy_sync(struct store *s, uint64_t cap)
{
	struct list_ctx c = { cap, NULL, 0, 0 };
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dfd;
	int fd;

	if (s->ix == NULL || (dfd = copies_dir(s, 1)) < 0)
		return;
	if (index_tree_packs(s->ix, list_one, &c) < 0)
		goto out;
	/*
	 * On failure a pack's trees are read from the backend.  A pack
	 * whose bytes are not the pack named is never tried again; any
	 * other failure (the disk, the network) stops the fetching for a
	 * while, since each try costs a transfer.
	 */
	for (size_t i = 0; i < c.n && !atomic_load(&s->is_interrupted) &&
	    time(NULL) >= s->treecopy_retry_at; i++) {
		int r;

		if (is_bad(s, c.v[i].h) ||
		    (fstatat(dfd, c.v[i].hex, &st, 0) == 0 &&
		    (uint64_t)st.st_size == c.v[i].size))
			continue;
		r = copy_pack(s, dfd, c.v[i].h, c.v[i].hex, c.v[i].size);
		if (r == -EBADMSG && s->n_treecopy_bad < TREECOPY_BAD_MAX)
			memcpy(s->treecopy_bad[s->n_treecopy_bad++], c.v[i].h,
			    STORE_HASH_LEN);
		else if (r < 0 && r != -EINTR)
			s->treecopy_retry_at = time(NULL) + TREECOPY_RETRY;
	}
	/* What is not listed goes: copies of packs past the cap, and
	 * leftovers of a copy that was cut short (an hour old: until then
	 * it may be another mount's copy in the making). */
	if ((fd = dup(dfd)) < 0)
		goto out;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || is_listed(&c, de->d_name))
			continue;
		if (de->d_name[0] == '.' && (fstatat(dfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_mtime > time(NULL) - TMP_MAX_AGE))
			continue;
		(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
out:
	free(c.v);
	close(dfd);
}
