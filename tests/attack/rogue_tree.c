/*
 * rogue_tree.c: what a host holding only an ingest key (W1) can commit
 * with the store's own writer API, trees that amber's readers never
 * write: the "owned by whoever looks" flag anywhere, uids and configs of
 * its choosing, nesting deeper than any reader accepts.  The attack
 * tests build it with tests/attack/rogue.sh and run it as an attacker
 * would run a modified amber.
 *
 * usage: rogue_tree STORE KEYFILE SPEC...
 *   KIND/NAME=DIR       a source made from the directory DIR: files,
 *                       directories and symbolic links, with the mode,
 *                       uid, gid and mtime they have on disk
 *   flag:KIND/NAME[/P]  give the entry P of that source (the source root
 *                       without /P) flag bit 2, "owned by whoever looks"
 *   deep:KIND/NAME=N    a source of N nested directories "d", the
 *                       deepest holding a file "f" whose one chunk is in
 *                       no pack
 * KIND is files, repos or pipelines.  Prints the snapshot id.
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

#include "store.h"

#define MAX_SOURCES 16
#define MAX_FLAGS 16

struct ctx {
	struct store_writer *w;
	const char *flags[MAX_FLAGS];	/* KIND/NAME[/P] */
	size_t n_flags;
	uint8_t *buf;
};

static int
has_flag(const struct ctx *c, const char *path)
{
	for (size_t i = 0; i < c->n_flags; i++)
		if (strcmp(c->flags[i], path) == 0)
			return 1;
	return 0;
}

static int
file_entry(struct ctx *c, int fd, struct store_entry *e)
{
	struct store_file *f = NULL;
	struct store_extent *x = NULL;
	uint64_t off = 0;
	ssize_t n;
	size_t nx;
	int r;

	if ((r = store_file_new(c->w, &f)) < 0)
		return r;
	while ((n = read(fd, c->buf, 1 << 20)) > 0) {
		if ((r = store_file_write(f, off, c->buf, (size_t)n)) < 0)
			goto out;
		off += (uint64_t)n;
	}
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if ((r = store_file_end(f, &x, &nx)) < 0)
		goto out;
	e->size = off;
	e->extents = x;
	e->n_extents = nx;
out:
	store_file_free(f);
	return r;
}

/* The directory ${dfd} (its path in the snapshot ${path}) into ${dir}. */
static int
dir_entry(struct ctx *c, int dfd, char *path, struct store_entry *dir)
{
	struct store_tb *tb = NULL;
	struct dirent *de;
	DIR *d;
	size_t plen = strlen(path);
	int r = 0;

	if ((d = fdopendir(dfd)) == NULL)
		return -errno;
	if ((r = store_tb_new(&tb)) < 0)
		goto out;
	while (r == 0 && (de = readdir(d)) != NULL) {
		struct store_entry e;
		struct stat st;
		char target[STORE_TARGET_MAX + 1];
		ssize_t n;
		int fd;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			r = -errno;
			break;
		}
		memset(&e, 0, sizeof(e));
		e.name = (const uint8_t *)de->d_name;
		e.name_len = strlen(de->d_name);
		store_entry_stat(&e, &st);
		snprintf(path + plen, 4096 - plen, "/%s", de->d_name);
		if (has_flag(c, path))
			e.flags |= STORE_ENTRY_OWNER_VIEWER;
		if (S_ISDIR(st.st_mode)) {
			e.type = STORE_DIR;
			fd = openat(dirfd(d), de->d_name, O_RDONLY |
			    O_DIRECTORY);
			if (fd < 0) {
				r = -errno;
				break;
			}
			if ((r = dir_entry(c, fd, path, &e)) < 0)
				break;
		} else if (S_ISREG(st.st_mode)) {
			e.type = STORE_REG;
			if ((fd = openat(dirfd(d), de->d_name, O_RDONLY)) < 0) {
				r = -errno;
				break;
			}
			r = file_entry(c, fd, &e);
			close(fd);
			if (r < 0)
				break;
		} else if (S_ISLNK(st.st_mode)) {
			e.type = STORE_LNK;
			n = readlinkat(dirfd(d), de->d_name, target,
			    sizeof(target) - 1);
			if (n <= 0) {
				r = -EINVAL;
				break;
			}
			e.target = (const uint8_t *)target;
			e.target_len = (size_t)n;
			e.size = (uint64_t)n;
		} else {
			continue;
		}
		path[plen] = '\0';
		r = store_tb_add(tb, &e);
		free((void *)e.extents);
	}
	if (r == 0)
		r = store_tb_finish(c->w, tb, dir);
out:
	path[plen] = '\0';
	store_tb_free(tb);
	closedir(d);
	return r;
}

