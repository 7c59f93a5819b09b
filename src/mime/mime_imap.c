/* mime_imap.c - IMAP ENVELOPE and BODY/BODYSTRUCTURE (RFC 9051 7.5.2,
 * RFC 3501 7.4.2) from a parsed message, written the way Dovecot writes
 * them so that clients see what they are used to: raw header text with
 * line breaks removed, defaults filled in (text/plain us-ascii, 7bit),
 * an empty text/plain part for a multipart that has none. */
#include "mime/mime_private.h"

#include <stdio.h>
#include <string.h>

/* Strings longer than this go out as literals even when quotable, so no
 * client meets an absurd quoted line. */
#define IMAP_QUOTED_MAX 4096

#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
#define EMPTY_BODYSTRUCTURE "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL " \
	"\"7bit\" 0 0 NIL NIL NIL NIL)"

static int put(struct buf *out, const char *s)
{
	return buf_append(out, s, strlen(s));
}

/* Write s as an IMAP string the way Dovecot's imap_append_nstring does:
 * quoted, unless it holds CR, LF, 8-bit bytes, '"' or '\\' (which Dovecot
 * never escapes), or is very long; then a literal. Line breaks are removed
 * first (a break not followed by white space becomes a space) and a
 * string that had them is always sent as a literal, as Dovecot's _nolf
 * variant does. NUL becomes U+FFFD: literals cannot carry it. */
int mime_imap_nstring(struct buf *out, struct span s, bool present)
{
	if (!present)
		return put(out, "NIL");
	bool plain = s.len <= IMAP_QUOTED_MAX;
	for (size_t i = 0; i < s.len && plain; i++) {
		unsigned char c = s.p[i];
		if (c == 0 || c == '\r' || c == '\n' || c >= 0x80)
			plain = false;
		else if (c == '"' || c == '\\')
			plain = false;	/* Dovecot sends these as literals */
	}
	if (plain) {
		if (buf_append(out, "\"", 1) < 0)
			return -1;
		size_t run = 0;
		for (size_t i = 0; i < s.len; i++) {
			if (s.p[i] != '"' && s.p[i] != '\\')
				continue;
			if (buf_append(out, s.p + run, i - run) < 0 ||
			    buf_append(out, "\\", 1) < 0)
				return -1;
			run = i;
		}
		if (buf_append(out, s.p + run, s.len - run) < 0)
			return -1;
		return buf_append(out, "\"", 1);
	}
	/* Clean copy, then "{n}\r\n" and the bytes. */
	struct buf tmp;
	buf_init(&tmp, s.len * 3 + 1);
	int rc = 0;
	for (size_t i = 0; i < s.len && rc == 0; i++) {
		unsigned char c = s.p[i];
		if (c == '\r' || c == '\n') {
			/* A fold becomes one space (its indent's first
			 * character, tab or not, as Dovecot writes it). */
			size_t k = i;
			while (k < s.len && (s.p[k] == '\r' || s.p[k] == '\n'))
				k++;
			if (k < s.len)
				rc = buf_append(&tmp, " ", 1);
			if (k < s.len && (s.p[k] == ' ' || s.p[k] == '\t'))
				k++;
			i = k - 1;
			continue;
		}
		rc = c == 0 ? mime_put_replacement(&tmp) : buf_append(&tmp, &c, 1);
	}
	if (rc == 0) {
		char hdr[32];
		int n = snprintf(hdr, sizeof hdr, "{%zu}\r\n", tmp.len);
		if (n < 0 || (size_t)n >= sizeof hdr)
			rc = -1;
		else if (buf_append(out, hdr, (size_t)n) < 0 ||
			 buf_append(out, tmp.data, tmp.len) < 0)
			rc = -1;
	}
	buf_release(&tmp);
	return rc;
}

static int nstr(struct buf *out, struct span s)
{
	return mime_imap_nstring(out, s, s.len > 0);
}

/* ----- ENVELOPE --------------------------------------------------------- */

