/*
 * log.c: where libstore's messages go.  One process-wide sink, set once at
 * start-up (stderr by default; amberfs switches to syslog once it is in
 * the background).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "hex.h"
#include "log.h"
#include "store.h"

static void (*log_sink)(int level, const char *msg);

void
store_log_set(void (*fn)(int level, const char *msg))
{
	log_sink = fn;
}

static void
emit(int level, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_sink != NULL)
		log_sink(level, msg);
	else
		fprintf(stderr, "amber: %s%s\n",
		    level == LOG_LEVEL_WARN ? "warning: " : "", msg);
}

int
log_err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	return code;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_hex(const uint8_t *buf, size_t len, char *out)
{
	hex_encode(buf, len, out);
}
