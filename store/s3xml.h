/*
 * s3xml.h: the S3 REST API's XML answers (ListVersionsResult, Error,
 * ObjectLockConfiguration, Retention) flattened through expat into one
 * call per element: its path from the root and its text.  Bounded: depth,
 * path and text lengths are capped, and anything beyond them is
 * malformed.  No entity is ever loaded from outside the document.
 */
#ifndef S3XML_H
#define S3XML_H

#include <stddef.h>
#include <stdint.h>

#define S3XML_DEPTH_MAX 16
#define S3XML_PATH_MAX 512
#define S3XML_TEXT_MAX 4096

/*
 * s3xml_parse(buf, len, fn, ctx):
 * Parse ${len} bytes of XML and call ${fn}(ctx, path, text) at the end of
 * each element, where ${path} joins the local names (namespace prefixes
 * and URIs dropped) from the root with '/', e.g.
 * "ListVersionsResult/Version/Key", and ${text} is the element's own
 * character data, NUL-terminated (empty for a parent).  A non-zero return
 * of ${fn} stops the parse and is returned.
 * Returns 0, -EBADMSG if the XML is malformed or exceeds a bound,
 * -ENOMEM.
 */
int s3xml_parse(const uint8_t *buf, size_t len,
    int (*fn)(void *ctx, const char *path, const char *text), void *ctx);

#endif
