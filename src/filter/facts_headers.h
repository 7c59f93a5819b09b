/* facts_headers.h - the filter's facts (facts.h) read back from a stored
 * message's own trace fields, for `petrelctl filter score` on files:
 *  - the client: the first Received field (from the top, at most
 *    FILTER_FACTS_RECEIVED_MAX) of the form "from HELO (... [IP])" whose
 *    IP is public (loopback, private and link-local hops such as a local
 *    fetchmail are passed over), with its HELO and the reverse name the
 *    receiving MTA wrote (received.h; "" when it wrote none);
 *  - MAIL FROM: Return-Path;
 *  - SPF, DKIM and DMARC: the topmost Authentication-Results field (ours
 *    when the message was stored by petrel), else Received-SPF;
 *  - the From domain (dmarc_from_domain).
 * A leading mbox "From " line is skipped. Bounded: only the header
 * section, at most FILTER_FACTS_HEADER_MAX octets of it, is read. */
#ifndef PETREL_FILTER_FACTS_HEADERS_H
#define PETREL_FILTER_FACTS_HEADERS_H

#include "core/limits.h"
#include "core/span.h"
#include "filter/facts.h"

#define FILTER_FACTS_DKIM_MAX 4

/* Storage the facts point into: keep it as long as the facts. */
struct filter_facts_hdr {
	char helo[256];
	char rdns[256];
	char mail_from[321];
	char spf[16], spf_domain[254];
	char dkim[16];
	char dkim_d[FILTER_FACTS_DKIM_MAX][254];
	const char *dkim_pass[FILTER_FACTS_DKIM_MAX];
	char dmarc[16], dmarc_policy[16];
	char from_domain[254];
};

/* Fill the message facts of f from msg; other fields are left as they
 * are. Never fails: what is not there stays unknown. */
void filter_facts_from_headers(struct span msg, struct filter_facts_hdr *fh,
			       struct filter_facts *f);

#endif
