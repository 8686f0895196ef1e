/*
 * test_cli.c: the pure helpers of tools/cli/cli.c (from libtools.a):
 * SNAPSHOT:PATH splitting (snapshot names hold
 * colons), UTF-8 validation, escaping of raw-byte names, JSON names, KDF
 * and number parsing, and the exit-status table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "cli.h"
#include "forge_http.h"

static void
split_ok(const char *arg, const char *want_snap, const char *want_path)
{
	char *snap = NULL;
	char *path = NULL;
	int r = cli_split_spec(arg, &snap, &path);

	CHECK(r == 0);
	if (r != 0)
		return;
	CHECK(strcmp(snap, want_snap) == 0);
	CHECK(strcmp(path, want_path) == 0);
	if (strcmp(snap, want_snap) != 0 || strcmp(path, want_path) != 0)
		fprintf(stderr, "  %s -> '%s' '%s'\n", arg, snap, path);
	free(snap);
	free(path);
}

static void
split_bad(const char *arg)
{
	char *snap = NULL;
	char *path = NULL;

	CHECK(cli_split_spec(arg, &snap, &path) == -EINVAL);
	CHECK(snap == NULL && path == NULL);
}

static void
test_split(void)
{
	split_ok("latest", "latest", "");
	split_ok("latest:", "latest", "");
	split_ok("latest:files/a", "latest", "files/a");
	split_ok("latest:/files//a/./b/", "latest", "files/a/b");
	split_ok("3f2a01:files/x:y", "3f2a01", "files/x:y");
	split_ok("2026-11-27T03:00:00Z", "2026-11-27T03:00:00Z", "");
	split_ok("2026-11-27T03:00:00Z:files/a:b", "2026-11-27T03:00:00Z",
	    "files/a:b");
	split_ok("2026-11-27T03:00:00Z-2:repos/r", "2026-11-27T03:00:00Z-2",
	    "repos/r");
	split_ok("2026-11-27T03:00:00Z-12", "2026-11-27T03:00:00Z-12", "");
	/* Not a name (no Z): the first colon ends the spec. */
	split_ok("2026-11-27T03:00:00:x", "2026-11-27T03", "00:00:x");
	/* "-" not followed by digits is not part of the name. */
	split_ok("2026-11-27T03:00:00Z-x", "2026-11-27T03", "00:00Z-x");
	split_ok("latest:a/.", "latest", "a");
	split_ok("latest:.", "latest", "");
	split_bad("");
	split_bad(":files");
	split_bad("latest:files/../x");
	split_bad("latest:..");
	split_bad("2026-11-27T03:00:00Z:a/../b");
}

static void
test_utf8(void)
{
	CHECK(name_is_utf8((const uint8_t *)"", 0));
	CHECK(name_is_utf8((const uint8_t *)"abc", 3));
	CHECK(name_is_utf8((const uint8_t *)"\xc3\xa9", 2));
	CHECK(name_is_utf8((const uint8_t *)"\xf0\x9f\x98\x80", 4));
	CHECK(!name_is_utf8((const uint8_t *)"\xff", 1));
	CHECK(!name_is_utf8((const uint8_t *)"\xc3", 1));	/* short */
	CHECK(!name_is_utf8((const uint8_t *)"\xc0\xaf", 2));	/* overlong */
	CHECK(!name_is_utf8((const uint8_t *)"\xe0\x80\xaf", 3));
	CHECK(!name_is_utf8((const uint8_t *)"\xed\xa0\x80", 3)); /* D800 */
	CHECK(!name_is_utf8((const uint8_t *)"\xf4\x90\x80\x80", 4));
	CHECK(!name_is_utf8((const uint8_t *)"a\0b", 3));
}

static int
escaped_is(const char *name, size_t len, const char *want)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int ok;

	if (f == NULL)
		return 0;
	name_print(f, (const uint8_t *)name, len, 1);
	fclose(f);
	ok = strcmp(buf, want) == 0;
	if (!ok)
		fprintf(stderr, "  escaped: '%s', want '%s'\n", buf, want);
	free(buf);
	return ok;
}

