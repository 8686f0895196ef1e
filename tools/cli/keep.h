/*
 * keep.h: what the store's retention policy keeps of a snapshot list,
 * for `amber snapshots`, `amber policy` and `amber prune`.
 */
#ifndef KEEP_H
#define KEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/*
 * keep_eval(s, l, pol, has_pol, why):
 * Read the policy that counts into *${pol} (*${has_pol} 0 if there is
 * none: then every snapshot is kept) and fill the malloc'd *${why} with
 * store_policy_keep()'s answer for each snapshot of ${l}, in its order
 * (all ~0 without a policy).  Returns 0 or a negative errno.
 */
int keep_eval(struct store *s, const struct store_snap_list *l,
    struct store_policy *pol, int *has_pol, uint32_t **why);

/* Print the rules of ${why} as "last,daily" (or "-" for none). */
void keep_print(FILE *f, uint32_t why);

/* Print ${p}'s rules, one "keep-X N" per line, to ${f}. */
void keep_policy_print(FILE *f, const struct store_policy *p);

#endif
