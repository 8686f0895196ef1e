/*
 * pass.c: reading passphrases (pass.h), for amber and amberfs alike, so
 * that both refuse the same things and both put the terminal back.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "io.h"
#include "pass.h"

void
pass_free(char *pass, size_t len)
{
	if (pass == NULL)
		return;
	explicit_bzero(pass, len + 1);
	free(pass);
}

/* A passphrase file: one trailing "\n" stripped, no NUL, not empty. */
static int
from_file(const char *path, char **pass, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	int r;

	if ((r = io_read_file(path, PASS_MAX, &buf, &n)) < 0)
		return r;
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n == 0 || memchr(buf, '\0', n) != NULL) {
		pass_free(buf, n);
		return -EINVAL;
	}
	*pass = buf;
	*len = n;
	return 0;
}

static int
from_string(const char *s, char **pass, size_t *len)
{
	size_t n = strlen(s);

	if (n == 0)
		return -EINVAL;
	if (n > PASS_MAX)
		return -EFBIG;
	if ((*pass = malloc(n + 1)) == NULL)
		return -ENOMEM;
	memcpy(*pass, s, n + 1);
	*len = n;
	return 0;
}

/*
 * The signal that interrupted a prompt, or 0.  A mutable global because
 * a signal handler has nowhere else to write; only pass_ask() sets and
 * reads it, with its handlers in place.
 */
static volatile sig_atomic_t pass_signal;

static void
on_signal(int sig)
{
	pass_signal = sig;
}

/* Read one line from the terminal ${fd} into ${buf} (PASS_MAX + 1). */
static int
read_line(int fd, char *buf, size_t *len)
{
	size_t n = 0;
	ssize_t got;
	char ch;

	for (;;) {
		got = read(fd, &ch, 1);
		if (got < 0 && errno == EINTR && pass_signal != 0)
			return -EINTR;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -EIO;
		if (got == 0 || ch == '\n' || ch == '\r')
			break;
		if (n == PASS_MAX)
			return -EFBIG;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	if (n == 0 || memchr(buf, '\0', n) != NULL)
		return -EINVAL;
	*len = n;
	return 0;
}

/*
 * Ask on the terminal ${fd} with echo off.  The terminal settings are
 * put back before returning, whatever happens: a signal that would end
 * the process (^C, quit, a hangup, kill) interrupts the read, and is
 * raised again once echo is back on.
 */
static int
ask(int fd, const char *prompt, char **pass, size_t *len)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM };
	struct sigaction old_sa[sizeof(sigs) / sizeof(sigs[0])];
	struct sigaction sa;
	struct termios old;
	struct termios quiet;
	char *buf = NULL;
	size_t i;
	int is_set = 0;
	int r;

	if (tcgetattr(fd, &old) != 0)
		return -ENXIO;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read gets EINTR */
	sigemptyset(&sa.sa_mask);
	pass_signal = 0;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, &old_sa[i]);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		r = -ENXIO;
		goto out;
	}
	is_set = 1;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		r = -EIO;
		goto out;
	}
	if ((buf = malloc(PASS_MAX + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = read_line(fd, buf, len)) < 0)
		goto out;
	*pass = buf;
	buf = NULL;
out:
	if (is_set) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0) {
			/* Nothing to do: the answer is read already. */
		}
	}
	if (buf != NULL) {
		explicit_bzero(buf, PASS_MAX + 1);
		free(buf);
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &old_sa[i], NULL);
	if (pass_signal != 0)
		raise(pass_signal);
	return r;
}

static int
tty_open(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -ENXIO;
	if (!isatty(fd)) {
		close(fd);
		return -ENXIO;
	}
	return fd;
}

/*
 * The file or environment sources of pass_get(), in order.  Returns 1
 * when none applies (the terminal is next), else what reading gave.
 */
static int
from_given(const char *file, const char *env, char **pass, size_t *len,
    const char **from)
{
	char envfile[128];
	const char *v;

	if (file != NULL) {
		*from = file;
		return from_file(file, pass, len);
	}
	snprintf(envfile, sizeof(envfile), "%s_FILE", env);
	if ((v = getenv(envfile)) != NULL && *v != '\0') {
		*from = v;
		return from_file(v, pass, len);
	}
	if ((v = getenv(env)) != NULL) {
		*from = env;
		return from_string(v, pass, len);
	}
	*from = "the terminal";
	return 1;
}

int
pass_get(const char *file, const char *env, const char *prompt,
    char **pass, size_t *len, const char **from)
{
	const char *src;
	int fd;
	int r;

	*pass = NULL;
	*len = 0;
	r = from_given(file, env, pass, len, from != NULL ? from : &src);
	if (r <= 0)
		return r;
	if ((fd = tty_open()) < 0)
		return fd;
	r = ask(fd, prompt, pass, len);
	close(fd);
	return r;
}

int
pass_get_new(const char *file, const char *env, char **pass, size_t *len)
{
	const char *src;
	char *again = NULL;
	size_t again_len = 0;
	int fd;
	int r;

	*pass = NULL;
	*len = 0;
	if ((r = from_given(file, env, pass, len, &src)) <= 0)
		return r;
	if ((fd = tty_open()) < 0)
		return fd;
	if ((r = ask(fd, "New passphrase: ", pass, len)) < 0)
		goto out;
	if ((r = ask(fd, "Repeat it: ", &again, &again_len)) < 0)
		goto out;
	if (again_len != *len || memcmp(again, *pass, *len) != 0)
		r = -EINVAL;
out:
	pass_free(again, again_len);
	if (r < 0) {
		pass_free(*pass, *len);
		*pass = NULL;
		*len = 0;
	}
	close(fd);
	return r;
}