static int write_addr(struct buf *out, const struct mime_addr *a)
{
	int rc = 0;
	switch (a->kind) {
	case MIME_ADDR_GROUP_START:
		/* RFC 9051 7.5.2: group start has NIL host and the group
		 * name as mailbox. */
		rc = put(out, "(NIL NIL ");
		if (rc == 0)
			rc = mime_imap_nstring(out, a->name, true);
		if (rc == 0)
			rc = put(out, " NIL)");
		break;
	case MIME_ADDR_GROUP_END:
		rc = put(out, "(NIL NIL NIL NIL)");
		break;
	case MIME_ADDR_MAILBOX:
		/* Dovecot's placeholders keep the structure valid: a NIL
		 * host would read as a group marker. */
		if (put(out, "(") < 0 || nstr(out, a->name) < 0 ||
		    put(out, " ") < 0 || nstr(out, a->route) < 0 ||
		    put(out, " ") < 0 ||
		    mime_imap_nstring(out, a->mailbox.len ? a->mailbox
				      : span_cstr("MISSING_MAILBOX"), true) < 0 ||
		    put(out, " ") < 0 ||
		    mime_imap_nstring(out, a->domain.len ? a->domain
				      : span_cstr("MISSING_DOMAIN"), true) < 0 ||
		    put(out, ")") < 0)
			rc = -1;
		break;
	}
	return rc;
}

/* Dovecot reads every occurrence of an address field into one list
 * (msg_20 of CPython's tests has three Cc fields). */
static int addr_list(struct buf *out, struct span hdr, const char *field,
		     const char *fallback)
{
	bool any = false;
	for (int pass = 0; pass < 2 && !any; pass++) {
		const char *name = pass == 0 ? field : fallback;
		if (name == NULL)
			break;
		size_t pos = 0;
		struct span n, v;
		while (mime_header_next(hdr, &pos, &n, &v) == 1) {
			if (!span_eq_ci(n, name))
				continue;
			struct mime_addr_list l;
			mime_addr_parse(v, &l);
			int rc = 0;
			for (size_t i = 0; i < l.n && rc == 0; i++) {
				if (!any)
					rc = put(out, "(");
				any = true;
				if (rc == 0)
					rc = write_addr(out, &l.addrs[i]);
			}
			mime_addr_list_free(&l);
			if (rc < 0)
				return -1;
		}
	}
	return put(out, any ? ")" : "NIL");
}

/* The last occurrence counts, as in Dovecot. */
static int env_string(struct buf *out, struct span hdr, const char *field)
{
	size_t pos = 0;
	struct span n, v, last = { 0 };
	bool found = false;
	while (mime_header_next(hdr, &pos, &n, &v) == 1) {
		if (span_eq_ci(n, field)) {
			last = v;
			found = true;
		}
	}
	if (!found)
		return put(out, "NIL");
	while (last.len > 0 && mime_is_wsp(last.p[last.len - 1]))
		last.len--;
	return mime_imap_nstring(out, last, true);
}

int mime_envelope_imap(const struct mime_message *m, uint32_t part,
		       struct buf *out)
{
	if (part >= m->nparts)
		return -1;
	struct span h = mime_part_header(m, &m->parts[part]);
	/* RFC 9051 7.5.2: Sender and Reply-To default to From. */
	if (put(out, "(") < 0 || env_string(out, h, "date") < 0 ||
	    put(out, " ") < 0 || env_string(out, h, "subject") < 0 ||
	    put(out, " ") < 0 || addr_list(out, h, "from", NULL) < 0 ||
	    put(out, " ") < 0 || addr_list(out, h, "sender", "from") < 0 ||
	    put(out, " ") < 0 || addr_list(out, h, "reply-to", "from") < 0 ||
	    put(out, " ") < 0 || addr_list(out, h, "to", NULL) < 0 ||
	    put(out, " ") < 0 || addr_list(out, h, "cc", NULL) < 0 ||
	    put(out, " ") < 0 || addr_list(out, h, "bcc", NULL) < 0 ||
	    put(out, " ") < 0 || env_string(out, h, "in-reply-to") < 0 ||
	    put(out, " ") < 0 || env_string(out, h, "message-id") < 0 ||
	    put(out, ")") < 0)
		return -1;
	return 0;
}

/* ----- BODYSTRUCTURE ---------------------------------------------------- */

