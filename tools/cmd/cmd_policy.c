/*
 * cmd_policy.c: `amber policy set STORE --keep-...` signs and stores a
 * retention policy (it needs the passphrase: the master key signs it);
 * `amber policy show STORE` prints the one that counts (amber-store(5),
 * POLICIES), which needs no key.  On S3, a policy whose horizon is
 * longer than the last one's lengthens the locks of what it keeps before
 * set reports success (amber-store(5), PRUNING on S3).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "age.h"
#include "cli.h"
#include "cmd.h"
#include "keep.h"
#include "store.h"

static const char usage[] =
    "usage: amber policy set STORE [--keep-within DURATION] [--keep-last N]\n"
    "           [--keep-hourly N] [--keep-daily N] [--keep-weekly N]\n"
    "           [--keep-monthly N] [--keep-yearly N]\n"
    "       amber policy show STORE [--json]\n"
    "\n"
    "Set or show the retention policy of STORE.  The policy is signed by\n"
    "the master key (set needs the passphrase) and the newest one counts.\n"
    "Snapshots are grouped by the key that wrote them and each group is\n"
    "judged alone; flagged snapshots never take a place of keep-last or\n"
    "of a period.  Without a policy every snapshot is kept.  On S3, a\n"
    "policy with a longer horizon than the last lengthens the Object Lock\n"
    "of the snapshots it keeps and of their packs before set succeeds.\n"
    "\n"
    "  --keep-within D  keep every snapshot within D (30d, 12h, 90m, 1w)\n"
    "                   before the newest trusted one of its key\n"
    "  --keep-last N    keep the newest N snapshots of each key\n"
    "  --keep-hourly N  keep the newest of each of the last N hours that\n"
    "                   have snapshots; likewise daily, weekly (weeks start\n"
    "                   on Monday), monthly and yearly, all in UTC\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

static int
parse_count(const char *cmd, const char *opt, const char *arg, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' ||
	    v > 1000000) {
		cli_err(cmd, "%s %s: a count from 0 to 1000000", opt, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static json_t *
policy_json(const struct store_policy *p)
{
	return json_pack("{s:s, s:I, s:I, s:i, s:i, s:i, s:i, s:i, s:i}",
	    "object", p->object, "time", (json_int_t)p->time,
	    "keep_within", (json_int_t)p->within, "keep_last", (int)p->last,
	    "keep_hourly", (int)p->hourly, "keep_daily", (int)p->daily,
	    "keep_weekly", (int)p->weekly, "keep_monthly", (int)p->monthly,
	    "keep_yearly", (int)p->yearly);
}

static int
show(const char *cmd, struct store *s, const struct cli_common *c)
{
	struct store_policy p;
	char t[32];
	json_t *o;
	int r;

	r = store_policy_get(s, &p);
	if (r == -ENOENT) {
		if (c->is_json)
			printf("null\n");
		else
			printf("no policy: every snapshot is kept\n");
		return CLI_EXIT_OK;
	}
	if (r < 0) {
		cli_err(cmd, "cannot read the policy: %s", cli_strerror(r));
		return cli_exit_status(r);
	}
	if (c->is_json) {
		if ((o = policy_json(&p)) == NULL) {
			cli_err(cmd, "out of memory");
			return CLI_EXIT_ERROR;
		}
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return CLI_EXIT_OK;
	}
	store_time_format(p.time, t, sizeof(t));
	printf("policy %s\nset %s\n", p.object, t);
	keep_policy_print(stdout, &p);
	return CLI_EXIT_OK;
}

/*
 * Lengthen the locks of what the policy now set keeps, where its horizon
 * is longer than that of the policy before (${old}, if ${has_old}): an
 * exit status.
 */
static int
lengthen(const char *cmd, struct store *s, const struct store_policy *old,
    int has_old, const struct cli_common *c)
{
	struct store_snap_list *l = NULL;
	const struct store_snap **kept = NULL;
	struct store_policy p;
	uint32_t *why = NULL;
	uint64_t n_obj = 0;
	size_t n = 0;
	int has_pol = 0;
	int r;

	if ((r = store_snapshots(s, &l)) == 0 &&
	    (r = keep_eval(s, l, &p, &has_pol, &why)) == 0 && has_pol &&
	    (!has_old ||
	    store_policy_horizon(&p) > store_policy_horizon(old))) {
		if ((kept = calloc(store_snap_list_len(l) + 1,
		    sizeof(*kept))) == NULL)
			r = -ENOMEM;
		for (size_t i = 0; kept != NULL &&
		    i < store_snap_list_len(l); i++)
			if (why[i] != 0)
				kept[n++] = store_snap_list_get(l, i);
		if (r == 0)
			r = store_keep_lock(s, kept, n,
			    store_policy_horizon(&p), &n_obj);
	}
	if (r < 0)
		cli_err(cmd, "the policy is stored, but the locks of what it "
		    "keeps could not all be lengthened: %s (run policy set "
		    "again)", cli_strerror(r));
	else if (n_obj > 0 && !c->is_quiet)
		printf("locks of %zu kept snapshots and their packs lengthened "
		    "to the policy's horizon (%llu objects)\n", n,
		    (unsigned long long)n_obj);
	free(kept);
	free(why);
	store_snap_list_free(l);
	return r < 0 ? cli_exit_status(r) : CLI_EXIT_OK;
}

