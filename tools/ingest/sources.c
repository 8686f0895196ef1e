/*
 * sources.c: the parser of sources files (man/amber-sources.5).  It is
 * strict on purpose: a typo in a file that a timer runs every night must
 * stop the run before anything is written (exit 2) rather than silently
 * leave a source out, so every unknown keyword, unknown or repeated
 * option, bad value, bad name or clash is an error naming its line.  No
 * I/O here: the text comes in, a list of entries goes out.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources.h"
#include "store.h"

#define FIELDS_MAX (4 + 2 * SOURCES_PATTERNS_MAX + 8)
#define NAME_MAX_LEN 255	/* STORE_NAME_MAX */

static const struct {
	const char *word;
	int type;
	int n_args;		/* fields after the keyword, before options */
} types[] = {
	{ "dir", SOURCES_DIR, 2 },
	{ "repo", SOURCES_REPO, 2 },
	{ "pipeline", SOURCES_PIPELINE, 2 },
	{ "gitlab-group", SOURCES_GITLAB_GROUP, 1 },
	{ "github-org", SOURCES_GITHUB_ORG, 1 },
};

/* One line's fields: pointers into a private copy of the line. */
struct fields {
	char *v[FIELDS_MAX];
	size_t n;
	char buf[SOURCES_LINE_MAX + 1];
};

