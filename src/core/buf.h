/* buf.h - an owned, growable byte buffer with a hard maximum.
 * Peer bytes live here; the maximum is fixed at creation so that no peer
 * can make us hold more than we agreed to. data/len are read-only to
 * callers; change them only through these calls. */
#ifndef PETREL_BUF_H
#define PETREL_BUF_H

#include <stddef.h>

#include "core/span.h"

struct buf {
	unsigned char *data;	/* read-only for callers */
	size_t len;		/* read-only for callers */
	size_t cap;		/* private */
	size_t max;		/* private: len never exceeds it */
};

/* Initialise an empty buffer that will never hold more than max bytes. */
void buf_init(struct buf *b, size_t max);
/* Release memory; b can be buf_init'ed again. */
void buf_release(struct buf *b);
/* Append; -1 (and nothing appended) if len + n would exceed max. */
int buf_append(struct buf *b, const void *p, size_t n)
	__attribute__((warn_unused_result));
/* Insert n bytes at offset at (<= len); -1 (nothing changed) past max. */
int buf_insert(struct buf *b, size_t at, const void *p, size_t n)
	__attribute__((warn_unused_result));
/* Forget the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Empty b and change its maximum, keeping its memory for reuse. */
void buf_reset_max(struct buf *b, size_t max);
static inline struct span buf_span(const struct buf *b)
{
	return span_make(b->data, b->len);
}

/* 1: *line_out = the first line without its CRLF (or LF), valid until the
 * next call that changes b, and *used_out = bytes to buf_consume;
 * 0: no complete line yet and fewer than max bytes buffered;
 * -1: no line end within max bytes (caller replies 500 and resyncs). */
int buf_getline(const struct buf *b, size_t max, struct span *line_out,
		size_t *used_out);

#endif
