/*
 * cmd_recover.c: `amber recover STORE SNAPSHOT --to FORGE`: put the
 * repositories of a snapshot (repos/NAME.git), with the CI metadata of
 * the pipeline source of the same name (pipelines/NAME), back onto a
 * GitLab group or a GitHub organisation.  It plans first (recover_plan.c),
 * shows the plan, and writes only with --yes or a "y" on the terminal.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "recover.h"
#include "store.h"

#define MAPS_MAX 1024
#define PATTERNS_MAX 1024
#define RECOVER_JOBS_MAX 64

static const char usage[] =
    "usage: amber recover STORE SNAPSHOT --to FORGE (--all | --repo PATTERN...)\n"
    "           [--map OLD=NEW]... [--dry-run] [--yes] [--update] [--force]\n"
    "           [--jobs N] [--json] [options]\n"
    "Put a snapshot's repositories and CI metadata back onto a forge.\n"
    "FORGE: gitlab:https://HOST/GROUP, github:ORG, github:https://HOST/ORG\n"
    "  --to FORGE           where to recover to\n"
    "  --all                every repository of the snapshot\n"
    "  --repo PATTERN       the repositories whose name matches (repeatable)\n"
    "  --map OLD=NEW        recover repos/OLD.git as NEW (OLD may end in *)\n"
    "  --dry-run            print the plan and write nothing\n"
    "  --yes                write without asking (needed without a terminal)\n"
    "  --update             change what exists on the target and differs\n"
    "  --force              move refs that are not fast-forwards, and use a\n"
    "                       snapshot flagged untrusted\n"
    "  --jobs N             projects recovered at once (default 4)\n"
    "  --json               the plan (and results) as JSON on stdout\n"
    CLI_COMMON_HELP
    CLI_S3_HELP
    "Exit status: 0 done, 1 error, 2 usage, 3 something was not recovered.\n"
    "See amber(1), sections recover and After an incident.\n";

enum {
	OPT_TO = CLI_OPT_FIRST_PRIVATE,
	OPT_ALL,
	OPT_REPO,
	OPT_MAP,
	OPT_DRY_RUN,
	OPT_YES,
	OPT_UPDATE,
	OPT_FORCE,
	OPT_JOBS,
};

struct map {
	const char *from;	/* "a" or "grp.*" */
	const char *to;		/* "b" or "*" forms */
};

/* NEW for ${src} after the maps, malloc'd. */
static char *
map_name(const struct map *m, size_t n, const char *src)
{
	size_t i;
	char *out;

	for (i = 0; i < n; i++) {
		size_t fl = strlen(m[i].from);

		if (fl > 0 && m[i].from[fl - 1] == '*') {
			const char *tl = strchr(m[i].to, '*');

			if (strncmp(src, m[i].from, fl - 1) != 0)
				continue;
			if (tl == NULL)
				return strdup(m[i].to);
			if (asprintf(&out, "%.*s%s%s", (int)(tl - m[i].to),
			    m[i].to, src + fl - 1, tl + 1) < 0)
				return NULL;
			return out;
		}
		if (strcmp(src, m[i].from) == 0)
			return strdup(m[i].to);
	}
	return strdup(src);
}

static int
dst_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '.' || s[0] == '-' || strlen(s) > 255)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i])))
			return 0;
	return strstr(s, ".git") == NULL || strcmp(s + strlen(s) - 4,
	    ".git") != 0;
}

#define SHOWN_MAX 512

/*
 * ${s} as it may go to a terminal: names, URLs and messages come from
 * the snapshot or the forge, so control bytes become '?' and the length
 * is cut at SHOWN_MAX, with "..." (into ${buf}, SHOWN_MAX + 4 bytes).
 */
