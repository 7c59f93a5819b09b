/* filter_header.c - the header fields that explain a verdict, and the
 * removal of outside copies of them. */
#include "filter/filter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/fieldstrip.h"
#include "mime/mime.h"

static const char *const ours[] = {
	"X-Spam-Score", "X-Spam-Symbols", "X-Spam-Flag", "X-Spam-Status",
	"X-Spam-Level",
};

static bool spam_field(const unsigned char *name, size_t nlen,
		       const unsigned char *value, size_t vlen, void *ctx)
{
	(void)value;
	(void)vlen;
	(void)ctx;
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strlen(ours[i]) == nlen &&
		    strncasecmp((const char *)name, ours[i], nlen) == 0)
			return true;
	return false;
}

size_t filter_header_strip(unsigned char *msg, size_t *len, size_t start)
{
	return field_strip(msg, len, start, spam_field, NULL);
}

/* Append item to the field being written in tmp, folding before it when
 * the line would pass 78 columns. false when it does not fit. */
static bool fold_append(char *tmp, size_t cap, size_t *len, size_t *col,
			const char *item, bool first)
{
	size_t n = strlen(item);
	const char *sep = first ? " " : (*col + 2 + n > 78 ? ",\r\n\t" : ", ");
	size_t sl = strlen(sep);

	if (*len + sl + n + 3 > cap)
		return false;
	memcpy(tmp + *len, sep, sl);
	*len += sl;
	*col = sep[1] == '\r' ? 8 : *col + sl;
	memcpy(tmp + *len, item, n);
	*len += n;
	*col += n;
	return true;
}

int filter_header_format(const struct filter_verdict *v, struct buf *out)
{
	char tmp[FILTER_HEADER_MAX];
	size_t len = 0, col;
	int n;

	n = snprintf(tmp, sizeof(tmp),
		     "X-Spam-Flag: %s\r\n"
		     "X-Spam-Score: %.2f (%s, level %s)\r\n"
		     "X-Spam-Symbols:",
		     v->action == FILTER_DELIVER ? "NO" : "YES", v->score,
		     filter_action_str(v->action), filter_level_str(v->level));
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	len = (size_t)n;
	col = strlen("X-Spam-Symbols:");
	if (v->syms.n == 0)
		fold_append(tmp, sizeof(tmp), &len, &col, "none", true);
	for (size_t i = 0; i < v->syms.n; i++) {
		const struct filter_sym *s = &v->syms.v[i];
		char item[FILTER_SYM_NAME_MAX + FILTER_SYM_DETAIL_MAX + 32];
		char detail[FILTER_SYM_DETAIL_MAX];
		size_t k = 0;

		/* the detail goes in a comment-like parenthesis: keep the
		 * field's own separators out of it */
		for (const char *p = s->detail; *p && k + 1 < sizeof(detail);
		     p++) {
			char c = *p;
			if (c == '(')
				c = '[';
			else if (c == ')')
				c = ']';
			else if (c == ',')
				c = ';';
			detail[k++] = c;
		}
		detail[k] = '\0';
		snprintf(item, sizeof(item), k ? "%s(%.2f; %s)" : "%s(%.2f)",
			 s->name, s->score, detail);
		if (!fold_append(tmp, sizeof(tmp), &len, &col, item, i == 0))
			break;
	}
	memcpy(tmp + len, "\r\n", 2);
	len += 2;
	return buf_append(out, tmp, len) == 0 ? 0 : -1;
}

int filter_subject_tag(struct buf *msg, size_t start)
{
	static const char tag[] = FILTER_EXTERNAL_TAG " ";
	struct span hdr = mime_header_section(
		span_make(msg->data + start, msg->len - start), NULL);
	size_t pos = 0;
	struct span name, value;

	while (mime_header_next(hdr, &pos, &name, &value) == 1) {
		if (name.len != 7 ||
		    strncasecmp((const char *)name.p, "subject", 7) != 0)
			continue;
		if (value.len >= sizeof(tag) - 2 &&
		    strncasecmp((const char *)value.p, tag, sizeof(tag) - 2) == 0)
			return 0;
		return buf_insert(msg, (size_t)(value.p - msg->data), tag,
				  sizeof(tag) - 1);
	}
	return buf_insert(msg, start, "Subject: " FILTER_EXTERNAL_TAG "\r\n",
			  sizeof("Subject: " FILTER_EXTERNAL_TAG "\r\n") - 1);
}

static bool value_is(struct span v, const char *want)
{
	size_t n = strlen(want);
	return v.len >= n && strncasecmp((const char *)v.p, want, n) == 0 &&
	       (v.len == n || v.p[n] == ';' || v.p[n] == ' ' ||
		v.p[n] == '\t' || v.p[n] == '\r' || v.p[n] == '\n');
}

int filter_body_banner(struct buf *msg, size_t start)
{
	size_t body;
	struct span hdr, ct, cte;

	hdr = mime_header_section(span_make(msg->data + start,
					    msg->len - start), &body);
	if (body == msg->len - start)
		return 0;	/* no body: nothing to put a banner on */
	body += start;
	if (mime_header_find(hdr, "content-type", &ct) &&
	    !value_is(ct, "text/plain"))
		return 0;
	if (mime_header_find(hdr, "content-transfer-encoding", &cte) &&
	    !value_is(cte, "7bit") && !value_is(cte, "8bit") &&
	    !value_is(cte, "quoted-printable"))
		return 0;
	return buf_insert(msg, body, FILTER_EXTERNAL_BANNER,
			  sizeof(FILTER_EXTERNAL_BANNER) - 1) == 0 ? 1 : -1;
}
