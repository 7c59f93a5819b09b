/* dmarc.h - DMARC (RFC 7489) for received mail: the policy record, policy
 * discovery through ma_dns, identifier alignment, evaluation into a result
 * and disposition, and the RFC5322.From domain of a message.
 *
 * It evaluates; it does not act. The SMTP server decides what to do with a
 * result (reject with dmarc_eval.reason, quarantine, add the
 * Authentication-Results text); aggregate reports are in dmarc_report.h.
 * Everything here is synchronous (DNS through ma_dns, see ma_dns.h), keeps
 * no state between calls and is thread-safe (the public suffix list is
 * loaded once, read-only). Also RFC 9091 np= and RFC 9989 t=. */
#ifndef PETREL_DMARC_H
#define PETREL_DMARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/span.h"
#include "msgauth/ma_dns.h"

/* ----- the record (RFC 7489 6.3) -------------------------------------- */

enum dmarc_policy {
	DMARC_POLICY_UNSET = 0,	/* tag absent (sp, np): the next one applies */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

enum dmarc_align {
	DMARC_ALIGN_RELAXED = 0,	/* same organisational domain */
	DMARC_ALIGN_STRICT,		/* identical domains */
};

/* fo= options (RFC 7489 6.3), a bit each. */
#define DMARC_FO_0 0x1u
#define DMARC_FO_1 0x2u
#define DMARC_FO_D 0x4u
#define DMARC_FO_S 0x8u
/* rf= formats; afrf is the only one defined. */
#define DMARC_RF_AFRF 0x1u

/* One reporting URI of rua= or ruf= (RFC 7489 6.2): the URI without its
 * "!size" suffix, and the size the owner accepts (0: no limit given). */
struct dmarc_uri {
	char uri[DMARC_URI_MAX + 1];
	uint64_t max_size;
};

/* A parsed record. Every field holds its RFC default when the tag was
 * absent or, per RFC 7489 6.3 ("syntax errors in the remainder of the
 * record SHOULD be discarded in favor of default values"), invalid; the
 * first such discarded tag is described in complaint. */
struct dmarc_record {
	enum dmarc_policy p;	/* never UNSET after a successful parse */
	enum dmarc_policy sp;	/* UNSET: p applies to subdomains */
	enum dmarc_policy np;	/* RFC 9091; UNSET: sp (then p) applies */
	bool p_from_rua;	/* p was missing or invalid (or sp invalid):
				 * p=none assumed because rua is valid (6.6.3) */
	enum dmarc_align adkim, aspf;
	unsigned pct;		/* 0..100, default 100 */
	bool testing;		/* t=y (RFC 9989): ask one step less */
	unsigned fo;		/* DMARC_FO_*, default DMARC_FO_0 */
	unsigned rf;		/* DMARC_RF_*, default DMARC_RF_AFRF */
	uint32_t ri;		/* seconds, default 86400 */
	size_t n_rua, n_ruf;
	struct dmarc_uri rua[DMARC_URIS_MAX], ruf[DMARC_URIS_MAX];
	unsigned n_ignored;	/* tags discarded as invalid (unknown ones are
				 * not counted: RFC 7489 6.3 ignores them) */
	char complaint[128];	/* "" or why the first one was discarded */
};

/* Parse one TXT record (len bytes, no NUL needed). 0 with *rec filled, or
 * -1 with *why a static reason when the record cannot be used at all:
 * empty, not starting with v=DMARC1, or without a usable p= (or with an
 * invalid sp=) and no valid rua= (RFC 7489 6.6.3: "no DMARC processing").
 * Tag names are compared without case (V=DMARC1 is seen), values of
 * keyword tags too (p=Reject); the value DMARC1 is exact. Duplicate tags:
 * the first one counts, the rest are discarded with a complaint. */
int dmarc_record_parse(const char *s, size_t len, struct dmarc_record *rec,
		       const char **why);
/* true if the record starts with a v=DMARC1 tag (RFC 7489 6.6.3 step 2:
 * other TXT records at _dmarc are discarded before counting). */
bool dmarc_record_is_dmarc(const char *s, size_t len);
const char *dmarc_policy_str(enum dmarc_policy p);

/* ----- domains and alignment (RFC 7489 3.1, 3.2) ---------------------- */

/* Copy a domain lower-cased, without leading or trailing dots, into out
 * (DMARC_DOMAIN_MAX + 1 bytes). -1 if empty, too long, or with bytes other
 * than letters, digits, '-', '_' and '.' (U-labels must come as A-labels),
 * or with an empty label. */
int dmarc_domain_norm(const char *in, size_t len, char *out);
/* The organisational domain of a normalised domain (RFC 7489 3.2: public
 * suffix plus one label, from the public suffix list) into out
 * (DMARC_DOMAIN_MAX + 1). false when there is none: the domain is itself a
 * public suffix, a single label, or an IPv4 literal. */
bool dmarc_org_domain(const char *domain, char *out);
/* Identifier alignment of two domains (any case, dots trimmed). Relaxed:
 * same organisational domain (equal domains when neither has one). */
bool dmarc_aligned(const char *a, const char *b, enum dmarc_align mode);

/* ----- discovery (RFC 7489 6.6.3) ------------------------------------- */

enum dmarc_found {
	DMARC_FOUND = 0,	/* one usable record */
	DMARC_FOUND_NONE,	/* no record, several, or an unusable one */
	DMARC_FOUND_TEMPERROR,	/* DNS failed: try again later */
};

struct dmarc_discovery {
	enum dmarc_found found;
	bool org_record;	/* found at the organisational domain */
	char domain[DMARC_DOMAIN_MAX + 1];	/* where it was found */
	char text[DMARC_RECORD_MAX + 1];	/* the record as published */
	struct dmarc_record rec;
	char why[160];		/* NONE / TEMPERROR: what happened */
};

/* Look up the policy for a normalised From domain: _dmarc.<domain>, and if
 * that holds no DMARC record, _dmarc.<organisational domain>. At most two
 * TXT queries. Never fails: the outcome is in out->found. */
void dmarc_discover(const struct ma_dns *dns, const char *from_domain,
		    struct dmarc_discovery *out);

/* ----- evaluation (RFC 7489 6.6, 6.6.4) ------------------------------- */

/* A DKIM signature of the message and its result (RFC 6376). Only passing
 * ones count for DMARC; weak_key_bits is for reports: nonzero when the
 * signature failed only because its key was too short (RFC 8301 3.2). */
struct dmarc_dkim_sig {
	const char *domain;	/* d= */
	bool pass;
	unsigned weak_key_bits;
};

/* pct sampling: return a number in [0, 100). */
typedef unsigned dmarc_rand_fn(void *arg);

struct dmarc_input {
	const char *from_domain;	/* RFC5322.From domain (dmarc_from_domain) */
	const char *spf_domain;		/* domain SPF checked: MAIL FROM's, or
					 * HELO's for the null path (RFC 7489 4.1);
					 * NULL if none */
	bool spf_pass;
	const struct dmarc_dkim_sig *dkim;
	size_t n_dkim;
	const char *arc;		/* optional ARC result ("pass"), shown in
					 * the A-R comment for local policy */
	dmarc_rand_fn *rand;		/* NULL: the system's random source */
	void *rand_arg;
};

enum dmarc_result {
	DMARC_RESULT_NONE = 0,	/* no policy published */
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR,	/* the From domain could not be used */
};

enum dmarc_which {
	DMARC_WHICH_NONE = 0,	/* no record */
	DMARC_WHICH_P,
	DMARC_WHICH_SP,
	DMARC_WHICH_NP,
};

/* The outcome: plain fields, to store or log as they are. */
struct dmarc_eval {
	enum dmarc_result result;
	/* The policy the domain asks for this message: p, sp or np as
	 * "which" says, one step lower under t=y. Set for pass too. */
	enum dmarc_policy policy;
	enum dmarc_which which;
	/* What to do: none on pass, otherwise policy unless pct sampling
	 * left the message out (then one step lower, RFC 7489 6.6.4). */
	enum dmarc_policy disposition;
	bool sampled_out;
	bool nonexistent;	/* np applied: the From domain does not exist */
	char from_domain[DMARC_DOMAIN_MAX + 1];	/* header.from */
	char policy_domain[DMARC_DOMAIN_MAX + 1];	/* where the record was */
	bool org_record;
	char dkim_aligned[DMARC_DOMAIN_MAX + 1];	/* d= that aligned, or "" */
	char spf_aligned[DMARC_DOMAIN_MAX + 1];	/* SPF domain that aligned, or "" */
	unsigned weak_key_bits;	/* of a signature that would have aligned */
	bool have_record;
	struct dmarc_record rec;
	char record_text[DMARC_RECORD_MAX + 1];
	char arc[16];
	/* One line for a "550 5.7.1" reply or a log: why this result. No CR
	 * or LF, printable ASCII only. */
	char reason[256];
};

/* Evaluate in (from_domain must be set) with DNS from dns. Never fails:
 * trouble is a TEMPERROR or PERMERROR result with its reason. At most
 * five DNS queries (two TXT; A, AAAA, MX for np). */
void dmarc_evaluate(const struct ma_dns *dns, const struct dmarc_input *in,
		    struct dmarc_eval *out);
const char *dmarc_result_str(enum dmarc_result r);
const char *dmarc_which_str(enum dmarc_which w);
/* The Authentication-Results resinfo (RFC 8601 2.7, RFC 7489 11.2):
 *   dmarc=fail (p=reject sp=none dis=reject) header.from=example.com
 *   policy.dmarc=reject
 * into out (outsz bytes, NUL-terminated); -1 if it did not fit. */
int dmarc_auth_results(const struct dmarc_eval *ev, char *out, size_t outsz);

/* ----- the RFC5322.From domain (RFC 7489 6.6.1) ----------------------- */

enum dmarc_from_rc {
	DMARC_FROM_OK = 0,
	DMARC_FROM_MISSING,	/* no From field */
	DMARC_FROM_MULTIPLE,	/* several From fields or several addresses */
	DMARC_FROM_INVALID,	/* no address or no usable domain */
};

/* The domain of the From field of a header block (the message's header,
 * up to the empty line; any length). RFC 5322 3.6 allows exactly one From
 * field; RFC 7489 6.6.1 says messages without one SHOULD NOT be subject to
 * DMARC and that those with several authors are "typically rejected" (it
 * also allows evaluating every author domain and applying the strictest
 * failing policy; we do not). Anything but OK is for the caller to reject
 * (550 5.7.1) or record as permerror. On OK,
 * out (DMARC_DOMAIN_MAX + 1 bytes) holds the normalised domain; *why
 * always gets a static description. */
enum dmarc_from_rc dmarc_from_domain(struct span header, char *out,
				     const char **why);

#endif
