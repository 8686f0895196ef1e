/*
 * cmd_key.c: `amber key add|list|new-ingest|revoke STORE`: the keys of a
 * store.  add wraps the master key under one more passphrase; new-ingest
 * registers an ingest key (it adds snapshots, with dedup, but decrypts
 * nothing stored) and writes its key file; revoke stops trusting an
 * ingest key's later snapshots; list shows them all.  Nothing is ever
 * deleted from a store, so an added passphrase cannot be taken back.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli.h"
#include "cmd.h"
#include "io.h"
#include "pass.h"
#include "store.h"

static const char usage[] =
    "usage: amber key add STORE [--new-passphrase-file F]\n"
    "                           [--kdf log2n=N,r=R,p=P]\n"
    "       amber key new-ingest STORE [--label TEXT] [--output F]\n"
    "       amber key list STORE [--json]\n"
    "       amber key revoke STORE ID\n"
    "\n"
    "add: add a passphrase.  The current passphrase comes from\n"
    "--passphrase-file, AMBER_PASSPHRASE_FILE, AMBER_PASSPHRASE or the\n"
    "terminal; the new one from --new-passphrase-file,\n"
    "AMBER_NEW_PASSPHRASE_FILE, AMBER_NEW_PASSPHRASE, or is asked for\n"
    "twice on the terminal.\n"
    "new-ingest: register an ingest key, which can add snapshots but\n"
    "decrypts nothing stored, and write its key file (for --key-file) to F,\n"
    "created with mode 0600, or to stdout.\n"
    "list: every key: id, type, scrypt parameters or label, creation,\n"
    "revocation.\n"
    "revoke: snapshots the ingest key ID (an id prefix) makes from now on\n"
    "are flagged revoked; those it made so far stay trusted.\n"
    "\n"
    "  --new-passphrase-file F  read the new passphrase from F\n"
    "  --kdf PARAMS             scrypt parameters for the new passphrase\n"
    "  --label TEXT             what the ingest key is for (e.g. a host)\n"
    "  --output F               write the key file to F\n"
    "  --json                   list: a JSON array\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

enum {
	OPT_NEW_PASS_FILE = CLI_OPT_FIRST_PRIVATE,
	OPT_KDF,
	OPT_LABEL,
	OPT_OUTPUT,
};

struct key_args {
	const char *cmd;
	const char *new_file;
	const char *label;
	const char *output;
	struct store_kdf kdf;
	struct cli_common c;
};

static int
key_add(struct key_args *a, struct store *s, const char *location)
{
	char *pass = NULL;
	size_t len = 0;
	int r;

	if ((r = pass_get_new(a->new_file, "AMBER_NEW_PASSPHRASE", &pass,
	    &len)) < 0) {
		if (r == -ENXIO)
			cli_err(a->cmd, "no new passphrase given and no "
			    "terminal to ask on (use --new-passphrase-file "
			    "or AMBER_NEW_PASSPHRASE)");
		else if (r == -EINVAL)
			cli_err(a->cmd, "empty new passphrase, or the two "
			    "answers differ");
		else
			cli_err(a->cmd, "cannot read the new passphrase: %s",
			    strerror(-r));
		return CLI_EXIT_ERROR;
	}
	r = store_key_add(s, pass, len, &a->kdf);
	pass_free(pass, len);
	if (r < 0) {
		cli_err(a->cmd, "%s: cannot add the key: %s", location,
		    cli_strerror(r));
		return cli_exit_status(r);
	}
	if (!a->c.is_quiet)
		fprintf(stderr, "%s: passphrase added\n", a->cmd);
	return CLI_EXIT_OK;
}

static int
key_new_ingest(struct key_args *a, struct store *s)
{
	char *text = NULL;
	size_t len = 0;
	int fd = STDOUT_FILENO;
	int r;

	/* Create the output first: a key is registered only if it can go. */
	if (a->output != NULL && (fd = open(a->output, O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		cli_err(a->cmd, "%s: %s", a->output, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	if ((r = store_key_new_ingest(s, a->label != NULL ? a->label : "",
	    &text)) < 0) {
		cli_err(a->cmd, "cannot make an ingest key: %s",
		    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	len = strlen(text);
	if ((r = io_write_all(fd, text, len)) < 0 ||
	    (fd != STDOUT_FILENO && fsync(fd) != 0 && (r = -errno) < 0)) {
		cli_err(a->cmd, "%s: %s", a->output != NULL ? a->output :
		    "stdout", strerror(-r));
		r = CLI_EXIT_ERROR;
		goto out;
	}
	if (!a->c.is_quiet && a->output != NULL)
		fprintf(stderr, "%s: ingest key written to %s\n", a->cmd,
		    a->output);
	r = CLI_EXIT_OK;
out:
	if (fd != STDOUT_FILENO) {
		if (close(fd) != 0 && r == CLI_EXIT_OK) {
			cli_err(a->cmd, "%s: %s", a->output, strerror(errno));
			r = CLI_EXIT_ERROR;
		}
		if (r != CLI_EXIT_OK)
			unlink(a->output);
	}
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	return r;
}

static const char *
key_type_name(int type)
{
	switch (type) {
	case STORE_KEY_PASSPHRASE:
		return "passphrase";
	case STORE_KEY_INGEST:
		return "ingest";
	default:
		return "damaged";
	}
}

static int
key_list(struct key_args *a, struct store *s)
{
	struct store_key_info *v = NULL;
	char when[64];
	char revoked[64];
	json_t *arr = NULL;
	json_t *o;
	size_t n = 0;
	size_t i;
	int r;

	if ((r = store_key_list(s, &v, &n)) < 0) {
		cli_err(a->cmd, "cannot list the keys: %s", cli_strerror(r));
		return cli_exit_status(r);
	}
	if (a->c.is_json && (arr = json_array()) == NULL) {
		free(v);
		cli_err(a->cmd, "out of memory");
		return CLI_EXIT_ERROR;
	}
	for (i = 0; i < n; i++) {
		/* Passphrase keys record no creation time. */
		if (v[i].created != 0)
			store_time_format(v[i].created, when, sizeof(when));
		else
			snprintf(when, sizeof(when), "-");
		if (a->c.is_json) {
			o = json_pack("{s:s, s:s, s:s, s:I, s:b}",
			    "id", v[i].id, "type", key_type_name(v[i].type),
			    "created", when, "created_sec",
			    (json_int_t)v[i].created,
			    "revoked", v[i].is_revoked != 0);
			if (o != NULL && v[i].type == STORE_KEY_PASSPHRASE)
				json_object_set_new(o, "kdf", json_pack(
				    "{s:i, s:I, s:I}", "log2n",
				    (int)v[i].log2_n, "r", (json_int_t)v[i].r,
				    "p", (json_int_t)v[i].p));
			if (o != NULL && v[i].type == STORE_KEY_INGEST)
				cli_json_bytes(o, "label",
				    (const uint8_t *)v[i].label,
				    strnlen(v[i].label, sizeof(v[i].label)));
			if (o != NULL && v[i].is_revoked) {
				store_time_format(v[i].revoked_at, revoked,
				    sizeof(revoked));
				json_object_set_new(o, "revoked_at",
				    json_string(revoked));
			}
			json_array_append_new(arr, o);
			continue;
		}
		printf("%-16.16s %-10s %-20s ", v[i].id,
		    key_type_name(v[i].type), when);
		if (v[i].type == STORE_KEY_PASSPHRASE)
			printf("log2n=%u,r=%u,p=%u", (unsigned)v[i].log2_n,
			    (unsigned)v[i].r, (unsigned)v[i].p);
		else if (v[i].type == STORE_KEY_INGEST)
			name_print(stdout, (const uint8_t *)v[i].label,
			    strnlen(v[i].label, sizeof(v[i].label)), 1);
		if (v[i].is_revoked) {
			store_time_format(v[i].revoked_at, revoked,
			    sizeof(revoked));
			printf(" [revoked %s]", revoked);
		}
		putchar('\n');
	}
	if (arr != NULL) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	free(v);
	return CLI_EXIT_OK;
}

static int
key_revoke(struct key_args *a, struct store *s, const char *id)
{
	int r;

	if ((r = store_key_revoke(s, id)) < 0) {
		if (r == -ENOENT)
			cli_err(a->cmd, "%s: no such ingest key", id);
		else if (r == -EINVAL)
			cli_err(a->cmd, "%s: ambiguous key id prefix", id);
		else if (r == -EEXIST)
			cli_err(a->cmd, "%s: revoked already", id);
		else
			cli_err(a->cmd, "%s: cannot revoke: %s", id,
			    cli_strerror(r));
		return cli_exit_status(r);
	}
	if (!a->c.is_quiet)
		fprintf(stderr, "%s: key %s revoked\n", a->cmd, id);
	return CLI_EXIT_OK;
}

int
cmd_key(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "new-passphrase-file", required_argument, NULL,
		    OPT_NEW_PASS_FILE },
		{ "kdf", required_argument, NULL, OPT_KDF },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	struct key_args a;
	struct store *s = NULL;
	const char *sub;
	const char *location;
	int n_args;
	int opt;
	int r;

	memset(&a, 0, sizeof(a));
	a.cmd = argv[0];
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:",
	    longopts, NULL)) != -1) {
		if (cli_common_opt(&a.c, opt, optarg))
			continue;
		switch (opt) {
		case OPT_NEW_PASS_FILE:
			a.new_file = optarg;
			break;
		case OPT_KDF:
			if (cli_kdf_parse(optarg, &a.kdf) < 0) {
				cli_err(argv[0], "--kdf %s: expected "
				    "log2n=N,r=R,p=P", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_LABEL:
			a.label = optarg;
			break;
		case 'o':
		case OPT_OUTPUT:
			a.output = optarg;
			break;
		default:
			return cli_usage(argv[0], usage, 1);
		}
	}
	if (a.c.is_help)
		return cli_usage(argv[0], usage, 0);
	if (argc - optind < 2)
		return cli_usage(argv[0], usage, 1);
	sub = argv[optind];
	location = argv[optind + 1];
	n_args = argc - optind - 2;
	if (!((strcmp(sub, "add") == 0 && n_args == 0) ||
	    (strcmp(sub, "new-ingest") == 0 && n_args == 0) ||
	    (strcmp(sub, "list") == 0 && n_args == 0) ||
	    (strcmp(sub, "revoke") == 0 && n_args == 1)))
		return cli_usage(argv[0], usage, 1);
	if (a.label != NULL && strlen(a.label) >= 128) {
		cli_err(argv[0], "--label: at most 127 bytes");
		return CLI_EXIT_USAGE;
	}
	a.c.no_index_update = 1;
	if ((r = cli_open(argv[0], location, &a.c, 1, &s)) != 0)
		goto out;
	if (strcmp(sub, "add") == 0)
		r = key_add(&a, s, location);
	else if (strcmp(sub, "new-ingest") == 0)
		r = key_new_ingest(&a, s);
	else if (strcmp(sub, "list") == 0)
		r = key_list(&a, s);
	else
		r = key_revoke(&a, s, argv[optind + 2]);
out:
	r = cli_flush(argv[0], r);
	store_close(s);
	return r;
}
