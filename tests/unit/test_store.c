/*
 * test_store.c: the store end to end through store.h, in a mkdtemp
 * directory.  Create (cheap scrypt), open, a wrong passphrase, a second
 * key; write files (with holes) and trees, commit; list and find
 * snapshots, resolve paths and read files in random ranges compared with
 * the source bytes; a second and third commit chained to the first; a
 * fresh index rebuilt from the store alone; verify clean, then one byte
 * flipped in a pack: verify names the pack and reading the damaged file
 * gives -EBADMSG, never wrong bytes.  Then an ingest key (writes with
 * dedup, reads nothing, flagged after revocation) and the snapshot DAG
 * (fork, join, a missing parent, a damaged manifest, a damaged config).
 * Seeded: the seed is printed on failure and can be given as the first
 * argument.  AMBER_TEST_VERBOSE prints the problems verify reports and
 * the store's messages; AMBER_TEST_KEEP keeps the files of a failed run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "fixture.h"
#include "index.h"
#include "log.h"
#include "pack.h"
#include "rd.h"
#include "snap.h"
#include "storei.h"

#define PASS "correct horse"
#define T1 1764201600	/* 2025-11-27T00:00:00Z */

static uint64_t rng_state;
static int is_verbose;	/* $AMBER_TEST_VERBOSE: print problems, logs */

/* A source file: its bytes (holes as zeros) and its data ranges. */
struct src {
	const char *name;
	uint8_t *data;
	uint64_t size;
	size_t n_ranges;
	uint64_t range[4][2];	/* [off, len) with data */
};

static char top[64];
static char store_dir[128];
static char index_dir[128];

static void
make_src(struct src *f, const char *name, uint64_t size, int text)
{
	f->name = name;
	f->size = size;
	f->n_ranges = 0;
	if ((f->data = calloc(size ? size : 1, 1)) == NULL)
		abort();
	if (text) {
		for (uint64_t i = 0; i < size; i++)
			f->data[i] = (uint8_t)("amber keeps history "
			    "of repositories\n"[(i * 3 + i / 4096) % 37]);
	} else {
		fixture_rnd(&rng_state, f->data, size);
	}
}

static void
add_range(struct src *f, uint64_t off, uint64_t len)
{
	f->range[f->n_ranges][0] = off;
	f->range[f->n_ranges][1] = len;
	f->n_ranges++;
}

/* Write ${f} through store_file_* in random pieces; add it to ${tb}. */
static int
put_file(struct store_writer *w, struct store_tb *tb, const struct src *f)
{
	struct store_file *sf = NULL;
	struct store_extent *ext = NULL;
	struct store_entry e;
	size_t n_ext = 0;
	int r;

	if ((r = store_file_new(w, &sf)) < 0)
		return r;
	for (size_t i = 0; i < f->n_ranges && r == 0; i++) {
		uint64_t off = f->range[i][0];
		uint64_t end = off + f->range[i][1];

		while (off < end && r == 0) {
			size_t n = (size_t)(fixture_rng(&rng_state) %
			    (300u << 10)) + 1;

			if (n > end - off)
				n = (size_t)(end - off);
			r = store_file_write(sf, off, f->data + off, n);
			off += n;
		}
	}
	if (r == 0)
		r = store_file_end(sf, &ext, &n_ext);
	store_file_free(sf);
	if (r < 0)
		return r;
	store_entry_init(&e, f->name, STORE_REG, 0640);
	e.uid = 1000;
	e.gid = 1000;
	e.mtime_sec = T1 - 3600;
	e.mtime_nsec = 5;
	e.size = f->size;
	e.extents = ext;
	e.n_extents = n_ext;
	/* The extents cover exactly the data ranges. */
	{
		uint64_t covered = 0;
		uint64_t want = 0;

		for (size_t i = 0; i < n_ext; i++)
			covered += ext[i].len;
		for (size_t i = 0; i < f->n_ranges; i++)
			want += f->range[i][1];
		CHECK(covered == want);
		for (size_t i = 0; i < n_ext; i++)
			CHECK(ext[i].len <= CHUNKER_MAX &&
			    ext[i].off + ext[i].len <= f->size);
	}
	r = store_tb_add(tb, &e);
	free(ext);
	return r;
}

/* Compare store_read over random ranges, chunk edges and holes. */
static void
check_read(struct store *s, const struct store_entry *e, const struct src *f)
{
	size_t cap = 5u << 20;
	uint8_t *buf = malloc(cap);
	size_t got;
	int bad = 0;

	if (buf == NULL)
		abort();
	CHECK(e->type == STORE_REG && e->size == f->size);
	/* The whole file, in pieces of random sizes. */
	for (uint64_t off = 0; off < f->size && !bad;) {
		size_t n = (size_t)(fixture_rng(&rng_state) % cap) + 1;

		memset(buf, 0xa5, n);
		if (store_read(s, e, off, buf, n, &got) != 0 ||
		    got != (f->size - off < n ? f->size - off : n) ||
		    memcmp(buf, f->data + off, got) != 0) {
			fprintf(stderr, "%s: read %zu at %llu differs\n",
			    f->name, n, (unsigned long long)off);
			bad = 1;
		}
		off += got ? got : 1;
	}
	CHECK(!bad);
	/* Ranges across every extent edge. */
	for (size_t i = 0; i < e->n_extents; i++) {
		uint64_t edges[2] = { e->extents[i].off,
			e->extents[i].off + e->extents[i].len };

		for (int k = 0; k < 2; k++) {
			uint64_t off = edges[k] > 17 ? edges[k] - 17 : 0;
			size_t n = 40;

			if (off >= f->size)
				continue;
			if (n > f->size - off)
				n = (size_t)(f->size - off);
			CHECK(store_read(s, e, off, buf, 40, &got) == 0);
			CHECK(got == n && memcmp(buf, f->data + off, n) == 0);
		}
	}
	/* Random small ranges. */
	for (int k = 0; k < 50 && f->size > 0; k++) {
		uint64_t off = fixture_rng(&rng_state) % f->size;
		size_t n = (size_t)(fixture_rng(&rng_state) % 70000) + 1;
		size_t want = f->size - off < n ? (size_t)(f->size - off) : n;

		CHECK(store_read(s, e, off, buf, n, &got) == 0);
		CHECK(got == want && memcmp(buf, f->data + off, want) == 0);
	}
	/* At and past the end. */
	CHECK(store_read(s, e, f->size, buf, 10, &got) == 0 && got == 0);
	CHECK(store_read(s, e, f->size + 1000, buf, 10, &got) == 0 &&
	    got == 0);
	free(buf);
}

struct problems {
	size_t n;
	char object[8][200];
	char path[8][200];
};

static void
report(void *ctx, const struct store_problem *p)
{
	struct problems *ps = ctx;

	if (is_verbose)
		fprintf(stderr, "problem: %s: %s (referenced %d, snapshot %s, "
		    "path %s)\n", p->object, p->what, p->is_referenced,
		    p->snapshot ? p->snapshot : "-", p->path ? p->path : "-");
	if (ps->n < 8) {
		snprintf(ps->object[ps->n], sizeof(ps->object[0]), "%s",
		    p->object);
		snprintf(ps->path[ps->n], sizeof(ps->path[0]), "%s",
		    p->path ? p->path : "");
	}
	ps->n++;
}

