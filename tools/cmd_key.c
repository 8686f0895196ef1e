/*
 * cmd_key.c: `amber key add STORE`, which wraps the master key under one
 * more passphrase (a new key object; the old ones stay valid, as nothing
 * in a store is ever deleted).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "store.h"

static const char usage[] =
    "usage: amber key add STORE [--new-passphrase-file F]\n"
    "                           [--kdf log2n=N,r=R,p=P]\n"
    "\n"
    "Add a passphrase to STORE.  The current passphrase comes from\n"
    "--passphrase-file, AMBER_PASSPHRASE_FILE, AMBER_PASSPHRASE or the\n"
    "terminal; the new one from --new-passphrase-file,\n"
    "AMBER_NEW_PASSPHRASE_FILE, AMBER_NEW_PASSPHRASE, or is asked for\n"
    "twice on the terminal.\n"
    "\n"
    "  --new-passphrase-file F  read the new passphrase from F\n"
    "  --kdf PARAMS             scrypt parameters for the new key\n"
    CLI_COMMON_HELP;

enum {
	OPT_NEW_PASS_FILE = CLI_OPT_FIRST_PRIVATE,
	OPT_KDF,
};

int
cmd_key(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "new-passphrase-file", required_argument, NULL,
		    OPT_NEW_PASS_FILE },
		{ "kdf", required_argument, NULL, OPT_KDF },
		{ NULL, 0, NULL, 0 },
	};
	const char *new_file = NULL;
	struct store_kdf kdf;
	struct cli_common c;
	struct store *s = NULL;
	char *pass = NULL;
	size_t len = 0;
	int opt;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&kdf, 0, sizeof(kdf));
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (cli_common_opt(&c, opt, optarg))
			continue;
		switch (opt) {
		case OPT_NEW_PASS_FILE:
			new_file = optarg;
			break;
		case OPT_KDF:
			if (cli_kdf_parse(optarg, &kdf) < 0) {
				cli_err(argv[0], "--kdf %s: expected "
				    "log2n=N,r=R,p=P", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		default:
			return cli_usage(argv[0], usage, 1);
		}
	}
	if (c.is_help)
		return cli_usage(argv[0], usage, 0);
	if (argc - optind != 2 || strcmp(argv[optind], "add") != 0)
		return cli_usage(argv[0], usage, 1);
	c.no_index_update = 1;
	if ((r = cli_open(argv[0], argv[optind + 1], &c, 1, &s)) != 0)
		goto out;
	if ((r = cli_new_passphrase(new_file, "AMBER_NEW_PASSPHRASE", &pass,
	    &len)) < 0) {
		if (r == -ENXIO)
			cli_err(argv[0], "no new passphrase given and no "
			    "terminal to ask on (use --new-passphrase-file "
			    "or AMBER_NEW_PASSPHRASE)");
		else if (r == -EINVAL)
			cli_err(argv[0], "empty new passphrase, or the two "
			    "answers differ");
		else
			cli_err(argv[0], "cannot read the new passphrase: %s",
			    strerror(-r));
		r = CLI_EXIT_ERROR;
		goto out;
	}
	if ((r = store_key_add(s, pass, len, &kdf)) < 0) {
		cli_err(argv[0], "%s: cannot add the key: %s",
		    argv[optind + 1], cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (!c.is_quiet)
		fprintf(stderr, "%s: key added\n", argv[0]);
	r = CLI_EXIT_OK;
out:
	cli_pass_free(pass, len);
	store_close(s);
	return r;
}
