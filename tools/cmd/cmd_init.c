/*
 * cmd_init.c: `amber init STORE`, which creates a store with a fresh
 * master key wrapped under a new passphrase.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "age.h"
#include "cli.h"
#include "cmd.h"
#include "pass.h"
#include "store.h"

static const char usage[] =
    "usage: amber init STORE [--immutable] [--kdf log2n=N,r=R,p=P]\n"
    "                  [--retention DURATION] [--allow-no-object-lock]\n"
    "\n"
    "Create a new store at STORE (a directory, created if needed and\n"
    "required to be empty, or s3://BUCKET/PREFIX).  The passphrase comes\n"
    "from --passphrase-file, AMBER_PASSPHRASE_FILE, AMBER_PASSPHRASE, or\n"
    "is asked for twice on the terminal.\n"
    "\n"
    "  --immutable          set the immutable attribute on every object\n"
    "  --kdf PARAMS         scrypt parameters (default log2n=17,r=8,p=1)\n"
    "  --retention DURATION S3 Object Lock retention of every object:\n"
    "                       30d, 12h, 90s, 1d12h (a bare number: days)\n"
    "  --allow-no-object-lock  accept a bucket without Object Lock\n"
    "  --json               print {\"location\", \"id\"} on stdout\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

enum {
	OPT_IMMUTABLE = CLI_OPT_FIRST_PRIVATE,
	OPT_KDF,
	OPT_RETENTION,
	OPT_ALLOW_NO_LOCK,
};

/*
 * A number of days ("30d" or "30", as before durations; "0": none), or a
 * duration ("12h", "90s", "1d12h"); at most 100 years, kept to 36,500
 * days.
 */
static int
parse_retention(const char *arg, uint64_t *secs)
{
	char buf[32];
	size_t n = strlen(arg);
	uint64_t v;
	int64_t d;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, arg, n + 1);
	if (buf[n - 1] == 'd')
		buf[n - 1] = '\0';
	if (cli_u64_parse(buf, 36525, &v) == 0)
		d = (int64_t)v * 86400;
	else if (age_parse(arg, &d) < 0)
		return -EINVAL;
	*secs = (uint64_t)d > STORE_RETENTION_MAX ? STORE_RETENTION_MAX :
	    (uint64_t)d;
	return 0;
}

static void
report(const char *location, struct store *s, int is_json)
{
	json_t *o;

	if (!is_json) {
		printf("created amber store %s at %s\n",
		    s != NULL ? store_id_hex(s) : "?", location);
		return;
	}
	o = json_pack("{s:s, s:s?}", "location", location, "id",
	    s != NULL ? store_id_hex(s) : NULL);
	if (o != NULL) {
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
	}
	json_decref(o);
}

int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "immutable", no_argument, NULL, OPT_IMMUTABLE },
		{ "kdf", required_argument, NULL, OPT_KDF },
		{ "retention", required_argument, NULL, OPT_RETENTION },
		{ "allow-no-object-lock", no_argument, NULL,
		    OPT_ALLOW_NO_LOCK },
		{ NULL, 0, NULL, 0 },
	};
	struct store_create_opts o;
	struct store_opts so;
	struct cli_common c;
	struct store *s = NULL;
	const char *location;
	char *pass = NULL;
	size_t len = 0;
	int opt;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	while ((opt = cli_getopt(argc, argv, longopts, &c)) != -1) {
		switch (opt) {
		case OPT_IMMUTABLE:
			o.is_immutable = 1;
			break;
		case OPT_KDF:
			if (cli_kdf_parse(optarg, &o.kdf) < 0) {
				cli_err(argv[0], "--kdf %s: expected "
				    "log2n=N,r=R,p=P", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_RETENTION:
			if (parse_retention(optarg, &o.retention_secs) < 0) {
				cli_err(argv[0], "--retention %s: expected a "
				    "duration such as 30d, 12h or 90s", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_ALLOW_NO_LOCK:
			o.allow_no_lock = 1;
			break;
		default:
			return cli_usage(argv[0], usage, 1);
		}
	}
	if ((r = cli_args(argv[0], &c, usage, argc, 1)) >= 0)
		return r;
	location = argv[optind];
	o.s3 = c.s3;
	if (c.key_file != NULL) {
		cli_err(argv[0], "--key-file: a new store needs a passphrase");
		return CLI_EXIT_USAGE;
	}
	if ((r = pass_get_new(c.passphrase_file, "AMBER_PASSPHRASE",
	    &pass, &len)) < 0) {
		if (r == -ENXIO)
			cli_err(argv[0], "no passphrase given and no terminal "
			    "to ask on (use --passphrase-file, "
			    "AMBER_PASSPHRASE_FILE or AMBER_PASSPHRASE)");
		else if (r == -EINVAL)
			cli_err(argv[0], "empty passphrase, or the two "
			    "answers differ");
		else
			cli_err(argv[0], "cannot read the passphrase: %s",
			    strerror(-r));
		r = CLI_EXIT_ERROR;
		goto out;
	}
	if ((r = store_create(location, &o, pass, len)) < 0) {
		if (r == -EEXIST)
			cli_err(argv[0], "%s: not empty (a store or other "
			    "files are there already)", location);
		else if (r == -EACCES || r == -EPERM)
			cli_err(argv[0], "%s: access denied (credentials?)",
			    location);
		else
			cli_err(argv[0], "%s: %s", location, cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (!c.is_quiet || c.is_json) {
		/* The id is in the plaintext config: no unlock needed. */
		cli_store_opts(&c, &so);
		so.no_index_update = 1;
		if (store_open(location, &so, &s) < 0)
			s = NULL;
		report(location, s, c.is_json);
	}
	r = CLI_EXIT_OK;
out:
	store_close(s);
	pass_free(pass, len);
	return r;
}
