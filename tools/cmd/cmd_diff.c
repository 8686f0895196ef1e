/*
 * cmd_diff.c: `amber diff STORE A B [PATH]` lists what differs between
 * two snapshots, like restic diff: '+' added, '-' removed, 'M' content
 * changed, 'T' type changed, 'm' metadata only.
 *
 * Trees are Merkle trees: a directory whose tree id is the same in both
 * snapshots holds the same bytes, so it is not read at all, and the cost
 * follows the change, not the size of the snapshots.  Entries are compared
 * on their stored fields, so an entry that inherits its mtime
 * (STORE_ENTRY_MTIME_INHERIT, a git branch) is not reported when only the
 * inherited time moved: the change shows once, on the entry that holds the
 * time (amber(1), diff).
 *
 * The trees come from the store and may be hostile.  The walk stops at
 * STORE_DEPTH_MAX levels; the entries of the trees held at once along one
 * path are capped (DIFF_HELD_MAX); and every tree read must hold as many
 * entries below it as its directory entry says (n_desc), so the entries
 * visited are at most what the snapshots' roots declare, however a forged
 * tree shares its subtrees.  A tree that breaks these rules is named on
 * stderr, its part of the output is missing, and the exit status is 2.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cmd.h"
#include "store.h"

static const char usage[] =
    "usage: amber diff STORE A B [PATH] [--stat] [--json] [-b]\n"
    "\n"
    "List the paths that differ between snapshots A and B (latest, a\n"
    "snapshot name, or an id prefix), below PATH if given:\n"
    "  +  added      -  removed      M  content changed\n"
    "  T  type changed               m  metadata only (mode, owner, mtime)\n"
    "Directories end with '/'.  Exit status: 0 no difference, 1 some\n"
    "difference, 2 trouble (usage, no such snapshot, damaged store), 4 wrong\n"
    "passphrase or key.\n"
    "\n"
    "  --stat               print the counts and bytes instead of the paths\n"
    "  --json               one JSON object per path (with --stat: one\n"
    "                       object of counts)\n"
    "  -b, --escape         escape odd bytes in names even when stdout is\n"
    "                       not a terminal\n"
    CLI_COMMON_HELP
    CLI_S3_HELP;

enum {
	OPT_STAT = CLI_OPT_FIRST_PRIVATE,
};

/* Exit statuses of diff, as diff(1) has them (amber(1), diff). */
#define DIFF_EXIT_SAME 0
#define DIFF_EXIT_DIFFERENT 1
#define DIFF_EXIT_TROUBLE 2

/*
 * Entries of the trees held at once along one path (two per level).  A
 * tree of STORE_TREE_MAX bytes holds at most about a million entries, so
 * this lets a real tree hold a few of the largest directories at once and
 * stops a forged chain of 2048 maximal trees from taking all memory.
 */
#define DIFF_HELD_MAX (UINT64_C(8) << 20)

enum kind { KIND_FILE, KIND_DIR, KIND_OTHER, N_KINDS };

struct diff_stat {
	uint64_t n_added[N_KINDS];
	uint64_t n_removed[N_KINDS];
	uint64_t n_modified[N_KINDS];	/* never for directories */
	uint64_t n_type;
	uint64_t n_meta;
	uint64_t bytes_added;	/* sizes of the new sides' regular files */
	uint64_t bytes_removed;
	uint64_t data_added;	/* bytes of chunks only on the new side */
	uint64_t data_removed;
};

/* One chunk of a file on one side, for the data figures of --stat. */
struct chunk {
	uint8_t id[STORE_HASH_LEN];
	uint32_t len;
};

struct chunks {
	struct chunk *v;
	size_t n;
	size_t cap;
};

struct diff {
	const char *cmd;
	struct store *s;
	int is_json;
	int is_stat;
	int is_escaped;
	int n_errors;
	uint64_t n_changes;
	uint64_t n_trees;	/* trees read */
	uint64_t held;		/* entries of the trees held now */
	uint8_t *path;		/* the current path, from the snapshot root */
	size_t path_len;
	size_t path_cap;
	struct diff_stat st;
	struct chunks old;	/* chunks of the files reported, each side */
	struct chunks new;
};

