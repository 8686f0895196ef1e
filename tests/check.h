/*
 * check.h: the whole unit-test "framework".  CHECK(expr) prints
 * file:line: expr on failure and counts it; check_done() prints the count
 * and gives the exit status (0: every check passed).
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int check_n_failed;
static int check_n_run;

#define CHECK(expr)                                                       \
	do {                                                              \
		check_n_run++;                                            \
		if (!(expr)) {                                            \
			check_n_failed++;                                 \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",      \
			    __FILE__, __LINE__, #expr);                   \
		}                                                         \
	} while (0)

static inline int
check_done(const char *name)
{
	fprintf(stderr, "%s: %d checks, %d failed\n", name, check_n_run,
	    check_n_failed);
	return check_n_failed ? 1 : 0;
}

#endif
