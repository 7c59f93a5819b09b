/* spf_private.h - inside src/msgauth/spf*.c only: the parsed record,
 * the record parser and the macro language, kept free of DNS so the unit
 * tests and the fuzzer call them directly. */
#ifndef PETREL_SPF_PRIVATE_H
#define PETREL_SPF_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "msgauth/spf.h"

enum spf_mech {
	SPF_M_ALL,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS,
};

/* A span of the record text (not NUL-terminated). */
struct spf_span {
	const char *p;
	size_t len;
};

/* One directive. spec is the domain-spec (len 0: none, the current
 * domain); cidr4/cidr6 are the prefix lengths (a, mx: both; ip4: cidr4;
 * ip6: cidr6); addr holds the ip4 (4 bytes) or ip6 network. */
struct spf_term {
	char qual;			/* '+' '-' '~' '?' */
	enum spf_mech mech;
	struct spf_span text;		/* the term as written */
	struct spf_span spec;
	unsigned cidr4, cidr6;
	unsigned char addr[16];
};

/* A parsed record: spans point into the text given to the parser,
 * which must outlive it. */
struct spf_record {
	size_t n;
	struct spf_term *t;		/* n terms, owned */
	bool has_redirect, has_exp;
	struct spf_span redirect;	/* domain-spec of redirect= */
	struct spf_span exp;		/* domain-spec of exp= */
	struct spf_span redirect_text;	/* "redirect=..." as written */
};

/* True when a TXT record is an SPF version 1 record: "v=spf1" in any
 * case followed by a space or the end (RFC 7208 4.5). */
bool spf_record_is_v1(const unsigned char *txt, size_t len);

/* Parse a record selected by spf_record_is_v1 (RFC 7208 4.6, 5, 6, 7.1).
 * 0 with rec filled (free it with spf_record_free), or -1 with a reason
 * in why (a syntax error anywhere is a permerror, 4.6). */
int spf_record_parse(const char *txt, size_t len, struct spf_record *rec,
		     char *why, size_t whysz);
void spf_record_free(struct spf_record *rec);

/* ---- macros (RFC 7208 7) */

/* Where macro letters get their values. All NUL-terminated. p is asked
 * only when %{p} is used, with the current domain (7.3 prefers a name
 * in it), and returns the validated name or "unknown". */
struct spf_macro_env {
	const char *s, *l, *o, *d, *h, *r, *v;
	const char *i;		/* dotted quad, or 32 dotted nibbles */
	const char *c;		/* dotted quad, or RFC 5952 text */
	const char *t;		/* decimal seconds */
	const char *(*p)(void *arg, const char *d);
	void *p_arg;
};

/* Syntax of a macro-string (7.1); in explanation text (exp true) the
 * letters c r t and spaces are allowed too. *ends_expand (may be NULL)
 * says whether the string ends with a macro-expand. 0 or -1. */
int spf_macro_check(const char *s, size_t len, bool exp, bool *ends_expand);

/* domain-spec = macro-string domain-end (7.1): a valid macro-string
 * ending in a macro-expand or in "." toplabel with an optional dot. */
bool spf_domain_spec_ok(const char *s, size_t len);

/* Expand s into out (outsz octets, NUL-terminated). 0, -1 on a syntax
 * error, -2 when the result would exceed outsz - 1 octets. */
int spf_macro_expand(const struct spf_macro_env *env, const char *s, size_t len,
		     bool exp, char *out, size_t outsz, size_t *outlen);

/* A name to query from an expanded domain-spec (7.3, 4.3): a final dot
 * dropped, left labels dropped until it fits DNS_NAME_MAX, and then every
 * label 1-63 octets. Edits name in place; false when it is no name. */
bool spf_target_name(char *name, size_t *len);

#endif
