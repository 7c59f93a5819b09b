/* tokenize.c - a message to its token set (see token.h): the walk over
 * the MIME tree, header fields, part bodies and URLs. */
#include "filter/token.h"

#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/xmalloc.h"
#include "mime/mime.h"
#include "msgauth/dmarc.h"

/* Decoded header values: far more than any real Subject or name. */
#define HDR_TEXT_MAX (16u * 1024)

/* A short ASCII value (type, charset, domain, extension) lower-cased. */
static void add_lower(struct filter_tokens *t, const char *prefix,
		      struct span v)
{
	char s[FILTER_TOKEN_MAX];
	size_t n = 0;

	v = span_trim(v);
	for (size_t i = 0; i < v.len && n < sizeof s; i++) {
		unsigned char c = v.p[i];
		if (c <= ' ' || c == '"' || c == ';')
			continue;
		s[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	if (n > 0)
		filter_tokens_add(t, prefix, s, n);
}

/* Words of an unstructured field, encoded words decoded. */
static void header_words(struct filter_tokens *t, struct span hdr,
			 const char *name, const char *prefix)
{
	struct span v;
	struct buf b;

	if (!mime_header_find(hdr, name, &v))
		return;
	buf_init(&b, HDR_TEXT_MAX);
	/* full: the words of what fitted still count */
	if (mime_header_decode(v, &b) == 0 || b.len > 0)
		filter_tokens_text(t, prefix, buf_span(&b));
	buf_release(&b);
}

/* The first address of a field: its domain, and for From the words of
 * its display name (impersonation puts the bait there). */
static void header_addr(struct filter_tokens *t, struct span hdr,
			const char *name, const char *prefix, bool words)
{
	struct span v;
	struct mime_addr_list l;

	if (!mime_header_find(hdr, name, &v))
		return;
	mime_addr_parse(v, &l);
	for (size_t i = 0; i < l.n; i++) {
		if (l.addrs[i].kind != MIME_ADDR_MAILBOX)
			continue;
		add_lower(t, prefix, l.addrs[i].domain);
		if (words && l.addrs[i].name.len > 0) {
			struct buf b;
			buf_init(&b, HDR_TEXT_MAX);
			if (mime_header_decode(l.addrs[i].name, &b) == 0 ||
			    b.len > 0)
				filter_tokens_text(t, prefix, buf_span(&b));
			buf_release(&b);
		}
		break;
	}
	mime_addr_list_free(&l);
}

/* The shape of the header as a whole, which bulk mailers and spamware
 * give away as much as their words: "hdr:" and the name of each field
 * present, the words of the Received fields (relay names and
 * addresses, "rcvd:"), the domain of the Message-ID ("msgid:"). Bounded
 * by FILTER_HDR_FIELDS_MAX fields and FILTER_HDR_RECEIVED_MAX Received
 * fields. */
static void header_shape(struct filter_tokens *t, struct span hdr)
{
	struct span name, value;
	size_t pos = 0, fields = 0, received = 0;

	while (fields < FILTER_HDR_FIELDS_MAX &&
	       mime_header_next(hdr, &pos, &name, &value) == 1) {
		fields++;
		if (name.len > 0 && name.len < FILTER_TOKEN_MAX)
			add_lower(t, "hdr:", name);
		if (name.len == 8 &&
		    strncasecmp((const char *)name.p, "received", 8) == 0 &&
		    received++ < FILTER_HDR_RECEIVED_MAX)
			filter_tokens_text(t, "rcvd:", value);
		if (name.len == 10 &&
		    strncasecmp((const char *)name.p, "message-id", 10) == 0) {
			const unsigned char *at = memchr(value.p, '@', value.len);
			if (at != NULL) {
				struct span dom = span_make(at + 1, value.len -
					(size_t)(at + 1 - value.p));
				const unsigned char *gt = memchr(dom.p, '>', dom.len);
				if (gt != NULL)
					dom.len = (size_t)(gt - dom.p);
				add_lower(t, "msgid:", dom);
			}
		}
	}
}

static void headers(struct filter_tokens *t, struct span hdr)
{
	header_words(t, hdr, "Subject", "subject:");
	header_addr(t, hdr, "From", "from:", true);
	header_addr(t, hdr, "Reply-To", "reply-to:", false);
	header_addr(t, hdr, "Return-Path", "return-path:", false);
	header_addr(t, hdr, "To", "to:", true);
	header_words(t, hdr, "X-Mailer", "x-mailer:");
	header_words(t, hdr, "User-Agent", "x-mailer:");
	header_shape(t, hdr);
}

/* "ext:" and the extension of an attachment's file name. */
static void attachment_ext(struct filter_tokens *t, const struct mime_part *p)
{
	const struct mime_param *fn =
		mime_param_find(p->disp_params, p->ndisp_params, "filename");

	if (fn == NULL)
		fn = mime_param_find(p->params, p->nparams, "name");
	if (fn == NULL)
		return;
	struct buf b;
	buf_init(&b, 1024);
	if (mime_param_utf8(fn, &b) < 0) {	/* a name over 1 KB */
		buf_release(&b);
		return;
	}
	const unsigned char *dot = NULL;
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '.')
			dot = b.data + i;
	if (dot != NULL && b.data + b.len - dot - 1 <= 10)
		add_lower(t, "ext:", span_make(dot + 1,
					       (size_t)(b.data + b.len - dot - 1)));
	buf_release(&b);
}

/* The body of a text part as UTF-8, at most FILTER_PART_MAX_READ of it
 * read: transfer decodings only shrink, a charset at most triples. */
static void part_text(const struct mime_message *m, const struct mime_part *p,
		      struct buf *out)
{
	struct span body = mime_part_body(m, p);
	struct buf raw;