static enum kind
kind_of(uint8_t type)
{
	if (type == STORE_REG)
		return KIND_FILE;
	if (type == STORE_DIR)
		return KIND_DIR;
	return KIND_OTHER;
}

/* The order of names in a tree: memcmp, shorter first on a common prefix. */
static int
name_cmp(const struct store_entry *a, const struct store_entry *b)
{
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->name, b->name, n);

	if (c != 0)
		return c;
	return (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

/* Append "/name" (or "name" at the top) to d->path; *${old} to undo. */
static int
path_push(struct diff *d, const uint8_t *name, size_t len, size_t *old)
{
	size_t need = d->path_len + 1 + len + 1;
	uint8_t *p;

	if (need > d->path_cap) {
		if ((p = realloc(d->path, 2 * need)) == NULL)
			return -ENOMEM;
		d->path = p;
		d->path_cap = 2 * need;
	}
	*old = d->path_len;
	if (d->path_len > 0)
		d->path[d->path_len++] = '/';
	memcpy(d->path + d->path_len, name, len);
	d->path_len += len;
	return 0;
}

/* A problem with the tree at the current path: named, counted, skipped. */
static void
error_at(struct diff *d, const char *side, const char *what)
{
	fprintf(stderr, "%s: %s:", d->cmd, side);
	name_print(stderr, d->path, d->path_len, 1);
	fprintf(stderr, ": %s\n", what);
	d->n_errors++;
}

static int
chunks_add(struct chunks *c, const struct store_entry *e)
{
	struct chunk *v;
	size_t cap;

	if (e->type != STORE_REG)
		return 0;
	if (e->n_extents > c->cap - c->n) {
		cap = c->cap * 2 + e->n_extents + 64;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(c->v, cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	for (size_t i = 0; i < e->n_extents; i++) {
		memcpy(c->v[c->n].id, e->extents[i].ref.id, STORE_HASH_LEN);
		c->v[c->n].len = e->extents[i].len;
		c->n++;
	}
	return 0;
}

static int
chunk_cmp(const void *a, const void *b)
{
	return memcmp(((const struct chunk *)a)->id,
	    ((const struct chunk *)b)->id, STORE_HASH_LEN);
}

/* Sort ${c} and drop repeated ids. */
static void
chunks_unique(struct chunks *c)
{
	size_t o = 0;

	if (c->n == 0)
		return;
	qsort(c->v, c->n, sizeof(*c->v), chunk_cmp);
	for (size_t i = 1; i < c->n; i++)
		if (memcmp(c->v[i].id, c->v[o].id, STORE_HASH_LEN) != 0)
			c->v[++o] = c->v[i];
	c->n = o + 1;
}

/* data_added/_removed: bytes of the chunks found on one side only. */
static void
chunks_count(struct diff *d)
{
	size_t i = 0;
	size_t j = 0;
	int c;

	chunks_unique(&d->old);
	chunks_unique(&d->new);
	while (i < d->old.n || j < d->new.n) {
		if (i == d->old.n)
			c = 1;
		else if (j == d->new.n)
			c = -1;
		else
			c = chunk_cmp(&d->old.v[i], &d->new.v[j]);
		if (c < 0)
			d->st.data_removed += d->old.v[i++].len;
		else if (c > 0)
			d->st.data_added += d->new.v[j++].len;
		else {
			i++;
			j++;
		}
	}
}

static void
print_json(struct diff *d, char change, const struct store_entry *a,
    const struct store_entry *b)
{
	const struct store_entry *e = b != NULL ? b : a;
	char ch[2] = { change, '\0' };
	json_t *o;

	o = json_pack("{s:s, s:s}", "change", ch, "type",
	    cli_type_name(e->type));
	if (o == NULL ||
	    cli_json_bytes(o, "path", d->path, d->path_len) < 0 ||
	    (change == 'T' && json_object_set_new(o, "old_type",
	    json_string(cli_type_name(a->type))) != 0) ||
	    (a != NULL && a->type == STORE_REG && json_object_set_new(o,
	    "old_size", json_integer((json_int_t)a->size)) != 0) ||
	    (b != NULL && b->type == STORE_REG && json_object_set_new(o,
	    "size", json_integer((json_int_t)b->size)) != 0)) {
		json_decref(o);
		cli_err(d->cmd, "out of memory");
		d->n_errors++;
		return;
	}
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

/*
 * Report the current path: ${a} its old entry (NULL if added), ${b} its
 * new one (NULL if removed).  Counts it, and keeps the chunks of files.
 */
static int
report(struct diff *d, char change, const struct store_entry *a,
    const struct store_entry *b)
{
	const struct store_entry *e = b != NULL ? b : a;
	int r;

	d->n_changes++;
	switch (change) {
	case '+':
		d->st.n_added[kind_of(b->type)]++;
		break;
	case '-':
		d->st.n_removed[kind_of(a->type)]++;
		break;
	case 'M':
		d->st.n_modified[kind_of(b->type)]++;
		break;
	case 'T':
		d->st.n_type++;
		break;
	default:
		d->st.n_meta++;
		break;
	}
	if (change != 'm') {
		if (a != NULL && a->type == STORE_REG) {
			d->st.bytes_removed += a->size;
			if ((r = chunks_add(&d->old, a)) < 0)
				return r;
		}
		if (b != NULL && b->type == STORE_REG) {
			d->st.bytes_added += b->size;
			if ((r = chunks_add(&d->new, b)) < 0)
				return r;
		}
	}
	if (d->is_stat)
		return 0;
	if (d->is_json) {
		print_json(d, change, a, b);
		return 0;
	}
	printf("%c    ", change);
	name_print(stdout, d->path, d->path_len, d->is_escaped);
	if (e->type == STORE_DIR)
		putchar('/');
	putchar('\n');
	return 0;
}

/* Whether the content of two entries of one type differs. */
static int
is_content_changed(const struct store_entry *a, const struct store_entry *b)
{
	switch (a->type) {
	case STORE_REG:
		if (a->size != b->size || a->n_extents != b->n_extents)
			return 1;
		for (size_t i = 0; i < a->n_extents; i++)
			if (a->extents[i].off != b->extents[i].off ||
			    a->extents[i].len != b->extents[i].len ||
			    memcmp(a->extents[i].ref.id, b->extents[i].ref.id,
			    STORE_HASH_LEN) != 0)
				return 1;
		return 0;
	case STORE_LNK:
		return a->target_len != b->target_len ||
		    memcmp(a->target, b->target, a->target_len) != 0;
	case STORE_CHR:
	case STORE_BLK:
		return a->rdev != b->rdev;
	default:
		return 0;
	}
}

/*
 * Whether the stored metadata differs.  Stored, not effective, mtimes:
 * two entries that inherit compare equal.  Of the hard-link group only
 * whether there is one counts: its ordinal moves with any entry added
 * before it.
 */
static int
is_meta_changed(const struct store_entry *a, const struct store_entry *b)
{
	return a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec ||
	    a->flags != b->flags || (a->link != 0) != (b->link != 0);
}

/*
 * Read the tree of the directory entry ${e} into *${out}, and check it
 * against ${e}: its entries and theirs must add up to e->n_desc.  Counts
 * the entries it holds in d->held (the caller gives them back with
 * put_tree()).  Returns 0; 1 when the tree is skipped (the problem was
 * reported); -ENOMEM.
 */
static int
get_tree(struct diff *d, const char *side, const struct store_entry *e,
    struct store_tree **out)
{
	struct store_tree *t = NULL;
	uint64_t sum = 0;
	size_t n;
	int r;

	*out = NULL;
	if ((r = store_tree_read(d->s, &e->tree, &t)) < 0) {
		if (r == -ENOMEM)
			return r;
		error_at(d, side, cli_strerror(r));
		return 1;
	}
	d->n_trees++;
	n = store_tree_len(t);
	for (size_t i = 0; i < n && sum <= e->n_desc; i++) {
		const struct store_entry *c = store_tree_entry(t, i);
		uint64_t add = 1 + (c->type == STORE_DIR ? c->n_desc : 0);

		/* sum <= e->n_desc here: no overflow, however many. */
		if (add > e->n_desc - sum)
			sum = e->n_desc + 1;
		else
			sum += add;
	}
	if (sum != e->n_desc) {
		error_at(d, side, "damaged: the tree holds another number of "
		    "entries than its directory says");
		store_tree_free(t);
		return 1;
	}
	if (n > DIFF_HELD_MAX - d->held) {
		error_at(d, side, "too many entries in the directories on "
		    "this path to hold at once");
		store_tree_free(t);
		return 1;
	}
	d->held += n;
	*out = t;
	return 0;
}

static void
put_tree(struct diff *d, struct store_tree *t)
{
	if (t != NULL)
		d->held -= store_tree_len(t);
	store_tree_free(t);
}

/* Report everything below the directory ${dir} as ${change} ('+', '-'). */
static int
walk_one(struct diff *d, char change, const struct store_entry *dir,
    int depth)
{
	const char *side = change == '+' ? "B" : "A";
	struct store_tree *t = NULL;
	size_t old;
	size_t n;
	int r;

	if (depth > STORE_DEPTH_MAX) {
		error_at(d, side, "deeper than any real tree");
		return 0;
	}
	if ((r = get_tree(d, side, dir, &t)) != 0)
		return r < 0 ? r : 0;
	n = store_tree_len(t);
	for (size_t i = 0; i < n; i++) {
		const struct store_entry *e = store_tree_entry(t, i);

		if ((r = path_push(d, e->name, e->name_len, &old)) < 0)
			goto out;
		if ((r = report(d, change, change == '-' ? e : NULL,
		    change == '+' ? e : NULL)) < 0)
			goto out;
		if (e->type == STORE_DIR &&
		    (r = walk_one(d, change, e, depth + 1)) < 0)
			goto out;
		d->path_len = old;
	}
	r = 0;
out:
	put_tree(d, t);
	return r;
}

/*
 * Whether the current path is a directory of the snapshot's root (files/,
 * repos/, pipelines/), which the writer makes with the snapshot's time.
 */
static int
is_kind_dir(const struct diff *d)
{
	return d->path_len > 0 && memchr(d->path, '/', d->path_len) == NULL;
}

static int diff_dir(struct diff *d, const struct store_entry *a,
    const struct store_entry *b, int depth);

/*
 * Compare ${a} and ${b}, the entries at the current path (either may be
 * NULL: absent on that side), and what is below them.
 */
static int
diff_entry(struct diff *d, const struct store_entry *a,
    const struct store_entry *b, int depth)
{
	int r;

	if (a == NULL) {
		if ((r = report(d, '+', NULL, b)) < 0)
			return r;
		return b->type == STORE_DIR ? walk_one(d, '+', b, depth) : 0;
	}
	if (b == NULL) {
		if ((r = report(d, '-', a, NULL)) < 0)
			return r;
		return a->type == STORE_DIR ? walk_one(d, '-', a, depth) : 0;
	}
	if (a->type != b->type) {
		if ((r = report(d, 'T', a, b)) < 0)
			return r;
		if (a->type == STORE_DIR &&
		    (r = walk_one(d, '-', a, depth)) < 0)
			return r;
		if (b->type == STORE_DIR &&
		    (r = walk_one(d, '+', b, depth)) < 0)
			return r;
		return 0;
	}
	if (a->type == STORE_DIR) {
		/* files/, repos/, pipelines/ take each snapshot's time. */
		if (is_meta_changed(a, b) && !is_kind_dir(d) &&
		    (r = report(d, 'm', a, b)) < 0)
			return r;
		/* The same tree id: the same bytes below; not read. */
		if (memcmp(a->tree.id, b->tree.id, STORE_HASH_LEN) == 0)
			return 0;
		return diff_dir(d, a, b, depth);
	}
	if (is_content_changed(a, b))
		return report(d, 'M', a, b);
	if (is_meta_changed(a, b))
		return report(d, 'm', a, b);
	return 0;
}

/* Compare the directories ${a} and ${b}, whose tree ids differ. */
static int
diff_dir(struct diff *d, const struct store_entry *a,
    const struct store_entry *b, int depth)
{
	struct store_tree *ta = NULL;
	struct store_tree *tb = NULL;
	const struct store_entry *ea;
	const struct store_entry *eb;
	size_t i = 0;
	size_t j = 0;
	size_t na;
	size_t nb;
	size_t old;
	int c;
	int r;

	if (depth > STORE_DEPTH_MAX) {
		error_at(d, "A", "deeper than any real tree");
		return 0;
	}
	if ((r = get_tree(d, "A", a, &ta)) != 0 ||
	    (r = get_tree(d, "B", b, &tb)) != 0) {
		r = r < 0 ? r : 0;
		goto out;
	}
	na = store_tree_len(ta);
	nb = store_tree_len(tb);
	/* Both are sorted by name (tree.c checks): one merge. */
	while (i < na || j < nb) {
		ea = i < na ? store_tree_entry(ta, i) : NULL;
		eb = j < nb ? store_tree_entry(tb, j) : NULL;
		if (ea == NULL)
			c = 1;
		else if (eb == NULL)
			c = -1;
		else
			c = name_cmp(ea, eb);
		if (c < 0) {
			eb = NULL;
			i++;
		} else if (c > 0) {
			ea = NULL;
			j++;
		} else {
			i++;
			j++;
		}
		if (ea != NULL)
			r = path_push(d, ea->name, ea->name_len, &old);
		else
			r = path_push(d, eb->name, eb->name_len, &old);
		if (r < 0 || (r = diff_entry(d, ea, eb, depth + 1)) < 0)
			goto out;
		d->path_len = old;
	}
	r = 0;
out:
	put_tree(d, tb);
	put_tree(d, ta);
	return r;
}

/*
 * Find the snapshot ${spec} in ${l}.  A ":PATH" suffix is refused: the
 * path is the fourth argument, the same for both.  Prints one line and
 * returns the exit status on failure.
 */
static int
find_snap(const char *cmd, const struct store_snap_list *l, const char *arg,
    const struct store_snap **out)
{
	char *spec = NULL;
	char *path = NULL;
	int r;

	if ((r = cli_split_spec(arg, &spec, &path)) < 0) {
		cli_err(cmd, "%s: %s", arg, r == -ENOMEM ? "out of memory" :
		    "not a snapshot name or id");
		r = DIFF_EXIT_TROUBLE;
		goto out;
	}
	if (path[0] != '\0') {
		cli_err(cmd, "%s: give the path as the fourth argument, "
		    "not after the snapshot", arg);
		r = DIFF_EXIT_TROUBLE;
		goto out;
	}
	if ((r = store_snap_find(l, spec, out)) < 0) {
		if (r == -EINVAL)
			cli_err(cmd, "%s: ambiguous snapshot id prefix", spec);
		else if (r == -ENOENT && strcmp(spec, "latest") == 0)
			cli_err(cmd, "no snapshot yet (latest)");
		else
			cli_err(cmd, "%s: no such snapshot", spec);
		r = DIFF_EXIT_TROUBLE;
		goto out;
	}
	r = 0;
out:
	free(spec);
	free(path);
	return r;
}

/*
 * Resolve ${path} in ${sn}: *${e} the entry (borrowed from *${t}, which
 * the caller frees, or the root), or NULL if there is none.  Returns 0,
 * or prints one line and returns the exit status.
 */
static int
find_path(const char *cmd, struct store *s, const struct store_snap *sn,
    const char *path, struct store_tree **t, const struct store_entry **e)
{
	size_t idx = 0;
	int r;

	*t = NULL;
	*e = NULL;
	r = store_resolve(s, &sn->root, path, t, &idx);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0) {
		cli_err(cmd, "%s:%s: %s", sn->name, path, cli_strerror(r));
		return r == -EACCES ? CLI_EXIT_KEY : DIFF_EXIT_TROUBLE;
	}
	if (*t == NULL) {
		*e = &sn->root;
		return 0;
	}
	if (idx >= store_tree_len(*t)) {
		cli_err(cmd, "%s:%s: not found", sn->name, path);
		return DIFF_EXIT_TROUBLE;
	}
	*e = store_tree_entry(*t, idx);
	return 0;
}

static int
print_stat(struct diff *d)
{
	const struct diff_stat *s = &d->st;
	json_t *o;

	if (d->is_json) {
		o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
		    " s:I, s:I, s:I, s:I, s:I}",
		    "files_added", (json_int_t)s->n_added[KIND_FILE],
		    "files_removed", (json_int_t)s->n_removed[KIND_FILE],
		    "files_modified", (json_int_t)s->n_modified[KIND_FILE],
		    "dirs_added", (json_int_t)s->n_added[KIND_DIR],
		    "dirs_removed", (json_int_t)s->n_removed[KIND_DIR],
		    "others_added", (json_int_t)s->n_added[KIND_OTHER],
		    "others_removed", (json_int_t)s->n_removed[KIND_OTHER],
		    "others_modified", (json_int_t)s->n_modified[KIND_OTHER],
		    "type_changed", (json_int_t)s->n_type,
		    "metadata_only", (json_int_t)s->n_meta,
		    "bytes_added", (json_int_t)s->bytes_added,
		    "bytes_removed", (json_int_t)s->bytes_removed,
		    "data_added", (json_int_t)s->data_added,
		    "data_removed", (json_int_t)s->data_removed);
		if (o == NULL)
			return -ENOMEM;
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
		return 0;
	}
	printf("files:         %llu added, %llu removed, %llu modified\n",
	    (unsigned long long)s->n_added[KIND_FILE],
	    (unsigned long long)s->n_removed[KIND_FILE],
	    (unsigned long long)s->n_modified[KIND_FILE]);
	printf("dirs:          %llu added, %llu removed\n",
	    (unsigned long long)s->n_added[KIND_DIR],
	    (unsigned long long)s->n_removed[KIND_DIR]);
	printf("others:        %llu added, %llu removed, %llu modified\n",
	    (unsigned long long)s->n_added[KIND_OTHER],
	    (unsigned long long)s->n_removed[KIND_OTHER],
	    (unsigned long long)s->n_modified[KIND_OTHER]);
	printf("type changed:  %llu\n", (unsigned long long)s->n_type);
	printf("metadata only: %llu\n", (unsigned long long)s->n_meta);
	printf("bytes:         %llu added, %llu removed\n",
	    (unsigned long long)s->bytes_added,
	    (unsigned long long)s->bytes_removed);
	printf("data:          %llu added, %llu removed\n",
	    (unsigned long long)s->data_added,
	    (unsigned long long)s->data_removed);
	return 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * The options into ${c} and ${d}.  Returns -1 to go on, else the exit
 * status (--help, or a usage error).
 */
static int
diff_opts(int argc, char **argv, struct cli_common *c, struct diff *d)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_S3_LONGOPTS,
		{ "stat", no_argument, NULL, OPT_STAT },
		{ "escape", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "b",
	    longopts, NULL)) != -1) {
		if (cli_common_opt(c, opt, optarg))
			continue;
		switch (opt) {
		case OPT_STAT:
			d->is_stat = 1;
			break;
		case 'b':
			d->is_escaped = 1;
			break;
		default:
			return cli_usage(argv[0], usage, 1);
		}
	}
	if (c->is_help)
		return cli_usage(argv[0], usage, 0);
	if (argc - optind != 3 && argc - optind != 4)
		return cli_usage(argv[0], usage, 1);
	d->is_json = c->is_json;
	return -1;
}

