/*
 * cmd_ls.c: `amber ls STORE SNAPSHOT[:PATH]` lists a directory of a
 * snapshot (or names one entry that is not a directory), like ls(1).
 *
 * Stored names are raw bytes.  On a terminal (or with -b) they are
 * escaped so that one entry is one line and no byte can drive the
 * terminal; through a pipe they are written as they are, as ls(1) does;
 * --json gives exact bytes (cli_json_bytes()).  Times are effective
 * mtimes: an entry that inherits its directory's (a file of a git branch)
 * shows that time (mtime.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cmd.h"
#include "mtime.h"
#include "store.h"

static const char usage[] =
    "usage: amber ls STORE SNAPSHOT[:PATH] [-l] [-R] [-b] [--json]\n"
    "\n"
    "List the directory PATH (default: the snapshot's root) of SNAPSHOT\n"
    "(latest, a snapshot name, or an id prefix).\n"
    "\n"
    "  -l, --long           mode, owner, size, mtime, name (-> target)\n"
    "  -R, --recursive      list everything below, as paths relative to\n"
    "                       PATH\n"
    "  -b, --escape         escape odd bytes in names even when stdout is\n"
    "                       not a terminal\n"
    "  --json               one JSON object per entry per line\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

/* Deeper than this is surely not a real tree. */
#define LS_DEPTH_MAX 4096

struct ls {
	const char *cmd;
	struct store *s;
	const char *snap;	/* the snapshot's name, for messages */
	int is_long;
	int is_recursive;
	int is_escaped;
	int is_json;
	int n_errors;
	uint8_t *path;		/* the current path, relative to PATH */
	size_t path_len;
	size_t path_cap;
};

