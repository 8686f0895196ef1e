/*
 * ingesti.h: what ingest.c shares with summary.c: a run of the ingest
 * pipeline, its jobs (one per source) and groups (one per sources-file
 * line that names a forge group or organisation).  Inside tools/ingest/
 * only; ingest.h is the interface.
 */
#ifndef INGESTI_H
#define INGESTI_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "forge_discover.h"
#include "source.h"
#include "sources.h"
#include "store.h"

struct ingest_opts;

#define SHOWN_MAX 4096	/* a location, credentials taken out */
/*
 * Pipeline sources whose forge answers wait, recorded, between the
 * parallel phase and the store phase (forge_tape.h): each holds one open
 * unlinked file in the cache directory and a stdio buffer (4 KiB), so at
 * most this many descriptors and 4 MiB; the rest are read from the
 * network in the store phase, as all were before.  Also at most a quarter
 * of the descriptors the process may open.
 */
#define INGEST_TAPES_MAX 1024

struct forge_tape;

enum status {
	ST_OK = 0,
	ST_PARTIAL,
	ST_STALE,
	ST_FAILED,
	ST_ABSENT,		/* a wiki the forge does not have */
};

/* One source of the run. */
struct job {
	uint8_t kind;		/* enum store_kind */
	char *name;
	char *where;
	const struct sources_entry *e;	/* its line */
	int is_wiki;
	int fetch_err;
	int err;
	int is_absent;
	struct forge_tape *tape;	/* pipelines: the answers prefetched */
	enum status st;
	uint64_t n_warnings;
	struct err why;		/* why it failed, when err says too little */
};

struct group {
	const struct sources_entry *e;
	struct forge_repos repos;
	char prefix[512];
	int err;
	struct err why;		/* why it failed, when err says too little */
};

struct run {
	struct src_ctx ctx;
	const struct ingest_opts *opts;
	const struct sources *src;
	struct group *groups;
	size_t n_groups;
	struct job *jobs;
	size_t n_jobs;
	char **vanished;	/* "repos/NAME" */
	size_t n_vanished;
	struct store_source *out;	/* what goes into the snapshot */
	size_t n_out;
	const struct store_snap *prev;	/* newest snapshot, if readable */
	size_t next;		/* fetch: the next job to take (lock) */
	size_t n_tapes;		/* fetch: jobs given a tape (lock) */
	size_t n_tapes_max;
	double t_discover;
	double t_fetch;
	double t_store;
	int store_err;		/* the writer failed: nothing can commit */
	/* The progress thread, on a terminal. */
	pthread_t thread;
	pthread_cond_t cond;
	int has_thread;
	int is_done;		/* guarded by ctx.lock */
	double t0;
};

/* The number of jobs of ${o} whose status is ${st}. */
size_t ingest_count(const struct run *o, enum status st);

/* Seconds on the monotonic clock. */
double ingest_now(void);

/*
 * ingest_summary(o, hex, name, st): the summary of committed snapshot
 * ${hex} named ${name} with the writer's figures ${st}: text on stderr
 * (unless quiet), or JSON on stdout with --json.
 */
void ingest_summary(const struct run *o, const char *hex, const char *name,
    const struct store_writer_stats *st);

#endif