	if (body.len > FILTER_PART_MAX_READ)
		body.len = FILTER_PART_MAX_READ;
	buf_init(&raw, body.len + 4);
	int rc;
	if (p->cte == MIME_CTE_BASE64)
		rc = mime_base64_decode(body, &raw);
	else if (p->cte == MIME_CTE_QP)
		rc = mime_qp_decode(body, &raw);
	else
		rc = buf_append(&raw, body.p, body.len);
	const struct mime_param *cs =
		mime_param_find(p->params, p->nparams, "charset");
	buf_init(out, 4 * raw.len + 64);
	/* out is sized for the worst case; a failure leaves what fitted */
	if (rc == 0 &&
	    mime_charset_to_utf8(cs ? cs->value : span_cstr("us-ascii"),
				 buf_span(&raw), out) < 0)
		rc = -1;
	buf_release(&raw);
}

/* The <a href> links with visible text, for the link-text rule. */
static void keep_links(struct filter_tokens *t, const struct filter_html *h)
{
	for (size_t i = 0; i < h->nlinks; i++) {
		const struct filter_html_link *l = &h->links[i];
		if (l->kind != FILTER_LINK_HREF || l->text == NULL ||
		    l->text[0] == '\0')
			continue;
		if (t->nlinks >= FILTER_TOKEN_LINKS_MAX) {
			t->links_dropped++;
			continue;
		}
		if (t->links == NULL)
			t->links = xcalloc(FILTER_TOKEN_LINKS_MAX,
					   sizeof t->links[0]);
		t->links[t->nlinks].href = xstrdup(l->url);
		t->links[t->nlinks].text = xstrdup(l->text);
		t->nlinks++;
	}
}

static void part_tokens(struct filter_tokens *t, const struct mime_message *m,
			const struct mime_part *p)
{
	char ct[FILTER_TOKEN_MAX];
	size_t tl = p->type.len < 16 ? p->type.len : 16;
	size_t sl = p->subtype.len < 20 ? p->subtype.len : 20;

	if (tl > 0) {
		memcpy(ct, p->type.p, tl);
		ct[tl] = '/';
		memcpy(ct + tl + 1, p->subtype.p, sl);
		add_lower(t, "ct:", span_make(ct, tl + 1 + sl));
	}
	if (p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE))
		return;
	attachment_ext(t, p);
	if (!(p->flags & (MIME_PART_TEXT | MIME_PART_BROKEN)))
		return;
	const struct mime_param *cs =
		mime_param_find(p->params, p->nparams, "charset");
	if (cs != NULL)
		add_lower(t, "charset:", cs->value);
	struct buf text;
	part_text(m, p, &text);
	if (span_eq_ci(p->subtype, "html")) {
		struct filter_html h;
		filter_html_parse(buf_span(&text), &h);
		filter_tokens_text(t, "", buf_span(&h.text));
		filter_urls_from_html(&t->urls, &h);
		keep_links(t, &h);
		filter_forms_scan(buf_span(&text), &t->forms);
		t->html_flags |= h.flags;
		filter_html_free(&h);
	} else {
		filter_tokens_text(t, "", buf_span(&text));
		filter_urls_from_text(&t->urls, buf_span(&text));
	}
	buf_release(&text);
}

