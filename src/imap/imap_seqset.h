/* imap_seqset.h - IMAP sequence sets (RFC 9051 9 sequence-set, 6.4.8 for
 * UIDs; RFC 5182 "$"): "1,3:5,*" read into ranges without expanding them,
 * so "1:4294967295" costs one range. Resolving "*" against a mailbox,
 * sorting and merging are separate calls. */
#ifndef PETREL_IMAP_SEQSET_H
#define PETREL_IMAP_SEQSET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"
#include "imap/imap_parse.h"

/* "*": the largest number in use. 0 is never a valid seq-number, so it
 * can stand for it. */
#define IMAP_SEQ_STAR 0u

struct imap_seq_range {
	uint32_t lo, hi;	/* lo <= hi, except that IMAP_SEQ_STAR may be
				 * either (a star is always in hi unless both
				 * are stars: "*:5" is kept as {5, STAR}) */
};

struct imap_seqset {
	const struct imap_seq_range *ranges;	/* in the arena */
	size_t n;
	bool saved;	/* "$": the result saved by SEARCH RETURN (SAVE) */
};

/* Parse an atom's text. -1 with err ("Invalid sequence set") on: empty,
 * 0, leading zeros, numbers over 4294967295, stray ",", ":" or
 * characters, "$" combined with anything. "*:*" is the same as "*"
 * (RFC 9051 9 allows it). */
int imap_seqset_parse(struct span s, struct imap_arena *a,
		      struct imap_seqset *out, struct err *err);
/* The same, from an argument (must be an atom). */
int imap_seqset_parse_arg(const struct imap_arg *arg, struct imap_arena *a,
			  struct imap_seqset *out, struct err *err);

/* Is n in the set, with "*" meaning star (the highest sequence number or
 * UID in use; 0 for an empty mailbox)? Not for "$". */
bool imap_seqset_contains(const struct imap_seqset *s, uint32_t n,
			  uint32_t star);

/* Replace "*" with star, then sort and merge into disjoint ascending
 * ranges (in the arena). Ranges that end up containing only 0 (a "*" in an
 * empty mailbox) are dropped. -1 only when the arena is full. */
int imap_seqset_resolve(const struct imap_seqset *in, uint32_t star,
			struct imap_arena *a, struct imap_seqset *out);
/* Numbers in a resolved set (up to 2^32, hence 64 bits). */
uint64_t imap_seqset_count(const struct imap_seqset *s);

#endif
