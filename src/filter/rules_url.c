/* rules_url.c - the message's URLs (tok->urls, already normalised and
 * flagged by url.h): shorteners, numeric and disguised IP hosts, user@
 * tricks, odd ports, links to many sites, hosts that look like a
 * protected domain; and HTML links whose text shows another site than
 * they go to. */
#include "filter/rules_private.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "filter/lookalike.h"

/* Registrable domains a message may link to before it looks like a
 * link farm: a newsletter's own site, its tracker, social networks and
 * app stores stay under it. */
#define MANY_DOMAINS 20

static void url_flags(struct rules_ctx *c, const struct filter_url *u)
{
	if (u->flags & FILTER_URL_IP_OBFUSCATED)
		RULES_ADD(c, "URL_IP_OBFUSCATED", "%s", u->host);
	else if (u->flags & FILTER_URL_IP)
		RULES_ADD(c, "URL_IP", "%s", u->host);
	if (u->flags & FILTER_URL_USERINFO)
		RULES_ADD(c, "URL_USERINFO", "%s", u->host);
	if (u->flags & FILTER_URL_SHORTENER)
		RULES_ADD(c, "URL_SHORTENER", "%s", u->host);
	if (u->flags & FILTER_URL_PORT)
		RULES_ADD(c, "URL_PORT", "%s", u->host);
}

static void urls(struct rules_ctx *c)
{
	const struct filter_urls *l = &c->tok->urls;
	/* distinct registrable domains: n <= FILTER_URLS_MAX, so a linear
	 * search of a small array is cheap enough */
	const size_t max = FILTER_URLS_MAX;
	char (*orgs)[DMARC_DOMAIN_MAX + 1] = NULL;
	size_t norgs = 0, looked = 0;
	char norm[DMARC_DOMAIN_MAX + 1], org[DMARC_DOMAIN_MAX + 1];

	for (size_t i = 0; i < l->n && i < max; i++) {
		const struct filter_url *u = &l->v[i];
		url_flags(c, u);
		if ((u->flags & FILTER_URL_IP) ||
		    !rules_org(u->host, strlen(u->host), norm, org))
			continue;
		bool seen = false;
		for (size_t k = 0; k < norgs && !seen; k++)
			seen = strcmp(orgs[k], org) == 0;
		if (seen)
			continue;
		if (orgs == NULL)
			orgs = xcalloc(max, sizeof orgs[0]);
		memcpy(orgs[norgs++], org, strlen(org) + 1);
		struct lookalike_result r;
		if (c->facts->lookalike != NULL &&
		    looked++ < FILTER_RULES_LOOKALIKE_HOSTS &&
		    lookalike_check(c->facts->lookalike, u->host,
				    strlen(u->host), &r) == 1)
			RULES_ADD(c, "URL_LOOKALIKE", "%s", r.reason);
	}
	if (norgs >= MANY_DOMAINS)
		RULES_ADD(c, "URL_MANY_DOMAINS", "%zu sites", norgs);
	free(orgs);
}

/* The site a link's text shows: a URL, or a bare domain name that has a
 * registrable part ("www.bank.example", "bank.example/login"). */
static bool text_site(const char *text, char *norm, char *org)
{
	size_t n = strlen(text);
	struct filter_url u;

	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '/' ||
			 text[n - 1] == '.'))
		n--;
	while (n > 0 && *text == ' ') {
		text++;
		n--;
	}
	if (n == 0 || memchr(text, ' ', n) != NULL || memchr(text, '@', n))
		return false;
	struct span s = span_make(text, n);
	if (span_prefix_ci(s, "http://") || span_prefix_ci(s, "https://") ||
	    span_prefix_ci(s, "www.")) {
		if (filter_url_normalise(s, &u) < 0)
			return false;
		bool ok = !(u.flags & FILTER_URL_IP) &&
			  rules_org(u.host, strlen(u.host), norm, org);
		filter_url_clear(&u);
		return ok;
	}
	/* a bare name: letters, digits, '-' and '.', the last label
	 * alphabetic, cut at a '/' */
	const char *slash = memchr(text, '/', n);
	if (slash != NULL)
		n = (size_t)(slash - text);
	size_t last = 0, dots = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = text[i];
		if (ch == '.') {
			dots++;
			last = i + 1;
		} else if (!(ch == '-' || (ch >= '0' && ch <= '9') ||
			     ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))) {
			return false;
		}
	}
	if (dots == 0 || n - last < 2)
		return false;
	for (size_t i = last; i < n; i++)
		if (!((text[i] | 0x20) >= 'a' && (text[i] | 0x20) <= 'z'))
			return false;
	/* "report.pdf" and "index.html" are not sites: the last label must
	 * be a listed top-level domain (the list's "*" rule would make any
	 * name one) */
	char tld[64];
	if (n - last >= sizeof tld)
		return false;
	for (size_t i = last; i < n; i++)
		tld[i - last] = (char)(text[i] | 0x20);
	tld[n - last] = '\0';
	return psl_is_public_suffix2(psl_builtin(), tld,
				     PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) &&
	       rules_org(text, n, norm, org) && dmarc_org_domain(norm, org);
}

