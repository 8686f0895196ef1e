/*
 * push.h: the small files of a directory pushed into the kernel's page
 * cache once one of them is read (push.c says why and within what bounds).
 */
#ifndef PUSH_H
#define PUSH_H

#include <fuse_lowlevel.h>

#include "state.h"

/* Files larger than this are left to the kernel's own reads. */
#define PUSH_FILE_MAX (256u * 1024)
/* What one directory's push may decode, at most. */
#define PUSH_DIR_FILES 512u
#define PUSH_DIR_BYTES (16u << 20)

/*
 * push_new(fs, se): attach a pusher to ${fs} for session ${se}; its
 * threads start with the first hint.  -ENOMEM, else 0.
 */
int push_new(struct fs *fs, struct fuse_session *se);

/*
 * push_hint(fs, ino, off, got, size): a read of ${size} bytes at ${off}
 * of file ${ino} returned ${got}.  Where that was a small file (at most
 * PUSH_FILE_MAX bytes) read whole, push the files after it in its
 * directory, unless that directory was pushed lately.  Never blocks on
 * the work; a hint that finds the queue full is dropped.
 */
void push_hint(struct fs *fs, fuse_ino_t ino, off_t off, size_t got,
    size_t size);

/* push_free(fs): stop the threads (after the session ended) and free. */
void push_free(struct fs *fs);

#endif
