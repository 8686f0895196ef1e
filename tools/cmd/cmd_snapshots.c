/*
 * cmd_snapshots.c: `amber snapshots STORE` lists every snapshot, oldest
 * first: name, short id, writer, host, tags, sources and size, with
 * flags that say why one is not to be trusted (amber(1), "Snapshots: who
 * and when"); --json gives one array.
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
#include "hex.h"
#include "keep.h"
#include "store.h"
#include "url.h"

static const char usage[] =
    "usage: amber snapshots STORE [--json] [--max-age DURATION]\n"
    "       amber snapshots STORE --cached-ids\n"
    "\n"
    "List the snapshots of STORE, oldest first, one per line: name, short\n"
    "id, writer (master, or LABEL@KEYID of an ingest key), host, tags,\n"
    "sources (KIND/NAME) and size.  Flags: [partial] some input could not\n"
    "be read; [orphan] a parent snapshot is missing.  Never 'latest', not\n"
    "to be trusted: [future] dated in the future; [revoked] made by an\n"
    "ingest key after it was revoked; [before-key] dated before its key\n"
    "was registered; [before-parent] dated before a parent; [parentless]\n"
    "no parent, yet not the store's one first snapshot.\n"
    "With a retention policy (amber policy), each line ends with\n"
    "keep:RULES (the rules that keep it) or expired (amber prune deletes\n"
    "it).\n"
    "\n"
    "  --json               a JSON array of snapshot objects\n"
    "  --max-age DURATION   list only the snapshots of the last DURATION\n"
    "                       (and latest), without keep:, and exit 1 if\n"
    "                       the newest is older than DURATION (26h, 90m,\n"
    "                       2d, 1w; for monitoring)\n"
    "  --cached-ids         print the ids this machine's index holds of a\n"
    "                       local store's snapshots, with no passphrase\n"
    "                       (for shell completion)\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

#define SHORT_ID 12	/* hex digits shown */
#define SHORT_KEY 8	/* hex digits of a writer's key id shown */


/* A JSON string of text that should be UTF-8 but comes from outside. */
static json_t *
text_json(const char *t)
{
	json_t *o = json_object();
	json_t *v = NULL;

	if (o != NULL && cli_json_bytes(o, "v", (const uint8_t *)t,
	    strlen(t)) == 0)
		v = json_incref(json_object_get(o, "v"));
	json_decref(o);
	return v;
}

static json_t *
snap_json(const struct store_snap *sn)
{
	char hex[2 * STORE_HASH_LEN + 1];
	json_t *o = NULL;
	json_t *a;
	json_t *src;
	const char *fname;
	uint32_t flag;
	size_t i;

	hex_encode(sn->id, STORE_HASH_LEN, hex);
	o = json_pack("{s:s, s:s, s:I, s:i, s:o, s:I, s:b, s:b, s:b, s:b, "
	    "s:b, s:b, s:b, s:b}",
	    "name", sn->name, "id", hex, "time", (json_int_t)sn->time_sec,
	    "time_nsec", (int)sn->time_nsec, "host",
	    text_json(sn->host != NULL ? sn->host : ""),
	    "size", (json_int_t)sn->size,
	    "partial", (sn->flags & STORE_SNAP_PARTIAL) != 0,
	    "future", (sn->flags & STORE_SNAP_FUTURE) != 0,
	    "orphan", (sn->flags & STORE_SNAP_ORPHAN) != 0,
	    "revoked", (sn->flags & STORE_SNAP_REVOKED) != 0,
	    "before_key", (sn->flags & STORE_SNAP_BEFORE_KEY) != 0,
	    "before_parent", (sn->flags & STORE_SNAP_BEFORE_PARENT) != 0,
	    "parentless", (sn->flags & STORE_SNAP_PARENTLESS) != 0,
	    "trusted", (sn->flags & STORE_SNAP_UNTRUSTED) == 0);
	if (o == NULL)
		return NULL;
	a = json_array();
	for (i = 0; a != NULL && (fname = store_snap_flag_name(i, &flag)) !=
	    NULL; i++)
		if (sn->flags & flag)
			json_array_append_new(a, json_string(fname));
	json_object_set_new(o, "flags", a);
	if (store_snap_is_master(sn)) {
		a = json_pack("{s:b, s:n, s:s, s:b}", "master", 1, "key",
		    "label", "", "revoked", 0);
	} else {
		hex_encode(sn->writer, STORE_ID_LEN, hex);
		a = json_pack("{s:b, s:s, s:o, s:b}", "master", 0, "key", hex,
		    "label", text_json(sn->writer_label), "revoked",
		    sn->is_writer_revoked != 0);
	}
	json_object_set_new(o, "writer", a);
	a = json_array();
	for (i = 0; a != NULL && i < sn->n_tags; i++)
		json_array_append_new(a, text_json(sn->tags[i]));
	json_object_set_new(o, "tags", a);
	a = json_array();
	for (i = 0; a != NULL && i < sn->n_parents; i++) {
		hex_encode(sn->parents[i], STORE_HASH_LEN, hex);
		json_array_append_new(a, json_string(hex));
	}
	json_object_set_new(o, "parents", a);
	a = json_array();
	for (i = 0; a != NULL && i < sn->n_sources; i++) {
		const struct store_source *so = &sn->sources[i];
		char origin[sizeof(so->origin)];

		/* Older amber stored https://TOKEN@host/...: not shown. */
		url_redact(so->origin, origin, sizeof(origin));
		src = json_pack("{s:s, s:o, s:o, s:I, s:I, s:b, s:b}",
		    "kind", store_kind_name(so->kind), "name",
		    text_json(so->name), "origin", text_json(origin),
		    "files", (json_int_t)so->n_files,
		    "bytes", (json_int_t)so->n_bytes,
		    "partial", (so->flags & STORE_SOURCE_PARTIAL) != 0,
		    "stale", (so->flags & STORE_SOURCE_STALE) != 0);
		json_array_append_new(a, src);
	}
	json_object_set_new(o, "sources", a);
	return o;
}