static int
open_store(const char *idx, struct store **s, const char *pass)
{
	struct store_opts o = { .index_dir = idx };

	return fixture_open(store_dir, &o, pass, s);
}

static void
fill_source(struct store_source *src, const char *name,
    const struct store_entry *root)
{
	memset(src, 0, sizeof(*src));
	src->kind = STORE_FILES;
	snprintf(src->name, sizeof(src->name), "%s", name);
	snprintf(src->origin, sizeof(src->origin), "/srv/%s", name);
	src->root = *root;
	src->n_files = 6;
	src->n_bytes = 12345;
}

/* Files: small, big (several chunks), sparse, empty, text; sub/inner. */
enum { F_SMALL, F_BIG, F_SPARSE, F_EMPTY, F_TEXT, F_INNER, N_FILES };

static int
write_tree(struct store_writer *w, struct src *f, struct store_entry *root)
{
	struct store_tb *tb = NULL;
	struct store_tb *sub = NULL;
	struct store_entry e;
	int r;

	memset(root, 0, sizeof(*root));
	if ((r = store_tb_new(&tb)) < 0 || (r = store_tb_new(&sub)) < 0)
		goto out;
	for (int i = 0; i < N_FILES; i++)
		if ((r = put_file(w, i == F_INNER ? sub : tb, &f[i])) < 0)
			goto out;
	store_entry_init(&e, "link", STORE_LNK, 0777);
	e.target = (const uint8_t *)"../outside";
	e.target_len = 10;
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	e.name = (const uint8_t *)"fifo\nodd\xff";
	e.name_len = 9;
	e.type = STORE_FIFO;
	e.mode = 0600;
	e.target = NULL;
	e.target_len = 0;
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	memset(&e, 0, sizeof(e));
	e.name = (const uint8_t *)"sub";
	e.name_len = 3;
	e.mode = 0750;
	e.mtime_sec = T1 - 7200;
	if ((r = store_tb_finish(w, sub, &e)) < 0)
		goto out;
	CHECK(e.type == STORE_DIR && e.n_desc == 1);
	if ((r = store_tb_add(tb, &e)) < 0)
		goto out;
	root->mode = 0755;
	root->mtime_sec = T1 - 60;
	r = store_tb_finish(w, tb, root);
	CHECK(r < 0 || root->n_desc == N_FILES + 3);
	/* Invalid and duplicate names are refused. */
	e.name = (const uint8_t *)"..";
	e.name_len = 2;
	CHECK(store_tb_add(tb, &e) == -EINVAL);
	e.name = (const uint8_t *)"a/b";
	e.name_len = 3;
	CHECK(store_tb_add(tb, &e) == -EINVAL);
out:
	store_tb_free(tb);
	store_tb_free(sub);
	return r;
}

static int
commit(struct store *s, struct src *f, int64_t t, uint8_t id[32],
    struct store_writer_stats *st)
{
	static const char *const tags[] = { "nightly", "test" };
	struct store_writer *w = NULL;
	struct store_source src;
	struct store_snap_new sn;
	struct store_entry root;
	int r;

	if ((r = store_writer_new(s, &w)) < 0)
		return r;
	if ((r = write_tree(w, f, &root)) < 0)
		goto out;
	fill_source(&src, "data", &root);
	memset(&sn, 0, sizeof(sn));
	sn.time_sec = t;
	sn.time_nsec = 0;
	sn.host = "testhost";
	sn.tags = tags;
	sn.n_tags = 2;
	sn.sources = &src;
	sn.n_sources = 1;
	r = store_writer_commit(w, &sn, id);
	if (r == 0)
		CHECK(store_writer_commit(w, &sn, id) == -EINVAL);
	store_writer_stats(w, st);
out:
	store_writer_free(w);
	return r;
}

static const struct store_entry *
resolve(struct store *s, const struct store_snap *sn, const char *path,
    struct store_tree **t)
{
	size_t idx;
	int r = store_resolve(s, &sn->root, path, t, &idx);

	if (r < 0 || *t == NULL) {
		fprintf(stderr, "resolve %s: %d\n", path, r);
		return NULL;
	}
	return store_tree_entry(*t, idx);
}

static void
check_snapshot(struct store *s, const struct store_snap *sn, struct src *f)
{
	static const char *const paths[N_FILES] = { "files/data/small",
		"files/data/big", "files/data/sparse", "files/data/empty",
		"files/data/text", "files/data/sub/inner" };
	struct store_tree *t = NULL;
	const struct store_entry *e;
	size_t idx;

	CHECK(strcmp(sn->host, "testhost") == 0);
	CHECK(sn->n_tags == 2 && strcmp(sn->tags[1], "test") == 0);
	CHECK(sn->n_sources == 1 && strcmp(sn->sources[0].name, "data") == 0);
	CHECK(sn->sources[0].kind == STORE_FILES);
	CHECK(strcmp(sn->sources[0].origin, "/srv/data") == 0);
	for (int i = 0; i < N_FILES; i++) {
		if ((e = resolve(s, sn, paths[i], &t)) != NULL) {
			CHECK(e->mode == 0640 && e->uid == 1000 &&
			    e->mtime_sec == T1 - 3600 && e->mtime_nsec == 5);
			check_read(s, e, &f[i]);
		}
		CHECK(e != NULL);
		store_tree_free(t);
		t = NULL;
	}
	e = resolve(s, sn, "files/data/link", &t);
	CHECK(e != NULL && e->type == STORE_LNK && e->target_len == 10 &&
	    memcmp(e->target, "../outside", 10) == 0 && e->size == 10);
	store_tree_free(t);
	e = resolve(s, sn, "files/data/fifo\nodd\xff", &t);
	CHECK(e != NULL && e->type == STORE_FIFO && e->mode == 0600);
	store_tree_free(t);
	e = resolve(s, sn, "files/data/sub", &t);
	CHECK(e != NULL && e->type == STORE_DIR && e->mode == 0750 &&
	    e->n_desc == 1);
	store_tree_free(t);
	e = resolve(s, sn, "files", &t);
	CHECK(e != NULL && e->type == STORE_DIR);
	store_tree_free(t);
	t = NULL;
	CHECK(store_resolve(s, &sn->root, "", &t, &idx) == 0 && t == NULL);
	CHECK(store_resolve(s, &sn->root, "files/data/nope", &t, &idx) ==
	    -ENOENT);
	CHECK(store_resolve(s, &sn->root, "repos", &t, &idx) == -ENOENT);
	CHECK(store_resolve(s, &sn->root, "files/data/big/x", &t, &idx) ==
	    -ENOTDIR);
	CHECK(store_resolve(s, &sn->root, "files/data/link/x", &t, &idx) ==
	    -ENOTDIR);
}

/*
 * Big was changed by ${k} bytes inserted near its start: all but its
 * first one or two chunks are the same chunks, ${k} bytes further on.
 */
