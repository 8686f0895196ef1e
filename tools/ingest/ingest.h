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

#define INGEST_JOBS_MAX 64	/* --jobs */

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
 */
int ingest_run(const struct ingest_opts *o, const struct sources *src);

#endif
