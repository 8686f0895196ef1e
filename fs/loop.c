/*
 * loop.c: amberfs's session loop.
 *
 * Why not libfuse's: a find over a snapshot is some ten thousand
 * requests in a row, each sent only once the previous one is answered.
 * With libfuse's loop every request wakes a daemon thread that slept in
 * read(), and every reply wakes the requester; on a virtual machine the
 * two wake-ups across CPUs cost far more than the work (measured on the
 * benchmark's linux-source snapshot, page cache warm: find took 1.4 to
 * 3.4 s with libfuse's loop and 0.75 to 0.98 s with find and the daemon
 * pinned to one CPU).  So the thread that holds the device polls it for
 * a little while (busy_poll, 200 us by default) before it sleeps, and
 * the next request of a burst is read at once (same measurement: 0.86 to
 * 1.29 s).  An idle mount still sleeps: the spinning follows a request.
 *
 * Threads (leader and followers): one thread at a time, the leader,
 * reads the device; the others wait for the lead on a semaphore.  The
 * leader answers metadata requests (lookups, listings, attributes)
 * itself and keeps the lead, since the next request of a burst needs the
 * answer to this one.  Before a read, which may wait for the disk or
 * the network and comes in parallel from the kernel's read-ahead, it
 * passes the lead to a follower, so that reads are served side by side,
 * and while reads are being served nobody spins: the CPUs are theirs
 * (measured, a 256 MiB cat on a fresh mount with the store in the page
 * cache: 1,106 to 1,287 MB/s, against 736 to 1,145 MB/s with spinning).
 * A small read (inline_read, 256 KiB on a local store: a small file
 * whole, or the first read of a large one) is served by the leader like
 * a lookup.  Handing the lead on costs a follower's wake-up, and the next
 * request then finds that follower asleep in poll(): two wake-ups per
 * file for a diff -r over a tree of small files.  Measured on the
 * benchmark's two snapshots, store in the page cache, the first diff -r
 * on a fresh mount took 24.9 to 27.4 s with every read handed on, 17.9
 * and 21.0 s with reads up to 32 KiB kept, 16.2 to 17.9 s up to 256 KiB
 * (diff -r of the plain trees, warm: 2.2 to 2.9 s).
 *
 * Ending: a worker that reads the unmount (libfuse then marks the
 * session exited) or fails on the device wakes the calling thread, which
 * also wakes for the signals that end the session.  It then makes the
 * stop descriptor readable, which ends the leader's poll(), and hands
 * the lead round, so that each worker sees the end and returns; a request
 * being served is finished first.  (Not pthread_cancel(), as libfuse
 * does: unwinding our frames on cancellation leaves AddressSanitizer's
 * view of the stack poisoned.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "msg.h"

/*
 * The kernel's request header starts { uint32 len; uint32 opcode; ...}
 * and FUSE_READ is opcode 15 (linux/fuse.h, a stable ABI).  Not
 * included: its names clash with libfuse's own copies.
 */
#define HDR_OPCODE_OFF 4
#define OPCODE_READ 15u
/* fuse_read_in { uint64 fh; uint64 offset; uint32 size; ...} follows the
 * 40-byte header. */
#define READ_SIZE_OFF (40 + 16)

struct loop {
	struct fuse_session *se;
	int fd;
	int stop_fd;		/* an eventfd, readable once the loop ends */
	unsigned busy_poll_us;
	int is_handoff;		/* pass the lead on before a read */
	unsigned inline_read;	/* ... unless it asks this much or less */
	atomic_int n_reads;	/* reads being served after a handoff */
	sem_t lead;		/* 1 while no thread holds the device */
	sem_t finish;		/* a worker saw the end */
	int error;		/* the device's errno, 0 if none */
	pthread_mutex_t error_lock;
};

struct worker {
	struct loop *l;
	pthread_t thread;
	struct fuse_buf buf;
	int is_started;
};

/* Work of the mount's own under way (push.c): no spinning meanwhile. */
static atomic_int n_quiet;

void
loop_quiet(int delta)
{
	atomic_fetch_add(&n_quiet, delta);
}

static long
us_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000;
}

/* Wait for the device to have a request, or for the end. */
static void
wait_readable(const struct loop *l)
{
	struct pollfd pf[2] = {
		{ .fd = l->fd, .events = POLLIN },
		{ .fd = l->stop_fd, .events = POLLIN },
	};

	(void)poll(pf, 2, -1);
}

/*
 * Read the next request into ${buf}: polling the device (non-blocking)
 * for busy_poll_us, then sleeping in poll() until it is readable.
 * Returns its size, 0 once the session has ended, or a negative errno.
 */
