/*
 * msg.c: amberfs's log sink.  Two process-wide flags choose stderr or
 * syslog and whether debug lines are shown; they are written once at
 * start-up before any thread exists and only read afterwards, which is why
 * they can be plain atomics rather than state in struct fs (libstore's log
 * callback has no context pointer).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "msg.h"

static atomic_int use_syslog;
static atomic_int show_debug;

void
msg_use_syslog(void)
{
	openlog("amberfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&use_syslog, 1);
}

void
msg_set_debug(int on)
{
	atomic_store(&show_debug, on);
}

void
msg_sink(int level, const char *text)
{
	if (level >= LOG_DEBUG && !atomic_load(&show_debug))
		return;
	if (atomic_load(&use_syslog))
		syslog(level, "%s", text);
	else
		fprintf(stderr, "amberfs: %s\n", text);
}

static void
vlog(int level, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	msg_sink(level, buf);
}

void
msg_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

int
msg_err(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	return r;
}
