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
    "usage: amber mount STORE MOUNTPOINT [options] [amberfs options...]\n"
    "\n"
    "Mount STORE read-only at MOUNTPOINT by running amberfs: the one beside\n"
    "the amber binary if there is one, else the one in PATH.  These options\n"
    "are turned into amberfs's -o options; anything else goes to amberfs\n"
    "as it is (see amberfs --help and amberfs(1)).\n"
    "\n"
    "  --passphrase-file F  -o passphrase_file=F\n"
    "  --index-dir D        -o index=D\n"
    "  --key-id HEX         -o key_id=HEX\n"
    "  --s3-endpoint URL    -o s3_endpoint=URL\n"
    "  --s3-credentials F   -o credentials_file=F\n"
    "  --s3-virtual-host    -o s3_virtual_host\n"
    "  --insecure-http      -o insecure_http\n"
    "  -h, --help           show this help\n";

/* Our long options that have an amberfs -o equivalent. */
static const struct {
	const char *name;	/* without the leading "--" */
	const char *fuse;	/* the -o option ("...=" if it takes one) */
	int has_arg;
} xlat[] = {
	{ "passphrase-file", "passphrase_file=", 1 },
	{ "index-dir", "index=", 1 },
	{ "key-id", "key_id=", 1 },
	{ "s3-endpoint", "s3_endpoint=", 1 },
	{ "s3-credentials", "credentials_file=", 1 },
	{ "s3-virtual-host", "s3_virtual_host", 0 },
	{ "insecure-http", "insecure_http", 0 },
};
#define N_XLAT (sizeof(xlat) / sizeof(xlat[0]))

/*
 * "-o" argument for ${fuse} and ${val}: FUSE splits -o on commas, so
 * commas and backslashes in the value are escaped with a backslash.
 */
static char *
fuse_opt(const char *fuse, const char *val)
{
	size_t n = strlen(fuse) + 2 * (val != NULL ? strlen(val) : 0) + 1;
	char *out = malloc(n);
	char *p;

	if (out == NULL)
		return NULL;
	p = stpcpy(out, fuse);
	for (; val != NULL && *val != '\0'; val++) {
		if (*val == ',' || *val == '\\')
			*p++ = '\\';
		*p++ = *val;
	}
	*p = '\0';
	return out;
}

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
	char **made = NULL;	/* the "-o" values we made */
	const char *val;
	const char *eq;
	size_t k;
	size_t nlen;
	int n = 1;
	int n_plain = 0;
	int n_made = 0;
	int is_rest = 0;
	int r = CLI_EXIT_ERROR;
	int i;

	/* Each of ours becomes "-o" "x=y": at most twice the slots. */
	if ((args = calloc(2 * (size_t)argc + 2, sizeof(*args))) == NULL ||
	    (made = calloc((size_t)argc, sizeof(*made))) == NULL) {
		free(args);
		cli_err(argv[0], "out of memory");
		return CLI_EXIT_ERROR;
	}
	args[0] = (char *)"amberfs";
	for (i = 1; i < argc; i++) {
		if (is_rest || strncmp(argv[i], "--", 2) != 0 ||
		    argv[i][2] == '\0') {
			if (strcmp(argv[i], "--") == 0)
				is_rest = 1;
			else if (argv[i][0] != '-')
				n_plain++;
			args[n++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			r = cli_usage(argv[0], usage, 0);
			goto out;
		}
		if (strcmp(argv[i], "--key-file") == 0 ||
		    strncmp(argv[i], "--key-file=", 11) == 0) {
			cli_err(argv[0], "--key-file: a mount reads, and needs "
			    "the passphrase");
			r = CLI_EXIT_USAGE;
			goto out;
		}
		eq = strchr(argv[i], '=');
		nlen = eq != NULL ? (size_t)(eq - argv[i] - 2) :
		    strlen(argv[i] + 2);
		for (k = 0; k < N_XLAT; k++)
			if (strlen(xlat[k].name) == nlen &&
			    strncmp(argv[i] + 2, xlat[k].name, nlen) == 0)
				break;
		if (k == N_XLAT) {
			args[n++] = argv[i];	/* amberfs's business */
			continue;
		}
		val = NULL;
		if (xlat[k].has_arg && eq != NULL) {
			val = eq + 1;
		} else if (xlat[k].has_arg) {
			if (i + 1 >= argc) {
				cli_err(argv[0], "--%s needs an argument",
				    xlat[k].name);
				r = CLI_EXIT_USAGE;
				goto out;
			}
			val = argv[++i];
		} else if (eq != NULL) {
			cli_err(argv[0], "--%s takes no argument",
			    xlat[k].name);
			r = CLI_EXIT_USAGE;
			goto out;
		}
		if ((made[n_made] = fuse_opt(xlat[k].fuse, val)) == NULL) {
			cli_err(argv[0], "out of memory");
			goto out;
		}
		args[n++] = (char *)"-o";
		args[n++] = made[n_made++];
	}
	if (strcmp(argc > 1 ? argv[1] : "", "-h") == 0) {
		r = cli_usage(argv[0], usage, 0);
		goto out;
	}
	if (n_plain < 2) {
		r = cli_usage(argv[0], usage, 1);
		goto out;
	}
	args[n] = NULL;
	fflush(NULL);
	if (sibling(path, sizeof(path)) == 0)
		execv(path, args);
	else
		execvp("amberfs", args);
	cli_err(argv[0], "cannot run amberfs: %s", strerror(errno));
	r = CLI_EXIT_ERROR;
out:
	for (i = 0; i < n_made; i++)
		free(made[i]);
	free(made);
	free(args);
	return r;
}
