/*
 * fuzz_url.c: the URL checks of tools/src/forge/url.c (included whole: it is pure
 * and the fuzz programs link libstore only).  For any input: a URL that
 * parses has a non-empty host of the allowed bytes and its pieces lie in
 * it, in order; url_redact() leaves no '@' before the path and nothing
 * longer than its input; url_basic_auth() gives a header of base64 or
 * an error, never a control byte.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct url_parts u;
	char in[4096];
	char out[4096];
	char hdr[2048];

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	size = strlen(in);
	if (url_redact(in, out, sizeof(out)) < 0 || strlen(out) > size)
		abort();
	if (url_has_userinfo(out))
		abort();
	if (url_parse(in, &u) == 0) {
		if (u.host == NULL || u.host_len == 0 || u.host < in ||
		    u.host + u.host_len > in + size || u.rest < u.host ||
		    (u.port != NULL && (u.port < u.host + u.host_len ||
		    u.port_len == 0 || u.port_len > 5)))
			abort();
		for (size_t i = 0; i < u.host_len; i++)
			if (u.host[i] == '@' || u.host[i] == '/' ||
			    u.host[i] == '\\')
				abort();
		(void)url_host_is(&u, "example.org");
		(void)url_host_is(&u, "example.org:443");
		(void)url_host_is(&u, "[::1]:80");
		if (u.userinfo != NULL && url_basic_auth(u.userinfo,
		    u.userinfo_len, hdr, sizeof(hdr)) == 0)
			for (const char *p = hdr; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20)
					abort();
	}
	return 0;
}
