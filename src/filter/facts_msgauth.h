/* facts_msgauth.h - the filter's facts (facts.h) from what the
 * authentication step (msgauth.h) found for a message on the MX port. */
#ifndef PETREL_FILTER_FACTS_MSGAUTH_H
#define PETREL_FILTER_FACTS_MSGAUTH_H

#include "filter/facts.h"
#include "msgauth/msgauth.h"

/* Storage the facts point into: keep it as long as the facts. */
struct filter_facts_store {
	const char *dkim_pass[DKIM_MAX_SIGS];
	char from_domain[DMARC_DOMAIN_MAX + 1];
};

/* Fill f from in (client, HELO, MAIL FROM, message) and out (NULL: the
 * checks did not run; only the From domain is read from the message).
 * Fields of f not about these (rcpt_*, sets, dns, internal) are left as
 * they are. */
void filter_facts_from_msgauth(const struct msgauth_in *in,
			       const struct msgauth_out *out,
			       struct filter_facts_store *fs,
			       struct filter_facts *f);

#endif
