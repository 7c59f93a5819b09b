/* dsn.c - builds delivery status notifications (see dsn.h).
 * The three body parts are built first, each in its own buffer, so that
 * the boundary can be checked against everything it will enclose. */
#include "queue/dsn.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/limits.h"

/* Where a line is cut at the latest: under DSN_LINE_MAX with room for
 * the CRLF, a fold's leading space and one UTF-8 sequence. */
#define LINE_HARD (DSN_LINE_MAX - 8)
#define FOLD 78

/* A writer with a sticky failure: one check at the end instead of one
 * per append. */
struct w {
	struct buf *b;
	bool full;
};

static void put(struct w *w, const void *p, size_t n)
{
	if (!w->full && buf_append(w->b, p, n) != 0)
		w->full = true;
}

static void puts_(struct w *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Only for our own short texts; sanitised inputs are at most
 * DSN_ADDR_MAX bytes. */
static void __attribute__((format(printf, 2, 3))) putf(struct w *w, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		w->full = true;
	else
		put(w, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

const char *dsn_action_name(enum dsn_action a)
{
	switch (a) {
	case DSN_FAILED: return "failed";
	case DSN_DELAYED: return "delayed";
	case DSN_DELIVERED: return "delivered";
	case DSN_RELAYED: return "relayed";
	case DSN_EXPANDED: return "expanded";
	}
	return "failed";
}

/* Length of the valid UTF-8 sequence at p (2-4), or 0: no overlongs,
 * surrogates or code points past U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool has_8bit(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

enum clean_flags {
	C_UTF8 = 1,	/* keep valid UTF-8 (else every byte >= 0x80 is '?') */
	C_LINES = 2,	/* line ends become '\n' (else a space) */
	C_ADDR = 4,	/* also '<' and '>' become '?' */
};

/* Copy untrusted text into out (NUL-terminated) with every control
 * character a space: nothing of it can end a header line. Cut at a
 * character boundary with "..." when it does not fit. Returns the
 * length. */
static size_t clean(const unsigned char *s, size_t n, unsigned flags, char *out,
		    size_t outsz)
{
	size_t o = 0, lim = outsz - 4;
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = 1;
		char rep = (char)c;
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
				len = 2;
			rep = (flags & C_LINES) ? '\n' : ' ';
		} else if (c < 0x20 || c == 0x7f) {
			rep = ' ';
		} else if (c >= 0x80) {
			len = (flags & C_UTF8) ? utf8_seq(s + i, n - i) : 0;
			if (len == 0) {
				len = 1;
				rep = '?';
			}
		} else if ((flags & C_ADDR) && (c == '<' || c == '>')) {
			rep = '?';
		}
		size_t w = len > 1 && c >= 0x80 ? len : 1;
		if (o + w > lim) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (w > 1)
			memcpy(out + o, s + i, w);
		else
			out[o] = rep;
		o += w;
		i += len;
	}
	out[o] = '\0';
	return o;
}

static size_t clean_str(const char *s, unsigned flags, char *out, size_t outsz)
{
	return clean((const unsigned char *)(s ? s : ""), s ? strlen(s) : 0, flags,
		     out, outsz);
}

/* A host name or [address] for "dns;" fields: anything else is '?'. */
static void clean_host(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	for (; s && *s && o + 1 < outsz && o < 255; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || strchr(".-_:[]", c) != NULL;
		out[o++] = ok ? c : '?';
	}
	if (o == 0 && outsz > 1)
		out[o++] = '?';
	out[o] = '\0';
}

