/*
 * cmd_prune.c: `amber prune STORE` deletes from a local store (on S3,
 * puts delete markers on) what the retention policy expires: the
 * expired snapshots' manifests and the packs no kept snapshot references
 * (amber-store(5), PRUNING), and repacks the packs they leave mostly
 * dead; with --dry-run it only says what would go and how many bytes that
 * frees.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "age.h"
#include "cli.h"
#include "cmd.h"
#include "keep.h"
#include "store.h"

static const char usage[] =
    "usage: amber prune STORE [--dry-run] [--grace DURATION]\n"
    "                   [--repack-threshold PERCENT] [--json]\n"
    "\n"
    "Apply the retention policy of STORE (amber policy): delete the\n"
    "manifests of the snapshots it no longer keeps, and every pack that no\n"
    "kept snapshot references and that is older than the grace period.\n"
    "A pack older than that whose live bytes (those kept snapshots use)\n"
    "are below the repack threshold has its live chunks copied, sealed as\n"
    "they are, into new packs, and is deleted too.\n"
    "Deleting from an --immutable store needs root.  On S3 an expired\n"
    "object whose Object Lock has ended gets a delete marker (a DELETE\n"
    "without a version id; the bucket's NoncurrentVersionExpiration rule\n"
    "removes the version); one still locked is listed with the time its\n"
    "lock ends, and left for a later run.  So is a repacked pack still\n"
    "locked; the new packs are locked at least as long as it was.\n"
    "Without a policy nothing is deleted.  A running ingest holds off a\n"
    "prune (and a prune an ingest) through tmp/prune.lock in a local\n"
    "store; on S3 the locks an ingest lengthens keep what it reuses.\n"
    "\n"
    "  --dry-run          delete nothing; list what would go, and the bytes\n"
    "                     that frees\n"
    "  --grace DURATION   never delete a pack younger than DURATION\n"
    "                     (default 1d; 0s for none)\n"
    "  --repack-threshold PERCENT\n"
    "                     repack packs less than PERCENT live (default 50;\n"
    "                     0: never repack)\n"
    "  --json             print the figures as one JSON object\n"
    CLI_COMMON_HELP;

struct out {
	int is_json;
	int is_quiet;
	int is_dry_run;
	int is_s3;		/* objects go under delete markers */
	json_t *objects;
	json_t *locked;		/* S3: expired, still locked */
};

static void
each(void *ctx, const char *object, uint64_t size, int what)
{
	struct out *o = ctx;

	if (o->is_json) {
		json_array_append_new(o->objects, json_pack("{s:s, s:I, s:b}",
		    "object", object, "bytes", (json_int_t)size, "repacked",
		    what == STORE_PRUNE_REPACKED));
		return;
	}
	if (!o->is_quiet)
		printf("%s %s %llu%s\n", o->is_dry_run ? (o->is_s3 ?
		    "would mark" : "would delete") : o->is_s3 ? "marked" :
		    "deleted", object, (unsigned long long)size,
		    what == STORE_PRUNE_REPACKED ? " (repacked)" : "");
}

/* An expired object on S3 whose Object Lock has not ended yet. */
static void
locked(void *ctx, const char *object, uint64_t size, int64_t until)
{
	struct out *o = ctx;
	char when[32];
	time_t t = (time_t)until;
	struct tm tm;

	if (until == INT64_MAX)
		snprintf(when, sizeof(when), "never (legal hold)");
	else if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)until);
	if (o->is_json) {
		json_array_append_new(o->locked, json_pack("{s:s, s:I, s:s}",
		    "object", object, "bytes", (json_int_t)size,
		    "expires", when));
		return;
	}
	if (!o->is_quiet)
		printf("locked %s %llu expires at %s\n", object,
		    (unsigned long long)size, when);
}