/*
 * PATH (${parg}) as cli_split_spec() cleans it ("x" stands for a
 * snapshot) into *${path}, malloc'd.  Returns 0, or prints why and
 * returns DIFF_EXIT_TROUBLE.
 */
static int
path_arg(const char *cmd, const char *parg, char **path)
{
	char *spec;
	char *junk = NULL;
	int r;

	if ((spec = malloc(strlen(parg) + 3)) == NULL) {
		cli_err(cmd, "out of memory");
		return DIFF_EXIT_TROUBLE;
	}
	snprintf(spec, strlen(parg) + 3, "x:%s", parg);
	r = cli_split_spec(spec, &junk, path);
	free(junk);
	free(spec);
	if (r < 0) {
		cli_err(cmd, "%s: %s", parg, r == -ENOMEM ?
		    "out of memory" : "PATH may not hold '..'");
		return DIFF_EXIT_TROUBLE;
	}
	return 0;
}

int
cmd_diff(int argc, char **argv)
{
	struct store_snap_list *l = NULL;
	struct store_tree *ta = NULL;
	struct store_tree *tb = NULL;
	const struct store_snap *sa = NULL;
	const struct store_snap *sb = NULL;
	const struct store_entry *ea = NULL;
	const struct store_entry *eb = NULL;
	struct cli_common c;
	struct diff d;
	char *path = NULL;
	double t0;
	size_t i;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	d.cmd = argv[0];
	d.is_escaped = isatty(STDOUT_FILENO);
	if ((r = diff_opts(argc, argv, &c, &d)) >= 0)
		return r;
	if ((r = path_arg(argv[0], argc - optind == 4 ? argv[optind + 3] : "",
	    &path)) != 0)
		goto out;
	if ((r = cli_open(argv[0], argv[optind], &c, 1, &d.s)) != 0) {
		/* diff(1): 1 means "different"; trouble is 2. */
		r = r == CLI_EXIT_KEY ? r : DIFF_EXIT_TROUBLE;
		goto out;
	}
	t0 = now_ms();
	if ((r = store_snapshots(d.s, &l)) < 0) {
		if (r == -EACCES)
			cli_err(argv[0], "this key cannot read snapshots");
		else
			cli_err(argv[0], "cannot list snapshots: %s",
			    cli_strerror(r));
		r = r == -EACCES ? CLI_EXIT_KEY : DIFF_EXIT_TROUBLE;
		goto out;
	}
	if ((r = find_snap(argv[0], l, argv[optind + 1], &sa)) != 0 ||
	    (r = find_snap(argv[0], l, argv[optind + 2], &sb)) != 0)
		goto out;
	if ((r = find_path(argv[0], d.s, sa, path, &ta, &ea)) != 0 ||
	    (r = find_path(argv[0], d.s, sb, path, &tb, &eb)) != 0)
		goto out;
	if (ea == NULL && eb == NULL) {
		cli_err(argv[0], "%s: in neither snapshot", path);
		r = DIFF_EXIT_TROUBLE;
		goto out;
	}
	if ((r = path_push(&d, (const uint8_t *)path, strlen(path),
	    &i)) < 0)
		goto fail;
	if (path[0] == '\0' && ea != NULL && eb != NULL) {
		/* The roots: only what is below them is a path to report. */
		if (memcmp(ea->tree.id, eb->tree.id, STORE_HASH_LEN) != 0)
			r = diff_dir(&d, ea, eb, 0);
	} else {
		r = diff_entry(&d, ea, eb, 0);
	}
	if (r < 0)
		goto fail;
	chunks_count(&d);
	if (d.is_stat && (r = print_stat(&d)) < 0)
		goto fail;
	if (c.is_verbose)
		fprintf(stderr, "%s: %llu trees read, %llu changes, in %.1f ms "
		    "after unlock\n", argv[0], (unsigned long long)d.n_trees,
		    (unsigned long long)d.n_changes, now_ms() - t0);
	if (d.n_errors > 0)
		r = DIFF_EXIT_TROUBLE;
	else
		r = d.n_changes > 0 ? DIFF_EXIT_DIFFERENT : DIFF_EXIT_SAME;
	goto out;
fail:
	cli_err(argv[0], "%s", cli_strerror(r));
	r = DIFF_EXIT_TROUBLE;
out:
	if (fflush(stdout) != 0 && r != DIFF_EXIT_TROUBLE) {
		cli_err(argv[0], "write error on stdout");
		r = DIFF_EXIT_TROUBLE;
	}
	free(d.path);
	free(d.old.v);
	free(d.new.v);
	free(path);
	store_tree_free(ta);
	store_tree_free(tb);
	store_snap_list_free(l);
	store_close(d.s);
	return r;
}
