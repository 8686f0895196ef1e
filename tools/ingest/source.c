/*
 * source.c: what every source reader shares with the ingest pipeline
 * that runs it (source.h): the warning line, counted for the summary.
 * It depends on nothing but stdio and the context, so that the readers
 * (src_*.c, forge_*.c) and the pipeline (ingest.c) both point down to it.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "source.h"

void
src_warn(struct src_ctx *c, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	/* Paths can be long (deep trees): no fixed-size buffer. */
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->lock);
	c->progress.n_warnings++;
	if (c->is_dry) {
		pthread_mutex_unlock(&c->lock);
		if (n >= 0)
			free(msg);
		return;
	}
	if (c->is_line_shown) {
		fputs("\r\033[K", stderr);
		c->is_line_shown = 0;
	}
	/* As cli_warn(), which would cut a long message. */
	fprintf(stderr, "amber ingest: warning: %s\n",
	    n >= 0 ? msg : "(out of memory for a warning)");
	pthread_mutex_unlock(&c->lock);
	if (n >= 0)
		free(msg);
}
