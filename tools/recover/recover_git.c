/*
 * recover_git.c: read a stored mirror, copy it out, and push it to a
 * forge with git.  The stored mirror comes from a snapshot that may have
 * been written by a rogue ingest key, so only the files a mirror needs
 * are copied out (packs, packed-refs, HEAD, shallow), each name checked;
 * the config is ours and hooks are off, so nothing of the snapshot runs.
 * git checks every object it reads from the packs (index-pack on the
 * forge's side, pack-objects on ours).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "recover_git.h"
#include "url.h"

extern char **environ;

#define META_MAX (256u << 20)	/* packed-refs or shallow */
#define HEAD_MAX 4096
#define OUT_MAX (512u << 20)	/* ls-remote or push output */
#define ERR_MAX (64u << 10)	/* git's stderr we keep */
#define PUSH_BATCH 500		/* refspecs per git push */
#define IO_BUF (1u << 20)

void
recover_refs_fini(struct recover_refs *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	free(r->head);
	memset(r, 0, sizeof(*r));
}

static int
ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct recover_ref *)a)->name,
	    ((const struct recover_ref *)b)->name);
}

const struct recover_ref *
recover_refs_find(const struct recover_refs *r, const char *name)
{
	struct recover_ref k;

	if (r->n == 0)
		return NULL;
	k.name = (char *)name;
	return bsearch(&k, r->v, r->n, sizeof(r->v[0]), ref_cmp);
}

int
recover_ref_name_ok(const char *name)
{
	const char *c;
	size_t n = strlen(name);

	if (strncmp(name, "refs/", 5) != 0 || n > 1024 || n < 6)
		return 0;
	if (strstr(name, "..") != NULL || strstr(name, "@{") != NULL ||
	    strstr(name, "//") != NULL || strstr(name, "/.") != NULL ||
	    name[n - 1] == '/' || name[n - 1] == '.')
		return 0;
	if (n >= 5 && strcmp(name + n - 5, ".lock") == 0)
		return 0;
	if (strstr(name, ".lock/") != NULL)
		return 0;
	for (c = name; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f ||
		    strchr("~^:?*[\\", *c) != NULL)
			return 0;
	return 1;
}

