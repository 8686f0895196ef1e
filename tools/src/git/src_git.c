/*
 * src_git.c: git repositories as sources.  A repository becomes two
 * sources of kind repos: NAME.git, a bare mirror stored as ordinary files
 * (HEAD, config, packed-refs, shallow, self-contained packs) that git can
 * clone from, and NAME, the browsable trees of every branch and tag
 * (amber-git(5) documents the layout and the ref-name mapping).
 *
 * All git knowledge goes through the git command, never a library: the
 * same program that users trust with their repositories fetches them (any
 * transport, credential helper and ssh setup the user has), verifies every
 * received object (index-pack hashes each one), and writes our packs.
 * A local mirror cache, store_index_dir()/git/NAME, is updated with fetch
 * so that a re-ingest transfers only new objects.  Objects are read
 * through one long-lived `git cat-file --batch-command`, which streams
 * blobs of any size.
 *
 * Incremental ingest: the previous snapshot's NAME.git is read back from
 * the store; its packs are kept as stored (their extents reused) and one
 * new pack holds the objects reachable from the new tips but not from the
 * old ones.  When an old tip is no longer reachable (a deleted or rewound
 * ref), when the shallow boundary changed, or when too many packs piled
 * up, everything is repacked into one pack instead, so the mirror never
 * holds unreachable objects.
 *
 * Browsable trees: every entry below a branch's or tag's directory has
 * STORE_ENTRY_MTIME_INHERIT and no time of its own, and only that
 * directory (branches/B, tags/T, a detached HEAD) carries the tip's
 * commit time.  So the stored tree of a git tree depends on the git tree
 * alone: an unchanged subtree is the same stored tree in every branch and
 * snapshot, and a moved branch stores only the directories its commits
 * changed.  The local cache maps a git tree id to its stored directory,
 * and a blob id to its extents; cached values are parsed strictly and
 * used only once the store is known to hold the chunk they name.
 */
#include <openssl/evp.h>

#include "gitint.h"
#include "src_git.h"

/* ---- the reader -------------------------------------------------------- */

/* The mirror cache's object format: sha1 or sha256 ids. */
static int
object_format(struct gsrc *g)
{
	const char *argv[] = { "git", g->gitdir_arg, "rev-parse",
		"--show-object-format", NULL };
	char *fmt = NULL;
	size_t len;
	int r;

	if ((r = git_run(g, argv, NULL, 0, &fmt, &len, 64)) < 0)
		return r;
	if (strcmp(fmt, "sha1\n") == 0) {
		g->rawlen = 20;
	} else if (strcmp(fmt, "sha256\n") == 0) {
		g->rawlen = 32;
	} else {
		free(fmt);
		return gerr(g, -EIO, "unknown object format");
	}
	free(fmt);
	g->hexlen = 2 * g->rawlen;
	return 0;
}

/*
 * The mirror cache's HEAD, "ref: refs/..." or an id, into *${head}
 * (malloc'd, without its newline); -EBADMSG for anything else.
 */
static int
head_read(struct gsrc *g, char **head)
{
	char *path;
	char *h = NULL;
	size_t len;
	int r;

	if ((path = git_str_cat(g->dir, "/HEAD", "")) == NULL)
		return -ENOMEM;
	r = io_read_file(path, 1024, &h, &len);
	free(path);
	if (r < 0)
		return r;
	*head = h;
	if (len == 0 || h[len - 1] != '\n' || memchr(h, '\0', len) != NULL)
		return gerr(g, -EBADMSG, "malformed HEAD in the mirror cache");
	h[len - 1] = '\0';
	if (!(strncmp(h, "ref: refs/", 10) == 0 && strchr(h, '\n') == NULL) &&
	    !(len - 1 == g->hexlen && hex_is_lower(h, g->hexlen)))
		return gerr(g, -EBADMSG, "malformed HEAD in the mirror cache");
	return 0;
}

/*
 * The hash of the cache's fetch state (git_state_read()) for ${name} at
 * ${location} with ${flags}: what decides the two stored sources, as
 * long as the code that makes them is the same (the "1" below: raise
 * it when the stored layout changes).  Returns 0, -ENOENT if there is
 * no state, -errno.
 */
static int
state_hash(const struct gsrc *g, const char *location, unsigned flags,
    uint8_t h[32])
{
	EVP_MD_CTX *md = NULL;
	char *text = NULL;
	size_t len;
	uint8_t fl[4];
	int r;

	if ((r = git_state_read(g, &text, &len)) < 0)
		return r;
	le_put(fl, flags, 4);
	r = -ENOMEM;
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, "amber git state 1", 18) == 1 &&
	    EVP_DigestUpdate(md, fl, 4) == 1 &&
	    EVP_DigestUpdate(md, g->name, strlen(g->name) + 1) == 1 &&
	    EVP_DigestUpdate(md, location, strlen(location) + 1) == 1 &&
	    EVP_DigestUpdate(md, text, len) == 1 &&
	    EVP_DigestFinal_ex(md, h, NULL) == 1)
		r = 0;
	EVP_MD_CTX_free(md);
	free(text);
	return r;
}

