/*
 * test_ingest_metrics.c: what ingest_run() leaves for `amber ingest
 * --metrics-file` (tools/ingest.c), and the records of the local cache
 * it counts from.  A source that cannot be read counts 1, 2, then 0 once
 * read; a run that commits nothing changes no count; and a damaged or
 * planted record (not digits, too long, too large, empty, megabytes) in
 * either table reads as none, never a crash nor a huge count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "cli.h"
#include "ingest.h"
#include "store.h"

#define PASS "test passphrase"

static char top[64];
static char store_dir[128];
static char index_dir[128];

/* Put ${val} (${len} bytes) under ${key} of ${table} in the cache. */
static void
plant(const char *table, const char *key, const char *val, size_t len)
{
	struct store_opts o;
	struct store *s = NULL;

	memset(&o, 0, sizeof(o));
	o.index_dir = index_dir;
	CHECK(store_open(store_dir, &o, &s) == 0);
	if (s == NULL)
		return;
	CHECK(store_unlock(s, PASS, strlen(PASS)) == 0);
	CHECK(store_cache_put(s, table, key, strlen(key), val, len) == 0);
	store_close(s);
}

/* One run over ${src}; its exit status, its result in *${res}. */
static int
run(const struct sources *src, struct ingest_result *res)
{
	struct cli_common com;
	struct ingest_opts o;

	memset(&com, 0, sizeof(com));
	com.index_dir = index_dir;
	com.is_quiet = 1;
	memset(&o, 0, sizeof(o));
	o.location = store_dir;
	o.com = &com;
	o.time_sec = 1765080000;
	o.n_jobs_max = 1;
	o.result = res;
	ingest_result_fini(res);
	memset(res, 0, sizeof(*res));
	return ingest_run(&o, src);
}

/* The state of source ${path} in ${res}, or NULL. */
static const struct ingest_source_state *
state(const struct ingest_result *res, const char *path)
{
	for (size_t i = 0; i < res->n_sources; i++)
		if (strcmp(res->sources[i].path, path) == 0)
			return &res->sources[i];
	return NULL;
}

static void
expect_runs(const struct ingest_result *res, const char *path, uint64_t n)
{
	const struct ingest_source_state *ss = state(res, path);

	CHECK(ss != NULL);
	if (ss != NULL && ss->n_stale_runs != n)
		fprintf(stderr, "%s: %llu stale runs, want %llu\n", path,
		    (unsigned long long)ss->n_stale_runs,
		    (unsigned long long)n);
	CHECK(ss != NULL && ss->n_stale_runs == n);
}

int
main(void)
{
	struct store_create_opts co;
	struct sources_entry e[2];
	struct sources src = { e, 2 };
	struct sources only_missing = { &e[1], 1 };
	struct ingest_result res;
	char a[160];
	char b[160];
	char b_away[160];
	char f[200];
	char name_a[] = "a";
	char name_b[] = "b";
	char name_c[] = "c";
	char *big;
	FILE *fp;

	snprintf(top, sizeof(top), "/tmp/amber-test-im-XXXXXX");
	if (mkdtemp(top) == NULL)
		return 1;
	snprintf(store_dir, sizeof(store_dir), "%s/store", top);
	snprintf(index_dir, sizeof(index_dir), "%s/index", top);
	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/b", top);
	snprintf(b_away, sizeof(b_away), "%s/b-away", top);
	CHECK(mkdir(a, 0700) == 0 && mkdir(b, 0700) == 0);
	snprintf(f, sizeof(f), "%s/f", a);
	if ((fp = fopen(f, "w")) != NULL) {
		fputs("hello\n", fp);
		fclose(fp);
	}
	setenv("AMBER_PASSPHRASE", PASS, 1);
	memset(&co, 0, sizeof(co));
	co.kdf.log2_n = 10;
	CHECK(store_create(store_dir, &co, PASS, strlen(PASS)) == 0);
	memset(e, 0, sizeof(e));
	memset(&res, 0, sizeof(res));
	e[0].type = SOURCES_DIR;
	e[0].name = name_a;
	e[0].where = a;
	e[1].type = SOURCES_DIR;
	e[1].name = name_b;
	e[1].where = b;

	/* Read: 0 runs, committed, the time of that commit. */
	CHECK(run(&src, &res) == CLI_EXIT_OK);
	CHECK(res.is_committed && res.n_sources == 2);
	CHECK(res.t_success > 1700000000);
	CHECK(res.n_files >= 1 && res.n_bytes_read == 6);
	expect_runs(&res, "files/a", 0);
	expect_runs(&res, "files/b", 0);

	/* b unreadable twice: 1, 2 (carried forward: stale, not failed). */
	CHECK(rename(b, b_away) == 0);
	CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
	expect_runs(&res, "files/b", 1);
	CHECK(state(&res, "files/b") != NULL &&
	    !state(&res, "files/b")->is_failed);
	CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
	expect_runs(&res, "files/b", 2);
	expect_runs(&res, "files/a", 0);

	/* A run that commits nothing (a new source that is not there):
	 * no sources, the last success from the cache, no count changed. */
	e[1].name = name_c;
	CHECK(run(&only_missing, &res) == CLI_EXIT_ERROR);
	CHECK(!res.is_committed && res.n_sources == 0);
	CHECK(res.t_success > 1700000000);
	e[1].name = name_b;
	CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
	expect_runs(&res, "files/b", 3);

	/* Damaged or planted counts read as none: counted from 0. */
	plant("stale-runs", "files/b", "12x", 3);
	CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
	expect_runs(&res, "files/b", 1);
	plant("stale-runs", "files/b", "99999999999999999999", 20);
	CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
	expect_runs(&res, "files/b", 1);
	plant("stale-runs", "files/b", "1000000000", 10);
	CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
	expect_runs(&res, "files/b", 1);
	plant("stale-runs", "files/b", "", 0);
	CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
	expect_runs(&res, "files/b", 1);
	if ((big = malloc(4 << 20)) != NULL) {
		memset(big, '7', 4 << 20);
		plant("stale-runs", "files/b", big, 4 << 20);
		CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
		expect_runs(&res, "files/b", 1);
	}
	/* The largest count stays there. */
	plant("stale-runs", "files/b", "999999999", 9);
	CHECK(run(&src, &res) == CLI_EXIT_PARTIAL);
	expect_runs(&res, "files/b", INGEST_STALE_RUNS_MAX);

	/* A damaged last success reads as none. */
	e[1].name = name_c;
	if (big != NULL) {
		plant("ingest-run", "last-success", big, 4 << 20);
		CHECK(run(&only_missing, &res) == CLI_EXIT_ERROR);
		CHECK(res.t_success == 0);
		free(big);
	}
	plant("ingest-run", "last-success", "17000000x0", 10);
	CHECK(run(&only_missing, &res) == CLI_EXIT_ERROR);
	CHECK(res.t_success == 0);
	plant("ingest-run", "last-success", "253402300800", 12);
	CHECK(run(&only_missing, &res) == CLI_EXIT_ERROR);
	CHECK(res.t_success == 0);
	plant("ingest-run", "last-success", "1700000000", 10);
	CHECK(run(&only_missing, &res) == CLI_EXIT_ERROR);
	CHECK(res.t_success == 1700000000);
	e[1].name = name_b;

	/* Read again: back to 0. */
	CHECK(rename(b_away, b) == 0);
	CHECK(run(&src, &res) == CLI_EXIT_OK);
	expect_runs(&res, "files/b", 0);
	CHECK(res.t_success > 1700000000);
	ingest_result_fini(&res);

	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", top);
	}
	return check_done("test_ingest_metrics");
}
