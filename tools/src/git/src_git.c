/*
 * src_git.c: git repositories as sources.  A repository becomes two
 * sources of kind repos: NAME.git, a bare mirror stored as ordinary files
 * (HEAD, config, packed-refs, shallow, self-contained packs) that git can
 * clone from, and NAME, the browsable trees of every branch and tag
 * (amber-git(5) documents the layout and the ref-name mapping).
 *
 * All git knowledge goes through the git command, never a library: the
 * same program that users trust with their repositories fetches them (any
 * transport, credential helper and ssh setup the user has), verifies every
 * received object (index-pack hashes each one), and writes our packs.
 * A local mirror cache, store_index_dir()/git/NAME, is updated with fetch
 * so that a re-ingest transfers only new objects.  Objects are read
 * through one long-lived `git cat-file --batch-command`, which streams
 * blobs of any size.
 *
 * Incremental ingest: the previous snapshot's NAME.git is read back from
 * the store; its packs are kept as stored (their extents reused) and one
 * new pack holds the objects reachable from the new tips but not from the
 * old ones.  When an old tip is no longer reachable (a deleted or rewound
 * ref), when the shallow boundary changed, or when too many packs piled
 * up, everything is repacked into one pack instead, so the mirror never
 * holds unreachable objects.
 *
 * Browsable trees: every entry below a branch's or tag's directory has
 * STORE_ENTRY_MTIME_INHERIT and no time of its own, and only that
 * directory (branches/B, tags/T, a detached HEAD) carries the tip's
 * commit time.  So the stored tree of a git tree depends on the git tree
 * alone: an unchanged subtree is the same stored tree in every branch and
 * snapshot, and a moved branch stores only the directories its commits
 * changed.  The local cache maps a git tree id to its stored directory,
 * and a blob id to its extents; cached values are parsed strictly and
 * used only once the store is known to hold the chunk they name.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "io.h"
#include "rd.h"
#include "source.h"
#include "src_git.h"
#include "url.h"

extern char **environ;

#define RAW_MAX 32		/* sha256; sha1 ids have 20 bytes */
#define HEX_MAX 64
#define IO_LEN (1u << 20)	/* one read of object or pack content */
#define CF_BUF (256u << 10)	/* the cat-file reader's buffer */
#define HDR_OBJ_MAX (1u << 20)	/* commit and tag bytes we look at */
#define TREE_OBJ_MAX STORE_TREE_MAX
#define DEPTH_MAX 1024		/* directory nesting we follow */
#define PEEL_MAX 64		/* tags of tags we follow */
#define PACKS_MAX 32		/* stored packs before a full repack */
#define REFS_OUT_MAX (1024u << 20)	/* for-each-ref output */
#define META_MAX (256u << 20)	/* packed-refs or shallow read back */
#define N_RESTART_MAX 64	/* cat-file restarts after bad objects */
/*
 * Blobs asked of cat-file ahead of reading them, so that git inflates the
 * next ones while we chunk and store this one.  The requests (~50 bytes
 * each) must fit in the socket's buffer whatever git does, or both sides
 * could block writing: a few KiB is far below it.
 */
#define CF_PIPE 32

/*
 * Memory bounds for the git commands that read the whole repository:
 * by default git maps packs in windows of 1 GiB and keeps 96 MiB of delta
 * bases, so reading every blob of a big repository (cat-file) or packing
 * all of it (pack-objects) held the whole pack in its resident set, which
 * was then the peak RSS of an ingest.  These cost a few per cent of time.
 */
#define GIT_MEM_OPTS "-c", "core.packedGitWindowSize=16m", "-c", \
	"core.packedGitLimit=64m", "-c", "core.deltaBaseCacheLimit=32m"

/* Keyed by the tree id alone; "git-tree" was keyed by id and mtime. */
#define TABLE_TREE "git-tree2"
#define TABLE_BLOB "git-blob"
#define TABLE_MIRROR "git-mirror"
#define VAL_VERSION 1
#define TREE_VAL_LEN (1 + 2 * STORE_HASH_LEN + 3 * 8)
#define EXT_VAL_LEN STORE_EXTENT_LEN
#define BLOB_VAL_HDR (1 + 8 + 4)
#define BLOB_VAL_EXT_MAX (1u << 24)

#define SUBMODULE_FILE ".gitlink"

enum obj_type {
	OBJ_NONE = 0,
	OBJ_COMMIT,
	OBJ_TREE,
	OBJ_BLOB,
	OBJ_TAG,
};

/* An in-memory map for this run, keyed by an object id. */
struct map_slot {
	uint8_t key[RAW_MAX];
	uint8_t klen;
	uint8_t *val;
	size_t vlen;
};

struct map {
	struct map_slot *slots;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* A running `git cat-file --batch-command`. */
struct cf {
	pid_t pid;
	int fd;
	uint8_t *buf;
	size_t off;
	size_t len;
	/* "contents" asked but not read yet, oldest first (a ring). */
	char pend[CF_PIPE][HEX_MAX + 1];
	size_t pend_head;
	size_t n_pend;
};

/* One ref: "refs/..." and its object. */
struct gref {
	char *name;
	char hex[HEX_MAX + 1];
};

/* Owned copies of the entries of objects/pack. */
struct plist {
	struct store_entry *v;	/* names and extents malloc'd */
	size_t n;
	size_t cap;
};

/* What the previous snapshot holds of NAME.git. */
struct prev {
	int is_found;
	char *packed_refs;
	size_t packed_refs_len;
	char *head;
	size_t head_len;
	char *shallow;		/* NULL: not shallow */
	size_t shallow_len;
	struct plist packs;	/* objects/pack */
	size_t n_packs;		/* of which .pack files */
};

/* Counts below a directory. */
struct counts {
	uint64_t n_files;
	uint64_t n_bytes;
};

struct gsrc {
	struct src_ctx *c;
	const char *name;
	char *dir;		/* the mirror cache */
	char *gitdir_arg;	/* "--git-dir=<dir>" */
	char **envp;
	char *url;		/* the location as git gets it: no userinfo */
	char *genv[8];		/* GIT_CONFIG_* and the like (creds_take()) */
	size_t n_genv;
	size_t rawlen;
	size_t hexlen;
	int64_t mirror_mtime;	/* the newest tip's time, else now */
	int is_partial;
	int is_cache_suspect;	/* git failed reading the mirror cache */
	int is_prefetched;	/* src_git_fetch() updated the cache */
	int n_restarts;
	struct cf cf;
	struct map trees;
	struct map blobs;
	uint8_t *iobuf;		/* IO_LEN bytes */
	char path[8192];	/* the current path, for messages */
	size_t path_len;
};

/* ---- small helpers ----------------------------------------------------- */

static char *
str_cat(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);
	size_t lc = strlen(c);
	char *s;

	if ((s = malloc(la + lb + lc + 1)) == NULL)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/*
 * Quote bytes for a message: anything but printable ASCII becomes \xNN,
 * so that a hostile name can neither forge a line nor drive a terminal.
 */
static void
quote(const char *src, size_t n, char *dst, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			dst[o++] = (char)ch;
		} else {
			snprintf(dst + o, 5, "\\x%02x", ch);
			o += 4;
		}
	}
	dst[o] = '\0';
}

/* A warning about the current path (made partial): "repos/NAME/PATH: ". */
static void
gwarn(struct gsrc *g, const char *what, const char *hex)
{
	char q[4 * sizeof(g->path) + 1];

	quote(g->path, g->path_len, q, sizeof(q));
	g->is_partial = 1;
	if (hex)
		src_warn(g->c, "repos/%s/%s: object %s: %s", g->name, q, hex,
		    what);
	else
		src_warn(g->c, "repos/%s/%s: %s", g->name, q, what);
}

/* An error that fails the source; returns ${r}. */
static int
gerr(struct gsrc *g, int r, const char *what)
{
	fprintf(stderr, "amber ingest: repos/%s: %s\n", g->name, what);
	return r;
}

/* Append "/name" (or "name" when empty) to the message path. */
static size_t
path_push(struct gsrc *g, const void *name, size_t len)
{
	size_t old = g->path_len;
	size_t room = sizeof(g->path) - 1 - g->path_len;

	if (room > 0 && g->path_len) {
		g->path[g->path_len++] = '/';
		room--;
	}
	if (len > room)
		len = room;
	memcpy(g->path + g->path_len, name, len);
	g->path_len += len;
	g->path[g->path_len] = '\0';
	return old;
}

static void
path_pop(struct gsrc *g, size_t old)
{
	g->path_len = old;
	g->path[old] = '\0';
}

static void
progress_add(struct gsrc *g, uint64_t n_files, uint64_t n_bytes)
{
	pthread_mutex_lock(&g->c->lock);
	g->c->progress.n_files += n_files;
	g->c->progress.n_bytes += n_bytes;
	pthread_mutex_unlock(&g->c->lock);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

/* rm -rf ${path}; symlinks are removed, never followed. */
static void
rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the in-run map ---------------------------------------------------- */

static size_t
map_hash(const uint8_t *key, size_t klen)
{
	uint64_t h = 14695981039346656037u;

	for (size_t i = 0; i < klen; i++)
		h = (h ^ key[i]) * 1099511628211u;
	return (size_t)h;
}

static struct map_slot *
map_find(struct map *m, const uint8_t *key, size_t klen)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = map_hash(key, klen) & (m->cap - 1);; i = (i + 1) &
	    (m->cap - 1)) {
		struct map_slot *s = &m->slots[i];

		if (s->val == NULL)
			return NULL;
		if (s->klen == klen && memcmp(s->key, key, klen) == 0)
			return s;
	}
}

/* Insert a copy of ${val} under ${key} (replacing nothing if present). */
static int
map_put(struct map *m, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	struct map_slot *s;
	size_t i;

	if (klen > sizeof(s->key))
		return -EINVAL;
	if (map_find(m, key, klen) != NULL)
		return 0;
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		struct map_slot *ns = calloc(cap, sizeof(*ns));

		if (ns == NULL)
			return -ENOMEM;
		for (size_t j = 0; j < m->cap; j++) {
			struct map_slot *o = &m->slots[j];

			if (o->val == NULL)
				continue;
			for (i = map_hash(o->key, o->klen) & (cap - 1);
			    ns[i].val != NULL; i = (i + 1) & (cap - 1))
				;
			ns[i] = *o;
		}
		free(m->slots);
		m->slots = ns;
		m->cap = cap;
	}
	for (i = map_hash(key, klen) & (m->cap - 1); m->slots[i].val != NULL;
	    i = (i + 1) & (m->cap - 1))
		;
	s = &m->slots[i];
	if ((s->val = malloc(vlen ? vlen : 1)) == NULL)
		return -ENOMEM;
	memcpy(s->val, val, vlen);
	memcpy(s->key, key, klen);
	s->klen = (uint8_t)klen;
	s->vlen = vlen;
	m->n++;
	return 0;
}

static void
map_fini(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].val);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ---- running git ------------------------------------------------------- */

/*
 * The environment for git: ours less the variables that would point git
 * at another repository or rewrite history as read (replace refs,
 * grafts), and with prompts turned off so that a missing credential is an
 * error rather than a hang.
 */
static int
env_build(struct gsrc *g)
{
	static const char *const drop[] = {
		"GIT_DIR=", "GIT_WORK_TREE=", "GIT_INDEX_FILE=",
		"GIT_OBJECT_DIRECTORY=", "GIT_ALTERNATE_OBJECT_DIRECTORIES=",
		"GIT_COMMON_DIR=", "GIT_NAMESPACE=", "GIT_GRAFT_FILE=",
		"GIT_SHALLOW_FILE=", "GIT_REPLACE_REF_BASE=", "GIT_PREFIX=",
		"GIT_NO_REPLACE_OBJECTS=", "GIT_IMPLICIT_WORK_TREE=",
		"GIT_CONFIG=", "GIT_CONFIG_PARAMETERS=", "GIT_CONFIG_COUNT=",
		"GIT_TERMINAL_PROMPT=", "GIT_QUARANTINE_PATH=",
	};
	size_t n = 0;
	size_t k = 0;
	int has_ssh = 0;

	for (char **e = environ; *e; e++)
		n++;
	if ((g->envp = calloc(n + 4 + g->n_genv, sizeof(*g->envp))) == NULL)
		return -ENOMEM;
	for (char **e = environ; *e; e++) {
		int is_dropped = 0;

		for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
			if (strncmp(*e, drop[i], strlen(drop[i])) == 0)
				is_dropped = 1;
		/* Ours (creds_take()) replace the user's of the same name. */
		for (size_t i = 0; i < g->n_genv; i++)
			if (strncmp(*e, g->genv[i], strcspn(g->genv[i], "=") +
			    1) == 0)
				is_dropped = 1;
		if (strncmp(*e, "GIT_SSH=", 8) == 0 ||
		    strncmp(*e, "GIT_SSH_COMMAND=", 16) == 0)
			has_ssh = 1;
		if (!is_dropped)
			g->envp[k++] = *e;
	}
	g->envp[k++] = (char *)"GIT_NO_REPLACE_OBJECTS=1";
	g->envp[k++] = (char *)"GIT_TERMINAL_PROMPT=0";
	if (!has_ssh)
		g->envp[k++] = (char *)"GIT_SSH_COMMAND=ssh -o BatchMode=yes";
	for (size_t i = 0; i < g->n_genv; i++)
		g->envp[k++] = g->genv[i];
	g->envp[k] = NULL;
	return 0;
}

