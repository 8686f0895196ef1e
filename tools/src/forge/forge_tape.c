/*
 * forge_tape.c: answers recorded in the parallel phase and played back
 * in the store phase (forge_tape.h).  One record per GET: a fixed head,
 * then the URL, the message, the two headers and the body.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forge_tape.h"

#define TAPE_MAGIC 0x61706574u	/* "tepa" */
#define TAPE_ABSENT UINT32_MAX	/* a header the answer did not have */
#define TAPE_HEADER_MAX 65536	/* bytes of one recorded header */
#define TAPE_URL_MAX 65536	/* bytes of one recorded URL */
#define TAPE_BODY_DEFAULT (((size_t)64 << 20) + ((size_t)1 << 20))
#define TAPE_N_HEADERS 2

/* The headers a caller of get_resp() reads (forge_http_pages()). */
static const char *const kept[TAPE_N_HEADERS] = { "link", "x-next-page" };

struct rec_head {
	uint32_t magic;
	int32_t r;
	int64_t err_status;
	int64_t status;
	uint64_t max_body;
	uint64_t body_len;
	uint32_t url_len;
	uint32_t msg_len;
	uint32_t header_len[TAPE_N_HEADERS];
};

struct forge_tape {
	FILE *f;
	int is_playing;
	int is_broken;		/* recording failed, or playback ended */
};

int
forge_tape_new(const char *dir, struct forge_tape **out)
{
	struct forge_tape *t;
	char *path = NULL;
	int fd;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    asprintf(&path, "%s/forge-tape-XXXXXX", dir) < 0) {
		free(t);
		return -ENOMEM;
	}
	/* Not inherited by git's children; gone from the directory at once. */
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0) {
		int r = -errno;

		free(path);
		free(t);
		return r;
	}
	(void)unlink(path);
	free(path);
	if ((t->f = fdopen(fd, "w+")) == NULL) {
		close(fd);
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void
forge_tape_free(struct forge_tape *t)
{
	if (t == NULL)
		return;
	fclose(t->f);
	free(t);
}

void
forge_tape_rewind(struct forge_tape *t)
{
	t->is_playing = 1;
	if (fflush(t->f) != 0 || fseek(t->f, 0, SEEK_SET) != 0)
		t->is_broken = 1;
}

static int
put_bytes(struct forge_tape *t, const void *p, size_t n)
{
	return n == 0 || fwrite(p, 1, n, t->f) == n ? 0 : -EIO;
}

void
forge_tape_put(struct forge_tape *t, const char *url, size_t max_body,
    int r, const struct err *err, const struct http_response *resp)
{
	const char *hv[TAPE_N_HEADERS];
	struct rec_head h;
	size_t n_url = strlen(url);
	size_t n_msg = strnlen(err->msg, sizeof(err->msg) - 1);
	int w;

	if (t->is_broken || t->is_playing)
		return;
	memset(&h, 0, sizeof(h));
	h.magic = TAPE_MAGIC;
	h.r = r;
	h.err_status = err->status;
	h.status = resp->status;
	h.max_body = max_body;
	h.body_len = resp->body != NULL ? resp->body_len : 0;
	h.url_len = (uint32_t)n_url;
	h.msg_len = (uint32_t)n_msg;
	for (size_t i = 0; i < TAPE_N_HEADERS; i++) {
		hv[i] = http_response_header(resp, kept[i]);
		h.header_len[i] = hv[i] == NULL ? TAPE_ABSENT :
		    (uint32_t)strnlen(hv[i], TAPE_HEADER_MAX);
	}
	w = n_url < TAPE_URL_MAX ? 0 : -EINVAL;
	if (w == 0)
		w = put_bytes(t, &h, sizeof(h));
	if (w == 0)
		w = put_bytes(t, url, n_url);
	if (w == 0)
		w = put_bytes(t, err->msg, n_msg);
	for (size_t i = 0; w == 0 && i < TAPE_N_HEADERS; i++)
		if (hv[i] != NULL)
			w = put_bytes(t, hv[i], h.header_len[i]);
	if (w == 0)
		w = put_bytes(t, resp->body, h.body_len);
	if (w < 0)
		t->is_broken = 1;
}

/* ${n} bytes into a new NUL-terminated buffer *${out}. */
static int
get_bytes(struct forge_tape *t, size_t n, char **out)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return -ENOMEM;
	if (n > 0 && fread(p, 1, n, t->f) != n) {
		free(p);
		return -EIO;
	}
	p[n] = '\0';
	*out = p;
	return 0;
}

/* The recorded headers into ${resp}, as http.c would have them. */
static int
get_headers(struct forge_tape *t, const struct rec_head *h,
    struct http_response *resp)
{
	int r;

	if ((resp->headers = calloc(TAPE_N_HEADERS,
	    sizeof(*resp->headers))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < TAPE_N_HEADERS; i++) {
		struct http_header *x = &resp->headers[resp->n_headers];

		if (h->header_len[i] == TAPE_ABSENT)
			continue;
		if ((x->name = strdup(kept[i])) == NULL)
			return -ENOMEM;
		resp->n_headers++;
		if ((r = get_bytes(t, h->header_len[i], &x->value)) < 0)
			return r;
	}
	return 0;
}

/* Read the next record's head and check it against the request. */
static int
head_matches(struct forge_tape *t, const char *url, size_t max_body,
    struct rec_head *h)
{
	size_t cap = max_body != 0 ? max_body : TAPE_BODY_DEFAULT;
	char *u = NULL;
	int is_same;

	if (fread(h, sizeof(*h), 1, t->f) != 1 || h->magic != TAPE_MAGIC ||
	    h->max_body != max_body || h->body_len > cap ||
	    h->url_len != strlen(url) || h->msg_len >= ERR_MSG_LEN)
		return 0;
	for (size_t i = 0; i < TAPE_N_HEADERS; i++)
		if (h->header_len[i] != TAPE_ABSENT &&
		    h->header_len[i] > TAPE_HEADER_MAX)
			return 0;
	if (get_bytes(t, h->url_len, &u) < 0)
		return 0;
	is_same = strcmp(u, url) == 0;
	free(u);
	return is_same;
}

int
forge_tape_get(struct forge_tape *t, const char *url, size_t max_body,
    int *r, struct err *err, struct http_response *resp)
{
	struct rec_head h;
	char *msg = NULL;
	char *body = NULL;
	int k;

	if (!t->is_playing || t->is_broken)
		return 0;
	http_response_fini(resp);
	if (!head_matches(t, url, max_body, &h)) {
		t->is_broken = 1;
		return 0;
	}
	if ((k = get_bytes(t, h.msg_len, &msg)) == 0 &&
	    (k = get_headers(t, &h, resp)) == 0)
		k = get_bytes(t, h.body_len, &body);
	if (k < 0) {
		/* Go to the network for this request and the next ones. */
		free(msg);
		http_response_fini(resp);
		t->is_broken = 1;
		return k == -ENOMEM ? k : 0;
	}
	resp->body = (uint8_t *)body;
	resp->body_len = h.body_len;
	resp->status = (long)h.status;
	resp->n_attempts = 1;
	*r = h.r;
	err->status = (long)h.err_status;
	memcpy(err->msg, msg, h.msg_len + 1);
	free(msg);
	return 1;
}
