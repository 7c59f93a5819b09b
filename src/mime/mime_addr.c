/* mime_addr.c - RFC 5322 3.4 address lists for IMAP ENVELOPE: mailboxes,
 * angle addresses with obsolete routes, groups, display names from
 * phrases or comments, and the obs- forms of RFC 5322 4.4 read leniently
 * (missing commas, stray brackets, no domain). Display names stay raw
 * (RFC 2047 words undecoded), as IMAP clients decode them. */
#include "mime/mime_private.h"

#include <string.h>

#include <stdlib.h>

#include "core/xmalloc.h"

struct ap {
	struct span s;
	size_t i;
	struct mime_fields *a;
	struct mime_addr_list *out;
	size_t cap;
	struct span comment;	/* last comment seen in this address */
};

static void skip(struct ap *p)
{
	struct span c = { 0 };
	mime_skip_cfws(p->s, &p->i, &c);
	if (c.p != NULL)
		p->comment = c;
}

static struct mime_addr *emit(struct ap *p, enum mime_addr_kind kind)
{
	struct mime_addr_list *l = p->out;
	if (l->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		l->addrs = xreallocarray(l->addrs, p->cap, sizeof *l->addrs);
	}
	struct mime_addr *ad = &l->addrs[l->n++];
	memset(ad, 0, sizeof *ad);
	ad->kind = kind;
	return ad;
}

/* A comment used as a name: unescaped, folds removed. */
static struct span comment_text(struct ap *p, struct span c)
{
	unsigned char *d = mime_arena_alloc(p->a, c.len + 1);
	size_t n = 0;
	for (size_t k = 0; k < c.len; k++) {
		if (c.p[k] == '\r' || c.p[k] == '\n')
			continue;
		if (c.p[k] == '\\' && k + 1 < c.len)
			k++;
		d[n++] = c.p[k];
	}
	while (n > 0 && mime_is_wsp(d[n - 1]))
		n--;
	size_t s = 0;
	while (s < n && mime_is_wsp(d[s]))
		s++;
	return span_make(d + s, n - s);
}

/* Read words (atoms, quoted strings, dots) up to a delimiter. *display
 * joins them with a space wherever the source had white space or a
 * comment between; *compact joins them with nothing (a local part).
 * With d and c NULL it only measures: the caller allocates exactly what
 * the words span, so a long list never costs more than its own size. */
static void phrase_pass(struct ap *p, unsigned char *d, unsigned char *c,
			size_t *dn_out, size_t *cn_out)
{
	size_t dn = 0, cn = 0;
	bool gap = false;
#define PUT(buf, n, ch) do { if (buf) (buf)[n] = (ch); (n)++; } while (0)
	for (;;) {
		size_t before = p->i;
		skip(p);
		if (p->i != before && dn > 0)
			gap = true;
		if (p->i >= p->s.len)
			break;
		unsigned char ch = p->s.p[p->i];
		if (strchr("<>@,;:", ch) != NULL)
			break;
		if (gap && dn > 0)
			PUT(d, dn, ' ');
		gap = false;
		if (ch == '"') {
			size_t k = p->i + 1;
			while (k < p->s.len && p->s.p[k] != '"') {
				unsigned char q = p->s.p[k];
				if (q == '\\' && k + 1 < p->s.len)
					q = p->s.p[++k];
				if (q != '\r' && q != '\n') {
					PUT(d, dn, q);
					PUT(c, cn, q);
				}
				k++;
			}
			p->i = k < p->s.len ? k + 1 : k;
			continue;
		}
		/* An atom, a dot, or a stray special taken as text. */
		size_t k = p->i;
		do {
			PUT(d, dn, p->s.p[k]);
			PUT(c, cn, p->s.p[k]);
			k++;
		} while (k < p->s.len && !mime_is_wsp(p->s.p[k]) &&
			 strchr("<>@,;:\"(", p->s.p[k]) == NULL);
		p->i = k;
	}
#undef PUT
	*dn_out = dn;
	*cn_out = cn;
}

