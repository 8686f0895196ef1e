/*
 * main.c: amberfs, the read-only FUSE mount of an amber store.
 *
 *     amberfs STORE MOUNTPOINT [-f] [-d] [-s] [-o OPTIONS]
 *
 * Start-up order matters.  Options are parsed and checked (libfuse's
 * too), then the passphrase read, in the process the user started.
 * Unless -f, it then forks at once: the child opens and unlocks the
 * store, loads the snapshot list and mounts, and reports success through
 * a pipe, while every error goes to the stderr the two share; the parent
 * waits for that byte (or the child's exit) and exits with the status.  So errors are reported before the
 * process is in the background, yet no LMDB environment, curl handle or
 * thread ever crosses a fork.  Once detached, messages go to syslog.
 *
 * Exit status: 0 mounted (and later unmounted cleanly), 1 error, 2 usage,
 * 4 wrong passphrase: the exit statuses of amber(1) (amberfs(1), EXIT
 * STATUS).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "fs.h"
#include "loop.h"
#include "push.h"
#include "msg.h"
#include "ops.h"
#include "pass.h"
#include "share.h"
#include "store.h"

#define FS_DEFAULT_CACHE ((size_t)16 << 20)
#define EXIT_USAGE 2
#define EXIT_KEY 4
#define RESCAN_SECONDS 60
#define TREE_CACHE_ENTRIES (32u * 1024)
/* The kernel's largest FUSE read request (libfuse asks for 256 pages). */
#define READ_AHEAD_DEFAULT (1024u * 1024)
/* Worker threads unless -o max_threads= says (libfuse's default too). */
#define THREADS_DEFAULT 10u

struct opts {
	char *store;
	char *mountpoint;	/* as given */
	int n_extra;		/* arguments past the mount point */
	char *passphrase_file;
	char *index;
	char *key_id;
	char *cache_size;
	char *read_ahead;
	char *busy_poll;
	char *share_files;
	char *s3_endpoint;
	char *credentials_file;
	int is_s3_virtual_host;
	int is_insecure_http;
	int is_exec;		/* -o exec: allow running stored programs */
	int ready_fd;
	int is_allow_other;
};

enum {
	KEY_ALLOW_OTHER,
	KEY_RW,
};

#define OPT(t, m) { t, offsetof(struct opts, m), 1 }
static const struct fuse_opt opt_spec[] = {
	OPT("passphrase_file=%s", passphrase_file),
	OPT("index=%s", index),
	OPT("key_id=%s", key_id),
	OPT("cache_size=%s", cache_size),
	OPT("read_ahead=%s", read_ahead),
	OPT("busy_poll=%s", busy_poll),
	OPT("share_files=%s", share_files),
	OPT("s3_endpoint=%s", s3_endpoint),
	OPT("credentials_file=%s", credentials_file),
	OPT("s3_virtual_host", is_s3_virtual_host),
	OPT("insecure_http", is_insecure_http),
	OPT("exec", is_exec),
	OPT("ready_fd=%d", ready_fd),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("rw", KEY_RW),
	FUSE_OPT_END
};

/* The periodic and SIGHUP-driven rescans. */
struct rescanner {
	struct fs *fs;
	sem_t wake;
	volatile sig_atomic_t is_stopping;
	pthread_t thread;
	int is_running;
};

