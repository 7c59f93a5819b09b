/* mime_header.c - header fields: iteration over a header block, unfolding,
 * comments, Content-Type and Content-Disposition with their parameters
 * (RFC 2045 5.1, RFC 2183, RFC 2231 continuations and charsets) and
 * message ids (RFC 5322 3.6.4). Decoding of header text to UTF-8 is in
 * mime_decode.c. */
#include "mime/mime_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

int mime_header_next(struct span hdr, size_t *pos, struct span *name_out,
		     struct span *value_out)
{
	size_t i = *pos;
	while (i < hdr.len) {
		const unsigned char *nl = memchr(hdr.p + i, '\n', hdr.len - i);
		size_t le = nl ? (size_t)(nl - hdr.p) : hdr.len;
		size_t ce = (le > i && hdr.p[le - 1] == '\r') ? le - 1 : le;
		size_t next = nl ? le + 1 : hdr.len;
		if (ce == i)
			return 0;	/* the empty line: end of header */
		if (hdr.p[i] == ' ' || hdr.p[i] == '\t') {
			i = next;	/* a stray continuation */
			continue;
		}
		const unsigned char *colon = memchr(hdr.p + i, ':', ce - i);
		if (colon == NULL) {
			i = next;
			continue;
		}
		size_t nlen = (size_t)(colon - (hdr.p + i));
		while (nlen > 0 && (hdr.p[i + nlen - 1] == ' ' ||
				    hdr.p[i + nlen - 1] == '\t'))
			nlen--;
		size_t vs = (size_t)(colon - hdr.p) + 1;
		size_t ve = ce;
		/* Take the continuation lines. */
		while (next < hdr.len &&
		       (hdr.p[next] == ' ' || hdr.p[next] == '\t')) {
			nl = memchr(hdr.p + next, '\n', hdr.len - next);
			le = nl ? (size_t)(nl - hdr.p) : hdr.len;
			ce = (le > next && hdr.p[le - 1] == '\r') ? le - 1 : le;
			ve = ce;
			next = nl ? le + 1 : hdr.len;
		}
		while (vs < ve && (hdr.p[vs] == ' ' || hdr.p[vs] == '\t'))
			vs++;
		*name_out = span_make(hdr.p + i, nlen);
		*value_out = span_make(hdr.p + vs, ve - vs);
		*pos = next;
		return 1;
	}
	*pos = i;
	return 0;
}

struct span mime_header_section(struct span msg, size_t *body_out)
{
	for (size_t i = 0; i < msg.len; i++) {
		size_t body;
		if (msg.p[i] != '\n')
			continue;
		if (i + 1 < msg.len && msg.p[i + 1] == '\n')
			body = i + 2;
		else if (i + 2 < msg.len && msg.p[i + 1] == '\r' &&
			 msg.p[i + 2] == '\n')
			body = i + 3;
		else
			continue;
		if (body_out != NULL)
			*body_out = body;
		return span_make(msg.p, i + 1);
	}
	if (body_out != NULL)
		*body_out = msg.len;
	return msg;
}

bool mime_header_find(struct span hdr, const char *name,
		      struct span *value_out)
{
	size_t pos = 0;
	struct span n, v;
	while (mime_header_next(hdr, &pos, &n, &v) == 1) {
		if (span_eq_ci(n, name)) {
			*value_out = v;
			return true;
		}
	}
	return false;
}

int mime_unfold(struct span value, struct buf *out)
{
	size_t i = 0;
	while (i < value.len) {
		size_t s = i;
		while (i < value.len && value.p[i] != '\r' && value.p[i] != '\n')
			i++;
		if (buf_append(out, value.p + s, i - s) < 0)
			return -1;
		while (i < value.len && (value.p[i] == '\r' || value.p[i] == '\n'))
			i++;
	}
	return 0;
}

