/*
 * io.c: whole reads and writes (io.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

int
io_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
io_read_all(int fd, void *buf, size_t cap, size_t *len)
{
	uint8_t *p = buf;
	uint8_t extra;
	size_t n = 0;
	ssize_t got;

	for (;;) {
		/* With ${buf} full, one byte more says the file is too big. */
		if (n < cap)
			got = read(fd, p + n, cap - n);
		else
			got = read(fd, &extra, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		if (n == cap)
			return -EFBIG;
		n += (size_t)got;
	}
	*len = n;
	return 0;
}

int
io_read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	int fd;
	int r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	r = io_read_all(fd, buf, max, &n);
	close(fd);
	if (r < 0) {
		explicit_bzero(buf, max + 1);
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
