/*
 * fuzz_refs.c: recover_refs_parse() of tools/recover/recover_git.c, which
 * reads a stored mirror's packed-refs (written by whoever wrote the
 * snapshot) and `git ls-remote` output (from the target forge).  The
 * input's first byte picks the separator, the rest is the text.  For any
 * input: a parse that succeeds gives names recover_ref_name_ok() accepts,
 * sorted and distinct, each with an oid of 40 or 64 lowercase hex digits;
 * one that fails leaves what it read for recover_refs_fini().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recover_git.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
oid_hex(const char *s)
{
	size_t n = strlen(s);

	if (n != 40 && n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recover_refs r;
	char sep;

	if (size == 0)
		return 0;
	sep = (data[0] & 1) ? '\t' : ' ';
	memset(&r, 0, sizeof(r));
	if (recover_refs_parse((const char *)data + 1, size - 1, sep,
	    &r) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			if (!recover_ref_name_ok(r.v[i].name) ||
			    !oid_hex(r.v[i].oid))
				abort();
			if (i > 0 && strcmp(r.v[i - 1].name, r.v[i].name) >= 0)
				abort();
			if (recover_refs_find(&r, r.v[i].name) != &r.v[i])
				abort();
		}
	}
	recover_refs_fini(&r);
	return 0;
}