static void
mode_string(const struct store_entry *e, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	uint32_t m = e->mode;
	int i;

	out[0] = cli_type_char(e->type);
	for (i = 0; i < 9; i++)
		out[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
	if (m & 04000)
		out[3] = (m & 0100) ? 's' : 'S';
	if (m & 02000)
		out[6] = (m & 0010) ? 's' : 'S';
	if (m & 01000)
		out[9] = (m & 0001) ? 't' : 'T';
	out[10] = '\0';
}

static void
print_json(struct ls *ls, const struct store_entry *e, int64_t sec,
    uint32_t nsec)
{
	char when[64];
	char mtime[80];
	json_t *o;

	store_time_format(sec, when, sizeof(when));
	/* Insert the nanoseconds: "...:SSZ" -> "...:SS.nnnnnnnnnZ". */
	if (nsec != 0 && strlen(when) > 1) {
		when[strlen(when) - 1] = '\0';
		snprintf(mtime, sizeof(mtime), "%s.%09uZ", when,
		    (unsigned)nsec);
	} else {
		snprintf(mtime, sizeof(mtime), "%s", when);
	}
	o = json_pack("{s:s, s:i, s:I, s:I, s:I, s:s, s:I, s:i, s:b}",
	    "type", cli_type_name(e->type), "mode", (int)e->mode,
	    "uid", (json_int_t)e->uid, "gid", (json_int_t)e->gid,
	    "size", (json_int_t)e->size, "mtime", mtime,
	    "mtime_sec", (json_int_t)sec,
	    "mtime_nsec", (int)nsec,
	    "partial", (e->flags & STORE_ENTRY_PARTIAL) != 0);
	if (o == NULL ||
	    cli_json_bytes(o, "name", e->name, e->name_len) < 0 ||
	    cli_json_bytes(o, "path", ls->path, ls->path_len) < 0 ||
	    (e->type == STORE_LNK && cli_json_bytes(o, "target", e->target,
	    e->target_len) < 0) ||
	    (e->link != 0 && json_object_set_new(o, "link",
	    json_integer((json_int_t)e->link)) != 0) ||
	    ((e->type == STORE_CHR || e->type == STORE_BLK) &&
	    json_object_set_new(o, "rdev",
	    json_integer((json_int_t)e->rdev)) != 0) ||
	    (e->type == STORE_DIR && json_object_set_new(o, "entries",
	    json_integer((json_int_t)e->n_desc)) != 0)) {
		cli_err(ls->cmd, "out of memory");
		ls->n_errors++;
		json_decref(o);
		return;
	}
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

/* Print ${e}, whose effective mtime is ${sec}.${nsec}. */
static void
print_entry(struct ls *ls, const struct store_entry *e, int64_t sec,
    uint32_t nsec)
{
	char mode[11];
	char when[64];
	const uint8_t *name = ls->is_recursive ? ls->path : e->name;
	size_t len = ls->is_recursive ? ls->path_len : e->name_len;

	if (ls->is_json) {
		print_json(ls, e, sec, nsec);
		return;
	}
	if (ls->is_long) {
		mode_string(e, mode);
		store_time_format(sec, when, sizeof(when));
		if (e->type == STORE_CHR || e->type == STORE_BLK)
			printf("%s %6u %6u %5u,%-5u %s ", mode,
			    (unsigned)e->uid, (unsigned)e->gid,
			    major((dev_t)e->rdev), minor((dev_t)e->rdev),
			    when);
		else
			printf("%s %6u %6u %11llu %s ", mode,
			    (unsigned)e->uid, (unsigned)e->gid,
			    (unsigned long long)e->size, when);
	}
	name_print(stdout, name, len, ls->is_escaped);
	if (ls->is_long && e->type == STORE_LNK) {
		fputs(" -> ", stdout);
		name_print(stdout, e->target, e->target_len,
		    ls->is_escaped);
	}
	if (ls->is_long && (e->flags & STORE_ENTRY_PARTIAL))
		fputs(" [partial]", stdout);
	putchar('\n');
}

/* Append "/name" (or "name" at the top) to ls->path; returns the old len. */
static int
path_push(struct ls *ls, const uint8_t *name, size_t len, size_t *old)
{
	size_t need = ls->path_len + 1 + len + 1;
	uint8_t *p;

	if (need > ls->path_cap) {
		if ((p = realloc(ls->path, 2 * need)) == NULL)
			return -ENOMEM;
		ls->path = p;
		ls->path_cap = 2 * need;
	}
	*old = ls->path_len;
	if (ls->path_len > 0)
		ls->path[ls->path_len++] = '/';
	memcpy(ls->path + ls->path_len, name, len);
	ls->path_len += len;
	return 0;
}

static void
error_at(struct ls *ls, int r)
{
	fprintf(stderr, "%s: %s:", ls->cmd, ls->snap);
	name_print(stderr, ls->path, ls->path_len, 1);
	fprintf(stderr, ": %s\n", cli_strerror(r));
	ls->n_errors++;
}

/* List ${dir}, whose effective mtime is ${sec}.${nsec}. */
static int
list_dir(struct ls *ls, const struct store_entry *dir, int depth,
    int64_t sec, uint32_t nsec)
{
	struct store_tree *t = NULL;
	const struct store_entry *e;
	size_t old;
	size_t i;
	size_t n;
	int r;

	if (depth > LS_DEPTH_MAX) {
		error_at(ls, -ELOOP);
		return 0;
	}
	if ((r = store_tree_read(ls->s, &dir->tree, &t)) < 0) {
		if (r == -ENOMEM)
			return r;
		error_at(ls, r);
		return 0;
	}
	n = store_tree_len(t);
	for (i = 0; i < n; i++) {
		int64_t esec;
		uint32_t ensec;

		e = store_tree_entry(t, i);
		store_entry_mtime(e, sec, nsec, &esec, &ensec);
		if ((r = path_push(ls, e->name, e->name_len, &old)) < 0)
			goto out;
		print_entry(ls, e, esec, ensec);
		if (ls->is_recursive && e->type == STORE_DIR &&
		    (r = list_dir(ls, e, depth + 1, esec, ensec)) < 0)
			goto out;
		ls->path_len = old;
	}
	r = 0;
out:
	store_tree_free(t);
	return r;
}

int
cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "long", no_argument, NULL, 'l' },
		{ "recursive", no_argument, NULL, 'R' },
		{ "escape", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_found f = { 0 };
	struct cli_common c;
	struct ls ls;
	int64_t sec = 0;
	uint32_t nsec = 0;
	size_t old;
	int opt;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&ls, 0, sizeof(ls));
	ls.cmd = argv[0];
	ls.is_escaped = isatty(STDOUT_FILENO);
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "lRb",
	    longopts, NULL)) != -1) {
		if (cli_common_opt(&c, opt, optarg))
			continue;
		switch (opt) {
		case 'l':
			ls.is_long = 1;
			break;
		case 'R':
			ls.is_recursive = 1;
			break;
		case 'b':
			ls.is_escaped = 1;
			break;
		default:
			return cli_usage(argv[0], usage, 1);
		}
	}
	if ((r = cli_args(argv[0], &c, usage, argc, 2)) >= 0)
		return r;
	ls.is_json = c.is_json;
	if ((r = cli_open(argv[0], argv[optind], &c, 1, &ls.s)) != 0)
		goto out;
	if ((r = cli_find(argv[0], ls.s, argv[optind + 1], &f)) != 0)
		goto out;
	ls.snap = f.snap->name;
	if ((r = mtime_at(ls.s, f.snap, f.path, &sec, &nsec)) < 0) {
		cli_err(argv[0], "%s", cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	if (f.entry->type == STORE_DIR) {
		r = list_dir(&ls, f.entry, 0, sec, nsec);
	} else {
		/* One entry that is not a directory: show it alone. */
		if ((r = path_push(&ls, f.entry->name, f.entry->name_len,
		    &old)) == 0)
			print_entry(&ls, f.entry, sec, nsec);
	}
	if (r < 0) {
		cli_err(argv[0], "%s", cli_strerror(r));
		r = cli_exit_status(r);
		goto out;
	}
	r = ls.n_errors > 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
out:
	r = cli_flush(argv[0], r);
	free(ls.path);
	cli_found_free(&f);
	store_close(ls.s);
	return r;
}
