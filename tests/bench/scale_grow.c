/*
 * scale_grow.c: the cheap loop of tests/bench/scale.sh.  scale_grow
 * STORE FROM TO adds snapshots FROM+1 .. TO to STORE (unlocked with
 * $AMBER_PASSPHRASE, its index where amber keeps it), snapshot N dated N
 * hours after 2026-01-01T00:00:00Z, each with the sources of the newest
 * snapshot (as an ingest that found nothing changed would carry them
 * forward), committed by the store's writer as an ingest commits: the
 * heads as parents, one manifest and one small tree pack each.  It costs
 * a few milliseconds a snapshot where an ingest of the bench's tree
 * costs tens, so that 10,000 snapshots take minutes, not an hour.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define T0 1767225600	/* 2026-01-01T00:00:00Z */

int
main(int argc, char **argv)
{
	const struct store_snap *latest = NULL;
	struct store_snap_list *l = NULL;
	struct store_opts o;
	struct store *s = NULL;
	const char *pass = getenv("AMBER_PASSPHRASE");
	long from;
	long to;
	int r;

	if (argc != 4 || pass == NULL) {
		fprintf(stderr, "usage: AMBER_PASSPHRASE=... scale_grow STORE "
		    "FROM TO\n");
		return 2;
	}
	from = strtol(argv[2], NULL, 10);
	to = strtol(argv[3], NULL, 10);
	memset(&o, 0, sizeof(o));
	if ((r = store_open(argv[1], &o, &s)) < 0 ||
	    (r = store_unlock(s, pass, strlen(pass))) < 0 ||
	    (r = store_index_sync(s, 0)) < 0 ||
	    (r = store_snap_recent(s, INT64_MAX, &l)) < 0 ||
	    (r = store_snap_find(l, "latest", &latest)) < 0) {
		fprintf(stderr, "scale_grow: %s: error %d\n", argv[1], r);
		return 1;
	}
	for (long n = from + 1; n <= to; n++) {
		struct store_writer *w = NULL;
		struct store_snap_new sn;
		uint8_t id[STORE_HASH_LEN];

		memset(&sn, 0, sizeof(sn));
		sn.time_sec = T0 + 3600 * (int64_t)n;
		sn.host = latest->host;
		sn.sources = latest->sources;
		sn.n_sources = latest->n_sources;
		if ((r = store_writer_new(s, &w)) < 0 ||
		    (r = store_writer_commit(w, &sn, id)) < 0) {
			fprintf(stderr, "scale_grow: snapshot %ld: error %d\n",
			    n, r);
			store_writer_free(w);
			return 1;
		}
		store_writer_free(w);
	}
	store_snap_list_free(l);
	store_close(s);
	return 0;
}
