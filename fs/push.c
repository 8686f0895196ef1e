/*
 * push.c: when a small file of a snapshot is read whole, the small files
 * after it in its directory are decoded on threads of their own and
 * stored in the kernel's page cache (FUSE_NOTIFY_STORE), so that the
 * reader finds them there and sends no request for them.
 *
 * Why: a diff -r or a cp -r of a tree of small files is one READ per
 * file, each sent only once the one before is answered; on a fresh mount
 * with the store in the page cache that round trip, not the decoding,
 * was the cost (issue 19, "first touch": 200,000 requests for the
 * benchmark's two snapshots).  Pushing turns most of them into page
 * cache hits, and puts the decoding on a CPU the reader is not using;
 * while a push runs the session loop does not spin (loop_quiet()), or
 * it would take that CPU.  Measured on those snapshots, first diff -r
 * on a fresh mount: 150,000 READs before, 50,000 with pushing; 20.6 to
 * 24.4 s before, 11.7 to 13.0 s with it (plain trees: 2.7 to 3.2 s).
 *
 * Bounds: only after a whole-file read (a listing or a find pushes
 * nothing); files of at most PUSH_FILE_MAX bytes; per directory at most
 * PUSH_DIR_FILES files and PUSH_DIR_BYTES bytes; a queue of QUEUE_CAP
 * hints, dropped when full; a directory pushed lately is not pushed
 * again.  The bytes are read with store_read(), so what is pushed is
 * exactly what a READ would have returned, identity checked; a file that
 * fails is skipped (its own READ then reports the damage).  The kernel
 * ignores a push for a node it does not hold.  Local stores only
 * (main.c): from S3 a push would be a GET per file nobody may read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "inode.h"
#include "loop.h"
#include "push.h"

#define N_THREADS 2	/* diff -r reads two directories in step */
#define QUEUE_CAP 8
#define RECENT 16

struct pusher {
	struct fs *fs;
	struct fuse_session *se;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	pthread_t threads[N_THREADS];
	int n_started;
	int is_stopping;
	fuse_ino_t queue[QUEUE_CAP];
	size_t n_queued;
	uint64_t recent[RECENT];	/* directories pushed: a ring; 0 */
	size_t recent_next;
};

/* One directory's push, by one thread. */
struct job {
	struct pusher *p;
	int is_started;		/* its directory checked and noted */
	uint8_t *buf;		/* PUSH_FILE_MAX bytes */
	size_t n_files;
	uint64_t n_bytes;
};

int
push_new(struct fs *fs, struct fuse_session *se)
{
	struct pusher *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->fs = fs;
	p->se = se;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cv, NULL);
	fs->push = p;
	return 0;
}

/*
 * Note directory ${dir} (fs_siblings()'s key, never 0) as pushed, unless
 * it was lately (or is being pushed now): then 0.
 */
static int
note_dir(struct pusher *p, uint64_t dir)
{
	int r = 1;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < RECENT && r; i++)
		if (p->recent[i] == dir)
			r = 0;
	if (r) {
		p->recent[p->recent_next] = dir;
		p->recent_next = (p->recent_next + 1) % RECENT;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

static int
push_one(void *ctx, uint64_t dir, fuse_ino_t ino, const struct store_entry *e)
{
	struct job *j = ctx;
	struct pusher *p = j->p;
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(0);
	size_t got = 0;
	int is_stopping;

	pthread_mutex_lock(&p->lock);
	is_stopping = p->is_stopping;
	pthread_mutex_unlock(&p->lock);
	if (is_stopping || j->n_files >= PUSH_DIR_FILES ||
	    j->n_bytes >= PUSH_DIR_BYTES)
		return 1;
	if (!j->is_started) {
		if (!note_dir(p, dir))
			return 1;
		j->is_started = 1;
	}
	if (e->size == 0 || e->size > PUSH_FILE_MAX)
		return 0;
	if (store_read(p->fs->s, e, 0, j->buf, (size_t)e->size, &got) < 0 ||
	    got != e->size)
		return 0;
	bv.buf[0].mem = j->buf;
	bv.buf[0].size = got;
	(void)fuse_lowlevel_notify_store(p->se, ino, 0, &bv, 0);
	j->n_files++;
	j->n_bytes += got;
	return 0;
}

static void *
push_main(void *arg)
{
	struct pusher *p = arg;
	struct job j = { .p = p };
	fuse_ino_t ino;

	if ((j.buf = malloc(PUSH_FILE_MAX)) == NULL)
		return NULL;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->n_queued == 0 && !p->is_stopping)
			pthread_cond_wait(&p->cv, &p->lock);
		if (p->is_stopping)
			break;
		ino = p->queue[--p->n_queued];
		j.is_started = 0;
		j.n_files = 0;
		j.n_bytes = 0;
		pthread_mutex_unlock(&p->lock);
		loop_quiet(1);
		(void)fs_siblings(p->fs, ino, push_one, &j);
		loop_quiet(-1);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	free(j.buf);
	return NULL;
}

void
push_hint(struct fs *fs, fuse_ino_t ino, off_t off, size_t got, size_t size)
{
	struct pusher *p = fs->push;

	/* Whole: from the start, and short of what was asked. */
	if (p == NULL || off != 0 || got >= size || got > PUSH_FILE_MAX)
		return;
	pthread_mutex_lock(&p->lock);
	/* Started here, not at push_new(): no thread before the fork. */
	while (p->n_started < N_THREADS && !p->is_stopping &&
	    pthread_create(&p->threads[p->n_started], NULL, push_main,
	    p) == 0)
		p->n_started++;
	if (!p->is_stopping && p->n_queued < QUEUE_CAP) {
		p->queue[p->n_queued++] = ino;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->lock);
}

void
push_free(struct fs *fs)
{
	struct pusher *p = fs->push;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->is_stopping = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_started; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->lock);
	free(p);
	fs->push = NULL;
}
