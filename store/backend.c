/*
 * backend.c: the one place that knows which backend a location names:
 * "s3://BUCKET/PREFIX" is S3, anything else a local directory.
 */
#include <string.h>

#include "backend.h"

static int
is_s3(const char *location)
{
	return strncmp(location, "s3://", 5) == 0;
}

int
backend_open(const char *location, const struct backend_opts *o,
    struct backend **out)
{
	if (is_s3(location))
		return s3_open(location, o, 0, out);
	return dir_open(location, o, 0, out);
}

int
backend_create(const char *location, const struct backend_opts *o,
    struct backend **out)
{
	if (is_s3(location))
		return s3_open(location, o, 1, out);
	return dir_open(location, o, 1, out);
}

void
backend_close(struct backend *be)
{
	if (be != NULL)
		be->ops->close(be);
}

int
backend_put(struct backend *be, const char *key, const uint8_t *buf,
    size_t len, const uint8_t sha256[32])
{
	if (sha256 != NULL && be->ops->put_hashed != NULL)
		return be->ops->put_hashed(be, key, buf, len, sha256);
	return be->ops->put(be, key, buf, len);
}