static void
check_dedup(struct store *s, const struct store_snap *s1,
    const struct store_snap *s2, uint64_t k)
{
	struct store_tree *t1 = NULL;
	struct store_tree *t2 = NULL;
	const struct store_entry *a = resolve(s, s1, "files/data/big", &t1);
	const struct store_entry *b = resolve(s, s2, "files/data/big", &t2);
	int found = 0;

	CHECK(a != NULL && b != NULL);
	for (size_t i = 0; a != NULL && b != NULL && i <= 2 && !found; i++) {
		for (size_t j = 0; j <= 2 && !found; j++) {
			if (i >= a->n_extents || j >= b->n_extents ||
			    a->n_extents - i != b->n_extents - j)
				continue;
			found = 1;
			for (size_t x = 0; i + x < a->n_extents; x++) {
				const struct store_extent *p =
				    &a->extents[i + x];
				const struct store_extent *q =
				    &b->extents[j + x];

				if (q->off != p->off + k || q->len != p->len ||
				    memcmp(&q->ref, &p->ref,
				    sizeof(q->ref)) != 0)
					found = 0;
			}
		}
	}
	CHECK(found);
	CHECK(a == NULL || a->n_extents >= 4);
	store_tree_free(t1);
	store_tree_free(t2);
}

static void
make_sources(struct src *f)
{
	make_src(&f[F_SMALL], "small", 1000, 0);
	add_range(&f[F_SMALL], 0, 1000);
	make_src(&f[F_BIG], "big", (9u << 20) + 12345, 0);
	add_range(&f[F_BIG], 0, f[F_BIG].size);
	/* Data, a hole, data, a hole to the end. */
	make_src(&f[F_SPARSE], "sparse", 5u << 20, 0);
	memset(f[F_SPARSE].data + 300000, 0, (2u << 20) - 300000);
	memset(f[F_SPARSE].data + (2u << 20) + 1500000, 0,
	    (3u << 20) - 1500000);
	add_range(&f[F_SPARSE], 0, 300000);
	add_range(&f[F_SPARSE], 2u << 20, 1500000);
	make_src(&f[F_EMPTY], "empty", 0, 0);
	make_src(&f[F_TEXT], "text", 3u << 20, 1);
	add_range(&f[F_TEXT], 0, 3u << 20);
	make_src(&f[F_INNER], "inner", 70000, 1);
	add_range(&f[F_INNER], 0, 70000);
}

/* Flip one byte of the blob of ${ref}'s chunk; returns the pack name. */
static int
damage(struct store *s, const struct store_ref *ref, char name[80])
{
	struct chunk_loc loc;
	char path[512];
	uint8_t b;
	off_t at;
	int fd;

	if (index_chunk_get(s->ix, ref->id, &loc) < 0)
		return -1;
	pack_name(loc.pack, name);
	snprintf(path, sizeof(path), "%s/%s", store_dir, name);
	if (chmod(path, 0644) != 0 || (fd = open(path, O_RDWR)) < 0)
		return -1;
	at = (off_t)(loc.off + loc.len / 2);
	if (pread(fd, &b, 1, at) != 1)
		return -1;
	b ^= 0x20;
	if (pwrite(fd, &b, 1, at) != 1)
		return -1;
	close(fd);
	return chmod(path, 0444);
}

static void
free_sources(struct src *f)
{
	for (int i = 0; i < N_FILES; i++)
		free(f[i].data);
}

/* The key id (hex) of the one ingest key of ${s}, or "". */
static void
ingest_key_id(struct store *s, char id[40], int *is_revoked)
{
	struct store_key_info *v = NULL;
	size_t n = 0;
	size_t n_pass = 0;
	size_t n_ingest = 0;

	id[0] = '\0';
	CHECK(store_key_list(s, &v, &n) == 0);
	for (size_t i = 0; i < n; i++) {
		if (v[i].type == STORE_KEY_PASSPHRASE) {
			n_pass++;
			CHECK(v[i].log2_n == 10);
		} else if (v[i].type == STORE_KEY_INGEST) {
			n_ingest++;
			snprintf(id, 40, "%s", v[i].id);
			*is_revoked = v[i].is_revoked;
			CHECK(strcmp(v[i].label, "ci runner") == 0);
		}
	}
	CHECK(n_pass == 1 && n_ingest == 1 && n == 2);
	free(v);
}

/*
 * An ingest key: it writes snapshots (deduplicated against the store)
 * and reads nothing; readers see who wrote them; after revocation its
 * new snapshots are flagged, never "latest", and reported by verify.
 */
static void
test_ingest(void)
{
	struct store_create_opts co;
	struct store_opts o;
	struct store *s = NULL;
	struct store *is = NULL;
	struct store_snap_list *l = NULL;
	const struct store_snap *sn = NULL;
	struct store_writer_stats st;
	struct store_tree *t = NULL;
	struct src f[N_FILES];
	struct problems ps;
	uint8_t id1[32], id2[32], id3[32];
	char ingest_index[128];
	char kid[40];
	char hex[33];
	char *kf = NULL;
	uint64_t n_problems = 0;
	int is_revoked = -1;

	snprintf(store_dir, sizeof(store_dir), "%s/store-ingest", top);
	snprintf(index_dir, sizeof(index_dir), "%s/index-ingest", top);
	snprintf(ingest_index, sizeof(ingest_index), "%s/index-ingest2", top);
	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	memset(&o, 0, sizeof(o));
	o.index_dir = ingest_index;
	make_sources(f);
	CHECK(store_create(store_dir, &co, PASS, strlen(PASS)) == 0);
	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		goto out;
	CHECK(commit(s, f, T1, id1, &st) == 0);
	CHECK(store_key_new_ingest(s, "ci runner", &kf) == 0 && kf != NULL);
	if (kf == NULL)
		goto out;
	ingest_key_id(s, kid, &is_revoked);
	CHECK(strlen(kid) == 32 && is_revoked == 0);

	/* The ingest host: writes, reads nothing. */
	CHECK(store_open(store_dir, &o, &is) == 0);
	CHECK(is != NULL && store_unlock_keyfile(is, "amber ingest key v1\n",
	    20) == -EBADMSG);
	store_close(is);
	is = NULL;
	CHECK(store_open(store_dir, &o, &is) == 0);
	if (is == NULL)
		goto out;
	CHECK(store_unlock_keyfile(is, kf, strlen(kf)) == 0);
	CHECK(store_is_reader(is) == 0 && store_is_reader(s) == 1);
	CHECK(store_snapshots(is, &l) == -EACCES);
	CHECK(store_verify(is, 0, NULL, report, &ps, &n_problems) ==
	    -EACCES);
	CHECK(store_key_new_ingest(is, "x", &kf) == -EACCES);
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 1);
	if (store_snap_find(l, "latest", &sn) == 0) {
		struct store_tree *tt = NULL;

		/* store.h: an ingest store's store_tree_read() of a stored
		 * tree returns -EACCES, even given the tree's ref. */
		CHECK(store_tree_read(is, &sn->root.tree, &tt) == -EACCES);
		store_tree_free(tt);
	}
	store_snap_list_free(l);
	l = NULL;
	/* Dated now: an ingest key's snapshot dated before the key was
	 * made is flagged before-key and is never latest. */
	CHECK(commit(is, f, (int64_t)time(NULL), id2, &st) == 0);
	/* Every chunk was known: only the trees that hold the time. */
	CHECK(st.n_new <= 2);
	store_close(is);
	is = NULL;

	/* The reader sees who wrote it, and reads it. */
	CHECK(store_index_sync(s, 0) == 0);
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 2);
	sn = NULL;
	CHECK(store_snap_find(l, "latest", &sn) == 0 && sn != NULL);
	if (sn != NULL) {
		log_hex(sn->writer, 16, hex);
		CHECK(memcmp(sn->id, id2, 32) == 0);
		CHECK(strcmp(hex, kid) == 0);
		CHECK(sn->n_parents == 1 &&
		    memcmp(sn->parents[0], id1, 32) == 0);
		CHECK(!(sn->flags & STORE_SNAP_REVOKED));
		CHECK(strcmp(sn->writer_label, "ci runner") == 0 &&
		    !store_snap_is_master(sn) && !sn->is_writer_revoked);
		check_snapshot(s, sn, f);
	}
	store_snap_list_free(l);
	l = NULL;

	/* Revoked: what it made so far stays trusted, the rest is not. */
	CHECK(store_key_revoke(s, "zzzz") == -ENOENT);
	CHECK(store_key_revoke(s, kid) == 0);
	CHECK(store_key_revoke(s, kid) == -EEXIST);
	ingest_key_id(s, kid, &is_revoked);
	CHECK(is_revoked == 1);
	CHECK(store_open(store_dir, &o, &is) == 0);
	if (is == NULL)
		goto out;
	CHECK(store_unlock_keyfile(is, kf, strlen(kf)) == 0);
	CHECK(commit(is, f, (int64_t)time(NULL) + 30, id3, &st) == 0);
	store_close(is);
	is = NULL;
	store_close(s);
	s = NULL;
	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		goto out;
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 3);
	for (size_t i = 0; l != NULL && i < store_snap_list_len(l); i++) {
		const struct store_snap *x = store_snap_list_get(l, i);

		CHECK(!!(x->flags & STORE_SNAP_REVOKED) ==
		    (memcmp(x->id, id3, 32) == 0));
	}
	sn = NULL;
	CHECK(store_snap_find(l, "latest", &sn) == 0 && sn != NULL &&
	    memcmp(sn->id, id2, 32) == 0);
	memset(&ps, 0, sizeof(ps));
	CHECK(store_verify(s, 0, NULL, report, &ps, &n_problems) == 0);
	{
		char h3[65];

		log_hex(id3, 32, h3);
		CHECK(n_problems == 1 && strstr(ps.object[0], h3) != NULL);
	}
