/* span.h - a borrowed run of bytes: pointer plus length (HAProxy's ist).
 * Peer data is never NUL-terminated; every parser takes a span.
 * A span does not own its bytes: it is valid as long as its owner says. */
#ifndef PETREL_SPAN_H
#define PETREL_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct span {
	const unsigned char *p;
	size_t len;
};

static inline struct span span_make(const void *p, size_t len)
{
	struct span s = { (const unsigned char *)p, len };
	return s;
}

static inline struct span span_cstr(const char *s)
{
	return span_make(s, strlen(s));
}

/* ASCII case-insensitive comparison with a NUL-terminated literal. */
bool span_eq_ci(struct span s, const char *lit);
/* true if s starts with lit (ASCII case-insensitive). */
bool span_prefix_ci(struct span s, const char *lit);
/* Drop leading and trailing SP/HTAB. */
struct span span_trim(struct span s);
/* Copy s into dst (size dstsz) as a C string; -1 if it does not fit or
 * contains a NUL byte. */
int span_to_cstr(struct span s, char *dst, size_t dstsz);

#endif
