/*
 * test_http.c: store/http.c against a scripted HTTP server in a thread of
 * this process, on 127.0.0.1 (port chosen by the kernel).  Checks
 * retries on 503 (with Retry-After) and 500, no retry on 404, the bound on
 * retries, response headers, PUT bodies, the body size limit, that a
 * redirect to another host does not carry the Authorization header, that a
 * dead port gives -EIO naming the host, and that many threads can share
 * one client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check.h"
#include "http.h"

static int listen_fd = -1;
static int port;
static pthread_t server_th;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int n_retry503;		/* requests seen on /retry503 */
static int n_always500;
static int n_notfound;

static void
reply(int fd, const char *status, const char *extra, const char *body,
    size_t len)
{
	char head[1024];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status, len,
	    extra);

	if (write(fd, head, (size_t)n) < 0 || (len > 0 &&
	    write(fd, body, len) < 0))
		return;
}

/* Read a request: headers into ${req}, and the body's length. */
static int
read_request(int fd, char *req, size_t cap, size_t *body_len)
{
	size_t used = 0;
	char *end = NULL;
	const char *cl;
	ssize_t k;
	size_t want;
	char junk[4096];

	while (end == NULL) {
		if (used + 1 >= cap)
			return -1;
		if ((k = read(fd, req + used, cap - used - 1)) <= 0)
			return -1;
		used += (size_t)k;
		req[used] = 0;
		end = strstr(req, "\r\n\r\n");
	}
	want = 0;
	if ((cl = strcasestr(req, "\r\nContent-Length:")) != NULL)
		want = strtoul(cl + 17, NULL, 10);
	*body_len = used - (size_t)(end + 4 - req);
	while (*body_len < want) {
		if ((k = read(fd, junk, sizeof(junk))) <= 0)
			return -1;
		*body_len += (size_t)k;
	}
	return 0;
}

static void
serve(int fd)
{
	char req[16384];
	char body[128];
	char path[256] = "";
	size_t blen = 0;
	int n;

	if (read_request(fd, req, sizeof(req), &blen) < 0)
		return;
	sscanf(req, "%*s %255s", path);
	if (strcmp(path, "/retry503") == 0) {
		pthread_mutex_lock(&lock);
		n = ++n_retry503;
		pthread_mutex_unlock(&lock);
		if (n == 1)
			reply(fd, "503 Slow Down", "Retry-After: 0\r\n", "", 0);
		else
			reply(fd, "200 OK", "", "ok", 2);
	} else if (strcmp(path, "/always500") == 0) {
		pthread_mutex_lock(&lock);
		n_always500++;
		pthread_mutex_unlock(&lock);
		reply(fd, "500 Oops", "", "err", 3);
	} else if (strcmp(path, "/notfound") == 0) {
		pthread_mutex_lock(&lock);
		n_notfound++;
		pthread_mutex_unlock(&lock);
		reply(fd, "404 Not Found", "", "", 0);
	} else if (strcmp(path, "/headers") == 0) {
		reply(fd, "200 OK", "X-Test:   hello world  \r\n"
		    "x-amz-version-id: v1\r\n", "", 0);
	} else if (strcmp(path, "/echo") == 0) {
		n = snprintf(body, sizeof(body), "len=%zu", blen);
		reply(fd, "200 OK", "", body, (size_t)n);
	} else if (strcmp(path, "/big") == 0) {
		static char big[100000];

		memset(big, 'b', sizeof(big));
		reply(fd, "200 OK", "", big, sizeof(big));
	} else if (strcmp(path, "/redirect") == 0) {
		char loc[128];

		/* "localhost" is another host name than "127.0.0.1". */
		snprintf(loc, sizeof(loc), "Location: http://localhost:%d/auth"
		    "\r\n", port);
		reply(fd, "302 Found", loc, "", 0);
	} else if (strcmp(path, "/auth") == 0) {
		if (strcasestr(req, "\r\nAuthorization:") != NULL)
			reply(fd, "200 OK", "", "auth=yes", 8);
		else
			reply(fd, "200 OK", "", "auth=no", 7);
	} else {
		reply(fd, "400 Bad", "", "", 0);
	}
}

static void *
server(void *arg)
{
	int fd;

	(void)arg;
	while ((fd = accept(listen_fd, NULL, NULL)) >= 0) {
		serve(fd);
		close(fd);
	}
	return NULL;
}