out:
	if (kf != NULL) {
		crypt_wipe(kf, strlen(kf));
		free(kf);
	}
	store_tree_free(t);
	store_snap_list_free(l);
	store_close(is);
	store_close(s);
	free_sources(f);
}

/* The writer's and readers' argument checks (store.h contracts). */
static void
test_api_edges(struct store *s)
{
	struct store_writer *w = NULL;
	struct store_file *sf = NULL;
	struct store_tb *tb = NULL;
	struct store_extent *ext = NULL;
	struct store_entry e;
	struct store_entry dir;
	struct store_source src[2];
	struct store_snap_new sn;
	struct store_ref ref;
	uint8_t buf[4096];
	uint8_t id[32];
	size_t n = 0;
	size_t got = 0;
	uint8_t *big = malloc(STORE_CHUNK_MAX + 1);

	if (big == NULL)
		abort();
	memset(big, 0x3c, STORE_CHUNK_MAX + 1);
	memset(buf, 0x3c, sizeof(buf));
	CHECK(store_writer_new(s, &w) == 0);
	if (w == NULL)
		goto out;
	/* Chunks: at most STORE_CHUNK_MAX bytes; read back, -ERANGE if the
	 * buffer is short. */
	CHECK(store_writer_put(w, big, STORE_CHUNK_MAX + 1, &ref) ==
	    -EINVAL);
	CHECK(store_writer_put(w, buf, sizeof(buf), &ref) == 0);
	/* Writes go forward only. */
	CHECK(store_file_new(w, &sf) == 0);
	CHECK(store_file_write(sf, 100, buf, 100) == 0);
	CHECK(store_file_write(sf, 150, buf, 10) == -EINVAL);
	CHECK(store_file_write(sf, 199, buf, 10) == -EINVAL);
	CHECK(store_file_write(sf, 200, buf, 10) == 0);
	CHECK(store_file_end(sf, &ext, &n) == 0);
	CHECK(n == 1 && ext != NULL && ext[0].off == 100 && ext[0].len == 110);
	store_file_free(sf);
	/* Trees: bad names are refused on add, duplicates on finish. */
	CHECK(store_tb_new(&tb) == 0);
	memset(&e, 0, sizeof(e));
	e.type = STORE_REG;
	e.mode = 0644;
	e.size = 210;
	e.extents = ext;
	e.n_extents = n;
	e.name = (const uint8_t *)"x";
	e.name_len = 1;
	CHECK(store_tb_add(tb, &e) == 0);
	CHECK(store_tb_add(tb, &e) == 0);
	e.name_len = 0;
	CHECK(store_tb_add(tb, &e) == -EINVAL);
	e.name = (const uint8_t *)"a\0b";
	e.name_len = 3;
	CHECK(store_tb_add(tb, &e) == -EINVAL);
	memset(&dir, 0, sizeof(dir));
	CHECK(store_tb_finish(w, tb, &dir) == -EINVAL);
	store_tb_free(tb);
	tb = NULL;
	CHECK(store_tb_new(&tb) == 0);
	e.name = (const uint8_t *)"x";
	e.name_len = 1;
	CHECK(store_tb_add(tb, &e) == 0);
	CHECK(store_tb_finish(w, tb, &dir) == 0 && dir.type == STORE_DIR &&
	    dir.n_desc == 1);
	/* Sources: invalid or twice the same name of one kind. */
	memset(&sn, 0, sizeof(sn));
	sn.time_sec = T1 + 500;
	sn.sources = src;
	sn.n_sources = 2;
	fill_source(&src[0], "one", &dir);
	fill_source(&src[1], "one", &dir);
	CHECK(store_writer_commit(w, &sn, id) == -EINVAL);
	fill_source(&src[1], ".hidden", &dir);
	CHECK(store_writer_commit(w, &sn, id) == -EINVAL);
	fill_source(&src[1], "a/b", &dir);
	CHECK(store_writer_commit(w, &sn, id) == -EINVAL);
	/* The same name under another kind is another source. */
	fill_source(&src[1], "one", &dir);
	src[1].kind = STORE_REPOS;
	CHECK(store_writer_commit(w, &sn, id) == 0);
	store_writer_free(w);
	w = NULL;
	{
		struct store_snap_list *l = NULL;
		const struct store_snap *x = NULL;
		struct store_tree *t = NULL;
		size_t idx;

		CHECK(store_snapshots(s, &l) == 0 &&
		    store_snap_find(l, "latest", &x) == 0 && x != NULL &&
		    memcmp(x->id, id, 32) == 0);
		if (x != NULL && store_resolve(s, &x->root, "repos/one/x", &t,
		    &idx) == 0) {
			const struct store_entry *f = store_tree_entry(t, idx);

			CHECK(store_read(s, f, 0, big, 4096, &got) == 0 &&
			    got == 210);
			/* A hole of 100 bytes, then the data. */
			CHECK(memcmp(big + 100, buf, 110) == 0);
			for (size_t i = 0; i < 100; i++)
				CHECK(big[i] == 0);
		} else {
			CHECK(0);
		}
		store_tree_free(t);
		t = NULL;
		/* store_read of a directory. */
		if (x != NULL && store_resolve(s, &x->root, "files/one", &t,
		    &idx) == 0)
			CHECK(store_read(s, store_tree_entry(t, idx), 0, big,
			    10, &got) == -EINVAL);
		store_tree_free(t);
		store_snap_list_free(l);
	}
	CHECK(store_has_chunk(s, ref.id) == 1);
	CHECK(store_chunk_read(s, &ref, big, sizeof(buf), &got) == 0 &&
	    got == sizeof(buf) && memcmp(big, buf, sizeof(buf)) == 0);
	CHECK(store_chunk_read(s, &ref, big, sizeof(buf) - 1, &got) ==
	    -ERANGE);
	ref.id[0] ^= 1;
	CHECK(store_has_chunk(s, ref.id) == 0);
	CHECK(store_chunk_read(s, &ref, big, sizeof(buf), &got) == -ENOENT);
out:
	free(ext);
	free(big);
	store_tb_free(tb);
	store_writer_free(w);
}

