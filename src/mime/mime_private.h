/* mime_private.h - internals shared by the files of src/mime/: the
 * allocation arena, the message object and the lexical helpers of RFC
 * 5322 3.2. No other folder includes this. */
#ifndef PETREL_MIME_PRIVATE_H
#define PETREL_MIME_PRIVATE_H

#include "mime/mime.h"

/* An append-only arena: strings and arrays a parse produces live here and
 * go away together. Chunks grow geometrically so a message costs a few
 * allocations, never one per byte. This is struct mime_fields publicly. */
struct mime_chunk;
struct mime_fields {
	struct mime_chunk *head;
	size_t next_size;
};

void *mime_arena_alloc(struct mime_fields *a, size_t n);
void mime_arena_release(struct mime_fields *a);
/* Copy of p[0..n) in the arena (not NUL-terminated). */
struct span mime_arena_dup(struct mime_fields *a, const void *p, size_t n);

struct mime_message {
	const unsigned char *p;
	size_t len;
	struct mime_part *parts;
	uint32_t nparts, cap;
	struct mime_fields arena;
};

/* Parse a Content-Type (want_subtype) or Content-Disposition value. */
void mime_ct_parse(struct span value, bool want_subtype,
		   struct mime_fields *a, struct span *type_out,
		   struct span *subtype_out, struct mime_param **params_out,
		   uint32_t *nparams_out);

/* RFC 5322 3.2.3 atext plus the 8-bit bytes lenient parsers accept. */
static inline bool mime_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static inline bool mime_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline unsigned char mime_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static inline int mime_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = mime_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Skip white space and (nested) comments from *i; stop at end. If
 * comment_out is not NULL, the last comment's inside is stored there. */
void mime_skip_cfws(struct span s, size_t *i, struct span *comment_out);

/* Append the UTF-8 encoding of U+FFFD. */
int mime_put_replacement(struct buf *out)
	__attribute__((warn_unused_result));
/* Append in, replacing bytes that are not UTF-8 by U+FFFD. */
int mime_utf8_sanitize(struct span in, struct buf *out)
	__attribute__((warn_unused_result));

/* IMAP string output shared by envelope and bodystructure. */
int mime_imap_nstring(struct buf *out, struct span s, bool present)
	__attribute__((warn_unused_result));

#endif
