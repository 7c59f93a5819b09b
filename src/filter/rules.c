/* rules.c - filter_rules_run(): the message parsed once, the From
 * identity found, then each group of rules (rules.h); and the helpers the
 * groups share. */
#include "filter/rules_private.h"

#include <string.h>

/* Free mail providers: a Reply-To there on mail from elsewhere sends the
 * answers to an address anybody can open. Registrable domains. */
static const char *const freemail[] = {
	"gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk",
	"yahoo.co.jp", "yahoo.fr", "ymail.com", "hotmail.com", "hotmail.co.uk",
	"hotmail.fr", "outlook.com", "live.com", "msn.com", "aol.com",
	"icloud.com", "me.com", "mail.com", "gmx.com", "gmx.de", "gmx.net",
	"web.de", "yandex.ru", "yandex.com", "mail.ru", "protonmail.com",
	"proton.me", "zoho.com", "qq.com", "163.com", "126.com", "sina.com",
	"sohu.com", "naver.com", "hanmail.net", "rediffmail.com", "tutanota.com",
	"inbox.com", "lycos.com", "excite.com", "juno.com",
};

bool rules_freemail(const char *org)
{
	for (size_t i = 0; i < sizeof freemail / sizeof freemail[0]; i++)
		if (strcmp(org, freemail[i]) == 0)
			return true;
	return false;
}

bool rules_org(const char *domain, size_t len, char *norm, char *org)
{
	while (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || dmarc_domain_norm(domain, len, norm) < 0)
		return false;
	if (!dmarc_org_domain(norm, org))
		memcpy(org, norm, strlen(norm) + 1);
	return true;
}

bool rules_field_domain(struct span hdr, const char *name, char *norm,
			char *org)
{
	struct span v;
	struct mime_addr_list l;
	bool ok = false;

	if (!mime_header_find(hdr, name, &v))
		return false;
	mime_addr_parse(v, &l);
	for (size_t i = 0; i < l.n && !ok; i++)
		if (l.addrs[i].kind == MIME_ADDR_MAILBOX &&
		    l.addrs[i].domain.len > 0)
			ok = rules_org((const char *)l.addrs[i].domain.p,
				       l.addrs[i].domain.len, norm, org);
	mime_addr_list_free(&l);
	return ok;
}

/* The From mailbox: address, domain, display name. The name span points
 * into the address list's memory, so the list stays with the caller. */
static void from_identity(struct rules_ctx *c, struct mime_addr_list *l)
{
	struct span v;

	memset(l, 0, sizeof *l);
	if (!mime_header_find(c->hdr, "From", &v))
		return;
	mime_addr_parse(v, l);
	for (size_t i = 0; i < l->n; i++) {
		const struct mime_addr *a = &l->addrs[i];
		if (a->kind != MIME_ADDR_MAILBOX || a->domain.len == 0)
			continue;
		if (!rules_org((const char *)a->domain.p, a->domain.len,
			       c->from_domain, c->from_org))
			continue;
		c->from_name = a->name;
		size_t ml = a->mailbox.len < 64 ? a->mailbox.len : 64;
		if (ml > 0)
			memcpy(c->from_addr, a->mailbox.p, ml);
		c->from_addr[ml] = '@';
		memcpy(c->from_addr + ml + 1, c->from_domain,
		       strlen(c->from_domain) + 1);
		return;
	}
}

/* Mailing lists and bulk senders legitimately send with another
 * Return-Path and Reply-To than their From. */
static bool is_bulk(struct span hdr)
{
	static const char *const fields[] = {
		"List-Id", "List-Unsubscribe", "List-Post", "Mailing-List",
		"X-Mailing-List", "List-Help", "Sender",
	};
	struct span v;

	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (mime_header_find(hdr, fields[i], &v))
			return true;
	if (mime_header_find(hdr, "Precedence", &v)) {
		v = span_trim(v);
		return span_eq_ci(v, "bulk") || span_eq_ci(v, "list") ||
		       span_eq_ci(v, "junk");
	}
	return false;
}

void filter_rules_run(const struct filter_rules_conf *conf, struct span msg,
		      const struct filter_tokens *tok,
		      const struct filter_facts *facts,
		      const struct filter_weights *w, struct filter_syms *out)
{
	struct mime_message *m = mime_parse(msg.p, msg.len, NULL);
	filter_rules_run_mime(conf, m, tok, facts, w, out);
	mime_message_free(&m);
}

void filter_rules_run_mime(const struct filter_rules_conf *conf,
			   const struct mime_message *m,
			   const struct filter_tokens *tok,
			   const struct filter_facts *facts,
			   const struct filter_weights *w,
			   struct filter_syms *out)
{
	static const struct filter_rules_conf none;
	static const struct filter_facts no_facts;
	struct rules_ctx c;
	struct mime_addr_list from;

	memset(&c, 0, sizeof c);
	c.conf = conf ? conf : &none;
	c.tok = tok;
	c.facts = facts ? facts : &no_facts;
	c.w = w;
	c.out = out;
	c.m = m;
	c.hdr = mime_part_header(m, mime_message_part(m, 0));
	from_identity(&c, &from);
	c.bulk = is_bulk(c.hdr);

	rules_auth(&c);
	rules_received(&c);
	rules_headers(&c);
	rules_mime(&c);
	rules_attach(&c);
	rules_urls(&c);
	rules_phish(&c);

	mime_addr_list_free(&from);
}