void mime_skip_cfws(struct span s, size_t *i, struct span *comment_out)
{
	size_t k = *i;
	for (;;) {
		while (k < s.len && mime_is_wsp(s.p[k]))
			k++;
		if (k >= s.len || s.p[k] != '(')
			break;
		/* RFC 5322 3.2.2: comments nest and take quoted-pairs. */
		size_t depth = 0, start = k + 1;
		while (k < s.len) {
			unsigned char ch = s.p[k];
			if (ch == '\\' && k + 1 < s.len) {
				k += 2;
				continue;
			}
			k++;
			if (ch == '(') {
				depth++;
			} else if (ch == ')') {
				if (--depth == 0)
					break;
			}
		}
		if (comment_out != NULL) {
			size_t end = (depth == 0) ? k - 1 : k;
			*comment_out = span_make(s.p + start,
						 end > start ? end - start : 0);
		}
	}
	*i = k;
}

/* ----- Content-Type / Content-Disposition ---------------------------- */

/* A token of RFC 2045 5.1, read leniently: anything up to white space, a
 * comment, or one of the delimiters in stop. */
static struct span read_token(struct span s, size_t *i, const char *stop)
{
	size_t k = *i, start = k;
	while (k < s.len && !mime_is_wsp(s.p[k]) && s.p[k] != '(' &&
	       strchr(stop, s.p[k]) == NULL)
		k++;
	*i = k;
	return span_make(s.p + start, k - start);
}

struct raw_param {
	struct span name;	/* without "*N" and "*" */
	struct span value;	/* unquoted: may point into the arena */
	unsigned section;	/* RFC 2231 3: continuation number, 0 if none */
	bool extended;		/* written name*=, value is charset'lang'%XX */
	bool continued;		/* has a "*N" */
};

/* Unquote a quoted-string starting at s.p[*i] == '"'. Returns its inside
 * with quoted-pairs resolved and folds removed, in the arena if it had
 * to change. */
static struct span read_quoted(struct span s, size_t *i, struct mime_fields *a)
{
	size_t k = *i + 1, start = k;
	bool plain = true;
	while (k < s.len && s.p[k] != '"') {
		if (s.p[k] == '\\' || s.p[k] == '\r' || s.p[k] == '\n')
			plain = false;
		if (s.p[k] == '\\' && k + 1 < s.len)
			k++;
		k++;
	}
	size_t end = k;
	*i = k < s.len ? k + 1 : k;
	if (plain)
		return span_make(s.p + start, end - start);
	unsigned char *d = mime_arena_alloc(a, end - start + 1);
	size_t n = 0;
	for (size_t j = start; j < end; j++) {
		if (s.p[j] == '\r' || s.p[j] == '\n')
			continue;
		if (s.p[j] == '\\' && j + 1 < end)
			j++;
		d[n++] = s.p[j];
	}
	return span_make(d, n);
}

/* An unquoted value is a token (RFC 2045 5.1): it ends at white space,
 * a comment or ';'. Dovecot reads it so, and drops what follows up to
 * the next ';' ("access-type=mail-server server=..." without ';'). */
static struct span read_value(struct span s, size_t *i)
{
	return read_token(s, i, ";");
}

/* Split "name*3*" into base, section and extended flags. */
static void param_name(struct span n, struct raw_param *rp)
{
	rp->name = n;
	rp->section = 0;
	rp->extended = false;
	rp->continued = false;
	if (n.len > 0 && n.p[n.len - 1] == '*') {
		rp->extended = true;
		n.len--;
	}
	size_t k = n.len;
	while (k > 0 && n.p[k - 1] >= '0' && n.p[k - 1] <= '9')
		k--;
	if (k < n.len && k > 0 && n.p[k - 1] == '*' && n.len - k <= 4) {
		unsigned v = 0;
		for (size_t j = k; j < n.len; j++)
			v = v * 10 + (unsigned)(n.p[j] - '0');
		rp->section = v;
		rp->continued = true;
		n.len = k - 1;
		/* More sections than parameters we keep: drop it, so that
		 * joining stays O(MIME_MAX_PARAMS^2). */
		if (v >= MIME_MAX_PARAMS)
			n.len = 0;
	}
	rp->name = n;
}

