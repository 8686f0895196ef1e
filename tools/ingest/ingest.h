/*
 * ingest.h: the ingest pipeline, the one body of `amber ingest` whether
 * its sources come from the command line (--dir, --repo, --pipeline:
 * cmd_ingest.c makes them a plan of one group) or from a sources file
 * (--sources, man/amber-sources.5).  It plans the jobs (expanding groups
 * and organisations through the forge's listing), fetches repositories
 * in parallel, reads every source into the store in sequence, carries a
 * failed source forward from the newest snapshot, commits one snapshot
 * and prints the summary.  The readers it runs are in source.h.
 */
#ifndef INGEST_H
#define INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "sources.h"
#include "store.h"

#define INGEST_JOBS_MAX 64	/* --jobs */
#define INGEST_STALE_RUNS_MAX 999999999	/* the count stops there */

/* One source's state after a run, for amber_source_* (amber(1), METRICS). */
struct ingest_source_state {
	char path[STORE_NAME_MAX + 16];	/* "KIND/NAME" */
	uint64_t n_stale_runs;	/* consecutive runs it could not be read */
	int is_failed;		/* not in this run's snapshot at all */
};

/*
 * What a run did, for `amber ingest --metrics-file`.  Filled by
 * ingest_run() whatever its outcome; freed with ingest_result_fini().
 */
struct ingest_result {
	int is_committed;	/* a snapshot was committed */
	int64_t t_success;	/* Unix time of the last commit; 0: unknown */
	uint64_t n_bytes_read;
	uint64_t n_bytes_added;
	uint64_t n_files;
	uint64_t n_warnings;
	struct ingest_source_state *sources;	/* only when committed */
	size_t n_sources;
};

struct ingest_opts {
	const char *location;		/* the store */
	const struct cli_common *com;
	int64_t time_sec;		/* the snapshot's time */
	uint32_t time_nsec;
	const char *host;		/* NULL: this host's name */
	const char *const *tags;
	size_t n_tags;
	const char *const *allow;	/* --allow-clone-host */
	size_t n_allow;
	size_t n_jobs_max;		/* fetches at once, 1..INGEST_JOBS_MAX */
	int is_sources_file;	/* summary as amber-sources(5) shows it */
	struct ingest_result *result;	/* NULL, or filled by ingest_run() */
};

/*
 * ingest_run(o, src):
 * Take one snapshot of every source of ${src} (borrowed; its directory
 * entries' excludes and one-file-system flags apply to them) into the
 * store at ${o}->location.  Prints its own messages, warnings and the
 * summary (amber(1) for the command-line form; amber-sources(5) with
 * ${o}->is_sources_file).  Returns the exit status: CLI_EXIT_OK;
 * CLI_EXIT_PARTIAL when committed, but some source is stale, failed or
 * partial; CLI_EXIT_ERROR when nothing could be committed;
 * CLI_EXIT_KEY for a wrong passphrase or key.
 *
 * With ${o}->result, it is filled in too (it must be zeroed first): the
 * run's figures; when a snapshot is committed, each source's state, whose
 * count of consecutive stale runs is kept in the local cache and written
 * there with the commit (a run that commits nothing changes no count);
 * and the time of that commit, or else of the last one the local cache
 * remembers.  A damaged cache record reads as none.
 */
int ingest_run(const struct ingest_opts *o, const struct sources *src);

/* ingest_result_fini(res): free what ingest_run() put in ${res}. */
void ingest_result_fini(struct ingest_result *res);

#endif