/* Add the variable ${fmt}... to g->genv (creds_free() frees it). */
static int __attribute__((format(printf, 2, 3)))
genv_add(struct gsrc *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (g->n_genv == sizeof(g->genv) / sizeof(g->genv[0]))
		return -EINVAL;
	va_start(ap, fmt);
	n = vasprintf(&g->genv[g->n_genv], fmt, ap);
	va_end(ap);
	if (n < 0) {
		g->genv[g->n_genv] = NULL;
		return -ENOMEM;
	}
	g->n_genv++;
	return 0;
}

/*
 * creds_take(g, location, flags):
 * Set g->url to ${location} without its userinfo, and g->genv to what
 * git's environment needs besides env_build()'s:
 *
 *  - for http(s) with userinfo, the header "Authorization: Basic ..." as
 *    http.<url>.extraHeader, through GIT_CONFIG_COUNT/KEY/VALUE.  So a
 *    token in a URL never reaches git's command line (which ps shows to
 *    every user), the mirror cache's config (where git clone would write
 *    the URL), or a message.  The header is scoped to that URL, and curl
 *    sends a custom Authorization header to the first host only, not
 *    after a redirect to another.  Other schemes keep a bare user name
 *    (ssh://git@host/, which ssh needs), and refuse a password (-EINVAL).
 *  - with SRC_GIT_LISTED (a URL from a forge's listing, checked to be on
 *    the forge's host), http.followRedirects=false and GIT_ALLOW_PROTOCOL
 *    set to the URL's scheme: the forge's host may not send git on to
 *    another host, nor to another transport.
 */
static int
creds_take(struct gsrc *g, const char *location, unsigned flags)
{
	struct url_parts u;
	int is_http;
	size_t n_cfg = 0;
	char hdr[2048];
	int r;

	hdr[0] = '\0';
	memset(&u, 0, sizeof(u));
	if (url_has_userinfo(location) || (flags & SRC_GIT_LISTED)) {
		if (url_parse(location, &u) < 0)
			return gerr(g, -EINVAL, "a URL with credentials, or "
			    "from a forge, must read SCHEME://[USER[:PASSWORD]"
			    "@]HOST/PATH, one way only");
	}
	is_http = (u.scheme_len == 5 && strncasecmp(u.scheme, "https", 5) ==
	    0) || (u.scheme_len == 4 && strncasecmp(u.scheme, "http", 4) == 0);
	if ((flags & SRC_GIT_LISTED) && !is_http)
		return gerr(g, -EINVAL, "a URL from a forge must be http(s)");
	if (u.userinfo == NULL || !is_http) {
		if (u.userinfo != NULL &&
		    memchr(u.userinfo, ':', u.userinfo_len) != NULL)
			return gerr(g, -EINVAL, "a password in a URL is "
			    "taken for http(s) only");
		if ((g->url = strdup(location)) == NULL)
			return -ENOMEM;
	} else {
		if ((r = url_basic_auth(u.userinfo, u.userinfo_len, hdr,
		    sizeof(hdr))) < 0) {
			explicit_bzero(hdr, sizeof(hdr));
			return gerr(g, r == -ERANGE ? -EINVAL : r, "the "
			    "credentials in the URL are too long or not valid "
			    "%-escapes");
		}
		if (asprintf(&g->url, "%.*s%s", (int)(u.userinfo - location),
		    location, u.host) < 0) {
			g->url = NULL;
			explicit_bzero(hdr, sizeof(hdr));
			return -ENOMEM;
		}
	}
	r = 0;
	if (hdr[0] != '\0' && (r = genv_add(g, "GIT_CONFIG_KEY_%zu=http.%s."
	    "extraHeader", n_cfg, g->url)) == 0)
		r = genv_add(g, "GIT_CONFIG_VALUE_%zu=%s", n_cfg++, hdr);
	explicit_bzero(hdr, sizeof(hdr));
	if (r == 0 && (flags & SRC_GIT_LISTED) &&
	    (r = genv_add(g, "GIT_CONFIG_KEY_%zu=http.followRedirects",
	    n_cfg)) == 0 &&
	    (r = genv_add(g, "GIT_CONFIG_VALUE_%zu=false", n_cfg++)) == 0)
		r = genv_add(g, "GIT_ALLOW_PROTOCOL=%.*s",
		    (int)u.scheme_len, u.scheme);
	if (r == 0 && n_cfg > 0)
		r = genv_add(g, "GIT_CONFIG_COUNT=%zu", n_cfg);
	return r;
}

/* Free what creds_take() and env_build() made, wiping the secret. */
static void
creds_free(struct gsrc *g)
{
	free(g->envp);
	g->envp = NULL;
	free(g->url);
	g->url = NULL;
	for (size_t i = 0; i < g->n_genv; i++) {
		explicit_bzero(g->genv[i], strlen(g->genv[i]));
		free(g->genv[i]);
		g->genv[i] = NULL;
	}
	g->n_genv = 0;
}

/*
 * Start git with ${argv}; its stdin and stdout are one end of a socket
 * pair (so that writing to a dead git gives EPIPE, not SIGPIPE), stderr is
 * ours.  *${fd} is the other end.
 */
static int
spawn_git(struct gsrc *g, const char *const *argv, int *fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int sv[2];
	int r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -r;
	}
	if ((r = posix_spawn_file_actions_adddup2(&fa, sv[1], 0)) == 0 &&
	    (r = posix_spawn_file_actions_adddup2(&fa, sv[1], 1)) == 0)
		r = posix_spawnp(pid, "git", &fa, NULL, (char *const *)argv,
		    g->envp);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (r != 0) {
		close(sv[0]);
		return -r;
	}
	*fd = sv[0];
	return 0;
}

/* Wait for ${pid}; returns its exit status, or 128 + signal. */
static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 255;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/*
 * git_run(g, argv, in, inlen, out, outlen, max):
 * Run git with ${argv}, feeding it ${in} and collecting at most ${max}
 * bytes of its stdout into a malloc'd, NUL-terminated *${out} (${out}
 * NULL: discard).  Returns 0 if git exits 0; -EFBIG (git killed) if the
 * output exceeds ${max}; -EIO if git fails (its stderr said why).
 */