/* Flip one byte of the object ${key} of the store. */
static int
flip(const char *key, off_t at)
{
	char path[512];
	uint8_t b;
	int fd;
	int r = -1;

	snprintf(path, sizeof(path), "%s/%s", store_dir, key);
	if (chmod(path, 0644) != 0 || (fd = open(path, O_RDWR)) < 0)
		return -1;
	if (pread(fd, &b, 1, at) == 1) {
		b ^= 0x04;
		if (pwrite(fd, &b, 1, at) == 1)
			r = 0;
	}
	close(fd);
	return chmod(path, 0444) == 0 ? r : -1;
}

/*
 * The snapshot DAG: two snapshots made at once fork it, the next commit
 * joins them; a manifest naming a missing parent is an orphan and verify
 * reports the parent; a damaged manifest is not listed and is reported;
 * a damaged config refuses to unlock.
 */
static void
test_dag(void)
{
	struct store_create_opts co;
	struct store *s = NULL;
	struct store_snap_list *l = NULL;
	const struct store_snap *a = NULL;
	struct store_writer_stats st;
	struct src f[N_FILES];
	struct problems ps;
	uint8_t ida[32], idb[32], idc[32], idd[32], ide[32];
	uint8_t missing[1][32];
	char hex[65];
	char key[80];
	char idx2[128];
	uint64_t n_problems = 0;

	snprintf(store_dir, sizeof(store_dir), "%s/store-dag", top);
	snprintf(index_dir, sizeof(index_dir), "%s/index-dag", top);
	snprintf(idx2, sizeof(idx2), "%s/index-dag2", top);
	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	make_sources(f);
	CHECK(store_create(store_dir, &co, PASS, strlen(PASS)) == 0);
	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		goto out;
	CHECK(commit(s, f, T1, ida, &st) == 0);
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 1);
	if (store_snap_find(l, "latest", &a) != 0)
		goto out;
	/* Two ingests that both saw A as the newest. */
	CHECK(fixture_put_manifest(s, a, T1 + 10, (const uint8_t (*)[32])ida, 1,
	    idb) == 0);
	CHECK(fixture_put_manifest(s, a, T1 + 10, (const uint8_t (*)[32])ida, 1,
	    idc) == 0);
	/* One that names a snapshot nobody has. */
	memset(missing[0], 0x5e, 32);
	CHECK(fixture_put_manifest(s, a, T1 + 20,
	    (const uint8_t (*)[32])missing, 1, ide) == 0);
	store_snap_list_free(l);
	l = NULL;
	CHECK(commit(s, f, T1 + 30, idd, &st) == 0);
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 5);
	for (size_t i = 0; l != NULL && i < store_snap_list_len(l); i++) {
		const struct store_snap *x = store_snap_list_get(l, i);

		if (memcmp(x->id, idd, 32) == 0) {
			/* D joins the three heads: B, C and E. */
			int has_b = 0, has_c = 0, has_e = 0;

			for (size_t k = 0; k < x->n_parents; k++) {
				has_b |= memcmp(x->parents[k], idb, 32) == 0;
				has_c |= memcmp(x->parents[k], idc, 32) == 0;
				has_e |= memcmp(x->parents[k], ide, 32) == 0;
			}
			CHECK(x->n_parents == 3 && has_b && has_c && has_e);
			CHECK(i == 4 && !(x->flags & STORE_SNAP_ORPHAN));
		}
		CHECK(!!(x->flags & STORE_SNAP_ORPHAN) ==
		    (memcmp(x->id, ide, 32) == 0));
		if (memcmp(x->id, idb, 32) == 0 || memcmp(x->id, idc, 32) == 0)
			CHECK(strncmp(x->name, "2025-11-27T00:00:10Z", 20) ==
			    0 && (x->name[20] == '\0' ||
			    strcmp(x->name + 20, "-2") == 0));
	}
	memset(&ps, 0, sizeof(ps));
	CHECK(store_verify(s, STORE_VERIFY_READ_DATA, NULL, report, &ps,
	    &n_problems) == 0);
	log_hex(missing[0], 32, hex);
	CHECK(n_problems == 1 && strstr(ps.object[0], hex) != NULL);
	store_snap_list_free(l);
	l = NULL;
	store_close(s);
	s = NULL;

	/* A damaged manifest: not listed by a fresh index, reported. */
	log_hex(idb, 32, hex);
	snprintf(key, sizeof(key), "snapshots/%s", hex);
	CHECK(flip(key, 100) == 0);
	CHECK(open_store(idx2, &s, PASS) == 0);
	if (s == NULL)
		goto out;
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 4);
	memset(&ps, 0, sizeof(ps));
	CHECK(store_verify(s, 0, NULL, report, &ps, &n_problems) == 0);
	{
		int named = 0;

		for (size_t i = 0; i < ps.n && i < 8; i++)
			if (strstr(ps.object[i], hex) != NULL)
				named = 1;
		CHECK(named && n_problems >= 2);
	}
	store_close(s);
	s = NULL;

	/* A damaged config: its MAC, or a field the MAC covers. */
	CHECK(flip("config", CONFIG_LEN - 1) == 0);
	CHECK(open_store(idx2, &s, PASS) == -EBADMSG);
	CHECK(flip("config", CONFIG_LEN - 1) == 0);
	CHECK(flip("config", 8 + 4 + 16 + 4) == 0);	/* retention */
	CHECK(open_store(idx2, &s, PASS) == -EBADMSG);
	CHECK(flip("config", 8 + 4 + 16 + 4) == 0);
	CHECK(open_store(idx2, &s, PASS) == 0);
	if (s != NULL)
		test_api_edges(s);
out:
	store_snap_list_free(l);
	store_close(s);
	free_sources(f);
}

/*
 * Two processes commit into one store at the same instant (each with its
 * own index, as two hosts would): both commit, both are listed, verify
 * finds nothing, and the next commit has every head as a parent, so the
 * history has one head again.
 */
