/*
 * test_policy.c: store_policy_keep(), the pure rule of what a retention
 * policy keeps: keep-last, keep-within (from the newest trusted snapshot
 * of a key), hourly/daily/weekly/monthly/yearly buckets with the newest
 * snapshot of each, grouping by writer key so that a flood of one key
 * pushes out nothing of another's, and flagged snapshots that never
 * take a place.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "store.h"

#define DAY 86400
#define T0 1764201600	/* 2025-11-27T00:00:00Z, a Thursday */

static struct store_keep_in
snap(int64_t t, uint8_t writer, uint32_t flags)
{
	struct store_keep_in s;

	memset(&s, 0, sizeof(s));
	s.time = t;
	s.writer[0] = writer;
	s.flags = flags;
	return s;
}

static size_t
n_kept(const uint32_t *why, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += why[i] != 0;
	return k;
}

/* Ten days of one snapshot every 6 hours, keep-daily 3. */
static void
test_daily(void)
{
	struct store_keep_in v[40];
	uint32_t why[40];
	struct store_policy p = { .daily = 3 };
	size_t i;

	for (i = 0; i < 40; i++)
		v[i] = snap(T0 + (int64_t)i * 6 * 3600, 0, 0);
	CHECK(store_policy_keep(&p, v, 40, why) == 0);
	CHECK(n_kept(why, 40) == 3);
	/* the newest of each of the last three days: 39, 35, 31 */
	CHECK(why[39] == STORE_KEEP_DAILY);
	CHECK(why[35] == STORE_KEEP_DAILY);
	CHECK(why[31] == STORE_KEEP_DAILY);
	CHECK(why[38] == 0 && why[32] == 0 && why[30] == 0);
}

static void
test_last_within(void)
{
	struct store_keep_in v[10];
	uint32_t why[10];
	struct store_policy p = { .last = 2, .within = 3 * 3600 };
	size_t i;

	/* hourly snapshots, given in scrambled order */
	for (i = 0; i < 10; i++)
		v[i] = snap(T0 + (int64_t)((i * 7) % 10) * 3600, 0, 0);
	CHECK(store_policy_keep(&p, v, 10, why) == 0);
	for (i = 0; i < 10; i++) {
		int64_t h = (v[i].time - T0) / 3600;

		CHECK(((why[i] & STORE_KEEP_LAST) != 0) == (h >= 8));
		/* within 3 hours of the newest (hour 9): hours 6 to 9 */
		CHECK(((why[i] & STORE_KEEP_WITHIN) != 0) == (h >= 6));
	}
	CHECK(n_kept(why, 10) == 4);
}

static void
test_buckets(void)
{
	struct store_keep_in v[6];
	uint32_t why[6];
	struct store_policy p = {
	    .weekly = 2, .monthly = 2, .yearly = 2, .hourly = 1 };

	v[0] = snap(T0, 0, 0);			/* Thu 2025-11-27 */
	v[1] = snap(T0 + 3 * DAY, 0, 0);	/* Sun 2025-11-30 */
	v[2] = snap(T0 + 4 * DAY, 0, 0);	/* Mon 2025-12-01 */
	v[3] = snap(T0 + 4 * DAY + 60, 0, 0);	/* same hour */
	v[4] = snap(T0 - 400 * DAY, 0, 0);	/* 2024 */
	v[5] = snap(T0 - 401 * DAY, 0, 0);	/* 2024, older */
	CHECK(store_policy_keep(&p, v, 6, why) == 0);
	CHECK(why[3] == (STORE_KEEP_HOURLY | STORE_KEEP_WEEKLY |
	    STORE_KEEP_MONTHLY | STORE_KEEP_YEARLY));
	CHECK(why[2] == 0);		/* not the newest of its hour */
	CHECK(why[1] == (STORE_KEEP_WEEKLY | STORE_KEEP_MONTHLY));
	CHECK(why[0] == 0);		/* the week of v[1], month of v[1] */
	CHECK(why[4] == STORE_KEEP_YEARLY);
	CHECK(why[5] == 0);
}

/*
 * A flood: key 2 writes 1000 snapshots in the last hour; key 1's daily
 * history and the master's keep-last are untouched.
 */
