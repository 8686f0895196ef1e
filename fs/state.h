/*
 * state.h: struct fs, the state of one mount, apart from fs.h so that
 * the files fs.c calls (vnode.c) can read it without including fs.c's
 * interface back.
 */
#ifndef STATE_H
#define STATE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

struct pusher;
struct share;
struct snaps;
struct tcache;

#define FS_BUF_SIZE (1024 * 1024)	/* pooled read buffers */
#define FS_N_BUFS 4
/* What the first listing in a snapshot reads ahead: index, tree packs. */
#define FS_READAHEAD_MAX (256ull << 20)

struct fs {
	struct store *s;	/* borrowed; unlocked */
	struct snaps *snaps;
	struct tcache *tc;
	uid_t uid;		/* owner of the virtual top-level nodes */
	gid_t gid;
	double ttl_long;	/* inside snapshots: nothing ever changes */
	double ttl_short;	/* the top level and latest */
	int64_t t_mount;	/* mtime of an empty top level */
	int no_opendir;		/* the kernel skips opendir (op_init) */
	int no_open;		/* the kernel skips open (op_init) */
	size_t read_ahead;	/* bytes; asked of the kernel at init */
	struct pusher *push;	/* push.h; NULL: no pushing */
	struct share *share;	/* share.h; NULL: every id positional */
	/* The tree read-ahead's thread, started by the first listing. */
	pthread_mutex_t ra_lock;	/* guards the ra_ fields below */
	pthread_cond_t ra_cond;
	pthread_t ra_thread;
	int is_ra_started;
	int is_ra_wanted;
	int is_ra_stopping;
	pthread_mutex_t buf_lock;	/* guards the buffer pool */
	uint8_t *bufs[FS_N_BUFS];	/* free read buffers, FS_BUF_SIZE */
	size_t n_bufs;
};

#endif
