/*
 * io.h: whole reads and writes on file descriptors, with EINTR retried
 * and every read bounded by the caller.
 */
#ifndef IO_H
#define IO_H

#include <stddef.h>

/*
 * io_write_all(fd, buf, len):
 * Write all ${len} bytes of ${buf} to ${fd}.  Returns 0, or -errno (-EIO
 * if write(2) wrote nothing and gave no error).
 */
int io_write_all(int fd, const void *buf, size_t len);

/*
 * io_read_all(fd, buf, cap, len):
 * Read ${fd} to its end into ${buf} (${cap} bytes).  Returns 0 and sets
 * *${len}; -EFBIG if there is more than ${cap}; -errno from read(2).
 */
int io_read_all(int fd, void *buf, size_t cap, size_t *len);

/*
 * io_read_file(path, max, out, len):
 * Read the file ${path} whole, at most ${max} bytes, into a malloc'd,
 * NUL-terminated *${out} the caller frees, and its length into *${len}.
 * Returns 0; -EFBIG if it is longer; -ENOMEM; -errno from open(2) or
 * read(2).  On failure what was read is wiped first (the file may hold a
 * secret).
 */
int io_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
