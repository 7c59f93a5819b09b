/* xmalloc.h - allocation wrappers that abort on failure.
 * Only for small, fixed-size allocations whose size we choose. A size a
 * peer chooses is checked against a budget before it gets here. */
#ifndef PETREL_XMALLOC_H
#define PETREL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
