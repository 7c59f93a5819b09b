/* mime_test_util.h - helpers shared by the MIME tests (header-only: each
 * test_*.c is its own binary): reading whole files, bare LF to CRLF, and
 * where the shared test data lives. */
#ifndef PETREL_MIME_TEST_UTIL_H
#define PETREL_MIME_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Relative to the repository root, where make runs the tests. */
#define TESTDATA "../shared/testdata"

/* Whole file in a malloc'ed block of exactly its size (so ASan sees any
 * read past the end); NULL if it cannot be read. */
static inline unsigned char *read_file(const char *path, size_t *len_out)
{
	*len_out = 0;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 65536, len = 0;
	unsigned char *d = malloc(cap);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			d = realloc(d, cap);
		}
		size_t n = fread(d + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	unsigned char *exact = malloc(len ? len : 1);
	memcpy(exact, d, len);
	free(d);
	*len_out = len;
	return exact;
}

/* Every LF not preceded by CR becomes CRLF, as SMTP stores messages. */
static inline unsigned char *to_crlf(const unsigned char *p, size_t len,
				     size_t *len_out)
{
	size_t extra = 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			extra++;
	unsigned char *d = malloc(len + extra ? len + extra : 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			d[n++] = '\r';
		d[n++] = p[i];
	}
	*len_out = n;
	return d;
}

#endif