static int
fail(struct err *err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct err *err, unsigned line, const char *fmt, ...)
{
	size_t cap = sizeof(err->msg);
	va_list ap;
	int n;

	n = snprintf(err->msg, cap, "line %u: ", line);
	if (n >= 0 && (size_t)n < cap) {
		va_start(ap, fmt);
		vsnprintf(err->msg + n, cap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *
sources_type_name(int type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].word;
	return "?";
}

/*
 * Split ${line} (${len} bytes, no newline) into fields.  A field is a run
 * of non-blank bytes, any part of which may be "double-quoted" (blanks
 * and '#' are then plain bytes, and \" and \\ the only escapes); a '#'
 * where a field would start begins a comment.
 */
static int
split(const char *line, size_t len, struct fields *f, unsigned lno,
    struct err *err)
{
	size_t i = 0;
	size_t o = 0;

	f->n = 0;
	for (;;) {
		int is_quoted = 0;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len || line[i] == '#')
			return 0;
		if (f->n == FIELDS_MAX)
			return fail(err, lno, "too many fields");
		f->v[f->n++] = &f->buf[o];
		for (; i < len; i++) {
			if (!is_quoted && (line[i] == ' ' || line[i] == '\t'))
				break;
			if (line[i] == '"') {
				is_quoted = !is_quoted;
				continue;
			}
			if (is_quoted && line[i] == '\\') {
				if (i + 1 == len || (line[i + 1] != '"' &&
				    line[i + 1] != '\\'))
					return fail(err, lno, "only \\\" "
					    "and \\\\ may follow a backslash "
					    "in quotes");
				i++;
			}
			f->buf[o++] = line[i];
		}
		if (is_quoted)
			return fail(err, lno, "unterminated quote");
		f->buf[o++] = '\0';
	}
}

/* Printable text only: control bytes in a path or URL are a mistake. */
static int
is_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
yes_no(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0)
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

static int
add_pattern(char ***v, size_t *n, const char *p)
{
	char **nv;

	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return -ENOMEM;
	*v = nv;
	if ((nv[*n] = strdup(p)) == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* http(s)://HOST/PATH with a non-empty HOST and PATH, no query. */
static int
is_group_url(const char *u)
{
	const char *p;
	const char *slash;

	if (strncmp(u, "https://", 8) == 0)
		p = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		p = u + 7;
	else
		return 0;
	if ((slash = strchr(p, '/')) == NULL || slash == p)
		return 0;
	/* No credentials: the token comes from the environment. */
	if (memchr(p, '@', (size_t)(slash - p)) != NULL)
		return 0;
	if (strpbrk(u, "?# ") != NULL || strstr(slash, "//") != NULL ||
	    strstr(slash, "/../") != NULL || strstr(slash, "/./") != NULL)
		return 0;
	while (*slash == '/')
		slash++;
	return *slash != '\0';
}

/* ORG, or https://HOST/ORG for GitHub Enterprise Server. */
static int
is_org(const char *o)
{
	size_t n;

	if (strncmp(o, "https://", 8) == 0 || strncmp(o, "http://", 7) == 0) {
		const char *slash = strchr(o + (o[4] == 's' ? 8 : 7), '/');

		if (!is_group_url(o) || slash == NULL)
			return 0;
		o = slash + 1;
		n = strlen(o);
		if (n > 0 && o[n - 1] == '/')
			n--;
		if (memchr(o, '/', n) != NULL)
			return 0;
	} else {
		n = strlen(o);
	}
	if (n == 0 || n > 100)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((o[i] >= 'A' && o[i] <= 'Z') ||
		    (o[i] >= 'a' && o[i] <= 'z') ||
		    (o[i] >= '0' && o[i] <= '9') || o[i] == '-' ||
		    o[i] == '_' || o[i] == '.'))
			return 0;
	return 1;
}

int
sources_is_host(const char *s)
{
	size_t n = 0;

	if (s[0] == '[') {
		for (n = 1; s[n] != '\0' && s[n] != ']'; n++)
			if (!strchr("0123456789abcdefABCDEF:.", s[n]))
				return 0;
		if (s[n] != ']' || n == 1)
			return 0;
		n++;
	} else {
		for (; s[n] != '\0' && s[n] != ':'; n++)
			if (!((s[n] >= 'A' && s[n] <= 'Z') ||
			    (s[n] >= 'a' && s[n] <= 'z') ||
			    (s[n] >= '0' && s[n] <= '9') || s[n] == '.' ||
			    s[n] == '-'))
				return 0;
		if (n == 0 || n > 253)
			return 0;
	}
	if (s[n] == '\0')
		return 1;
	if (s[n] != ':' || s[n + 1] == '\0' || strlen(s + n + 1) > 5)
		return 0;
	for (n++; s[n] != '\0'; n++)
		if (s[n] < '0' || s[n] > '9')
			return 0;
	return 1;
}

/* The options after the fixed fields of one line. */
static int
options(struct sources_entry *e, struct fields *f, size_t first,
    struct err *err)
{
	int is_group = e->type == SOURCES_GITLAB_GROUP ||
	    e->type == SOURCES_GITHUB_ORG;
	unsigned seen = 0;
	int r;

	for (size_t i = first; i < f->n; i++) {
		char *k = f->v[i];
		char *v = strchr(k, '=');
		unsigned bit;
		int *flag = NULL;

		if (v == NULL)
			return fail(err, e->line, "unexpected '%s' "
			    "(options are KEY=VALUE)", k);
		*v++ = '\0';
		if (strcmp(k, "include") == 0 || strcmp(k, "exclude") == 0) {
			int is_inc = k[0] == 'i';

			if ((is_inc && !is_group) || (!is_inc && !is_group &&
			    e->type != SOURCES_DIR))
				return fail(err, e->line, "%s does not "
				    "take %s=", sources_type_name(e->type), k);
			if (*v == '\0' || !is_text(v))
				return fail(err, e->line, "%s= needs a "
				    "pattern", k);
			if (e->n_includes + e->n_excludes ==
			    SOURCES_PATTERNS_MAX)
				return fail(err, e->line, "more than %d "
				    "patterns", SOURCES_PATTERNS_MAX);
			r = is_inc ? add_pattern(&e->includes, &e->n_includes,
			    v) : add_pattern(&e->excludes, &e->n_excludes, v);
			if (r < 0)
				return r;
			continue;
		}
		if (strcmp(k, "allow-clone-host") == 0 && is_group) {
			if (!sources_is_host(v))
				return fail(err, e->line, "allow-clone-host="
				    "%s: not HOST or HOST:PORT", v);
			if (e->n_allow_hosts == SOURCES_HOSTS_MAX)
				return fail(err, e->line, "more than %d "
				    "allow-clone-host=", SOURCES_HOSTS_MAX);
			if ((r = add_pattern(&e->allow_hosts,
			    &e->n_allow_hosts, v)) < 0)
				return r;
			continue;
		}
		if (strcmp(k, "archived") == 0 && is_group) {
			bit = 1;
			flag = &e->has_archived;
		} else if (strcmp(k, "wiki") == 0 && is_group) {
			bit = 2;
			flag = &e->has_wiki;
		} else if (strcmp(k, "pipelines") == 0 && is_group) {
			bit = 4;
			flag = &e->has_pipelines;
		} else if (strcmp(k, "one-file-system") == 0 &&
		    e->type == SOURCES_DIR) {
			bit = 8;
			flag = &e->is_one_file_system;
		} else {
			return fail(err, e->line, "%s does not take %s=",
			    sources_type_name(e->type), k);
		}
		if (seen & bit)
			return fail(err, e->line, "%s= given twice", k);
		seen |= bit;
		if (yes_no(v, flag) < 0)
			return fail(err, e->line, "%s=%s: the value is "
			    "yes or no", k, v);
	}
	return 0;
}

/* Kind of store source a line's name takes: 1 files, 2 repos, 3 pipelines */
static int
kind_of(int type)
{
	return type == SOURCES_DIR ? 1 : type == SOURCES_REPO ? 2 : 3;
}

/* NAME of a repo also takes NAME.git: does ${a} (a repo) cover ${b}? */
static int
is_git_twin(const char *a, const char *b)
{
	size_t la = strlen(a);

	return strncmp(a, b, la) == 0 && strcmp(b + la, ".git") == 0;
}

static int
check_clash(const struct sources *s, const struct sources_entry *e,
    struct err *err)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct sources_entry *o = &s->v[i];

		if (e->name == NULL) {
			if (o->type == e->type && strcmp(o->where,
			    e->where) == 0)
				return fail(err, e->line, "repeats line "
				    "%u", o->line);
			continue;
		}
		if (o->name == NULL || kind_of(o->type) != kind_of(e->type))
			continue;
		if (strcmp(o->name, e->name) == 0 ||
		    (e->type == SOURCES_REPO &&
		    (is_git_twin(o->name, e->name) ||
		    is_git_twin(e->name, o->name))))
			return fail(err, e->line, "%s %s: the name "
			    "clashes with line %u", sources_type_name(e->type),
			    e->name, o->line);
	}
	return 0;
}