static const char *
shown(const char *s, char *buf)
{
	size_t i;

	if (s == NULL)
		return "";
	for (i = 0; s[i] != '\0' && i < SHOWN_MAX; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	if (s[i] != '\0')
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

static void
print_plan(FILE *f, const struct recover_proj *p)
{
	char b[SHOWN_MAX + 4];
	const char *k;
	json_t *v;
	size_t i;
	json_t *a;

	fprintf(f, "%s  (from repos/%s.git%s%s)\n", p->full, p->src,
	    p->pipes != NULL ? " and pipelines/" : "",
	    p->pipes != NULL ? p->src : "");
	if (p->is_failed && json_array_size(p->actions) == 0) {
		fprintf(f, "  cannot plan: %s\n", shown(p->why, b));
		return;
	}
	json_array_foreach(p->actions, i, a) {
		const char *d = json_string_value(json_object_get(a,
		    "detail"));
		const char *res = json_string_value(json_object_get(a,
		    "result"));
		char b1[SHOWN_MAX + 4];
		char b2[SHOWN_MAX + 4];
		char b3[SHOWN_MAX + 4];

		fprintf(f, "  %-9s %-16s %s%s%s%s%s%s\n",
		    json_string_value(json_object_get(a, "action")),
		    json_string_value(json_object_get(a, "part")),
		    shown(json_string_value(json_object_get(a, "name")), b1),
		    d ? "  (" : "", d ? shown(d, b2) : "", d ? ")" : "",
		    res ? "  -> " : "", res ? shown(res, b3) : "");
	}
	if (json_object_size(p->same) > 0) {
		int first = 1;

		fprintf(f, "  unchanged:");
		json_object_foreach(p->same, k, v) {
			fprintf(f, "%s %lld %s%s", first ? "" : ",",
			    (long long)json_integer_value(v), k,
			    json_integer_value(v) > 1 ? "s" : "");
			first = 0;
		}
		fputc('\n', f);
	}
	json_array_foreach(p->notes, i, a)
		fprintf(f, "  note: %s\n", shown(json_string_value(a),
		    b));
	if (p->is_failed && json_array_size(p->actions) > 0)
		fprintf(f, "  not recovered: %s\n", shown(p->why, b));
}

static json_t *
plan_json(const struct recover_proj *p)
{
	json_t *acts = json_array();
	json_t *o;
	size_t i;
	json_t *a;

	json_array_foreach(p->actions, i, a) {
		json_t *c = json_object();
		const char *k;
		json_t *v;

		json_object_foreach(a, k, v)
			if (k[0] != '_')
				json_object_set(c, k, v);
		json_array_append_new(acts, c);
	}
	o = json_pack("{s:s, s:s, s:O, s:O, s:O, s:b}", "source", p->src,
	    "path", p->full, "actions", acts, "unchanged", p->same,
	    "notes", p->notes, "failed", p->is_failed);
	json_decref(acts);
	if (o != NULL && p->is_failed)
		json_object_set_new(o, "error", json_string(p->why));
	if (o != NULL && p->pipes != NULL)
		json_object_set_new(o, "pipelines", json_string(p->src));
	return o;
}

/* Whether the plan has anything to write. */
static int
has_writes(const struct recover_proj *p)
{
	size_t i;
	json_t *a;

	json_array_foreach(p->actions, i, a)
		if (json_object_get(a, "_req") != NULL ||
		    (json_object_get(a, "_oid") != NULL &&
		    (strcmp(json_string_value(json_object_get(a, "action")),
		    "push") == 0 || strcmp(json_string_value(json_object_get(
		    a, "action")), "force") == 0)))
			return 1;
	return 0;
}

/* Whether the plan leaves something different from the snapshot. */
static int
has_kept(const struct recover_proj *p, char *why, size_t cap)
{
	size_t i;
	json_t *a;

	json_array_foreach(p->actions, i, a)
		if (strcmp(json_string_value(json_object_get(a, "action")),
		    "keep") == 0) {
			snprintf(why, cap, "%s %s %s (%s)",
			    json_string_value(json_object_get(a, "part")),
			    json_string_value(json_object_get(a, "name")),
			    "left as it is on the target",
			    json_string_value(json_object_get(a, "detail")));
			return 1;
		}
	return 0;
}

static int
ask(const char *what)
{
	char line[64];
	FILE *tty = fopen("/dev/tty", "r+");
	int yes;

	if (tty == NULL)
		return 0;
	fprintf(tty, "%s [y/N] ", what);
	fflush(tty);
	yes = fgets(line, sizeof(line), tty) != NULL &&
	    (line[0] == 'y' || line[0] == 'Y');
	fclose(tty);
	return yes;
}

/*
 * Projects are planned, then recovered, --jobs at a time: each is its
 * own git push and its own API requests, and the store and the forge
 * client may be shared by threads (store.h, store/http.h).  Each worker
 * takes the next project; a project's state is touched by one worker.
 */
struct pool {
	struct store *s;
	struct recover_target *t;
	const struct recover_opts *o;
	struct recover_proj *ps;
	size_t n;
	int is_apply;
	atomic_size_t next;
	atomic_int err;		/* the first -ENOMEM or store error */
	atomic_size_t err_at;
};

static void
plan_one(struct pool *pl, struct recover_proj *p)
{
	struct store_tree *pt = NULL;
	size_t idx;
	int r;

	if (p->pipes != NULL &&
	    store_tree_read(pl->s, &p->pipes->tree, &pt) == 0) {
		if (store_tree_find(pt, (const uint8_t *)"repository.json",
		    15, &idx) == 0)
			p->src_is_github = 1;
		else if (store_tree_find(pt, (const uint8_t *)"project.json",
		    12, &idx) == 0)
			p->src_is_github = 0;
	}
	store_tree_free(pt);
	if ((r = recover_plan(pl->s, pl->t, pl->o, p)) < 0) {
		int z = 0;

		if (atomic_compare_exchange_strong(&pl->err, &z, r))
			atomic_store(&pl->err_at, (size_t)(p - pl->ps));
	}
}

static void *
worker(void *arg)
{
	struct pool *pl = arg;
	size_t i;
	int r;

	while ((i = atomic_fetch_add(&pl->next, 1)) < pl->n &&
	    atomic_load(&pl->err) == 0) {
		struct recover_proj *p = &pl->ps[i];

		if (!pl->is_apply) {
			plan_one(pl, p);
			continue;
		}
		if (p->is_failed)
			continue;
		if ((r = recover_apply(pl->s, pl->t, pl->o, p)) < 0) {
			int z = 0;

			if (atomic_compare_exchange_strong(&pl->err, &z, r))
				atomic_store(&pl->err_at, i);
		}
	}
	return NULL;
}

/* Run the plan or apply phase over every project, ${jobs} at a time. */
static int
pool_run(struct pool *pl, unsigned jobs, size_t *err_at)
{
	pthread_t th[RECOVER_JOBS_MAX];
	unsigned n = 0;
	unsigned k;

	atomic_store(&pl->next, 0);
	atomic_store(&pl->err, 0);
	if (jobs > pl->n)
		jobs = (unsigned)pl->n;
	for (k = 1; k < jobs; k++)
		if (pthread_create(&th[n], NULL, worker, pl) == 0)
			n++;
	worker(pl);
	for (k = 0; k < n; k++)
		pthread_join(th[k], NULL);
	*err_at = atomic_load(&pl->err_at);
	return atomic_load(&pl->err);
}

/* What the command line asks for. */
struct args {
	struct cli_common c;
	struct recover_opts o;
	const char *to;
	int is_all;
	int is_dry;
	int is_yes;
	unsigned jobs;
	struct map maps[MAPS_MAX];
	size_t n_maps;
	const char *pats[PATTERNS_MAX];
	size_t n_pats;
};

/* One option of ${opt}; returns an exit status, or -1 to go on. */
static int
args_opt(struct args *a, const char *cmd, int opt, char *arg)
{
	char *eq;
	uint64_t v;

	switch (opt) {
	case OPT_TO:
		a->to = arg;
		break;
	case OPT_ALL:
		a->is_all = 1;
		break;
	case OPT_REPO:
		if (a->n_pats == PATTERNS_MAX) {
			cli_err(cmd, "more than %d --repo", PATTERNS_MAX);
			return CLI_EXIT_USAGE;
		}
		a->pats[a->n_pats++] = arg;
		break;
	case OPT_MAP:
		eq = strchr(arg, '=');
		if (eq == NULL || eq == arg || a->n_maps == MAPS_MAX ||
		    !dst_ok(strchr(eq + 1, '*') ? "x" : eq + 1)) {
			cli_err(cmd, "--map %s: OLD=NEW, NEW a name of "
			    "[A-Za-z0-9._-]", arg);
			return CLI_EXIT_USAGE;
		}
		*eq = '\0';
		a->maps[a->n_maps].from = arg;
		a->maps[a->n_maps++].to = eq + 1;
		break;
	case OPT_DRY_RUN:
		a->is_dry = 1;
		break;
	case OPT_YES:
		a->is_yes = 1;
		break;
	case OPT_UPDATE:
		a->o.is_update = 1;
		break;
	case OPT_FORCE:
		a->o.is_force = 1;
		break;
	case OPT_JOBS:
		if (cli_u64_parse(arg, RECOVER_JOBS_MAX, &v) < 0 || v == 0) {
			cli_err(cmd, "--jobs %s: a number from 1 to %d", arg,
			    RECOVER_JOBS_MAX);
			return CLI_EXIT_USAGE;
		}
		a->jobs = (unsigned)v;
		break;
	default:
		return cli_usage(cmd, usage, 1);
	}
	return -1;
}

/* Parse the command line into ${a}; an exit status, or -1 to go on. */
static int
args_parse(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "to", required_argument, NULL, OPT_TO },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "map", required_argument, NULL, OPT_MAP },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "update", no_argument, NULL, OPT_UPDATE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	int r;

	a->jobs = 4;
	cli_getopt_reset();
	while ((opt = cli_getopt(argc, argv, longopts, &a->c)) != -1)
		if ((r = args_opt(a, argv[0], opt, optarg)) >= 0)
			return r;
	if (a->c.is_help)
		return cli_usage(argv[0], usage, 0);
	if (argc - optind != 2 || a->to == NULL ||
	    (a->is_all == 0 && a->n_pats == 0) ||
	    (a->is_all && a->n_pats > 0)) {
		if (argc - optind == 2 && a->to != NULL)
			cli_err(argv[0], "say which repositories: --all or "
			    "--repo PATTERN");
		return cli_usage(argv[0], usage, 1);
	}
	if (!a->is_dry && !a->is_yes && !isatty(STDIN_FILENO)) {
		cli_err(argv[0], "no terminal to confirm on: give --yes to "
		    "write, or --dry-run to see the plan");
		return CLI_EXIT_USAGE;
	}
	return -1;
}