static void
test_flood(void)
{
	size_t n = 1000 + 10 + 5;
	struct store_keep_in *v = calloc(n, sizeof(*v));
	uint32_t *why = calloc(n, sizeof(*why));
	struct store_policy p = { .last = 3, .daily = 7 };
	size_t i;

	CHECK(v != NULL && why != NULL);
	if (v == NULL || why == NULL)
		goto out;
	for (i = 0; i < 10; i++)
		v[i] = snap(T0 + (int64_t)i * DAY, 1, 0);
	for (i = 0; i < 5; i++)
		v[10 + i] = snap(T0 + (int64_t)i * DAY + 100, 0, 0);
	for (i = 0; i < 1000; i++)
		v[15 + i] = snap(T0 + 10 * DAY + (int64_t)i, 2, 0);
	CHECK(store_policy_keep(&p, v, n, why) == 0);
	/* key 1: the last 7 days (3..9), of which 7..9 also keep-last */
	for (i = 0; i < 10; i++)
		CHECK((why[i] != 0) == (i >= 3));
	/* the master: 5 snapshots on 5 days, all within keep-daily 7 */
	for (i = 0; i < 5; i++)
		CHECK(why[10 + i] != 0);
	/* the flood: one day, so 3 by keep-last, its day's newest is one */
	CHECK(n_kept(why + 15, 1000) == 3);
out:
	free(v);
	free(why);
}

/* Flagged snapshots take no place, but keep-within keeps them. */
static void
test_flagged(void)
{
	struct store_keep_in v[6];
	uint32_t why[6];
	struct store_policy p = { .last = 2 };

	v[0] = snap(T0, 1, 0);
	v[1] = snap(T0 + 10, 1, 0);
	v[2] = snap(T0 + 20, 1, STORE_SNAP_BEFORE_KEY);
	v[3] = snap(T0 + 30, 1, STORE_SNAP_REVOKED);
	v[4] = snap(T0 + 40 * DAY, 1, STORE_SNAP_FUTURE);
	v[5] = snap(T0 + 50, 1, STORE_SNAP_PARENTLESS);
	CHECK(store_policy_keep(&p, v, 6, why) == 0);
	CHECK(why[0] == STORE_KEEP_LAST && why[1] == STORE_KEEP_LAST);
	CHECK(why[2] == 0 && why[3] == 0 && why[4] == 0 && why[5] == 0);
	p.within = 60;
	CHECK(store_policy_keep(&p, v, 6, why) == 0);
	/* within 60 s before the newest trusted one (v[1]), never after */
	CHECK(why[2] == 0 && why[3] == 0);
	CHECK(why[0] == (STORE_KEEP_LAST | STORE_KEEP_WITHIN));
	CHECK(why[4] == 0);
	/* a group of flagged snapshots only: nothing kept */
	for (size_t i = 0; i < 6; i++)
		v[i].flags = STORE_SNAP_REVOKED;
	CHECK(store_policy_keep(&p, v, 6, why) == 0);
	CHECK(n_kept(why, 6) == 0);
	CHECK(store_policy_keep(&p, v, 0, why) == 0);
}

/*
 * store_policy_horizon(): with snapshots every 6 hours for 400 days, every
 * snapshot a policy keeps at the end is younger than its horizon: the
 * lock an ingest sets from it lasts as long as the snapshot is kept.
 */
static void
test_horizon(void)
{
	static struct store_keep_in v[1600];
	static uint32_t why[1600];
	struct store_policy p = { 0 };
	size_t n = 1600;
	uint64_t h;

	CHECK(store_policy_horizon(&p) == 0);
	p.within = 90;
	CHECK(store_policy_horizon(&p) == 90);
	p.daily = 7;
	CHECK(store_policy_horizon(&p) == 8 * DAY);
	p.monthly = 12;
	CHECK(store_policy_horizon(&p) == 13 * 31 * (uint64_t)DAY);
	p.yearly = 1000;
	CHECK(store_policy_horizon(&p) == STORE_RETENTION_MAX);
	p.yearly = 0;
	p.within = 2 * DAY;
	p.weekly = 4;
	p.monthly = 3;
	h = store_policy_horizon(&p);
	for (size_t i = 0; i < n; i++)
		v[i] = snap(T0 + (int64_t)i * 6 * 3600, 1, 0);
	CHECK(store_policy_keep(&p, v, n, why) == 0);
	CHECK(n_kept(why, n) > 10);
	for (size_t i = 0; i < n; i++)
		if (why[i] != 0)
			CHECK((uint64_t)(v[n - 1].time - v[i].time) <= h);
}

int
main(void)
{
	test_horizon();
	test_daily();
	test_last_within();
	test_buckets();
	test_flood();
	test_flagged();
	return check_done("test_policy");
}
