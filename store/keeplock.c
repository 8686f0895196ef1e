/*
 * keeplock.c: a policy set with a longer horizon lengthens the locks of
 * what it keeps (amber-store(5), PRUNING on S3), before it is reported
 * set: so kept history never expires under the shorter locks of the
 * ingests that wrote it, whether or not an ingest runs again; and how
 * long an ingest locks what it writes (writer_lock_horizon()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "idset.h"
#include "log.h"
#include "pack.h"
#include "storei.h"
#include "writer.h"

struct keep_lock {
	struct store *s;
	int64_t until;
	uint64_t n;
};

static int
lock_pack(void *ctx, const uint8_t h[STORE_HASH_LEN])
{
	struct keep_lock *kl = ctx;
	char name[80];
	int r;

	pack_name(h, name);
	r = kl->s->be->ops->retain(kl->s->be, name, kl->until);
	if (r == -ENOENT)
		return 0;	/* gone: damage, which verify names */
	kl->n += r == 0;
	return r;
}

int
store_keep_lock(struct store *s, const struct store_snap *const *kept,
    size_t n, uint64_t horizon, uint64_t *n_objects)
{
	struct keep_lock kl = { s, 0, 0 };
	struct store_ref *roots = NULL;
	struct idset packs = { NULL, 0, 0 };
	int64_t now = (int64_t)time(NULL);
	uint64_t ret = config_retention_secs(&s->cfg);
	uint64_t n_chunks;
	char hex[2 * STORE_HASH_LEN + 1];
	char key[16 + sizeof(hex)];
	int r = 0;

	*n_objects = 0;
	if (s->be->ops->retain == NULL || ret == 0 || n == 0)
		return 0;
	if (horizon < ret)
		horizon = ret;
	if (horizon > STORE_RETENTION_MAX)
		horizon = STORE_RETENTION_MAX;
	if ((roots = calloc(n, sizeof(*roots))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		/* From its time or its commit, whichever is later, as an
		 * ingest then would have locked it; never past now + the
		 * horizon, whatever the times a writer put in it say. */
		int64_t t = kept[i]->time_sec;
		int64_t c = (int64_t)(kept[i]->commit_ns / 1000000000u);
		int64_t until = (t > c ? t : c);

		until = until > now ? now : until;
		until += (int64_t)horizon;
		roots[i] = kept[i]->root.tree;
		if (until > kl.until)
			kl.until = until;
		if (until <= now)
			continue;
		log_hex(kept[i]->id, STORE_HASH_LEN, hex);
		snprintf(key, sizeof(key), "snapshots/%s", hex);
		if ((r = s->be->ops->retain(s->be, key, until)) < 0)
			goto out;
		kl.n++;
	}
	/* Every pack they reference, until the latest of theirs: more
	 * than an older snapshot alone needs, never less. */
	if (kl.until <= now)
		goto out;
	if ((r = store_index_sync(s, 0)) < 0 ||
	    (r = prune_live_packs(s, roots, n, &packs, &n_chunks,
	    NULL)) < 0 ||
	    (r = idset_each(&packs, lock_pack, &kl)) < 0)
		goto out;
out:
	*n_objects = kl.n;
	free(roots);
	idset_fini(&packs);
	return r < 0 ? r : 0;
}

/*
 * Fail closed (amber-store(5), PRUNING on S3): what an ingest writes and
 * reuses is locked until the horizon of every period of the policy its
 * snapshot may be the keeper of, and never shorter than the config's
 * retention.  Without a policy, the retention.  A policy that cannot be
 * read fails the ingest.
 */
int
writer_lock_horizon(struct store *s, uint64_t at_least)
{
	struct store_policy p;
	uint64_t ret = config_retention_secs(&s->cfg);
	uint64_t h = at_least;
	int r;

	if (s->be->ops->set_retention == NULL || ret == 0)
		return 0;
	if ((r = store_policy_get(s, &p)) < 0 && r != -ENOENT)
		return r;
	if (r == 0 && store_policy_horizon(&p) > h)
		h = store_policy_horizon(&p);
	if (h > ret)
		s->be->ops->set_retention(s->be, h);
	return 0;
}