static int
oid_ok(const char *s, size_t n)
{
	size_t i;

	if (n != 40 && n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
refs_add(struct recover_refs *r, size_t *cap, const char *oid, size_t olen,
    const char *name, size_t nlen)
{
	struct recover_ref *v;

	if (r->n >= RECOVER_REFS_MAX)
		return -EFBIG;
	if (r->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((v = realloc(r->v, *cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		r->v = v;
	}
	if ((r->v[r->n].name = strndup(name, nlen)) == NULL)
		return -ENOMEM;
	memcpy(r->v[r->n].oid, oid, olen);
	r->v[r->n].oid[olen] = '\0';
	r->n++;
	return 0;
}

/* Sort, and refuse a name given twice. */
static int
refs_sort(struct recover_refs *r)
{
	size_t i;

	if (r->n == 0)
		return 0;	/* r->v may be NULL: qsort() must not see it */
	qsort(r->v, r->n, sizeof(r->v[0]), ref_cmp);
	for (i = 1; i < r->n; i++)
		if (strcmp(r->v[i - 1].name, r->v[i].name) == 0)
			return -EBADMSG;
	return 0;
}

int
recover_refs_parse(const char *buf, size_t len, char sep,
    struct recover_refs *out)
{
	const char *p = buf;
	const char *end = buf + len;
	size_t cap = 0;
	int r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end;
		const char *s = memchr(p, sep, (size_t)(e - p));
		char name[1100];
		size_t nlen;

		if (e == p || *p == '#' || *p == '^')
			goto next;
		if (s == NULL || !oid_ok(p, (size_t)(s - p)))
			return -EBADMSG;
		nlen = (size_t)(e - s - 1);
		if (nlen >= sizeof(name))
			return -EBADMSG;
		memcpy(name, s + 1, nlen);
		name[nlen] = '\0';
		if (sep == '\t' && (strcmp(name, "HEAD") == 0 ||
		    (nlen > 3 && strcmp(name + nlen - 3, "^{}") == 0)))
			goto next;
		if (!recover_ref_name_ok(name))
			return -EBADMSG;
		if ((r = refs_add(out, &cap, p, (size_t)(s - p), name,
		    nlen)) < 0)
			return r;
next:
		p = e + 1;
	}
	return refs_sort(out);
}

int
recover_git_stored_refs(struct store *s, const struct store_entry *mirror,
    struct recover_refs *out)
{
	char *buf = NULL;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	r = store_read_file(s, mirror, "packed-refs", META_MAX, &buf, &len);
	if (r == 0)
		r = recover_refs_parse(buf, len, ' ', out);
	else if (r == -ENOENT)
		r = 0;		/* an empty repository */
	free(buf);
	buf = NULL;
	if (r < 0)
		goto out;
	if (store_read_file(s, mirror, "HEAD", HEAD_MAX, &buf, &len) == 0 &&
	    strncmp(buf, "ref: ", 5) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (recover_ref_name_ok(buf + 5) &&
		    (out->head = strdup(buf + 5)) == NULL)
			r = -ENOMEM;
	}
out:
	free(buf);
	if (r < 0)
		recover_refs_fini(out);
	return r;
}

/* Copy the stored file ${e} to ${path} (a new file). */
static int
copy_out(struct store *s, const struct store_entry *e, const char *path)
{
	uint8_t *buf = NULL;
	uint64_t off = 0;
	size_t got;
	int fd = -1;
	int r = 0;

	if ((buf = malloc(IO_BUF)) == NULL)
		return -ENOMEM;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0444)) < 0) {
		r = -errno;
		goto out;
	}
	while (off < e->size) {
		if ((r = store_read(s, e, off, buf, IO_BUF, &got)) < 0)
			goto out;
		if (got == 0)
			break;
		for (size_t w = 0; w < got;) {
			ssize_t n = write(fd, buf + w, got - w);

			if (n < 0) {
				r = -errno;
				goto out;
			}
			w += (size_t)n;
		}
		off += got;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto out;
	}
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

int
recover_is_pack_name(const uint8_t *n, size_t len)
{
	size_t i;

	if (len < 10 || memcmp(n, "pack-", 5) != 0)
		return 0;
	if (!(len > 10 && memcmp(n + len - 5, ".pack", 5) == 0) &&
	    !(len > 9 && memcmp(n + len - 4, ".idx", 4) == 0))
		return 0;
	for (i = 5; i < len && n[i] != '.'; i++)
		if (!((n[i] >= '0' && n[i] <= '9') ||
		    (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	/* the hash, then ".pack" or ".idx" and nothing more */
	return i >= 45 && (len - i == 5 || len - i == 4) &&
	    memchr(n + i + 1, '.', len - i - 1) == NULL;
}

static int
find_dir(struct store *s, const struct store_entry *dir, const char *path,
    struct store_tree **t, const struct store_entry **e)
{
	size_t idx;
	int r;

	*t = NULL;
	if ((r = store_resolve(s, dir, path, t, &idx)) < 0)
		return r;
	*e = store_tree_entry(*t, idx);
	return (*e)->type == STORE_DIR ? 0 : -ENOTDIR;
}

int
recover_git_extract(struct store *s, const struct store_entry *mirror,
    const char *dir)
{
	static const char *const files[] = { "packed-refs", "shallow" };
	static const char *const dirs[] = { "", "/objects", "/objects/pack",
	    "/objects/info", "/refs", "/refs/heads", "/refs/tags" };
	struct store_tree *top = NULL;
	struct store_tree *pt = NULL;
	struct store_tree *packs = NULL;
	const struct store_entry *pe;
	char *cfg = NULL;
	char *head = NULL;
	char path[4096];
	size_t len;
	size_t i;
	size_t idx;
	FILE *f = NULL;
	int is_sha256 = 0;
	int r;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, dirs[i]);
		if (mkdir(path, 0700) < 0)
			return -errno;
	}
	if ((r = store_tree_read(s, &mirror->tree, &top)) < 0)
		goto out;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (store_tree_find(top, (const uint8_t *)files[i],
		    strlen(files[i]), &idx) < 0)
			continue;
		pe = store_tree_entry(top, idx);
		if (pe->type != STORE_REG) {
			r = -EBADMSG;
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if ((r = copy_out(s, pe, path)) < 0)
			goto out;
	}
	/* HEAD: a branch name we checked, or main. */
	if (store_read_file(s, mirror, "HEAD", HEAD_MAX, &head, &len) < 0 ||
	    strncmp(head, "ref: ", 5) != 0 ||
	    (head[strcspn(head, "\n")] = '\0', !recover_ref_name_ok(head + 5))) {
		free(head);
		head = NULL;
	}
	if (store_read_file(s, mirror, "config", HEAD_MAX, &cfg, &len) == 0 &&
	    strstr(cfg, "sha256") != NULL)
		is_sha256 = 1;
	snprintf(path, sizeof(path), "%s/HEAD", dir);
	if ((f = fopen(path, "wx")) == NULL) {
		r = -errno;
		goto out;
	}
	fprintf(f, "ref: %s\n", head != NULL ? head + 5 : "refs/heads/main");
	if (fclose(f) != 0) {
		f = NULL;
		r = -EIO;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/config", dir);
	if ((f = fopen(path, "wx")) == NULL) {
		r = -errno;
		goto out;
	}
	fprintf(f, "[core]\n\trepositoryformatversion = %d\n\tbare = true\n"
	    "\thooksPath = /dev/null\n\tfsmonitor = false\n%s",
	    is_sha256, is_sha256 ? "[extensions]\n\tobjectformat = sha256\n" :
	    "");
	if (fclose(f) != 0) {
		f = NULL;
		r = -EIO;
		goto out;
	}
	f = NULL;
	r = find_dir(s, mirror, "objects/pack", &pt, &pe);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0 || (r = store_tree_read(s, &pe->tree, &packs)) < 0)
		goto out;
	for (i = 0; i < store_tree_len(packs); i++) {
		pe = store_tree_entry(packs, i);
		if (pe->type != STORE_REG ||
		    !recover_is_pack_name(pe->name, pe->name_len))
			continue;
		snprintf(path, sizeof(path), "%s/objects/pack/%.*s", dir,
		    (int)pe->name_len, (const char *)pe->name);
		if ((r = copy_out(s, pe, path)) < 0)
			goto out;
	}
out:
	if (f != NULL)
		fclose(f);
	free(cfg);
	free(head);
	store_tree_free(packs);
	store_tree_free(pt);
	store_tree_free(top);
	return r;
}

static int __attribute__((format(printf, 2, 3)))
own_add(struct recover_remote *rm, const char *fmt, ...)
{
	va_list ap;
	char **v;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if ((v = realloc(rm->own, (rm->n_own + 1) * sizeof(*v))) == NULL) {
		free(s);
		return -ENOMEM;
	}
	rm->own = v;
	rm->own[rm->n_own++] = s;
	return 0;
}

int
recover_remote_init(struct recover_remote *rm, const char *url,
    const char *user, const char *token)
{
	static const char *const drop[] = {
		"GIT_DIR=", "GIT_WORK_TREE=", "GIT_INDEX_FILE=",
		"GIT_OBJECT_DIRECTORY=", "GIT_ALTERNATE_OBJECT_DIRECTORIES=",
		"GIT_COMMON_DIR=", "GIT_NAMESPACE=", "GIT_CONFIG=",
		"GIT_CONFIG_PARAMETERS=", "GIT_CONFIG_COUNT=",
		"GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_TERMINAL_PROMPT=",
		"GIT_ALLOW_PROTOCOL=", "GIT_ASKPASS=", "SSH_ASKPASS=",
	};
	struct url_parts u;
	char hdr[2048];
	char cred[1024];
	char scheme[8];
	size_t n = 0;
	size_t k = 0;
	int r;

	memset(rm, 0, sizeof(*rm));
	if (url_parse(url, &u) < 0 || u.userinfo != NULL ||
	    !((u.scheme_len == 5 && strncasecmp(u.scheme, "https", 5) == 0) ||
	    (u.scheme_len == 4 && strncasecmp(u.scheme, "http", 4) == 0)))
		return -EINVAL;
	memcpy(scheme, u.scheme, u.scheme_len);
	scheme[u.scheme_len] = '\0';
	if ((rm->url = strdup(url)) == NULL)
		return -ENOMEM;
	if (token != NULL && token[0] != '\0') {
		r = snprintf(cred, sizeof(cred), "%s:%s", user, token);
		if (r < 0 || (size_t)r >= sizeof(cred) ||
		    strpbrk(cred, "@/%") != NULL) {
			explicit_bzero(cred, sizeof(cred));
			r = -EINVAL;
			goto out;
		}
		r = url_basic_auth(cred, strlen(cred), hdr, sizeof(hdr));
		explicit_bzero(cred, sizeof(cred));
		if (r == 0)
			r = own_add(rm, "GIT_CONFIG_KEY_0=http.%s%s.extraHeader",
			    url, "");
		if (r == 0)
			r = own_add(rm, "GIT_CONFIG_VALUE_0=%s%s", hdr, "");
		explicit_bzero(hdr, sizeof(hdr));
		if (r < 0)
			goto out;
	} else if ((r = own_add(rm, "GIT_CONFIG_KEY_0=%s%s",
	    "http.followRedirects", "")) < 0 ||
	    (r = own_add(rm, "GIT_CONFIG_VALUE_0=%s%s", "false", "")) < 0)
		goto out;
	if ((r = own_add(rm, "GIT_CONFIG_KEY_1=%s%s", "http.followRedirects",
	    "")) < 0 ||
	    (r = own_add(rm, "GIT_CONFIG_VALUE_1=%s%s", "false", "")) < 0 ||
	    (r = own_add(rm, "GIT_CONFIG_COUNT=%s%s", "2", "")) < 0 ||
	    (r = own_add(rm, "GIT_ALLOW_PROTOCOL=%s%s", scheme, "")) < 0 ||
	    (r = own_add(rm, "GIT_TERMINAL_PROMPT=%s%s", "0", "")) < 0)
		goto out;
	for (char **e = environ; *e; e++)
		n++;
	if ((rm->envp = calloc(n + rm->n_own + 1, sizeof(char *))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (char **e = environ; *e; e++) {
		int is_dropped = 0;

		for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
			if (strncmp(*e, drop[i], strlen(drop[i])) == 0)
				is_dropped = 1;
		if (!is_dropped)
			rm->envp[k++] = *e;
	}
	for (size_t i = 0; i < rm->n_own; i++)
		rm->envp[k++] = rm->own[i];
	rm->envp[k] = NULL;
	r = 0;
out:
	if (r < 0)
		recover_remote_fini(rm);
	return r;
}

void
recover_remote_fini(struct recover_remote *rm)
{
	size_t i;

	if (rm == NULL)
		return;
	for (i = 0; i < rm->n_own; i++) {
		explicit_bzero(rm->own[i], strlen(rm->own[i]));
		free(rm->own[i]);
	}
	free(rm->own);
	free(rm->envp);
	free(rm->url);
	memset(rm, 0, sizeof(*rm));
}

/* What run_git() reads of its child. */
struct git_io {
	char *buf;		/* stdout, if wanted */
	size_t len;
	size_t cap;
	size_t max;
	char *ebuf;		/* the tail of stderr: the last words count */
	size_t elen;
};

/* Keep the last ERR_MAX bytes of stderr. */
static void
io_err_add(struct git_io *io, const char *b, size_t n)
{
	if (n >= ERR_MAX) {
		memcpy(io->ebuf, b + n - ERR_MAX, ERR_MAX);
		io->elen = ERR_MAX;
		return;
	}
	if (io->elen + n > ERR_MAX) {
		size_t d = io->elen + n - ERR_MAX;

		memmove(io->ebuf, io->ebuf + d, io->elen - d);
		io->elen -= d;
	}
	memcpy(io->ebuf + io->elen, b, n);
	io->elen += n;
}

/* Add to stdout's bytes; -EFBIG past io->max, or -ENOMEM. */
static int
io_out_add(struct git_io *io, const char *b, size_t n)
{
	if (io->len + n > io->max)
		return -EFBIG;
	if (io->len + n + 1 > io->cap) {
		size_t cap = (io->len + n + 1) * 2;
		char *nb;

		if ((nb = realloc(io->buf, cap)) == NULL)
			return -ENOMEM;
		io->buf = nb;
		io->cap = cap;
	}
	memcpy(io->buf + io->len, b, n);
	io->len += n;
	return 0;
}

/*
 * Read the child's stdout (${fo}) and stderr (${fe}) to their end,
 * closing each, into ${io}; stdout is dropped unless ${has_out}.
 */
static int
io_pump(struct git_io *io, int *fo, int *fe, int has_out)
{
	struct pollfd pf[2];
	char tmp[65536];
	ssize_t n;
	int r;

	pf[0].fd = *fo;
	pf[1].fd = *fe;
	*fo = *fe = -1;
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		pf[0].events = pf[1].events = POLLIN;
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			n = read(pf[i].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
			} else if (i == 1) {
				io_err_add(io, tmp, (size_t)n);
			} else if (has_out &&
			    (r = io_out_add(io, tmp, (size_t)n)) < 0) {
				goto out;
			}
		}
	}
	r = 0;
out:
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	return r;
}

/* Start git ${argv}, stdin /dev/null, stdout to ${fo}, stderr to ${fe}. */
static int
git_spawn(char *const *envp, const char *const *argv, int fo, int fe,
    pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int r;

	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return -r;
	if ((r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDONLY, 0)) == 0 &&
	    (r = posix_spawn_file_actions_adddup2(&fa, fo, 1)) == 0 &&
	    (r = posix_spawn_file_actions_adddup2(&fa, fe, 2)) == 0)
		r = posix_spawnp(pid, "git", &fa, NULL, (char *const *)argv,
		    envp != NULL ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

/* The last line of ${ebuf}, control characters made '?', into ${why}. */
static void
last_line(char *ebuf, size_t elen, char *why, size_t cap)
{
	char *l;

	while (elen > 0 && (ebuf[elen - 1] == '\n' ||
	    ebuf[elen - 1] == '\r'))
		elen--;
	ebuf[elen] = '\0';
	l = strrchr(ebuf, '\n');
	snprintf(why, cap, "%s", l != NULL ? l + 1 : ebuf);
	for (char *c = why; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

/*
 * Run git ${argv} in the environment ${envp} (NULL: ours), collecting
 * at most ${max} bytes of stdout into *${out} (may be NULL) and the last
 * line of stderr into ${why}.  Returns git's exit status (0..255), or
 * -errno if it could not be run, -EFBIG for too much output.
 */
static int
run_git(char *const *envp, const char *const *argv, char **out,
    size_t *outlen, size_t max, char *why, size_t cap)
{
	struct git_io io = { .max = max };
	int po[2] = { -1, -1 };
	int pe[2] = { -1, -1 };
	pid_t pid = -1;
	int st;
	int r;

	if (why != NULL && cap > 0)
		why[0] = '\0';
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	if ((io.ebuf = malloc(ERR_MAX + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = git_spawn(envp, argv, po[1], pe[1], &pid);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (r < 0) {
		pid = -1;
		goto out;
	}
	if ((r = io_pump(&io, &po[0], &pe[0], out != NULL)) < 0)
		kill(pid, SIGKILL);
out:
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (r == 0)
			r = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
	}
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (why != NULL && cap > 0 && io.ebuf != NULL && io.elen > 0)
		last_line(io.ebuf, io.elen, why, cap);
	free(io.ebuf);
	if (r >= 0 && out != NULL) {
		if (io.buf == NULL && (io.buf = malloc(1)) == NULL)
			return -ENOMEM;
		io.buf[io.len] = '\0';
		*out = io.buf;
		*outlen = io.len;
		io.buf = NULL;
	}
	free(io.buf);
	return r;
}

int
recover_git_ls_remote(const struct recover_remote *rm,
    struct recover_refs *out, char *why, size_t cap)
{
	const char *argv[] = { "git", "ls-remote", "--", rm->url, NULL };
	char *buf = NULL;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = run_git(rm->envp, argv, &buf, &len, OUT_MAX, why, cap);
	if (r > 0) {
		r = -EIO;
		goto out;
	}
	if (r < 0) {
		snprintf(why, cap, "git ls-remote: %s", strerror(-r));
		goto out;
	}
	if ((r = recover_refs_parse(buf, len, '\t', out)) < 0)
		snprintf(why, cap, "git ls-remote: not a list of refs");
out:
	free(buf);
	return r;
}

int
recover_git_is_ancestor(const char *dir, const char *old_oid,
    const char *new_oid)
{
	const char *argv[] = { "git", "-C", dir, "merge-base",
	    "--is-ancestor", old_oid, new_oid, NULL };

	return run_git(NULL, argv, NULL, NULL, 0, NULL, 0) == 0;
}

/* Parse `git push --porcelain` lines into ${res} (matched by ref). */
static void
push_parse(char *buf, const struct recover_ref *const *refs, size_t n,
    struct recover_push_res *res)
{
	char *save = NULL;
	char *line;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t');
		char *t2;
		char *colon;
		char flag = line[0];

		if (t1 == NULL || t1 != line + 1)
			continue;
		if ((t2 = strchr(t1 + 1, '\t')) == NULL)
			continue;
		*t2 = '\0';
		if ((colon = strchr(t1 + 1, ':')) == NULL)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(refs[i]->name, colon + 1) != 0 ||
			    res[i].ref != NULL)
				continue;
			res[i].ref = strdup(refs[i]->name);
			res[i].is_ok = flag != '!';
			if (flag == '!' && asprintf(&res[i].why,
			    "the forge refused it: %s", t2 + 1) < 0)
				res[i].why = NULL;
			break;
		}
	}
}

int
recover_git_push(const struct recover_remote *rm, const char *dir,
    const struct recover_ref *const *refs, const int *force, size_t n,
    struct recover_push_res *res, char *why, size_t cap)
{
	const char **argv = NULL;
	char **specs = NULL;
	char *buf = NULL;
	size_t len;
	size_t done = 0;
	size_t k;
	int r = 0;

	if ((argv = calloc(PUSH_BATCH + 16, sizeof(*argv))) == NULL ||
	    (specs = calloc(PUSH_BATCH, sizeof(*specs))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while (done < n) {
		size_t m = n - done < PUSH_BATCH ? n - done : PUSH_BATCH;
		int st;

		k = 0;
		argv[k++] = "git";
		argv[k++] = "-c";
		argv[k++] = "core.hooksPath=/dev/null";
		argv[k++] = "-C";
		argv[k++] = dir;
		argv[k++] = "push";
		argv[k++] = "--porcelain";
		argv[k++] = "--no-verify";
		argv[k++] = "--";
		argv[k++] = rm->url;
		for (size_t i = 0; i < m; i++) {
			const struct recover_ref *f = refs[done + i];

			if (asprintf(&specs[i], "%s%s:%s", force[done + i] ?
			    "+" : "", f->oid, f->name) < 0) {
				specs[i] = NULL;
				r = -ENOMEM;
				goto out;
			}
			argv[k++] = specs[i];
		}
		argv[k] = NULL;
		st = run_git(rm->envp, argv, &buf, &len, OUT_MAX, why, cap);
		for (size_t i = 0; i < m; i++) {
			free(specs[i]);
			specs[i] = NULL;
		}
		if (st < 0) {
			r = st;
			goto out;
		}
		push_parse(buf, refs + done, m, res + done);
		free(buf);
		buf = NULL;
		for (size_t i = 0; i < m; i++) {
			if (res[done + i].ref != NULL)
				continue;
			/* git said nothing of it: it failed as a whole */
			res[done + i].ref = strdup(refs[done + i]->name);
			res[done + i].is_ok = 0;
			res[done + i].why = strdup(why[0] != '\0' ? why :
			    "git push failed");
		}
		done += m;
	}
out:
	free(buf);
	free(specs);
	free(argv);
	return r;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? 0 : 0;
	return unlink(path) < 0 ? 0 : 0;
}

void
recover_rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