/* RFC 3463: class "." subject "." detail, class 2, 4 or 5. */
static bool valid_status(const char *s)
{
	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		size_t d = 0;
		while (s[d] >= '0' && s[d] <= '9')
			d++;
		if (d == 0 || d > 3)
			return false;
		s += d;
		if (part == 0 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

static const char *status_of(const struct dsn_rcpt *r)
{
	if (valid_status(r->status))
		return r->status;
	switch (r->action) {
	case DSN_FAILED: return "5.0.0";
	case DSN_DELAYED: return "4.0.0";
	default: return "2.0.0";
	}
}

static void rfc5322_date(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		snprintf(out, outsz, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/* Back off a cut at k so that it does not split a UTF-8 sequence. */
static size_t char_start(const char *s, size_t k)
{
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

/* prefix, then the words of text (separated by spaces or '\n') wrapped
 * at FOLD columns, continuation lines starting with cont; a word longer
 * than a line is cut. For a header field cont is " " (a fold). */
static void fold(struct w *w, const char *prefix, const char *cont,
		 const char *text, size_t len)
{
	size_t col = strlen(prefix), clen = strlen(cont);
	bool sp = false;
	puts_(w, prefix);
	for (size_t i = 0; i < len;) {
		if (text[i] == ' ' || text[i] == '\n') {
			i++;
			continue;
		}
		size_t wl = 0;
		while (i + wl < len && text[i + wl] != ' ' && text[i + wl] != '\n')
			wl++;
		const char *word = text + i;
		i += wl;
		if (sp) {
			if (col + 1 + wl > FOLD && col > clen) {
				puts_(w, "\r\n");
				puts_(w, cont);
				col = clen;
			} else {
				put(w, " ", 1);
				col++;
			}
		}
		while (col + wl > LINE_HARD) {
			size_t k = char_start(word, LINE_HARD - col);
			if (k == 0)	/* cleaned text starts no word mid-sequence */
				k = LINE_HARD - col;
			put(w, word, k);
			puts_(w, "\r\n");
			puts_(w, cont);
			col = clen;
			word += k;
			wl -= k;
		}
		put(w, word, wl);
		col += wl;
		sp = true;
	}
	puts_(w, "\r\n");
}

static void fold_str(struct w *w, const char *prefix, const char *text)
{
	fold(w, prefix, " ", text, strlen(text));
}

/* Copy message bytes with every line end made CRLF, NUL a space and
 * lines cut before DSN_LINE_MAX (in a header section by folding). Stops
 * after the header section when headers_only, and before the line that
 * would pass max. Sets *eight for bytes >= 0x80. */
static void put_message(struct w *w, const unsigned char *p, size_t n,
			bool headers_only, size_t max, bool *eight)
{
	size_t used = 0;
	bool in_headers = true;
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && p[e] != '\r' && p[e] != '\n')
			e++;
		size_t next = e;
		if (next < n)
			next += (p[next] == '\r' && next + 1 < n && p[next + 1] == '\n') ? 2 : 1;
		if (e == i && in_headers) {
			if (headers_only)
				return;
			in_headers = false;
		}
		if (used + (e - i) + 2 > max)
			return;
		for (size_t j = i, col = 0; j < e; j++, col++) {
			if (col >= LINE_HARD) {
				puts_(w, in_headers ? "\r\n " : "\r\n");
				col = in_headers ? 1 : 0;
			}
			unsigned char c = p[j];
			if (c >= 0x80)
				*eight = true;
			put(w, c == 0 ? " " : (const char *)&p[j], 1);
		}
		puts_(w, "\r\n");
		used += (e - i) + 2;
		i = next;
	}
}

struct ctx {
	const struct dsn_msg *m;
	bool global;	/* RFC 6533: a non-ASCII address */
	char host[256];
	unsigned any[DSN_EXPANDED + 1];
};

/* "rfc822; a@b" or, for a UTF-8 address, "utf-8; ..." (RFC 6533 3). */
static void addr_field(struct w *w, const struct ctx *c, const char *name,
		       const char *type, const char *addr, size_t alen)
{
	char a[DSN_ADDR_MAX];
	clean((const unsigned char *)addr, alen, c->global ? C_UTF8 : 0, a, sizeof a);
	char prefix[128];
	if (type == NULL)
		type = c->global && has_8bit(a) ? "utf-8" : "rfc822";
	snprintf(prefix, sizeof prefix, "%s: %s; ", name, type);
	fold_str(w, prefix, a);
}

static void status_rcpt(struct w *w, const struct ctx *c, const struct dsn_rcpt *r)
{
	char date[64];
	puts_(w, "\r\n");
	if (r->orig_rcpt != NULL) {
		const char *semi = strchr(r->orig_rcpt, ';');
		char type[32] = "rfc822";
		const char *addr = r->orig_rcpt;
		if (semi != NULL) {
			size_t t = 0;
			for (const char *p = r->orig_rcpt; p < semi && t + 1 < sizeof type; p++)
				if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				    (*p >= '0' && *p <= '9') || *p == '-')
					type[t++] = *p;
			type[t] = '\0';
			if (t == 0)
				snprintf(type, sizeof type, "rfc822");
			addr = semi + 1;
			while (*addr == ' ')
				addr++;
		}
		addr_field(w, c, "Original-Recipient", type, addr, strlen(addr));
	}
	const char *fr = r->final_rcpt ? r->final_rcpt : "";
	addr_field(w, c, "Final-Recipient", NULL, fr, strlen(fr));
	putf(w, "Action: %s\r\n", dsn_action_name(r->action));
	putf(w, "Status: %s\r\n", status_of(r));
	if (r->remote_mta != NULL) {
		char h[256];
		clean_host(r->remote_mta, h, sizeof h);
		putf(w, "Remote-MTA: dns; %s\r\n", h);
	}
	if (r->diag != NULL && r->diag_len > 0) {
		char type[32], prefix[64];
		clean_host(r->diag_type ? r->diag_type : "smtp", type, sizeof type);
		snprintf(prefix, sizeof prefix, "Diagnostic-Code: %s; ", type);
		char d[DSN_DIAG_MAX];
		size_t dl = clean((const unsigned char *)r->diag, r->diag_len,
				  c->global ? C_UTF8 : 0, d, sizeof d);
		fold(w, prefix, " ", d, dl);
	}
	if (r->last_attempt > 0) {
		rfc5322_date(r->last_attempt, date, sizeof date);
		putf(w, "Last-Attempt-Date: %s\r\n", date);
	}
	if (r->action == DSN_DELAYED && r->retry_until > 0) {
		rfc5322_date(r->retry_until, date, sizeof date);
		putf(w, "Will-Retry-Until: %s\r\n", date);
	}
}

static void status_part(struct w *w, const struct ctx *c)
{
	const struct dsn_msg *m = c->m;
	char date[64];
	if (m->envid != NULL) {
		char id[128];
		clean_str(m->envid, 0, id, sizeof id);
		fold_str(w, "Original-Envelope-Id: ", id);
	}
	putf(w, "Reporting-MTA: dns; %s\r\n", c->host);
	if (m->arrival > 0) {
		rfc5322_date(m->arrival, date, sizeof date);
		putf(w, "Arrival-Date: %s\r\n", date);
	}
	for (size_t i = 0; i < m->nrcpts; i++)
		status_rcpt(w, c, &m->rcpts[i]);
}

static const char *outcome(enum dsn_action a)
{
	switch (a) {
	case DSN_FAILED: return "could not be delivered";
	case DSN_DELAYED: return "not delivered yet, still trying";
	case DSN_DELIVERED: return "delivered";
	case DSN_RELAYED: return "relayed to a server that does not send reports";
	case DSN_EXPANDED: return "delivered to the members of a list or alias";
	}
	return "";
}

static void human_rcpt(struct w *w, const struct ctx *c, const struct dsn_rcpt *r)
{
	char a[DSN_ADDR_MAX], line[DSN_ADDR_MAX + 128];
	clean_str(r->final_rcpt, (c->global ? C_UTF8 : 0) | C_ADDR, a, sizeof a);
	puts_(w, "\r\n");
	snprintf(line, sizeof line, "<%s>: %s (%s)", a, outcome(r->action), status_of(r));
	fold_str(w, "", line);
	if (r->diag != NULL && r->diag_len > 0) {
		char h[256];
		if (r->remote_mta != NULL) {
			clean_host(r->remote_mta, h, sizeof h);
			putf(w, "    The mail server %s answered:\r\n", h);
		} else {
			puts_(w, "    The reason given:\r\n");
		}
		char d[DSN_DIAG_MAX];
		size_t dl = clean((const unsigned char *)r->diag, r->diag_len,
				  (c->global ? C_UTF8 : 0) | C_LINES, d, sizeof d);
		for (size_t i = 0; i < dl;) {
			size_t e = i;
			while (e < dl && d[e] != '\n')
				e++;
			if (e > i)
				fold(w, "      ", "      ", d + i, e - i);
			i = e + 1;
		}
	}
	if (r->action == DSN_DELAYED && r->retry_until > 0) {
		char date[64];
		rfc5322_date(r->retry_until, date, sizeof date);
		putf(w, "    Delivery will be tried until %s.\r\n", date);
	}
}

static void human_part(struct w *w, const struct ctx *c, bool full, bool capped)
{
	const struct dsn_msg *m = c->m;
	putf(w, "This is the mail delivery system at %s.\r\n\r\n", c->host);
	if (c->any[DSN_FAILED])
		puts_(w, "Your message could not be delivered to one or more recipients;\r\n"
		      "the reasons are below.\r\n");
	if (c->any[DSN_DELAYED])
		puts_(w, "Your message has not been delivered yet to one or more recipients.\r\n"
		      "Delivery will be tried again until the time given below; you do\r\n"
		      "not need to send it again. You will be told if it finally fails.\r\n");
	if (!c->any[DSN_FAILED] && !c->any[DSN_DELAYED])
		puts_(w, "Your message was delivered as you asked to be told.\r\n");
	for (size_t i = 0; i < m->nrcpts; i++)
		human_rcpt(w, c, &m->rcpts[i]);
	puts_(w, "\r\n");
	if (full)
		puts_(w, "Your message is attached.\r\n");
	else if (capped)
		putf(w, "Your message is larger than %zu bytes, so only its header\r\n"
		     "is attached.\r\n", m->full_max ? m->full_max : (size_t)DSN_FULL_MAX);
	else
		puts_(w, "The header of your message is attached.\r\n");
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool occurs(const struct buf *b, const char *s)
{
	return b->len > 0 && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static int fail(struct buf *parts, struct err *err, enum err_kind kind,
		const char *msg)
{
	for (int i = 0; i < 3; i++)
		buf_release(&parts[i]);
	return err_set(err, kind, 0, NULL, "DSN: %s", msg);
}

int dsn_build(const struct dsn_msg *m, struct buf *out, struct err *err)
{
	struct ctx c = { .m = m };
	if (m->nrcpts == 0 || m->rcpts == NULL)
		return err_set(err, ERR_PEER, 0, NULL, "DSN: no recipient to report");
	if (m->sender == NULL || m->sender[0] == '\0')
		return err_set(err, ERR_PEER, 0, NULL,
			       "DSN: never sent to the null sender");
	clean_host(m->reporting_mta, c.host, sizeof c.host);
	c.global = has_8bit(m->sender);
	for (size_t i = 0; i < m->nrcpts; i++) {
		const struct dsn_rcpt *r = &m->rcpts[i];
		if (has_8bit(r->final_rcpt) || has_8bit(r->orig_rcpt))
			c.global = true;
		if ((unsigned)r->action <= DSN_EXPANDED)
			c.any[r->action]++;
	}
	size_t full_max = m->full_max ? m->full_max : DSN_FULL_MAX;
	bool full = m->ret == DSN_RET_FULL && m->orig_len <= full_max;
	bool capped = m->ret == DSN_RET_FULL && !full;

	/* Each part is bounded by its inputs' caps; the whole must still fit
	 * in out, so the parts get out's room as their maximum. */
	size_t room = out->max - out->len;	/* buf.h's private max, read
						 * only to bound the parts */
	struct buf parts[3];
	bool oeight = false;
	for (int i = 0; i < 3; i++)
		buf_init(&parts[i], room);
	struct w hw = { &parts[0], false }, sw = { &parts[1], false },
		 ow = { &parts[2], false };
	human_part(&hw, &c, full, capped);
	status_part(&sw, &c);
	put_message(&ow, m->orig, m->orig ? m->orig_len : 0, !full,
		    full ? SIZE_MAX : DSN_HEADERS_MAX, &oeight);
	if (hw.full || sw.full || ow.full)
		return fail(parts, err, ERR_LIMIT, "report larger than allowed");

	char bnd[64], rnd[40];
	unsigned char r[16];
	int tries;
	for (tries = 0; tries < 8; tries++) {
		randombytes_buf(r, sizeof r);
		hex(r, sizeof r, rnd);
		snprintf(bnd, sizeof bnd, "=_dsn_%s", rnd);
		if (!occurs(&parts[0], bnd) && !occurs(&parts[1], bnd) &&
		    !occurs(&parts[2], bnd))
			break;
	}
	if (tries == 8)
		return fail(parts, err, ERR_ENV, "no unique MIME boundary");

	struct w w = { out, false };
	char date[64], a[DSN_ADDR_MAX];
	randombytes_buf(r, 12);
	hex(r, 12, rnd);
	rfc5322_date(m->now, date, sizeof date);
	putf(&w, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", c.host);
	clean_str(m->sender, (c.global ? C_UTF8 : 0) | C_ADDR, a, sizeof a);
	puts_(&w, "To: <");
	put(&w, a, strlen(a));
	puts_(&w, ">\r\n");
	putf(&w, "Subject: %s\r\n",
	     c.any[DSN_FAILED] ? "Undelivered Mail Returned to Sender" :
	     c.any[DSN_DELAYED] ? "Delayed Mail (still being retried)" :
	     "Successful Mail Delivery Report");
	putf(&w, "Date: %s\r\n", date);
	putf(&w, "Message-ID: <dsn.%s@%s>\r\n", rnd, c.host);
	/* RFC 3834: vacation responders and the like must not answer. */
	puts_(&w, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	const char *type = c.global ? "global-delivery-status" : "delivery-status";
	putf(&w, "Content-Type: multipart/report; report-type=%s;\r\n"
	     "\tboundary=\"%s\"\r\n", type, bnd);
	putf(&w, "Content-Transfer-Encoding: %s\r\n\r\n", c.global || oeight ? "8bit" : "7bit");
	puts_(&w, "This is a delivery status notification in MIME format.\r\n");

	putf(&w, "\r\n--%s\r\n", bnd);
	putf(&w, "Content-Type: text/plain; charset=%s\r\n", c.global ? "utf-8" : "us-ascii");
	putf(&w, "Content-Description: Notification\r\n"
	     "Content-Transfer-Encoding: %s\r\n\r\n", c.global ? "8bit" : "7bit");
	put(&w, parts[0].data, parts[0].len);

	putf(&w, "\r\n--%s\r\n", bnd);
	putf(&w, "Content-Type: message/%s\r\n", type);
	putf(&w, "Content-Description: Delivery report\r\n"
	     "Content-Transfer-Encoding: %s\r\n\r\n", c.global ? "8bit" : "7bit");
	put(&w, parts[1].data, parts[1].len);

	putf(&w, "\r\n--%s\r\n", bnd);
	if (full)
		putf(&w, "Content-Type: message/%s\r\n"
		     "Content-Description: Undelivered message\r\n",
		     c.global ? "global" : "rfc822");
	else
		putf(&w, "Content-Type: %s\r\n"
		     "Content-Description: Undelivered message header\r\n",
		     c.global ? "message/global-headers" : "text/rfc822-headers");
	putf(&w, "Content-Transfer-Encoding: %s\r\n\r\n", oeight ? "8bit" : "7bit");
	put(&w, parts[2].data, parts[2].len);
	putf(&w, "\r\n--%s--\r\n", bnd);
	for (int i = 0; i < 3; i++)
		buf_release(&parts[i]);
	if (w.full)
		return err_set(err, ERR_LIMIT, 0, NULL, "DSN: report larger than allowed");
	return 0;
}