static void read_phrase(struct ap *p, struct span *display,
			struct span *compact)
{
	size_t start = p->i, dn, cn;
	struct span saved = p->comment;
	phrase_pass(p, NULL, NULL, &dn, &cn);
	unsigned char *d = mime_arena_alloc(p->a, dn + 1);
	unsigned char *c = mime_arena_alloc(p->a, cn + 1);
	p->i = start;
	p->comment = saved;
	phrase_pass(p, d, c, &dn, &cn);
	*display = span_make(d, dn);
	*compact = span_make(c, cn);
}

/* After '@': atoms, dots and domain literals, comments, quotes and white
 * space dropped, up to a delimiter. Measured first, as above. */
static size_t domain_pass(struct ap *p, const char *stop, unsigned char *d)
{
	size_t n = 0;
	for (;;) {
		skip(p);
		if (p->i >= p->s.len || strchr(stop, p->s.p[p->i]) != NULL)
			break;
		unsigned char ch = p->s.p[p->i++];
		if (ch == '"')
			continue;
		if (d != NULL)
			d[n] = ch;
		n++;
	}
	return n;
}

static struct span read_domain(struct ap *p, const char *stop)
{
	size_t start = p->i;
	struct span saved = p->comment;
	size_t n = domain_pass(p, stop, NULL);
	unsigned char *d = mime_arena_alloc(p->a, n + 1);
	p->i = start;
	p->comment = saved;
	n = domain_pass(p, stop, d);
	return span_make(d, n);
}

/* Inside <...>: everything up to '>' without white space, comments and
 * quotes, then split: an obsolete route "@a,@b:" (RFC 5322 4.4) before
 * the first ':', the domain after the last '@'. URLs in List-* fields
 * ("<mailto:x@y?subject=z>") come through whole as the mailbox. */
static size_t angle_pass(struct ap *p, unsigned char *d, size_t cap)
{
	size_t n = 0;
	for (;;) {
		skip(p);
		if (p->i >= p->s.len || p->s.p[p->i] == '>')
			break;
		unsigned char ch = p->s.p[p->i];
		if (ch == '"') {
			size_t k = p->i + 1;
			while (k < p->s.len && p->s.p[k] != '"') {
				if (p->s.p[k] == '\\' && k + 1 < p->s.len)
					k++;
				if (d != NULL && n < cap && p->s.p[k] != '\r' && p->s.p[k] != '\n')
					d[n] = p->s.p[k];
				n++;
				k++;
			}
			p->i = k < p->s.len ? k + 1 : k;
			continue;
		}
		if (d != NULL && n < cap)
			d[n] = ch;
		n++;
		p->i++;
	}
	return n;
}

static void read_angle(struct ap *p, struct mime_addr *ad)
{
	p->i++;	/* '<' */
	size_t start = p->i;
	struct span saved = p->comment;
	size_t cap = angle_pass(p, NULL, 0);
	unsigned char *d = mime_arena_alloc(p->a, cap + 1);
	p->i = start;
	p->comment = saved;
	size_t n = angle_pass(p, d, cap);
	if (n > cap)
		n = cap;
	if (p->i < p->s.len)
		p->i++;	/* '>' */
	else
		ad->invalid = true;
	size_t s = 0;
	if (n > 0 && d[0] == '@') {
		const unsigned char *colon = memchr(d, ':', n);
		if (colon != NULL) {
			ad->route = span_make(d, (size_t)(colon - d));
			s = (size_t)(colon - d) + 1;
		}
	}
	size_t at = n;
	for (size_t k = n; k > s; k--)
		if (d[k - 1] == '@') {
			at = k - 1;
			break;
		}
	ad->mailbox = span_make(d + s, at - s);
	if (at < n)
		ad->domain = span_make(d + at + 1, n - at - 1);
}

/* One mailbox, or one group when in_group is false. */
/* The caller clears p->comment before the white space it skips, so a
 * leading comment can name the address. */