static const struct {
	unsigned flag;
	const char *token;
} html_signals[] = {
	{ FILTER_HTML_HIDDEN, "html:#hidden" },
	{ FILTER_HTML_TINY, "html:#tiny" },
	{ FILTER_HTML_SAMECOLOR, "html:#samecolor" },
	{ FILTER_HTML_TRUNCATED, "html:#truncated" },
	{ FILTER_HTML_DEEP, "html:#deep" },
}, url_signals[] = {
	{ FILTER_URL_IP, "url:#ip" },
	{ FILTER_URL_IP_OBFUSCATED, "url:#ip-obfuscated" },
	{ FILTER_URL_IDN, "url:#idn" },
	{ FILTER_URL_SHORTENER, "url:#shortener" },
	{ FILTER_URL_USERINFO, "url:#userinfo" },
	{ FILTER_URL_PORT, "url:#port" },
	{ FILTER_URL_BAD_HOST, "url:#bad-host" },
};

static void url_tokens(struct filter_tokens *t)
{
	for (size_t i = 0; i < t->urls.n; i++) {
		const struct filter_url *u = &t->urls.v[i];
		filter_tokens_add(t, "url:", u->host, strlen(u->host));
		char org[DMARC_DOMAIN_MAX + 1];
		if (!(u->flags & FILTER_URL_IP) && strlen(u->host) <= DMARC_DOMAIN_MAX &&
		    dmarc_org_domain(u->host, org) && strcmp(org, u->host) != 0)
			filter_tokens_add(t, "url:", org, strlen(org));
		for (size_t k = 0; k < sizeof url_signals / sizeof url_signals[0]; k++)
			if (u->flags & url_signals[k].flag)
				filter_tokens_add(t, "", url_signals[k].token,
						  strlen(url_signals[k].token));
	}
	if (t->urls.dropped > 0)
		filter_tokens_add(t, "", "url:#many", 9);
}

void filter_tokenize(struct span msg, struct filter_tokens *t)
{
	struct mime_message *m = mime_parse(msg.p, msg.len, NULL);
	filter_tokenize_mime(m, t);
	mime_message_free(&m);
}

void filter_tokenize_mime(const struct mime_message *m, struct filter_tokens *t)
{
	uint32_t nparts = mime_message_nparts(m);

	filter_tokens_init(t);
	headers(t, mime_part_header(m, mime_message_part(m, 0)));
	for (uint32_t i = 0; i < nparts && i < FILTER_MAX_PARTS; i++)
		part_tokens(t, m, mime_message_part(m, i));
	if (nparts > FILTER_MAX_PARTS)
		filter_tokens_add(t, "", "mime:#many-parts", 16);
	for (size_t k = 0; k < sizeof html_signals / sizeof html_signals[0]; k++)
		if (t->html_flags & html_signals[k].flag)
			filter_tokens_add(t, "", html_signals[k].token,
					  strlen(html_signals[k].token));
	url_tokens(t);
}
