/* utf8.h - the two UTF-8 steps the filter needs: read one code point
 * tolerantly and write one. Internal to src/filter/. */
#ifndef PETREL_FILTER_UTF8_H
#define PETREL_FILTER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The code point at p[0..len) (len >= 1) and its length in *n (>= 1).
 * Malformed, overlong or surrogate sequences give U+FFFD and *n = 1, so
 * that a caller always moves forward. */
uint32_t filter_utf8_next(const unsigned char *p, size_t len, size_t *n);
/* Write cp (U+FFFD if not a scalar value) into out[4]; its length. */
size_t filter_utf8_put(uint32_t cp, unsigned char *out);

#endif
