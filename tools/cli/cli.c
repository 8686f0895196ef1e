/*
 * cli.c: helpers every `amber` subcommand shares (see cli.h): common
 * options, passphrases (file, environment, or a terminal with echo off,
 * never a hang without one), opening and unlocking with one clear error
 * line, the exit-status table, SNAPSHOT:PATH parsing and the printing of
 * stored names, which are raw bytes and may hold anything but '/' and NUL.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "forge_http.h"
#include "hex.h"
#include "io.h"
#include "name.h"
#include "pass.h"
#include "store.h"

/* A key file longer than this is a mistake (a wrong file, say). */
#define KEYFILE_MAX (64u << 10)

int
cli_common_opt(struct cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_PASSPHRASE_FILE:
		c->passphrase_file = arg;
		return 1;
	case CLI_OPT_KEY_FILE:
		c->key_file = arg;
		return 1;
	case CLI_OPT_INDEX_DIR:
		c->index_dir = arg;
		return 1;
	case CLI_OPT_S3_ENDPOINT:
		c->s3.endpoint = arg;
		return 1;
	case CLI_OPT_JSON:
		c->is_json = 1;
		return 1;
	case CLI_OPT_S3_CREDENTIALS:
		c->s3.credentials = arg;
		return 1;
	case CLI_OPT_S3_VIRTUAL_HOST:
		c->s3.is_virtual_host = 1;
		return 1;
	case CLI_OPT_S3_INSECURE_HTTP:
		c->s3.is_insecure_http = 1;
		return 1;
	case CLI_OPT_KEY_ID:
		c->key_id = arg;
		return 1;
	case CLI_OPT_VERBOSE:
		c->is_verbose = 1;
		return 1;
	case 'q':
		c->is_quiet = 1;
		return 1;
	case 'h':
		c->is_help = 1;
		return 1;
	default:
		return 0;
	}
}

void
cli_getopt_reset(void)
{
	/* GNU getopt: optind 0 also resets its internal state. */
	optind = 0;
	opterr = 1;
}

int
cli_usage(const char *cmd, const char *usage, int is_error)
{
	const char *end;

	if (!is_error) {
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	}
	/* The synopsis only: the text up to its first blank line. */
	if ((end = strstr(usage, "\n\n")) == NULL)
		end = usage + strlen(usage);
	fprintf(stderr, "%.*s\nTry '%s --help' for more.\n",
	    (int)(end - usage), usage, cmd);
	return CLI_EXIT_USAGE;
}

int
cli_getopt(int argc, char **argv, const struct option *longopts,
    struct cli_common *c)
{
	int opt;

	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
	    NULL)) != -1)
		if (!cli_common_opt(c, opt, optarg))
			return opt;
	return -1;
}

int
cli_args(const char *cmd, const struct cli_common *c, const char *usage,
    int argc, int n_args)
{
	if (c->is_help)
		return cli_usage(cmd, usage, 0);
	if (argc - optind != n_args)
		return cli_usage(cmd, usage, 1);
	return -1;
}

int
cli_parse(int argc, char **argv, const struct option *longopts,
    const char *usage, int n_args, struct cli_common *c)
{
	memset(c, 0, sizeof(*c));
	if (cli_getopt(argc, argv, longopts, c) != -1)
		return cli_usage(argv[0], usage, 1);
	return cli_args(argv[0], c, usage, argc, n_args);
}

int
cli_flush(const char *cmd, int r)
{
	if (fflush(stdout) != 0 && r == CLI_EXIT_OK) {
		cli_err(cmd, "write error on stdout");
		return CLI_EXIT_ERROR;
	}
	return r;
}

static void vmsg(const char *cmd, const char *prefix, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
vmsg(const char *cmd, const char *prefix, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", cmd, prefix, buf);
}

void
cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, "", fmt, ap);
	va_end(ap);
}

void
cli_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, "warning: ", fmt, ap);
	va_end(ap);
}

const char *
cli_strerror(int r)
{
	switch (r) {
	case -ENOENT:
		return "not found";
	case -EBADMSG:
		return "damaged (authentication failed or malformed)";
	case -EACCES:
		return "wrong passphrase or key";
	case -EEXIST:
		return "already exists";
	case -EIO:
		return "backend or transport failure";
	case -ENOMEM:
		return "out of memory";
	case -ENXIO:
		return "no terminal to ask for a passphrase on";
	case -FORGE_ETOKEN:
		return "the forge refused the token";
	default:
		return strerror(-r);
	}
}

