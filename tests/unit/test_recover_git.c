/*
 * test_recover_git.c: the pure parts of tools/recover/recover_git.c, which read
 * what a hostile snapshot or forge hands over: ref names (they go into
 * refspecs), packed-refs and ls-remote output, the pack file names copied
 * out of a stored mirror, and the environment that carries the token to
 * git (never its command line).  It links the tools' library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "recover_git.h"

static void
test_ref_names(void)
{
	static const char *const good[] = { "refs/heads/main",
	    "refs/heads/feature/x", "refs/tags/v1.2", "refs/notes/commits",
	    "refs/merge-requests/1/head", "refs/heads/100%done",
	    "refs/heads/a-b_c+d@e", NULL };
	static const char *const bad[] = { "HEAD", "refs/", "heads/main",
	    "refs/heads/a..b", "refs/heads/a:b", "refs/heads/a b",
	    "refs/heads/a\nb", "refs/heads/a\tb", "refs/heads/a~1",
	    "refs/heads/a^", "refs/heads/a?", "refs/heads/a*",
	    "refs/heads/a[", "refs/heads/a\\b", "refs/heads/x.lock",
	    "refs/heads/x.lock/y", "refs/heads/.hidden", "refs/heads//x",
	    "refs/heads/x/", "refs/heads/x.", "refs/heads/a@{1}",
	    "refs/heads/\x7f", NULL };
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		CHECK(recover_ref_name_ok(good[i]) == 1);
	for (i = 0; bad[i] != NULL; i++)
		CHECK(recover_ref_name_ok(bad[i]) == 0);
}

static void
test_packed_refs(void)
{
	static const char ok[] =
	    "# pack-refs with: peeled fully-peeled sorted \n"
	    "1111111111111111111111111111111111111111 refs/tags/v1\n"
	    "^2222222222222222222222222222222222222222\n"
	    "3333333333333333333333333333333333333333 refs/heads/main\n";
	struct recover_refs r;
	const struct recover_ref *f;

	memset(&r, 0, sizeof(r));
	CHECK(recover_refs_parse(ok, sizeof(ok) - 1, ' ', &r) == 0);
	CHECK(r.n == 2);
	CHECK(r.n == 2 && strcmp(r.v[0].name, "refs/heads/main") == 0);
	f = recover_refs_find(&r, "refs/tags/v1");
	CHECK(f != NULL && strcmp(f->oid,
	    "1111111111111111111111111111111111111111") == 0);
	CHECK(recover_refs_find(&r, "refs/heads/nope") == NULL);
	recover_refs_fini(&r);

	/* A name twice, a short id, an id in capitals, a refspec's colon. */
	memset(&r, 0, sizeof(r));
	CHECK(recover_refs_parse("1111111111111111111111111111111111111111 refs/a\n"
	    "2222222222222222222222222222222222222222 refs/a\n", 82, ' ',
	    &r) == -EBADMSG);
	recover_refs_fini(&r);
	CHECK(recover_refs_parse("1111 refs/heads/a\n", 18, ' ', &r) == -EBADMSG);
	recover_refs_fini(&r);
	CHECK(recover_refs_parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA refs/a\n",
	    48, ' ', &r) == -EBADMSG);
	recover_refs_fini(&r);
	CHECK(recover_refs_parse("1111111111111111111111111111111111111111 "
	    "refs/heads/a:refs/heads/b\n", 67, ' ', &r) == -EBADMSG);
	recover_refs_fini(&r);
	CHECK(recover_refs_parse("no space here\n", 14, ' ', &r) == -EBADMSG);
	recover_refs_fini(&r);

	/* ls-remote: HEAD and peeled tags are skipped. */
	{
		static const char ls[] =
		    "3333333333333333333333333333333333333333\tHEAD\n"
		    "3333333333333333333333333333333333333333\trefs/heads/main\n"
		    "1111111111111111111111111111111111111111\trefs/tags/v1\n"
		    "2222222222222222222222222222222222222222\trefs/tags/v1^{}\n";

		CHECK(recover_refs_parse(ls, sizeof(ls) - 1, '\t', &r) == 0);
		CHECK(r.n == 2);
		recover_refs_fini(&r);
	}
}

