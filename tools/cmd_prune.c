/*
 * cmd_prune.c: `amber prune STORE` deletes what the retention policy
 * expires from a local store (amber-store(5), PRUNING).
 */
#include "cli.h"
#include "cmd.h"

static const char usage[] =
    "usage: amber prune STORE --dry-run\n";

int
cmd_prune(int argc, char **argv)
{
	(void)argc;
	return cli_usage(argv[0], usage, 1);
}
