/* arc.h - Authenticated Received Chain (RFC 8617): validating the ARC
 * sets a message carries and sealing it with a new set.
 *
 * Built on the DKIM module: the same message splitting, canonicalisation,
 * key records and public-key code (dkim_private.h), the same line-end
 * rules (dkim.h: a bare LF is CRLF) and the same DNS interface. Pure
 * functions, thread-safe, bounded by ARC_MAX_SETS and the DKIM_* limits.
 * Deciding what a chain result means for delivery is DMARC's and the
 * caller's business. */
#ifndef PETREL_ARC_H
#define PETREL_ARC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/limits.h"
#include "msgauth/ma_dns.h"

/* Chain validation status (RFC 8617 4.4), also the cv= of a seal. */
enum arc_cv {
	ARC_NONE = 0,
	ARC_PASS,
	ARC_FAIL,
};

#define ARC_REASON_MAX 160

struct arc_result {
	enum arc_cv cv;
	bool temporary;		/* fail came from a DNS failure: try later */
	char reason[ARC_REASON_MAX];	/* why fail; "" otherwise */
	unsigned sets;		/* N, the highest instance (0: no ARC fields) */
	/* The lowest instance from which every AMS up to N validates (RFC
	 * 8617 5.2 step 6; 1 when all do); 0 unless cv is pass. */
	unsigned oldest_pass;
	/* The newest AMS's signer, for Authentication-Results (smtp.arc
	 * properties): d= and s=, "" when there was no chain. */
	char d[DNS_NAME_MAX + 1];
	char s[DKIM_MAX_SELECTOR + 1];
};

/* Validate the ARC chain of msg (RFC 8617 5.2): structure (one AAR, AMS
 * and AS per instance 1..N, N <= ARC_MAX_SETS), the newest seal's cv=,
 * cv= none at 1 and pass above, the newest AMS, then every seal. now is
 * the clock for x= in the AMSs. 0 with out filled, -1 with err when msg
 * is not a message (as dkim_verify). */
int arc_verify(const char *msg, size_t len, const struct ma_dns *dns, time_t now,
	       struct arc_result *out, struct err *err) __attribute__((warn_unused_result));

const char *arc_cv_str(enum arc_cv cv);

struct arc_seal_opts {
	const char *domain;	/* d= of the AMS and the AS */
	const char *selector;	/* s= */
	EVP_PKEY *key;		/* RSA >= 1024 bits (rsa-sha256) or Ed25519; borrowed */
	time_t t;		/* t= of both; 0 omits it */
	/* The ARC-Authentication-Results payload after "i=N; ": this hop's
	 * authserv-id and results, e.g. "mx.example.org; spf=pass ...;
	 * dkim=pass ...; arc=pass". */
	const char *aar;
	/* The AMS h= as "from:to:subject"; NULL uses the DKIM signing set
	 * (dkim.h) with over-signing. */
	const char *headers;
	/* The status of the incoming chain as arc_verify gave it; becomes
	 * the new seal's cv=. */
	enum arc_cv cv;
};

/* Seal msg with ARC set N+1 (RFC 8617 5.1): *fields_out receives
 * "ARC-Seal: ...\r\nARC-Message-Signature: ...\r\nARC-Authentication-
 * Results: ...\r\n" to put on top of msg, NUL-terminated, the caller's to
 * free(). The AMS is relaxed/relaxed; tags are written in alphabetical
 * order, and a fail chain is sealed over the new set alone, as the
 * ARC test suite (and dkimpy) do. Returns 1 with the fields, 0 with
 * *fields_out NULL when nothing may be added (the newest seal already
 * says cv=fail, or N is ARC_MAX_SETS: the chain has ended), -1 with err
 * (cv does not fit the chain: none with sets present, pass or fail
 * without; bad options; unusable key; malformed message). */
int arc_seal(const char *msg, size_t len, const struct arc_seal_opts *opts,
	     char **fields_out, struct err *err) __attribute__((warn_unused_result));

#endif