/* The SIGHUP handler's only way to its semaphore (set before install). */
static sem_t *hup_sem;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: amberfs STORE MOUNTPOINT [-f] [-d] [-s] [-o option[,...]]\n"
"\n"
"Mount the history of the amber store STORE read-only on MOUNTPOINT.\n"
"\n"
"amberfs options:\n"
"    -o passphrase_file=FILE  read the passphrase from FILE\n"
"    -o index=DIR             LMDB index directory\n"
"    -o key_id=HEX            unlock with that key object only\n"
"    -o cache_size=BYTES      decrypted-chunk cache (suffixes K, M, G)\n"
"    -o read_ahead=BYTES      the mount's read-ahead (default 1M; set\n"
"                             where the user may, e.g. as root)\n"
"    -o busy_poll=USEC        after a request, poll for the next one this\n"
"                             long before sleeping (default 200; 0 with\n"
"                             one CPU)\n"
"    -o share_files=N         files that may share one inode across\n"
"                             snapshots (default and at most 1048576,\n"
"                             about 40 bytes each; 0: none)\n"
"    -o max_threads=N         threads serving requests (default 10)\n"
"    -o s3_endpoint=URL       S3 endpoint\n"
"    -o credentials_file=FILE S3 credentials\n"
"    -o s3_virtual_host       virtual-host-style S3 addressing\n"
"    -o insecure_http         allow an http:// S3 endpoint off loopback\n"
"    -o ready_fd=N            write one byte to fd N once mounted\n"
"    -o exec                  allow running programs stored in a snapshot\n"
"                             (default: the mount is noexec)\n"
"    -o allow_other           let other users in (implies\n"
"                             default_permissions)\n"
"    -f                       stay in the foreground\n"
"    -d                       debug output (implies -f)\n"
"    -s                       single-threaded\n"
"\n"
"Passphrase: -o passphrase_file, else $AMBER_PASSPHRASE_FILE, else\n"
"$AMBER_PASSPHRASE, else a prompt on the terminal.\n");
}

static int
opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct opts *o = data;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		/* Both positionals are ours, so that a bad mount point is
		 * an error (exit 1) rather than a usage error. */
		if (o->store == NULL)
			return (o->store = strdup(arg)) == NULL ? -1 : 0;
		if (o->mountpoint == NULL)
			return (o->mountpoint = strdup(arg)) == NULL ? -1 : 0;
		o->n_extra++;
		return 0;
	case KEY_ALLOW_OTHER:
		o->is_allow_other = 1;
		return 1;
	case KEY_RW:
		/* Read-only whatever fstab says. */
		return 0;
	default:
		return 1;
	}
}

/* A decimal count from 0 to ${max}; -EINVAL otherwise (a sign too). */
static int
parse_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "64M" -> bytes; -EINVAL if malformed. */
static int
parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end != '\0' && end[1] != '\0')
		return -EINVAL;
	if (v > (SIZE_MAX >> shift))
		return -EINVAL;
	*out = (size_t)v << shift;
	return 0;
}

/*
 * The mount's device number ("MAJ:MIN") from /proc/self/mountinfo: the
 * newest mount on ${path} (an absolute path without symlinks).  Asking
 * the mount itself (stat) would wait on this very process.
 */
static int
mount_devno(const char *path, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t n = 0;
	int r = -ENOENT;

	if (f == NULL)
		return -errno;
	while (getline(&line, &n, f) > 0) {
		char dev[32];
		char mnt[PATH_MAX];
		char *p;
		char *q;

		if (sscanf(line, "%*s %*s %31s %*s %4095s", dev, mnt) != 2)
			continue;
		/* Undo the octal escapes of spaces, tabs, newlines and
		 * backslashes. */
		for (p = q = mnt; *p != '\0'; q++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' &&
			    p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
			    p[3] <= '7') {
				*q = (char)((p[1] - '0') << 6 |
				    (p[2] - '0') << 3 | (p[3] - '0'));
				p += 4;
			} else {
				*q = *p++;
			}
		}
		*q = '\0';
		if (strcmp(mnt, path) == 0 && strlen(dev) < cap) {
			strcpy(out, dev);
			r = 0;	/* keep looking: the last one is the newest */
		}
	}
	free(line);
	fclose(f);
	return r;
}

/*
 * set_read_ahead(mountpoint, bytes): set the read-ahead of the mount's
 * backing device.  The kernel caps a FUSE mount's read-ahead at its own
 * default (128 KiB) whatever the file system asks for; only the bdi's
 * read_ahead_kb raises it, and only a user who may write it (root).
 * Failing is not an error: reads work, just in smaller requests.
 */
static void
set_read_ahead(const char *mountpoint, size_t bytes)
{
	char path[PATH_MAX];
	char sys[96];
	char dev[32];
	int fd;
	int n;
	int r;

	if (realpath(mountpoint, path) == NULL ||
	    (r = mount_devno(path, dev, sizeof(dev))) < 0) {
		msg_log(LOG_DEBUG, "read_ahead: mount of %s not found",
		    mountpoint);
		return;
	}
	snprintf(sys, sizeof(sys), "/sys/class/bdi/%s/read_ahead_kb", dev);
	if ((fd = open(sys, O_WRONLY | O_CLOEXEC)) < 0) {
		msg_log(errno == EACCES || errno == EPERM ? LOG_DEBUG :
		    LOG_WARNING, "read_ahead: %s: %s", sys, strerror(errno));
		return;
	}
	n = dprintf(fd, "%zu\n", bytes / 1024);
	if (n < 0)
		msg_log(LOG_WARNING, "read_ahead: %s: %s", sys,
		    strerror(errno));
	close(fd);
}

