/*
 * metrics.c: Prometheus textfile-collector files (metrics.h).  Samples
 * are kept in the order they come; the text is made in memory, grouped by
 * name with one # HELP and # TYPE line each, then written to a temporary
 * file beside the target and renamed over it, so that node_exporter,
 * which may read at any moment, never sees half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"

struct sample {
	char *name;
	char *type;
	char *help;
	char *label;		/* NULL: none */
	char *value;
	double v;
};

struct metrics {
	struct sample *v;
	size_t n;
	size_t cap;
};

int
metrics_new(struct metrics **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return -ENOMEM;
	return 0;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].type);
		free(m->v[i].help);
		free(m->v[i].label);
		free(m->v[i].value);
	}
	free(m->v);
	free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metrics; no ':' in label names. */
static int
is_name(const char *s, int is_metric)
{
	const char *first = is_metric ?
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:" :
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
	const char *rest = is_metric ?
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789" :
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";

	if (s == NULL || s[0] == '\0' || strchr(first, s[0]) == NULL)
		return 0;
	return strspn(s, rest) == strlen(s);
}

int
metrics_put(struct metrics *m, const char *name, const char *type,
    const char *help, const char *label, const char *value, double v)
{
	struct sample *s;
	struct sample *nv;
	size_t cap;

	if (!is_name(name, 1) || (label != NULL && (!is_name(label, 0) ||
	    value == NULL)) || type == NULL || help == NULL ||
	    strpbrk(help, "\n\r") != NULL ||
	    (strcmp(type, "gauge") != 0 && strcmp(type, "counter") != 0))
		return -EINVAL;
	if (m->n == m->cap) {
		cap = m->cap * 2 + 8;
		if ((nv = realloc(m->v, cap * sizeof(*nv))) == NULL)
			return -ENOMEM;
		m->v = nv;
		m->cap = cap;
	}
	s = &m->v[m->n];
	memset(s, 0, sizeof(*s));
	s->v = v;
	if ((s->name = strdup(name)) == NULL ||
	    (s->type = strdup(type)) == NULL ||
	    (s->help = strdup(help)) == NULL ||
	    (label != NULL && (s->label = strdup(label)) == NULL) ||
	    (label != NULL && (s->value = strdup(value)) == NULL)) {
		free(s->name);
		free(s->type);
		free(s->help);
		free(s->label);
		free(s->value);
		return -ENOMEM;
	}
	m->n++;
	return 0;
}

/* A label value: backslash, double quote and newline escaped. */
static void
put_value(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* A HELP text: backslash and newline escaped (metrics_put() refused
 * newlines; kept for the format's sake). */
static void
put_help(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else
			fputc(*s, f);
	}
}

static void
put_number(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 &&
	    v == (double)(int64_t)v)
		fprintf(f, "%lld", (long long)v);	/* no exponent */
	else
		fprintf(f, "%.17g", v);
}

