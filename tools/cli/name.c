/*
 * name.c: stored names (raw bytes, which a hostile source may have made
 * anything) shown to people: the UTF-8 rule and the escaping that keeps
 * one name on one line (name.h).  Pure: the CLI's listings and the source
 * readers' warnings both use it, and neither depends on the other.
 */
#include <stdint.h>
#include <stdio.h>

#include "name.h"

size_t
name_utf8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
	size_t len;
	size_t i;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3fu);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

int
name_is_utf8(const uint8_t *buf, size_t len)
{
	uint32_t cp;
	size_t i = 0;
	size_t n;

	while (i < len) {
		if (buf[i] == 0 || (n = name_utf8_seq(buf + i, len - i, &cp)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

void
name_print(FILE *f, const uint8_t *name, size_t len, int is_escaped)
{
	uint32_t cp;
	size_t i = 0;
	size_t n;
	size_t k;

	if (!is_escaped) {
		fwrite(name, 1, len, f);
		return;
	}
	while (i < len) {
		n = name_utf8_seq(name + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0)) {
			/* Invalid, or a control character (C0, DEL, C1). */
			if (n == 0)
				n = 1;
			for (k = 0; k < n; k++) {
				if (name[i + k] == '\n')
					fputs("\\n", f);
				else if (name[i + k] == '\t')
					fputs("\\t", f);
				else
					fprintf(f, "\\x%02x", name[i + k]);
			}
		} else if (cp == '\\') {
			fputs("\\\\", f);
		} else {
			fwrite(name + i, 1, n, f);
		}
		i += n;
	}
}