static bool same_name(struct span x, struct span y)
{
	return x.len == y.len &&
	       strncasecmp((const char *)x.p, (const char *)y.p, x.len) == 0;
}

/* RFC 2231 3: join name*0, name*1, ... in section order into one value;
 * the first section decides whether the whole is extended. The first
 * occurrence of a name wins; later duplicates are dropped. */
static void join_params(struct raw_param *raw, size_t nraw,
			struct mime_fields *a, struct mime_param **out,
			uint32_t *nout)
{
	struct mime_param *ps = nraw ? mime_arena_alloc(a, nraw * sizeof *ps) : NULL;
	uint32_t n = 0;
	for (size_t i = 0; i < nraw; i++) {
		if (raw[i].name.len == 0)
			continue;
		bool dup = false;
		for (uint32_t j = 0; j < n && !dup; j++)
			dup = same_name(ps[j].name, raw[i].name);
		if (dup)
			continue;
		ps[n].name = raw[i].name;
		ps[n].value = raw[i].value;
		ps[n].extended = raw[i].extended;
		if (raw[i].continued) {
			/* Gather every section of this name, in numeric
			 * order; missing numbers are skipped (lenient). */
			size_t total = 0;
			unsigned max_section = 0;
			for (size_t j = i; j < nraw; j++) {
				if (!raw[j].continued || !same_name(raw[j].name, raw[i].name))
					continue;
				total += raw[j].value.len;
				if (raw[j].section > max_section)
					max_section = raw[j].section;
			}
			unsigned char *d = mime_arena_alloc(a, total + 1);
			size_t dl = 0;
			bool ext = false, first = true;
			for (unsigned want = 0; want <= max_section; want++) {
				for (size_t j = i; j < nraw; j++) {
					if (!raw[j].continued || raw[j].section != want ||
					    !same_name(raw[j].name, raw[i].name))
						continue;
					if (first)
						ext = raw[j].extended;
					first = false;
					memcpy(d + dl, raw[j].value.p, raw[j].value.len);
					dl += raw[j].value.len;
					break;
				}
			}
			ps[n].value = span_make(d, dl);
			ps[n].extended = ext;
		}
		n++;
	}
	*out = ps;
	*nout = n;
}

void mime_ct_parse(struct span v, bool want_subtype, struct mime_fields *a,
		   struct span *type_out, struct span *subtype_out,
		   struct mime_param **params_out, uint32_t *nparams_out)
{
	size_t i = 0;
	*type_out = span_make("", 0);
	*subtype_out = span_make("", 0);
	*params_out = NULL;
	*nparams_out = 0;

	mime_skip_cfws(v, &i, NULL);
	struct span type = read_token(v, &i, want_subtype ? "/;" : ";");
	struct span subtype = span_make("", 0);
	mime_skip_cfws(v, &i, NULL);
	if (want_subtype && i < v.len && v.p[i] == '/') {
		i++;
		mime_skip_cfws(v, &i, NULL);
		subtype = read_token(v, &i, ";");
	}
	*type_out = type;
	*subtype_out = subtype;

	struct raw_param raw[MIME_MAX_PARAMS];
	size_t nraw = 0;
	while (i < v.len && nraw < MIME_MAX_PARAMS) {
		/* Skip to the next ';': junk between parameters is lost. */
		while (i < v.len && v.p[i] != ';') {
			if (v.p[i] == '"') {
				struct span q = read_quoted(v, &i, a);
				(void)q;	/* junk text, dropped on purpose */
			} else if (v.p[i] == '(') {
				mime_skip_cfws(v, &i, NULL);
			} else {
				i++;
			}
		}
		if (i >= v.len)
			break;
		i++;	/* ';' */
		mime_skip_cfws(v, &i, NULL);
		struct span name = read_token(v, &i, ";=");
		mime_skip_cfws(v, &i, NULL);
		if (i >= v.len || v.p[i] != '=' || name.len == 0)
			continue;
		i++;
		mime_skip_cfws(v, &i, NULL);
		struct span value;
		if (i < v.len && v.p[i] == '"') {
			value = read_quoted(v, &i, a);
			mime_skip_cfws(v, &i, NULL);
		} else {
			value = read_value(v, &i);
		}
		param_name(name, &raw[nraw]);
		raw[nraw].value = value;
		nraw++;
	}
	join_params(raw, nraw, a, params_out, nparams_out);
}

