/*
 * msg.h: where amberfs's own messages and libstore's go.  Until
 * msg_use_syslog() they go to stderr as "amberfs: MSG"; after it (once the
 * daemon has detached) to syslog(3) with the facility LOG_DAEMON.
 */
#ifndef MSG_H
#define MSG_H

#include <syslog.h>

/*
 * msg_log(level, fmt, ...): log one line at syslog ${level} (LOG_ERR,
 * LOG_WARNING, LOG_INFO, LOG_DEBUG).  Thread-safe.
 */
void msg_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * msg_err(r, fmt, ...): log one LOG_ERR line and return ${r}, so that a
 * failure is reported where its context is and passed up unchanged.
 */
int msg_err(int r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* msg_sink(level, text): the function handed to store_log_set(). */
void msg_sink(int level, const char *text);

/*
 * msg_use_syslog(): send every later message to syslog.  Call once, after
 * detaching and before the session threads start.
 */
void msg_use_syslog(void);

/* msg_set_debug(on): also emit LOG_DEBUG lines (-d). */
void msg_set_debug(int on);

#endif