#define STATE_VAL_LEN (32 + 2 * sizeof(struct store_ref))

/*
 * Remember (once the snapshot is committed) that ${out} was stored from
 * the fetch state of the cache: src_git_reuse() takes them again while
 * the remote lists the same refs.  A partial read is not remembered.
 */
static void
state_record(const struct gsrc *g, const char *location, unsigned flags,
    const struct store_source out[2])
{
	uint8_t v[STATE_VAL_LEN];

	if ((out[0].flags | out[1].flags) & STORE_SOURCE_PARTIAL ||
	    state_hash(g, location, flags, v) < 0)
		return;
	memcpy(v + 32, &out[0].root.tree, sizeof(struct store_ref));
	memcpy(v + 32 + sizeof(struct store_ref), &out[1].root.tree,
	    sizeof(struct store_ref));
	(void)store_writer_cache_put(g->c->w, TABLE_STATE, g->name,
	    strlen(g->name), v, sizeof(v));
}

int
src_git_reuse(struct src_ctx *c, const char *name, const char *location,
    unsigned flags, const struct store_source *prev,
    const struct store_source *prev_mirror, struct store_source out[2])
{
	const unsigned bad = STORE_SOURCE_STALE | STORE_SOURCE_PARTIAL;
	struct gsrc g;
	uint8_t h[32];
	void *v = NULL;
	size_t vlen = 0;
	int r;

	if (prev == NULL || prev_mirror == NULL ||
	    ((prev->flags | prev_mirror->flags) & bad) != 0 ||
	    !store_source_name_ok(name, strlen(name)))
		return -ENOENT;
	memset(&g, 0, sizeof(g));
	g.c = c;
	g.name = name;
	if ((g.dir = git_str_cat(store_index_dir(c->s), "/git/", name)) ==
	    NULL)
		return -ENOMEM;
	if ((r = state_hash(&g, location, flags, h)) < 0 ||
	    (r = store_cache_get(c->s, TABLE_STATE, name, strlen(name), &v,
	    &vlen)) < 0)
		goto out;
	r = -ENOENT;
	if (vlen != STATE_VAL_LEN || memcmp(v, h, 32) != 0 ||
	    memcmp((uint8_t *)v + 32, &prev->root.tree,
	    sizeof(struct store_ref)) != 0 ||
	    memcmp((uint8_t *)v + 32 + sizeof(struct store_ref),
	    &prev_mirror->root.tree, sizeof(struct store_ref)) != 0)
		goto out;
	out[0] = *prev;
	out[1] = *prev_mirror;
	url_redact(location, out[0].origin, sizeof(out[0].origin));
	memcpy(out[1].origin, out[0].origin, sizeof(out[1].origin));
	r = 0;
out:
	free(v);
	free(g.dir);
	return r;
}

/*
 * src_git_read(c, name, location, out):
 * Fetch ${location} (a local repository, bare or not, or any URL git can
 * fetch) into the mirror cache and store it as out[0] (repos/NAME, the
 * browsable trees) and out[1] (repos/NAME.git, the mirror).  Objects that
 * cannot be read are warned about (src_warn) and left out of the trees;
 * returns -EIO if the fetch fails (git's messages name the cause, e.g. a
 * corrupt object), -EINVAL for a bad ${name}, other -errno on failure.
 */