void mime_content_type_parse(struct span value, struct mime_fields **ctx_out,
			     struct mime_content_type *out)
{
	struct mime_fields *a = xcalloc(1, sizeof *a);
	struct mime_param *ps;
	mime_ct_parse(value, true, a, &out->type, &out->subtype, &ps,
		      &out->nparams);
	out->params = ps;
	*ctx_out = a;
}

const struct mime_param *mime_param_find(const struct mime_param *params,
					 uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (span_eq_ci(params[i].name, name))
			return &params[i];
	return NULL;
}

int mime_param_utf8(const struct mime_param *param, struct buf *out)
{
	struct span v = param->value;
	if (!param->extended) {
		/* Encoded words are not allowed in parameters (RFC 2047 5)
		 * but common in file names; plain values stay as they are. */
		bool ew = false;
		for (size_t k = 0; k + 1 < v.len && !ew; k++)
			ew = v.p[k] == '=' && v.p[k + 1] == '?';
		return ew ? mime_header_decode(v, out) : mime_utf8_sanitize(v, out);
	}
	/* RFC 2231 4: charset'language'percent-encoded-octets. */
	const unsigned char *q1 = memchr(v.p, '\'', v.len);
	const unsigned char *q2 = q1 ? memchr(q1 + 1, '\'', v.len - (size_t)(q1 + 1 - v.p)) : NULL;
	struct span charset = span_make("us-ascii", 8);
	size_t start = 0;
	if (q1 != NULL && q2 != NULL) {
		charset = span_make(v.p, (size_t)(q1 - v.p));
		start = (size_t)(q2 + 1 - v.p);
	}
	struct buf raw;
	buf_init(&raw, v.len + 1);
	int rc = 0;
	for (size_t k = start; k < v.len && rc == 0; k++) {
		unsigned char ch = v.p[k];
		if (ch == '%' && k + 2 < v.len && mime_hexval(v.p[k + 1]) >= 0 &&
		    mime_hexval(v.p[k + 2]) >= 0) {
			ch = (unsigned char)(mime_hexval(v.p[k + 1]) * 16 +
					     mime_hexval(v.p[k + 2]));
			k += 2;
		}
		rc = buf_append(&raw, &ch, 1);
	}
	if (rc == 0)
		rc = mime_charset_to_utf8(charset.len ? charset : span_cstr("us-ascii"),
					  buf_span(&raw), out);
	buf_release(&raw);
	return rc;
}

/* ----- message ids ----------------------------------------------------- */

int mime_msgid_next(struct span v, size_t *pos, struct span *id_out)
{
	size_t i = *pos;
	for (;;) {
		mime_skip_cfws(v, &i, NULL);
		while (i < v.len && (v.p[i] == ',' || mime_is_wsp(v.p[i])))
			i++;
		if (i >= v.len) {
			*pos = i;
			return 0;
		}
		if (v.p[i] == '(') {
			mime_skip_cfws(v, &i, NULL);
			continue;
		}
		if (v.p[i] == '<') {
			size_t s = i + 1;
			const unsigned char *gt = memchr(v.p + s, '>', v.len - s);
			size_t e = gt ? (size_t)(gt - v.p) : v.len;
			i = gt ? e + 1 : v.len;
			if (e == s)
				continue;	/* "<>" names nothing */
			*id_out = span_make(v.p + s, e - s);
			*pos = i;
			return 1;
		}
		/* A bare word (malformed, or obs-id-left words): take it. */
		size_t s = i;
		while (i < v.len && !mime_is_wsp(v.p[i]) && v.p[i] != '<' &&
		       v.p[i] != '(' && v.p[i] != ',')
			i++;
		if (i > s) {
			*id_out = span_make(v.p + s, i - s);
			*pos = i;
			return 1;
		}
		i++;
	}
}
