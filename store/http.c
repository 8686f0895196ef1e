/*
 * http.c: the HTTP client of http.h.  A mutex-guarded free list of curl
 * easy handles makes the pool: a request pops a handle (or makes one),
 * resets its options, performs, and pushes it back, so the handle's
 * connection cache keeps the TCP (and TLS) connection for the next
 * request.  Bodies are gathered in memory up to a limit; response
 * headers are parsed into name/value pairs, keeping only the final
 * response's after redirects or 100-continue.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"

#define HTTP_BODY_DEFAULT ((size_t)65 << 20)
#define HTTP_HEADERS_MAX 200
#define HTTP_HEADER_LINE_MAX 8192

struct http_handle {
	CURL *curl;
	curl_socket_t fd;	/* its connection's socket, or CURL_SOCKET_BAD */
	struct http_handle *next;
};

struct http_client {
	struct http_opts o;
	pthread_mutex_t lock;
	struct http_handle *free_list;	/* idle handles */
	unsigned int seed;		/* jitter; guarded by lock */
};

/* State of one attempt, passed to the curl callbacks. */
struct attempt {
	struct http_handle *h;
	const struct http_request *req;
	struct http_response *resp;
	size_t max_body;
	size_t cap;
	size_t sent;		/* upload cursor */
	int is_too_big;
	int is_oom;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
http_client_new(const struct http_opts *o, struct http_client **out)
{
	struct http_client *c;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return -EIO;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	if (o != NULL)
		c->o = *o;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = 10000;
	if (c->o.stall_sec <= 0)
		c->o.stall_sec = 30;
	if (c->o.max_retries == 0)
		c->o.max_retries = 6;
	if (c->o.max_retries < 0)
		c->o.max_retries = 0;
	if (c->o.backoff_ms <= 0)
		c->o.backoff_ms = 200;
	if (c->o.backoff_max_ms <= 0)
		c->o.backoff_max_ms = 8000;
	if (c->o.user_agent == NULL)
		c->o.user_agent = "amber";
	c->seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)c;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void
http_client_free(struct http_client *c)
{
	struct http_handle *h;

	if (c == NULL)
		return;
	while ((h = c->free_list) != NULL) {
		c->free_list = h->next;
		curl_easy_cleanup(h->curl);
		free(h);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct http_handle *
handle_take(struct http_client *c)
{
	struct http_handle *h;

	pthread_mutex_lock(&c->lock);
	if ((h = c->free_list) != NULL)
		c->free_list = h->next;
	pthread_mutex_unlock(&c->lock);
	if (h != NULL)
		return h;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->curl = curl_easy_init()) == NULL) {
		free(h);
		return NULL;
	}
	h->fd = CURL_SOCKET_BAD;
	return h;
}

static void
handle_give(struct http_client *c, struct http_handle *h)
{
	pthread_mutex_lock(&c->lock);
	h->next = c->free_list;
	c->free_list = h;
	pthread_mutex_unlock(&c->lock);
}

void
http_response_fini(struct http_response *resp)
{
	size_t i;

	if (resp == NULL)
		return;
	for (i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static void
headers_clear(struct http_response *resp)
{
	size_t i;

	for (i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	resp->headers = NULL;
	resp->n_headers = 0;
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->n_headers; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct attempt *a = arg;
	struct http_response *r = a->resp;
	size_t n = size * nmemb;
	size_t want;
	uint8_t *nb;

	if (n > a->max_body || r->body_len > a->max_body - n) {
		a->is_too_big = 1;
		return 0;
	}
	want = r->body_len + n + 1;
	if (want > a->cap) {
		size_t ncap = a->cap ? a->cap : 16384;

		while (ncap < want)
			ncap *= 2;
		if ((nb = realloc(r->body, ncap)) == NULL) {
			a->is_oom = 1;
			return 0;
		}
		r->body = nb;
		a->cap = ncap;
	}
	memcpy(r->body + r->body_len, ptr, n);
	r->body_len += n;
	r->body[r->body_len] = 0;
	return n;
}

static char *
dup_trim(const char *s, size_t len)
{
	char *d;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	if ((d = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = 0;
	return d;
}

/*
 * Header lines arrive one per call.  A status line starts a new response
 * (after a redirect or a 1xx), so the headers gathered so far are dropped.
 */
/*
 * Acknowledge what the response has sent so far, now.  A keep-alive
 * connection that answers request after request is "interactive" to
 * Linux, which then delays its ACKs by up to 40 ms, waiting to ride them
 * on data we send; a server with Nagle on (RGW's) holds the response's
 * body until its header is acknowledged.  Together they cost 40 ms per
 * request on a reused connection, against 2 ms on a fresh one.  The
 * status line has arrived, so an ACK is due: TCP_QUICKACK sends it.
 * Best effort: a failure (not TCP, not Linux) only leaves the delay.
 */
static void
ack_now(curl_socket_t fd)
{
#ifdef TCP_QUICKACK
	int one = 1;

	if (fd != CURL_SOCKET_BAD)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
#else
	(void)fd;
#endif
}

/* The handle's socket, for ack_now(): kept from creation to close. */
static int
on_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct http_handle *h = arg;

	if (purpose == CURLSOCKTYPE_IPCXN)
		h->fd = fd;
	return CURL_SOCKOPT_OK;
}

static int
on_close_socket(void *arg, curl_socket_t fd)
{
	struct http_handle *h = arg;

	if (h->fd == fd)
		h->fd = CURL_SOCKET_BAD;
	return close(fd);
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct attempt *a = arg;
	struct http_response *r = a->resp;
	size_t n = size * nmemb;
	struct http_header *nh;
	const char *colon;

	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		headers_clear(r);
		ack_now(a->h->fd);
		return n;
	}
	if (n > HTTP_HEADER_LINE_MAX || r->n_headers >= HTTP_HEADERS_MAX)
		return n;	/* ignore, not fatal */
	if ((colon = memchr(ptr, ':', n)) == NULL)
		return n;	/* the blank line, or junk */
	nh = realloc(r->headers, (r->n_headers + 1) * sizeof(*nh));
	if (nh == NULL) {
		a->is_oom = 1;
		return 0;
	}
	r->headers = nh;
	nh = &r->headers[r->n_headers];
	nh->name = dup_trim(ptr, (size_t)(colon - ptr));
	nh->value = dup_trim(colon + 1, n - (size_t)(colon - ptr) - 1);
	if (nh->name == NULL || nh->value == NULL) {
		free(nh->name);
		free(nh->value);
		a->is_oom = 1;
		return 0;
	}
	r->n_headers++;
	return n;
}

static size_t
on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct attempt *a = arg;
	size_t n = size * nmemb;
	size_t left = a->req->body_len - a->sent;

	if (n > left)
		n = left;
	if (n > 0)
		memcpy(buf, a->req->body + a->sent, n);
	a->sent += n;
	return n;
}

/* curl asks to rewind the upload on a redirect or an auth retry. */
static int
on_seek(void *arg, curl_off_t off, int origin)
{
	struct attempt *a = arg;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > a->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	a->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int
is_retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

static int
is_retryable_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* The host part of ${url}, for messages. */
static void
url_host(const char *url, char *buf, size_t cap)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p ? p + 3 : url;
	n = strcspn(p, "/?#");
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, p, n);
	buf[n] = 0;
}

/* Milliseconds to sleep before retry ${n} (1-based): full jitter. */
static long
backoff(struct http_client *c, int n, const struct http_response *resp)
{
	const char *ra;
	long cap = c->o.backoff_ms;
	long ms;
	int i;

	for (i = 1; i < n && cap < c->o.backoff_max_ms; i++)
		cap *= 2;
	if (cap > c->o.backoff_max_ms)
		cap = c->o.backoff_max_ms;
	pthread_mutex_lock(&c->lock);
	ms = cap / 2 + (long)(rand_r(&c->seed) % (unsigned long)(cap / 2 + 1));
	pthread_mutex_unlock(&c->lock);
	if ((resp->status == 429 || resp->status == 503) &&
	    (ra = http_response_header(resp, "Retry-After")) != NULL) {
		char *end;
		long s = strtol(ra, &end, 10);

		if (end != ra && *end == 0 && s >= 0 &&
		    s <= c->o.backoff_max_ms / 1000)
			ms = s * 1000;
		else if (end != ra && *end == 0 && s >= 0)
			ms = c->o.backoff_max_ms;
	}
	return ms;
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One attempt; returns the CURLcode and fills resp. */
static CURLcode
attempt_once(struct http_client *c, CURL *curl, struct curl_slist *hdrs,
    struct attempt *a)
{
	const struct http_request *req = a->req;
	CURLcode cc;

	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, c->o.user_agent);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	    c->o.connect_timeout_ms);
	if (c->o.timeout_ms > 0)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, c->o.stall_sec);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->o.is_direct)
		curl_easy_setopt(curl, CURLOPT_PROXY, "");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(curl, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	curl_easy_setopt(curl, CURLOPT_SOCKOPTDATA, a->h);
	curl_easy_setopt(curl, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
	curl_easy_setopt(curl, CURLOPT_CLOSESOCKETDATA, a->h);
	if (req->follow_redirects) {
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR,
		    "http,https");
		/* Never send credentials to a host we were redirected to. */
		curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
	}
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "PUT") == 0) {
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(curl, CURLOPT_READDATA, a);
		curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(curl, CURLOPT_SEEKDATA, a);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
		    req->body ? (const char *)req->body : "");
	} else if (strcmp(req->method, "GET") != 0) {
		/* PATCH and DELETE, with a body when one is given. */
		if (req->body != NULL) {
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->body_len);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
			    (const char *)req->body);
		}
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
	}
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a->resp->status);
	return cc;
}