static void
test_pack_names(void)
{
	static const char *const good[] = {
	    "pack-0123456789abcdef0123456789abcdef01234567.pack",
	    "pack-0123456789abcdef0123456789abcdef01234567.idx",
	    "pack-0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	    "abcdef.pack", NULL };
	static const char *const bad[] = { "pack-.pack", "pack-12.pack",
	    "pack-0123456789abcdef0123456789abcdef01234567.keep",
	    "pack-0123456789abcdef0123456789abcdef01234567.pack.pack",
	    "pack-0123456789ABCDEF0123456789abcdef01234567.pack",
	    "pack-0123456789abcdef0123456789abcdef01234567",
	    "../../hooks/pre-push", "hooks", "config", NULL };
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		CHECK(recover_is_pack_name((const uint8_t *)good[i],
		    strlen(good[i])) == 1);
	for (i = 0; bad[i] != NULL; i++)
		CHECK(recover_is_pack_name((const uint8_t *)bad[i],
		    strlen(bad[i])) == 0);
}

static int
env_has(char **envp, const char *s)
{
	for (; *envp != NULL; envp++)
		if (strcmp(*envp, s) == 0)
			return 1;
	return 0;
}

static void
test_remote(void)
{
	struct recover_remote rm;
	const char *u = "https://gitlab.example.org/grp/app.git";

	CHECK(setenv("GIT_CONFIG_COUNT", "9", 1) == 0);
	CHECK(setenv("GIT_DIR", "/elsewhere", 1) == 0);
	CHECK(recover_remote_init(&rm, u, "oauth2", "s3cret") == 0);
	CHECK(strcmp(rm.url, u) == 0);
	/* base64("oauth2:s3cret") */
	CHECK(env_has(rm.envp, "GIT_CONFIG_VALUE_0=Authorization: Basic "
	    "b2F1dGgyOnMzY3JldA=="));
	CHECK(env_has(rm.envp, "GIT_CONFIG_KEY_0=http.https://gitlab."
	    "example.org/grp/app.git.extraHeader"));
	CHECK(env_has(rm.envp, "GIT_CONFIG_COUNT=2"));
	CHECK(!env_has(rm.envp, "GIT_CONFIG_COUNT=9"));
	CHECK(!env_has(rm.envp, "GIT_DIR=/elsewhere"));
	CHECK(env_has(rm.envp, "GIT_CONFIG_KEY_1=http.followRedirects"));
	CHECK(env_has(rm.envp, "GIT_ALLOW_PROTOCOL=https"));
	CHECK(env_has(rm.envp, "GIT_TERMINAL_PROMPT=0"));
	CHECK(strstr(rm.url, "s3cret") == NULL);
	recover_remote_fini(&rm);

	/* Credentials in the URL, other schemes, a token that would split
	 * the user from the password: refused. */
	CHECK(recover_remote_init(&rm, "https://u:p@h/x.git", "oauth2",
	    "t") == -EINVAL);
	CHECK(recover_remote_init(&rm, "ssh://h/x.git", "oauth2", "t") ==
	    -EINVAL);
	CHECK(recover_remote_init(&rm, "file:///x.git", "oauth2", "t") ==
	    -EINVAL);
	CHECK(recover_remote_init(&rm, "httpx://h/x.git", "oauth2", "t") ==
	    -EINVAL);
	CHECK(recover_remote_init(&rm, u, "oauth2", "a@b") == -EINVAL);
	/* No token: no header at all. */
	CHECK(recover_remote_init(&rm, u, "oauth2", NULL) == 0);
	for (char **e = rm.envp; *e != NULL; e++)
		CHECK(strstr(*e, "Authorization") == NULL);
	recover_remote_fini(&rm);
}

int
main(void)
{
	test_ref_names();
	test_packed_refs();
	test_pack_names();
	test_remote();
	return check_done("test_recover_git");
}
