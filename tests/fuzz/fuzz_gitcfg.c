/*
 * fuzz_gitcfg.c: the scan of a stored git config that amberfs makes
 * before it serves one of its own (fs/gitcfg.c, built in here).  Whatever
 * the input, the output is GITCFG_SIZE bytes of lines from a fixed list:
 * nothing of the input but the values of four settings, each from a
 * short list, can reach git; and it is the same for the same input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/gitcfg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
is_allowed(const char *l, size_t n)
{
	static const char *const ok[] = {
		"[core]", "[extensions]",
		"\trepositoryformatversion = 0",
		"\trepositoryformatversion = 1",
		"\tbare = true", "\tbare = false",
		"\thooksPath = /dev/null",
		"\tobjectformat = sha1", "\tobjectformat = sha256",
		"\trefstorage = files", "\trefstorage = reftable",
	};
	size_t i;

	if (n > 0 && l[0] == '#')
		return memchr(l, '\0', n) == NULL;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (n == strlen(ok[i]) && memcmp(l, ok[i], n) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t a[GITCFG_SIZE];
	uint8_t b[GITCFG_SIZE];
	size_t i = 0;
	int is_mirror = size > 0 && (data[0] & 1);

	gitcfg_make(data, size, is_mirror, a);
	gitcfg_make(data, size, is_mirror, b);
	if (memcmp(a, b, GITCFG_SIZE) != 0 || a[GITCFG_SIZE - 1] != '\n')
		abort();
	while (i < GITCFG_SIZE) {
		const uint8_t *nl = memchr(a + i, '\n', GITCFG_SIZE - i);
		size_t n = (size_t)(nl - (a + i));

		if (!is_allowed((const char *)a + i, n))
			abort();
		i += n + 1;
	}
	if (is_mirror && memmem(a, GITCFG_SIZE, "\tbare = true\n", 13) == NULL)
		abort();
	return 0;
}
