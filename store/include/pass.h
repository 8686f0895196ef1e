/*
 * pass.h: reading a passphrase, the one way amber and amberfs both do it:
 * from a file, from the environment, or from the terminal with echo off
 * (an error, not a hang, without one).  A passphrase is never empty,
 * never holds a NUL byte and is at most PASS_MAX bytes.
 */
#ifndef PASS_H
#define PASS_H

#include <stddef.h>

#define PASS_MAX 4096	/* longer is a mistake (a wrong file, say) */

/*
 * pass_get(file, env, prompt, pass, len, from):
 * Read a passphrase from the file ${file} if not NULL; else from the file
 * named by the environment variable ${env}_FILE if set and not empty;
 * else from ${env} if set; else ask on /dev/tty with ${prompt}.  One
 * trailing newline of a file is stripped.  Returns 0 and a malloc'd,
 * NUL-terminated *${pass} of *${len} bytes, which the caller releases
 * with pass_free().  Returns -EINVAL if it is empty or holds a NUL byte;
 * -EFBIG if longer than PASS_MAX; -ENXIO if there is no terminal to ask
 * on; -EINTR if a signal interrupted the prompt (the terminal is put back
 * first, then the signal raised again); -ENOMEM; -errno from reading a
 * file.  *${from}, if ${from} is not NULL, names where it came from (the
 * file's path, the variable's name or "the terminal") for messages; it
 * is valid as long as ${file}, ${env} and the environment are.
 * Not thread-safe: it changes signal dispositions while it asks.
 */
int pass_get(const char *file, const char *env, const char *prompt,
    char **pass, size_t *len, const char **from);

/*
 * pass_get_new(file, env, pass, len):
 * Like pass_get() for a new passphrase: on the terminal it is asked for
 * twice, and -EINVAL returned when the two differ.
 */
int pass_get_new(const char *file, const char *env, char **pass,
    size_t *len);

/* pass_free(pass, len): wipe and free a passphrase; NULL is accepted. */
void pass_free(char *pass, size_t len);

#endif
