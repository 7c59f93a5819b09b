/* buf.c - bounded byte buffer. */
#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (n > b->max - b->len)
		return -1;
	if (n == 0)
		return 0;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n)
			ncap = (ncap > b->max / 2) ? b->max : ncap * 2;
		b->data = xreallocarray(b->data, ncap, 1);
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_insert(struct buf *b, size_t at, const void *p, size_t n)
{
	if (at > b->len)
		return -1;
	size_t old = b->len;
	/* grow by n (bytes from p as placeholders), then shift the tail */
	if (buf_append(b, p, n) != 0)
		return -1;
	memmove(b->data + at + n, b->data + at, old - at);
	memcpy(b->data + at, p, n);
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
}

void buf_reset_max(struct buf *b, size_t max)
{
	b->len = 0;
	b->max = max;
}

int buf_getline(const struct buf *b, size_t max, struct span *line_out,
		size_t *used_out)
{
	if (b->len == 0)
		return max == 0 ? -1 : 0;
	size_t scan = b->len < max ? b->len : max;
	const unsigned char *nl = memchr(b->data, '\n', scan);
	if (nl == NULL)
		return b->len >= max ? -1 : 0;
	size_t n = (size_t)(nl - b->data);
	*used_out = n + 1;
	if (n > 0 && b->data[n - 1] == '\r')
		n--;
	*line_out = span_make(b->data, n);
	return 1;
}
