/*
 * url.c: splitting URLs strictly, and taking credentials out of them.
 * Strict because two parsers that disagree on where the host is (git's
 * and ours; "https://good@evil/", "https://good\@evil/") are a way past
 * a host check, so whatever could be read two ways is refused.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "url.h"

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Where the authority of ${url} starts ("://" + 3), or NULL. */
static const char *
authority(const char *url)
{
	const char *p = url;

	/* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return NULL;
	while (is_alnum(*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return strncmp(p, "://", 3) == 0 ? p + 3 : NULL;
}

int
url_parse(const char *url, struct url_parts *u)
{
	const char *a;
	const char *end;
	const char *at;
	const char *h;
	const char *hend;
	const char *p;

	memset(u, 0, sizeof(*u));
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '\\')
			return -EINVAL;
	if ((a = authority(url)) == NULL)
		return -EINVAL;
	u->scheme = url;
	u->scheme_len = (size_t)(a - 3 - url);
	end = a + strcspn(a, "/?#");
	u->rest = end;
	at = memchr(a, '@', (size_t)(end - a));
	h = a;
	if (at != NULL) {
		if (memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL)
			return -EINVAL;
		u->userinfo = a;
		u->userinfo_len = (size_t)(at - a);
		h = at + 1;
	}
	if (*h == '[') {
		/* An IPv6 literal: hex digits, ':' and '.', in brackets. */
		for (hend = h + 1; hend < end && *hend != ']'; hend++)
			if (!((*hend >= '0' && *hend <= '9') ||
			    (*hend >= 'a' && *hend <= 'f') ||
			    (*hend >= 'A' && *hend <= 'F') || *hend == ':' ||
			    *hend == '.'))
				return -EINVAL;
		if (hend == end || hend == h + 1)
			return -EINVAL;
		hend++;
	} else {
		for (hend = h; hend < end && *hend != ':'; hend++)
			if (!is_alnum(*hend) && *hend != '.' && *hend != '-')
				return -EINVAL;
		if (hend == h)
			return -EINVAL;
	}
	u->host = h;
	u->host_len = (size_t)(hend - h);
	if (hend < end) {
		if (*hend != ':')
			return -EINVAL;
		u->port = hend + 1;
		u->port_len = (size_t)(end - hend - 1);
		if (u->port_len == 0 || u->port_len > 5)
			return -EINVAL;
		for (size_t i = 0; i < u->port_len; i++)
			if (u->port[i] < '0' || u->port[i] > '9')
				return -EINVAL;
	}
	return 0;
}

/* The last '@' of ${url}'s authority, or NULL. */
static const char *
userinfo_end(const char *url)
{
	const char *a = authority(url);
	const char *at = NULL;

	if (a == NULL)
		return NULL;
	for (; *a != '\0' && *a != '/' && *a != '?' && *a != '#'; a++)
		if (*a == '@')
			at = a;
	return at;
}

int
url_has_userinfo(const char *url)
{
	return userinfo_end(url) != NULL;
}

int
url_redact(const char *url, char *out, size_t cap)
{
	const char *at = userinfo_end(url);
	int n;

	if (cap == 0)
		return -ERANGE;
	if (at == NULL)
		n = snprintf(out, cap, "%s", url);
	else
		n = snprintf(out, cap, "%.*s%s",
		    (int)(authority(url) - url), url, at + 1);
	return n < 0 || (size_t)n >= cap ? -ERANGE : 0;
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
url_basic_auth(const char *userinfo, size_t len, char *out, size_t cap)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char pre[] = "Authorization: Basic ";
	uint8_t plain[1024];
	size_t n = 0;
	size_t o;
	int has_colon = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)userinfo[i];

		if (c == '%') {
			int hi = i + 2 < len ? hex_val(userinfo[i + 1]) : -1;
			int lo = i + 2 < len ? hex_val(userinfo[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == ':' && !has_colon) {
			has_colon = 1;
		}
		if (c < 0x20 || c == 0x7f)
			return -EINVAL;
		if (n + 2 > sizeof(plain))
			return -ERANGE;
		plain[n++] = (uint8_t)c;
	}
	/* "token@host": git would ask for a password; the token is all. */
	if (!has_colon)
		plain[n++] = ':';
	o = sizeof(pre) - 1;
	if (o + 4 * ((n + 2) / 3) + 1 > cap)
		return -ERANGE;
	memcpy(out, pre, o);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)plain[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)plain[i + 1] << 8;
		if (i + 2 < n)
			v |= plain[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	explicit_bzero(plain, sizeof(plain));
	return 0;
}

int
url_host_is(const struct url_parts *u, const char *host)
{
	const char *colon = strrchr(host, ':');
	const char *bracket = strchr(host, ']');
	const char *port = u->port;
	size_t port_len = u->port_len;
	size_t hlen;

	/* "[::1]" has colons of its own: a port follows the bracket. */
	if (colon != NULL && host[0] == '[' &&
	    (bracket == NULL || colon < bracket))
		colon = NULL;
	hlen = colon != NULL ? (size_t)(colon - host) : strlen(host);
	if (hlen != u->host_len || strncasecmp(host, u->host, hlen) != 0)
		return 0;
	if (colon == NULL)
		return 1;
	if (port == NULL) {
		if (u->scheme_len == 5 &&
		    strncasecmp(u->scheme, "https", 5) == 0)
			port = "443";
		else if (u->scheme_len == 4 &&
		    strncasecmp(u->scheme, "http", 4) == 0)
			port = "80";
		else
			return 0;
		port_len = strlen(port);
	}
	return strlen(colon + 1) == port_len &&
	    strncmp(colon + 1, port, port_len) == 0;
}