/*
 * Fill ${p} for source ${so} of ${sn} if it is a repository the command
 * line picks.  Returns 1 if it is, 0 if not, or -ENOMEM.
 */
static int
pick_one(const struct args *a, const struct store_snap *sn,
    const struct store_source *so, struct recover_proj *p)
{
	size_t n = strlen(so->name);
	int is_match = a->is_all;
	size_t j;

	if (so->kind != STORE_REPOS || n < 5 ||
	    strcmp(so->name + n - 4, ".git") != 0)
		return 0;
	if ((p->src = strndup(so->name, n - 4)) == NULL)
		return -ENOMEM;
	for (j = 0; j < a->n_pats; j++)
		if (fnmatch(a->pats[j], p->src, 0) == 0)
			is_match = 1;
	if (!is_match || (n > 9 && strcmp(so->name + n - 9,
	    ".wiki.git") == 0)) {
		free(p->src);
		p->src = NULL;
		return 0;
	}
	p->mirror = &so->root;
	p->src_is_github = -1;
	for (j = 0; j < sn->n_sources; j++)
		if (sn->sources[j].kind == STORE_PIPELINES &&
		    strcmp(sn->sources[j].name, p->src) == 0)
			p->pipes = &sn->sources[j].root;
	if ((p->dst = map_name(a->maps, a->n_maps, p->src)) == NULL)
		return -ENOMEM;
	return 1;
}