static void
entry_fini(struct sources_entry *e)
{
	for (size_t i = 0; i < e->n_includes; i++)
		free(e->includes[i]);
	for (size_t i = 0; i < e->n_excludes; i++)
		free(e->excludes[i]);
	for (size_t i = 0; i < e->n_allow_hosts; i++)
		free(e->allow_hosts[i]);
	free(e->includes);
	free(e->excludes);
	free(e->allow_hosts);
	free(e->name);
	free(e->where);
}

void
sources_free(struct sources *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_fini(&s->v[i]);
	free(s->v);
	free(s);
}

/* Parse one line's fields into ${e}; -EINVAL (err set) or -ENOMEM. */
static int
parse_line(const struct sources *s, struct fields *f, unsigned lno,
    struct sources_entry *e, struct err *err)
{
	size_t t;
	size_t na;
	int r;

	memset(e, 0, sizeof(*e));
	e->line = lno;
	e->has_archived = 1;
	e->has_wiki = 1;
	e->has_pipelines = 1;
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		if (strcmp(f->v[0], types[t].word) == 0)
			break;
	if (t == sizeof(types) / sizeof(types[0]))
		return fail(err, lno, "unknown source type '%s' (dir, "
		    "repo, pipeline, gitlab-group, github-org)", f->v[0]);
	e->type = types[t].type;
	na = (size_t)types[t].n_args;
	if (f->n < 1 + na)
		return fail(err, lno, "%s needs %s", f->v[0], na == 2 ?
		    (e->type == SOURCES_DIR ? "NAME PATH" : e->type ==
		    SOURCES_REPO ? "NAME LOCATION" : "NAME SPEC") :
		    e->type == SOURCES_GITLAB_GROUP ? "a group URL" :
		    "an organisation");
	if (na == 2) {
		if (!store_source_name_ok(f->v[1], strlen(f->v[1])) ||
		    (e->type == SOURCES_REPO && strlen(f->v[1]) + 4 >
		    NAME_MAX_LEN))
			return fail(err, lno, "bad source name '%s' (use "
			    "[A-Za-z0-9._-], not starting with a dot)",
			    f->v[1]);
		if (f->v[2][0] == '\0' || !is_text(f->v[2]))
			return fail(err, lno, "%s %s: empty or "
			    "unprintable location", f->v[0], f->v[1]);
		if (e->type == SOURCES_REPO && f->v[2][0] == '-')
			return fail(err, lno, "repo %s: a location may "
			    "not start with '-'", f->v[1]);
		if ((e->name = strdup(f->v[1])) == NULL ||
		    (e->where = strdup(f->v[2])) == NULL)
			return -ENOMEM;
	} else {
		if (strchr(f->v[1], '@') != NULL)
			return fail(err, lno, "%s: a URL here holds no "
			    "credentials (the token comes from the "
			    "environment; see amber-sources(5))", f->v[0]);
		if (e->type == SOURCES_GITLAB_GROUP && !is_group_url(f->v[1]))
			return fail(err, lno, "gitlab-group %s: not "
			    "https://HOST/GROUP", f->v[1]);
		if (e->type == SOURCES_GITHUB_ORG && !is_org(f->v[1]))
			return fail(err, lno, "github-org %s: not an "
			    "organisation name or https://HOST/ORG", f->v[1]);
		if ((e->where = strdup(f->v[1])) == NULL)
			return -ENOMEM;
		/* One spelling: no trailing slash. */
		for (size_t n = strlen(e->where); n > 0 &&
		    e->where[n - 1] == '/'; n--)
			e->where[n - 1] = '\0';
	}
	if ((r = options(e, f, 1 + na, err)) < 0)
		return r;
	return check_clash(s, e, err);
}