/* The policy's verdict: "keep" (true, false or null without a policy)
 * and "keep_rules". */
static json_t *
keep_json(json_t *o, int has_pol, uint32_t why)
{
	json_t *a;
	const char *name;
	uint32_t rule;
	size_t i;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "keep", has_pol ? json_boolean(why != 0) :
	    json_null());
	a = json_array();
	for (i = 0; has_pol && a != NULL &&
	    (name = store_keep_name(i, &rule)) != NULL; i++)
		if (why & rule)
			json_array_append_new(a, json_string(name));
	json_object_set_new(o, "keep_rules", a);
	return o;
}

/*
 * --cached-ids: the ids come sorted.  Each is printed as the short id
 * `amber snapshots` shows, or whole when it shares that with a
 * neighbour, so that every line printed names one snapshot.
 */
struct cached_ids {
	uint8_t prev[STORE_HASH_LEN];
	int has_prev;
	int is_prev_shared;
};

static void
cached_id_print(const uint8_t id[STORE_HASH_LEN], int is_whole)
{
	char hex[2 * STORE_HASH_LEN + 1];

	hex_encode(id, STORE_HASH_LEN, hex);
	if (!is_whole)
		hex[SHORT_ID] = '\0';
	puts(hex);
}

static int
cached_id_one(void *ctx, const uint8_t id[STORE_HASH_LEN])
{
	struct cached_ids *c = ctx;
	int is_shared;

	is_shared = c->has_prev && memcmp(c->prev, id, SHORT_ID / 2) == 0;
	if (c->has_prev)
		cached_id_print(c->prev, c->is_prev_shared || is_shared);
	memcpy(c->prev, id, STORE_HASH_LEN);
	c->has_prev = 1;
	c->is_prev_shared = is_shared;
	return 0;
}

static int
cached_ids(const char *cmd, const char *location, const struct cli_common *c)
{
	struct cached_ids ids;
	struct store_opts o;
	int r;

	memset(&ids, 0, sizeof(ids));
	memset(&o, 0, sizeof(o));
	o.index_dir = c->index_dir;
	r = store_snap_ids_cached(location, &o, cached_id_one, &ids);
	if (r == -EPROTONOSUPPORT) {
		cli_err(cmd, "%s: --cached-ids reads only local stores",
		    location);
		return CLI_EXIT_USAGE;
	}
	if (r < 0) {
		cli_err(cmd, "%s: %s", location, cli_strerror(r));
		return cli_exit_status(r);
	}
	if (ids.has_prev)
		cached_id_print(ids.prev, ids.is_prev_shared);
	return CLI_EXIT_OK;
}

