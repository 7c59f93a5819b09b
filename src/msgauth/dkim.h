/* dkim.h - DomainKeys Identified Mail (RFC 6376, RFC 8301, RFC 8463):
 * verifying the DKIM-Signature fields of a message and signing one.
 *
 * Messages are one buffer with an explicit length: the header section,
 * an empty line, the body. Lines end in CRLF; a bare LF is read as CRLF
 * everywhere (headers and body), so a message stored with LF endings
 * canonicalises as it did on the wire. A lone CR is ordinary data.
 *
 * Everything here is a pure function of the message, the DNS answers
 * (asked through ma_dns.h) and the clock value passed in; no state is
 * kept between calls, and all calls are thread-safe. Work is bounded by
 * the DKIM_* limits in core/limits.h. This module does not decide what to
 * do with a result (DMARC and the SMTP server do) and holds no keys. */
#ifndef PETREL_DKIM_H
#define PETREL_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/limits.h"
#include "msgauth/ma_dns.h"

/* ---- results (RFC 8601 2.7.1) ------------------------------------------ */

enum dkim_result {
	DKIM_NONE = 0,		/* no signature */
	DKIM_PASS,
	DKIM_FAIL,		/* body hash or signature mismatch, expired */
	DKIM_NEUTRAL,		/* not used by the verifier itself; for callers */
	DKIM_POLICY,		/* verified, but rsa-sha1 (RFC 8301 3.1) */
	DKIM_TEMPERROR,		/* key lookup failed temporarily */
	DKIM_PERMERROR,		/* bad signature or key syntax, no key, revoked */
};

enum dkim_alg {
	DKIM_ALG_RSA_SHA256 = 0,
	DKIM_ALG_RSA_SHA1,
	DKIM_ALG_ED25519_SHA256,
};

/* Relaxed is 0 so that zeroed signing options get the recommended
 * relaxed/relaxed; a DKIM-Signature without c= is simple/simple. */
enum dkim_canon {
	DKIM_CANON_RELAXED = 0,
	DKIM_CANON_SIMPLE,
};

const char *dkim_canon_str(enum dkim_canon c);

#define DKIM_REASON_MAX 96

/* One signature's outcome, with what Authentication-Results reports:
 * header.d, header.i, header.s, header.a and header.b (the first 8
 * characters of b=, RFC 6008). Fields a signature did not get far enough
 * to carry are "". */
struct dkim_sig_result {
	enum dkim_result result;
	char reason[DKIM_REASON_MAX];
	char d[DNS_NAME_MAX + 1];
	char i[DKIM_MAX_IDENTITY + 1];
	char s[DKIM_MAX_SELECTOR + 1];
	char a[24];
	char b8[9];
	bool testing;		/* the key says t=y (RFC 6376 3.6.1) */
	unsigned key_bits;	/* size of the key that verified, 0 if none */
};

struct dkim_verdict {
	size_t n;		/* results, in the message's top-down order */
	size_t unchecked;	/* signatures past DKIM_MAX_SIGS, not verified */
	struct dkim_sig_result r[DKIM_MAX_SIGS];
};

struct dkim_verify_opts {
	time_t now;		/* the clock t= and x= are compared with */
	unsigned max_sigs;	/* 0 = DKIM_MAX_SIGS; never more than that */
};

/* Verify every DKIM-Signature field of msg (up to max_sigs, top-down),
 * each with its own result. 0 with out filled (n = 0: no signature), or
 * -1 with err when msg is not a message at all (a header line without a
 * colon, a field or header section over its limit). */
int dkim_verify(const char *msg, size_t len, const struct ma_dns *dns,
		const struct dkim_verify_opts *opts, struct dkim_verdict *out,
		struct err *err) __attribute__((warn_unused_result));

const char *dkim_result_str(enum dkim_result r);
const char *dkim_alg_str(enum dkim_alg a);

/* ---- signing ------------------------------------------------------------ */

struct dkim_sign_opts {
	const char *domain;	/* d= */
	const char *selector;	/* s= */
	EVP_PKEY *key;		/* RSA (>= 1024 bits) or Ed25519; borrowed */
	time_t t;		/* t=; 0 omits it */
	time_t x;		/* x=; 0 omits it, else must be > t */
	const char *identity;	/* i=; NULL omits it (then @domain) */
	/* h= as "from:to:subject", exactly as given (names repeated to
	 * over-sign); NULL picks RFC 6376 5.4.1's set, see dkim_sign. */
	const char *headers;
	enum dkim_canon hcanon, bcanon;	/* 0 = DKIM_CANON_RELAXED, recommended */
};

/* Sign msg and return in *field_out the DKIM-Signature field to put on
 * top of it: "DKIM-Signature: ...\r\n", folded near 76 columns, NUL
 * terminated, owned by the caller (free()). The algorithm follows the
 * key: rsa-sha256 or ed25519-sha256.
 *
 * Without opts->headers, h= lists every field of RFC 6376 5.4.1's
 * recommended set present in the message, as many times as present, and
 * over-signs (names once more, present or not, so none can be added) From,
 * Subject, To, Cc, Date, Message-ID, Reply-To, Content-Type and
 * MIME-Version. DKIM-Signature is never in the default set, so signing
 * twice (RSA then Ed25519, or two domains) gives independent signatures:
 * the second does not cover the first and either may be removed.
 * -1 with err: no From field (RFC 6376 5.4), bad options, key unusable. */
int dkim_sign(const char *msg, size_t len, const struct dkim_sign_opts *opts,
	      char **field_out, struct err *err) __attribute__((warn_unused_result));

#endif
