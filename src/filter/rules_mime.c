/* rules_mime.c - how the message's MIME was written: the tells of
 * software that writes it by hand rather than with a MIME library. */
#include "filter/rules_private.h"

#include <string.h>

/* RFC 2045 6.7: a quoted-printable line is at most 76 characters, the
 * soft break's "=" included. Mail programs keep to it; mass mailers that
 * assemble the encoding themselves often do not. */
#define QP_LINE_MAX 76
/* Octets of one part looked at: a long line shows early. */
#define QP_SCAN_MAX (64u * 1024)

static bool qp_long_line(struct span body)
{
	size_t n = body.len < QP_SCAN_MAX ? body.len : QP_SCAN_MAX;
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && body.p[i] != '\n')
			continue;
		size_t len = i - start;
		if (len > 0 && body.p[start + len - 1] == '\r')
			len--;
		if (len > QP_LINE_MAX && i < n)
			return true;
		start = i + 1;
	}
	return false;
}

void rules_mime(struct rules_ctx *c)
{
	uint32_t n = mime_message_nparts(c->m);

	for (uint32_t i = 0; i < n; i++) {
		const struct mime_part *p = mime_message_part(c->m, i);
		if (p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE) ||
		    p->cte != MIME_CTE_QP)
			continue;
		if (qp_long_line(mime_part_body(c->m, p))) {
			RULES_ADD(c, "MIME_QP_LONG", "part %u", (unsigned)i + 1);
			return;
		}
	}
}