/*
 * The projects of ${sn} to recover, into ps (sn->n_sources + 1 of them,
 * every one to be finished) and *${n_ps}.  Returns 0, an exit status,
 * or -ENOMEM.
 */
static int
pick_projects(const char *cmd, const struct args *a,
    const struct store_snap *sn, struct recover_proj *ps, size_t *n_ps)
{
	size_t i;
	size_t j;
	int r;

	for (i = 0; i < sn->n_sources; i++) {
		struct recover_proj *p = &ps[*n_ps];

		if ((r = pick_one(a, sn, &sn->sources[i], p)) <= 0) {
			if (r < 0)
				return r;
			continue;
		}
		(*n_ps)++;
		if (!dst_ok(p->dst)) {
			cli_err(cmd, "repos/%s.git: %s is not a name the "
			    "forge takes (use --map)", p->src, p->dst);
			return CLI_EXIT_USAGE;
		}
	}
	if (*n_ps == 0) {
		cli_err(cmd, "%s: no repository matches", sn->name);
		return CLI_EXIT_USAGE;
	}
	for (i = 0; i < *n_ps; i++)
		for (j = i + 1; j < *n_ps; j++)
			if (strcmp(ps[i].dst, ps[j].dst) == 0) {
				cli_err(cmd, "repos/%s.git and repos/%s.git "
				    "would both be %s", ps[i].src, ps[j].src,
				    ps[i].dst);
				return CLI_EXIT_USAGE;
			}
	return 0;
}

