/*
 * cmd_doctor.c: `amber doctor STORE`, which tells the user what the
 * credentials in use can do to an S3 store.  It writes a canary object
 * under PREFIX/doctor/ and tries what a rogue agent would: delete its
 * version, shorten its retention, hide it behind a delete marker.  Each
 * attempt is one line on stdout; any that succeeds is a loud WARNING and
 * makes the exit status 1.  The work is doctor_s3_run() in doctor_s3.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cmd.h"
#include "doctor_s3.h"
#include "store.h"

static const char usage[] =
    "usage: amber doctor STORE [--s3-credentials F] [--s3-virtual-host]\n"
    "                    [--insecure-http] [--json]\n"
    "\n"
    "Check what the credentials in use can do to the S3 store STORE\n"
    "(s3://BUCKET/PREFIX): that the bucket has Object Lock with a\n"
    "COMPLIANCE default retention, and that a canary object written under\n"
    "PREFIX/doctor/ can be neither deleted, nor shortened in retention,\n"
    "nor hidden behind a delete marker.  The canary stays (locked for three\n"
    "days).  Also reports the bucket's lifecycle rules: a WARNING for one\n"
    "that expires current versions under PREFIX, or for none that removes\n"
    "noncurrent versions there (amber prune's markers would free nothing).\n"
    "Exit status 0 when every destructive attempt was refused and nothing\n"
    "was missing, 1 when one succeeded or the check could not run.\n"
    "\n"
    "  --s3-credentials F   read AWS-style key=value credentials from F\n"
    "  --s3-virtual-host    virtual-host-style addressing\n"
    "  --insecure-http      allow an http:// endpoint off loopback\n"
    "  --json               one JSON object per finding\n"
    CLI_COMMON_HELP;

static void
report(void *ctx, const struct doctor_s3_finding *p)
{
	const struct cli_common *c = ctx;
	json_t *o;

	if (c->is_json) {
		o = json_pack("{s:s, s:b, s:I, s:s}", "check", p->what,
		    "unsafe", p->is_bad, "http_status", (json_int_t)p->status,
		    "detail", p->detail);
		if (o != NULL) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
		}
	} else if (p->is_bad) {
		printf("WARNING  %s: %s\n", p->what, p->detail);
	} else {
		printf("ok       %s%s%s\n", p->what, p->detail[0] ? ": " : "",
		    p->detail);
	}
	fflush(stdout);
}

int
cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ 0 }
	};
	struct cli_common c;
	struct store_opts o;
	int n_bad = 0;
	int r;

	if ((r = cli_parse(argc, argv, longopts, usage, 1, &c)) >= 0)
		return r;
	if (strncmp(argv[optind], "s3://", 5) != 0) {
		cli_err(argv[0], "%s: not an s3:// store; a local store is "
		    "protected by file modes and, with init --immutable, by "
		    "the immutable attribute", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	cli_store_opts(&c, &o);
	r = doctor_s3_run(argv[optind], &o, report, &c, &n_bad);
	if (r < 0) {
		cli_err(argv[0], "%s: %s", argv[optind], cli_strerror(r));
		return CLI_EXIT_ERROR;
	}
	if (n_bad > 0) {
		cli_err(argv[0], "WARNING: %d unsafe finding%s: these "
		    "credentials or this bucket let history be destroyed or "
		    "hidden", n_bad,
		    n_bad == 1 ? "" : "s");
		return CLI_EXIT_ERROR;
	}
	if (!c.is_quiet)
		cli_err(argv[0], "every destructive attempt was refused");
	return CLI_EXIT_OK;
}