static int params(struct buf *out, const struct mime_param *ps, uint32_t n,
		  bool default_charset)
{
	bool charset = false;
	for (uint32_t i = 0; i < n; i++)
		if (!ps[i].extended && span_eq_ci(ps[i].name, "charset"))
			charset = true;
	if (n == 0 && !(default_charset && !charset))
		return put(out, "NIL");
	if (put(out, "(") < 0)
		return -1;
	bool first = true;
	for (uint32_t i = 0; i < n; i++) {
		if (!first && put(out, " ") < 0)
			return -1;
		first = false;
		if (ps[i].extended) {
			/* Dovecot returns RFC 2231 values as "name*". */
			struct buf nm;
			buf_init(&nm, ps[i].name.len + 1);
			int rc = buf_append(&nm, ps[i].name.p, ps[i].name.len);
			if (rc == 0)
				rc = buf_append(&nm, "*", 1);
			if (rc == 0)
				rc = mime_imap_nstring(out, buf_span(&nm), true);
			buf_release(&nm);
			if (rc < 0)
				return -1;
		} else if (mime_imap_nstring(out, ps[i].name, true) < 0) {
			return -1;
		}
		if (put(out, " ") < 0 || mime_imap_nstring(out, ps[i].value, true) < 0)
			return -1;
	}
	/* Dovecot appends the RFC 2045 5.2 default last. */
	if (default_charset && !charset &&
	    put(out, first ? "\"charset\" \"us-ascii\"" : " \"charset\" \"us-ascii\"") < 0)
		return -1;
	return put(out, ")");
}

/* RFC 3501 body-fld-dsp, body-fld-lang, body-fld-loc. */
static int ext_common(struct buf *out, const struct mime_part *p)
{
	if (put(out, " ") < 0)
		return -1;
	if (p->disposition.len == 0) {
		if (put(out, "NIL") < 0)
			return -1;
	} else if (put(out, "(") < 0 || nstr(out, p->disposition) < 0 ||
		   put(out, " ") < 0 ||
		   params(out, p->disp_params, p->ndisp_params, false) < 0 ||
		   put(out, ")") < 0) {
		return -1;
	}
	if (put(out, " ") < 0)
		return -1;
	/* Content-Language: a comma-separated list of tags (RFC 3282). */
	size_t ntags = 0;
	struct span tags[64];
	struct span l = p->language;
	size_t i = 0;
	while (i < l.len && ntags < 64) {
		while (i < l.len && (mime_is_wsp(l.p[i]) || l.p[i] == ','))
			i++;
		if (i < l.len && l.p[i] == '(') {
			mime_skip_cfws(l, &i, NULL);
			continue;
		}
		size_t s = i;
		while (i < l.len && !mime_is_wsp(l.p[i]) && l.p[i] != ',' &&
		       l.p[i] != '(')
			i++;
		if (i > s)
			tags[ntags++] = span_make(l.p + s, i - s);
	}
	if (ntags == 0) {
		if (put(out, "NIL") < 0)
			return -1;
	} else {
		if (put(out, "(") < 0)
			return -1;
		for (size_t k = 0; k < ntags; k++)
			if ((k > 0 && put(out, " ") < 0) ||
			    mime_imap_nstring(out, tags[k], true) < 0)
				return -1;
		if (put(out, ")") < 0)
			return -1;
	}
	if (put(out, " ") < 0 || nstr(out, p->location) < 0)
		return -1;
	return 0;
}

static int write_part(const struct mime_message *m, uint32_t idx,
		      bool extended, struct buf *out);

static int write_multipart(const struct mime_message *m, uint32_t idx,
			   bool extended, struct buf *out)
{
	const struct mime_part *p = &m->parts[idx];
	if (put(out, "(") < 0)
		return -1;
	for (uint32_t c = p->first_child; c != MIME_NONE; c = m->parts[c].next_sibling)
		if (write_part(m, c, extended, out) < 0)
			return -1;
	if (put(out, " ") < 0 || mime_imap_nstring(out, p->subtype, true) < 0)
		return -1;
	if (extended) {
		if (put(out, " ") < 0 ||
		    params(out, p->params, p->nparams, false) < 0 ||
		    ext_common(out, p) < 0)
			return -1;
	}
	return put(out, ")");
}

/* text/plain; charset=us-ascii, 7bit and nothing else: Dovecot's
 * message_part_data_is_plain_7bit(). */