static void
test_concurrent(void)
{
	struct store_create_opts co;
	struct store *s = NULL;
	struct store_snap_list *l = NULL;
	struct store_writer_stats st;
	struct src f[N_FILES];
	struct problems ps;
	uint8_t id[32];
	uint64_t n_problems = 99;
	pid_t pid[2];
	int go[2];
	int n_failed = check_n_failed;	/* a child reports only its own */

	snprintf(store_dir, sizeof(store_dir), "%s/store-conc", top);
	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	make_sources(f);
	CHECK(store_create(store_dir, &co, PASS, strlen(PASS)) == 0);
	if (pipe(go) != 0)
		abort();
	for (int k = 0; k < 2; k++) {
		if ((pid[k] = fork()) < 0)
			abort();
		if (pid[k] == 0) {
			char idx[160];
			char c;
			int r;

			close(go[1]);
			/* Different data in each, so both write packs. */
			f[F_SMALL].data[0] = (uint8_t)k;
			f[F_BIG].data[12345] ^= (uint8_t)(k + 1);
			snprintf(idx, sizeof(idx), "%s/index-conc%d", top, k);
			r = open_store(idx, &s, PASS);
			if (read(go[0], &c, 1) < 0)
				r = -EIO;
			if (r == 0)
				r = commit(s, f, T1 + 100, id, &st);
			store_close(s);
			_exit(r == 0 && check_n_failed == n_failed ? 0 : 1);
		}
	}
	close(go[0]);
	close(go[1]);	/* both start */
	for (int k = 0; k < 2; k++) {
		int status = 0;

		CHECK(waitpid(pid[k], &status, 0) == pid[k] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	snprintf(index_dir, sizeof(index_dir), "%s/index-conc", top);
	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		goto out;
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 2);
	CHECK(l != NULL && store_snap_list_len(l) == 2 &&
	    strcmp(store_snap_list_get(l, 0)->name,
	    "2025-11-27T00:01:40Z") == 0 &&
	    strcmp(store_snap_list_get(l, 1)->name,
	    "2025-11-27T00:01:40Z-2") == 0);
	store_snap_list_free(l);
	l = NULL;
	memset(&ps, 0, sizeof(ps));
	CHECK(store_verify(s, STORE_VERIFY_READ_DATA, NULL, report, &ps,
	    &n_problems) == 0 && n_problems == 0);
	CHECK(commit(s, f, T1 + 200, id, &st) == 0);
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 3);
	/* One head: every snapshot but the last is someone's parent. */
	for (size_t i = 0; l != NULL && i < store_snap_list_len(l); i++) {
		const struct store_snap *x = store_snap_list_get(l, i);
		int is_parent = 0;

		for (size_t j = 0; j < store_snap_list_len(l); j++) {
			const struct store_snap *y = store_snap_list_get(l, j);

			for (size_t k = 0; k < y->n_parents; k++)
				if (memcmp(y->parents[k], x->id, 32) == 0)
					is_parent = 1;
		}
		CHECK(is_parent == (memcmp(x->id, id, 32) != 0));
	}
out:
	store_snap_list_free(l);
	store_close(s);
	free_sources(f);
}

/* The store's messages (expected ones, mostly), with AMBER_TEST_VERBOSE. */
static void
quiet(int level, const char *msg)
{
	(void)level;
	if (is_verbose)
		fprintf(stderr, "store: %s\n", msg);
}