/*
 * The passphrase, read as amber reads it (pass.h), or one line saying
 * why there is none.
 */
static int
get_pass(const struct opts *o, char **pass, size_t *len)
{
	char prompt[4200];
	const char *from = "";
	int r;

	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", o->store);
	r = pass_get(o->passphrase_file, "AMBER_PASSPHRASE", prompt, pass, len,
	    &from);
	if (r == -ENXIO)
		return msg_err(r, "no passphrase: use -o passphrase_file, "
		    "AMBER_PASSPHRASE_FILE or AMBER_PASSPHRASE (no terminal "
		    "to ask on)");
	if (r == -EINVAL)
		return msg_err(r, "%s: empty passphrase, or one holding a NUL "
		    "byte", from);
	if (r == -EFBIG)
		return msg_err(r, "%s: passphrase too long (more than %d "
		    "bytes)", from, PASS_MAX);
	if (r < 0)
		return msg_err(r, "cannot read the passphrase from %s: %s",
		    from, strerror(-r));
	return 0;
}

/*
 * absolutize(path): replace the relative local path *${path} by its
 * absolute form, if it exists (else store_open() will say so).  URLs such
 * as s3://... and NULL are left alone.  Returns -ENOMEM.
 */
static int
absolutize(char **path)
{
	char *abs;

	if (*path == NULL || (*path)[0] == '/' || strstr(*path, "://"))
		return 0;
	if ((abs = realpath(*path, NULL)) == NULL)
		return errno == ENOMEM ? -ENOMEM : 0;
	free(*path);
	*path = abs;
	return 0;
}

/* -o fsname=STORE, with the commas and backslashes of STORE escaped. */
static int
add_fsname(struct fuse_args *args, const char *store)
{
	size_t n = strlen(store);
	char *opt;
	char *p;
	size_t i;
	int r;

	if ((opt = malloc(2 * n + sizeof("-ofsname="))) == NULL)
		return -1;
	p = opt + sprintf(opt, "-ofsname=");
	for (i = 0; i < n; i++) {
		if (store[i] == ',' || store[i] == '\\')
			*p++ = '\\';
		*p++ = store[i];
	}
	*p = '\0';
	r = fuse_opt_add_arg(args, opt);
	free(opt);
	return r;
}

static void
on_hup(int sig)
{
	(void)sig;
	if (hup_sem != NULL)
		sem_post(hup_sem);
}

static void *
rescan_main(void *arg)
{
	struct rescanner *rs = arg;

	while (!rs->is_stopping) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += RESCAN_SECONDS;
		if (sem_timedwait(&rs->wake, &t) < 0 && errno == EINTR)
			continue;
		if (rs->is_stopping)
			break;
		fs_rescan(rs->fs);
	}
	return NULL;
}

static int
rescanner_start(struct rescanner *rs, struct fs *fs)
{
	struct sigaction sa;
	sigset_t block;
	sigset_t old;
	int r;

	rs->fs = fs;
	rs->is_stopping = 0;
	if (sem_init(&rs->wake, 0, 0) < 0)
		return -errno;
	hup_sem = &rs->wake;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	/* The thread must not take the signals that stop the session loop:
	 * libfuse counts on the main thread being interrupted. */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = pthread_create(&rs->thread, NULL, rescan_main, rs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	rs->is_running = 1;
	return 0;
}

static void
rescanner_stop(struct rescanner *rs)
{
	if (!rs->is_running)
		return;
	rs->is_stopping = 1;
	sem_post(&rs->wake);
	pthread_join(rs->thread, NULL);
	signal(SIGHUP, SIG_IGN);
	hup_sem = NULL;
	sem_destroy(&rs->wake);
	rs->is_running = 0;
}

static long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)((b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000);
}