int
http_do(struct http_client *c, const struct http_request *req,
    struct http_response *resp)
{
	struct curl_slist *hdrs = NULL;
	struct curl_slist *t;
	struct http_handle *h = NULL;
	struct attempt a;
	char host[128];
	CURLcode cc = CURLE_OK;
	size_t i;
	int n;
	int r;

	http_response_fini(resp);
	if (req->url == NULL || req->method == NULL)
		return -EINVAL;
	/* No "Expect: 100-continue" round trip before each PUT. */
	if ((hdrs = curl_slist_append(NULL, "Expect:")) == NULL)
		return -ENOMEM;
	for (i = 0; i < req->n_headers; i++) {
		if ((t = curl_slist_append(hdrs, req->headers[i])) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		hdrs = t;
	}
	if ((h = handle_take(c)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	url_host(req->url, host, sizeof(host));
	for (n = 1;; n++) {
		memset(&a, 0, sizeof(a));
		a.h = h;
		a.req = req;
		a.resp = resp;
		a.max_body = req->max_body ? req->max_body : HTTP_BODY_DEFAULT;
		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
		headers_clear(resp);
		resp->status = 0;
		resp->error[0] = 0;
		resp->n_attempts = n;
		cc = attempt_once(c, h->curl, hdrs, &a);
		if (a.is_oom) {
			r = -ENOMEM;
			goto out;
		}
		if (a.is_too_big) {
			snprintf(resp->error, sizeof(resp->error),
			    "%s: response body larger than %zu bytes", host,
			    a.max_body);
			r = -ERANGE;
			goto out;
		}
		if (cc == CURLE_OK && !is_retryable_status(resp->status))
			break;
		if (cc != CURLE_OK && !is_retryable_curl(cc)) {
			snprintf(resp->error, sizeof(resp->error), "%s: %s",
			    host, curl_easy_strerror(cc));
			r = -EIO;
			goto out;
		}
		if (req->is_not_retryable || n > c->o.max_retries)
			break;
		sleep_ms(backoff(c, n, resp));
	}
	if (cc != CURLE_OK) {
		snprintf(resp->error, sizeof(resp->error),
		    "%s: %s (after %d attempts)", host,
		    curl_easy_strerror(cc), n);
		r = -EIO;
		goto out;
	}
	if (resp->body == NULL && (resp->body = calloc(1, 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = 0;
out:
	if (h != NULL) {
		if (r < 0 && cc != CURLE_OK) {
			/* A broken connection is not worth keeping. */
			curl_easy_cleanup(h->curl);
			free(h);
		} else {
			handle_give(c, h);
		}
	}
	curl_slist_free_all(hdrs);
	if (r == -ENOMEM)
		http_response_fini(resp);
	return r;
}

int
http_url_encode(const char *in, size_t len, int keep_slash, char *out,
    size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~' || (keep_slash && ch == '/')) {
			if (o + 1 >= cap)
				return -ERANGE;
			out[o++] = (char)ch;
		} else {
			if (o + 3 >= cap)
				return -ERANGE;
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (o >= cap)
		return -ERANGE;
	out[o] = 0;
	return 0;
}