static void
snap_print(const struct store_snap *sn, int has_pol, uint32_t why)
{
	char hex[2 * STORE_HASH_LEN + 1];
	char size[32];
	const char *fname;
	uint32_t flag;
	size_t i;

	hex_encode(sn->id, STORE_HASH_LEN, hex);
	hex[SHORT_ID] = '\0';
	cli_size_human(sn->size, size, sizeof(size));
	printf("%-22s %s ", sn->name, hex);
	if (store_snap_is_master(sn)) {
		printf("master ");
	} else {
		/* Labels are the master's (registration records). */
		name_print(stdout, (const uint8_t *)sn->writer_label,
		    strlen(sn->writer_label), 1);
		hex_encode(sn->writer, STORE_ID_LEN, hex);
		hex[SHORT_KEY] = '\0';
		printf("@%s ", hex);
	}
	/* Host and tags come from the ingesting side: escape oddities. */
	if (sn->host != NULL && *sn->host != '\0')
		name_print(stdout, (const uint8_t *)sn->host,
		    strlen(sn->host), 1);
	else
		putchar('-');
	putchar(' ');
	if (sn->n_tags == 0)
		printf("-");
	for (i = 0; i < sn->n_tags; i++) {
		if (i > 0)
			putchar(',');
		name_print(stdout, (const uint8_t *)sn->tags[i],
		    strlen(sn->tags[i]), 1);
	}
	putchar(' ');
	if (sn->n_sources == 0)
		printf("-");
	for (i = 0; i < sn->n_sources; i++)
		printf("%s%s/%s%s", i > 0 ? "," : "",
		    store_kind_name(sn->sources[i].kind), sn->sources[i].name,
		    sn->sources[i].flags & STORE_SOURCE_STALE ? "(stale)" : "");
	printf(" %s", size);
	for (i = 0; (fname = store_snap_flag_name(i, &flag)) != NULL; i++)
		if (sn->flags & flag)
			printf(" [%s]", fname);
	if (has_pol && why != 0) {
		printf(" keep:");
		keep_print(stdout, why);
	} else if (has_pol) {
		printf(" expired");
	}
	putchar('\n');
}

int
cmd_snapshots(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "max-age", required_argument, NULL, CLI_OPT_FIRST_PRIVATE },
		{ "cached-ids", no_argument, NULL, CLI_OPT_FIRST_PRIVATE + 1 },
		{ NULL, 0, NULL, 0 },
	};
	int64_t max_age = 0;
	int is_cached_ids = 0;
	struct store_snap_list *l = NULL;
	struct store_policy pol;
	uint32_t *why = NULL;
	int has_pol = 0;
	struct cli_common c;
	struct store *s = NULL;
	json_t *a = NULL;
	size_t i;
	size_t n;
	int opt;
	int r;

	memset(&c, 0, sizeof(c));
	while ((opt = cli_getopt(argc, argv, longopts, &c)) != -1) {
		if (opt == CLI_OPT_FIRST_PRIVATE) {
			if (age_parse(optarg, &max_age) < 0) {
				cli_err(argv[0], "--max-age %s: a duration such "
				    "as 26h, 90m or 2d", optarg);
				return CLI_EXIT_USAGE;
			}
			continue;
		}
		if (opt == CLI_OPT_FIRST_PRIVATE + 1) {
			is_cached_ids = 1;
			continue;
		}
		return cli_usage(argv[0], usage, 1);
	}
	if ((r = cli_args(argv[0], &c, usage, argc, 1)) >= 0)
		return r;
	if (is_cached_ids) {
		r = cached_ids(argv[0], argv[optind], &c);
		goto out;
	}
	if ((r = cli_open(argv[0], argv[optind], &c, 1, &s)) != 0)
		goto out;
	/* The monitoring form reads only the newest snapshots. */
	if ((r = max_age > 0 ? store_snap_recent(s, (int64_t)time(NULL) -
	    max_age, &l) : store_snapshots(s, &l)) < 0) {
		if (r == -EACCES)
			cli_err(argv[0], "this key cannot read snapshots");
		else
			cli_err(argv[0], "cannot list snapshots: %s",
			    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	n = store_snap_list_len(l);
	if (max_age > 0) {
		/* A policy is judged on every snapshot: not here. */
		if ((why = calloc(n ? n : 1, sizeof(*why))) == NULL) {
			cli_err(argv[0], "out of memory");
			r = CLI_EXIT_ERROR;
			goto out;
		}
	} else if ((r = keep_eval(s, l, &pol, &has_pol, &why)) < 0) {
		cli_err(argv[0], "cannot apply the retention policy: %s",
		    cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (c.is_json && (a = json_array()) == NULL) {
		cli_err(argv[0], "out of memory");
		r = CLI_EXIT_ERROR;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct store_snap *sn = store_snap_list_get(l, i);

		if (c.is_json)
			json_array_append_new(a, keep_json(snap_json(sn),
			    has_pol, why[i]));
		else
			snap_print(sn, has_pol, why[i]);
	}
	if (c.is_json) {
		json_dumpf(a, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	r = max_age > 0 ? age_check(argv[0], l, max_age,
	    (int64_t)time(NULL)) : CLI_EXIT_OK;
out:
	r = cli_flush(argv[0], r);
	json_decref(a);
	free(why);
	store_snap_list_free(l);
	store_close(s);
	return r;
}