int
sources_parse(const char *text, size_t len, struct sources **out,
    struct err *err)
{
	struct sources *s = NULL;
	struct fields *f = NULL;
	struct sources_entry e;
	size_t cap = 0;
	size_t i = 0;
	unsigned lno = 0;
	int r = 0;

	memset(&e, 0, sizeof(e));
	err->status = 0;
	err->msg[0] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (f = malloc(sizeof(*f))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while (i < len) {
		const char *line = text + i;
		const char *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) : len - i;

		i += n + (nl != NULL);
		lno++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > SOURCES_LINE_MAX) {
			r = fail(err, lno, "longer than %d bytes",
			    SOURCES_LINE_MAX);
			goto out;
		}
		if (memchr(line, '\0', n) != NULL) {
			r = fail(err, lno, "a NUL byte");
			goto out;
		}
		if ((r = split(line, n, f, lno, err)) < 0)
			goto out;
		if (f->n == 0)
			continue;
		if (s->n == SOURCES_MAX) {
			r = fail(err, lno, "more than %d sources",
			    SOURCES_MAX);
			goto out;
		}
		if ((r = parse_line(s, f, lno, &e, err)) < 0)
			goto out;
		if (s->n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct sources_entry *v = realloc(s->v,
			    ncap * sizeof(*v));

			if (v == NULL) {
				r = -ENOMEM;
				goto out;
			}
			s->v = v;
			cap = ncap;
		}
		s->v[s->n++] = e;
		memset(&e, 0, sizeof(e));
	}
	if (s->n == 0) {
		r = fail(err, lno ? lno : 1, "no source in the file");
		goto out;
	}
	*out = s;
	s = NULL;
out:
	entry_fini(&e);
	free(f);
	sources_free(s);
	return r;
}

int
sources_wants(const struct sources_entry *e, const char *path)
{
	int is_in = e->n_includes == 0;

	for (size_t i = 0; !is_in && i < e->n_includes; i++)
		if (fnmatch(e->includes[i], path, 0) == 0)
			is_in = 1;
	for (size_t i = 0; is_in && i < e->n_excludes; i++)
		if (fnmatch(e->excludes[i], path, 0) == 0)
			is_in = 0;
	return is_in;
}
