/* rules_test_util.h - building blocks for the rule tests: a ZIP archive
 * writer (stored entries, or a central directory only) and base64, so
 * that attachments are built in the test rather than kept as binaries. */
#ifndef PETREL_TEST_RULES_UTIL_H
#define PETREL_TEST_RULES_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

struct tzip_entry {
	const char *name;
	bool encrypted;
	uint32_t csize, usize;	/* claimed in the directory */
};

static inline void tz_le(struct buf *b, uint64_t v, int n)
{
	unsigned char x[8];
	for (int i = 0; i < n; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	if (buf_append(b, x, (size_t)n) < 0)
		abort();
}

static inline void tz_put(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) < 0)
		abort();
}

/* One central directory header; an extra field of xl octets is for the
 * caller to append after it. */
static inline void tzip_cdh(struct buf *b, const struct tzip_entry *e,
			    size_t xl)
{
	size_t nl = strlen(e->name);

	tz_put(b, "PK\x01\x02", 4);
	tz_le(b, 45, 2);
	tz_le(b, 45, 2);
	tz_le(b, e->encrypted ? 1 : 0, 2);
	tz_le(b, 8, 2);			/* deflate */
	tz_le(b, 0, 4);			/* time, date */
	tz_le(b, 0, 4);			/* crc */
	tz_le(b, e->csize, 4);
	tz_le(b, e->usize, 4);
	tz_le(b, nl, 2);
	tz_le(b, xl, 2);
	tz_le(b, 0, 2);
	tz_le(b, 0, 8);			/* disk, attributes */
	tz_le(b, 0, 4);			/* local header offset */
	tz_put(b, e->name, nl);
}

/* A ZIP with one local header (the magic a reader sees first) and a
 * central directory of n entries; comment appended after the end
 * record. */
static inline void tzip_build(struct buf *b, const struct tzip_entry *e, size_t n,
		       const char *comment)
{
	tz_put(b, "PK\x03\x04", 4);
	tz_le(b, 20, 2);
	for (int i = 0; i < 3; i++)	/* the rest of a local header */
		tz_le(b, 0, 8);
	size_t cd = b->len;
	for (size_t i = 0; i < n; i++)
		tzip_cdh(b, &e[i], 0);
	size_t cdsize = b->len - cd;
	size_t cl = comment ? strlen(comment) : 0;
	tz_put(b, "PK\x05\x06", 4);
	tz_le(b, 0, 4);
	tz_le(b, n > 0xffff ? 0xffff : n, 2);
	tz_le(b, n > 0xffff ? 0xffff : n, 2);
	tz_le(b, cdsize, 4);
	tz_le(b, cd, 4);
	tz_le(b, cl, 2);
	if (cl)
		tz_put(b, comment, cl);
}

/* base64 with 76-column lines. */
static inline void tb64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = { a[v >> 18], a[(v >> 12) & 63],
			      i + 1 < n ? a[(v >> 6) & 63] : '=',
			      i + 2 < n ? a[v & 63] : '=' };
		tz_put(out, q, 4);
		if ((col += 4) == 76) {
			tz_put(out, "\r\n", 2);
			col = 0;
		}
	}
	tz_put(out, "\r\n", 2);
}

#endif
