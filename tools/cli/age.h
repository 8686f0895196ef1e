/*
 * age.h: `amber snapshots STORE --max-age DURATION`, the check a
 * monitoring system runs: is the newest snapshot recent enough?
 */
#ifndef AGE_H
#define AGE_H

#include <stdint.h>

#include "store.h"

/*
 * age_parse(s, secs):
 * Parse a duration: one or more NUMBER UNIT pairs, UNIT one of s, m, h,
 * d, w ("26h", "1d2h", "90m").  Returns -EINVAL if malformed, zero, or
 * longer than 100 years.
 */
int age_parse(const char *s, int64_t *secs);

/*
 * age_check(cmd, l, max, now):
 * 0 if the newest snapshot of ${l} that is not dated in the future
 * ("latest") is at most ${max} seconds older than ${now}; else prints
 * one line naming it and its age (or saying there is none) on stderr and
 * returns 1 (CLI_EXIT_ERROR).
 */
int age_check(const char *cmd, const struct store_snap_list *l, int64_t max,
    int64_t now);

#endif
