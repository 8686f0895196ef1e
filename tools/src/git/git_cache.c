/*
 * git_cache.c: the mirror cache,
 * for the git reader (src_git.c; its types in gitint.h).
 */
#include "gitint.h"
#include "src_git.h"

/* ---- the mirror cache -------------------------------------------------- */

/* A local path (absolute from now on) or anything else git can fetch. */
char *
git_location_resolve(const char *location)
{
	struct stat st;

	if (strstr(location, "://") == NULL && stat(location, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return realpath(location, NULL);
	return strdup(location);
}

/* qsort() comparator of C strings. */
static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The "<id>\t<refs/...>" lines of ${text} (ls-remote or for-each-ref
 * output), peeled tags ("^{}") and HEAD left out, sorted, into a
 * malloc'd array of pointers into ${text} (which is modified).
 */
static int
ref_lines(char *text, char ***out, size_t *n_out)
{
	char **v = NULL;
	size_t n = 0;
	size_t cap = 0;

	for (char *l = text, *nl; *l; l = nl + 1) {
		char *tab;
		size_t len;

		if ((nl = strchr(l, '\n')) == NULL)
			break;
		*nl = '\0';
		len = (size_t)(nl - l);
		if ((tab = strchr(l, '\t')) == NULL ||
		    strncmp(tab + 1, "refs/", 5) != 0 ||
		    (len > 3 && strcmp(nl - 3, "^{}") == 0))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			char **nv = realloc(v, ncap * sizeof(*nv));

			if (nv == NULL) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = l;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), str_ptr_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

/*
 * Does the mirror cache hold exactly the refs that ${remote} (the output
 * of `git ls-remote origin`) lists?  Then a fetch would bring nothing,
 * and an unchanged repository costs one ref listing.  1 yes, 0 no (or
 * cannot tell), -ENOMEM.
 */
static int
is_cache_current(struct gsrc *g, char *remote)
{
	const char *argv[] = { "git", g->gitdir_arg, "for-each-ref",
		"--format=%(objectname)%09%(refname)", NULL };
	char *local = NULL;
	char **a = NULL;
	char **b = NULL;
	size_t na = 0;
	size_t nb = 0;
	size_t len;
	int r;

	if (git_run(g, argv, NULL, 0, &local, &len, REFS_OUT_MAX) < 0)
		return 0;
	if ((r = ref_lines(remote, &a, &na)) < 0 ||
	    (r = ref_lines(local, &b, &nb)) < 0)
		goto out;
	r = na == nb;
	for (size_t i = 0; r && i < na; i++)
		r = strcmp(a[i], b[i]) == 0;
out:
	free(a);
	free(b);
	free(local);
	return r;
}

/*
 * The fetch state: the file ${dir}/amber-remote holds "URL\n" and then
 * what `git ls-remote --symref origin` printed when the cache was last
 * brought up to date from URL (fetched, HEAD set).  Written only once a
 * fetch has fully succeeded, and removed before one starts, so it never
 * describes a cache that is half way.  A local cache, like the mirror
 * itself: whoever can write the index directory could also write the
 * mirror.
 */
static char *
state_path(const struct gsrc *g, const char *suffix)
{
	return git_str_cat(g->dir, "/amber-remote", suffix);
}

int
git_state_read(const struct gsrc *g, char **text, size_t *len)
{
	char *path = state_path(g, "");
	int r;

	if (path == NULL)
		return -ENOMEM;
	r = io_read_file(path, REFS_OUT_MAX + 65536, text, len);
	free(path);
	return r;
}

/*
 * The cache is about to change: forget its fetch state, and that it is
 * a fresh clone (GIT_CLONED_FILE).
 */
static void
state_remove(const struct gsrc *g)
{
	char *path = state_path(g, "");
	char *cloned = git_str_cat(g->dir, "/", GIT_CLONED_FILE);

	if (path != NULL)
		unlink(path);
	if (cloned != NULL)
		unlink(cloned);
	free(path);
	free(cloned);
}

/*
 * Mark the new clone in ${dir} as fresh (GIT_CLONED_FILE): its one pack
 * holds what its refs reach, nothing more.  A mark lost costs only time.
 */
static void
cloned_mark(const char *dir)
{
	char *path = git_str_cat(dir, "/", GIT_CLONED_FILE);
	int fd;

	if (path != NULL && (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) >= 0)
		close(fd);
	free(path);
}

/* Record that the cache is what ${listing} says ${url} holds. */
static void
state_write(const struct gsrc *g, const char *url, const char *listing)
{
	char *path = state_path(g, "");
	char *tmp = state_path(g, ".new");
	FILE *f = NULL;

	if (path == NULL || tmp == NULL || (f = fopen(tmp, "we")) == NULL)
		goto out;
	if (fprintf(f, "%s\n%s", url, listing) < 0) {
		fclose(f);
		unlink(tmp);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
out:
	free(path);
	free(tmp);
}

/*
 * Update an existing mirror cache from ${location}: fetch --prune every
 * ref unless ls-remote shows them unchanged, then set HEAD as the remote
 * has it (a symbolic ref, or a detached id).  Returns 1 where ls-remote
 * prints what it printed at the last complete update (the fetch state):
 * then only ls-remote runs.
 */
static int
cache_fetch(struct gsrc *g, const char *location, const char *quiet)
{
	const char *set[] = { "git", g->gitdir_arg, "config",
		"remote.origin.url", location, NULL };
	const char *ls[] = { "git", g->gitdir_arg, "ls-remote",
		"--symref", "origin", NULL };
	const char *fetch[] = { "git", g->gitdir_arg, "-c",
		"gc.autoDetach=false", "-c",
		"maintenance.autoDetach=false", "fetch", quiet,
		"--prune", "--no-write-fetch-head",
		"--recurse-submodules=no", "origin",
		"+refs/*:refs/*", NULL, NULL };
	char sym[1024] = "";
	char det[HEX_MAX + 1] = "";
	char *out = NULL;
	char *listing = NULL;
	char *saved = NULL;
	char *whole = NULL;
	size_t ulen = strlen(location);
	size_t len;
	int is_url_set;
	int r;

	/* Where the state says the URL is set, no `git config` to set it. */
	is_url_set = git_state_read(g, &saved, &len) == 0 && len > ulen &&
	    memcmp(saved, location, ulen) == 0 && saved[ulen] == '\n';
	if ((!is_url_set && (r = git_run(g, set, NULL, 0, NULL, NULL,
	    0)) < 0) ||
	    (r = git_run(g, ls, NULL, 0, &out, &len, REFS_OUT_MAX)) < 0)
		goto done;
	/* The remote lists what it listed at the last complete fetch: the
	 * cache holds it all, HEAD included.  Nothing more to run. */
	if (is_url_set && strcmp(saved + ulen + 1, out) == 0) {
		r = 1;
		goto done;
	}
	state_remove(g);
	/* Kept whole: the loop below cuts ${out} at tabs and ends, and
	 * is_cache_current() cuts ${listing} into lines. */
	if ((listing = strdup(out)) == NULL || (whole = strdup(out)) == NULL) {
		r = -ENOMEM;
		goto done;
	}
	/* "ref: refs/heads/x\tHEAD" and/or "<id>\tHEAD" */
	for (char *l = out, *nl; *l; l = nl + 1) {
		char *tab;

		if ((nl = strchr(l, '\n')) == NULL)
			break;
		*nl = '\0';
		if ((tab = strchr(l, '\t')) == NULL ||
		    strcmp(tab, "\tHEAD") != 0)
			continue;
		*tab = '\0';
		if (strncmp(l, "ref: refs/", 10) == 0 &&
		    strlen(l + 5) < sizeof(sym))
			strcpy(sym, l + 5);
		else if ((strlen(l) == 40 || strlen(l) == 64) &&
		    hex_is_lower(l, strlen(l)))
			strcpy(det, l);
	}
	if (sym[0] == '\0' && det[0])
		fetch[13] = "HEAD";
	/* Unchanged refs: no fetch (a detached HEAD may need one). */
	if ((r = is_cache_current(g, listing)) < 0)
		goto done;
	if ((r == 0 || fetch[13] != NULL) &&
	    (r = git_run(g, fetch, NULL, 0, NULL, NULL, 0)) < 0)
		goto done;
	if (sym[0]) {
		const char *argv[] = { "git", g->gitdir_arg,
			"symbolic-ref", "HEAD", sym, NULL };

		r = git_run(g, argv, NULL, 0, NULL, NULL, 0);
	} else if (det[0]) {
		const char *argv[] = { "git", g->gitdir_arg,
			"update-ref", "--no-deref", "HEAD", det,
			NULL };

		r = git_run(g, argv, NULL, 0, NULL, NULL, 0);
	}
	if (r == 0)
		state_write(g, location, whole);
done:
	free(out);
	free(listing);
	free(whole);
	free(saved);
	return r;
}

/*
 * git_cache_update(g, location, lockfd):
 * Create (clone --mirror) or update (fetch --prune, all refs, and HEAD as
 * the remote has it) the mirror cache, under an exclusive lock held in
 * *${lockfd} until the caller closes it.
 */
int
git_cache_update(struct gsrc *g, const char *location, int *lockfd)
{
	const char *idx = store_index_dir(g->c->s);
	const char *quiet = g->c->is_verbose ? "--progress" : "--quiet";
	char *base = NULL;
	char *lock = NULL;
	char *tmp = NULL;
	char *head = NULL;
	struct stat st;
	int r;

	if ((base = git_str_cat(idx, "/git", "")) == NULL ||
	    (lock = git_str_cat(base, "/", g->name)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (mkdir(base, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		fprintf(stderr, "amber ingest: %s: %s\n", base,
		    strerror(errno));
		goto out;
	}
	if ((g->dir = strdup(lock)) == NULL ||
	    (g->gitdir_arg = git_str_cat("--git-dir=", g->dir, "")) == NULL ||
	    (tmp = git_str_cat(g->dir, ".new", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	free(lock);
	if ((lock = git_str_cat(g->dir, ".lock", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((*lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(*lockfd, LOCK_EX) < 0) {
		r = -errno;
		fprintf(stderr, "amber ingest: %s: %s\n", lock,
		    strerror(errno));
		goto out;
	}
	if ((head = git_str_cat(g->dir, "/HEAD", "")) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (g->is_prefetched && stat(head, &st) == 0) {
		/* src_git_fetch() brought it up to date in this run. */
		r = 0;
		goto out;
	}
	if (stat(head, &st) < 0) {
		/* No cache (or a broken one): clone afresh, then rename. */
		const char *argv[] = { "git", "clone", "--mirror",
			"--no-local", quiet, "--", location, tmp, NULL };

		git_rm_tree(g->dir);
		git_rm_tree(tmp);
		if ((r = git_run(g, argv, NULL, 0, NULL, NULL, 0)) < 0) {
			git_rm_tree(tmp);
			goto out;
		}
		cloned_mark(tmp);
		if (rename(tmp, g->dir) < 0) {
			r = -errno;
			goto out;
		}
	} else {
		/* 1: unchanged since the last complete fetch */
		r = cache_fetch(g, location, quiet);
		goto out;
	}
	r = 0;
out:
	free(base);
	free(lock);
	free(tmp);
	free(head);
	return r;
}

/* Every ref of the cache, sorted by name as git sorts them. */
int
git_refs_list(struct gsrc *g, struct gref **out, size_t *n_out)
{
	const char *argv[] = { "git", g->gitdir_arg, "for-each-ref",
		"--format=%(objectname) %(refname)", NULL };
	struct gref *refs = NULL;
	char *text = NULL;
	size_t len;
	size_t n = 0;
	size_t cap = 0;
	int r;

	if ((r = git_run(g, argv, NULL, 0, &text, &len, REFS_OUT_MAX)) < 0)
		goto out;
	for (char *l = text, *nl; *l; l = nl + 1) {
		if ((nl = strchr(l, '\n')) == NULL) {
			r = gerr(g, -EBADMSG, "unexpected for-each-ref output");
			goto out;
		}
		*nl = '\0';
		if (strlen(l) < g->hexlen + 7 || l[g->hexlen] != ' ' ||
		    !hex_is_lower(l, g->hexlen) ||
		    strncmp(l + g->hexlen + 1, "refs/", 5) != 0) {
			r = gerr(g, -EBADMSG, "unexpected for-each-ref output");
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct gref *nr = realloc(refs, ncap * sizeof(*nr));

			if (nr == NULL) {
				r = -ENOMEM;
				goto out;
			}
			refs = nr;
			cap = ncap;
		}
		memcpy(refs[n].hex, l, g->hexlen);
		refs[n].hex[g->hexlen] = '\0';
		if ((refs[n].name = strdup(l + g->hexlen + 1)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	*out = refs;
	*n_out = n;
	refs = NULL;
	n = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(refs[i].name);
	free(refs);
	free(text);
	return r;
}
