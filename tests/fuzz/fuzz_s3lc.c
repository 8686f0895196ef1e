/*
 * fuzz_s3lc.c: a bucket's lifecycle configuration comes from the
 * network; its summary must reject or parse any input without a crash.
 */
#include <stdint.h>
#include <stdlib.h>

#include "s3probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3probe_lifecycle l;

	if (s3probe_lifecycle_parse(data, size, "amber/", &l) == 0 &&
	    l.n_noncurrent > l.n_rules)
		abort();
	return 0;
}
