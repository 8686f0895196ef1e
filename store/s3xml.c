/*
 * s3xml.c: see s3xml.h.  Expat gives start, end and character-data
 * events; we keep a stack of path lengths and one text buffer for the
 * innermost open element (S3 answers never mix text and children in a way
 * we read, so text of a parent is whatever whitespace it held, cleared
 * when a child starts).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "s3xml.h"

struct state {
	XML_Parser p;
	int (*fn)(void *ctx, const char *path, const char *text);
	void *ctx;
	char path[S3XML_PATH_MAX];
	size_t path_len;
	size_t stack[S3XML_DEPTH_MAX];	/* path_len before each open element */
	int depth;
	char text[S3XML_TEXT_MAX];
	size_t text_len;
	int rc;			/* first error or fn's stop value */
};

static void
stop(struct state *st, int rc)
{
	if (st->rc == 0)
		st->rc = rc;
	XML_StopParser(st->p, XML_FALSE);
}

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct state *st = arg;
	const char *local = strrchr(name, '\n');
	size_t n;

	(void)attrs;
	if (st->rc != 0)
		return;
	/* With namespace processing, names arrive as "URI\nlocal". */
	local = local ? local + 1 : name;
	n = strlen(local);
	if (st->depth >= S3XML_DEPTH_MAX ||
	    st->path_len + n + 2 > sizeof(st->path)) {
		stop(st, -EBADMSG);
		return;
	}
	st->stack[st->depth++] = st->path_len;
	if (st->path_len > 0)
		st->path[st->path_len++] = '/';
	memcpy(st->path + st->path_len, local, n);
	st->path_len += n;
	st->path[st->path_len] = 0;
	st->text_len = 0;
	st->text[0] = 0;
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
	struct state *st = arg;
	int r;

	(void)name;
	if (st->rc != 0)
		return;
	if (st->depth <= 0) {
		stop(st, -EBADMSG);
		return;
	}
	if ((r = st->fn(st->ctx, st->path, st->text)) != 0) {
		stop(st, r);
		return;
	}
	st->path_len = st->stack[--st->depth];
	st->path[st->path_len] = 0;
	st->text_len = 0;
	st->text[0] = 0;
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
	struct state *st = arg;

	if (st->rc != 0 || len <= 0)
		return;
	if ((size_t)len >= sizeof(st->text) - st->text_len) {
		stop(st, -EBADMSG);
		return;
	}
	memcpy(st->text + st->text_len, s, (size_t)len);
	st->text_len += (size_t)len;
	st->text[st->text_len] = 0;
}

/* Refuse any DOCTYPE: S3 never sends one, and entities are an attack. */
static void XMLCALL
on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	stop(arg, -EBADMSG);
}

int
s3xml_parse(const uint8_t *buf, size_t len,
    int (*fn)(void *ctx, const char *path, const char *text), void *ctx)
{
	struct state *st;
	int r;

	if (len > (size_t)1 << 30)
		return -EBADMSG;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	if ((st->p = XML_ParserCreateNS(NULL, '\n')) == NULL) {
		free(st);
		return -ENOMEM;
	}
	st->fn = fn;
	st->ctx = ctx;
	XML_SetUserData(st->p, st);
	XML_SetElementHandler(st->p, on_start, on_end);
	XML_SetCharacterDataHandler(st->p, on_text);
	XML_SetStartDoctypeDeclHandler(st->p, on_doctype);
	if (XML_Parse(st->p, (const char *)buf, (int)len, XML_TRUE) ==
	    XML_STATUS_ERROR && st->rc == 0)
		st->rc = -EBADMSG;
	r = st->rc;
	XML_ParserFree(st->p);
	free(st);
	return r;
}