static int
receive(struct loop *l, struct fuse_buf *buf)
{
	struct timespec t0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (fuse_session_exited(l->se))
			return 0;
		r = fuse_session_receive_buf(l->se, buf);
		if (fuse_session_exited(l->se))
			return 0;
		if (r != -EAGAIN && r != -EINTR)
			return r;
		/* No spinning while reads are served or files pushed
		 * (loop_quiet()): they want the CPUs. */
		if (r == -EAGAIN && (atomic_load(&l->n_reads) > 0 ||
		    atomic_load(&n_quiet) > 0 ||
		    us_since(&t0) >= (long)l->busy_poll_us)) {
			wait_readable(l);
			clock_gettime(CLOCK_MONOTONIC, &t0);
		}
	}
}

/* Whether the request in ${buf} is a read to serve with the lead passed on. */
static int
is_handoff_read(const struct loop *l, const struct fuse_buf *buf)
{
	uint32_t op;
	uint32_t size;

	if (buf->size < HDR_OPCODE_OFF + sizeof(op) || buf->mem == NULL)
		return 0;
	memcpy(&op, (const char *)buf->mem + HDR_OPCODE_OFF, sizeof(op));
	if (op != OPCODE_READ)
		return 0;
	if (l->inline_read == 0 || buf->size < READ_SIZE_OFF + sizeof(size))
		return 1;
	memcpy(&size, (const char *)buf->mem + READ_SIZE_OFF, sizeof(size));
	return size > l->inline_read;
}

static void
take_lead(struct loop *l)
{
	while (sem_wait(&l->lead) < 0 && errno == EINTR)
		;
}

/* Serve until the session ends; the lead is taken on entry. */
static void
serve(struct worker *w)
{
	struct loop *l = w->l;
	int r;

	for (;;) {
		if ((r = receive(l, &w->buf)) <= 0)
			break;
		if (l->is_handoff && is_handoff_read(l, &w->buf)) {
			atomic_fetch_add(&l->n_reads, 1);
			sem_post(&l->lead);
			fuse_session_process_buf(l->se, &w->buf);
			atomic_fetch_sub(&l->n_reads, 1);
			take_lead(l);
		} else {
			fuse_session_process_buf(l->se, &w->buf);
		}
	}
	if (r < 0) {
		pthread_mutex_lock(&l->error_lock);
		if (l->error == 0) {
			l->error = -r;
			msg_log(LOG_ERR, "reading /dev/fuse: %s", strerror(-r));
		}
		pthread_mutex_unlock(&l->error_lock);
		fuse_session_exit(l->se);
	}
	/* Let the next waiter see the end too, and wake the caller. */
	sem_post(&l->lead);
	sem_post(&l->finish);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	take_lead(w->l);
	serve(w);
	return NULL;
}

int
loop_run(struct fuse_session *se, const struct loop_opts *lo)
{
	struct loop l;
	struct worker *w = NULL;
	sigset_t block;
	sigset_t old;
	unsigned n = lo->n_threads > 0 ? lo->n_threads : 1;
	int flags;
	int r = 0;

	memset(&l, 0, sizeof(l));
	l.se = se;
	l.fd = fuse_session_fd(se);
	l.busy_poll_us = lo->busy_poll_us;
	l.is_handoff = n > 1;
	l.inline_read = lo->inline_read;
	if ((flags = fcntl(l.fd, F_GETFL)) < 0 ||
	    fcntl(l.fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	if ((l.stop_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		return -errno;
	if (sem_init(&l.lead, 0, 1) < 0 || sem_init(&l.finish, 0, 0) < 0) {
		close(l.stop_fd);
		return -errno;
	}
	pthread_mutex_init(&l.error_lock, NULL);

	if (n == 1) {
		struct worker one = { .l = &l };

		take_lead(&l);
		serve(&one);
		free(one.buf.mem);
		goto out;
	}

	if ((w = calloc(n, sizeof(*w))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* The ending signals go to this thread, never to a worker that
	 * would go back to waiting for the lead. */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (unsigned i = 0; i < n; i++) {
		w[i].l = &l;
		if ((r = pthread_create(&w[i].thread, NULL, worker_main,
		    &w[i])) != 0) {
			msg_log(LOG_ERR, "cannot start a thread: %s",
			    strerror(r));
			r = -r;
			fuse_session_exit(se);
			break;
		}
		w[i].is_started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Signals interrupt the wait; the handlers mark the session.  The
	 * timeout covers a signal that comes between the test and the
	 * wait. */
	while (!fuse_session_exited(se)) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		(void)sem_timedwait(&l.finish, &until);
	}
	{
		uint64_t one = 1;

		if (write(l.stop_fd, &one, sizeof(one)) != sizeof(one))
			msg_log(LOG_WARNING, "eventfd: %s", strerror(errno));
	}
	for (unsigned i = 0; i < n; i++)
		sem_post(&l.lead);
	for (unsigned i = 0; i < n; i++) {
		if (w[i].is_started)
			pthread_join(w[i].thread, NULL);
		free(w[i].buf.mem);
	}
	free(w);
out:
	if (r == 0 && l.error != 0)
		r = -l.error;
	pthread_mutex_destroy(&l.error_lock);
	close(l.stop_fd);
	sem_destroy(&l.finish);
	sem_destroy(&l.lead);
	fuse_session_reset(se);
	return r;
}
