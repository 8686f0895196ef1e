/*
 * cmd_mount.c: `amber mount STORE MOUNTPOINT [amberfs options...]` runs
 * amberfs(1) with the same arguments.  amber does not link FUSE: the
 * driver is its own program, looked for first beside the amber binary
 * (so a build tree or a staged install uses its own), then in PATH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"

static const char usage[] =
    "usage: amber mount STORE MOUNTPOINT [amberfs options...]\n"
    "\n"
    "Mount STORE read-only at MOUNTPOINT by running amberfs with the same\n"
    "arguments: amberfs beside the amber binary if there is one, else the\n"
    "one in PATH.  See amberfs --help and amberfs(1) for the options.\n";

/* "${dir of /proc/self/exe}/amberfs" into ${buf}, or -ENOENT. */
static int
sibling(char *buf, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return -errno;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, cap, "%s/amberfs", self) >= cap)
		return -ENAMETOOLONG;
	if (access(buf, X_OK) != 0)
		return -ENOENT;
	return 0;
}

int
cmd_mount(int argc, char **argv)
{
	char path[PATH_MAX + 16];
	char **args = NULL;
	int n_plain = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return cli_usage(argv[0], usage, 0);
		if (argv[i][0] != '-')
			n_plain++;
	}
	if (n_plain < 2)
		return cli_usage(argv[0], usage, 1);
	if ((args = calloc((size_t)argc + 1, sizeof(*args))) == NULL) {
		cli_err(argv[0], "out of memory");
		return CLI_EXIT_ERROR;
	}
	args[0] = (char *)"amberfs";
	for (i = 1; i < argc; i++)
		args[i] = argv[i];
	args[argc] = NULL;
	fflush(NULL);
	if (sibling(path, sizeof(path)) == 0)
		execv(path, args);
	else
		execvp("amberfs", args);
	cli_err(argv[0], "cannot run amberfs: %s", strerror(errno));
	free(args);
	return CLI_EXIT_ERROR;
}
