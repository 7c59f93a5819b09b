/* dkim_msg.c - a message split into header fields and body for DKIM and
 * ARC. Reads lines ending in LF, a CR before it dropped, so CRLF and bare
 * LF messages split the same way; nothing is copied. */
#include "msgauth/dkim_private.h"

#include <stdlib.h>
#include <strings.h>

#include "core/xmalloc.h"

/* The end of the line starting at p (the LF, or end) and where its
 * content ends (before a CR that precedes the LF). */
static const char *line_end(const char *p, const char *end, const char **content_end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (nl == NULL) {
		*content_end = end;
		return end;
	}
	*content_end = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
	return nl;
}

static int msg_fail(struct dkim_msg *m, struct err *err, const char *why)
{
	dkim_msg_free(m);
	return err_set(err, ERR_PEER, 0, "", "malformed message: %s", why);
}

int dkim_msg_split(const char *msg, size_t len, struct dkim_msg *m, struct err *err)
{
	const char *p = msg, *end = msg + len;
	size_t cap = 0;

	*m = (struct dkim_msg){ 0 };
	m->body = end;
	while (p < end) {
		const char *ce, *le = line_end(p, end, &ce);
		const char *next = le < end ? le + 1 : end;

		if (ce == p) {			/* the empty line */
			m->body = next;
			break;
		}
		if ((size_t)(next - msg) > DKIM_MAX_HEADER_SECTION)
			return msg_fail(m, err, "header section too large");
		if (*p == ' ' || *p == '\t') {
			if (m->n == 0)
				return msg_fail(m, err, "continuation line first");
			struct dkim_field *f = &m->f[m->n - 1];
			f->raw_len = (size_t)(ce - f->raw);
			if (f->raw_len > DKIM_MAX_FIELD)
				return msg_fail(m, err, "header field too large");
			p = next;
			continue;
		}
		const char *colon = memchr(p, ':', (size_t)(ce - p));
		if (colon == NULL)
			return msg_fail(m, err, "header line without a colon");
		const char *ne = colon;
		while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		if (ne == p)
			return msg_fail(m, err, "empty field name");
		for (const char *q = p; q < ne; q++)
			if ((unsigned char)*q < 33 || (unsigned char)*q > 126)
				return msg_fail(m, err, "bad character in a field name");
		if (m->n == DKIM_MAX_HEADERS)
			return msg_fail(m, err, "too many header fields");
		if ((size_t)(ce - p) > DKIM_MAX_FIELD)
			return msg_fail(m, err, "header field too large");
		if (m->n == cap) {
			cap = cap ? cap * 2 : 32;
			m->f = xreallocarray(m->f, cap, sizeof *m->f);
		}
		m->f[m->n++] = (struct dkim_field){ p, (size_t)(ne - p), p, (size_t)(ce - p) };
		p = next;
	}
	m->body_len = (size_t)(end - m->body);
	return 0;
}

void dkim_msg_free(struct dkim_msg *m)
{
	free(m->f);
	m->f = NULL;
	m->n = 0;
}

bool dkim_field_is(const struct dkim_field *f, const char *name, size_t len)
{
	return f->name_len == len && strncasecmp(f->name, name, len) == 0;
}