static int
start_server(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	if ((listen_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(listen_fd, 64) < 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	port = ntohs(a.sin_port);
	if (pthread_create(&server_th, NULL, server, NULL) != 0)
		return -1;
	return 0;
}

static int
get(struct http_client *c, const char *path, const char *const *hdrs,
    size_t nh, int follow, struct http_response *resp)
{
	char url[256];
	struct http_request req = { .method = "GET", .url = url,
	    .headers = hdrs, .n_headers = nh, .follow_redirects = follow };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	return http_do(c, &req, resp);
}

struct par {
	struct http_client *c;
	int n_ok;
};

static void *
par_get(void *arg)
{
	struct par *p = arg;
	struct http_response resp = HTTP_RESPONSE_INIT;
	int i;

	for (i = 0; i < 20; i++)
		if (get(p->c, "/headers", NULL, 0, 0, &resp) == 0 &&
		    resp.status == 200)
			p->n_ok++;
	http_response_fini(&resp);
	return NULL;
}

int
main(void)
{
	struct http_opts o;
	struct http_client *c = NULL;
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_request req;
	const char *auth[] = { "Authorization: Bearer secret-token" };
	char url[256];
	char out[64];
	struct par par[4];
	pthread_t th[4];
	int i;

	CHECK(start_server() == 0);
	memset(&o, 0, sizeof(o));
	o.max_retries = 2;
	o.backoff_ms = 10;
	o.backoff_max_ms = 50;
	CHECK(http_client_new(&o, &c) == 0);
	if (c == NULL)
		return check_done("test_http");

	/* 503 then 200: one retry, and the 200 is what we get. */
	CHECK(get(c, "/retry503", NULL, 0, 0, &resp) == 0);
	CHECK(resp.status == 200 && resp.n_attempts == 2);
	CHECK(resp.body_len == 2 && memcmp(resp.body, "ok", 2) == 0);
	CHECK(n_retry503 == 2);

	/* A persistent 500: 1 + max_retries attempts, then the 500. */
	CHECK(get(c, "/always500", NULL, 0, 0, &resp) == 0);
	CHECK(resp.status == 500 && resp.n_attempts == 3 && n_always500 == 3);

	/* 404 is an answer, not a failure: no retry. */
	CHECK(get(c, "/notfound", NULL, 0, 0, &resp) == 0);
	CHECK(resp.status == 404 && resp.n_attempts == 1 && n_notfound == 1);
	CHECK(resp.body != NULL && resp.body_len == 0);

	/* Headers: case-insensitive names, trimmed values. */
	CHECK(get(c, "/headers", NULL, 0, 0, &resp) == 0);
	CHECK(http_response_header(&resp, "x-test") != NULL &&
	    strcmp(http_response_header(&resp, "x-test"), "hello world") == 0);
	CHECK(http_response_header(&resp, "X-Amz-Version-Id") != NULL &&
	    strcmp(http_response_header(&resp, "X-Amz-Version-Id"), "v1") ==
	    0);
	CHECK(http_response_header(&resp, "X-Missing") == NULL);

	/* A PUT body arrives whole. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	req.url = url;
	req.body = (const uint8_t *)"0123456789";
	req.body_len = 10;
	CHECK(http_do(c, &req, &resp) == 0);
	CHECK(resp.status == 200 && strcmp((char *)resp.body, "len=10") == 0);
	req.method = "POST";
	CHECK(http_do(c, &req, &resp) == 0);
	CHECK(resp.status == 200 && strcmp((char *)resp.body, "len=10") == 0);

	/* The body limit. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", port);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.max_body = 1000;
	CHECK(http_do(c, &req, &resp) == -ERANGE);
	CHECK(strstr(resp.error, "larger than") != NULL);
	req.max_body = 0;
	CHECK(http_do(c, &req, &resp) == 0 && resp.body_len == 100000);

	/* Redirects: not followed unless asked; never with our token. */
	CHECK(get(c, "/redirect", auth, 1, 0, &resp) == 0 &&
	    resp.status == 302);
	CHECK(get(c, "/auth", auth, 1, 0, &resp) == 0 &&
	    strcmp((char *)resp.body, "auth=yes") == 0);
	CHECK(get(c, "/redirect", auth, 1, 1, &resp) == 0);
	CHECK(resp.status == 200 && resp.body != NULL &&
	    strcmp((char *)resp.body, "auth=no") == 0);

	/* Many threads, one client. */
	for (i = 0; i < 4; i++) {
		par[i].c = c;
		par[i].n_ok = 0;
		pthread_create(&th[i], NULL, par_get, &par[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK(par[0].n_ok + par[1].n_ok + par[2].n_ok + par[3].n_ok == 80);

	/* Nothing listens: -EIO after the retries, naming the host. */
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = "http://127.0.0.1:9/x";
	CHECK(http_do(c, &req, &resp) == -EIO);
	CHECK(strstr(resp.error, "127.0.0.1:9") != NULL);
	CHECK(resp.n_attempts == 3);
	req.url = NULL;
	CHECK(http_do(c, &req, &resp) == -EINVAL);

	/* URL encoding as SigV4 wants it. */
	CHECK(http_url_encode("a b/c~d", 7, 1, out, sizeof(out)) == 0 &&
	    strcmp(out, "a%20b/c~d") == 0);
	CHECK(http_url_encode("a b/c~d", 7, 0, out, sizeof(out)) == 0 &&
	    strcmp(out, "a%20b%2Fc~d") == 0);
	CHECK(http_url_encode("\xc3\xa9", 2, 0, out, sizeof(out)) == 0 &&
	    strcmp(out, "%C3%A9") == 0);
	CHECK(http_url_encode("abc", 3, 0, out, 3) == -ERANGE);

	http_response_fini(&resp);
	http_client_free(c);
	http_client_free(NULL);
	/* Stop the server: accept() fails once the socket is shut down. */
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(server_th, NULL);
	close(listen_fd);
	return check_done("test_http");
}
