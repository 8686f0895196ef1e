/*
 * scale_grow.c: the cheap loop of tests/bench/scale.sh.  scale_grow
 * STORE FROM TO adds snapshots FROM+1 .. TO to STORE (unlocked with
 * $AMBER_PASSPHRASE, its index where amber keeps it), snapshot N dated N
 * hours after 2024-01-01T00:00:00Z, each with the root and sources of
 * the newest snapshot (as an ingest that found nothing changed would
 * carry them forward), each the parent of the next: manifests made and
 * sealed as a writer makes them, put straight to the store, then one
 * sync of the index.  Well under a millisecond of CPU a snapshot, where
 * an ingest of the bench's tree costs tens, so that 10,000 snapshots
 * take seconds, not an hour.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypt.h"
#include "log.h"
#include "snap.h"
#include "storei.h"

#define T0 1704067200	/* 2024-01-01T00:00:00Z */

static int
put_one(struct store *s, const struct store_snap *like, long n,
    uint8_t parent[32])
{
	struct store_snap_new sn;
	uint8_t *obj = NULL;
	size_t len;
	char key[80];
	char hex[65];
	int r;

	memset(&sn, 0, sizeof(sn));
	sn.time_sec = T0 + 3600 * (int64_t)n;
	sn.host = like->host;
	sn.sources = like->sources;
	sn.n_sources = like->n_sources;
	if ((r = snap_make(&s->kr, &sn, &like->root,
	    (const uint8_t (*)[32])parent, 1, &obj, &len)) < 0)
		return r;
	crypt_sha256(obj, len, parent);
	log_hex(parent, 32, hex);
	snprintf(key, sizeof(key), "snapshots/%s", hex);
	r = s->be->ops->put(s->be, key, obj, len);
	free(obj);
	return r;
}

int
main(int argc, char **argv)
{
	const struct store_snap *latest = NULL;
	struct store_snap_list *l = NULL;
	struct store_opts o;
	struct store *s = NULL;
	const char *pass = getenv("AMBER_PASSPHRASE");
	uint8_t parent[32];
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
	memcpy(parent, latest->id, 32);
	for (long n = from + 1; n <= to && r == 0; n++)
		if ((r = put_one(s, latest, n, parent)) < 0)
			fprintf(stderr, "scale_grow: snapshot %ld: error %d\n",
			    n, r);
	if (r == 0 && (r = store_index_sync(s, 0)) < 0)
		fprintf(stderr, "scale_grow: sync: error %d\n", r);
	store_snap_list_free(l);
	store_close(s);
	return r < 0;
}
