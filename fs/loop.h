/*
 * loop.h: amberfs's session loop, in place of libfuse's, so that a burst
 * of requests from one process (a find, an ls -R, a diff -r) is served
 * without a scheduler wake-up per request.  loop.c says how.
 */
#ifndef LOOP_H
#define LOOP_H

#include <fuse_lowlevel.h>

/* The busy-poll default, in microseconds (loop.c says why). */
#define LOOP_BUSY_POLL_DEFAULT 200u
/* At most this many microseconds: a second of spinning helps nobody. */
#define LOOP_BUSY_POLL_MAX 100000u

/* Reads of at most this many bytes stay with the leader on a local store. */
#define LOOP_INLINE_READ_LOCAL 262144u

struct loop_opts {
	unsigned n_threads;	/* 1: serve in the calling thread alone */
	unsigned busy_poll_us;	/* 0: never spin, always sleep in poll() */
	unsigned inline_read;	/* reads of at most this many bytes are
				 * served by the leader, which keeps the
				 * lead; 0: every read passes it on */
};

/*
 * loop_run(se, lo): serve ${se} until it is unmounted or a signal ends
 * it (fuse_set_signal_handlers()).  Returns 0 on such an end, else a
 * negative errno (the device failed, or no thread could be started).
 */
int loop_run(struct fuse_session *se, const struct loop_opts *lo);

/*
 * loop_quiet(delta): +1 when work of the mount's own begins (push.c), -1
 * when it ends; while any runs, the leader sleeps in poll() instead of
 * spinning, so that the work has the CPUs.
 */
void loop_quiet(int delta);

#endif
