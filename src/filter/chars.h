/* chars.h - character helpers the filter's readers share: the two UTF-8
 * steps (read one code point tolerantly, write one), hex digits and ASCII
 * lower case. Internal to src/filter/. */
#ifndef PETREL_FILTER_CHARS_H
#define PETREL_FILTER_CHARS_H

#include <stddef.h>
#include <stdint.h>

/* The code point at p[0..len) (len >= 1) and its length in *n (>= 1).
 * Malformed, overlong or surrogate sequences give U+FFFD and *n = 1, so
 * that a caller always moves forward. */
uint32_t filter_utf8_next(const unsigned char *p, size_t len, size_t *n);
/* Write cp (U+FFFD if not a scalar value) into out[4]; its length. */
size_t filter_utf8_put(uint32_t cp, unsigned char *out);

/* The value of a hex digit, or -1. */
static inline int filter_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* FNV-1a 64: the token hash of token.h (a stored format: never change
 * it), and a cheap first comparison elsewhere. */
static inline uint64_t filter_fnv64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static inline unsigned char filter_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

#endif
