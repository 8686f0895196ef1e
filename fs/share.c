/*
 * share.c: the table of files with shared ids (share.h says what and
 * why).
 *
 * Files are numbered in the order they are first met and kept in blocks
 * that never move.  The hash index is an open table of file numbers with
 * linear probing, at most 3/4 full, doubled as it fills: keys are salted
 * digests, uniform whatever was stored, so probes stay short and a
 * doubling moves no number.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "inode.h"
#include "share.h"

#define BLOCK_SHIFT 12
#define BLOCK_LEN (1u << BLOCK_SHIFT)
#define SLOTS_MIN 4096u

/* A file: its key, and its positional ids where it was first and last
 * seen: 32 bytes. */
struct sfile {
	uint8_t key[SHARE_KEY_LEN];
	uint64_t first;
	uint64_t last;
};

struct share {
	pthread_mutex_t lock;
	uint8_t salt[32];	/* the digests' prefix, with the path hash */
	uint32_t max_files;
	uint32_t n_files;
	size_t n_slots;		/* a power of two */
	uint32_t *slots;	/* file numbers; 0: empty */
	struct sfile **blocks;	/* max_files / BLOCK_LEN, filled as needed */
};

uint64_t
share_phash(uint64_t parent, const uint8_t *name, size_t len)
{
	uint64_t h = parent ^ UINT64_C(0xcbf29ce484222325);	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ name[i]) * UINT64_C(0x100000001b3);
	return (h ^ '/') * UINT64_C(0x100000001b3);
}

int
share_new(uint32_t max_files, struct share **out)
{
	struct share *sh;

	*out = NULL;
	if (max_files == 0 || max_files > SHARE_FILES)
		return -EINVAL;
	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		return -ENOMEM;
	sh->max_files = max_files;
	sh->n_slots = SLOTS_MIN;
	sh->slots = calloc(sh->n_slots, sizeof(*sh->slots));
	sh->blocks = calloc((max_files + BLOCK_LEN - 1) / BLOCK_LEN,
	    sizeof(*sh->blocks));
	if (sh->slots == NULL || sh->blocks == NULL) {
		free(sh->slots);
		free(sh->blocks);
		free(sh);
		return -ENOMEM;
	}
	if (getrandom(sh->salt, 16, GRND_NONBLOCK) != 16) {
		/* No entropy yet: the table stays right, its probes may
		 * grow longer for a writer who guessed this. */
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)sh;

		memcpy(sh->salt, &t, sizeof(t));
	}
	pthread_mutex_init(&sh->lock, NULL);
	*out = sh;
	return 0;
}

void
share_free(struct share *sh)
{
	if (sh == NULL)
		return;
	for (uint32_t i = 0; i * BLOCK_LEN < sh->max_files; i++)
		free(sh->blocks[i]);
	pthread_mutex_destroy(&sh->lock);
	free(sh->blocks);
	free(sh->slots);
	free(sh);
}

/* File ${num} (from 1); the caller holds the lock. */
static struct sfile *
file_at(const struct share *sh, uint32_t num)
{
	return &sh->blocks[(num - 1) >> BLOCK_SHIFT][(num - 1) &
	    (BLOCK_LEN - 1)];
}

static size_t
slot_of(const struct share *sh, const uint8_t key[SHARE_KEY_LEN])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)h & (sh->n_slots - 1);
}

/* Double the index; the caller holds the lock.  -ENOMEM leaves it. */
static int
grow(struct share *sh)
{
	size_t n = sh->n_slots * 2;
	uint32_t *slots = calloc(n, sizeof(*slots));
	uint32_t *old = sh->slots;
	size_t old_n = sh->n_slots;

	if (slots == NULL)
		return -ENOMEM;
	sh->slots = slots;
	sh->n_slots = n;
	for (size_t i = 0; i < old_n; i++) {
		size_t j;

		if (old[i] == 0)
			continue;
		j = slot_of(sh, file_at(sh, old[i])->key);
		while (slots[j] != 0)
			j = (j + 1) & (n - 1);
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

/* The number of the file with ${key}, numbering it if new, and noting
 * it as last seen at ${pos}; 0 if there is no room.  The caller holds
 * the lock. */
static uint32_t
file_num(struct share *sh, const uint8_t key[SHARE_KEY_LEN], uint64_t pos)
{
	size_t j = slot_of(sh, key);
	struct sfile *f;
	uint32_t num;
	uint32_t b;

	for (; (num = sh->slots[j]) != 0; j = (j + 1) & (sh->n_slots - 1)) {
		f = file_at(sh, num);
		if (memcmp(f->key, key, SHARE_KEY_LEN) == 0) {
			f->last = pos;
			return num;
		}
	}
	if (sh->n_files >= sh->max_files)
		return 0;
	b = sh->n_files >> BLOCK_SHIFT;
	if (sh->blocks[b] == NULL &&
	    (sh->blocks[b] = malloc(BLOCK_LEN * sizeof(struct sfile))) == NULL) {
		/* Out of memory: stop numbering for good, so that a file
		 * refused now is not numbered later under another id. */
		sh->max_files = sh->n_files;
		return 0;
	}
	num = ++sh->n_files;
	f = file_at(sh, num);
	memcpy(f->key, key, SHARE_KEY_LEN);
	f->first = pos;
	f->last = pos;
	sh->slots[j] = num;
	/* At most three quarters full (keys are uniform, so probes stay
	 * short); if the index cannot grow, stop numbering. */
	if (4 * (size_t)sh->n_files >= 3 * sh->n_slots && grow(sh) < 0)
		sh->max_files = sh->n_files;
	return num;
}

int
share_ino(struct share *sh, const struct share_dir *d,
    const struct store_entry *e, uint64_t pos, uint64_t *ino)
{
	uint8_t digest[STORE_HASH_LEN];
	uint8_t prefix[sizeof(sh->salt)];
	uint64_t ph;
	int64_t sec;
	uint32_t nsec;
	uint32_t num;
	int r;

	if (sh == NULL)
		return -ENOSPC;
	/* The salt, then the file's path hash. */
	memcpy(prefix, sh->salt, 16);
	ph = share_phash(d->phash, e->name, e->name_len);
	memcpy(prefix + 16, &ph, sizeof(ph));
	memset(prefix + 24, 0, sizeof(prefix) - 24);
	store_entry_mtime(e, d->mt_sec, d->mt_nsec, &sec, &nsec);
	if ((r = store_entry_digest(e, sec, nsec, prefix, sizeof(prefix),
	    digest)) < 0)
		return r;
	pthread_mutex_lock(&sh->lock);
	num = file_num(sh, digest, pos);
	pthread_mutex_unlock(&sh->lock);
	if (num == 0)
		return -ENOSPC;
	*ino = inode_make(0, (uint64_t)num + 1);	/* 1 is the root's */
	return 0;
}

int
share_is(uint64_t ino)
{
	return !inode_is_virtual(ino) && inode_slot(ino) == 0;
}

int
share_where(struct share *sh, uint64_t ino, int k, uint64_t *pos)
{
	uint64_t num = inode_ord(ino) - 1;
	int r = -ENOENT;

	if (sh == NULL || !share_is(ino))
		return r;
	pthread_mutex_lock(&sh->lock);
	if (num >= 1 && num <= sh->n_files) {
		const struct sfile *f = file_at(sh, (uint32_t)num);

		*pos = k == 0 ? f->last : f->first;
		r = 0;
	}
	pthread_mutex_unlock(&sh->lock);
	return r;
}
