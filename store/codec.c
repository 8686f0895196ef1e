/*
 * codec.c: zstd behind codec.h.  Contexts are per thread (a pthread key
 * frees them when the thread ends): creating one per chunk would cost more
 * than compressing a small chunk.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <zstd.h>

#include "codec.h"

struct ctxs {
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;

static void
ctxs_free(void *p)
{
	struct ctxs *x = p;

	ZSTD_freeCCtx(x->c);
	ZSTD_freeDCtx(x->d);
	free(x);
}

static void
init_once(void)
{
	pthread_key_create(&key, ctxs_free);
}

static struct ctxs *
ctxs_get(void)
{
	struct ctxs *x;

	pthread_once(&once, init_once);
	if ((x = pthread_getspecific(key)) != NULL)
		return x;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->c = ZSTD_createCCtx();
	x->d = ZSTD_createDCtx();
	if (x->c == NULL || x->d == NULL || pthread_setspecific(key, x) != 0) {
		ctxs_free(x);
		return NULL;
	}
	return x;
}

int
codec_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *olen)
{
	struct ctxs *x = ctxs_get();
	size_t n;

	if (x == NULL)
		return -ENOMEM;
	n = ZSTD_compressCCtx(x->c, out, cap, in, len, CODEC_LEVEL);
	if (ZSTD_isError(n))
		return -ERANGE;
	*olen = n;
	return 0;
}

int
codec_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *olen)
{
	struct ctxs *x = ctxs_get();
	unsigned long long want;
	size_t n;

	if (x == NULL)
		return -ENOMEM;
	want = ZSTD_getFrameContentSize(in, len);
	if (want == ZSTD_CONTENTSIZE_ERROR || want == ZSTD_CONTENTSIZE_UNKNOWN)
		return -EBADMSG;
	if (want > cap)
		return -ERANGE;
	n = ZSTD_decompressDCtx(x->d, out, cap, in, len);
	if (ZSTD_isError(n) || n != want)
		return -EBADMSG;
	*olen = n;
	return 0;
}