static int
git_read(struct src_ctx *c, const char *name, const char *location,
    int is_prefetched, unsigned flags, struct store_source out[2])
{
	struct gsrc g;
	struct gref *refs = NULL;
	size_t n_refs = 0;
	char *loc = NULL;
	char *head = NULL;
	size_t len;
	int lockfd = -1;
	int r;

	memset(&g, 0, sizeof(g));
	memset(out, 0, 2 * sizeof(*out));
	g.c = c;
	g.name = name;
	g.cf.fd = -1;
	g.cf.pid = -1;
	g.is_prefetched = is_prefetched;
	g.mirror_mtime = (int64_t)time(NULL);
	len = strlen(name);
	/* The mirror is NAME.git: four bytes more than the name. */
	if (len + 4 > STORE_NAME_MAX || !store_source_name_ok(name, len))
		return -EINVAL;
	if ((g.iobuf = malloc(IO_LEN)) == NULL ||
	    (loc = git_location_resolve(location)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (loc[0] == '-') {
		/* git would take it for an option */
		r = gerr(&g, -EINVAL, "a location may not start with '-'");
		goto out;
	}
	if ((r = git_creds_take(&g, loc, flags)) < 0 ||
	    (r = git_env_build(&g)) < 0 ||
	    (r = git_cache_update(&g, g.url, &lockfd)) < 0)
		goto out;
	if ((r = object_format(&g)) < 0 || (r = head_read(&g, &head)) < 0)
		goto out;
	if ((r = git_refs_list(&g, &refs, &n_refs)) < 0 ||
	    (r = cf_open(&g)) < 0)
		goto out;

	out[0].kind = STORE_REPOS;
	snprintf(out[0].name, sizeof(out[0].name), "%s", name);
	/* For humans, and never with credentials (url.h). */
	url_redact(location, out[0].origin, sizeof(out[0].origin));
	out[1].kind = STORE_REPOS;
	snprintf(out[1].name, sizeof(out[1].name), "%s.git", name);
	memcpy(out[1].origin, out[0].origin, sizeof(out[1].origin));

	/* The browsable trees first: they set the mirror's mtimes. */
	if ((r = git_browse_build(&g, refs, n_refs, head, &out[0])) < 0 ||
	    (r = git_mirror_build(&g, refs, n_refs, head, &out[1])) < 0)
		goto out;
	if (g.is_partial)
		out[0].flags |= STORE_SOURCE_PARTIAL;
	state_record(&g, location, flags, out);
	r = 0;
out:
	cf_close(&g);
	free(g.cf.buf);
	if (g.is_cache_suspect && g.dir) {
		/*
		 * Every object was verified when fetched, so git failing to
		 * read one means the local copy is damaged: drop it, and the
		 * next ingest clones afresh.
		 */
		git_rm_tree(g.dir);
		fprintf(stderr, "amber ingest: repos/%s: git could not read "
		    "the local mirror cache %s; removed it, the next ingest "
		    "fetches everything again\n", name, g.dir);
	}
	if (lockfd >= 0)
		close(lockfd);
	for (size_t i = 0; i < n_refs; i++)
		free(refs[i].name);
	free(refs);
	gmap_fini(&g.trees);
	gmap_fini(&g.blobs);
	free(g.iobuf);
	git_creds_free(&g);
	free(g.dir);
	free(g.gitdir_arg);
	free(loc);
	free(head);
	return r;
}

int
src_git_read(struct src_ctx *c, const char *name, const char *location,
    struct store_source out[2])
{
	return git_read(c, name, location, 0, 0, out);
}

int
src_git_read_fetched(struct src_ctx *c, const char *name,
    const char *location, unsigned flags, struct store_source out[2])
{
	return git_read(c, name, location, 1, flags, out);
}

/*
 * src_git_fetch(c, name, location, flags):
 * Only the first step of src_git_read(): clone or fetch ${location} into
 * the mirror cache of ${name}.  It neither reads nor writes the store, so
 * several may run at once in threads (each holds the flock of its own
 * cache).  Returns as src_git_read().
 */
int
src_git_fetch(struct src_ctx *c, const char *name, const char *location,
    unsigned flags)
{
	struct gsrc g;
	char *loc = NULL;
	size_t len = strlen(name);
	int lockfd = -1;
	int r;

	memset(&g, 0, sizeof(g));
	g.c = c;
	g.name = name;
	g.cf.fd = -1;
	g.cf.pid = -1;
	/* The mirror is NAME.git: four bytes more than the name. */
	if (len + 4 > STORE_NAME_MAX || !store_source_name_ok(name, len))
		return -EINVAL;
	if ((loc = git_location_resolve(location)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (loc[0] == '-') {
		r = gerr(&g, -EINVAL, "a location may not start with '-'");
		goto out;
	}
	if ((r = git_creds_take(&g, loc, flags)) < 0 || (r = git_env_build(&g)) < 0)
		goto out;
	r = git_cache_update(&g, g.url, &lockfd);
out:
	if (lockfd >= 0)
		close(lockfd);
	git_creds_free(&g);
	free(g.dir);
	free(g.gitdir_arg);
	free(loc);
	return r;
}

int
src_git_has_heads(const char *name, const char *location, unsigned flags)
{
	struct gsrc g;
	posix_spawn_file_actions_t fa;
	const char *argv[] = { "git", "ls-remote", "--heads", "--", NULL,
		NULL };
	pid_t pid;
	int pfd[2] = { -1, -1 };
	int has_refs = 0;
	int st;
	int r;

	memset(&g, 0, sizeof(g));
	g.name = name;
	g.cf.fd = -1;
	g.cf.pid = -1;
	if (location[0] == '-')
		return 0;
	if ((r = git_creds_take(&g, location, flags)) < 0 ||
	    (r = git_env_build(&g)) < 0)
		goto out;
	argv[4] = g.url;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		r = -r;
		goto out;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	st = posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv,
	    g.envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	pfd[1] = -1;
	if (st != 0) {
		r = -st;
		goto out;
	}
	for (;;) {
		char buf[256];
		ssize_t n = read(pfd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		has_refs = 1;
	}
	r = git_reap(pid) == 0 && has_refs;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	git_creds_free(&g);
	return r;
}
