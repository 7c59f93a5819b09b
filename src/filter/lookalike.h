/* lookalike.h - lookalike domains and display-name impersonation
 * (issue 7 item 4, decision 0035). Pure functions over prepared sets: no
 * store, no network, no globals besides the public suffix list that
 * src/msgauth/dmarc_org.c loads once.
 *
 * Domains. A set is built once from the protected domains (the hosted
 * domains and the brand list) and the allow-listed lookalikes; a check
 * then says whether a candidate domain (From, Reply-To, a URL host; A- or
 * U-label, any case, trailing dot allowed) is a lookalike of one of them:
 *   LOOKALIKE_HOMOGLYPH  the label left of the public suffix has the same
 *                        skeleton as a protected one but is not the same
 *                        label (examp1e, exarnple, Cyrillic е in еxample,
 *                        exämple), under any public suffix;
 *   LOOKALIKE_EDIT       same public suffix, and the skeletons are within
 *                        a Damerau-Levenshtein (optimal string alignment)
 *                        distance of 1 (names of 4 to 8 units) or 2 (9 and
 *                        longer), none below 4 (exampel.com);
 *   LOOKALIKE_MIXED      a label mixes Latin, Cyrillic and Greek letters,
 *                        whether or not it resembles a protected domain.
 * Never a lookalike: a domain with the same registrable domain as a
 * protected one (itself, its subdomains, its parent), and an allow-listed
 * domain or a subdomain of one.
 *
 * Impersonation. A set is built from the organisation's users (display
 * name and address) and hosted domains; a check flags a From whose
 * address is outside the hosted domains and whose display name is one of
 * the users' names (order, case, spaces, punctuation, diacritics,
 * homoglyphs and initials ignored: "Jane Smith", "smith, jane",
 * "jane.smith", "Jáne Q. Smith") or contains a user's address. Names of
 * fewer than two tokens are not protected (an outside "Support" is not
 * impersonation). A check costs O(length of the name) hash look-ups.
 *
 * Reasons are printable ASCII (non-ASCII shown as U+XXXX, names with
 * '?'), fit for a filter symbol's explanation in a header. Sets are
 * immutable once built and may be shared between threads. */
#ifndef PETREL_FILTER_LOOKALIKE_H
#define PETREL_FILTER_LOOKALIKE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/limits.h"

#define LOOKALIKE_DOMAIN_MAX 253

enum lookalike_why {
	LOOKALIKE_EDIT = 1,
	LOOKALIKE_HOMOGLYPH = 2,
	LOOKALIKE_MIXED = 4,
};

struct lookalike_result {
	unsigned why;		/* LOOKALIKE_* bits; 0: not a lookalike */
	unsigned distance;	/* edits, when why has LOOKALIKE_EDIT */
	char domain[LOOKALIKE_DOMAIN_MAX + 1];	/* candidate, A-label form */
	char match[LOOKALIKE_DOMAIN_MAX + 1];	/* protected domain, or "" */
	/* "examp1e.com looks like example.com (1 = l)" */
	char reason[FILTER_LOOKALIKE_REASON_MAX];
};

struct lookalike_set;

/* Build a set from n_prot protected and n_allow allow-listed domains
 * (A- or U-labels). -1 (ERR_CONFIG naming the entry, or ERR_LIMIT) if an
 * entry is not a domain or a list is longer than its FILTER_ limit. */
int lookalike_set_new(const char *const *prot, size_t n_prot,
		      const char *const *allow, size_t n_allow,
		      struct lookalike_set **set_r, struct err *err);
void lookalike_set_free(struct lookalike_set **set);

/* Check len octets of cand. 1: a lookalike (r says of what and why);
 * 0: not; -1: cand is not a domain name (r->reason says why). r is always
 * filled. Work is bounded by FILTER_LOOKALIKE_INPUT_MAX and the set. */
int lookalike_check(const struct lookalike_set *set, const char *cand,
		    size_t len, struct lookalike_result *r);

/* ----- display-name impersonation ------------------------------------ */

struct imperson_user {
	const char *name;	/* display name, UTF-8; may be NULL */
	const char *address;	/* local@domain */
};

enum imperson_via {
	IMPERSON_NONE = 0,
	IMPERSON_NAME,		/* display name is the user's display name */
	IMPERSON_LOCALPART,	/* display name is the user's local part */
	IMPERSON_ADDRESS,	/* display name contains the user's address */
};

struct imperson_result {
	enum imperson_via via;
	char user[LOOKALIKE_DOMAIN_MAX + 66];	/* matched user's address */
	/* "display name \"Jane Smith\" of jane@evil.test (outside) is
	 * user ceo@example.com" */
	char reason[FILTER_LOOKALIKE_REASON_MAX];
};

struct imperson_set;

/* Build a set from n_users users and n_hosted hosted domains (the users'
 * own domains count as hosted too). -1 (ERR_CONFIG or ERR_LIMIT). */
int imperson_set_new(const struct imperson_user *users, size_t n_users,
		     const char *const *hosted, size_t n_hosted,
		     struct imperson_set **set_r, struct err *err);
void imperson_set_free(struct imperson_set **set);

/* Check a From display name (name_len octets, decoded from encoded
 * words; only the first FILTER_IMPERSON_NAME_MAX are read) and address.
 * 1: impersonation (r says of whom); 0: not, including any address in a
 * hosted domain or its subdomains. r is always filled. */
int imperson_check(const struct imperson_set *set, const char *name,
		   size_t name_len, const char *addr, size_t addr_len,
		   struct imperson_result *r);

#endif
