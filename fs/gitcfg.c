/*
 * gitcfg.c: the git config amberfs serves in place of a stored one (see
 * gitcfg.h).  The stored bytes are a writer's: they are scanned line by
 * line for four settings whose values come from a short list, and only
 * those values, as constants of ours, reach the output.  A line this
 * scan does not understand (quotes, escapes, continuations, sections
 * with a subsection) is skipped: at worst git then misreads the
 * repository, and never runs anything the writer named.
 */
#include <stdio.h>
#include <string.h>

#include "gitcfg.h"

enum section { SEC_OTHER, SEC_CORE, SEC_EXT };

struct cfg {
	int version;		/* core.repositoryformatversion; -1 unset */
	int bare;		/* core.bare; -1 unset */
	const char *objfmt;	/* extensions.objectformat, or NULL */
	const char *refsto;	/* extensions.refstorage, or NULL */
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Case-insensitive ${p} (${n} bytes) == ${s}. */
static int
eq_ci(const uint8_t *p, size_t n, const char *s)
{
	size_t i;

	if (n != strlen(s))
		return 0;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != s[i])
			return 0;
	return 1;
}

static int
eq(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* git's boolean spellings; -1 for any other value. */
static int
boolean(const uint8_t *v, size_t n, int has_eq)
{
	if (!has_eq || eq_ci(v, n, "true") || eq_ci(v, n, "yes") ||
	    eq_ci(v, n, "on") || eq(v, n, "1"))
		return 1;
	if (eq_ci(v, n, "false") || eq_ci(v, n, "no") || eq_ci(v, n, "off") ||
	    eq(v, n, "0") || n == 0)
		return 0;
	return -1;
}

static void
apply(struct cfg *c, enum section sec, const uint8_t *k, size_t kn,
    const uint8_t *v, size_t vn, int has_eq)
{
	if (sec == SEC_CORE && eq_ci(k, kn, "repositoryformatversion"))
		c->version = eq(v, vn, "0") ? 0 : eq(v, vn, "1") ? 1 : -1;
	else if (sec == SEC_CORE && eq_ci(k, kn, "bare"))
		c->bare = boolean(v, vn, has_eq);
	else if (sec == SEC_EXT && eq_ci(k, kn, "objectformat"))
		c->objfmt = eq(v, vn, "sha1") ? "sha1" :
		    eq(v, vn, "sha256") ? "sha256" : NULL;
	else if (sec == SEC_EXT && eq_ci(k, kn, "refstorage"))
		c->refsto = eq(v, vn, "files") ? "files" :
		    eq(v, vn, "reftable") ? "reftable" : NULL;
}

/* One line [p, end) without its newline, outside any continuation. */
static void
line(struct cfg *c, enum section *sec, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *k;
	const uint8_t *v;
	size_t kn;
	size_t vn = 0;
	int has_eq = 0;

	while (p < end && is_blank(*p))
		p++;
	if (p < end && *p == '[') {
		const uint8_t *q = p + 1;

		while (q < end && (is_alnum(*q) || *q == '-'))
			q++;
		if (q == end || *q != ']') {
			*sec = SEC_OTHER;	/* a subsection, or malformed */
			return;
		}
		*sec = eq_ci(p + 1, (size_t)(q - p - 1), "core") ? SEC_CORE :
		    eq_ci(p + 1, (size_t)(q - p - 1), "extensions") ?
		    SEC_EXT : SEC_OTHER;
		p = q + 1;
		while (p < end && is_blank(*p))
			p++;
	}
	if (p == end || *p == '#' || *p == ';')
		return;
	k = p;
	while (p < end && (is_alnum(*p) || *p == '-'))
		p++;
	kn = (size_t)(p - k);
	if (kn == 0 || !is_alnum(*k) || (*k >= '0' && *k <= '9'))
		return;
	while (p < end && is_blank(*p))
		p++;
	v = p;
	if (p < end && *p == '=') {
		has_eq = 1;
		p++;
		while (p < end && is_blank(*p))
			p++;
		v = p;
		while (p < end && is_alnum(*p))
			p++;
		vn = (size_t)(p - v);
		while (p < end && is_blank(*p))
			p++;
	}
	if (p < end && *p != '#' && *p != ';')
		return;		/* not a plain value: leave it out */
	apply(c, *sec, k, kn, v, vn, has_eq);
}

int
gitcfg_is_name(const uint8_t *name, size_t len)
{
	return eq(name, len, "config") || eq(name, len, "config.worktree");
}

void
gitcfg_make(const uint8_t *in, size_t len, int is_mirror,
    uint8_t out[GITCFG_SIZE])
{
	struct cfg c = { -1, -1, NULL, NULL };
	enum section sec = SEC_OTHER;
	char text[GITCFG_SIZE];
	size_t i = 0;
	size_t n;
	int is_cont = 0;

	if (len > GITCFG_IN_MAX)
		len = GITCFG_IN_MAX;
	while (i < len) {
		const uint8_t *p = in + i;
		const uint8_t *nl = memchr(p, '\n', len - i);
		const uint8_t *end = nl != NULL ? nl : in + len;
		int was_cont = is_cont;

		i = (size_t)(end - in) + 1;
		if (end > p && end[-1] == '\r')
			end--;
		/* A line that ends in a backslash goes on in the next: skip
		 * both, as any value we cannot read plainly. */
		is_cont = end > p && end[-1] == '\\';
		if (!was_cont && !is_cont)
			line(&c, &sec, p, end);
	}
	if (is_mirror)
		c.bare = 1;
	n = (size_t)snprintf(text, sizeof(text),
	    "# amberfs serves this in place of the stored config: "
	    "see amberfs(1).\n[core]\n");
	if (c.version >= 0)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "\trepositoryformatversion = %d\n", c.version);
	if (c.bare >= 0)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "\tbare = %s\n", c.bare ? "true" : "false");
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "\thooksPath = /dev/null\n");
	if (c.objfmt != NULL || c.refsto != NULL)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "[extensions]\n");
	if (c.objfmt != NULL)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "\tobjectformat = %s\n", c.objfmt);
	if (c.refsto != NULL)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "\trefstorage = %s\n", c.refsto);
	/* At most about 250 bytes so far; the rest is one comment line. */
	memcpy(out, text, n);
	out[n] = '#';
	memset(out + n + 1, ' ', GITCFG_SIZE - n - 2);
	out[GITCFG_SIZE - 1] = '\n';
}
