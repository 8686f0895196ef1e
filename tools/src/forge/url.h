/*
 * url.h: the parts of a URL that amber checks, or hides, before it gives
 * the URL to git or shows it to anyone: the host a forge's clone URL
 * names, and the credentials ("userinfo", https://TOKEN@host/...) that
 * must reach neither a manifest, nor a message, nor git's command line.
 * Pure (no I/O, no allocation), so that a fuzzer can drive it.
 */
#ifndef URL_H
#define URL_H

#include <stddef.h>

/* Pieces of a URL, borrowed from it; absent ones are NULL and 0. */
struct url_parts {
	const char *scheme;	/* "https" (without "://") */
	size_t scheme_len;
	const char *userinfo;	/* "user:password", still %-encoded */
	size_t userinfo_len;
	const char *host;	/* "example.org", "127.0.0.1" or "[::1]" */
	size_t host_len;
	const char *port;	/* decimal digits */
	size_t port_len;
	const char *rest;	/* "/path?query#fragment", may be "" */
};

/*
 * url_parse(url, u):
 * Split ${url}, of the form SCHEME://[USERINFO@]HOST[:PORT][/...], into
 * *${u}.  Refuses (-EINVAL) anything a lenient parser could read as
 * another host: a byte below 0x21 or 0x7f and above, a backslash, more
 * than one '@' before the path, a host that is not letters, digits, '.'
 * and '-' (or a bracketed IPv6 literal), an empty host, a port that is
 * not 1 to 5 digits.
 */
int url_parse(const char *url, struct url_parts *u);

/*
 * url_redact(url, out, cap):
 * ${url} without its userinfo ("https://TOKEN@h/p" -> "https://h/p"),
 * into ${out}: what may be stored as an origin, printed, or given to
 * git.  Anything that is not SCHEME://... is copied as it is (a local
 * path, or scp-like "git@host:path", whose user is no secret).  The
 * cut is made at the last '@' before the path, whatever the rest holds.
 * Returns -ERANGE (${out} holding a truncated copy) if ${cap} is too
 * small, else 0.
 */
int url_redact(const char *url, char *out, size_t cap);

/*
 * url_has_userinfo(url): 1 if ${url} is SCHEME://...@... with an '@'
 * before the path, else 0.
 */
int url_has_userinfo(const char *url);

/*
 * url_basic_auth(userinfo, len, out, cap):
 * The header "Authorization: Basic <base64 of user:password>" for the
 * ${len} bytes of a URL's ${userinfo} ("user:password", or "token" alone,
 * which stands for "token:"), %-escapes decoded as git decodes them.
 * Returns -ERANGE if ${cap} is too small, -EINVAL for a bad %-escape or
 * a decoded byte below 0x20 (which would split a header line).
 */
int url_basic_auth(const char *userinfo, size_t len, char *out, size_t cap);

/*
 * url_host_is(u, host):
 * 1 if the host of ${u} is ${host} (a host name, compared without regard
 * to case, or "host:port", which also compares the port; the default
 * port of http and https counts as given), else 0.
 */
int url_host_is(const struct url_parts *u, const char *host);

#endif