/* {"target", "snapshot", "projects": [...]}, with each project's plan. */
static json_t *
run_json(const struct args *a, const struct store_snap *sn,
    const struct recover_proj *ps, size_t n)
{
	json_t *out = json_pack("{s:s, s:s, s:o}", "target", a->to,
	    "snapshot", sn->name, "projects", json_array());
	size_t i;

	for (i = 0; out != NULL && i < n; i++)
		json_array_append_new(json_object_get(out, "projects"),
		    plan_json(&ps[i]));
	return out;
}

static void
json_print(json_t *out)
{
	json_dumpf(out, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(out);
}

/* Show the plans: on stdout with --dry-run or --json, else stderr. */
static void
print_plans(const struct args *a, const struct store_snap *sn,
    const struct recover_proj *ps, size_t n)
{
	FILE *f = a->is_dry ? stdout : stderr;
	size_t i;

	if ((a->c.is_json && !a->is_dry) || (a->c.is_quiet && a->is_yes))
		return;
	if (a->c.is_json) {
		json_print(run_json(a, sn, ps, n));
		return;
	}
	fprintf(f, "Plan: %s of %s onto %s\n", n > 1 ? "repositories" :
	    "a repository", sn->name, a->to);
	for (i = 0; i < n; i++)
		print_plan(f, &ps[i]);
}

/* The summary line of a project, and what failed, on stderr. */
static void
print_result(const struct recover_proj *p)
{
	char b1[SHOWN_MAX + 4];
	char b2[SHOWN_MAX + 4];
	size_t k;
	json_t *a;

	if (p->n_done == 0 && !p->is_failed) {
		fprintf(stderr, "%s: unchanged\n", p->full);
		return;
	}
	if (!p->is_failed) {
		fprintf(stderr, "%s: recovered (%zu steps)%s\n", p->full,
		    p->n_done, p->n_todo ? ", with steps left to do by hand "
		    "(see the plan)" : "");
		return;
	}
	fprintf(stderr, "%s: NOT RECOVERED: %s\n", p->full, shown(p->why, b1));
	json_array_foreach(p->actions, k, a) {
		const char *res = json_string_value(json_object_get(a,
		    "result"));

		if (res == NULL || strcmp(res, "done") == 0)
			continue;
		fprintf(stderr, "  failed: %s %s: %s\n",
		    json_string_value(json_object_get(a, "part")),
		    shown(json_string_value(json_object_get(a, "name")), b1),
		    shown(res, b2));
	}
}

/* The summary, one line per project; returns whether any failed. */
static int
print_results(const struct args *a, const struct store_snap *sn,
    struct recover_proj *ps, size_t n)
{
	int is_partial = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct recover_proj *p = &ps[i];
		char kept[1024];

		if (!p->is_failed && has_kept(p, kept, sizeof(kept))) {
			snprintf(p->why, sizeof(p->why), "%s", kept);
			p->is_failed = 1;
		}
		if (p->is_failed)
			is_partial = 1;
		if (!a->c.is_json && !(a->c.is_quiet && !p->is_failed))
			print_result(p);
	}
	if (a->c.is_json)
		json_print(run_json(a, sn, ps, n));
	return is_partial;
}

