/*
 * git_run.c: running git, and the cat-file reader,
 * for the git reader (src_git.c; its types in gitint.h).
 */
#include "gitint.h"
#include "src_git.h"

/* ---- running git ------------------------------------------------------- */

/*
 * The environment for git: ours less the variables that would point git
 * at another repository or rewrite history as read (replace refs,
 * grafts), and with prompts turned off so that a missing credential is an
 * error rather than a hang.
 */
int
git_env_build(struct gsrc *g)
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
		/* Ours (git_creds_take()) replace the user's of the same name. */
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

/* Add the variable ${fmt}... to g->genv (git_creds_free() frees it). */
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
 * git_creds_take(g, location, flags):
 * Set g->url to ${location} without its userinfo, and g->genv to what
 * git's environment needs besides git_env_build()'s:
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
int
git_creds_take(struct gsrc *g, const char *location, unsigned flags)
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

/* Free what git_creds_take() and git_env_build() made, wiping the secret. */
void
git_creds_free(struct gsrc *g)
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
int
git_reap(pid_t pid)
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
int
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
	st = git_reap(pid);
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
		git_reap(pid);
	}
	free(buf);
	return r;
}

/* ---- cat-file ---------------------------------------------------------- */

void
cf_close(struct gsrc *g)
{
	if (g->cf.fd >= 0) {
		shutdown(g->cf.fd, SHUT_WR);
		close(g->cf.fd);
	}
	if (g->cf.pid > 0) {
		kill(g->cf.pid, SIGTERM);
		git_reap(g->cf.pid);
	}
	g->cf.fd = -1;
	g->cf.pid = -1;
	g->cf.off = 0;
	g->cf.len = 0;
	g->cf.n_pend = 0;
	g->cf.pend_head = 0;
}

int
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
int
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
int
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

int
cf_end(struct gsrc *g)
{
	uint8_t nl;
	int r;

	if ((r = cf_read(g, &nl, 1)) < 0)
		return r;
	return nl == '\n' ? 0 : -EPIPE;
}

/* Whether "contents ${hex}" was asked and not read yet. */
int
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
int
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
int
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
int
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
