/*
 * cmd_cat.c: `amber cat STORE SNAPSHOT:PATH` writes one stored file to
 * stdout.  Every byte is authenticated before it is written; a damaged
 * chunk stops the output with an error naming the path and the offset.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "io.h"
#include "store.h"

static const char usage[] =
    "usage: amber cat STORE SNAPSHOT:PATH\n"
    "\n"
    "Write the file PATH of SNAPSHOT to stdout (a symbolic link: its\n"
    "target).\n"
    "\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

#define CAT_BUF (1u << 20)

int
cmd_cat(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_found f = { 0 };
	const struct store_entry *e;
	struct cli_common c;
	struct store *s = NULL;
	uint8_t *buf = NULL;
	const char *spec;
	uint64_t off = 0;
	size_t got;
	int r;

	if ((r = cli_parse(argc, argv, longopts, usage, 2, &c)) >= 0)
		return r;
	spec = argv[optind + 1];
	if ((r = cli_open(argv[0], argv[optind], &c, 1, &s)) != 0)
		goto out;
	if ((r = cli_find(argv[0], s, spec, &f)) != 0)
		goto out;
	e = f.entry;
	if (e->type == STORE_LNK) {
		if ((r = io_write_all(STDOUT_FILENO, e->target,
		    e->target_len)) < 0)
			goto write_error;
		r = CLI_EXIT_OK;
		goto out;
	}
	if (e->type != STORE_REG) {
		cli_err(argv[0], "%s: %s", spec, e->type == STORE_DIR ?
		    "is a directory" : "not a regular file");
		r = CLI_EXIT_ERROR;
		goto out;
	}
	if ((buf = malloc(CAT_BUF)) == NULL) {
		cli_err(argv[0], "out of memory");
		r = CLI_EXIT_ERROR;
		goto out;
	}
	while (off < e->size) {
		if ((r = store_read(s, e, off, buf, CAT_BUF, &got)) < 0) {
			cli_err(argv[0], "%s: at offset %llu: %s", spec,
			    (unsigned long long)off, cli_strerror(r));
			r = cli_exit_status(r);
			goto out;
		}
		if (got == 0)
			break;
		if ((r = io_write_all(STDOUT_FILENO, buf, got)) < 0)
			goto write_error;
		off += got;
	}
	if (off != e->size) {
		cli_err(argv[0], "%s: stored content ends at %llu of %llu "
		    "bytes", spec, (unsigned long long)off,
		    (unsigned long long)e->size);
		r = CLI_EXIT_ERROR;
		goto out;
	}
	if (e->flags & STORE_ENTRY_PARTIAL)
		cli_warn(argv[0], "%s: the file could not be read whole when "
		    "it was stored", spec);
	r = CLI_EXIT_OK;
	goto out;
write_error:
	cli_err(argv[0], "write error on stdout: %s", strerror(-r));
	r = CLI_EXIT_ERROR;
out:
	free(buf);
	cli_found_free(&f);
	store_close(s);
	return r;
}
