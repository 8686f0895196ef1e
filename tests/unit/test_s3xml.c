/*
 * test_s3xml.c: the XML flattener S3 answers go through: paths with
 * namespaces dropped, entity-decoded texts, early stop, and refusal of
 * what S3 never sends (DOCTYPE and entities, nesting past the bound,
 * texts past the bound, unbalanced tags).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "s3xml.h"

struct rec {
	char out[4096];
	size_t used;
	int stop_at;
	int n;
};

static int
rec(void *ctx, const char *path, const char *text)
{
	struct rec *r = ctx;
	int k = snprintf(r->out + r->used, sizeof(r->out) - r->used,
	    "%s=%s\n", path, text);

	if (k > 0 && (size_t)k < sizeof(r->out) - r->used)
		r->used += (size_t)k;
	return ++r->n == r->stop_at ? 7 : 0;
}

static int
parse(const char *xml, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	return s3xml_parse((const uint8_t *)xml, strlen(xml), rec, r);
}

int
main(void)
{
	struct rec r;
	char big[8000];

	CHECK(parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"><IsTruncated>false</IsTruncated><Version>"
	    "<Key>a/b&amp;c</Key><ETag>&quot;e1&quot;</ETag><Size>12</Size>"
	    "</Version></ListVersionsResult>", &r) == 0);
	CHECK(strcmp(r.out,
	    "ListVersionsResult/IsTruncated=false\n"
	    "ListVersionsResult/Version/Key=a/b&c\n"
	    "ListVersionsResult/Version/ETag=\"e1\"\n"
	    "ListVersionsResult/Version/Size=12\n"
	    "ListVersionsResult/Version=\n"
	    "ListVersionsResult=\n") == 0);

	/* A prefixed namespace is dropped too. */
	CHECK(parse("<s:Error xmlns:s=\"urn:x\"><s:Code>AccessDenied</s:Code>"
	    "</s:Error>", &r) == 0);
	CHECK(strcmp(r.out, "Error/Code=AccessDenied\nError=\n") == 0);

	/* The callback's non-zero value stops the parse and comes back. */
	CHECK(parse("<a><b>1</b><b>2</b><b>3</b></a>", &r) == 0 && r.n == 4);
	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	CHECK(s3xml_parse((const uint8_t *)"<a><b>1</b><b>2</b><b>3</b></a>",
	    31, rec, &r) == 7 && r.n == 2);

	/* Refused: DOCTYPE (and so entities), bad nesting, limits. */
	CHECK(parse("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", &r) ==
	    -EBADMSG);
	CHECK(parse("<a><b></a>", &r) == -EBADMSG);
	CHECK(parse("<a>", &r) == -EBADMSG);
	CHECK(parse("", &r) == -EBADMSG);
	CHECK(parse("<a>&undefined;</a>", &r) == -EBADMSG);
	memset(big, 0, sizeof(big));
	for (int i = 0; i < 17; i++)
		strcat(big, "<d>");
	for (int i = 0; i < 17; i++)
		strcat(big, "</d>");
	CHECK(parse(big, &r) == -EBADMSG);
	big[16 * 3] = 0;	/* 16 levels open ... */
	for (int i = 0; i < 16; i++)
		strcat(big, "</d>");
	CHECK(parse(big, &r) == 0 && r.n == 16);
	strcpy(big, "<a>");
	memset(big + 3, 'x', S3XML_TEXT_MAX);
	strcpy(big + 3 + S3XML_TEXT_MAX, "</a>");
	CHECK(parse(big, &r) == -EBADMSG);
	return check_done("test_s3xml");
}