static void
run(void)
{
	struct store_create_opts co;
	struct store *s = NULL;
	struct store_snap_list *l = NULL;
	const struct store_snap *sn = NULL;
	const struct store_snap *sn2 = NULL;
	struct store_writer_stats st1, st2;
	struct src f[N_FILES];
	uint8_t id1[32], id2[32], id3[32];
	char hex[65];
	char name[STORE_SNAP_NAME_LEN];
	char other_index[128];
	char pack[80] = "";
	struct problems ps;
	uint64_t n_problems = 99;

	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	make_sources(f);

	/* Create, refuse to create twice, open, wrong passphrases. */
	CHECK(store_create(store_dir, &co, PASS, strlen(PASS)) == 0);
	CHECK(store_create(store_dir, &co, PASS, strlen(PASS)) == -EEXIST);
	{
		char missing[128];

		snprintf(missing, sizeof(missing), "%s/nothing", top);
		CHECK(store_open(missing, NULL, &s) == -ENOENT);
	}
	CHECK(open_store(index_dir, &s, "wrong") == -EACCES);
	CHECK(open_store(index_dir, &s, "") == -EACCES);
	CHECK(open_store(index_dir, &s, PASS "x") == -EACCES);
	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		return;
	CHECK(strlen(store_id_hex(s)) == 32);
	CHECK(strcmp(store_index_dir(s), index_dir) == 0);
	CHECK(store_key_add(s, "second", 6, &co.kdf) == 0);
	store_close(s);
	CHECK(open_store(index_dir, &s, "second") == 0);
	store_close(s);
	CHECK(open_store(index_dir, &s, "third") == -EACCES);
	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		return;
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 0);
	CHECK(store_snap_find(l, "latest", &sn) == -ENOENT);
	store_snap_list_free(l);
	l = NULL;

	/* The first snapshot. */
	CHECK(commit(s, f, T1, id1, &st1) == 0);
	CHECK(st1.n_chunks >= 12 && st1.n_new == st1.n_chunks - 0 &&
	    st1.n_packs >= 1 && st1.bytes_stored > 0);
	/* Text compresses: less stored than read. */
	CHECK(st1.bytes_stored < st1.bytes_in);
	CHECK(store_snapshots(s, &l) == 0);
	CHECK(l != NULL && store_snap_list_len(l) == 1);
	if (l == NULL || store_snap_list_len(l) != 1)
		goto out;
	store_time_format(T1, name, sizeof(name));
	CHECK(strcmp(name, "2025-11-27T00:00:00Z") == 0);
	CHECK(store_snap_find(l, "latest", &sn) == 0);
	CHECK(memcmp(sn->id, id1, 32) == 0 && strcmp(sn->name, name) == 0);
	CHECK(sn->n_parents == 0 && sn->time_sec == T1);
	sn = NULL;
	CHECK(store_snap_find(l, name, &sn) == 0 && sn != NULL &&
	    memcmp(sn->id, id1, 32) == 0);
	log_hex(id1, 32, hex);
	hex[8] = '\0';
	sn = NULL;
	CHECK(store_snap_find(l, hex, &sn) == 0 && sn != NULL &&
	    memcmp(sn->id, id1, 32) == 0);
	hex[3] = '\0';
	CHECK(store_snap_find(l, hex, &sn) == -ENOENT);
	CHECK(store_snap_find(l, "2025-11-27T00:00:01Z", &sn) == -ENOENT);
	CHECK(store_snap_find(l, "ffffffffffff", &sn) == -ENOENT ||
	    id1[0] == 0xff);
	CHECK(store_snap_find(l, "latest", &sn) == 0);
	check_snapshot(s, sn, f);
	store_snap_list_free(l);
	l = NULL;

	/* The second: a few bytes inserted near the start of big. */
	{
		struct src *b = &f[F_BIG];
		uint8_t *d = malloc(b->size + 5);

		if (d == NULL)
			abort();
		memcpy(d, b->data, 1000);
		memcpy(d + 1000, "INSRT", 5);
		memcpy(d + 1005, b->data + 1000, b->size - 1000);
		free(b->data);
		b->data = d;
		b->size += 5;
		b->range[0][1] = b->size;
	}
	CHECK(commit(s, f, T1 + 86400, id2, &st2) == 0);
	/* Only the chunks around the insertion and the trees are new. */
	CHECK(st2.n_new <= 2 + 4);
	CHECK(st2.bytes_new <= 2 * CHUNKER_MAX + (1u << 20));
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 2);
	CHECK(store_snap_find(l, "latest", &sn2) == 0 &&
	    memcmp(sn2->id, id2, 32) == 0);
	CHECK(sn2->n_parents == 1 && memcmp(sn2->parents[0], id1, 32) == 0);
	CHECK(memcmp(store_snap_list_get(l, 0)->id, id1, 32) == 0);
	check_dedup(s, store_snap_list_get(l, 0), sn2, 5);
	check_snapshot(s, sn2, f);
	store_snap_list_free(l);
	l = NULL;

	/* A third in the same second as the second: named "-2". */
	CHECK(commit(s, f, T1 + 86400, id3, &st2) == 0);
	CHECK(st2.n_new == 0);
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 3);
	sn = NULL;
	CHECK(store_snap_find(l, "latest", &sn) == 0 && sn != NULL &&
	    memcmp(sn->id, id3, 32) == 0);
	CHECK(sn != NULL && strcmp(sn->name, "2025-11-28T00:00:00Z-2") == 0);
	CHECK(sn != NULL && sn->n_parents == 1 &&
	    memcmp(sn->parents[0], id2, 32) == 0);
	sn = NULL;
	CHECK(store_snap_find(l, "2025-11-28T00:00:00Z", &sn) == 0 &&
	    sn != NULL && memcmp(sn->id, id2, 32) == 0);
	store_snap_list_free(l);
	l = NULL;

	/* Verify finds nothing, with and without reading data, and the
	 * head we expect is there. */
	memset(&ps, 0, sizeof(ps));
	CHECK(store_verify(s, 0, NULL, report, &ps, &n_problems) == 0);
	CHECK(n_problems == 0 && ps.n == 0);
	CHECK(store_verify(s, STORE_VERIFY_READ_DATA, NULL, report, &ps,
	    &n_problems) == 0);
	CHECK(n_problems == 0 && ps.n == 0);
	log_hex(id3, 32, hex);
	hex[12] = '\0';
	CHECK(store_verify(s, 0, hex, report, &ps, &n_problems) == 0);
	CHECK(n_problems == 0 && ps.n == 0);
	CHECK(store_verify(s, 0, "0123456789abcdef0123", report, &ps,
	    &n_problems) == 0);
	CHECK(n_problems == 1 && ps.n == 1);
	store_close(s);
	s = NULL;

	/* A new index, rebuilt from the store alone. */
	snprintf(other_index, sizeof(other_index), "%s/index2", top);
	CHECK(open_store(other_index, &s, "second") == 0);
	if (s == NULL)
		goto out;
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 3);
	sn = NULL;
	CHECK(store_snap_find(l, "latest", &sn) == 0 && sn != NULL &&
	    memcmp(sn->id, id3, 32) == 0);
	if (sn != NULL)
		check_snapshot(s, sn, f);
	/* Damage the chunk of big that holds its offset 5 MiB. */
	{
		struct store_tree *t = NULL;
		const struct store_entry *e = sn ? resolve(s, sn,
		    "files/data/big", &t) : NULL;
		const struct store_extent *x = NULL;

		for (size_t i = 0; e != NULL && i < e->n_extents; i++)
			if (e->extents[i].off <= (5u << 20) &&
			    e->extents[i].off + e->extents[i].len >
			    (5u << 20))
				x = &e->extents[i];
		CHECK(x != NULL);
		if (x != NULL)
			CHECK(damage(s, &x->ref, pack) == 0);
		store_tree_free(t);
	}
	store_snap_list_free(l);
	l = NULL;
	store_close(s);
	s = NULL;

	/* Verify names the damaged pack; reads of it fail, others work. */
	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		goto out;
	memset(&ps, 0, sizeof(ps));
	CHECK(store_verify(s, STORE_VERIFY_READ_DATA, NULL, report, &ps,
	    &n_problems) == 0);
	CHECK(n_problems >= 1 && ps.n == n_problems);
	{
		int named = 0;
		int has_path = 0;

		for (size_t i = 0; i < ps.n && i < 8; i++) {
			if (strstr(ps.object[i], pack) != NULL)
				named = 1;
			if (strcmp(ps.path[i], "files/data/big") == 0)
				has_path = 1;
		}
		CHECK(pack[0] != '\0' && named);
		CHECK(has_path);
	}
	CHECK(store_snapshots(s, &l) == 0 && store_snap_list_len(l) == 3);
	sn = NULL;
	CHECK(store_snap_find(l, "latest", &sn) == 0 && sn != NULL);
	if (sn != NULL) {
		struct store_tree *t = NULL;
		const struct store_entry *e = resolve(s, sn, "files/data/big",
		    &t);
		uint8_t *buf = malloc(1u << 20);
		size_t got = 99;

		if (buf == NULL)
			abort();
		CHECK(e != NULL);
		if (e != NULL) {
			CHECK(store_read(s, e, (5u << 20) - 100, buf, 200,
			    &got) == -EBADMSG);
			CHECK(got == 0);
			CHECK(store_read(s, e, 5u << 20, buf, 1u << 20,
			    &got) == -EBADMSG);
			CHECK(got == 0);
			/* Before the damaged chunk, all is well. */
			CHECK(store_read(s, e, 0, buf, 1000, &got) == 0 &&
			    got == 1000 &&
			    memcmp(buf, f[F_BIG].data, 1000) == 0);
		}
		store_tree_free(t);
		t = NULL;
		e = resolve(s, sn, "files/data/small", &t);
		CHECK(e != NULL && store_read(s, e, 0, buf, 1000, &got) == 0 &&
		    got == 1000 && memcmp(buf, f[F_SMALL].data, 1000) == 0);
		store_tree_free(t);
		free(buf);
	}
out:
	store_snap_list_free(l);
	store_close(s);
	free_sources(f);
}

/*
 * Put a format 2 pack holding one blob: ${data} sealed under ${ref}, as
 * a key holder who knows ${ref} can.  Sets ${loc}.
 */
static int
put_forged(struct store *s, const struct store_ref *ref, const uint8_t *data,
    size_t len, struct chunk_loc *loc)
{
	struct pack_entry e;
	uint8_t *p = malloc(PACK_HEAD_LEN + len + BLOB_OVERHEAD + 256);
	uint8_t *toc = NULL;
	uint8_t h[32];
	size_t toc_len;
	size_t blen;
	size_t n;
	char name[80];
	int r = -1;

	if (p == NULL)
		return -1;
	memcpy(p, PACK_MAGIC, PACK_HEAD_LEN);
	if (blob_seal(ref, data, len, p + PACK_HEAD_LEN, len + BLOB_OVERHEAD,
	    &blen) < 0)
		goto out;
	memcpy(e.id, ref->id, 32);
	e.off = PACK_HEAD_LEN;
	e.len = (uint32_t)blen;
	e.raw_len = (uint32_t)len;
	n = PACK_HEAD_LEN + blen;
	crypt_sha256(p, n, h);
	if (pack_toc_seal(s->kr.toc_key, 2, h, &e, 1, &toc, &toc_len) < 0)
		goto out;
	memcpy(p + n, toc, toc_len);
	n += toc_len;
	le_put(p + n, toc_len, 4);
	memcpy(p + n + 4, PACK_END, 8);
	n += PACK_TAIL_LEN;
	crypt_sha256(p, n, h);
	pack_name(h, name);
	if (s->be->ops->put(s->be, name, p, n) < 0 ||
	    index_pack_add(s->ix, h, n, &e, 1) < 0)
		goto out;
	memcpy(loc->pack, h, 32);
	loc->off = e.off;
	loc->len = e.len;
	loc->raw_len = e.raw_len;
	r = 0;
out:
	free(toc);
	free(p);
	return r;
}