static int
git_run(struct gsrc *g, const char *const *argv, const char *in, size_t inlen,
    char **out, size_t *outlen, size_t max)
{
	char *buf = NULL;
	size_t len = 0;
	size_t cap = 0;
	size_t sent = 0;
	int is_closed_in = 0;
	pid_t pid = -1;
	int fd = -1;
	int st;
	int r;

	if ((r = spawn_git(g, argv, &fd, &pid)) < 0)
		return gerr(g, r, "cannot run git");
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char tmp[65536];
		ssize_t n;

		if (!is_closed_in && sent == inlen) {
			shutdown(fd, SHUT_WR);
			is_closed_in = 1;
		}
		if (!is_closed_in)
			p.events |= POLLOUT;
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (!is_closed_in && (p.revents & (POLLOUT | POLLERR))) {
			n = send(fd, in + sent, inlen - sent,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* git stopped reading: let its status tell */
				sent = inlen;
			} else if (n > 0) {
				sent += (size_t)n;
			}
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				break;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (out == NULL)
			continue;
		if (len + (size_t)n > max) {
			r = -EFBIG;
			goto out;
		}
		if (len + (size_t)n + 1 > cap) {
			size_t ncap = cap ? cap : 65536;
			char *nb;

			while (ncap < len + (size_t)n + 1)
				ncap *= 2;
			if ((nb = realloc(buf, ncap)) == NULL) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		memcpy(buf + len, tmp, (size_t)n);
		len += (size_t)n;
	}
	close(fd);
	fd = -1;
	st = reap(pid);
	pid = -1;
	if (st != 0) {
		char msg[256];

		size_t k = 1;

		while (argv[k] && argv[k + 1] && argv[k][0] == '-')
			k += strcmp(argv[k], "-c") == 0 ? 2 : 1;
		snprintf(msg, sizeof(msg), "git %s failed (exit %d)",
		    argv[k] ? argv[k] : "", st);
		r = gerr(g, -EIO, msg);
		goto out;
	}
	if (out) {
		if (buf == NULL && (buf = malloc(1)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		buf[len] = '\0';
		*out = buf;
		*outlen = len;
		buf = NULL;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (pid > 0) {
		kill(pid, SIGTERM);
		reap(pid);
	}
	free(buf);
	return r;
}

/* ---- cat-file ---------------------------------------------------------- */

static void
cf_close(struct gsrc *g)
{
	if (g->cf.fd >= 0) {
		shutdown(g->cf.fd, SHUT_WR);
		close(g->cf.fd);
	}
	if (g->cf.pid > 0) {
		kill(g->cf.pid, SIGTERM);
		reap(g->cf.pid);
	}
	g->cf.fd = -1;
	g->cf.pid = -1;
	g->cf.off = 0;
	g->cf.len = 0;
	g->cf.n_pend = 0;
	g->cf.pend_head = 0;
}

static int
cf_open(struct gsrc *g)
{
	const char *argv[] = { "git", GIT_MEM_OPTS, g->gitdir_arg,
		"cat-file", "--batch-command", NULL };
	int r;

	if (g->cf.buf == NULL && (g->cf.buf = malloc(CF_BUF)) == NULL)
		return -ENOMEM;
	if ((r = spawn_git(g, argv, &g->cf.fd, &g->cf.pid)) < 0)
		return gerr(g, r, "cannot run git cat-file");
	g->cf.off = 0;
	g->cf.len = 0;
	return 0;
}

/*
 * After an object could not be read, cat-file may be dead or out of step:
 * start a new one.  Returns -EIO after too many restarts.
 */
static int
cf_restart(struct gsrc *g)
{
	cf_close(g);
	if (++g->n_restarts > N_RESTART_MAX)
		return gerr(g, -EIO, "too many unreadable objects");
	return cf_open(g);
}

/* Fill the buffer; -EPIPE if git has gone. */
static int
cf_fill(struct gsrc *g)
{
	ssize_t n;

	if (g->cf.off < g->cf.len)
		return 0;
	do
		n = read(g->cf.fd, g->cf.buf, CF_BUF);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -EPIPE;
	g->cf.off = 0;
	g->cf.len = (size_t)n;
	return 0;
}

/* Read exactly ${len} bytes (${dst} NULL: skip them). */
static int
cf_read(struct gsrc *g, uint8_t *dst, uint64_t len)
{
	int r;

	while (len > 0) {
		size_t n;

		if ((r = cf_fill(g)) < 0)
			return r;
		n = g->cf.len - g->cf.off;
		if (n > len)
			n = (size_t)len;
		if (dst) {
			memcpy(dst, g->cf.buf + g->cf.off, n);
			dst += n;
		}
		g->cf.off += n;
		len -= n;
	}
	return 0;
}

static int
cf_line(struct gsrc *g, char *line, size_t cap)
{
	size_t n = 0;
	int r;

	for (;;) {
		char ch;

		if ((r = cf_fill(g)) < 0)
			return r;
		ch = (char)g->cf.buf[g->cf.off++];
		if (ch == '\n')
			break;
		if (n + 1 >= cap)
			return -EPIPE;
		line[n++] = ch;
	}
	line[n] = '\0';
	return 0;
}

static int
cf_send(struct gsrc *g, const char *cmd, size_t len)
{
	while (len > 0) {
		ssize_t n = send(g->cf.fd, cmd, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		cmd += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read the header of the answer about ${hex}; as cf_begin(). */
static int
cf_header(struct gsrc *g, const char *hex, enum obj_type *type,
    uint64_t *size)
{
	char line[256];
	char *sp;
	char *end;
	int r;

	if ((r = cf_line(g, line, sizeof(line))) < 0)
		return r;
	if (strncmp(line, hex, g->hexlen) != 0 || line[g->hexlen] != ' ')
		return -EPIPE;
	sp = line + g->hexlen + 1;
	if (strcmp(sp, "missing") == 0 || strcmp(sp, "ambiguous") == 0)
		return -ENOENT;
	if (strncmp(sp, "commit ", 7) == 0)
		*type = OBJ_COMMIT, sp += 7;
	else if (strncmp(sp, "tree ", 5) == 0)
		*type = OBJ_TREE, sp += 5;
	else if (strncmp(sp, "blob ", 5) == 0)
		*type = OBJ_BLOB, sp += 5;
	else if (strncmp(sp, "tag ", 4) == 0)
		*type = OBJ_TAG, sp += 4;
	else
		return -EPIPE;
	if (*sp < '0' || *sp > '9')
		return -EPIPE;
	errno = 0;
	*size = strtoull(sp, &end, 10);
	if (errno || *end != '\0')
		return -EPIPE;
	return 0;
}

static int
cf_end(struct gsrc *g)
{
	uint8_t nl;
	int r;

	if ((r = cf_read(g, &nl, 1)) < 0)
		return r;
	return nl == '\n' ? 0 : -EPIPE;
}

/* Whether "contents ${hex}" was asked and not read yet. */
static int
cf_is_pending(const struct gsrc *g, const char *hex)
{
	for (size_t i = 0; i < g->cf.n_pend; i++)
		if (strcmp(g->cf.pend[(g->cf.pend_head + i) % CF_PIPE],
		    hex) == 0)
			return 1;
	return 0;
}

/*
 * cf_ask(g, hex): ask for the contents of ${hex} now, to be read later by
 * cf_begin(g, "contents", hex, ...) in the order asked.  Does nothing
 * when CF_PIPE answers are pending already.  Returns -EPIPE if git has
 * gone.
 */
static int
cf_ask(struct gsrc *g, const char *hex)
{
	char cmd[16 + HEX_MAX];
	int n;
	int r;

	if (g->cf.n_pend == CF_PIPE)
		return 0;
	if (g->cf.fd < 0 && (r = cf_open(g)) < 0)
		return r;
	n = snprintf(cmd, sizeof(cmd), "contents %s\n", hex);
	if ((r = cf_send(g, cmd, (size_t)n)) < 0)
		return r;
	memcpy(g->cf.pend[(g->cf.pend_head + g->cf.n_pend) % CF_PIPE], hex,
	    g->hexlen + 1);
	g->cf.n_pend++;
	return 0;
}

/* Read and drop the oldest pending answer. */
static int
cf_drop(struct gsrc *g)
{
	char hex[HEX_MAX + 1];
	enum obj_type type;
	uint64_t size;
	int r;

	memcpy(hex, g->cf.pend[g->cf.pend_head], sizeof(hex));
	g->cf.pend_head = (g->cf.pend_head + 1) % CF_PIPE;
	g->cf.n_pend--;
	r = cf_header(g, hex, &type, &size);
	if (r == -ENOENT)
		return 0;
	if (r < 0 || (r = cf_read(g, NULL, size)) < 0)
		return r;
	return cf_end(g);
}

/*
 * cf_begin(g, verb, hex, type, size):
 * Ask for object ${hex} ("contents" or "info"), unless its contents are
 * the oldest pending answer (cf_ask()), and read the answer's header.
 * Other pending answers are read and dropped first.  For "contents",
 * ${size} bytes and a newline follow (read them with cf_read, then
 * cf_end).  Returns -ENOENT if git says the object is missing; -EPIPE if
 * git died or answered out of step (restart it).
 */
static int
cf_begin(struct gsrc *g, const char *verb, const char *hex,
    enum obj_type *type, uint64_t *size)
{
	char cmd[16 + HEX_MAX];
	int n;
	int r;

	if (g->cf.n_pend > 0 && strcmp(verb, "contents") == 0 &&
	    strcmp(g->cf.pend[g->cf.pend_head], hex) == 0) {
		g->cf.pend_head = (g->cf.pend_head + 1) % CF_PIPE;
		g->cf.n_pend--;
		return cf_header(g, hex, type, size);
	}
	while (g->cf.n_pend > 0)
		if ((r = cf_drop(g)) < 0)
			return r;
	if (g->cf.fd < 0 && (r = cf_open(g)) < 0)
		return r;
	n = snprintf(cmd, sizeof(cmd), "%s %s\n", verb, hex);
	if ((r = cf_send(g, cmd, (size_t)n)) < 0)
		return r;
	return cf_header(g, hex, type, size);
}

/*
 * Read a whole object of type ${want} into a malloc'd buffer: at most
 * ${cap} bytes are kept (*${len}), the rest skipped.  Returns -ENOENT if
 * missing, -EFTYPE-like -EBADMSG if of another type (the object is
 * consumed), -EFBIG if larger than ${cap} and ${is_strict}, -EPIPE as
 * cf_begin.
 */
static int
cf_get(struct gsrc *g, const char *hex, enum obj_type want, size_t cap,
    int is_strict, uint8_t **buf, size_t *len, enum obj_type *got)
{
	enum obj_type type;
	uint64_t size;
	uint8_t *b = NULL;
	size_t keep;
	int r;

	if ((r = cf_begin(g, "contents", hex, &type, &size)) < 0)
		return r;
	if (got)
		*got = type;
	if ((want != OBJ_NONE && type != want) || (is_strict && size > cap)) {
		if ((r = cf_read(g, NULL, size)) < 0 || (r = cf_end(g)) < 0)
			return r;
		return type != want && want != OBJ_NONE ? -EBADMSG : -EFBIG;
	}
	keep = size > cap ? cap : (size_t)size;
	if ((b = malloc(keep + 1)) == NULL) {
		/* out of step now: the caller fails the source */
		return -ENOMEM;
	}
	if ((r = cf_read(g, b, keep)) < 0 ||
	    (r = cf_read(g, NULL, size - keep)) < 0 || (r = cf_end(g)) < 0) {
		free(b);
		return r;
	}
	b[keep] = '\0';
	*buf = b;
	*len = keep;
	return 0;
}

/* ---- cache values ------------------------------------------------------ */

static void
tree_val_encode(uint8_t v[TREE_VAL_LEN], const struct store_entry *dir,
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

static int
tree_val_decode(const uint8_t *v, size_t len, struct store_entry *dir,
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
	const uint8_t *p;
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
	p = v + BLOB_VAL_HDR;
	for (uint32_t i = 0; i < cnt; i++) {
		store_extent_get(p, &e[i]);
		p += EXT_VAL_LEN;
		if (e[i].off != at || e[i].len == 0 ||
		    e[i].len > STORE_CHUNK_MAX || sz - at < e[i].len) {
			free(e);
			return -EBADMSG;
		}
		at += e[i].len;
	}
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
static int
blob_lookup(struct gsrc *g, const uint8_t *oid, uint64_t *size,
    struct store_extent **ext, size_t *n)
{
	struct map_slot *s;
	void *v = NULL;
	size_t vlen;
	int r;

	if ((s = map_find(&g->blobs, oid, g->rawlen)) != NULL)
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
		r = map_put(&g->blobs, oid, g->rawlen, v, vlen);
	free(v);
	return r == -EBADMSG ? -ENOENT : r;
}

/*
 * blob_store(g, oid, size, ext, n):
 * The stored extents of blob ${oid}, reading and storing its content
 * (streamed, never held whole) unless this run or the cache knows it.
 * Returns -ENOENT if the object is missing, -EBADMSG if it is not a blob,
 * -EPIPE if git could not read it (the caller warns and restarts git).
 */
static int
blob_store(struct gsrc *g, const uint8_t *oid, uint64_t *size,
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
	if ((r = blob_lookup(g, oid, size, ext, n)) != -ENOENT)
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
	    (r = map_put(&g->blobs, oid, g->rawlen, val, vlen)) < 0)
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
static int
bytes_store(struct gsrc *g, const uint8_t *buf, size_t len,
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

/* ---- browsable trees --------------------------------------------------- */

/* One entry of a git tree object, pointing into the object. */
struct gent {
	uint32_t mode;
	const uint8_t *name;
	size_t name_len;
	const uint8_t *oid;
	int is_skipped;
};

static int
gent_cmp(const void *a, const void *b)
{
	const struct gent *x = *(const struct gent *const *)a;
	const struct gent *y = *(const struct gent *const *)b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);

	if (c)
		return c;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/*
 * Parse a tree object strictly: "<octal mode> <name>\0<raw id>" repeated.
 * *${out} is a malloc'd array pointing into ${buf}.
 */
static int
tree_parse(const struct gsrc *g, const uint8_t *buf, size_t len,
    struct gent **out, size_t *n_out)
{
	struct gent *e = NULL;
	size_t n = 0;
	size_t cap = 0;
	size_t i = 0;

	while (i < len) {
		uint32_t mode = 0;
		size_t digits = 0;
		size_t start;

		while (i < len && buf[i] != ' ') {
			if (buf[i] < '0' || buf[i] > '7' || ++digits > 7)
				goto bad;
			mode = mode << 3 | (uint32_t)(buf[i++] - '0');
		}
		if (digits == 0 || i++ >= len)
			goto bad;
		start = i;
		while (i < len && buf[i] != '\0')
			i++;
		if (i >= len || len - i - 1 < g->rawlen)
			goto bad;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct gent *ne = realloc(e, ncap * sizeof(*e));

			if (ne == NULL) {
				free(e);
				return -ENOMEM;
			}
			e = ne;
			cap = ncap;
		}
		e[n].mode = mode;
		e[n].name = buf + start;
		e[n].name_len = i - start;
		e[n].oid = buf + i + 1;
		e[n].is_skipped = 0;
		n++;
		i += 1 + g->rawlen;
	}
	*out = e;
	*n_out = n;
	return 0;
bad:
	free(e);
	return -EBADMSG;
}

/*
 * Mark entries that cannot be stored: an empty name, "." or "..", a name
 * over STORE_NAME_MAX bytes, and every repeat of a name (git trees are
 * never supposed to hold these; a hostile one may).
 */
static int
tree_screen(struct gsrc *g, struct gent *e, size_t n)
{
	struct gent **ix;

	for (size_t i = 0; i < n; i++) {
		if (e[i].name_len == 0 || e[i].name_len > STORE_NAME_MAX ||
		    (e[i].name_len == 1 && e[i].name[0] == '.') ||
		    (e[i].name_len == 2 && e[i].name[0] == '.' &&
		    e[i].name[1] == '.')) {
			size_t old = path_push(g, e[i].name, e[i].name_len);

			gwarn(g, "name cannot be stored; skipped", NULL);
			path_pop(g, old);
			e[i].is_skipped = 1;
		}
	}
	if (n < 2)
		return 0;
	if ((ix = malloc(n * sizeof(*ix))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ix[i] = &e[i];
	qsort(ix, n, sizeof(*ix), gent_cmp);
	for (size_t i = 1; i < n; i++) {
		if (gent_cmp(&ix[i - 1], &ix[i]) == 0 && !ix[i]->is_skipped) {
			size_t old = path_push(g, ix[i]->name,
			    ix[i]->name_len);

			gwarn(g, "duplicate name in tree; skipped", NULL);
			path_pop(g, old);
			ix[i]->is_skipped = 1;
		}
	}
	free(ix);
	return 0;
}

/* Report an object that could not be read; restart cat-file if needed. */
static int
obj_fail(struct gsrc *g, int r, const uint8_t *oid)
{
	char hex[HEX_MAX + 1];

	hex_encode(oid, g->rawlen, hex);
	switch (r) {
	case -ENOENT:
		gwarn(g, "missing; skipped", hex);
		return 0;
	case -EBADMSG:
		gwarn(g, "not of the type its tree says, or malformed; skipped",
		    hex);
		return 0;
	case -EFBIG:
		gwarn(g, "too large for its kind; skipped", hex);
		return 0;
	case -EPIPE:
		gwarn(g, "cannot be read (corrupt?); skipped", hex);
		g->is_cache_suspect = 1;
		return cf_restart(g);
	default:
		return r;
	}
}

/*
 * Ask cat-file for the contents of the files of ${ge} from entry
 * ${*ahead} on (at least ${i}, the one about to be read) that this run
 * and the cache do not know, up to CF_PIPE pending, and advance
 * *${ahead}.  Only -ENOMEM fails: git's errors show when the answers are
 * read.
 */
static int
blob_ask(struct gsrc *g, const struct gent *ge, size_t n_ge, size_t i,
    size_t *ahead)
{
	if (*ahead < i)
		*ahead = i;
	while (*ahead < n_ge && g->cf.n_pend < CF_PIPE) {
		const struct gent *x = &ge[(*ahead)++];
		struct store_extent *ext = NULL;
		char hex[HEX_MAX + 1];
		uint64_t size;
		size_t n;
		int r;

		if (x->is_skipped || (x->mode & 0170000) != 0100000)
			continue;
		r = blob_lookup(g, x->oid, &size, &ext, &n);
		free(ext);
		if (r == 0)
			continue;
		if (r == -ENOMEM)
			return r;
		hex_encode(x->oid, g->rawlen, hex);
		if (!cf_is_pending(g, hex) && cf_ask(g, hex) < 0)
			break;
	}
	return 0;
}

/* A submodule: a directory holding SUBMODULE_FILE with "<commit id>\n". */
static int
gitlink_store(struct gsrc *g, const uint8_t *oid, struct store_entry *dir)
{
	struct store_tb *tb = NULL;
	struct store_extent *ext = NULL;
	struct store_entry f;
	char text[HEX_MAX + 2];
	size_t n;
	int r;

	hex_encode(oid, g->rawlen, text);
	text[g->hexlen] = '\n';
	if ((r = bytes_store(g, (const uint8_t *)text, g->hexlen + 1, &ext,
	    &n)) < 0 || (r = store_tb_new(&tb)) < 0)
		goto out;
	memset(&f, 0, sizeof(f));
	f.name = (const uint8_t *)SUBMODULE_FILE;
	f.name_len = strlen(SUBMODULE_FILE);
	f.type = STORE_REG;
	f.mode = 0644;
	f.flags = STORE_ENTRY_MTIME_INHERIT;
	f.size = g->hexlen + 1;
	f.n_extents = n;
	f.extents = ext;
	if ((r = store_tb_add(tb, &f)) < 0)
		goto out;
	r = store_tb_finish(g->c->w, tb, dir);
out:
	store_tb_free(tb);
	free(ext);
	return r;
}

/*
 * tree_store(g, oid, depth, dir, cnt):
 * Store git tree ${oid} as a directory whose entries all inherit its
 * mtime (STORE_ENTRY_MTIME_INHERIT), so that the stored tree depends on
 * ${oid} alone; fills dir->tree and dir->n_desc (the caller sets the
 * rest) and *${cnt}.
 * Unreadable entries are warned about and left out (and such a tree is
 * not cached).  Returns -ENOENT/-EBADMSG/-EPIPE when the tree object
 * itself cannot be read (the caller warns), other -errno on failure.
 */
static int
tree_store(struct gsrc *g, const uint8_t *oid, int depth,
    struct store_entry *dir, struct counts *cnt)
{
	uint8_t val[TREE_VAL_LEN];
	struct map_slot *s;
	struct store_tb *tb = NULL;
	struct gent *ge = NULL;
	uint8_t *obj = NULL;
	size_t objlen;
	size_t n_ge = 0;
	void *cv = NULL;
	size_t cvlen;
	char hex[HEX_MAX + 1];
	int was_partial = g->is_partial;
	int r;

	memset(cnt, 0, sizeof(*cnt));
	if ((s = map_find(&g->trees, oid, g->rawlen)) != NULL) {
		if (tree_val_decode(s->val, s->vlen, dir, cnt) < 0)
			return -EINVAL;
		progress_add(g, cnt->n_files, cnt->n_bytes);
		return 0;
	}
	if (store_cache_get(g->c->s, TABLE_TREE, oid, g->rawlen, &cv,
	    &cvlen) == 0 && tree_val_decode(cv, cvlen, dir, cnt) == 0 &&
	    store_has_chunk(g->c->s, dir->tree.id) == 1) {
		r = map_put(&g->trees, oid, g->rawlen, cv, cvlen);
		free(cv);
		progress_add(g, cnt->n_files, cnt->n_bytes);
		return r;
	}
	free(cv);
	memset(cnt, 0, sizeof(*cnt));
	g->is_partial = 0;

	hex_encode(oid, g->rawlen, hex);
	if ((r = cf_get(g, hex, OBJ_TREE, TREE_OBJ_MAX, 1, &obj, &objlen,
	    NULL)) < 0)
		goto out;
	if ((r = tree_parse(g, obj, objlen, &ge, &n_ge)) < 0) {
		if (r == -EBADMSG)
			gwarn(g, "malformed tree; stored as empty", hex);
		else
			goto out;
	}
	if ((r = tree_screen(g, ge, n_ge)) < 0 || (r = store_tb_new(&tb)) < 0)
		goto out;
	/*
	 * Files first, their contents asked of git ahead (blob_ask()), then
	 * the rest, whose reads would otherwise come between (the order of
	 * the entries does not matter: store_tb_finish() sorts them).
	 */
	for (size_t k = 0, ahead = 0; k < 2 * n_ge; k++) {
		size_t i = k % n_ge;
		int is_file = (ge[i].mode & 0170000) == 0100000;
		struct store_extent *ext = NULL;
		struct store_entry e;
		struct counts sub;
		uint8_t *tgt = NULL;
		size_t old;
		int is_ok = 1;

		if (ge[i].is_skipped || is_file != (k < n_ge))
			continue;
		if (is_file && (r = blob_ask(g, ge, n_ge, i, &ahead)) < 0)
			goto out;
		old = path_push(g, ge[i].name, ge[i].name_len);
		memset(&e, 0, sizeof(e));
		e.name = ge[i].name;
		e.name_len = ge[i].name_len;
		e.flags = STORE_ENTRY_MTIME_INHERIT;
		switch (ge[i].mode & 0170000) {
		case 0040000:
			e.type = STORE_DIR;
			e.mode = 0755;
			if (depth >= DEPTH_MAX) {
				gwarn(g, "nested too deep; skipped", NULL);
				is_ok = 0;
				break;
			}
			r = tree_store(g, ge[i].oid, depth + 1, &e, &sub);
			if (r == 0) {
				cnt->n_files += sub.n_files;
				cnt->n_bytes += sub.n_bytes;
			}
			break;
		case 0100000:
			e.type = STORE_REG;
			e.mode = ge[i].mode & 0111 ? 0755 : 0644;
			r = blob_store(g, ge[i].oid, &e.size, &ext,
			    &e.n_extents);
			e.extents = ext;
			if (r == 0) {
				cnt->n_files++;
				cnt->n_bytes += e.size;
				progress_add(g, 1, e.size);
			}
			break;
		case 0120000: {
			size_t tlen = 0;
			char thex[HEX_MAX + 1];

			e.type = STORE_LNK;
			e.mode = 0777;
			hex_encode(ge[i].oid, g->rawlen, thex);
			r = cf_get(g, thex, OBJ_BLOB, STORE_TARGET_MAX, 1,
			    &tgt, &tlen, NULL);
			if (r == 0 && (tlen == 0 ||
			    memchr(tgt, '\0', tlen) != NULL)) {
				gwarn(g, "symlink target empty or holds NUL; "
				    "skipped", NULL);
				is_ok = 0;
			}
			e.target = tgt;
			e.target_len = tlen;
			e.size = tlen;
			if (r == 0 && is_ok) {
				cnt->n_files++;
				progress_add(g, 1, 0);
			}
			break;
		}
		case 0160000:
			e.type = STORE_DIR;
			e.mode = 0755;
			r = gitlink_store(g, ge[i].oid, &e);
			if (r == 0)
				cnt->n_files++;
			break;
		default:
			gwarn(g, "unknown file mode; skipped", NULL);
			is_ok = 0;
			break;
		}
		if (r < 0) {
			is_ok = 0;
			r = obj_fail(g, r, ge[i].oid);
		}
		if (r == 0 && is_ok)
			r = store_tb_add(tb, &e);
		free(ext);
		free(tgt);
		path_pop(g, old);
		if (r < 0)
			goto out;
	}
	if ((r = store_tb_finish(g->c->w, tb, dir)) < 0)
		goto out;
	if (!g->is_partial) {
		tree_val_encode(val, dir, cnt);
		if ((r = map_put(&g->trees, oid, g->rawlen, val,
		    sizeof(val))) < 0)
			goto out;
		/* Deferred to the commit: a cached tree is reused with only
		 * its own chunk checked, so its whole subtree must be
		 * stored before the record is. */
		store_writer_cache_put(g->c->w, TABLE_TREE, oid, g->rawlen,
		    val, sizeof(val));
	}
out:
	g->is_partial |= was_partial;
	store_tb_free(tb);
	free(ge);
	free(obj);
	return r;
}

/*
 * Parse the time of a "committer ..." or "tagger ..." header line: the
 * decimal after the last '>'.  Returns 0 if absent or malformed.
 */
static int64_t
ident_time(const char *line, size_t len)
{
	const char *gt = NULL;
	int64_t t = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] == '>')
			gt = line + i;
	if (gt == NULL)
		return 0;
	i = (size_t)(gt - line) + 1;
	if (i >= len || line[i] != ' ')
		return 0;
	for (i++; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (t > (INT64_MAX - 9) / 10)
			return 0;
		t = t * 10 + (line[i] - '0');
	}
	return t;
}

/*
 * Find "<key> <value>" among the header lines of a commit or tag (before
 * the first empty line); returns a pointer to the value and its length.
 */
static const char *
header_find(const char *obj, size_t len, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	size_t i = 0;

	while (i < len && obj[i] != '\n') {
		const char *nl = memchr(obj + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (obj + i)) : len - i;

		if (ll > klen && memcmp(obj + i, key, klen) == 0 &&
		    obj[i + klen] == ' ') {
			*vlen = ll - klen - 1;
			return obj + i + klen + 1;
		}
		i += ll + 1;
	}
	return NULL;
}

/*
 * peel(g, hex, type, oid, mtime):
 * Follow tags from object ${hex} to a commit's tree (*${type} OBJ_TREE,
 * *${mtime} the committer time), or to a tree or blob (*${mtime} the
 * innermost tagger's time, or 0).  Errors as cf_get; -EBADMSG if a tag or
 * commit is malformed or tags nest too deep.
 */
static int
peel(struct gsrc *g, const char *start, enum obj_type *type, uint8_t *oid,
    int64_t *mtime)
{
	char hex[HEX_MAX + 1];
	int64_t t = 0;

	memcpy(hex, start, g->hexlen + 1);
	for (int i = 0; i < PEEL_MAX; i++) {
		enum obj_type got;
		uint8_t *obj = NULL;
		size_t len;
		const char *v;
		size_t vlen;
		int r;

		if ((r = cf_begin(g, "info", hex, &got, &(uint64_t){ 0 })) < 0)
			return r;
		if (got == OBJ_TREE || got == OBJ_BLOB) {
			*type = got;
			(void)hex_decode(hex, oid, g->rawlen);
			*mtime = t;
			return 0;
		}
		if ((r = cf_get(g, hex, got, HDR_OBJ_MAX, 0, &obj, &len,
		    NULL)) < 0)
			return r;
		if (got == OBJ_COMMIT) {
			v = header_find((char *)obj, len, "tree", &vlen);
			if (v == NULL || vlen != g->hexlen ||
			    !hex_is_lower(v, vlen)) {
				free(obj);
				return -EBADMSG;
			}
			(void)hex_decode(v, oid, g->rawlen);
			v = header_find((char *)obj, len, "committer", &vlen);
			*mtime = v ? ident_time(v, vlen) : 0;
			*type = OBJ_TREE;
			free(obj);
			return 0;
		}
		v = header_find((char *)obj, len, "object", &vlen);
		if (v == NULL || vlen != g->hexlen || !hex_is_lower(v, vlen)) {
			free(obj);
			return -EBADMSG;
		}
		memcpy(hex, v, vlen);
		hex[vlen] = '\0';
		v = header_find((char *)obj, len, "tagger", &vlen);
		t = v ? ident_time(v, vlen) : t;
		free(obj);
	}
	return -EBADMSG;
}

/*
 * The directory name of a ref below refs/heads/ or refs/tags/: '%' becomes
 * "%25" and '/' becomes "%2F", so that one ref is one path component and
 * the mapping is reversible.  Returns -ENAMETOOLONG past STORE_NAME_MAX.
 */
static int
ref_encode(const char *ref, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = ref; *p; p++) {
		const char *rep = *p == '%' ? "%25" : *p == '/' ? "%2F" : NULL;
		size_t n = rep ? 3 : 1;

		if (o + n > STORE_NAME_MAX || o + n >= cap)
			return -ENAMETOOLONG;
		if (rep)
			memcpy(out + o, rep, 3);
		else
			out[o] = *p;
		o += n;
	}
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return -EINVAL;
	return 0;
}

/*
 * One browsable entry named ${ename} for the object ${hex}: a directory
 * for what peels to a tree, a file for a blob.  A ref that cannot be read
 * is warned about and left out (*${is_added} 0).
 */
static int
tip_add(struct gsrc *g, struct store_tb *tb, const char *ename,
    const char *hex, struct counts *cnt, int64_t *max_mtime, int *is_added)
{
	struct store_extent *ext = NULL;
	struct store_entry e;
	struct counts sub = { 0, 0 };
	enum obj_type type;
	uint8_t oid[RAW_MAX];
	int64_t mtime;
	int r;

	*is_added = 0;
	memset(&e, 0, sizeof(e));
	(void)hex_decode(hex, oid, g->rawlen);
	if ((r = peel(g, hex, &type, oid, &mtime)) < 0)
		return obj_fail(g, r, oid);
	e.name = (const uint8_t *)ename;
	e.name_len = strlen(ename);
	e.mtime_sec = mtime;
	if (type == OBJ_TREE) {
		e.type = STORE_DIR;
		e.mode = 0755;
		r = tree_store(g, oid, 0, &e, &sub);
	} else {
		e.type = STORE_REG;
		e.mode = 0644;
		r = blob_store(g, oid, &e.size, &ext, &e.n_extents);
		e.extents = ext;
		sub.n_files = 1;
		sub.n_bytes = e.size;
	}
	if (r < 0) {
		free(ext);
		return obj_fail(g, r, oid);
	}
	if ((r = store_tb_add(tb, &e)) == 0) {
		*is_added = 1;
		cnt->n_files += sub.n_files;
		cnt->n_bytes += sub.n_bytes;
		if (mtime > *max_mtime)
			*max_mtime = mtime;
	}
	free(ext);
	return r;
}

/* Finish ${tb} as directory ${name} and add it to ${parent}. */
static int
dir_add(struct gsrc *g, struct store_tb *parent, const char *name,
    struct store_tb *tb, int64_t mtime)
{
	struct store_entry e;
	int r;

	memset(&e, 0, sizeof(e));
	e.name = (const uint8_t *)name;
	e.name_len = strlen(name);
	e.type = STORE_DIR;
	e.mode = 0755;
	e.mtime_sec = mtime;
	if ((r = store_tb_finish(g->c->w, tb, &e)) < 0)
		return r;
	return store_tb_add(parent, &e);
}

/*
 * browse_build(g, refs, n_refs, head, out):
 * The browsable source NAME: HEAD, branches/, tags/ (see the file
 * comment and amber-git(5)).
 */
static int
browse_build(struct gsrc *g, const struct gref *refs, size_t n_refs,
    const char *head, struct store_source *out)
{
	struct store_tb *root = NULL;
	struct store_tb *br = NULL;
	struct store_tb *tg = NULL;
	struct counts cnt = { 0, 0 };
	int64_t t_br = 0;
	int64_t t_tg = 0;
	char ename[STORE_NAME_MAX + 1];
	char head_target[STORE_NAME_MAX + 16];
	int has_head = 0;
	int r;

	head_target[0] = '\0';
	if ((r = store_tb_new(&root)) < 0 || (r = store_tb_new(&br)) < 0 ||
	    (r = store_tb_new(&tg)) < 0)
		goto out;
	for (size_t i = 0; i < n_refs; i++) {
		const char *rn = refs[i].name;
		int is_branch = strncmp(rn, "refs/heads/", 11) == 0;
		int is_tag = strncmp(rn, "refs/tags/", 10) == 0;
		int is_added;
		size_t old;

		if (!is_branch && !is_tag)
			continue;
		r = ref_encode(rn + (is_branch ? 11 : 10), ename,
		    sizeof(ename));
		if (r < 0) {
			char q[4 * 1024 + 1];

			quote(rn, strlen(rn), q, sizeof(q));
			g->is_partial = 1;
			src_warn(g->c, "repos/%s: ref %s: name too long for a "
			    "directory (the ref is in the mirror); not "
			    "browsable", g->name, q);
			continue;
		}
		old = path_push(g, is_branch ? "branches" : "tags",
		    is_branch ? 8 : 4);
		path_push(g, ename, strlen(ename));
		r = tip_add(g, is_branch ? br : tg, ename, refs[i].hex, &cnt,
		    is_branch ? &t_br : &t_tg, &is_added);
		path_pop(g, old);
		if (r < 0)
			goto out;
		if (is_added && is_branch && strncmp(head, "ref: ", 5) == 0 &&
		    strcmp(head + 5, rn) == 0) {
			snprintf(head_target, sizeof(head_target),
			    "branches/%s", ename);
			has_head = 1;
		}
	}
	if (has_head) {
		struct store_entry e;

		memset(&e, 0, sizeof(e));
		e.name = (const uint8_t *)"HEAD";
		e.name_len = 4;
		e.type = STORE_LNK;
		e.mode = 0777;
		e.mtime_sec = t_br;
		e.target = (const uint8_t *)head_target;
		e.target_len = strlen(head_target);
		e.size = e.target_len;
		if ((r = store_tb_add(root, &e)) < 0)
			goto out;
	} else if (strlen(head) == g->hexlen) {
		/* A detached HEAD: the directory of its commit's tree. */
		int is_added;
		int64_t t = 0;
		size_t old = path_push(g, "HEAD", 4);

		r = tip_add(g, root, "HEAD", head, &cnt, &t, &is_added);
		path_pop(g, old);
		if (r < 0)
			goto out;
	}
	/* An empty branches/ or tags/ takes the other's time. */
	if ((r = dir_add(g, root, "branches", br, t_br ? t_br : t_tg)) < 0 ||
	    (r = dir_add(g, root, "tags", tg, t_tg ? t_tg : t_br)) < 0)
		goto out;
	memset(&out->root, 0, sizeof(out->root));
	out->root.type = STORE_DIR;
	out->root.mode = 0755;
	out->root.mtime_sec = t_br > t_tg ? t_br : t_tg;
	if ((r = store_tb_finish(g->c->w, root, &out->root)) < 0)
		goto out;
	if (out->root.mtime_sec > 0)
		g->mirror_mtime = out->root.mtime_sec;
	out->n_files = cnt.n_files;
	out->n_bytes = cnt.n_bytes;
out:
	store_tb_free(root);
	store_tb_free(br);
	store_tb_free(tg);
	return r;
}

/* ---- the mirror cache -------------------------------------------------- */

/* A local path (absolute from now on) or anything else git can fetch. */
static char *
location_resolve(const char *location)
{
	struct stat st;

	if (strstr(location, "://") == NULL && stat(location, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return realpath(location, NULL);
	return strdup(location);
}

/* qsort() comparator of C strings. */
static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The "<id>\t<refs/...>" lines of ${text} (ls-remote or for-each-ref
 * output), peeled tags ("^{}") and HEAD left out, sorted, into a
 * malloc'd array of pointers into ${text} (which is modified).
 */
static int
ref_lines(char *text, char ***out, size_t *n_out)
{
	char **v = NULL;
	size_t n = 0;
	size_t cap = 0;

	for (char *l = text, *nl; *l; l = nl + 1) {
		char *tab;
		size_t len;

		if ((nl = strchr(l, '\n')) == NULL)
			break;
		*nl = '\0';
		len = (size_t)(nl - l);
		if ((tab = strchr(l, '\t')) == NULL ||
		    strncmp(tab + 1, "refs/", 5) != 0 ||
		    (len > 3 && strcmp(nl - 3, "^{}") == 0))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			char **nv = realloc(v, ncap * sizeof(*nv));

			if (nv == NULL) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = l;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), str_ptr_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

/*
 * Does the mirror cache hold exactly the refs that ${remote} (the output
 * of `git ls-remote origin`) lists?  Then a fetch would bring nothing,
 * and an unchanged repository costs one ref listing.  1 yes, 0 no (or
 * cannot tell), -ENOMEM.
 */
static int
is_cache_current(struct gsrc *g, char *remote)
{
	const char *argv[] = { "git", g->gitdir_arg, "for-each-ref",
		"--format=%(objectname)%09%(refname)", NULL };
	char *local = NULL;
	char **a = NULL;
	char **b = NULL;
	size_t na = 0;
	size_t nb = 0;
	size_t len;
	int r;

	if (git_run(g, argv, NULL, 0, &local, &len, REFS_OUT_MAX) < 0)
		return 0;
	if ((r = ref_lines(remote, &a, &na)) < 0 ||
	    (r = ref_lines(local, &b, &nb)) < 0)
		goto out;
	r = na == nb;
	for (size_t i = 0; r && i < na; i++)
		r = strcmp(a[i], b[i]) == 0;
out:
	free(a);
	free(b);
	free(local);
	return r;
}

/*
 * cache_update(g, location, lockfd):
 * Create (clone --mirror) or update (fetch --prune, all refs, and HEAD as
 * the remote has it) the mirror cache, under an exclusive lock held in
 * *${lockfd} until the caller closes it.
 */
static int
cache_update(struct gsrc *g, const char *location, int *lockfd)
{
	const char *idx = store_index_dir(g->c->s);
	const char *quiet = g->c->is_verbose ? "--progress" : "--quiet";
	char *base = NULL;
	char *lock = NULL;
	char *tmp = NULL;
	char *head = NULL;
	char *out = NULL;
	char *listing = NULL;
	size_t len;
	struct stat st;
	int r;

	if ((base = str_cat(idx, "/git", "")) == NULL ||
	    (lock = str_cat(base, "/", g->name)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (mkdir(base, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		fprintf(stderr, "amber ingest: %s: %s\n", base,
		    strerror(errno));
		goto out;
	}
	if ((g->dir = strdup(lock)) == NULL ||
	    (g->gitdir_arg = str_cat("--git-dir=", g->dir, "")) == NULL ||
	    (tmp = str_cat(g->dir, ".new", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	free(lock);
	if ((lock = str_cat(g->dir, ".lock", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((*lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(*lockfd, LOCK_EX) < 0) {
		r = -errno;
		fprintf(stderr, "amber ingest: %s: %s\n", lock,
		    strerror(errno));
		goto out;
	}
	if ((head = str_cat(g->dir, "/HEAD", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (g->is_prefetched && stat(head, &st) == 0) {
		/* src_git_fetch() brought it up to date in this run. */
		r = 0;
		goto out;
	}
	if (stat(head, &st) < 0) {
		/* No cache (or a broken one): clone afresh, then rename. */
		const char *argv[] = { "git", "clone", "--mirror",
			"--no-local", quiet, "--", location, tmp, NULL };

		rm_tree(g->dir);
		rm_tree(tmp);
		if ((r = git_run(g, argv, NULL, 0, NULL, NULL, 0)) < 0) {
			rm_tree(tmp);
			goto out;
		}
		if (rename(tmp, g->dir) < 0) {
			r = -errno;
			goto out;
		}
	} else {
		const char *set[] = { "git", g->gitdir_arg, "config",
			"remote.origin.url", location, NULL };
		const char *ls[] = { "git", g->gitdir_arg, "ls-remote",
			"--symref", "origin", NULL };
		const char *fetch[] = { "git", g->gitdir_arg, "-c",
			"gc.autoDetach=false", "-c",
			"maintenance.autoDetach=false", "fetch", quiet,
			"--prune", "--no-write-fetch-head",
			"--recurse-submodules=no", "origin",
			"+refs/*:refs/*", NULL, NULL };
		char sym[1024] = "";
		char det[HEX_MAX + 1] = "";

		if ((r = git_run(g, set, NULL, 0, NULL, NULL, 0)) < 0 ||
		    (r = git_run(g, ls, NULL, 0, &out, &len, REFS_OUT_MAX)) < 0)
			goto out;
		/* Kept whole: the loop below cuts ${out} at tabs and ends. */
		if ((listing = strdup(out)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		/* "ref: refs/heads/x\tHEAD" and/or "<id>\tHEAD" */
		for (char *l = out, *nl; *l; l = nl + 1) {
			char *tab;

			if ((nl = strchr(l, '\n')) == NULL)
				break;
			*nl = '\0';
			if ((tab = strchr(l, '\t')) == NULL ||
			    strcmp(tab, "\tHEAD") != 0)
				continue;
			*tab = '\0';
			if (strncmp(l, "ref: refs/", 10) == 0 &&
			    strlen(l + 5) < sizeof(sym))
				strcpy(sym, l + 5);
			else if ((strlen(l) == 40 || strlen(l) == 64) &&
			    hex_is_lower(l, strlen(l)))
				strcpy(det, l);
		}
		if (sym[0] == '\0' && det[0])
			fetch[13] = "HEAD";
		/* Unchanged refs: no fetch (a detached HEAD may need one). */
		if ((r = is_cache_current(g, listing)) < 0)
			goto out;
		if ((r == 0 || fetch[13] != NULL) &&
		    (r = git_run(g, fetch, NULL, 0, NULL, NULL, 0)) < 0)
			goto out;
		if (sym[0]) {
			const char *argv[] = { "git", g->gitdir_arg,
				"symbolic-ref", "HEAD", sym, NULL };

			r = git_run(g, argv, NULL, 0, NULL, NULL, 0);
		} else if (det[0]) {
			const char *argv[] = { "git", g->gitdir_arg,
				"update-ref", "--no-deref", "HEAD", det,
				NULL };

			r = git_run(g, argv, NULL, 0, NULL, NULL, 0);
		}
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	free(base);
	free(lock);
	free(tmp);
	free(head);
	free(out);
	free(listing);
	return r;
}

/* Every ref of the cache, sorted by name as git sorts them. */
static int
refs_list(struct gsrc *g, struct gref **out, size_t *n_out)
{
	const char *argv[] = { "git", g->gitdir_arg, "for-each-ref",
		"--format=%(objectname) %(refname)", NULL };
	struct gref *refs = NULL;
	char *text = NULL;
	size_t len;
	size_t n = 0;
	size_t cap = 0;
	int r;

	if ((r = git_run(g, argv, NULL, 0, &text, &len, REFS_OUT_MAX)) < 0)
		goto out;
	for (char *l = text, *nl; *l; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL) {
			r = gerr(g, -EBADMSG, "unexpected for-each-ref output");
			goto out;
		}
		*nl = '\0';
		if (strlen(l) < g->hexlen + 7 || l[g->hexlen] != ' ' ||
		    !hex_is_lower(l, g->hexlen) ||
		    strncmp(l + g->hexlen + 1, "refs/", 5) != 0) {
			r = gerr(g, -EBADMSG, "unexpected for-each-ref output");
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct gref *nr = realloc(refs, ncap * sizeof(*nr));

			if (nr == NULL) {
				r = -ENOMEM;
				goto out;
			}
			refs = nr;
			cap = ncap;
		}
		memcpy(refs[n].hex, l, g->hexlen);
		refs[n].hex[g->hexlen] = '\0';
		if ((refs[n].name = strdup(l + g->hexlen + 1)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	*out = refs;
	*n_out = n;
	refs = NULL;
	n = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(refs[i].name);
	free(refs);
	free(text);
	return r;
}

/* ---- the mirror -------------------------------------------------------- */

static int
tip_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Parse the previous packed-refs and HEAD into a sorted, unique array of
 * tips (pointers into ${p}'s buffers, which it NUL-terminates in place).
 * Returns -EBADMSG if anything is malformed.
 */
static int
prev_tips(struct gsrc *g, struct prev *p, char ***out, size_t *n_out)
{
	char **tips = NULL;
	size_t n = 0;
	size_t cap = 0;
	char *s = p->packed_refs;
	char *end = p->packed_refs + p->packed_refs_len;

	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));

		if (nl == NULL)
			goto bad;
		*nl = '\0';
		if (*s != '#' && *s != '^') {
			if ((size_t)(nl - s) < g->hexlen + 2 ||
			    s[g->hexlen] != ' ' || !hex_is_lower(s, g->hexlen))
				goto bad;
			s[g->hexlen] = '\0';
			if (n + 2 > cap) {
				size_t ncap = cap ? 2 * cap : 64;
				char **nt = realloc(tips, ncap * sizeof(*nt));

				if (nt == NULL) {
					free(tips);
					return -ENOMEM;
				}
				tips = nt;
				cap = ncap;
			}
			tips[n++] = s;
		}
		s = nl + 1;
	}
	if (p->head_len == g->hexlen + 1 && hex_is_lower(p->head, g->hexlen)) {
		if (n + 1 > cap) {
			char **nt = realloc(tips, (n + 1) * sizeof(*nt));

			if (nt == NULL) {
				free(tips);
				return -ENOMEM;
			}
			tips = nt;
		}
		p->head[g->hexlen] = '\0';
		tips[n++] = p->head;
	}
	if (n)
		qsort(tips, n, sizeof(*tips), tip_cmp);
	*n_out = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(tips[i], tips[i - 1]) != 0)
			tips[(*n_out)++] = tips[i];
	*out = tips;
	return 0;
bad:
	free(tips);
	return -EBADMSG;
}

/* Read a regular file entry's whole content (at most ${max} bytes). */
static int
entry_read(struct gsrc *g, const struct store_entry *e, size_t max,
    char **out, size_t *len)
{
	char *buf;
	size_t got;
	int r;

	if (e->type != STORE_REG || e->size > max)
		return -EBADMSG;
	if ((buf = malloc((size_t)e->size + 1)) == NULL)
		return -ENOMEM;
	if ((r = store_read(g->c->s, e, 0, (uint8_t *)buf, (size_t)e->size,
	    &got)) < 0 || got != e->size) {
		free(buf);
		return r < 0 ? r : -EBADMSG;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* Read file ${path} of the stored mirror ${root}; -ENOENT if absent. */
static int
stored_file(struct gsrc *g, const struct store_entry *root, const char *path,
    size_t max, char **out, size_t *len)
{
	struct store_tree *t = NULL;
	size_t i;
	int r;

	if ((r = store_resolve(g->c->s, root, path, &t, &i)) < 0)
		return r;
	if (t == NULL)
		return -EBADMSG;
	r = entry_read(g, store_tree_entry(t, i), max, out, len);
	store_tree_free(t);
	return r;
}

static void
plist_fini(struct plist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((void *)l->v[i].name);
		free((void *)l->v[i].extents);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Append an owned copy of the regular file entry ${e}. */
static int
plist_add(struct plist *l, const struct store_entry *e)
{
	struct store_entry *c;
	uint8_t *name = NULL;
	struct store_extent *ext = NULL;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct store_entry *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if ((name = malloc(e->name_len + 1)) == NULL ||
	    (e->n_extents && (ext = malloc(e->n_extents * sizeof(*ext))) ==
	    NULL)) {
		free(name);
		return -ENOMEM;
	}
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	if (e->n_extents)
		memcpy(ext, e->extents, e->n_extents * sizeof(*ext));
	c = &l->v[l->n++];
	*c = *e;
	c->name = name;
	c->extents = ext;
	c->target = NULL;
	c->target_len = 0;
	return 0;
}

/*
 * Whether ${e} can be reused as a pack file of the mirror: a regular file
 * named pack-<hex>.pack or .idx whose extents cover it in order and whose
 * every chunk the store holds (so a record left by a run that never
 * committed is not trusted beyond what reached the store).
 */
static int
pack_entry_ok(struct gsrc *g, const struct store_entry *e)
{
	size_t hl;
	uint64_t at = 0;

	if (e->type != STORE_REG || e->name_len < 5 + 40 + 4 ||
	    memcmp(e->name, "pack-", 5) != 0)
		return 0;
	if (memcmp(e->name + e->name_len - 5, ".pack", 5) == 0)
		hl = e->name_len - 10;
	else if (memcmp(e->name + e->name_len - 4, ".idx", 4) == 0)
		hl = e->name_len - 9;
	else
		return 0;
	if ((hl != 40 && hl != 64) || !hex_is_lower((const char *)e->name + 5, hl))
		return 0;
	for (size_t i = 0; i < e->n_extents; i++) {
		if (e->extents[i].off != at || e->extents[i].len == 0 ||
		    store_has_chunk(g->c->s, e->extents[i].ref.id) != 1)
			return 0;
		at += e->extents[i].len;
	}
	return at == e->size;
}

static void
prev_fini(struct prev *p)
{
	free(p->packed_refs);
	free(p->head);
	free(p->shallow);
	plist_fini(&p->packs);
	memset(p, 0, sizeof(*p));
}

/* A bounds-checked reader of a cache record. */
/* A u32-length-prefixed string of at most ${max} bytes, malloc'd. */
static int
rd_str32(struct rd *c, size_t max, char **out, size_t *len)
{
	const uint8_t *p;
	uint32_t n;
	int r;

	if ((r = rd_u32(c, &n)) < 0)
		return r;
	if (n > max || n > c->len)
		return -EBADMSG;
	if ((*out = malloc((size_t)n + 1)) == NULL)
		return -ENOMEM;
	(void)rd_bytes(c, n, &p);
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

/*
 * The cache record of the mirror last stored (TABLE_MIRROR, key NAME):
 *   u8 version, packed-refs, HEAD, shallow (each u32 length + bytes;
 *   shallow's length is 1 + its length, 0 when not shallow), u32 count,
 *   then per pack file: u32 name length, name, u64 size, u64 mtime,
 *   u32 mode, u32 extent count, extents (u64 off, u32 len, id, key).
 */
static int
mirror_val_encode(const char *pr, size_t prlen, const char *head,
    const char *shallow, size_t shallow_len, const struct plist *l,
    uint8_t **out, size_t *len)
{
	size_t n = 1 + 4 + prlen + 4 + strlen(head) + 4 + shallow_len + 4;
	uint8_t *v;
	uint8_t *p;

	for (size_t i = 0; i < l->n; i++)
		n += 4 + l->v[i].name_len + 8 + 8 + 4 + 4 +
		    l->v[i].n_extents * EXT_VAL_LEN;
	if ((v = malloc(n)) == NULL)
		return -ENOMEM;
	p = v;
	*p++ = VAL_VERSION;
	p = put_u32(p, (uint32_t)prlen);
	memcpy(p, pr, prlen);
	p += prlen;
	p = put_u32(p, (uint32_t)strlen(head));
	memcpy(p, head, strlen(head));
	p += strlen(head);
	p = put_u32(p, shallow ? (uint32_t)shallow_len + 1 : 0);
	if (shallow) {
		memcpy(p, shallow, shallow_len);
		p += shallow_len;
	}
	p = put_u32(p, (uint32_t)l->n);
	for (size_t i = 0; i < l->n; i++) {
		const struct store_entry *e = &l->v[i];

		p = put_u32(p, (uint32_t)e->name_len);
		memcpy(p, e->name, e->name_len);
		p += e->name_len;
		p = put_u64(p, e->size);
		p = put_u64(p, (uint64_t)e->mtime_sec);
		p = put_u32(p, e->mode);
		p = put_u32(p, (uint32_t)e->n_extents);
		for (size_t k = 0; k < e->n_extents; k++)
			p = store_extent_put(p, &e->extents[k]);
	}
	*out = v;
	*len = (size_t)(p - v);
	return 0;
}

static int
mirror_val_decode(struct gsrc *g, const uint8_t *v, size_t len,
    struct prev *p)
{
	struct rd c = rd_init(v, len);
	uint8_t ver;
	uint32_t n;
	uint32_t sl;
	int r;

	if ((r = rd_copy(&c, &ver, 1)) < 0 || ver != VAL_VERSION)
		return -EBADMSG;
	if ((r = rd_str32(&c, META_MAX, &p->packed_refs,
	    &p->packed_refs_len)) < 0 ||
	    (r = rd_str32(&c, 4096, &p->head, &p->head_len)) < 0)
		return r;
	if ((r = rd_u32(&c, &sl)) < 0 || sl > META_MAX + 1 || sl > c.len)
		return -EBADMSG;
	if (sl > 0) {
		if ((p->shallow = malloc(sl)) == NULL)
			return -ENOMEM;
		p->shallow_len = sl - 1;
		rd_copy(&c, p->shallow, sl - 1);
		p->shallow[sl - 1] = '\0';
	}
	if ((r = rd_u32(&c, &n)) < 0 || n > 2 * PACKS_MAX + 2)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		struct store_entry e;
		uint8_t name[STORE_NAME_MAX + 1];
		struct store_extent *ext = NULL;
		uint32_t nl;
		uint32_t ne;
		uint64_t mt;

		memset(&e, 0, sizeof(e));
		if ((r = rd_u32(&c, &nl)) < 0 || nl == 0 ||
		    nl > STORE_NAME_MAX || (r = rd_copy(&c, name, nl)) < 0 ||
		    (r = rd_u64(&c, &e.size)) < 0 ||
		    (r = rd_u64(&c, &mt)) < 0 ||
		    (r = rd_u32(&c, &e.mode)) < 0 ||
		    (r = rd_u32(&c, &ne)) < 0)
			return -EBADMSG;
		if (ne > BLOB_VAL_EXT_MAX || (size_t)ne * EXT_VAL_LEN > c.len ||
		    e.mode > 07777)
			return -EBADMSG;
		if (ne && (ext = calloc(ne, sizeof(*ext))) == NULL)
			return -ENOMEM;
		/* ne * EXT_VAL_LEN <= c.len: checked above, so no short read. */
		for (uint32_t k = 0; k < ne; k++) {
			const uint8_t *x;

			if (rd_bytes(&c, EXT_VAL_LEN, &x) == 0)
				store_extent_get(x, &ext[k]);
		}
		e.name = name;
		e.name_len = nl;
		e.type = STORE_REG;
		e.mtime_sec = (int64_t)mt;
		e.n_extents = ne;
		e.extents = ext;
		r = pack_entry_ok(g, &e) ? plist_add(&p->packs, &e) : -EBADMSG;
		free(ext);
		if (r < 0)
			return r;
	}
	return c.len == 0 ? 0 : -EBADMSG;
}

/* The previous mirror from the cache record; -ENOENT if unusable. */
static int
prev_from_cache(struct gsrc *g, struct prev *p)
{
	void *v = NULL;
	size_t len;
	int r;

	r = store_cache_get(g->c->s, TABLE_MIRROR, g->name, strlen(g->name),
	    &v, &len);
	if (r < 0)
		return r == -ENOMEM ? r : -ENOENT;
	r = mirror_val_decode(g, v, len, p);
	free(v);
	if (r < 0) {
		prev_fini(p);
		return r == -ENOMEM ? r : -ENOENT;
	}
	return 0;
}

/* The previous mirror read back from the newest snapshot holding it. */
static int
prev_from_snapshot(struct gsrc *g, struct prev *p)
{
	struct store_snap_list *l = NULL;
	struct store_entry root;
	struct store_tree *t = NULL;
	struct store_tree *pt = NULL;
	char mname[STORE_NAME_MAX + 1];
	size_t i;
	int is_found = 0;
	int r;

	snprintf(mname, sizeof(mname), "%s.git", g->name);
	if ((r = store_snapshots(g->c->s, &l)) < 0)
		return r == -ENOMEM ? r : -ENOENT;
	for (i = store_snap_list_len(l); i-- > 0 && !is_found;) {
		const struct store_snap *sn = store_snap_list_get(l, i);

		for (size_t j = 0; j < sn->n_sources; j++) {
			const struct store_source *so = &sn->sources[j];

			if (so->kind == STORE_REPOS &&
			    strcmp(so->name, mname) == 0) {
				root = so->root;
				root.name = NULL;
				root.target = NULL;
				root.extents = NULL;
				is_found = 1;
				break;
			}
		}
	}
	store_snap_list_free(l);
	if (!is_found)
		return -ENOENT;
	if ((r = stored_file(g, &root, "packed-refs", META_MAX,
	    &p->packed_refs, &p->packed_refs_len)) < 0 ||
	    (r = stored_file(g, &root, "HEAD", 4096, &p->head,
	    &p->head_len)) < 0)
		goto out;
	r = stored_file(g, &root, "shallow", META_MAX, &p->shallow,
	    &p->shallow_len);
	if (r < 0 && r != -ENOENT)
		goto out;
	if ((r = store_resolve(g->c->s, &root, "objects/pack", &t, &i)) < 0)
		goto out;
	if (t == NULL || store_tree_entry(t, i)->type != STORE_DIR) {
		r = -EBADMSG;
		goto out;
	}
	if ((r = store_tree_read(g->c->s, &store_tree_entry(t, i)->tree,
	    &pt)) < 0)
		goto out;
	if (store_tree_len(pt) > 2 * PACKS_MAX + 2) {
		r = -EBADMSG;
		goto out;
	}
	for (i = 0; i < store_tree_len(pt); i++) {
		const struct store_entry *e = store_tree_entry(pt, i);

		if (!pack_entry_ok(g, e)) {
			r = -EBADMSG;
			goto out;
		}
		if ((r = plist_add(&p->packs, e)) < 0)
			goto out;
	}
	r = 0;
out:
	store_tree_free(t);
	store_tree_free(pt);
	if (r < 0) {
		prev_fini(p);
		if (r == -ENOMEM)
			return r;
		if (g->c->is_verbose)
			fprintf(stderr, "amber ingest: repos/%s.git: previous "
			    "mirror unusable (%s)\n", g->name, strerror(-r));
		return -ENOENT;
	}
	return 0;
}

/*
 * prev_find(g, p):
 * What the mirror last stored holds: packed-refs, HEAD, shallow and the
 * pack files, from the local cache's record of the last ingest, else
 * read back from the newest snapshot holding NAME.git (which needs a key
 * that reads snapshots).  Leaves p->is_found 0 if neither can be used:
 * the caller then packs everything.
 */
static int
prev_find(struct gsrc *g, struct prev *p)
{
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = prev_from_cache(g, p)) == -ENOENT)
		r = prev_from_snapshot(g, p);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->packs.n; i++) {
		const struct store_entry *e = &p->packs.v[i];

		if (memcmp(e->name + e->name_len - 5, ".pack", 5) == 0)
			p->n_packs++;
	}
	p->is_found = 1;
	return 0;
}

/*
 * Whether every previous tip is in the cache and reachable from the new
 * tips (0 or 1), so that the old packs plus a pack of the difference hold
 * exactly the reachable objects.
 */
static int
is_incremental_ok(struct gsrc *g, char **old, size_t n_old, char **tips,
    size_t n_tips)
{
	const char *argv[] = { "git", g->gitdir_arg, "rev-list", "--objects",
		"--no-object-names", "--stdin", NULL };
	char *in = NULL;
	char *out = NULL;
	size_t len;
	size_t o = 0;
	int r;

	for (size_t i = 0; i < n_old; i++) {
		enum obj_type type;
		uint64_t size;

		if ((r = cf_begin(g, "info", old[i], &type, &size)) < 0) {
			if (r == -EPIPE && (r = cf_restart(g)) < 0)
				return r;
			return 0;
		}
	}
	if ((in = malloc((n_old + n_tips) * (g->hexlen + 2) + 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n_old; i++)
		o += (size_t)sprintf(in + o, "%s\n", old[i]);
	for (size_t i = 0; i < n_tips; i++)
		o += (size_t)sprintf(in + o, "^%s\n", tips[i]);
	r = git_run(g, argv, in, o, &out, &len, 1u << 20);
	free(in);
	if (r == -EFBIG || r == -EIO)
		r = 0;
	else if (r == 0)
		r = len == 0;
	free(out);
	return r;
}

/* Store file ${path} (streamed) as entry ${name} of ${tb} and ${l}. */
static int
file_add(struct gsrc *g, struct store_tb *tb, const char *name,
    const char *path, uint32_t mode, struct counts *cnt, struct plist *l)
{
	struct store_file *f = NULL;
	struct store_extent *ext = NULL;
	struct store_entry e;
	uint64_t off = 0;
	int fd;
	int r;

	memset(&e, 0, sizeof(e));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((r = store_file_new(g->c->w, &f)) < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, g->iobuf, IO_LEN);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if ((r = store_file_write(f, off, g->iobuf, (size_t)n)) < 0)
			goto out;
		off += (uint64_t)n;
	}
	if ((r = store_file_end(f, &ext, &e.n_extents)) < 0)
		goto out;
	e.name = (const uint8_t *)name;
	e.name_len = strlen(name);
	e.type = STORE_REG;
	e.mode = mode;
	e.mtime_sec = g->mirror_mtime;
	e.size = off;
	e.extents = ext;
	if ((r = store_tb_add(tb, &e)) < 0 || (r = plist_add(l, &e)) < 0)
		goto out;
	cnt->n_files++;
	cnt->n_bytes += off;
	progress_add(g, 1, off);
out:
	close(fd);
	store_file_free(f);
	free(ext);
	return r;
}

/* Store ${len} bytes as entry ${name} of ${tb}. */
static int
text_add(struct gsrc *g, struct store_tb *tb, const char *name,
    const char *text, size_t len, struct counts *cnt)
{
	struct store_extent *ext = NULL;
	struct store_entry e;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = bytes_store(g, (const uint8_t *)text, len, &ext,
	    &e.n_extents)) < 0)
		return r;
	e.name = (const uint8_t *)name;
	e.name_len = strlen(name);
	e.type = STORE_REG;
	e.mode = 0644;
	e.mtime_sec = g->mirror_mtime;
	e.size = len;
	e.extents = ext;
	if ((r = store_tb_add(tb, &e)) == 0) {
		cnt->n_files++;
		cnt->n_bytes += len;
		progress_add(g, 1, len);
	}
	free(ext);
	return r;
}

/*
 * Write a pack of the objects reachable from ${tips} but not ${old} into
 * the directory ${tmp}; *${hex} names it, or is "" if it has no object.
 */
static int
pack_write(struct gsrc *g, const char *tmp, char **tips, size_t n_tips,
    char **old, size_t n_old, char *hex)
{
	const char *argv[] = { "git", GIT_MEM_OPTS, g->gitdir_arg,
		"pack-objects", "--revs", "--delta-base-offset", "--quiet", NULL,
		NULL };
	char *base = NULL;
	char *in = NULL;
	char *out = NULL;
	char *path = NULL;
	uint8_t hdr[12];
	size_t len;
	size_t o = 0;
	int fd = -1;
	int r;

	hex[0] = '\0';
	if ((base = str_cat(tmp, "/pack", "")) == NULL ||
	    (in = malloc((n_old + n_tips) * (g->hexlen + 2) + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	argv[sizeof(argv) / sizeof(argv[0]) - 2] = base;
	for (size_t i = 0; i < n_tips; i++)
		o += (size_t)sprintf(in + o, "%s\n", tips[i]);
	for (size_t i = 0; i < n_old; i++)
		o += (size_t)sprintf(in + o, "^%s\n", old[i]);
	if ((r = git_run(g, argv, in, o, &out, &len, 4096)) < 0)
		goto out;
	if (len != g->hexlen + 1 || !hex_is_lower(out, g->hexlen)) {
		r = gerr(g, -EIO, "unexpected pack-objects output");
		goto out;
	}
	out[g->hexlen] = '\0';
	if ((path = malloc(strlen(base) + g->hexlen + 8)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	sprintf(path, "%s-%s.pack", base, out);
	/* The header's object count (big-endian, bytes 8-11). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, "PACK", 4) != 0) {
		r = gerr(g, -EIO, "pack-objects wrote no readable pack");
		goto out;
	}
	if (hdr[8] | hdr[9] | hdr[10] | hdr[11])
		strcpy(hex, out);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(base);
	free(in);
	free(out);
	free(path);
	return r;
}

static const char CONFIG_SHA1[] =
    "[core]\n"
    "\trepositoryformatversion = 0\n"
    "\tfilemode = true\n"
    "\tbare = true\n";
static const char CONFIG_SHA256[] =
    "[core]\n"
    "\trepositoryformatversion = 1\n"
    "\tfilemode = true\n"
    "\tbare = true\n"
    "[extensions]\n"
    "\tobjectformat = sha256\n";

/* Add an empty directory ${name} to ${parent}. */
static int
empty_dir_add(struct gsrc *g, struct store_tb *parent, const char *name)
{
	struct store_tb *tb = NULL;
	int r;

	if ((r = store_tb_new(&tb)) == 0)
		r = dir_add(g, parent, name, tb, g->mirror_mtime);
	store_tb_free(tb);
	return r;
}

/*
 * mirror_build(g, refs, n_refs, head, out):
 * The mirror source NAME.git: HEAD, config, packed-refs, shallow (if the
 * repository is shallow), objects/pack/ (the previous snapshot's packs
 * plus one new pack, or one pack of everything), objects/info/, refs/.
 */
static int
mirror_build(struct gsrc *g, const struct gref *refs, size_t n_refs,
    const char *head, struct store_source *out)
{
	struct store_tb *root = NULL;
	struct store_tb *objs = NULL;
	struct store_tb *packs = NULL;
	struct store_tb *rtb = NULL;
	struct counts cnt = { 0, 0 };
	struct plist kept = { NULL, 0, 0 };
	struct prev p;
	uint8_t *val = NULL;
	size_t vlen;
	char **tips = NULL;
	char **old = NULL;
	size_t n_tips = 0;
	size_t n_old = 0;
	char *pr = NULL;
	char *shallow = NULL;
	char *shallow_path = NULL;
	char *tmp = NULL;
	char *f = NULL;
	size_t shallow_len = 0;
	size_t len;
	size_t o = 0;
	char hex[HEX_MAX + 1];
	char headline[1100];
	int is_full = 1;
	int is_reuse = 0;
	int r;

	memset(&p, 0, sizeof(p));
	/* packed-refs, without the peeled trait: git peels when it needs. */
	len = 1;
	for (size_t i = 0; i < n_refs; i++)
		len += g->hexlen + strlen(refs[i].name) + 2;
	if ((pr = malloc(len)) == NULL ||
	    (tips = calloc(n_refs + 1, sizeof(*tips))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_refs; i++) {
		o += (size_t)sprintf(pr + o, "%s %s\n", refs[i].hex,
		    refs[i].name);
		tips[n_tips++] = (char *)refs[i].hex;
	}
	if (strlen(head) == g->hexlen)
		tips[n_tips++] = (char *)head;
	if (n_tips)
		qsort(tips, n_tips, sizeof(*tips), tip_cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < n_tips; i++)
			if (i == 0 || strcmp(tips[i], tips[k - 1]) != 0)
				tips[k++] = tips[i];
		n_tips = k;
	}
	if ((shallow_path = str_cat(g->dir, "/shallow", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = io_read_file(shallow_path, META_MAX, &shallow, &shallow_len);
	if (r < 0 && r != -ENOENT)
		goto out;

	/* Decide: reuse the previous packs as they are, add one, or repack. */
	if ((r = prev_find(g, &p)) < 0)
		goto out;
	if (p.is_found && p.n_packs < PACKS_MAX &&
	    (p.shallow == NULL) == (shallow == NULL) &&
	    (shallow == NULL || (p.shallow_len == shallow_len &&
	    memcmp(p.shallow, shallow, shallow_len) == 0)) &&
	    prev_tips(g, &p, &old, &n_old) == 0) {
		int is_same = n_old == n_tips;

		for (size_t i = 0; is_same && i < n_tips; i++)
			is_same = strcmp(old[i], tips[i]) == 0;
		if (is_same) {
			is_full = 0;
			is_reuse = 1;
		} else if (n_old == 0) {
			is_full = 0;
		} else if ((r = is_incremental_ok(g, old, n_old, tips,
		    n_tips)) < 0) {
			goto out;
		} else {
			is_full = !r;
		}
	}
	if (is_full)
		n_old = 0;
	if (g->c->is_verbose)
		fprintf(stderr, "amber ingest: repos/%s.git: %s\n", g->name,
		    is_reuse ? "unchanged" : is_full ? "packing everything" :
		    "packing the new objects");

	if ((r = store_tb_new(&root)) < 0 || (r = store_tb_new(&objs)) < 0 ||
	    (r = store_tb_new(&packs)) < 0 || (r = store_tb_new(&rtb)) < 0)
		goto out;
	if (!is_full)
		for (size_t i = 0; i < p.packs.n; i++) {
			const struct store_entry *e = &p.packs.v[i];

			if ((r = store_tb_add(packs, e)) < 0 ||
			    (r = plist_add(&kept, e)) < 0)
				goto out;
			cnt.n_files++;
			cnt.n_bytes += e->size;
		}
	hex[0] = '\0';
	if (!is_reuse && n_tips > 0) {
		if ((tmp = str_cat(g->dir, ".pack-XXXXXX", "")) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		if (mkdtemp(tmp) == NULL) {
			r = -errno;
			free(tmp);
			tmp = NULL;
			goto out;
		}
		if ((r = pack_write(g, tmp, tips, n_tips, old, n_old,
		    hex)) < 0) {
			g->is_cache_suspect = r == -EIO;
			goto out;
		}
	}
	if (hex[0]) {
		static const char *const ext[] = { ".pack", ".idx" };

		for (size_t k = 0; k < 2; k++) {
			char name[HEX_MAX + 16];
			int is_dup = 0;

			snprintf(name, sizeof(name), "pack-%s%s", hex, ext[k]);
			for (size_t i = 0; !is_full && i < p.packs.n; i++) {
				const struct store_entry *e = &p.packs.v[i];

				if (e->name_len == strlen(name) &&
				    memcmp(e->name, name, e->name_len) == 0)
					is_dup = 1;
			}
			if (is_dup)
				continue;
			free(f);
			if ((f = str_cat(tmp, "/", name)) == NULL) {
				r = -ENOMEM;
				goto out;
			}
			if ((r = file_add(g, packs, name, f, 0444, &cnt,
			    &kept)) < 0)
				goto out;
		}
	}
	if ((r = dir_add(g, objs, "pack", packs, g->mirror_mtime)) < 0 ||
	    (r = empty_dir_add(g, objs, "info")) < 0 ||
	    (r = dir_add(g, root, "objects", objs, g->mirror_mtime)) < 0 ||
	    (r = empty_dir_add(g, rtb, "heads")) < 0 ||
	    (r = empty_dir_add(g, rtb, "tags")) < 0 ||
	    (r = dir_add(g, root, "refs", rtb, g->mirror_mtime)) < 0)
		goto out;
	snprintf(headline, sizeof(headline), "%s\n", head);
	if ((r = text_add(g, root, "HEAD", headline, strlen(headline),
	    &cnt)) < 0 ||
	    (r = text_add(g, root, "config", g->hexlen == 64 ? CONFIG_SHA256 :
	    CONFIG_SHA1, strlen(g->hexlen == 64 ? CONFIG_SHA256 :
	    CONFIG_SHA1), &cnt)) < 0 ||
	    (r = text_add(g, root, "packed-refs", pr, o, &cnt)) < 0)
		goto out;
	if (shallow && (r = text_add(g, root, "shallow", shallow, shallow_len,
	    &cnt)) < 0)
		goto out;
	memset(&out->root, 0, sizeof(out->root));
	out->root.type = STORE_DIR;
	out->root.mode = 0755;
	out->root.mtime_sec = g->mirror_mtime;
	/* git reads a repository only if the reader owns it. */
	out->root.flags = STORE_ENTRY_OWNER_VIEWER;
	if ((r = store_tb_finish(g->c->w, root, &out->root)) < 0)
		goto out;
	out->n_files = cnt.n_files;
	out->n_bytes = cnt.n_bytes;
	/* Remember this mirror for the next ingest (a hint; may be lost). */
	if ((r = mirror_val_encode(pr, o, headline, shallow, shallow_len,
	    &kept, &val, &vlen)) < 0)
		goto out;
	store_cache_put(g->c->s, TABLE_MIRROR, g->name, strlen(g->name), val,
	    vlen);
out:
	free(val);
	plist_fini(&kept);
	if (tmp)
		rm_tree(tmp);
	store_tb_free(root);
	store_tb_free(objs);
	store_tb_free(packs);
	store_tb_free(rtb);
	prev_fini(&p);
	free(tips);
	free(old);
	free(pr);
	free(shallow);
	free(shallow_path);
	free(tmp);
	free(f);
	return r;
}

/* ---- the reader -------------------------------------------------------- */

/*
 * src_git_read(c, name, location, out):
 * Fetch ${location} (a local repository, bare or not, or any URL git can
 * fetch) into the mirror cache and store it as out[0] (repos/NAME, the
 * browsable trees) and out[1] (repos/NAME.git, the mirror).  Objects that
 * cannot be read are warned about (src_warn) and left out of the trees;
 * returns -EIO if the fetch fails (git's messages name the cause, e.g. a
 * corrupt object), -EINVAL for a bad ${name}, other -errno on failure.
 */
static int
git_read(struct src_ctx *c, const char *name, const char *location,
    int is_prefetched, unsigned flags, struct store_source out[2])
{
	struct gsrc g;
	struct gref *refs = NULL;
	size_t n_refs = 0;
	char *loc = NULL;
	char *head = NULL;
	char *headpath = NULL;
	char *fmt = NULL;
	size_t len;
	int lockfd = -1;
	int r;

	memset(&g, 0, sizeof(g));
	memset(out, 0, 2 * sizeof(*out));
	g.c = c;
	g.name = name;
	g.cf.fd = -1;
	g.cf.pid = -1;
	g.is_prefetched = is_prefetched;
	g.mirror_mtime = (int64_t)time(NULL);
	len = strlen(name);
	/* The mirror is NAME.git: four bytes more than the name. */
	if (len + 4 > STORE_NAME_MAX || !store_source_name_ok(name, len))
		return -EINVAL;
	if ((g.iobuf = malloc(IO_LEN)) == NULL ||
	    (loc = location_resolve(location)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (loc[0] == '-') {
		/* git would take it for an option */
		r = gerr(&g, -EINVAL, "a location may not start with '-'");
		goto out;
	}
	if ((r = creds_take(&g, loc, flags)) < 0 ||
	    (r = env_build(&g)) < 0 ||
	    (r = cache_update(&g, g.url, &lockfd)) < 0)
		goto out;

	{
		const char *argv[] = { "git", g.gitdir_arg, "rev-parse",
			"--show-object-format", NULL };

		if ((r = git_run(&g, argv, NULL, 0, &fmt, &len, 64)) < 0)
			goto out;
		if (strcmp(fmt, "sha1\n") == 0) {
			g.rawlen = 20;
		} else if (strcmp(fmt, "sha256\n") == 0) {
			g.rawlen = 32;
		} else {
			r = gerr(&g, -EIO, "unknown object format");
			goto out;
		}
		g.hexlen = 2 * g.rawlen;
	}
	if ((headpath = str_cat(g.dir, "/HEAD", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* HEAD: "ref: refs/...\n" or "<id>\n" */
	if ((r = io_read_file(headpath, 1024, &head, &len)) < 0)
		goto out;
	if (len == 0 || head[len - 1] != '\n' ||
	    memchr(head, '\0', len) != NULL) {
		r = gerr(&g, -EBADMSG, "malformed HEAD in the mirror cache");
		goto out;
	}
	head[len - 1] = '\0';
	if (!(strncmp(head, "ref: refs/", 10) == 0 &&
	    strchr(head, '\n') == NULL) &&
	    !(len - 1 == g.hexlen && hex_is_lower(head, g.hexlen))) {
		r = gerr(&g, -EBADMSG, "malformed HEAD in the mirror cache");
		goto out;
	}
	if ((r = refs_list(&g, &refs, &n_refs)) < 0 ||
	    (r = cf_open(&g)) < 0)
		goto out;

	out[0].kind = STORE_REPOS;
	snprintf(out[0].name, sizeof(out[0].name), "%s", name);
	/* For humans, and never with credentials (url.h). */
	url_redact(location, out[0].origin, sizeof(out[0].origin));
	out[1].kind = STORE_REPOS;
	snprintf(out[1].name, sizeof(out[1].name), "%s.git", name);
	memcpy(out[1].origin, out[0].origin, sizeof(out[1].origin));

	/* The browsable trees first: they set the mirror's mtimes. */
	if ((r = browse_build(&g, refs, n_refs, head, &out[0])) < 0 ||
	    (r = mirror_build(&g, refs, n_refs, head, &out[1])) < 0)
		goto out;
	if (g.is_partial)
		out[0].flags |= STORE_SOURCE_PARTIAL;
	r = 0;
out:
	cf_close(&g);
	free(g.cf.buf);
	if (g.is_cache_suspect && g.dir) {
		/*
		 * Every object was verified when fetched, so git failing to
		 * read one means the local copy is damaged: drop it, and the
		 * next ingest clones afresh.
		 */
		rm_tree(g.dir);
		fprintf(stderr, "amber ingest: repos/%s: git could not read "
		    "the local mirror cache %s; removed it, the next ingest "
		    "fetches everything again\n", name, g.dir);
	}
	if (lockfd >= 0)
		close(lockfd);
	for (size_t i = 0; i < n_refs; i++)
		free(refs[i].name);
	free(refs);
	map_fini(&g.trees);
	map_fini(&g.blobs);
	free(g.iobuf);
	creds_free(&g);
	free(g.dir);
	free(g.gitdir_arg);
	free(loc);
	free(head);
	free(headpath);
	free(fmt);
	return r;
}

int
src_git_read(struct src_ctx *c, const char *name, const char *location,
    struct store_source out[2])
{
	return git_read(c, name, location, 0, 0, out);
}

int
src_git_read_fetched(struct src_ctx *c, const char *name,
    const char *location, unsigned flags, struct store_source out[2])
{
	return git_read(c, name, location, 1, flags, out);
}

/*
 * src_git_fetch(c, name, location, flags):
 * Only the first step of src_git_read(): clone or fetch ${location} into
 * the mirror cache of ${name}.  It neither reads nor writes the store, so
 * several may run at once in threads (each holds the flock of its own
 * cache).  Returns as src_git_read().
 */
int
src_git_fetch(struct src_ctx *c, const char *name, const char *location,
    unsigned flags)
{
	struct gsrc g;
	char *loc = NULL;
	size_t len = strlen(name);
	int lockfd = -1;
	int r;

	memset(&g, 0, sizeof(g));
	g.c = c;
	g.name = name;
	g.cf.fd = -1;
	g.cf.pid = -1;
	/* The mirror is NAME.git: four bytes more than the name. */
	if (len + 4 > STORE_NAME_MAX || !store_source_name_ok(name, len))
		return -EINVAL;
	if ((loc = location_resolve(location)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (loc[0] == '-') {
		r = gerr(&g, -EINVAL, "a location may not start with '-'");
		goto out;
	}
	if ((r = creds_take(&g, loc, flags)) < 0 || (r = env_build(&g)) < 0)
		goto out;
	r = cache_update(&g, g.url, &lockfd);
out:
	if (lockfd >= 0)
		close(lockfd);
	creds_free(&g);
	free(g.dir);
	free(g.gitdir_arg);
	free(loc);
	return r;
}

int
src_git_has_heads(const char *name, const char *location, unsigned flags)
{
	struct gsrc g;
	posix_spawn_file_actions_t fa;
	const char *argv[] = { "git", "ls-remote", "--heads", "--", NULL,
		NULL };
	pid_t pid;
	int pfd[2] = { -1, -1 };
	int has_refs = 0;
	int st;
	int r;

	memset(&g, 0, sizeof(g));
	g.name = name;
	g.cf.fd = -1;
	g.cf.pid = -1;
	if (location[0] == '-')
		return 0;
	if ((r = creds_take(&g, location, flags)) < 0 ||
	    (r = env_build(&g)) < 0)
		goto out;
	argv[4] = g.url;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		r = -r;
		goto out;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	st = posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv,
	    g.envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	pfd[1] = -1;
	if (st != 0) {
		r = -st;
		goto out;
	}
	for (;;) {
		char buf[256];
		ssize_t n = read(pfd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		has_refs = 1;
	}
	r = reap(pid) == 0 && has_refs;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	creds_free(&g);
	return r;
}