/* The whole file's text, malloc'd, into *${buf}, *${len}. */
static int
render(const struct metrics *m, char **buf, size_t *len)
{
	FILE *f;
	char *done;

	*buf = NULL;
	*len = 0;
	if ((done = calloc(m->n ? m->n : 1, 1)) == NULL)
		return -ENOMEM;
	if ((f = open_memstream(buf, len)) == NULL) {
		free(done);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (done[i])
			continue;
		fprintf(f, "# HELP %s ", m->v[i].name);
		put_help(f, m->v[i].help);
		fprintf(f, "\n# TYPE %s %s\n", m->v[i].name, m->v[i].type);
		for (size_t j = i; j < m->n; j++) {
			const struct sample *s = &m->v[j];

			if (done[j] || strcmp(s->name, m->v[i].name) != 0)
				continue;
			done[j] = 1;
			fputs(s->name, f);
			if (s->label != NULL) {
				fprintf(f, "{%s=\"", s->label);
				put_value(f, s->value);
				fputs("\"}", f);
			}
			fputc(' ', f);
			put_number(f, s->v);
			fputc('\n', f);
		}
	}
	free(done);
	if (ferror(f)) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	if (fclose(f) != 0) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The directory of ${path}, malloc'd. */
static char *
dir_of(const char *path)
{
	char *copy = strdup(path);
	char *d;

	if (copy == NULL)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

int
metrics_check_path(const char *path)
{
	struct stat st;
	char *dir;
	int r = 0;

	if (path == NULL || path[0] == '\0')
		return -ENOENT;
	if ((dir = dir_of(path)) == NULL)
		return -ENOMEM;
	if (stat(dir, &st) != 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	else if (access(dir, W_OK | X_OK) != 0)
		r = -errno;
	else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		r = -EISDIR;
	free(dir);
	return r;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
metrics_write(const struct metrics *m, const char *path)
{
	char *text = NULL;
	char *tmp = NULL;
	char *dir = NULL;
	size_t len = 0;
	int fd = -1;
	int dfd = -1;
	int is_tmp = 0;
	int r;

	if ((r = metrics_check_path(path)) < 0)
		return r;
	if ((r = render(m, &text, &len)) < 0)
		goto out;
	if ((tmp = malloc(strlen(path) + 5)) == NULL ||
	    (dir = dir_of(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	sprintf(tmp, "%s.tmp", path);
	/* A .tmp left by a killed run must not block the next one for ever,
	 * and whatever is there (a symbolic link, say) is never written
	 * through: remove it, then create afresh. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	is_tmp = 1;
	if ((r = write_all(fd, text, len)) < 0)
		goto out;
	/* The umask may have taken bits the collector needs to read. */
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		r = -errno;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = -errno;
		goto out;
	}
	is_tmp = 0;
	/* The rename itself must survive a crash. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0) {
		r = -errno;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (is_tmp)
		unlink(tmp);
	free(text);
	free(tmp);
	free(dir);
	return r;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (or no ':' for a label) at *${p}: its length. */
static size_t
name_len(const char *p, int is_metric)
{
	size_t n = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
	    p[n] == '_' || (is_metric && p[n] == ':') ||
	    (n > 0 && p[n] >= '0' && p[n] <= '9'))
		n++;
	return n;
}

/* One sample line (NUL-terminated, newline gone) into ${fn}; 0 if it is
 * not one. */
static int
scan_line(char *line, int (*fn)(void *, const char *, const char *,
    const char *, double), void *ctx)
{
	char *label = NULL;
	char *value = NULL;
	char *p = line;
	char *end;
	size_t n;
	double v;

	if ((n = name_len(p, 1)) == 0)
		return 0;
	p += n;
	if (*p == '{') {
		*p++ = '\0';
		label = p;
		if ((n = name_len(p, 0)) == 0 || p[n] != '=' ||
		    p[n + 1] != '"')
			return 0;
		p[n] = '\0';
		p += n + 2;
		value = p;
		/* Unescape in place: \\, \" and \n. */
		for (char *w = p;; p++) {
			if (*p == '\0')
				return 0;
			if (*p == '"') {
				*w = '\0';
				p++;
				break;
			}
			if (*p == '\\') {
				p++;
				if (*p == 'n')
					*w++ = '\n';
				else if (*p == '\\' || *p == '"')
					*w++ = *p;
				else
					return 0;
			} else {
				*w++ = *p;
			}
		}
		if (*p != '}')
			return 0;
		p++;
	}
	if (*p != ' ')
		return 0;
	*p++ = '\0';
	if (*p == '\0' || strchr("+-.0123456789", *p) == NULL)
		return 0;	/* strtod() would skip spaces, read "inf" */
	errno = 0;
	v = strtod(p, &end);
	/* A timestamp may follow the value: not ours; ignored. */
	if (end == p || errno != 0 || !isfinite(v) ||
	    (*end != '\0' && *end != ' '))
		return 0;
	return fn(ctx, line, label, value, v);
}

int
metrics_scan(const char *path, int (*fn)(void *ctx, const char *name,
    const char *label, const char *value, double v), void *ctx)
{
	char line[METRICS_LINE_MAX + 2];
	long total = 0;
	int is_long = 0;
	FILE *f;
	int r = 0;

	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	while (r == 0 && total < METRICS_SCAN_MAX &&
	    fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);

		total += (long)n;
		if (n == 0 || line[n - 1] != '\n') {
			/* Longer than a line may be, or the file's end. */
			is_long = !feof(f);
			continue;
		}
		line[n - 1] = '\0';
		if (is_long) {
			/* The rest of a long line. */
			is_long = 0;
			continue;
		}
		r = scan_line(line, fn, ctx);
	}
	fclose(f);
	return r;
}
