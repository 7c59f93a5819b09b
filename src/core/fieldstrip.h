/* fieldstrip.h - remove header fields from a message in place: the
 * fields a sender could forge to fake a verdict of ours
 * (Authentication-Results naming us, X-Spam-*), after the checks ran. */
#ifndef PETREL_FIELDSTRIP_H
#define PETREL_FIELDSTRIP_H

#include <stdbool.h>
#include <stddef.h>

/* Whether to remove the field name[0..nlen) (trailing blanks cut) whose
 * value (after the colon, continuation lines included) is
 * value[0..vlen). */
typedef bool field_match_fn(const unsigned char *name, size_t nlen,
			    const unsigned char *value, size_t vlen,
			    void *ctx);

/* Remove from the header section of msg[start..*len) every field match
 * accepts, with its continuation lines; the header ends at the first
 * empty line. *len shrinks; returns the number of fields removed. A line
 * without a colon is kept. */
size_t field_strip(unsigned char *msg, size_t *len, size_t start,
		   field_match_fn *match, void *ctx);

#endif
