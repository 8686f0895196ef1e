/*
 * fuse_ceiling.c: the ceiling of FUSE on this machine, for tests/bench.
 *
 * Serves one read-only regular file, "data", of ${size} bytes (default
 * 1 GiB) whose contents come from a static buffer: no I/O, no copies
 * beyond the one into the kernel, so reading it measures FUSE itself.
 * The kernel may keep the file's pages cached (keep_cache) and entries
 * and attributes for an hour, as amberfs may for snapshot contents.
 *
 *	fuse_ceiling [-o size=BYTES] MOUNTPOINT -f
 *
 * Built by tests/bench/run.sh with cc and pkg-config fuse3; not part of
 * `make`.  The byte at offset o is ((o mod PATTERN_LEN) * 31 + 7) mod 256,
 * so a reader can check what it got.
 */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DATA_INO 2
#define DATA_NAME "data"
#define PATTERN_LEN (1024 * 1024)	/* the pattern repeats after 1 MiB */
#define READ_MAX (1024 * 1024)		/* largest read we answer at once */
#define TIMEOUT 3600.0

struct ceiling {
	uint64_t size;
	uint8_t *buf;			/* PATTERN_LEN + READ_MAX bytes */
};

struct opts {
	char *size;
};

static const struct fuse_opt opt_spec[] = {
	{ "size=%s", offsetof(struct opts, size), 0 },
	FUSE_OPT_END
};

static void
fill_attr(const struct ceiling *c, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)c->size;
		st->st_blocks = (blkcnt_t)((c->size + 511) / 512);
	}
}

static void
op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* 1 MiB requests where the kernel allows (max_pages follows). */
	conn->max_write = READ_MAX;
	conn->max_readahead = READ_MAX;
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ceiling *c = fuse_req_userdata(req);
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, DATA_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = DATA_INO;
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = TIMEOUT;
	fill_attr(c, DATA_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ceiling *c = fuse_req_userdata(req);
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID && ino != DATA_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(c, ino, &st);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct ceiling *c = fuse_req_userdata(req);
	static const char *const names[] = { ".", "..", DATA_NAME };
	char buf[512];
	size_t used = 0;
	size_t n;
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (off_t i = off; i >= 0 && i < 3; i++) {
		fill_attr(c, i == 2 ? DATA_INO : FUSE_ROOT_ID, &st);
		n = fuse_add_direntry(req, buf + used, size - used,
		    names[i], &st, i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != DATA_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct ceiling *c = fuse_req_userdata(req);
	uint64_t o = (uint64_t)off;

	(void)fi;
	if (ino != DATA_INO || off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (o >= c->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > READ_MAX)
		size = READ_MAX;
	if (size > c->size - o)
		size = (size_t)(c->size - o);
	fuse_reply_buf(req, (const char *)c->buf + o % PATTERN_LEN, size);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
};

/*
 * parse_size: parse ${s} as a byte count, decimal, at least 1 and at
 * most 2^50.  Returns 0 and sets ${out}, or -EINVAL.
 */
static int
parse_size(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 ||
	    v > (1ULL << 50))
		return -EINVAL;
	*out = v;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd;
	struct opts o = { NULL };
	struct ceiling c = { 1ULL << 30, NULL };
	struct fuse_session *se = NULL;
	struct fuse_loop_config *cfg = NULL;
	int mounted = 0;
	int ret = 1;

	memset(&cmd, 0, sizeof(cmd));
	if (fuse_opt_parse(&args, &o, opt_spec, NULL) != 0)
		goto out;
	if (o.size != NULL && parse_size(o.size, &c.size) < 0) {
		fprintf(stderr, "fuse_ceiling: bad size=%s\n", o.size);
		goto out;
	}
	if (fuse_parse_cmdline(&args, &cmd) != 0)
		goto out;
	if (cmd.show_help || cmd.show_version || cmd.mountpoint == NULL) {
		fprintf(stderr, "usage: fuse_ceiling [-o size=BYTES] "
		    "MOUNTPOINT [-f] [-s]\n");
		goto out;
	}
	if ((c.buf = malloc(PATTERN_LEN + READ_MAX)) == NULL)
		goto out;
	for (size_t i = 0; i < PATTERN_LEN + READ_MAX; i++)
		c.buf[i] = (uint8_t)(((i % PATTERN_LEN) * 31 + 7) & 0xff);
	se = fuse_session_new(&args, &ops, sizeof(ops), &c);
	if (se == NULL)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, cmd.mountpoint) != 0)
		goto out;
	mounted = 1;
	if (fuse_daemonize(cmd.foreground) != 0)
		goto out;
	if (cmd.singlethread) {
		ret = fuse_session_loop(se) != 0;
	} else {
		if ((cfg = fuse_loop_cfg_create()) == NULL)
			goto out;
		fuse_loop_cfg_set_clone_fd(cfg, cmd.clone_fd);
		fuse_loop_cfg_set_max_threads(cfg, 4);
		ret = fuse_session_loop_mt(se, cfg) != 0;
	}
out:
	fuse_loop_cfg_destroy(cfg);
	if (se != NULL) {
		if (mounted)
			fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	free(cmd.mountpoint);
	free(o.size);
	free(c.buf);
	fuse_opt_free_args(&args);
	return ret;
}
