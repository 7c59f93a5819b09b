/* rules_private.h - what the rule files (rules_*.c) share: the message
 * once parsed, the From identity, and small domain helpers. */
#ifndef PETREL_FILTER_RULES_PRIVATE_H
#define PETREL_FILTER_RULES_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "filter/rules.h"
#include "mime/mime.h"
#include "msgauth/dmarc.h"

struct rules_ctx {
	const struct filter_rules_conf *conf;
	const struct mime_message *m;
	struct span hdr;		/* the top-level header block */
	const struct filter_tokens *tok;
	const struct filter_facts *facts;
	const struct filter_weights *w;
	struct filter_syms *out;
	/* RFC 5322.From: the first mailbox; "" when there is none */
	char from_addr[DMARC_DOMAIN_MAX + 66];
	char from_domain[DMARC_DOMAIN_MAX + 1];	/* normalised */
	char from_org[DMARC_DOMAIN_MAX + 1];	/* registrable, or domain */
	struct span from_name;		/* raw display name, may be empty */
	bool bulk;			/* list or bulk headers present */
	/* the date of the newest Received field that has one (set by
	 * rules_received(), which runs before rules_headers()) */
	bool have_rcvd_date;
	int64_t rcvd_date;
};

/* Add symbol name at its full weight, with a printf detail. */
#define RULES_ADD(c, name, ...) \
	filter_sym_add((c)->out, (c)->w, name, 1.0, __VA_ARGS__)

void rules_auth(struct rules_ctx *c);
void rules_headers(struct rules_ctx *c);
void rules_received(struct rules_ctx *c);
void rules_attach(struct rules_ctx *c);
void rules_mime(struct rules_ctx *c);
void rules_urls(struct rules_ctx *c);
void rules_phish(struct rules_ctx *c);

/* len octets of domain normalised into norm and its registrable domain
 * into org (the domain itself when it has none); both DMARC_DOMAIN_MAX
 * + 1. false if it is not a domain name. */
bool rules_org(const char *domain, size_t len, char *norm, char *org);
/* Is org (registrable, lower case) a free mail provider's? */
bool rules_freemail(const char *org);
/* The first mailbox of header field name: its domain normalised and its
 * registrable domain (DMARC_DOMAIN_MAX + 1 each). false if none. */
bool rules_field_domain(struct span hdr, const char *name, char *norm,
			char *org);
/* Is ext (lower case, no dot) on the executable list or conf's? */
bool rules_ext_executable(const struct filter_rules_conf *conf,
			  const char *ext);

#endif
