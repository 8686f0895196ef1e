/*
 * name.h: stored names (raw bytes) for people: UTF-8 and escaping.
 */
#ifndef NAME_H
#define NAME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * name_utf8_seq(p, n, cp):
 * The length of the valid UTF-8 sequence at ${p} (at most ${n} bytes,
 * n >= 1), with its code point in *${cp}; 0 if it is not valid (overlong
 * forms, surrogates and code points past U+10FFFF are not).
 */
size_t name_utf8_seq(const uint8_t *p, size_t n, uint32_t *cp);

/*
 * name_is_utf8(buf, len): 1 if ${buf} is valid, NUL-free UTF-8 (so it
 * can be a JSON string as is), else 0.
 */
int name_is_utf8(const uint8_t *buf, size_t len);

/*
 * name_print(f, name, len, is_escaped):
 * Write the stored name (raw bytes) to ${f}: as is, or, with
 * ${is_escaped}, with backslash, control characters, DEL and bytes that
 * are not valid UTF-8 written as C escapes (\\, \n, \t, \xHH), so that
 * one name is one line.
 */
void name_print(FILE *f, const uint8_t *name, size_t len, int is_escaped);

#endif