static void
test_escape(void)
{
	CHECK(escaped_is("plain", 5, "plain"));
	CHECK(escaped_is("a\nb", 3, "a\\nb"));
	CHECK(escaped_is("a\tb", 3, "a\\tb"));
	CHECK(escaped_is("back\\slash", 10, "back\\\\slash"));
	CHECK(escaped_is("bad\xff\xfe", 5, "bad\\xff\\xfe"));
	CHECK(escaped_is("\x1b[31m", 5, "\\x1b[31m"));
	CHECK(escaped_is("caf\xc3\xa9", 5, "caf\xc3\xa9"));
	/* U+009B (CSI) as valid UTF-8 is still a control character. */
	CHECK(escaped_is("\xc2\x9b", 2, "\\xc2\\x9b"));
	CHECK(escaped_is("\x7f", 1, "\\x7f"));
}

static void
test_json(void)
{
	json_t *o = json_object();
	const char *s;

	CHECK(o != NULL);
	CHECK(cli_json_bytes(o, "name", (const uint8_t *)"ok", 2) == 0);
	CHECK(strcmp(json_string_value(json_object_get(o, "name")), "ok") ==
	    0);
	CHECK(json_object_get(o, "name_hex") == NULL);
	CHECK(cli_json_bytes(o, "path", (const uint8_t *)"x\ny\xff", 4) == 0);
	s = json_string_value(json_object_get(o, "path"));
	CHECK(s != NULL && strcmp(s, "x\ny\xef\xbf\xbd") == 0);
	s = json_string_value(json_object_get(o, "path_hex"));
	CHECK(s != NULL && strcmp(s, "780a79ff") == 0);
	json_decref(o);
}

static void
test_parse(void)
{
	struct store_kdf k;
	uint64_t v = 0;

	memset(&k, 0, sizeof(k));
	CHECK(cli_kdf_parse("log2n=10,r=8,p=1", &k) == 0);
	CHECK(k.log2_n == 10 && k.r == 8 && k.p == 1);
	memset(&k, 0, sizeof(k));
	CHECK(cli_kdf_parse("r=4", &k) == 0);
	CHECK(k.log2_n == 0 && k.r == 4 && k.p == 0);
	CHECK(cli_kdf_parse("log2n=0", &k) == -EINVAL);
	CHECK(cli_kdf_parse("log2n=41", &k) == -EINVAL);
	CHECK(cli_kdf_parse("log2n=x", &k) == -EINVAL);
	CHECK(cli_kdf_parse("n=10", &k) == -EINVAL);
	CHECK(cli_kdf_parse("log2n", &k) == -EINVAL);
	CHECK(cli_kdf_parse("r=1048576,p=1024", &k) == -EINVAL);
	CHECK(k.r == 4);	/* unchanged on error */
	CHECK(cli_u64_parse("18446744073709551615", UINT64_MAX, &v) == 0);
	CHECK(v == UINT64_MAX);
	CHECK(cli_u64_parse("18446744073709551616", UINT64_MAX, &v) ==
	    -EINVAL);
	CHECK(cli_u64_parse("", 10, &v) == -EINVAL);
	CHECK(cli_u64_parse("-1", 10, &v) == -EINVAL);
	CHECK(cli_u64_parse("11", 10, &v) == -EINVAL);
	CHECK(cli_u64_parse("10", 10, &v) == 0 && v == 10);
}

static void
test_exit(void)
{
	/* Only 0 and -errno come in: exit statuses are never passed on. */
	CHECK(cli_exit_status(0) == 0);
	/* A forge that refused its token is not a wrong key (exit 4). */
	CHECK(cli_exit_status(-FORGE_ETOKEN) == 1);
	CHECK(strcmp(cli_strerror(-FORGE_ETOKEN),
	    "the forge refused the token") == 0);
	CHECK(strcmp(cli_strerror(-EACCES), "wrong passphrase or key") == 0);
	CHECK(cli_exit_status(-EACCES) == 4);
	CHECK(cli_exit_status(-EPERM) == 4);
	CHECK(cli_exit_status(-ENOENT) == 1);
	CHECK(cli_exit_status(-EBADMSG) == 1);
}

int
main(void)
{
	test_split();
	test_utf8();
	test_escape();
	test_json();
	test_parse();
	test_exit();
	return check_done("test_cli");
}
