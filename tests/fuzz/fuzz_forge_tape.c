/*
 * fuzz_forge_tape.c: the forge's answers on a tape (tools/src/forge/
 * forge_tape.c) come back as they went: the input is cut into answers
 * (URL, message, headers, body, each of any bytes), recorded, and played
 * back; each must come back whole, and a request that differs from the
 * record (another URL or cap) is not answered from the tape, nor is any
 * after it.  The tape's bytes are this process's own (an unlinked file),
 * so what is fuzzed is the framing both ways.  From libtools.a.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge_tape.h"
#include "http.h"

#define N_ANSWERS_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct answer {
	char url[64];
	char msg[64];
	char link[64];
	const uint8_t *body;
	size_t body_len;
	int has_link;
	int r;
};

/* The next field of ${n} bytes (a length byte first), as a string. */
static void
take(const uint8_t **p, size_t *left, char *out, size_t cap)
{
	size_t n = *left > 0 ? **p % cap : 0;

	if (*left > 0) {
		(*p)++;
		(*left)--;
	}
	if (n > *left)
		n = *left;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	*left -= n;
}

static void
cut(const uint8_t *data, size_t size, struct answer *v, size_t *n)
{
	*n = 0;
	while (size > 0 && *n < N_ANSWERS_MAX) {
		struct answer *a = &v[(*n)++];

		memset(a, 0, sizeof(*a));
		a->r = -(int)(data[0] % 4);
		a->has_link = data[0] & 0x10;
		take(&data, &size, a->url, sizeof(a->url));
		take(&data, &size, a->msg, sizeof(a->msg));
		take(&data, &size, a->link, sizeof(a->link));
		a->body = data;
		a->body_len = size > 0 ? data[0] % 32 : 0;
		if (a->body_len > size)
			a->body_len = size;
		data += a->body_len;
		size -= a->body_len;
	}
}

static void
record(struct forge_tape *t, const struct answer *a)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_header h;
	struct err e;

	h.name = (char *)"Link";
	h.value = (char *)a->link;
	resp.status = 200;
	resp.body = (uint8_t *)a->body;
	resp.body_len = a->body_len;
	resp.headers = a->has_link ? &h : NULL;
	resp.n_headers = a->has_link ? 1 : 0;
	e.status = 200;
	snprintf(e.msg, sizeof(e.msg), "%s", a->msg);
	forge_tape_put(t, a->url, 1024, a->r, &e, &resp);
}

static void
check(struct forge_tape *t, const struct answer *a, int is_other)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	const char *link;
	struct err e;
	int r = 1;
	int k;

	k = forge_tape_get(t, a->url, is_other ? 1023 : 1024, &r, &e, &resp);
	if (k < 0)
		abort();
	if (is_other) {
		if (k != 0)
			abort();
		http_response_fini(&resp);
		return;
	}
	link = http_response_header(&resp, "link");
	if (k != 1 || r != a->r || strcmp(e.msg, a->msg) != 0 ||
	    resp.body_len != a->body_len || (a->body_len > 0 &&
	    memcmp(resp.body, a->body, a->body_len) != 0) ||
	    (a->has_link ? link == NULL || strcmp(link, a->link) != 0 :
	    link != NULL) || http_response_header(&resp,
	    "x-next-page") != NULL)
		abort();
	http_response_fini(&resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct answer v[N_ANSWERS_MAX];
	struct forge_tape *t = NULL;
	size_t n;
	size_t other;

	if (forge_tape_new("/tmp", &t) < 0)
		return 0;
	cut(data, size, v, &n);
	for (size_t i = 0; i < n; i++)
		record(t, &v[i]);
	forge_tape_rewind(t);
	/* One request may differ (by its cap): it and the rest go live. */
	other = size > 0 ? data[size - 1] % (N_ANSWERS_MAX + 1) : n;
	for (size_t i = 0; i < n; i++)
		check(t, &v[i], i >= other);
	forge_tape_free(t);
	return 0;
}