/* N nested directories "d", the deepest holding "f" with a lost chunk. */
static int
deep_entry(struct ctx *c, long n, struct store_entry *root)
{
	struct store_extent x;
	struct store_entry e;
	struct store_tb *tb = NULL;
	int r = 0;

	memset(&x, 0, sizeof(x));
	memset(x.ref.id, 0xab, sizeof(x.ref.id));	/* in no pack */
	x.len = 5;
	store_entry_init(&e, "f", STORE_REG, 0644);
	e.size = 5;
	e.extents = &x;
	e.n_extents = 1;
	for (long i = 0; i <= n; i++) {
		if ((r = store_tb_new(&tb)) < 0)
			return r;
		if ((r = store_tb_add(tb, &e)) < 0)
			break;
		store_entry_init(&e, "d", STORE_DIR, 0755);
		if ((r = store_tb_finish(c->w, tb, &e)) < 0)
			break;
		store_tb_free(tb);
		tb = NULL;
	}
	store_tb_free(tb);
	if (r == 0) {
		/* The last "d" made is the source root. */
		e.name = NULL;
		e.name_len = 0;
		*root = e;
	}
	return r;
}

static int
kind_of(const char *s, size_t len)
{
	if (len == 5 && memcmp(s, "files", 5) == 0)
		return STORE_FILES;
	if (len == 5 && memcmp(s, "repos", 5) == 0)
		return STORE_REPOS;
	if (len == 9 && memcmp(s, "pipelines", 9) == 0)
		return STORE_PIPELINES;
	return -1;
}

int
main(int argc, char **argv)
{
	static struct store_source src[MAX_SOURCES];
	struct store_snap_new sn;
	struct store *s = NULL;
	struct ctx c;
	struct stat st;
	char key[4096];
	char path[4096];
	uint8_t id[STORE_HASH_LEN];
	size_t n_src = 0;
	size_t len;
	FILE *f;
	int r;

	memset(&c, 0, sizeof(c));
	if (argc < 4) {
		fprintf(stderr, "usage: rogue_tree STORE KEYFILE SPEC...\n");
		return 2;
	}
	for (int i = 3; i < argc; i++)
		if (strncmp(argv[i], "flag:", 5) == 0 && c.n_flags < MAX_FLAGS)
			c.flags[c.n_flags++] = argv[i] + 5;
	if ((f = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	len = fread(key, 1, sizeof(key), f);
	fclose(f);
	if ((c.buf = malloc(1 << 20)) == NULL)
		return 1;
	if ((r = store_open(argv[1], &(struct store_opts){ 0 }, &s)) < 0 ||
	    (r = store_unlock_keyfile(s, key, len)) < 0 ||
	    (r = store_writer_new(s, &c.w)) < 0)
		goto out;
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		const char *slash;
		const char *eq;
		int is_deep = strncmp(a, "deep:", 5) == 0;
		int kind;
		int fd;

		if (strncmp(a, "flag:", 5) == 0)
			continue;
		if (is_deep)
			a += 5;
		if (n_src == MAX_SOURCES || (slash = strchr(a, '/')) == NULL ||
		    (eq = strchr(slash, '=')) == NULL ||
		    (kind = kind_of(a, (size_t)(slash - a))) < 0 ||
		    (size_t)(eq - slash - 1) > STORE_NAME_MAX) {
			fprintf(stderr, "rogue_tree: bad spec %s\n", argv[i]);
			r = -EINVAL;
			goto out;
		}
		src[n_src].kind = (uint8_t)kind;
		memcpy(src[n_src].name, slash + 1, (size_t)(eq - slash - 1));
		snprintf(src[n_src].origin, sizeof(src[n_src].origin), "%s",
		    eq + 1);
		snprintf(path, sizeof(path), "%.*s", (int)(eq - a), a);
		if (is_deep) {
			r = deep_entry(&c, atol(eq + 1), &src[n_src].root);
		} else {
			if ((fd = open(eq + 1, O_RDONLY | O_DIRECTORY)) < 0) {
				perror(eq + 1);
				r = -errno;
				goto out;
			}
			if (fstat(fd, &st) != 0) {
				r = -errno;
				close(fd);
				goto out;
			}
			store_entry_stat(&src[n_src].root, &st);
			src[n_src].root.type = STORE_DIR;
			r = dir_entry(&c, fd, path, &src[n_src].root);
			if (has_flag(&c, path))
				src[n_src].root.flags |=
				    STORE_ENTRY_OWNER_VIEWER;
		}
		if (r < 0)
			goto out;
		n_src++;
	}
	memset(&sn, 0, sizeof(sn));
	sn.time_sec = time(NULL);
	sn.host = "rogue";
	sn.sources = src;
	sn.n_sources = n_src;
	if ((r = store_writer_commit(c.w, &sn, id)) < 0)
		goto out;
	for (size_t i = 0; i < STORE_HASH_LEN; i++)
		printf("%02x", id[i]);
	printf("\n");
out:
	if (r < 0)
		fprintf(stderr, "rogue_tree: %s\n", strerror(-r));
	store_writer_free(c.w);
	store_close(s);
	free(c.buf);
	return r < 0;
}
