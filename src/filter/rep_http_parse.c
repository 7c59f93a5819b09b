/* rep_http_parse.c - the response side of the threat-intelligence client
 * (RFC 9112): status line, header fields, and a body framed by
 * Content-Length, chunked coding or the end of the connection. A pure
 * function of the octets read so far, so the fuzzer drives it as the
 * client does. It is strict where leniency lets a peer confuse framing
 * (both framings, two different lengths, folded fields) and bounded
 * everywhere (the caller's buffer, FILTER_REP_TI_HEADERS_MAX lines). */
#include "filter/rep_private.h"

#include <string.h>

/* The next line of p[*pos..len) without its CRLF (or bare LF): 1, or 0
 * when no end of line is there yet. */
static int next_line(const unsigned char *p, size_t len, size_t *pos,
		     struct span *line)
{
	const unsigned char *nl;

	if (*pos >= len)
		return 0;
	nl = memchr(p + *pos, '\n', len - *pos);
	if (nl == NULL)
		return 0;
	line->p = p + *pos;
	line->len = (size_t)(nl - line->p);
	if (line->len > 0 && line->p[line->len - 1] == '\r')
		line->len--;
	*pos = (size_t)(nl - p) + 1;
	return 1;
}

/* A decimal (base 10) or hex (16) number of at most 15 digits: no
 * overflow; a longer one is larger than any body we take. */
static int number(struct span s, unsigned base, size_t *out)
{
	size_t v = 0;

	if (s.len == 0 || s.len > 15)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = s.p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" */
static int status_line(struct span l, int *status)
{
	if (l.len < 12 || memcmp(l.p, "HTTP/1.", 7) != 0 ||
	    (l.p[7] != '0' && l.p[7] != '1') || l.p[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (l.p[i] < '0' || l.p[i] > '9')
			return -1;
	if (l.len > 12 && l.p[12] != ' ')
		return -1;
	*status = (l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 + (l.p[11] - '0');
	return *status < 200 ? -1 : 0;	/* no 1xx: we send no Expect */
}

/* The chunked body at p[pos..len) into body: 1 done, 0 more, -1 bad. */
static int chunked(const unsigned char *p, size_t len, size_t pos,
		   unsigned char *body, size_t cap, size_t *body_len)
{
	size_t n = 0;
	struct span l;

	for (;;) {
		size_t size;
		const unsigned char *semi;

		if (!next_line(p, len, &pos, &l))
			return 0;
		semi = memchr(l.p, ';', l.len);	/* chunk extensions ignored */
		if (semi != NULL)
			l.len = (size_t)(semi - l.p);
		if (number(span_trim(l), 16, &size) != 0)
			return -1;
		if (size == 0)
			break;
		if (size > cap - n)
			return -1;
		if (len - pos < size)
			return 0;
		memcpy(body + n, p + pos, size);
		n += size;
		pos += size;
		if (!next_line(p, len, &pos, &l))
			return 0;
		if (l.len != 0)
			return -1;
	}
	/* trailer fields, then the empty line */
	for (unsigned k = 0;; k++) {
		if (k > FILTER_REP_TI_HEADERS_MAX)
			return -1;
		if (!next_line(p, len, &pos, &l))
			return 0;
		if (l.len == 0)
			break;
	}
	*body_len = n;
	return 1;
}

int rep_http_parse(const unsigned char *p, size_t len, bool eof,
		   unsigned char *body, size_t bodycap,
		   struct rep_http_resp *out)
{
	size_t pos = 0, clen = 0;
	bool have_len = false, is_chunked = false;
	struct span l;
	unsigned lines = 0;

	memset(out, 0, sizeof *out);
	if (!next_line(p, len, &pos, &l))
		return eof ? -1 : 0;
	if (status_line(l, &out->status) != 0)
		return -1;
	for (;;) {
		const unsigned char *colon;
		struct span name, value;

		if (!next_line(p, len, &pos, &l))
			return eof ? -1 : 0;
		if (l.len == 0)
			break;
		if (++lines > FILTER_REP_TI_HEADERS_MAX)
			return -1;
		/* RFC 9112 5.2: obsolete line folding is refused */
		if (l.p[0] == ' ' || l.p[0] == '\t')
			return -1;
		colon = memchr(l.p, ':', l.len);
		if (colon == NULL || colon == l.p)
			return -1;
		name = span_make(l.p, (size_t)(colon - l.p));
		value = span_trim(span_make(colon + 1,
					    l.len - name.len - 1));
		if (span_eq_ci(name, "content-length")) {
			size_t v;

			if (number(value, 10, &v) != 0 ||
			    (have_len && v != clen))
				return -1;
			have_len = true;
			clen = v;
		} else if (span_eq_ci(name, "transfer-encoding")) {
			if (!span_eq_ci(value, "chunked") || is_chunked)
				return -1;
			is_chunked = true;
		}
	}
	/* RFC 9112 6.1: both framings are a smuggling attempt or a bug */
	if (have_len && is_chunked)
		return -1;
	if (out->status == 204 || out->status == 304)
		return 1;
	if (is_chunked) {
		int rc = chunked(p, len, pos, body, bodycap, &out->body_len);

		return rc == 0 && eof ? -1 : rc;
	}
	if (have_len) {
		if (clen > bodycap)
			return -1;
		if (len - pos < clen)
			return eof ? -1 : 0;
		memcpy(body, p + pos, clen);
		out->body_len = clen;
		return 1;
	}
	if (len - pos > bodycap)
		return -1;
	if (!eof)
		return 0;
	memcpy(body, p + pos, len - pos);
	out->body_len = len - pos;
	return 1;
}