/* The sender's own infrastructure: links through the envelope domain or
 * a domain that signed the message are the sender's click tracking. */
static bool senders_own(const struct rules_ctx *c, const char *org)
{
	char n2[DMARC_DOMAIN_MAX + 1], o2[DMARC_DOMAIN_MAX + 1];
	const struct filter_facts *f = c->facts;

	if (strcmp(org, c->from_org) == 0)
		return true;
	for (size_t i = 0; f->dkim_pass_domains && i < f->n_dkim_pass; i++)
		if (f->dkim_pass_domains[i] != NULL &&
		    rules_org(f->dkim_pass_domains[i],
			      strlen(f->dkim_pass_domains[i]), n2, o2) &&
		    strcmp(o2, org) == 0)
			return true;
	const char *at = f->mail_from ? strrchr(f->mail_from, '@') : NULL;
	if (at != NULL)
		return rules_org(at + 1, strlen(at + 1), n2, o2) &&
		       strcmp(o2, org) == 0;
	return f->mail_from == NULL &&
	       rules_field_domain(c->hdr, "Return-Path", n2, o2) &&
	       strcmp(o2, org) == 0;
}

static void link_mismatch(struct rules_ctx *c)
{
	char tn[DMARC_DOMAIN_MAX + 1], to[DMARC_DOMAIN_MAX + 1];
	char hn[DMARC_DOMAIN_MAX + 1], ho[DMARC_DOMAIN_MAX + 1];
	struct filter_url u;

	for (size_t i = 0; i < c->tok->nlinks; i++) {
		const struct filter_tok_link *l = &c->tok->links[i];
		if (!text_site(l->text, tn, to))
			continue;
		struct span h = span_cstr(l->href);
		if (!(span_prefix_ci(h, "http://") ||
		      span_prefix_ci(h, "https://")) ||
		    filter_url_normalise(h, &u) < 0)
			continue;
		bool differ = false;
		if (u.flags & FILTER_URL_IP) {
			differ = true;
			snprintf(hn, sizeof hn, "%.253s", u.host);
		} else if (rules_org(u.host, strlen(u.host), hn, ho)) {
			differ = strcmp(ho, to) != 0 && !senders_own(c, ho);
		}
		filter_url_clear(&u);
		/* newsletters send every link through their service's
		 * click tracker, which the rule cannot tell from a lure */
		if (differ) {
			filter_sym_add(c->out, c->w, "PHISH_LINK_MISMATCH",
				       c->bulk ? 0.5 : 1.0, "text shows %s, "
				       "link goes to %s", tn, hn);
			return;
		}
	}
}

static void html_flags(struct rules_ctx *c)
{
	unsigned f = c->tok->html_flags;

	if (f & FILTER_HTML_HIDDEN)
		RULES_ADD(c, "HTML_HIDDEN", NULL);
	if (f & FILTER_HTML_TINY)
		RULES_ADD(c, "HTML_TINY", NULL);
	if (f & FILTER_HTML_SAMECOLOR)
		RULES_ADD(c, "HTML_SAMECOLOR", NULL);
}

void rules_urls(struct rules_ctx *c)
{
	if (c->tok == NULL)
		return;
	urls(c);
	link_mismatch(c);
	html_flags(c);
}
