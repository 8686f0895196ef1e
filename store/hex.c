/*
 * hex.c: lower-case hexadecimal (hex.h).  Upper case is refused on
 * input: amber writes lower case only, so anything else did not come
 * from amber and is not quietly accepted as if it had.
 */
#include <errno.h>

#include "hex.h"

void
hex_encode(const uint8_t *buf, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 15];
	}
	out[2 * len] = '\0';
}

/* The value of each hex digit, 16 for every other byte. */
static const uint8_t values[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int
digit(char c)
{
	/* Stored plus one, so that the zero of the rest says "none". */
	return (int)values[(uint8_t)c] - 1;
}

int
hex_decode(const char *s, uint8_t *out, size_t n)
{
	/* A table, not branches: a listing of snapshots/ decodes one
	 * name per snapshot in the store.  It stops at the first byte
	 * that is no digit (the NUL of a short string among them). */
	for (size_t i = 0; i < n; i++) {
		int hi = digit(s[2 * i]);
		int lo = hi < 0 ? -1 : digit(s[2 * i + 1]);

		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
hex_is_lower(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (digit(s[i]) < 0)
			return 0;
	return 1;
}