/* Parse the command line; returns an exit status, or -1 to go on. */
static int
prune_opts(int argc, char **argv, struct cli_common *c, struct out *o,
    int64_t *grace, unsigned *threshold)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "dry-run", no_argument, NULL, CLI_OPT_FIRST_PRIVATE },
		{ "grace", required_argument, NULL,
		    CLI_OPT_FIRST_PRIVATE + 1 },
		{ "repack-threshold", required_argument, NULL,
		    CLI_OPT_FIRST_PRIVATE + 2 },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	unsigned long v;
	int opt;
	int r;

	while ((opt = cli_getopt(argc, argv, longopts, c)) != -1) {
		if (opt == CLI_OPT_FIRST_PRIVATE + 2) {
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    optarg[0] == '-' || v > 100) {
				cli_err(argv[0], "--repack-threshold %s: a "
				    "percentage from 0 to 100", optarg);
				return CLI_EXIT_USAGE;
			}
			*threshold = (unsigned)v;
			continue;
		}
		if (opt == CLI_OPT_FIRST_PRIVATE) {
			o->is_dry_run = 1;
			continue;
		}
		if (opt == CLI_OPT_FIRST_PRIVATE + 1) {
			if (strcmp(optarg, "0") != 0 && strcmp(optarg,
			    "0s") != 0 && age_parse(optarg, grace) < 0) {
				cli_err(argv[0], "--grace %s: a duration such "
				    "as 1d, 6h or 0s", optarg);
				return CLI_EXIT_USAGE;
			}
			if (optarg[0] == '0')
				*grace = 0;
			continue;
		}
		return cli_usage(argv[0], usage, 1);
	}
	if ((r = cli_args(argv[0], c, usage, argc, 1)) >= 0)
		return r;
	o->is_json = c->is_json;
	o->is_quiet = c->is_quiet;
	o->is_s3 = strncmp(argv[optind], "s3://", 5) == 0;
	if (c->is_json && ((o->objects = json_array()) == NULL ||
	    (o->locked = json_array()) == NULL)) {
		cli_err(argv[0], "out of memory");
		return CLI_EXIT_ERROR;
	}
	return -1;
}

/*
 * Split the snapshots of ${l} by the policy's verdict ${why} (0: it
 * expires) into in->keep (their trees) and in->drop (their ids), which
 * the caller frees.  Returns 0 or -ENOMEM.
 */
static int
prune_split(const struct store_snap_list *l, const uint32_t *why,
    struct store_prune_in *in)
{
	size_t n = store_snap_list_len(l);
	uint8_t (*drop)[STORE_HASH_LEN];
	struct store_ref *keep;
	struct store_ref *drop_tree;
	size_t i;

	keep = calloc(n + 1, sizeof(*keep));
	drop = calloc(n + 1, sizeof(*drop));
	drop_tree = calloc(n + 1, sizeof(*drop_tree));
	in->keep = keep;
	in->drop = (const uint8_t (*)[STORE_HASH_LEN])drop;
	in->drop_tree = drop_tree;
	if (keep == NULL || drop == NULL || drop_tree == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct store_snap *sn = store_snap_list_get(l, i);

		if (why[i] != 0)
			keep[in->n_keep++] = sn->root.tree;
		else {
			drop_tree[in->n_drop] = sn->root.tree;
			memcpy(drop[in->n_drop++], sn->id, STORE_HASH_LEN);
		}
	}
	return 0;
}