/*
 * A blob that authenticates under a chunk's id and key but holds other
 * bytes is refused (the reader recomputes the id and key), a read falls
 * back to the genuine location, and with no genuine location left the
 * read fails: never the forged bytes.
 */
/* Commit an empty snapshot of ${w} (by ${host}), then free ${w}. */
static void
commit_free(struct store_writer *w, const char *host)
{
	struct store_snap_new sn = { 0 };
	uint8_t id[32];

	sn.time_sec = time(NULL);
	sn.host = host;
	CHECK(store_writer_commit(w, &sn, id) == 0);
	store_writer_free(w);
}

static void
test_identity(void)
{
	static const char genuine[] = "genuine bytes, which the ref names";
	static const char forged[] = "forged bytes, same length as those!";
	struct store *s = NULL;
	struct store_writer *w = NULL;
	struct store_ref ref;
	struct chunk_loc loc;
	uint8_t buf[64];
	size_t len = 0;
	size_t n = 0;
	size_t total = 0;
	int is_forged = 0;

	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		return;
	CHECK(store_writer_new(s, &w) == 0);
	CHECK(store_writer_put(w, (const uint8_t *)genuine, sizeof(genuine),
	    &ref) == 0);
	commit_free(w, "identity");
	CHECK(put_forged(s, &ref, (const uint8_t *)forged, sizeof(forged),
	    &loc) == 0);
	CHECK(index_chunk_locs(s->ix, ref.id, 0, &loc, 1, &n, &total) == 0);
	CHECK(total == 2);

	/* At the forged location alone: authentic, yet refused. */
	CHECK(put_forged(s, &ref, (const uint8_t *)forged, sizeof(forged),
	    &loc) == 0);
	CHECK(store_chunk_open_at(s, &ref, &loc, buf, sizeof(buf), &len,
	    &is_forged) == -EBADMSG && is_forged);
	/* Through every location: the genuine bytes, whatever the order. */
	memset(buf, 0, sizeof(buf));
	CHECK(store_chunk_read(s, &ref, buf, sizeof(buf), &len) == 0 &&
	    len == sizeof(genuine) && memcmp(buf, genuine, len) == 0);

	/* An index that knows only forged locations: an error, not them. */
	CHECK(index_clear(s->ix) == 0);
	CHECK(put_forged(s, &ref, (const uint8_t *)forged, sizeof(forged),
	    &loc) == 0);
	memset(buf, 0, sizeof(buf));
	CHECK(store_chunk_read(s, &ref, buf, sizeof(buf), &len) == -EBADMSG);
	CHECK(memmem(buf, sizeof(buf), "forged", 6) == NULL);
	store_close(s);
}

/*
 * store_file_take(): the extents of store_file_write() of the same bytes,
 * at sizes about the one-chunk limit (taken without a copy up to it,
 * written through the chunker above), and the bytes read back after the
 * commit.
 */
#define N_TAKE 6
static void
test_take(void)
{
	struct store *s = NULL;
	struct store_writer *w = NULL;
	size_t sizes[N_TAKE] = { 1, 4096, 0, 0, 0, 3u << 20 };
	struct store_extent *xs[N_TAKE] = { 0 };
	size_t ns[N_TAKE] = { 0 };
	struct src f[N_TAKE];

	CHECK(open_store(index_dir, &s, PASS) == 0);
	if (s == NULL)
		return;
	CHECK(store_writer_new(s, &w) == 0);
	for (size_t k = 0; w != NULL && k < N_TAKE; k++) {
		struct store_file *a = NULL;
		struct store_file *b = NULL;
		struct store_extent *xb = NULL;
		size_t nb = 0;
		uint8_t *copy;

		CHECK(store_file_new(w, &a) == 0 && store_file_new(w, &b) == 0);
		if (a == NULL || b == NULL)
			abort();
		if (k >= 2 && k <= 4)	/* max - 1, max, max + 1 */
			sizes[k] = store_file_take_max(a) + k - 3;
		make_src(&f[k], "take", sizes[k], (int)(k % 2));
		if ((copy = malloc(sizes[k])) == NULL)
			abort();
		memcpy(copy, f[k].data, sizes[k]);
		CHECK(store_file_take(a, copy, sizes[k]) == 0);
		CHECK(store_file_take(a, NULL, 0) == -EINVAL);
		CHECK(store_file_write(b, 0, f[k].data, sizes[k]) == 0);
		CHECK(store_file_end(a, &xs[k], &ns[k]) == 0);
		CHECK(store_file_end(b, &xb, &nb) == 0);
		CHECK(ns[k] == nb && nb > 0);
		for (size_t i = 0; i < ns[k] && i < nb; i++)
			CHECK(xs[k][i].off == xb[i].off &&
			    xs[k][i].len == xb[i].len &&
			    memcmp(&xs[k][i].ref, &xb[i].ref,
			    sizeof(xb[i].ref)) == 0);
		CHECK(sizes[k] > store_file_take_max(a) || ns[k] == 1);
		free(xb);
		store_file_free(a);
		store_file_free(b);
	}
	if (w != NULL)
		commit_free(w, "take");
	for (size_t k = 0; k < N_TAKE; k++) {
		struct store_entry e;
		uint8_t *back = malloc(sizes[k]);
		size_t got = 0;

		if (back == NULL)
			abort();
		store_entry_init(&e, "take", STORE_REG, 0644);
		e.size = sizes[k];
		e.extents = xs[k];
		e.n_extents = ns[k];
		CHECK(store_read(s, &e, 0, back, sizes[k], &got) == 0 &&
		    got == sizes[k] && memcmp(back, f[k].data, sizes[k]) == 0);
		free(back);
		free(xs[k]);
		free(f[k].data);
	}
	store_close(s);
}

int
main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 4242;
	char cmd[256];
	int r;

	rng_state = seed;
	is_verbose = getenv("AMBER_TEST_VERBOSE") != NULL;
	store_log_set(quiet);
	snprintf(top, sizeof(top), "/tmp/amber-test-store.XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(store_dir, sizeof(store_dir), "%s/store", top);
	snprintf(index_dir, sizeof(index_dir), "%s/index", top);
	run();
	test_ingest();
	test_dag();
	test_concurrent();
	test_identity();
	test_take();
	r = check_done("test_store");
	if (r != 0 && getenv("AMBER_TEST_KEEP") != NULL) {
		fprintf(stderr, "test_store: seed %llu; files kept in %s\n",
		    (unsigned long long)seed, top);
	} else {
		if (r != 0)
			fprintf(stderr, "test_store: seed %llu (set "
			    "AMBER_TEST_KEEP to keep the files)\n",
			    (unsigned long long)seed);
		snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'",
		    top, top);
		if (system(cmd) != 0)
			fprintf(stderr, "test_store: cannot remove %s\n", top);
	}
	return r;
}