static bool plain_7bit(const struct mime_part *p)
{
	if (!span_eq_ci(p->type, "text") || !span_eq_ci(p->subtype, "plain"))
		return false;
	if (p->nparams > 1 || (p->nparams == 1 &&
			       (p->params[0].extended ||
				!span_eq_ci(p->params[0].name, "charset") ||
				!span_eq_ci(p->params[0].value, "us-ascii"))))
		return false;
	if (p->cte_raw.len > 0 && !span_eq_ci(p->cte_raw, "7bit"))
		return false;
	return p->id.len == 0 && p->description.len == 0 && p->md5.len == 0 &&
	       p->disposition.len == 0 && p->language.len == 0 &&
	       p->location.len == 0;
}

static int write_part(const struct mime_message *m, uint32_t idx,
		      bool extended, struct buf *out)
{
	const struct mime_part *p = &m->parts[idx];
	if ((p->flags & MIME_PART_MULTIPART) && p->first_child != MIME_NONE)
		return write_multipart(m, idx, extended, out);

	struct span type = p->type, subtype = p->subtype;
	const struct mime_param *ps = p->params;
	uint32_t nps = p->nparams;
	bool message = (p->flags & MIME_PART_MESSAGE) && p->first_child != MIME_NONE;
	bool is_msg_type = span_eq_ci(type, "message") &&
			   (span_eq_ci(subtype, "rfc822") || span_eq_ci(subtype, "global"));
	if (span_eq_ci(type, "multipart")) {
		/* No parts could be read: one text part. */
		type = span_cstr("text");
		subtype = span_cstr("plain");
		ps = NULL;
		nps = 0;
	} else if (is_msg_type) {
		/* Dovecot writes these two lowercased. */
		type = span_cstr("message");
		subtype = span_eq_ci(subtype, "global") ? span_cstr("global")
							: span_cstr("rfc822");
	}
	bool text = span_eq_ci(type, "text");
	if (idx == 0 && plain_7bit(p)) {
		/* Dovecot writes such a single-part message in its canonical
		 * form, whatever case the header used (it caches nothing for
		 * it); parts inside a multipart keep their case. */
		type = span_cstr("text");
		subtype = span_cstr("plain");
		ps = NULL;
		nps = 0;
	}
	if (put(out, "(") < 0 || mime_imap_nstring(out, type, true) < 0 ||
	    put(out, " ") < 0 || mime_imap_nstring(out, subtype, true) < 0 ||
	    put(out, " ") < 0 || params(out, ps, nps, text) < 0 ||
	    put(out, " ") < 0 || nstr(out, p->id) < 0 ||
	    put(out, " ") < 0 || nstr(out, p->description) < 0 ||
	    put(out, " ") < 0 ||
	    mime_imap_nstring(out, p->cte_raw.len ? p->cte_raw : span_cstr("7bit"),
			      true) < 0)
		return -1;
	char num[48];
	int n = snprintf(num, sizeof num, " %zu", p->body_end - p->body_start);
	if (n < 0 || (size_t)n >= sizeof num || buf_append(out, num, (size_t)n) < 0)
		return -1;
	if (message) {
		if (put(out, " ") < 0 || mime_envelope_imap(m, p->first_child, out) < 0 ||
		    put(out, " ") < 0 ||
		    write_part(m, p->first_child, extended, out) < 0)
			return -1;
	} else if (is_msg_type) {
		/* The grammar wants an envelope and a body we do not have
		 * (encoded, or too deep): empty ones, as Dovecot sends. */
		if (put(out, " (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ") < 0 ||
		    put(out, extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY) < 0)
			return -1;
	}
	if (text || is_msg_type) {
		n = snprintf(num, sizeof num, " %zu", p->body_lines);
		if (n < 0 || (size_t)n >= sizeof num ||
		    buf_append(out, num, (size_t)n) < 0)
			return -1;
	}
	if (extended) {
		if (put(out, " ") < 0 || nstr(out, p->md5) < 0 || ext_common(out, p) < 0)
			return -1;
	}
	return put(out, ")");
}

int mime_bodystructure_imap(const struct mime_message *m, uint32_t part,
			    bool extended, struct buf *out)
{
	if (part >= m->nparts)
		return -1;
	return write_part(m, part, extended, out);
}
