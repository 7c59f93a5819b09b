/* msgauth_seal.c - the ARC set petreld adds to a message it forwards to
 * another domain (an alias, group member or forward to an external
 * address; RFC 8617 5.1): sealed as the hosted domain the message was
 * sent to, with that domain's DKIM RSA key, vouching for the checks we
 * ran (the AAR is our Authentication-Results) and for the chain as we
 * found it (cv=). Decision 0033. */
#include "msgauth/msgauth_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The A-R payload on one line: our field without its name, folds made
 * spaces (arc_seal folds the AAR again at its own columns). */
static void aar_payload(const struct msgauth_out *checks, char *out, size_t outsz)
{
	static const char name[] = "Authentication-Results:";
	size_t i = 0, k = 0;
	if (checks->ar_len >= sizeof name - 1 &&
	    memcmp(checks->ar, name, sizeof name - 1) == 0)
		i = sizeof name - 1;
	bool space = true;	/* drops leading and repeated white space */
	for (; i < checks->ar_len && k + 1 < outsz; i++) {
		char c = checks->ar[i];
		if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
			if (!space)
				out[k++] = ' ';
			space = true;
			continue;
		}
		out[k++] = c;
		space = false;
	}
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
}

/* Seal as domain with its RSA key: 1 sealed, 0 the domain has no RSA
 * key (why says), -1 the seal failed (why says). */
static int seal_as(struct store *st, const struct dkim_key_policy *policy,
		   const char *domain, const struct msgauth_in *in,
		   const struct msgauth_out *checks, const char *aar,
		   struct msgauth_sealed *out)
{
	struct dkim_signing_key keys[2];
	size_t n = 0;
	struct err err;
	if (dkim_keys_active(st, domain, policy, (int64_t)in->now, keys, &n,
			     &err) != 0) {
		snprintf(out->why, sizeof out->why, "keys: %.120s", err.msg);
		return -1;
	}
	const struct dkim_signing_key *rsa = NULL;
	for (size_t i = 0; i < n && rsa == NULL; i++)
		if (keys[i].alg == DKIM_ALG_RSA)
			rsa = &keys[i];
	if (rsa == NULL) {
		snprintf(out->why, sizeof out->why, "%.100s %s", domain,
			 n == 0 ? "is not hosted here" : "has no RSA DKIM key");
		dkim_signing_keys_free(keys, n);
		return 0;
	}
	struct arc_seal_opts o = {
		.domain = domain,
		.selector = rsa->selector,
		.key = rsa->pkey,
		.t = in->now,
		.aar = aar,
		.cv = checks->arc.sets > 0 ? checks->arc.cv : ARC_NONE,
	};
	char *fields = NULL;
	int rc = arc_seal(in->msg, in->len, &o, &fields, &err);
	if (rc < 0) {
		snprintf(out->why, sizeof out->why, "%.140s", err.msg);
	} else if (rc == 0) {
		snprintf(out->why, sizeof out->why, "the chain has ended "
			 "(cv=fail or %u sets)", (unsigned)ARC_MAX_SETS);
		rc = -1;
	} else if (strlen(fields) > sizeof out->fields) {
		snprintf(out->why, sizeof out->why, "ARC set too large");
		rc = -1;
	} else {
		out->why[0] = '\0';	/* an earlier domain's reason */
		out->len = strlen(fields);
		memcpy(out->fields, fields, out->len);
		out->instance = checks->arc.sets + 1;
		snprintf(out->domain, sizeof out->domain, "%s", domain);
		snprintf(out->selector, sizeof out->selector, "%s", rsa->selector);
	}
	free(fields);
	dkim_signing_keys_free(keys, n);
	return rc;
}

void msgauth_seal(struct store *st, const struct dkim_key_policy *policy,
		  const char *const *domains, size_t n,
		  const struct msgauth_in *in, const struct msgauth_out *checks,
		  struct msgauth_sealed *out)
{
	memset(out, 0, sizeof *out);
	if (st == NULL) {
		snprintf(out->why, sizeof out->why, "no key store");
		return;
	}
	if (checks->arc.sets > 0 && checks->arc.temporary) {
		/* cv=fail would end the chain for good over a DNS hiccup
		 * (RFC 8617 5.2: a chain that failed stays failed); the next
		 * hop judges the chain as it came */
		snprintf(out->why, sizeof out->why, "arc chain temperror");
		return;
	}
	char aar[AR_MAX];
	aar_payload(checks, aar, sizeof aar);
	if (aar[0] == '\0') {
		snprintf(out->why, sizeof out->why, "no Authentication-Results");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (domains[i] == NULL || domains[i][0] == '\0')
			continue;
		/* the same domain twice is asked once */
		if (i > 0 && domains[0] != NULL &&
		    strcasecmp(domains[0], domains[i]) == 0)
			continue;
		if (seal_as(st, policy, domains[i], in, checks, aar, out) != 0)
			return;
	}
	if (out->why[0] == '\0')
		snprintf(out->why, sizeof out->why, "no recipient domain");
}
