/*
 * main.c: the `amber` command.  It finds the subcommand, hands it the
 * remaining arguments with argv[0] set to "amber <name>" (so getopt's
 * messages and ours name it), and exits with what it returns.  Every
 * subcommand is in its own cmd_<name>.c and declared in cmd.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "store.h"

#ifndef AMBER_VERSION
#define AMBER_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cmd_init, "create a new store" },
	{ "key", cmd_key, "passphrases and ingest keys" },
	{ "ingest", cmd_ingest, "take a snapshot of sources" },
	{ "snapshots", cmd_snapshots, "list the snapshots" },
	{ "ls", cmd_ls, "list a directory of a snapshot" },
	{ "cat", cmd_cat, "write a file of a snapshot to stdout" },
	{ "diff", cmd_diff, "list what differs between two snapshots" },
	{ "restore", cmd_restore, "copy a snapshot or part of it out" },
	{ "verify", cmd_verify, "check the store for damage" },
	{ "index", cmd_index, "rebuild or sync the local index" },
	{ "mount", cmd_mount, "mount the store read-only (amberfs)" },
	{ "doctor", cmd_doctor, "check a store's backend settings" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: amber COMMAND [ARGS...]\n"
	    "       amber COMMAND --help\n"
	    "       amber --version\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f, "\nSee amber(1).\n");
}

static const struct command *
find(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
run(const struct command *c, int argc, char **argv)
{
	char label[64];
	char *saved = argv[0];
	int r;

	snprintf(label, sizeof(label), "amber %s", c->name);
	argv[0] = label;
	cli_getopt_reset();
	r = c->fn(argc, argv);
	argv[0] = saved;
	return r;
}

int
main(int argc, char **argv)
{
	const struct command *c;
	char *help_argv[3];

	store_log_set(cli_log);
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("amber %s\n", AMBER_VERSION);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc < 3) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		if ((c = find(argv[2])) == NULL) {
			fprintf(stderr, "amber: unknown command '%s'\n",
			    argv[2]);
			return CLI_EXIT_USAGE;
		}
		help_argv[0] = argv[2];
		help_argv[1] = (char *)"--help";
		help_argv[2] = NULL;
		return run(c, 2, help_argv);
	}
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "amber: unknown command '%s' "
		    "(see amber help)\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	return run(c, argc - 1, argv + 1);
}
