/* ar.h - the Authentication-Results header field (RFC 8601): written at
 * delivery with what SPF, DKIM, DMARC and ARC concluded, and stripped
 * from incoming mail when it claims to come from us, so that a sender
 * cannot forge our verdict (RFC 8601 5: "MUST delete ... any such
 * fields that claim to be from the MTA doing the removal").
 *
 * Both work on bytes with explicit lengths; the header is bounded
 * (AR_MAX bytes; results past it are left out and the header stays
 * valid). */
#ifndef PETREL_AR_H
#define PETREL_AR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define AR_MAX 4096		/* bytes of one header field we write */
#define AR_PROPS_MAX 6

/* One method's result: "spf" "pass", reason optional (quoted when it
 * needs to be), props like "smtp.mailfrom=example.com" or
 * "header.d=example.com" (ptype.property=value; the value is quoted when
 * it is not a token). */
struct ar_result {
	const char *method;
	const char *result;
	const char *comment;		/* NULL: none; "(...)" added, after result */
	const char *reason;		/* NULL: none */
	size_t nprops;
	const char *props[AR_PROPS_MAX];
};

/* Append "Authentication-Results: <authserv_id>; <results>\r\n" folded at
 * 78 columns to out; "none" when n is 0 (RFC 8601 2.2). 0, or -1 when out
 * is full (nothing appended). */
int ar_format(struct buf *out, const char *authserv_id,
	      const struct ar_result *r, size_t n);

/* Remove from the header section of msg[start..*len) every
 * Authentication-Results field whose authserv-id is authserv_id (no
 * case), with its continuation lines; the header ends at the first empty
 * line. *len shrinks; returns the number of fields removed. A field too
 * malformed to have an authserv-id is kept (it claims nothing). */
size_t ar_strip(unsigned char *msg, size_t *len, size_t start,
		const char *authserv_id);

#endif
