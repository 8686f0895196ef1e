/*
 * cmd_index.c: `amber index sync|rebuild STORE`.  The index is derived
 * data in a local cache directory; sync adds what the store holds and
 * the index does not know yet, rebuild drops it all first.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "store.h"

static const char usage[] =
    "usage: amber index sync STORE\n"
    "       amber index rebuild STORE\n"
    "\n"
    "Bring the local index of STORE up to date (sync), or recreate it\n"
    "from the store alone (rebuild).\n"
    "\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

int
cmd_index(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c;
	struct store *s = NULL;
	int is_rebuild;
	int r;

	if ((r = cli_parse(argc, argv, longopts, usage, 2, &c)) >= 0)
		return r;
	if (strcmp(argv[optind], "rebuild") == 0)
		is_rebuild = 1;
	else if (strcmp(argv[optind], "sync") == 0)
		is_rebuild = 0;
	else
		return cli_usage(argv[0], usage, 1);
	c.no_index_update = 1;
	if ((r = cli_open(argv[0], argv[optind + 1], &c, 1, &s)) != 0)
		goto out;
	if ((r = store_index_sync(s, is_rebuild)) < 0) {
		cli_err(argv[0], "%s: index %s failed: %s", argv[optind + 1],
		    argv[optind], cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (!c.is_quiet)
		fprintf(stderr, "%s: index %s in %s\n", argv[0],
		    is_rebuild ? "rebuilt" : "up to date",
		    store_index_dir(s));
	r = CLI_EXIT_OK;
out:
	store_close(s);
	return r;
}
