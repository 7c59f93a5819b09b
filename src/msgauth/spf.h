/* spf.h - the Sender Policy Framework check (RFC 7208): check_host() for
 * the MAIL FROM and HELO identities, with every mechanism and modifier,
 * macros, the processing limits and all seven results.
 *
 * The check is a pure function of the request and DNS: it asks only
 * through struct ma_dns (ma_dns.h), synchronously, so in petreld it runs
 * on a thread of the authentication pool (blocking libunbound,
 * ma_dns_ub.h) and in tests against a zone table (ma_zone.h). It keeps no
 * state between calls and is thread-safe when the ma_dns backend is.
 *
 * Work is bounded whatever the records say: SPF_LOOKUPS_MAX DNS-querying
 * terms, SPF_VOID_MAX void lookups, SPF_MX_NAMES_MAX / SPF_PTR_NAMES_MAX
 * names per mx / ptr, macro expansions of at most SPF_EXPAND_MAX octets;
 * records are at most MA_DNS_BUF octets (ma_dns.h). Anything past a limit
 * is a permerror, never a crash or a longer wait. A check allocates one
 * ~20 KB state on the heap and uses at most about 100 KB of stack
 * (include/redirect recurse at most SPF_LOOKUPS_MAX + 1 deep).
 *
 * It does not decide what to do with a result (reject, tag): that is the
 * SMTP server's policy. */
#ifndef PETREL_SPF_H
#define PETREL_SPF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/limits.h"
#include "msgauth/ma_dns.h"

enum spf_result {
	SPF_NONE = 0,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

enum spf_identity {
	SPF_ID_MAILFROM = 0,
	SPF_ID_HELO,
};

/* What the SMTP server knows. Strings are NUL-terminated text; the
 * check copies what it keeps, so they may go away after the call. */
struct spf_request {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char ip[16];		/* client address, network order; an
					 * IPv4-mapped IPv6 address counts as
					 * IPv4 (RFC 7208 5) */
	const char *sender;		/* MAIL FROM without <>; "" or NULL for
					 * the null reverse-path */
	const char *helo;		/* HELO/EHLO argument as given; may be NULL */
	const char *receiver;		/* our host name for %{r} and
					 * Received-SPF; NULL = "unknown" */
	long long now;			/* %{t}; 0 = time(NULL) */
};

/* The outcome. Every string is NUL-terminated, cut to its buffer. */
struct spf_out {
	enum spf_result result;
	enum spf_identity identity;
	char domain[DNS_NAME_MAX + 1];	/* the identity's domain */
	char sender[SPF_SENDER_MAX + 1];/* <sender> as checked: local@domain,
					 * "postmaster@helo" for HELO */
	char mechanism[SPF_TERM_SHOW_MAX + 1];	/* the term that decided at
					 * the top level ("-all", "ip4:...",
					 * "include:x"), "" for the default
					 * neutral or errors outside a term */
	char reason[SPF_REASON_MAX + 1];/* for people and logs: "192.0.2.9 is
					 * not permitted by the SPF record of
					 * example.com" */
	char explanation[SPF_EXPLANATION_MAX + 1];	/* fail only: the
					 * domain's exp= text expanded, or the
					 * default one; "" otherwise */
	bool explanation_default;	/* fail and no usable exp= */
	unsigned lookups;		/* DNS-querying terms evaluated (max 10) */
	unsigned void_lookups;		/* answers with no records */
	unsigned queries;		/* DNS queries made in all */
};

/* ---- checks. Each fills *out completely and never fails otherwise. */

/* check_host(<ip>, <domain>, <sender>) exactly as RFC 7208 4 defines
 * it. sender is local-part@domain; a missing local-part becomes
 * "postmaster" (4.3). */
void spf_check_host(const struct ma_dns *dns, const struct spf_request *req,
		    const char *domain, const char *sender,
		    enum spf_identity identity, struct spf_out *out);
/* The MAIL FROM identity (RFC 7208 2.4): the domain of req->sender; the
 * null reverse-path checks postmaster@<helo> as the HELO identity. */
void spf_check_mailfrom(const struct ma_dns *dns, const struct spf_request *req,
			struct spf_out *out);
/* The HELO identity (RFC 7208 2.3): postmaster@<helo>. */
void spf_check_helo(const struct ma_dns *dns, const struct spf_request *req,
		    struct spf_out *out);

/* ---- formatting */

/* "pass", "fail", ... as RFC 7208 8 and RFC 8601 spell them. */
const char *spf_result_str(enum spf_result r);

/* The Received-SPF header field (RFC 7208 9.1), name included, folded
 * with CRLF TAB, without the final CRLF:
 *   Received-SPF: fail (mx.example.org: 192.0.2.9 is not permitted by
 *   	the SPF record of example.com) client-ip=192.0.2.9;
 *   	envelope-from="a@example.com"; helo=mail.example.com;
 *   	receiver=mx.example.org; identity=mailfrom; mechanism="-all"
 * Peer text is quoted or replaced so the field stays one valid header.
 * Returns the length written, or -1 when bufsz is too small (the field
 * is at most SPF_HEADER_MAX octets, so a buffer of that size is enough). */
int spf_received_spf(const struct spf_request *req, const struct spf_out *out,
		     char *buf, size_t bufsz);

#endif