static void parse_one(struct ap *p, bool in_group)
{
	struct span display, compact;
	read_phrase(p, &display, &compact);
	unsigned char ch = p->i < p->s.len ? p->s.p[p->i] : 0;

	if (ch == ':' && !in_group) {
		struct mime_addr *g = emit(p, MIME_ADDR_GROUP_START);
		g->name = display;
		if (display.len == 0 && p->comment.p != NULL)
			g->name = comment_text(p, p->comment);
		p->i++;
		for (;;) {
			p->comment = span_make(NULL, 0);
			skip(p);
			if (p->i >= p->s.len)
				break;
			ch = p->s.p[p->i];
			if (ch == ';') {
				p->i++;
				break;
			}
			if (ch == ',') {
				p->i++;
				continue;
			}
			size_t before = p->i;
			parse_one(p, true);
			if (p->i == before)
				p->i++;	/* a stray ':' or '>' */
		}
		emit(p, MIME_ADDR_GROUP_END);
		return;
	}
	if (ch == '<') {
		struct mime_addr *ad = emit(p, MIME_ADDR_MAILBOX);
		size_t idx = p->out->n - 1;
		struct span before = p->comment;
		read_angle(p, ad);
		p->comment = span_make(NULL, 0);
		skip(p);
		if (p->comment.p == NULL)
			p->comment = before;	/* "(comment) <addr>" */
		ad = &p->out->addrs[idx];
		ad->name = display;
		if (display.len == 0 && p->comment.p != NULL)
			ad->name = comment_text(p, p->comment);
		if (ad->mailbox.len == 0 || ad->domain.len == 0)
			ad->invalid = true;
		return;
	}
	if (ch == '@') {
		struct mime_addr *ad = emit(p, MIME_ADDR_MAILBOX);
		size_t idx = p->out->n - 1;
		struct span comment = p->comment;
		p->i++;
		ad->mailbox = compact;
		ad->domain = read_domain(p, ",;<>");
		ad = &p->out->addrs[idx];
		if (p->comment.p == NULL)
			p->comment = comment;
		skip(p);
		if (p->comment.p != NULL)
			ad->name = comment_text(p, p->comment);
		if (ad->mailbox.len == 0 || ad->domain.len == 0)
			ad->invalid = true;
		if (p->i < p->s.len && p->s.p[p->i] == '<') {
			/* "a@b <c@d>": the first address was the name. */
			unsigned char *nm = mime_arena_alloc(p->a, compact.len + 1 + ad->domain.len);
			memcpy(nm, compact.p, compact.len);
			nm[compact.len] = '@';
			memcpy(nm + compact.len + 1, ad->domain.p, ad->domain.len);
			ad->name = span_make(nm, compact.len + 1 + ad->domain.len);
			ad->mailbox = ad->domain = span_make(NULL, 0);
			read_angle(p, ad);
			ad = &p->out->addrs[idx];
			skip(p);
			if (ad->mailbox.len == 0 || ad->domain.len == 0)
				ad->invalid = true;
		}
		return;
	}
	if (compact.len == 0)
		return;	/* nothing here (",,", or a stray delimiter) */
	/* No '@': one word is a mailbox missing its domain; several are a
	 * display name missing its address (Dovecot reads both so). */
	struct mime_addr *ad = emit(p, MIME_ADDR_MAILBOX);
	ad->invalid = true;
	if (display.len != compact.len) {
		ad->name = display;
		return;
	}
	ad->mailbox = compact;
	if (p->comment.p != NULL)
		ad->name = comment_text(p, p->comment);
}

void mime_addr_parse(struct span value, struct mime_addr_list *out)
{
	memset(out, 0, sizeof *out);
	out->mem = xcalloc(1, sizeof *out->mem);
	struct ap p = { .s = value, .a = out->mem, .out = out };
	while (p.i < p.s.len) {
		p.comment = span_make(NULL, 0);
		skip(&p);
		if (p.i >= p.s.len)
			break;
		unsigned char ch = p.s.p[p.i];
		if (ch == ',' || ch == ';' || ch == '>' || ch == ':') {
			p.i++;
			continue;
		}
		size_t before = p.i;
		parse_one(&p, false);
		if (p.i == before)
			p.i++;
	}
}

void mime_addr_list_free(struct mime_addr_list *list)
{
	free(list->addrs);
	list->addrs = NULL;
	list->n = 0;
	mime_fields_free(&list->mem);
}
