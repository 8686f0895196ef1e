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
