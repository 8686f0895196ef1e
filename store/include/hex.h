/*
 * hex.h: lower-case hexadecimal, the one form amber writes ids, keys and
 * object names in.  Pure functions: no allocation, no I/O.
 */
#ifndef HEX_H
#define HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * hex_encode(buf, len, out):
 * Write the lower-case hex of the ${len} bytes of ${buf} to ${out}, which
 * holds 2 * len + 1 bytes, NUL-terminated.
 */
void hex_encode(const uint8_t *buf, size_t len, char *out);

/*
 * hex_decode(s, out, n):
 * Decode the 2 * ${n} lower-case hex digits at ${s} into the ${n} bytes of
 * ${out}.  Returns 0, or -EINVAL if any of them is not one ('0'-'9',
 * 'a'-'f'); ${out} may then be partly written.
 */
int hex_decode(const char *s, uint8_t *out, size_t n);

/* hex_is_lower(s, len): 1 if the ${len} chars at ${s} are all [0-9a-f]. */
int hex_is_lower(const char *s, size_t len);

#endif
