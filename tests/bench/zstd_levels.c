/*
 * zstd_levels.c: what each zstd level costs and saves on amber's chunks.
 * Reads the files named on stdin (one path a line), cuts each with the
 * store's chunker (a fixed gear seed: the cuts move, their sizes do not)
 * and compresses every chunk at each level given on the command line,
 * with blob_seal()'s rule: kept compressed only when it saves 1/32.
 * With "-s", a chunk of at least 64 KiB whose first 8 KiB sample does
 * not compress by 1/32 at level 1 is stored raw without trying the rest.
 * Prints per level: thread CPU seconds spent compressing, bytes stored.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <zstd.h>

#include "chunker.h"

#define MAX_LEVELS 32
#define SAMPLE (8u << 10)

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static uint8_t seed[2048];
	struct chunker c;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	int levels[MAX_LEVELS];
	double secs[MAX_LEVELS] = { 0 };
	unsigned long long out[MAX_LEVELS] = { 0 };
	unsigned long long in = 0;
	unsigned long long n_chunks = 0;
	int n_levels = 0;
	int is_sample = 0;
	uint8_t *buf = NULL;
	uint8_t *dst;
	size_t cap = 0;
	size_t dcap;
	char path[8192];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0)
			is_sample = 1;
		else if (n_levels < MAX_LEVELS)
			levels[n_levels++] = atoi(argv[i]);
	}
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 131 + 7);
	chunker_init(&c, seed, CHUNKER_MIN, CHUNKER_AVG, CHUNKER_MAX);
	dcap = ZSTD_compressBound(CHUNKER_MAX);
	if (cc == NULL || (dst = malloc(dcap)) == NULL)
		return 1;
	while (fgets(path, sizeof(path), stdin) != NULL) {
		struct stat st;
		size_t len;
		size_t off = 0;
		int fd;

		path[strcspn(path, "\n")] = '\0';
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		len = (size_t)st.st_size;
		if (len > cap) {
			free(buf);
			cap = len;
			if ((buf = malloc(cap)) == NULL)
				return 1;
		}
		if (len > 0 && read(fd, buf, len) != (ssize_t)len) {
			close(fd);
			continue;
		}
		close(fd);
		in += len;
		while (off < len) {
			size_t n = chunker_next(&c, buf + off, len - off, 1);

			n_chunks++;
			for (int l = 0; l < n_levels; l++) {
				double t0 = cpu_now();
				size_t z = 0;
				int is_raw = n < 64;

				if (!is_raw && is_sample && n >= 65536) {
					z = ZSTD_compressCCtx(cc, dst, dcap,
					    buf + off, SAMPLE, 1);
					is_raw = ZSTD_isError(z) ||
					    z > SAMPLE - SAMPLE / 32;
				}
				if (!is_raw) {
					z = ZSTD_compressCCtx(cc, dst, dcap,
					    buf + off, n, levels[l]);
					is_raw = ZSTD_isError(z) ||
					    z > n - n / 32;
				}
				secs[l] += cpu_now() - t0;
				out[l] += is_raw ? n : z;
			}
			off += n;
		}
	}
	printf("# %llu bytes in %llu chunks%s\n", in, n_chunks,
	    is_sample ? ", 8 KiB sample test" : "");
	printf("%6s %10s %14s %8s\n", "level", "cpu_s", "stored_bytes",
	    "ratio");
	for (int l = 0; l < n_levels; l++)
		printf("%6d %10.2f %14llu %8.4f\n", levels[l], secs[l], out[l],
		    (double)out[l] / (double)in);
	free(buf);
	free(dst);
	ZSTD_freeCCtx(cc);
	return 0;
}