int
cli_exit_status(int r)
{
	if (r == 0)
		return CLI_EXIT_OK;
	if (r == -EACCES || r == -EPERM)
		return CLI_EXIT_KEY;
	return CLI_EXIT_ERROR;
}

/* --verbose: which key object unlocked, and what finding it cost. */
static void
unlock_report(const char *cmd, const struct store *s)
{
	struct store_unlock_info u;

	store_unlock_info(s, &u);
	fprintf(stderr, "%s: unlocked with %s (%s): %lu key objects read, "
	    "%lu run through scrypt; %lu registry objects read\n", cmd, u.key,
	    u.how == STORE_UNLOCK_GIVEN ? "given by --key-id" :
	    u.how == STORE_UNLOCK_REMEMBERED ? "remembered" :
	    u.how == STORE_UNLOCK_INIT ? "named by the config" :
	    "found by trying, cheapest first", u.n_read, u.n_kdf,
	    u.n_reg_read);
}

void
cli_store_opts(const struct cli_common *c, struct store_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->index_dir = c->index_dir;
	o->s3 = c->s3;
	o->no_index_update = c->no_index_update;
	o->key_id = c->key_id;
	o->uploads = c->uploads;
}

int
cli_open(const char *cmd, const char *location, const struct cli_common *c,
    int do_unlock, struct store **out)
{
	struct store_opts o;
	struct store *s = NULL;
	char prompt[256];
	char *pass = NULL;
	size_t len = 0;
	int r;

	cli_store_opts(c, &o);
	*out = NULL;
	if ((r = store_open(location, &o, &s)) < 0) {
		if (r == -ENOENT)
			cli_err(cmd, "%s: no amber store here", location);
		else if (r == -EBADMSG)
			cli_err(cmd, "%s: not a readable amber store (damaged "
			    "config or unknown format version)", location);
		else if (r == -EACCES || r == -EPERM)
			cli_err(cmd, "%s: access denied (credentials?)",
			    location);
		else
			cli_err(cmd, "%s: %s", location, cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (!do_unlock)
		goto done;
	if (c->key_file != NULL) {
		if ((r = io_read_file(c->key_file, KEYFILE_MAX, &pass,
		    &len)) < 0) {
			cli_err(cmd, "%s: %s", c->key_file, r == -EFBIG ?
			    "too big for a key file" : strerror(-r));
			r = CLI_EXIT_ERROR;
			goto out;
		}
		if ((r = store_unlock_keyfile(s, pass, len)) < 0) {
			if (r == -EACCES)
				cli_err(cmd, "%s: a key file for another store",
				    c->key_file);
			else if (r == -EBADMSG)
				cli_err(cmd, "%s: not an amber key file",
				    c->key_file);
			else
				cli_err(cmd, "%s: cannot unlock: %s", location,
				    cli_strerror(r));
			r = cli_exit_status(r);
			goto out;
		}
		goto done;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", location);
	if ((r = pass_get(c->passphrase_file, "AMBER_PASSPHRASE", prompt,
	    &pass, &len, NULL)) < 0) {
		if (r == -ENXIO)
			cli_err(cmd, "no passphrase given and no terminal to "
			    "ask on (use --passphrase-file, "
			    "AMBER_PASSPHRASE_FILE or AMBER_PASSPHRASE)");
		else if (r == -EINVAL)
			cli_err(cmd, "empty passphrase");
		else
			cli_err(cmd, "cannot read the passphrase: %s",
			    strerror(-r));
		r = CLI_EXIT_ERROR;
		goto out;
	}
	if ((r = store_unlock(s, pass, len)) < 0) {
		if (r == -EACCES)
			cli_err(cmd, "wrong passphrase");
		else
			cli_err(cmd, "%s: cannot unlock: %s", location,
			    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (c->is_verbose)
		unlock_report(cmd, s);
done:
	*out = s;
	s = NULL;
	r = 0;
out:
	pass_free(pass, len);
	store_close(s);
	return r;
}

static int
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Length of a snapshot name at the start of ${s}, or 0 if there is none. */
static size_t
snap_name_len(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd' ? !is_digit(s[i]) : s[i] != pat[i])
			return 0;
	}
	if (s[i] == '-' && is_digit(s[i + 1])) {
		i++;
		while (is_digit(s[i]))
			i++;
	}
	if (s[i] != '\0' && s[i] != ':')
		return 0;
	return i;
}

int
cli_split_spec(const char *arg, char **snap, char **path)
{
	const char *colon;
	const char *p;
	const char *q;
	char *snapbuf = NULL;
	char *pathbuf = NULL;
	size_t n;
	size_t o = 0;
	int r;

	*snap = NULL;
	*path = NULL;
	if ((n = snap_name_len(arg)) == 0) {
		colon = strchr(arg, ':');
		n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	}
	if (n == 0)
		return -EINVAL;
	if ((snapbuf = strndup(arg, n)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	p = arg[n] == ':' ? arg + n + 1 : arg + n;
	if ((pathbuf = malloc(strlen(p) + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* Copy component by component: fold slashes, drop ".", refuse "..". */
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		q = strchr(p, '/');
		n = q != NULL ? (size_t)(q - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			r = -EINVAL;
			goto out;
		}
		if (!(n == 1 && p[0] == '.')) {
			if (o > 0)
				pathbuf[o++] = '/';
			memcpy(pathbuf + o, p, n);
			o += n;
		}
		p += n;
	}
	pathbuf[o] = '\0';
	*snap = snapbuf;
	*path = pathbuf;
	snapbuf = NULL;
	pathbuf = NULL;
	r = 0;
out:
	free(snapbuf);
	free(pathbuf);
	return r;
}

void
cli_found_free(struct cli_found *f)
{
	store_tree_free(f->parent);
	store_snap_list_free(f->list);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

int
cli_find(const char *cmd, struct store *s, const char *arg,
    struct cli_found *out)
{
	const struct store_snap *sn = NULL;
	char *spec = NULL;
	char *path;
	size_t idx = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = cli_split_spec(arg, &spec, &out->path)) < 0) {
		if (r == -ENOMEM)
			cli_err(cmd, "out of memory");
		else
			cli_err(cmd, "%s: not SNAPSHOT[:PATH] (PATH may not "
			    "hold '..')", arg);
		r = r == -ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_USAGE;
		goto out;
	}
	path = out->path;
	if ((r = store_snapshots(s, &out->list)) < 0) {
		if (r == -EACCES)
			cli_err(cmd, "this key cannot read snapshots");
		else
			cli_err(cmd, "cannot list snapshots: %s",
			    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if ((r = store_snap_find(out->list, spec, &sn)) < 0) {
		if (r == -EINVAL)
			cli_err(cmd, "%s: ambiguous snapshot id prefix", spec);
		else if (r == -ENOENT && strcmp(spec, "latest") == 0)
			cli_err(cmd, "no snapshot yet (latest)");
		else if (r == -ENOENT)
			cli_err(cmd, "%s: no such snapshot", spec);
		else
			cli_err(cmd, "%s: %s", spec, cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if ((r = store_resolve(s, &sn->root, path, &out->parent,
	    &idx)) < 0) {
		if (r == -ENOENT)
			cli_err(cmd, "%s:%s: no such file or directory",
			    sn->name, path);
		else if (r == -ENOTDIR)
			cli_err(cmd, "%s:%s: not a directory", sn->name, path);
		else
			cli_err(cmd, "%s:%s: %s", sn->name, path,
			    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	out->snap = sn;
	if (out->parent != NULL) {
		if (idx >= store_tree_len(out->parent)) {
			cli_err(cmd, "%s:%s: not found", sn->name, path);
			r = CLI_EXIT_ERROR;
			goto out;
		}
		out->entry = store_tree_entry(out->parent, idx);
	} else {
		out->entry = &sn->root;
	}
	r = 0;
out:
	free(spec);
	return r;
}

int
cli_json_bytes(json_t *o, const char *key, const uint8_t *buf, size_t len)
{
	char hexkey[64];
	char *tmp = NULL;
	char *hex = NULL;
	uint32_t cp;
	size_t i = 0;
	size_t o_len = 0;
	size_t n;
	int r = -ENOMEM;

	if (name_is_utf8(buf, len))
		return json_object_set_new(o, key,
		    json_stringn((const char *)buf, len)) == 0 ? 0 : -ENOMEM;
	/* Each invalid byte becomes U+FFFD, three bytes. */
	if ((tmp = malloc(3 * len + 1)) == NULL)
		goto out;
	while (i < len) {
		n = buf[i] == 0 ? 0 : name_utf8_seq(buf + i, len - i, &cp);
		if (n == 0) {
			memcpy(tmp + o_len, "\xef\xbf\xbd", 3);
			o_len += 3;
			i++;
		} else {
			memcpy(tmp + o_len, buf + i, n);
			o_len += n;
			i += n;
		}
	}
	if ((hex = malloc(2 * len + 1)) == NULL)
		goto out;
	hex_encode(buf, len, hex);
	snprintf(hexkey, sizeof(hexkey), "%s_hex", key);
	if (json_object_set_new(o, key, json_stringn(tmp, o_len)) != 0 ||
	    json_object_set_new(o, hexkey, json_string(hex)) != 0)
		goto out;
	r = 0;
out:
	free(tmp);
	free(hex);
	return r;
}

char
cli_type_char(uint8_t type)
{
	switch (type) {
	case STORE_REG:
		return '-';
	case STORE_DIR:
		return 'd';
	case STORE_LNK:
		return 'l';
	case STORE_FIFO:
		return 'p';
	case STORE_CHR:
		return 'c';
	case STORE_BLK:
		return 'b';
	case STORE_SOCK:
		return 's';
	default:
		return '?';
	}
}

const char *
cli_type_name(uint8_t type)
{
	switch (type) {
	case STORE_REG:
		return "file";
	case STORE_DIR:
		return "dir";
	case STORE_LNK:
		return "symlink";
	case STORE_FIFO:
		return "fifo";
	case STORE_CHR:
		return "chardev";
	case STORE_BLK:
		return "blockdev";
	case STORE_SOCK:
		return "socket";
	default:
		return "unknown";
	}
}

void
cli_size_human(uint64_t n, char *buf, size_t cap)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
		"PiB", "EiB" };
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		snprintf(buf, cap, "%llu B", (unsigned long long)n);
		return;
	}
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, cap, "%.1f %s", v, units[u]);
}

int
cli_u64_parse(const char *arg, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (*arg == '\0')
		return -EINVAL;
	for (p = arg; *p != '\0'; p++) {
		if (!is_digit(*p))
			return -EINVAL;
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int
cli_kdf_parse(const char *arg, struct store_kdf *kdf)
{
	struct store_kdf k = *kdf;
	char *copy = NULL;
	char *save = NULL;
	char *tok;
	char *eq;
	uint64_t v;
	int r = -EINVAL;

	if ((copy = strdup(arg)) == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			goto out;
		*eq++ = '\0';
		if (strcmp(tok, "log2n") == 0) {
			if (cli_u64_parse(eq, 40, &v) < 0 || v < 1)
				goto out;
			k.log2_n = (uint8_t)v;
		} else if (strcmp(tok, "r") == 0) {
			if (cli_u64_parse(eq, 1u << 20, &v) < 0 || v < 1)
				goto out;
			k.r = (uint32_t)v;
		} else if (strcmp(tok, "p") == 0) {
			if (cli_u64_parse(eq, 1u << 20, &v) < 0 || v < 1)
				goto out;
			k.p = (uint32_t)v;
		} else {
			goto out;
		}
	}
	if ((uint64_t)(k.r ? k.r : 8) * (k.p ? k.p : 1) >= (1u << 30))
		goto out;
	*kdf = k;
	r = 0;
out:
	free(copy);
	return r;
}

void
cli_log(int level, const char *msg)
{
	/* Same as libstore's default; levels as in syslog (4: warning). */
	fprintf(stderr, "amber: %s%s\n", level == 4 ? "warning: " : "", msg);
}

int
cli_tag_ok(const char *t)
{
	if (*t == '\0' || strlen(t) > 255)
		return 0;
	for (; *t; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return 0;
	return 1;
}

void
cli_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}
