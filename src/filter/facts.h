/* facts.h - what the filter knows about a message besides its bytes:
 * the SMTP envelope and client, what the authentication checks found,
 * and the organisation's prepared sets. In petreld they come from the
 * SMTP session and msgauth_out; `petrelctl filter score` reads them from
 * the message's own trace fields (Received, Authentication-Results,
 * Return-Path) where present. Every pointer may be NULL: unknown. */
#ifndef PETREL_FILTER_FACTS_H
#define PETREL_FILTER_FACTS_H

#include <stdbool.h>
#include <time.h>

struct lookalike_set;
struct imperson_set;
struct ma_dns;

struct filter_facts {
	bool have_ip;
	unsigned char ip[16];		/* the client; IPv4 as ::ffff:a.b.c.d */
	const char *helo;
	/* its forward-confirmed reverse name (petreld) or the one the
	 * receiving MTA wrote into the Received field ("" none, NULL not
	 * known) */
	const char *rdns;
	const char *mail_from;		/* without <>; "" the null sender */
	const char *rcpt_domain;	/* the first recipient's domain */
	const char *rcpt_user;		/* its address when the message has
					 * one local mailbox: user lists and
					 * the user's classifier apply */
	bool internal;			/* from an authenticated user of ours */
	/* Authentication results, RFC 8601 result words ("pass", "fail",
	 * "softfail", "neutral", "none", "temperror", "permerror", "policy") */
	const char *spf;		/* MAIL FROM */
	const char *spf_domain;		/* the domain SPF checked */
	const char *dkim;		/* the best signature's result */
	const char *const *dkim_pass_domains;	/* d= of verified signatures */
	size_t n_dkim_pass;
	const char *dmarc;		/* "pass", "fail", "none" */
	const char *dmarc_policy;	/* "reject", "quarantine", "none" */
	const char *from_domain;	/* RFC 5322.From domain */
	/* lookalikes of the hosted domains and the brand list, and display
	 * names of the organisation's users */
	const struct lookalike_set *lookalike;
	const struct imperson_set *imperson;
	/* DNS for DNS blocklists; NULL: no DNS checks */
	const struct ma_dns *dns;
	time_t now;
	/* score at this level instead of the recipient domain's (the
	 * command line's --level) */
	bool have_level;
	int level;			/* enum filter_level */
};

#endif
