/*
 * log.h: libstore's messages.  log_err() formats one line, sends it to the
 * sink set by store_log_set() and returns its first argument, so that the
 * function that knows the context can report and return in one step.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>
#include <stdint.h>

#define LOG_LEVEL_ERR 3
#define LOG_LEVEL_WARN 4
#define LOG_LEVEL_INFO 6

int log_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lower-case hex of ${len} bytes into ${out} (2 * len + 1 bytes). */
void log_hex(const uint8_t *buf, size_t len, char *out);

#endif
