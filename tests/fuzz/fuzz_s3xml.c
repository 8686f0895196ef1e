/*
 * fuzz_s3xml.c: S3's XML answers come from the network; the flattener
 * must reject or parse any input without a crash, and call back only
 * with bounded, NUL-terminated paths and texts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
visit(void *ctx, const char *path, const char *text)
{
	size_t *n = ctx;

	if (strlen(path) >= S3XML_PATH_MAX || strlen(text) >= S3XML_TEXT_MAX)
		abort();
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;

	(void)s3xml_parse(data, size, visit, &n);
	return 0;
}