int
cmd_policy(int argc, char **argv)
{
	enum {
		O_WITHIN = CLI_OPT_FIRST_PRIVATE,
		O_LAST, O_HOURLY, O_DAILY, O_WEEKLY, O_MONTHLY, O_YEARLY,
	};
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "keep-within", required_argument, NULL, O_WITHIN },
		{ "keep-last", required_argument, NULL, O_LAST },
		{ "keep-hourly", required_argument, NULL, O_HOURLY },
		{ "keep-daily", required_argument, NULL, O_DAILY },
		{ "keep-weekly", required_argument, NULL, O_WEEKLY },
		{ "keep-monthly", required_argument, NULL, O_MONTHLY },
		{ "keep-yearly", required_argument, NULL, O_YEARLY },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "--keep-last", "--keep-hourly",
	    "--keep-daily", "--keep-weekly", "--keep-monthly",
	    "--keep-yearly" };
	struct store_policy p;
	struct store_policy old;
	struct cli_common c;
	struct store *s = NULL;
	char obj[80];
	int has_old = 0;
	const char *verb;
	int64_t within;
	int n_rules = 0;
	int opt;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	while ((opt = cli_getopt(argc, argv, longopts, &c)) != -1) {
		uint32_t *cnt = NULL;

		switch (opt) {
		case O_WITHIN:
			if (age_parse(optarg, &within) < 0) {
				cli_err(argv[0], "--keep-within %s: a duration "
				    "such as 30d, 12h or 90m", optarg);
				return CLI_EXIT_USAGE;
			}
			p.within = (uint64_t)within;
			n_rules++;
			continue;
		case O_LAST: cnt = &p.last; break;
		case O_HOURLY: cnt = &p.hourly; break;
		case O_DAILY: cnt = &p.daily; break;
		case O_WEEKLY: cnt = &p.weekly; break;
		case O_MONTHLY: cnt = &p.monthly; break;
		case O_YEARLY: cnt = &p.yearly; break;
		default:
			break;
		}
		if (cnt != NULL) {
			if (parse_count(argv[0], names[opt - O_LAST],
			    optarg, cnt) < 0)
				return CLI_EXIT_USAGE;
			n_rules += *cnt > 0;
			continue;
		}
		return cli_usage(argv[0], usage, 1);
	}
	if ((r = cli_args(argv[0], &c, usage, argc, 2)) >= 0)
		return r;
	verb = argv[optind];
	if (strcmp(verb, "show") == 0) {
		if (n_rules > 0) {
			cli_err(argv[0], "show takes no --keep option");
			return CLI_EXIT_USAGE;
		}
		if ((r = cli_open(argv[0], argv[optind + 1], &c, 0, &s)) != 0)
			goto out;
		r = show(argv[0], s, &c);
		goto out;
	}
	if (strcmp(verb, "set") != 0) {
		cli_err(argv[0], "%s: not a policy command (set, show)", verb);
		return CLI_EXIT_USAGE;
	}
	if (n_rules == 0) {
		/* A policy that keeps nothing would expire all history. */
		cli_err(argv[0], "set needs at least one --keep option "
		    "above 0");
		return CLI_EXIT_USAGE;
	}
	if ((r = cli_open(argv[0], argv[optind + 1], &c, 1, &s)) != 0)
		goto out;
	if ((r = store_policy_get(s, &old)) < 0 && r != -ENOENT) {
		cli_err(argv[0], "cannot read the policy: %s",
		    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	has_old = r == 0;
	if ((r = store_policy_set(s, &p, obj, sizeof(obj))) < 0) {
		if (r == -EACCES)
			cli_err(argv[0], "setting a policy needs the "
			    "passphrase, not an ingest key");
		else
			cli_err(argv[0], "cannot store the policy: %s",
			    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (!c.is_quiet)
		printf("%s\n", obj);
	r = lengthen(argv[0], s, &old, has_old, &c);
out:
	r = cli_flush(argv[0], r);
	store_close(s);
	return r;
}