/* Detach after a successful mount: tell the parent, leave the terminal. */
static void
detach(int status_fd)
{
	int fd;

	if (status_fd < 0)
		return;
	msg_use_syslog();
	if (write(status_fd, "", 1) != 1)
		msg_log(LOG_WARNING, "cannot report to the parent process");
	close(status_fd);
	if (chdir("/") < 0)
		msg_log(LOG_WARNING, "chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/*
 * serve(o, co, args, pass, len, status_fd): open, unlock, mount, and run
 * the session until unmounted.  ${status_fd} >= 0 in a daemon child.
 * Returns the exit status.
 */
/* What the options say, checked before anything else is done. */
struct settings {
	size_t cache_size;
	size_t read_ahead;
	unsigned busy_poll_us;
	uint32_t share_files;
};

/*
 * check_opts(o, args, set): check every option, amber's and libfuse's,
 * so that a mistyped one is reported (exit 2) before the passphrase is
 * asked for.  libfuse checks its own when a session is made, so one is
 * made here from a copy of ${args}, and dropped.  Returns 0, or the exit
 * status (the reason logged, by libfuse for its own options).
 */
static int
check_opts(const struct opts *o, const struct fuse_args *args,
    struct settings *set)
{
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	unsigned long v;
	int is_ok;

	/*
	 * 16 MiB holds the chunks of several sequential readers, and keeps
	 * the daemon's anonymous memory under 64 MiB (measured: 56 MiB after
	 * a cold find and a 256 MiB read of the linux-source store; 91 MiB
	 * with the library's default of 32 MiB).
	 */
	set->cache_size = FS_DEFAULT_CACHE;
	if (o->cache_size != NULL && parse_size(o->cache_size,
	    &set->cache_size) < 0) {
		msg_log(LOG_ERR, "bad cache_size: %s", o->cache_size);
		return EXIT_USAGE;
	}
	set->read_ahead = READ_AHEAD_DEFAULT;
	if (o->read_ahead != NULL && (parse_size(o->read_ahead,
	    &set->read_ahead) < 0 || set->read_ahead > (size_t)1 << 30)) {
		msg_log(LOG_ERR, "bad read_ahead: %s (at most 1G)",
		    o->read_ahead);
		return EXIT_USAGE;
	}
	/* With one CPU the spinning would keep the requester off it. */
	set->busy_poll_us = sysconf(_SC_NPROCESSORS_ONLN) > 1 ?
	    LOOP_BUSY_POLL_DEFAULT : 0;
	if (o->busy_poll != NULL) {
		if (parse_count(o->busy_poll, LOOP_BUSY_POLL_MAX, &v) < 0) {
			msg_log(LOG_ERR, "bad busy_poll: %s (microseconds, at "
			    "most %u)", o->busy_poll, LOOP_BUSY_POLL_MAX);
			return EXIT_USAGE;
		}
		set->busy_poll_us = (unsigned)v;
	}
	set->share_files = SHARE_FILES;
	if (o->share_files != NULL) {
		if (parse_count(o->share_files, SHARE_FILES, &v) < 0) {
			msg_log(LOG_ERR, "bad share_files: %s (a count of "
			    "files, at most %" PRIu32 ")", o->share_files,
			    SHARE_FILES);
			return EXIT_USAGE;
		}
		set->share_files = (uint32_t)v;
	}
	is_ok = 1;
	for (int i = 0; i < args->argc && is_ok; i++)
		is_ok = fuse_opt_add_arg(&copy, args->argv[i]) == 0;
	if (!is_ok) {
		fuse_opt_free_args(&copy);
		msg_log(LOG_ERR, "out of memory");
		return 1;
	}
	/* Nothing is opened or started: no harm before the fork. */
	se = fuse_session_new(&copy, &ops_table, sizeof(ops_table), NULL);
	fuse_opt_free_args(&copy);
	if (se == NULL)
		return EXIT_USAGE;
	fuse_session_destroy(se);
	return 0;
}

static int
serve(const struct opts *o, const struct settings *set,
    const struct fuse_cmdline_opts *co, struct fuse_args *args, char *pass,
    size_t len, int status_fd)
{
	struct store_opts so;
	struct store *s = NULL;
	struct fs fs;
	int is_fs = 0;
	struct fuse_session *se = NULL;
	int is_handlers = 0;
	int is_mounted = 0;
	struct rescanner rs;
	struct loop_opts lo;
	struct timespec t_unlock;
	struct timespec t_unlocked;
	struct timespec t_ready;
	int status = 1;
	int r;

	memset(&so, 0, sizeof(so));
	memset(&rs, 0, sizeof(rs));
	so.index_dir = o->index;
	so.key_id = o->key_id;
	so.s3.endpoint = o->s3_endpoint;
	so.s3.credentials = o->credentials_file;
	so.s3.is_virtual_host = o->is_s3_virtual_host;
	so.s3.is_insecure_http = o->is_insecure_http;
	so.cache_size = set->cache_size;
	so.use_tree_copies = 1;
	memset(&lo, 0, sizeof(lo));
	lo.busy_poll_us = set->busy_poll_us;

	if ((r = store_open(o->store, &so, &s)) < 0) {
		if (r == -ENOENT)
			msg_log(LOG_ERR, "no store at %s", o->store);
		else
			msg_log(LOG_ERR, "cannot open store %s: %s", o->store,
			    strerror(-r));
		goto out;
	}
	/* A small read from a local store is a few microseconds of work
	 * (loop.c); from S3 it is a request, which must not hold the lead. */
	if (store_is_local(s))
		lo.inline_read = LOOP_INLINE_READ_LOCAL;
	clock_gettime(CLOCK_MONOTONIC, &t_unlock);
	r = store_unlock(s, pass, len);
	clock_gettime(CLOCK_MONOTONIC, &t_unlocked);
	explicit_bzero(pass, len);
	if (r == -EACCES) {
		msg_log(LOG_ERR, "%s: wrong passphrase", o->store);
		status = EXIT_KEY;
		goto out;
	}
	if (r < 0) {
		msg_log(LOG_ERR, "cannot unlock %s: %s", o->store,
		    strerror(-r));
		goto out;
	}
	if ((r = fs_init(&fs, s, TREE_CACHE_ENTRIES, set->share_files)) < 0) {
		msg_log(LOG_ERR, "cannot list the snapshots of %s: %s",
		    o->store, strerror(-r));
		goto out;
	}
	fs.read_ahead = set->read_ahead;
	is_fs = 1;

	se = fuse_session_new(args, &ops_table, sizeof(ops_table), &fs);
	if (se == NULL) {
		/* libfuse said why: an option it does not know, nearly
		 * always (else out of memory). */
		status = EXIT_USAGE;
		goto out;
	}
	/* Small files pushed to the kernel: local stores only (push.c). */
	if (store_is_local(s) && push_new(&fs, se) < 0) {
		msg_log(LOG_ERR, "out of memory");
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	is_handlers = 1;
	if (fuse_session_mount(se, co->mountpoint) != 0)
		goto out;	/* libfuse said why */
	is_mounted = 1;
	if (set->read_ahead > 0)
		set_read_ahead(co->mountpoint, set->read_ahead);

	if (o->ready_fd >= 0) {
		if (write(o->ready_fd, "", 1) != 1)
			msg_log(LOG_WARNING, "ready_fd %d: %s", o->ready_fd,
			    strerror(errno));
		close(o->ready_fd);
	}
	detach(status_fd);
	/* Where the time to the first listing goes: the key derivation's
	 * cost is the store owner's choice, the rest is ours. */
	clock_gettime(CLOCK_MONOTONIC, &t_ready);
	msg_log(LOG_INFO, "mounted %s on %s: key unlocked in %ld ms, then "
	    "ready in %ld ms", o->store, co->mountpoint,
	    ms_between(&t_unlock, &t_unlocked),
	    ms_between(&t_unlocked, &t_ready));
	if ((r = rescanner_start(&rs, &fs)) < 0)
		msg_log(LOG_WARNING, "no periodic rescans: %s", strerror(-r));

	lo.n_threads = co->singlethread ? 1 : co->max_threads;
	if (lo.n_threads == 0)
		lo.n_threads = THREADS_DEFAULT;
	r = loop_run(se, &lo);
	status = r < 0 ? 1 : 0;
out:
	rescanner_stop(&rs);
	if (is_fs)
		push_free(&fs);
	if (is_mounted)
		fuse_session_unmount(se);
	if (is_handlers)
		fuse_remove_signal_handlers(se);
	if (se != NULL)
		fuse_session_destroy(se);
	if (is_fs)
		fs_fini(&fs);
	store_close(s);
	return status;
}

/*
 * Fork; the parent waits for the child's report and returns its exit
 * status, the child returns -1 with *status_fd set.
 */
static int
daemonize(int *status_fd)
{
	int p[2];
	pid_t pid;
	char c;
	ssize_t k;
	int st;

	if (pipe2(p, O_CLOEXEC) < 0) {
		msg_log(LOG_ERR, "pipe: %s", strerror(errno));
		return 1;
	}
	if ((pid = fork()) < 0) {
		msg_log(LOG_ERR, "fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		*status_fd = p[1];
		return -1;
	}
	close(p[1]);
	while ((k = read(p[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(p[0]);
	/* The child reports success with a byte, failure by exiting. */
	if (k == 1)
		return 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 1;
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts co;
	struct opts o;
	struct settings set;
	char *pass = NULL;
	size_t len = 0;
	int status_fd = -1;
	int status = 1;

	memset(&o, 0, sizeof(o));
	memset(&co, 0, sizeof(co));
	o.ready_fd = -1;
	/*
	 * Read buffers and decrypted chunks are 64 KiB to a few MiB and
	 * short-lived.  Served by mmap, each would cost page faults and
	 * zeroing on every cold chunk (a third of a cold read's time,
	 * measured); served by many per-thread heaps, freed pages pile up.
	 * So: heap allocation below 8 MiB, one arena, and freed memory
	 * above 4 MiB trimmed back to the system.
	 */
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	store_log_set(msg_sink);
	if (fuse_opt_parse(&args, &o, opt_spec, opt_proc) != 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (fuse_parse_cmdline(&args, &co) != 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (co.show_help) {
		usage(stdout);
		printf("\nFUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		status = 0;
		goto out;
	}
	if (co.show_version) {
		printf("amberfs 0.1.0 (libfuse %s)\n", fuse_pkgversion());
		status = 0;
		goto out;
	}
	if (o.store == NULL || o.mountpoint == NULL || o.n_extra > 0) {
		usage(stderr);
		status = EXIT_USAGE;
		goto out;
	}
	/* Absolute, so that unmounting works after chdir("/"). */
	if ((co.mountpoint = realpath(o.mountpoint, NULL)) == NULL) {
		msg_log(LOG_ERR, "bad mount point %s: %s", o.mountpoint,
		    strerror(errno));
		goto out;
	}
	/* The daemon runs in "/": local paths must not depend on the cwd. */
	if (absolutize(&o.store) < 0 || absolutize(&o.index) < 0 ||
	    absolutize(&o.credentials_file) < 0) {
		msg_log(LOG_ERR, "out of memory");
		goto out;
	}
	msg_set_debug(co.debug);
	/*
	 * ro always; no set-user-ID or device files from a backup; and no
	 * programs run from it unless asked: whoever holds an ingest key
	 * writes what a snapshot holds.
	 */
	if (fuse_opt_add_arg(&args, "-oro,nosuid,nodev,subtype=amberfs") ||
	    (!o.is_exec && fuse_opt_add_arg(&args, "-onoexec")) ||
	    add_fsname(&args, o.store) ||
	    (o.is_allow_other &&
	    fuse_opt_add_arg(&args, "-odefault_permissions"))) {
		msg_log(LOG_ERR, "out of memory");
		goto out;
	}

	if ((status = check_opts(&o, &args, &set)) != 0)
		goto out;
	status = 1;
	if (get_pass(&o, &pass, &len) < 0)
		goto out;
	if (!co.foreground && (status = daemonize(&status_fd)) >= 0)
		goto out;
	status = serve(&o, &set, &co, &args, pass, len, status_fd);
out:
	pass_free(pass, len);
	free(co.mountpoint);
	free(o.store);
	free(o.mountpoint);
	free(o.passphrase_file);
	free(o.index);
	free(o.key_id);
	free(o.cache_size);
	free(o.read_ahead);
	free(o.busy_poll);
	free(o.share_files);
	free(o.s3_endpoint);
	free(o.credentials_file);
	fuse_opt_free_args(&args);
	return status;
}
