/* arc_private.h - the ARC sets of a message, read once and shared by
 * validation (arc_verify.c) and sealing (arc_seal.c). Only src/msgauth
 * includes this. */
#ifndef PETREL_ARC_PRIVATE_H
#define PETREL_ARC_PRIVATE_H

#include "msgauth/arc.h"
#include "msgauth/dkim_private.h"

struct arc_set {
	const struct dkim_field *aar, *ams, *as;	/* into the message */
	struct dkim_sig ams_sig, as_sig;
};

struct arc_chain {
	/* The highest instance seen (also when the chain is broken, so a
	 * sealer knows the next number); at most ARC_MAX_SETS. */
	unsigned n;
	struct arc_set set[ARC_MAX_SETS + 1];	/* by instance; [0] unused */
};

/* Read the ARC fields of m into c (allocated by the caller, any
 * content). 0: complete sets 1..n (n = 0: none); -1 with *why: a field
 * that does not parse, an instance outside 1..ARC_MAX_SETS, a duplicate
 * or a missing member (RFC 8617 5.2 step 1). */
int arc_chain_read(const struct dkim_msg *m, struct arc_chain *c, const char **why);

/* The ARC-Seal hash (RFC 8617 5.1.1): fields[0..n-1] in order (each set's
 * AAR, AMS, AS, oldest first), the last being the seal itself, whose b=
 * value is removed and which is hashed without CRLF; relaxed
 * canonicalisation. md gets the SHA-256 digest (32 octets). */
void arc_seal_hash(const struct dkim_field *const *fields, size_t n, unsigned char *md);

#endif