/*
 * Plan, show, ask, apply and sum up, over ${n} projects ${ps} of ${sn}
 * onto ${t}.  Returns an exit status or a negative errno.
 */
static int
recover_run(const char *cmd, struct args *a, struct store *s,
    const struct store_snap *sn, struct recover_target *t,
    struct recover_proj *ps, size_t n)
{
	struct pool pl;
	size_t i;
	size_t j;
	int r;

	memset(&pl, 0, sizeof(pl));
	pl.s = s;
	pl.t = t;
	pl.o = &a->o;
	pl.ps = ps;
	pl.n = n;
	pl.is_apply = 0;
	if ((r = pool_run(&pl, a->jobs, &j)) < 0) {
		cli_err(cmd, "%s: cannot plan: %s", ps[j].full,
		    cli_strerror(r));
		return cli_exit_status(r);
	}
	print_plans(a, sn, ps, n);
	if (a->is_dry)
		return CLI_EXIT_OK;
	for (i = j = 0; i < n; i++)
		j += has_writes(&ps[i]);
	if (j > 0 && !a->is_yes && !ask("Write this to the target?")) {
		cli_err(cmd, "nothing written");
		return CLI_EXIT_ERROR;
	}
	pl.is_apply = 1;
	if ((r = pool_run(&pl, a->jobs, &j)) < 0) {
		cli_err(cmd, "%s: %s", ps[j].full, cli_strerror(r));
		return cli_exit_status(r);
	}
	return print_results(a, sn, ps, n) ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}

int
cmd_recover(int argc, char **argv)
{
	struct recover_target t;
	struct args a;
	struct store *s = NULL;
	struct store_snap_list *l = NULL;
	const struct store_snap *sn;
	struct recover_proj *ps = NULL;
	size_t n_ps = 0;
	size_t i;
	char why[1024];
	char tmp[] = "/tmp/amber-recover.XXXXXX";
	int has_tmp = 0;
	int r;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	if ((r = args_parse(argc, argv, &a)) >= 0)
		return r;
	if ((r = cli_open(argv[0], argv[optind], &a.c, 1, &s)) != 0)
		goto out;
	if ((r = store_snapshots(s, &l)) < 0 ||
	    (r = store_snap_find(l, argv[optind + 1], &sn)) < 0) {
		cli_err(argv[0], "%s: %s", argv[optind + 1], r == -ENOENT ?
		    "no such snapshot" : cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if ((sn->flags & STORE_SNAP_UNTRUSTED) && !a.o.is_force) {
		cli_err(argv[0], "%s: this snapshot is flagged untrusted (see "
		    "amber snapshots); give --force to use it anyway",
		    sn->name);
		r = CLI_EXIT_ERROR;
		goto out;
	}
	if ((ps = calloc(sn->n_sources + 1, sizeof(*ps))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = pick_projects(argv[0], &a, sn, ps, &n_ps)) != 0)
		goto out;
	if ((r = recover_target_open(&t, a.to, why, sizeof(why))) < 0) {
		cli_err(argv[0], "%s", why);
		r = r == -EINVAL ? CLI_EXIT_USAGE : cli_exit_status(r);
		goto out;
	}
	if (mkdtemp(tmp) == NULL) {
		cli_err(argv[0], "%s: %s", tmp, strerror(errno));
		r = CLI_EXIT_ERROR;
		goto out;
	}
	has_tmp = 1;
	a.o.tmp = tmp;
	for (i = 0; i < n_ps; i++)
		snprintf(ps[i].full, sizeof(ps[i].full), "%s/%s", t.group,
		    ps[i].dst);
	r = recover_run(argv[0], &a, s, sn, &t, ps, n_ps);
out:
	r = cli_flush(argv[0], r);
	for (i = 0; ps != NULL && i <= n_ps; i++)
		recover_proj_fini(&ps[i]);
	free(ps);
	if (has_tmp)
		recover_rm_tree(tmp);
	recover_target_close(&t);
	store_snap_list_free(l);
	store_close(s);
	if (r < 0)
		r = cli_exit_status(r);
	return r;
}