/* The figures of a prune of ${n} snapshots, as text or JSON. */
static void
prune_print(const struct out *o, const struct store_prune_in *in,
    const struct store_prune_stats *st, size_t n)
{
	uint64_t gone = st->bytes_snaps + st->bytes_packs +
	    st->bytes_packs_repacked;
	/* On S3 a repacked pack still locked stays for now: the new packs
	 * may then outweigh what goes. */
	uint64_t freed = gone > st->bytes_packs_written ?
	    gone - st->bytes_packs_written : 0;
	json_t *j;

	if (!o->is_json) {
		printf("%s %llu of %zu snapshots (%llu bytes) and %llu packs "
		    "(%llu bytes)", o->is_dry_run ? (o->is_s3 ?
		    "would mark" : "would delete") : o->is_s3 ? "marked" :
		    "deleted", (unsigned long long)st->n_snaps, n,
		    (unsigned long long)st->bytes_snaps,
		    (unsigned long long)st->n_packs,
		    (unsigned long long)st->bytes_packs);
		if (st->n_packs_repacked > 0 || st->n_packs_written > 0)
			printf("; %s %llu packs (%llu bytes) into %llu (%llu "
			    "bytes, %llu copied)", o->is_dry_run ?
			    "would repack" : "repacked",
			    (unsigned long long)st->n_packs_repacked,
			    (unsigned long long)st->bytes_packs_repacked,
			    (unsigned long long)st->n_packs_written,
			    (unsigned long long)st->bytes_packs_written,
			    (unsigned long long)st->bytes_copied);
		printf(": %llu bytes %s\n", (unsigned long long)freed,
		    o->is_dry_run ? "would be freed" : o->is_s3 ?
		    "to be freed by the bucket's lifecycle rule" : "freed");
		if (o->is_s3)
			printf("delete markers: %llu added; %llu expired "
			    "objects (%llu bytes) still locked, left for a "
			    "later run; %llu under a marker already\n",
			    (unsigned long long)st->n_markers,
			    (unsigned long long)st->n_locked,
			    (unsigned long long)st->bytes_locked,
			    (unsigned long long)st->n_hidden);
		printf("kept: %zu snapshots, %llu packs (%llu bytes) they "
		    "reference; %llu unreferenced packs (%llu bytes) within "
		    "the grace period\n", in->n_keep,
		    (unsigned long long)st->n_packs_live,
		    (unsigned long long)st->bytes_packs_live,
		    (unsigned long long)st->n_packs_young,
		    (unsigned long long)st->bytes_packs_young);
		return;
	}
	j = json_pack("{s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I}",
	    "dry_run", o->is_dry_run, "objects", json_incref(o->objects),
	    "snapshots_kept", (json_int_t)in->n_keep,
	    "snapshots", (json_int_t)st->n_snaps,
	    "snapshot_bytes", (json_int_t)st->bytes_snaps,
	    "packs", (json_int_t)st->n_packs,
	    "pack_bytes", (json_int_t)st->bytes_packs,
	    "freed_bytes", (json_int_t)freed,
	    "packs_young", (json_int_t)st->n_packs_young,
	    "pack_bytes_young", (json_int_t)st->bytes_packs_young,
	    "packs_live", (json_int_t)st->n_packs_live,
	    "pack_bytes_live", (json_int_t)st->bytes_packs_live,
	    "chunks_live", (json_int_t)st->n_chunks_live);
	if (j != NULL && o->is_s3) {
		json_t *s3 = json_pack("{s:I, s:I, s:I, s:I, s:O}",
		    "delete_markers", (json_int_t)st->n_markers,
		    "locked", (json_int_t)st->n_locked,
		    "locked_bytes", (json_int_t)st->bytes_locked,
		    "hidden", (json_int_t)st->n_hidden,
		    "locked_objects", o->locked);

		json_object_update(j, s3);
		json_decref(s3);
	}
	json_object_set_new(j, "repack_threshold",
	    json_integer(in->repack_threshold));
	json_object_set_new(j, "packs_repacked",
	    json_integer((json_int_t)st->n_packs_repacked));
	json_object_set_new(j, "pack_bytes_repacked",
	    json_integer((json_int_t)st->bytes_packs_repacked));
	json_object_set_new(j, "packs_written",
	    json_integer((json_int_t)st->n_packs_written));
	json_object_set_new(j, "pack_bytes_written",
	    json_integer((json_int_t)st->bytes_packs_written));
	json_object_set_new(j, "chunks_copied",
	    json_integer((json_int_t)st->n_chunks_copied));
	json_object_set_new(j, "bytes_copied",
	    json_integer((json_int_t)st->bytes_copied));
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(j);
}

int
cmd_prune(int argc, char **argv)
{
	struct store_snap_list *l = NULL;
	struct store_prune_stats st;
	struct store_prune_in in;
	struct store_policy pol;
	uint32_t *why = NULL;
	struct cli_common c;
	struct store *s = NULL;
	struct out o;
	int64_t grace = 86400;
	unsigned threshold = STORE_REPACK_DEFAULT;
	int has_pol = 0;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	memset(&in, 0, sizeof(in));
	if ((r = prune_opts(argc, argv, &c, &o, &grace, &threshold)) >= 0)
		goto out;
	if ((r = cli_open(argv[0], argv[optind], &c, 1, &s)) != 0)
		goto out;
	if ((r = store_snapshots(s, &l)) < 0) {
		cli_err(argv[0], r == -EACCES ? "pruning needs the "
		    "passphrase, not an ingest key" :
		    "cannot list snapshots: %s", cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if ((r = keep_eval(s, l, &pol, &has_pol, &why)) < 0) {
		cli_err(argv[0], "cannot apply the retention policy: %s",
		    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (!has_pol) {
		cli_err(argv[0], "%s has no retention policy: nothing expires "
		    "(see amber policy set)", argv[optind]);
		r = CLI_EXIT_ERROR;
		goto out;
	}
	if (prune_split(l, why, &in) < 0) {
		cli_err(argv[0], "out of memory");
		r = CLI_EXIT_ERROR;
		goto out;
	}
	in.grace = grace;
	in.is_dry_run = o.is_dry_run;
	in.locked = locked;
	in.repack_threshold = threshold;
	if ((r = store_prune(s, &in, each, &o, &st)) < 0) {
		if (r == -EBUSY)
			cli_err(argv[0], "a writer is running on %s: try again "
			    "later", argv[optind]);
		else
			cli_err(argv[0], "%s", cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	prune_print(&o, &in, &st, store_snap_list_len(l));
	r = CLI_EXIT_OK;
out:
	r = cli_flush(argv[0], r);
	json_decref(o.objects);
	json_decref(o.locked);
	free((void *)in.keep);
	free((void *)in.drop);
	free((void *)in.drop_tree);
	free(why);
	store_snap_list_free(l);
	store_close(s);
	return r;
}
