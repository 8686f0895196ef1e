/*
 * fixture.h: what the unit tests of the store and of the mount share: a
 * log sink, a scratch directory made and removed, a store created and
 * opened, a snapshot committed, a seeded generator, a count of a /proc directory's entries,
 * and a forged manifest.  Linked into every unit
 * test program (fixture.c); no test of its own.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A store_log_set() sink: silent unless AMBER_TEST_VERBOSE is set. */
void fixture_quiet(int level, const char *msg);

/*
 * fixture_tmp(top, cap, name): make /tmp/amber-test-${name}.XXXXXX into
 * ${top}.  Returns 0, or -1 (said on stderr).
 */
int fixture_tmp(char *top, size_t cap, const char *name);

/* fixture_rm(top, prog): remove ${top}, read-only objects included. */
void fixture_rm(const char *top, const char *prog);

/*
 * fixture_open(dir, o, pass, s): open the store at ${dir} with ${o} and
 * unlock it with ${pass}.  Returns 0, or -errno with *${s} NULL.
 */
int fixture_open(const char *dir, const struct store_opts *o,
    const char *pass, struct store **s);

/*
 * fixture_create_open(dir, idx, pass, s): create a store at ${dir} (a
 * cheap KDF), then open and unlock it with its index in ${idx}.
 */
int fixture_create_open(const char *dir, const char *idx, const char *pass,
    struct store **s);

/*
 * fixture_commit(w, t, host, src, n, id): commit ${w} as a snapshot of
 * time ${t} by ${host} with the ${n} sources ${src}.  Sets ${id}.
 * Returns 0 or -errno (store_writer_commit()).
 */
int fixture_commit(struct store_writer *w, int64_t t, const char *host,
    const struct store_source *src, size_t n, uint8_t id[32]);

/*
 * fixture_commit_empty(w, t, id): fixture_commit() of one source, "data",
 * an empty directory (the chunks ${w} holds stay unreferenced).
 */
int fixture_commit_empty(struct store_writer *w, int64_t t, uint8_t id[32]);

/* A seeded generator (splitmix64): the next value, and ${n} bytes. */
uint64_t fixture_rng(uint64_t *state);
void fixture_rnd(uint64_t *state, uint8_t *p, size_t n);

/* The entries of directory ${dir} but . and .. (e.g. /proc/self/fd). */
int fixture_count(const char *dir);

/*
 * fixture_put_manifest(s, like, t, parents, n_parents, id):
 * Put a manifest of time ${t} with ${parents} and the content of
 * ${like}, made with the store's keys as a writer would, straight to the
 * backend (no index): a forger's or another machine's snapshot.  Sets
 * ${id}.  Returns 0 or -errno.
 */
int fixture_put_manifest(struct store *s, const struct store_snap *like,
    int64_t t, const uint8_t (*parents)[32], size_t n_parents,
    uint8_t id[32]);

#endif
