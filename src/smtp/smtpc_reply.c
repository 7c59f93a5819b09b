/* smtpc_reply.c - what the SMTP client reads and writes byte by byte: the
 * bounded reply parser (RFC 5321 4.2, enhanced codes RFC 2034), EHLO
 * keywords, and the DATA dot-stuffing encoder (4.5.2). No I/O here; the
 * state machine in smtpc.c feeds it. */
#include "smtp/smtpc_reply.h"

#include <stdio.h>
#include <string.h>

void smtpc_reply_parser_init(struct smtpc_reply_parser *p)
{
	memset(p, 0, sizeof *p);
}

bool smtpc_reply_pending(const struct smtpc_reply_parser *p)
{
	return p->code != 0 || p->line_len != 0;
}

const char *smtpc_reply_parser_error(const struct smtpc_reply_parser *p)
{
	return p->error[0] ? p->error : "no error";
}

static int fail(struct smtpc_reply_parser *p, const char *why)
{
	p->failed = true;
	snprintf(p->error, sizeof p->error, "%s", why);
	return -1;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* "x.y.z" (RFC 3463: class 2/4/5, subject and detail 1-3 digits) at the
 * start of t, followed by SP or the end; its length, or 0. */
static size_t enhanced_len(struct span t, int cls)
{
	size_t i = 0;
	if (t.len < 5 || t.p[0] != (unsigned char)('0' + cls) || t.p[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t start = i;
		while (i < t.len && is_digit(t.p[i]) && i - start < 4)
			i++;
		if (i == start || i - start > 3)
			return 0;
		if (part == 0) {
			if (i >= t.len || t.p[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < t.len && t.p[i] != ' ')
		return 0;
	return i;
}

/* Append text to the reply, printable ASCII only, "..." when cut. */
static void add_text(struct smtpc_reply_parser *p, struct smtpc_reply *r,
		     struct span t)
{
	const size_t max = sizeof r->text - 1;
	if (p->text_len >= max)
		return;
	if (p->text_len > 0 && t.len > 0)
		r->text[p->text_len++] = ' ';
	for (size_t i = 0; i < t.len && p->text_len < max; i++) {
		unsigned char c = t.p[i];
		if (c == '\t')
			c = ' ';
		else if (c < 0x20 || c > 0x7e)
			c = '?';
		r->text[p->text_len++] = (char)c;
	}
	if (p->text_len == max && max >= 3)
		memcpy(r->text + max - 3, "...", 3);
	r->text[p->text_len] = '\0';
}

/* One complete line (no CR LF): 1 if it ended the reply, 0 if more lines
 * follow, -1 if malformed. */
static int take_line(struct smtpc_reply_parser *p, struct smtpc_reply *r)
{
	struct span l = span_make(p->line, p->line_len);
	/* RFC 5321 4.2: Reply-code [ SP textstring ] CRLF, or "-" for all
	 * but the last line; codes 2yz..5yz with y 0..5. */
	if (l.len < 3 || !is_digit(l.p[0]) || !is_digit(l.p[1]) ||
	    !is_digit(l.p[2]))
		return fail(p, "reply line does not start with a 3-digit code");
	int code = (l.p[0] - '0') * 100 + (l.p[1] - '0') * 10 + (l.p[2] - '0');
	if (l.p[0] < '2' || l.p[0] > '5' || l.p[1] > '5')
		return fail(p, "reply code out of range");
	if (l.len > 3 && l.p[3] != ' ' && l.p[3] != '-')
		return fail(p, "no space or hyphen after the reply code");
	if (p->code != 0 && code != p->code)
		return fail(p, "multiline reply with different codes");
	if (++p->lines > SMTPC_REPLY_LINES_MAX)
		return fail(p, "reply has too many lines");
	bool first = p->code == 0;
	if (first) {
		p->code = code;
		memset(r, 0, sizeof *r);
		r->code = code;
		p->text_len = 0;
	}
	struct span t = l.len > 4 ? span_make(l.p + 4, l.len - 4) : span_make(l.p, 0);
	if (p->on_line)
		p->on_line(p->on_line_arg, t);
	size_t el = enhanced_len(t, code / 100);
	if (el > 0 && first) {
		memcpy(r->enhanced, t.p, el);
		r->enhanced[el] = '\0';
	}
	/* later lines repeat the enhanced code (RFC 2034 4); say it once */
	if (el > 0 && el == strlen(r->enhanced) &&
	    memcmp(t.p, r->enhanced, el) == 0) {
		t.p += el;
		t.len -= el;
		t = span_trim(t);
	}
	add_text(p, r, t);
	bool last = l.len == 3 || l.p[3] == ' ';
	if (!last)
		return 0;
	p->code = 0;
	p->lines = 0;
	p->bytes = 0;
	return 1;
}

int smtpc_reply_push(struct smtpc_reply_parser *p, const unsigned char *in,
		     size_t len, size_t *used_out, struct smtpc_reply *out)
{
	size_t i = 0;
	*used_out = 0;
	if (p->failed)
		return -1;
	while (i < len) {
		const unsigned char *nl = memchr(in + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (in + i)) : len - i;
		if (p->line_len + n > sizeof p->line)
			return fail(p, "reply line too long");
		if (p->bytes + n + 1 > SMTPC_REPLY_BYTES_MAX)
			return fail(p, "reply too long");
		memcpy(p->line + p->line_len, in + i, n);
		p->line_len += n;
		p->bytes += n;
		i += n;
		if (nl == NULL)
			break;
		i++;		/* the LF */
		p->bytes++;
		if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
			p->line_len--;
		if (p->line_len > SMTPC_LINE_MAX)
			return fail(p, "reply line too long");
		int rc = take_line(p, out);
		p->line_len = 0;
		if (rc < 0)
			return -1;
		if (rc == 1) {
			*used_out = i;
			return 1;
		}
	}
	*used_out = i;
	return 0;
}

/* ---- EHLO keywords -------------------------------------------------------- */

static struct span next_word(struct span *s)
{
	size_t i = 0;
	while (i < s->len && s->p[i] == ' ')
		i++;
	size_t start = i;
	while (i < s->len && s->p[i] != ' ')
		i++;
	struct span w = span_make(s->p + start, i - start);
	*s = span_make(s->p + i, s->len - i);
	return w;
}

static void auth_mechs(struct smtpc_caps *caps, struct span rest)
{
	for (;;) {
		struct span m = next_word(&rest);
		if (m.len == 0)
			return;
		if (span_eq_ci(m, "PLAIN"))
			caps->auth_plain = true;
		else if (span_eq_ci(m, "LOGIN"))
			caps->auth_login = true;
	}
}

void smtpc_caps_line(struct smtpc_caps *caps, struct span text)
{
	struct span rest = text;
	struct span kw = next_word(&rest);
	if (span_eq_ci(kw, "PIPELINING"))
		caps->pipelining = true;
	else if (span_eq_ci(kw, "STARTTLS"))
		caps->starttls = true;
	else if (span_eq_ci(kw, "8BITMIME"))
		caps->eightbitmime = true;
	else if (span_eq_ci(kw, "SMTPUTF8"))
		caps->smtputf8 = true;
	else if (span_eq_ci(kw, "ENHANCEDSTATUSCODES"))
		caps->enhanced = true;
	else if (span_eq_ci(kw, "DSN"))
		caps->dsn = true;
	else if (span_eq_ci(kw, "AUTH"))
		auth_mechs(caps, rest);
	else if (span_prefix_ci(kw, "AUTH=") && kw.len > 5)	/* pre-RFC 4954 */
		auth_mechs(caps, span_make(kw.p + 5, kw.len - 5));
	else if (span_eq_ci(kw, "SIZE")) {
		/* RFC 1870 4: SIZE [number]; 0 or none means no fixed limit */
		struct span n = next_word(&rest);
		uint64_t v = 0;
		for (size_t i = 0; i < n.len; i++) {
			if (!is_digit(n.p[i]) ||
			    __builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, (uint64_t)(n.p[i] - '0'), &v)) {
				v = 0;	/* unreadable: treat as no limit */
				break;
			}
		}
		caps->size = true;
		caps->size_max = v;
	}
}

int smtpc_xtext(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = c >= 33 && c <= 126 && c != '+' && c != '=';
		if (o + (plain ? 1 : 3) >= outsz)
			return -1;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/* ---- DATA encoding -------------------------------------------------------- */

void smtpc_dot_init(struct smtpc_dot *d)
{
	d->bol = true;
	d->cr = false;
}

size_t smtpc_dot_encode(struct smtpc_dot *d, const unsigned char *in,
			size_t len, unsigned char *out, size_t outsz,
			size_t *used_out)
{
	size_t i = 0, o = 0;
	while (i < len && outsz - o >= SMTPC_DOT_EXPAND) {
		unsigned char c = in[i++];
		if (d->cr) {
			d->cr = false;
			out[o++] = '\r';
			out[o++] = '\n';
			d->bol = true;
			if (c == '\n')
				continue;
		}
		if (c == '\r') {
			d->cr = true;
			continue;
		}
		if (c == '\n') {	/* bare LF */
			out[o++] = '\r';
			out[o++] = '\n';
			d->bol = true;
			continue;
		}
		if (d->bol && c == '.')
			out[o++] = '.';
		out[o++] = c;
		d->bol = false;
	}
	*used_out = i;
	return o;
}

size_t smtpc_dot_end(struct smtpc_dot *d, unsigned char *out)
{
	size_t o = 0;
	if (d->cr || !d->bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	d->cr = false;
	d->bol = true;
	return o + 3;
}

/* ---- names and formatting ------------------------------------------------- */

const char *smtpc_stage_name(enum smtpc_stage stage)
{
	switch (stage) {
	case SMTPC_STAGE_CONNECT: return "connect";
	case SMTPC_STAGE_HELO: return "EHLO command";
	case SMTPC_STAGE_STARTTLS: return "STARTTLS command";
	case SMTPC_STAGE_AUTH: return "AUTH command";
	case SMTPC_STAGE_MAIL: return "MAIL FROM command";
	case SMTPC_STAGE_RCPT: return "RCPT TO command";
	case SMTPC_STAGE_DATA: return "DATA command";
	case SMTPC_STAGE_DATA_END: return "end of DATA command";
	case SMTPC_STAGE_LOCAL: return "local check";
	}
	return "unknown";
}

void smtpc_reply_format(const struct smtpc_reply *r, char *out, size_t outsz)
{
	if (outsz == 0)
		return;
	int n = snprintf(out, outsz, "%d%s%s %s", r->code,
			 r->enhanced[0] ? " " : "", r->enhanced, r->text);
	if (n < 0)
		out[0] = '\0';
}
