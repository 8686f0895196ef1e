/*
 * test_url.c: tools/src/forge/url.c (URL splitting, credentials taken out of a
 * URL) and the clone-URL rule of tools/src/forge/forge_discover.c, from
 * libtools.a.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "url.h"
#include "sources.h"
#include "forge_json.h"
#include "forge_http.h"
#include "forge_discover.h"

static void
redact_is(const char *in, const char *want)
{
	char out[256];

	CHECK(url_redact(in, out, sizeof(out)) == 0);
	CHECK(strcmp(out, want) == 0);
	if (strcmp(out, want) != 0)
		fprintf(stderr, "  %s -> %s\n", in, out);
}

static void
test_parse(void)
{
	struct url_parts u;

	CHECK(url_parse("https://tok@git.example.org:8443/g/p.git?x#y",
	    &u) == 0);
	CHECK(u.scheme_len == 5 && strncmp(u.scheme, "https", 5) == 0);
	CHECK(u.userinfo_len == 3 && strncmp(u.userinfo, "tok", 3) == 0);
	CHECK(u.host_len == 15 && strncmp(u.host, "git.example.org", 15) == 0);
	CHECK(u.port_len == 4 && strncmp(u.port, "8443", 4) == 0);
	CHECK(strcmp(u.rest, "/g/p.git?x#y") == 0);
	CHECK(url_parse("http://[::1]:80/x", &u) == 0 && u.host_len == 5);
	CHECK(url_parse("https://h", &u) == 0 && strcmp(u.rest, "") == 0);
	/* Whatever another parser could read as another host. */
	CHECK(url_parse("https://a@b@c/x", &u) == -EINVAL);
	CHECK(url_parse("https://good\\@evil/x", &u) == -EINVAL);
	CHECK(url_parse("https://good%2eorg/x", &u) == -EINVAL);
	CHECK(url_parse("https://good.org /x", &u) == -EINVAL);
	CHECK(url_parse("https://good.org\n/x", &u) == -EINVAL);
	CHECK(url_parse("https://h:/x", &u) == -EINVAL);
	CHECK(url_parse("https://h:123456/x", &u) == -EINVAL);
	CHECK(url_parse("https://h:8a/x", &u) == -EINVAL);
	CHECK(url_parse("https:///x", &u) == -EINVAL);
	CHECK(url_parse("file:///etc/passwd", &u) == -EINVAL);
	CHECK(url_parse("git@github.com:o/r.git", &u) == -EINVAL);
	CHECK(url_parse("https://[::1/x", &u) == -EINVAL);
}

static void
test_redact(void)
{
	char small[8];

	redact_is("https://tok@h/p", "https://h/p");
	redact_is("https://u:p%40w@h:1/p@x", "https://h:1/p@x");
	redact_is("https://a@b@c/x", "https://c/x");
	redact_is("ssh://git@h/p", "ssh://h/p");
	redact_is("git@github.com:o/r.git", "git@github.com:o/r.git");
	redact_is("/srv/git/r.git", "/srv/git/r.git");
	redact_is("https://h/p?u=a@b", "https://h/p?u=a@b");
	CHECK(url_has_userinfo("http://t@h/") == 1);
	CHECK(url_has_userinfo("http://h/@") == 0);
	CHECK(url_redact("https://h/long", small, sizeof(small)) == -ERANGE);
	CHECK(strlen(small) == sizeof(small) - 1);
}

static void
test_basic(void)
{
	char h[128];

	/* RFC 7617's example: Aladdin:open sesame */
	CHECK(url_basic_auth("Aladdin:open%20sesame", 21, h, sizeof(h)) == 0);
	CHECK(strcmp(h, "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
	    == 0);
	/* A token alone: user "tok", empty password. */
	CHECK(url_basic_auth("tok", 3, h, sizeof(h)) == 0);
	CHECK(strcmp(h, "Authorization: Basic dG9rOg==") == 0);
	CHECK(url_basic_auth("a%0d%0aX: y", 11, h, sizeof(h)) == -EINVAL);
	CHECK(url_basic_auth("a%4", 3, h, sizeof(h)) == -EINVAL);
	CHECK(url_basic_auth("a%zz", 4, h, sizeof(h)) == -EINVAL);
	CHECK(url_basic_auth("abc", 3, h, 20) == -ERANGE);
}

static int
check_url(const char *api, const char *web, const char *url,
    const char *allow)
{
	const char *a[1] = { allow };
	char why[512] = "";
	int r = forge_discover_check(api, web, url, a, allow ? 1 : 0, why,
	    sizeof(why));

	/* A refusal always says why. */
	CHECK(r == 0 || (r == -EPERM && why[0] != '\0'));
	return r;
}

static void
test_clone_rule(void)
{
	const char *gh = "https://api.github.com";
	const char *gl = "https://git.example.org/api/v4";
	const char *lo = "http://127.0.0.1:8080/api/v4";

	CHECK(check_url(gh, "github.com", "https://github.com/o/r.git",
	    NULL) == 0);
	CHECK(check_url(gh, "github.com", "https://GitHub.com:443/o/r.git",
	    NULL) == 0);
	CHECK(check_url(gh, "github.com", "https://gitlab.com/o/r.git",
	    NULL) == -EPERM);
	CHECK(check_url(gh, "github.com", "http://github.com/o/r.git",
	    NULL) == -EPERM);
	CHECK(check_url(gh, "github.com", "file:///srv/r.git", NULL) ==
	    -EPERM);
	CHECK(check_url(gh, "github.com", "file:///srv/r.git", "github.com")
	    == -EPERM);
	CHECK(check_url(gh, "github.com", "ext::sh -c x", NULL) == -EPERM);
	CHECK(check_url(gh, "github.com", "ssh://git@github.com/o/r", NULL)
	    == -EPERM);
	CHECK(check_url(gh, "github.com", "https://github.com@evil.org/o/r",
	    NULL) == -EPERM);
	CHECK(check_url(gh, "github.com", "https://github.com.evil.org/o/r",
	    NULL) == -EPERM);
	CHECK(check_url(gh, "github.com", "https://evil.org\\@github.com/o",
	    NULL) == -EPERM);
	CHECK(check_url(gl, "git.example.org",
	    "https://git.example.org/g/p.git", NULL) == 0);
	CHECK(check_url(gl, "git.example.org",
	    "https://git2.example.org/g/p.git", NULL) == -EPERM);
	CHECK(check_url(gl, "git.example.org",
	    "https://git2.example.org/g/p.git", "GIT2.example.org") == 0);
	CHECK(check_url(gl, "git.example.org",
	    "https://git2.example.org:8443/g/p.git", "git2.example.org:443")
	    == -EPERM);
	CHECK(check_url(gl, "git.example.org",
	    "https://git2.example.org/g/p.git", "git2.example.org:443") == 0);
	/* A plain-http API: http to itself only, host and port. */
	CHECK(check_url(lo, "127.0.0.1", "http://127.0.0.1:8080/g.git", NULL)
	    == 0);
	CHECK(check_url(lo, "127.0.0.1", "http://127.0.0.1:8081/g.git", NULL)
	    == -EPERM);
	CHECK(check_url(lo, "127.0.0.1", "http://localhost:8080/g.git", NULL)
	    == -EPERM);
	CHECK(check_url(lo, "127.0.0.1", "http://localhost:8080/g.git",
	    "localhost") == 0);
	CHECK(check_url(gl, "git.example.org", "http://git.example.org/g.git",
	    "git.example.org") == -EPERM);
}

int
main(void)
{
	test_parse();
	test_redact();
	test_basic();
	test_clone_rule();
	return check_done("test_url");
}
