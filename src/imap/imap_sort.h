/* imap_sort.h - SORT and THREAD (RFC 5256), DISPLAYFROM / DISPLAYTO
 * (RFC 5957) and ESORT's RETURN options (RFC 5267): the commands'
 * arguments, the base subject, the sort keys of one message read from its
 * cached ENVELOPE, ordering, and both threading algorithms. Pure functions
 * over data the caller gathers (imap_cmd_sort.c reads the store), so unit
 * tests and the fuzzer call them directly. Strings are compared with
 * i;ascii-casemap (RFC 4790 9.2): keys are kept with a-z mapped to A-Z
 * and compared as octets. */
#ifndef PETREL_IMAP_SORT_H
#define PETREL_IMAP_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/span.h"
#include "imap/imap_parse.h"
#include "imap/imap_search.h"

/* Sort criteria in one SORT: more are never useful (there are nine keys)
 * and the cap bounds the comparison. */
#define IMAP_SORT_MAX_CRITERIA 16

enum imap_sort_key {
	IMAP_SORT_ARRIVAL = 1,
	IMAP_SORT_CC,
	IMAP_SORT_DATE,
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,	/* RFC 5957 */
	IMAP_SORT_DISPLAYTO,
};

struct imap_sort_criterion {
	enum imap_sort_key key;
	bool reverse;
};

/* SORT [RETURN (options)] (criteria) charset search-key... (RFC 5256 4,
 * RFC 5267 3.1 and 4). RETURN options are these bits of enum
 * imap_search_return; SAVE and others are errors. */
#define IMAP_SORT_RETURN_OPTIONS (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX | \
	IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT | IMAP_SEARCH_RETURN_PARTIAL | \
	IMAP_SEARCH_RETURN_UPDATE | IMAP_SEARCH_RETURN_CONTEXT)
struct imap_sort_cmd {
	bool has_return;
	unsigned ret;
	uint32_t partial_lo, partial_hi;	/* PARTIAL lo:hi */
	struct imap_sort_criterion crit[IMAP_SORT_MAX_CRITERIA];
	size_t n_crit;
	struct span charset;
	struct imap_search_key program;
};

/* 0, or -1 with err (ERR_PEER or ERR_LIMIT: the caller answers BAD). */
int imap_sort_parse_command(const struct imap_arg *args, size_t n,
			    const struct imap_search_limits *lim,
			    struct imap_arena *a, struct imap_sort_cmd *out,
			    struct err *err);

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT = 1,
	IMAP_THREAD_REFERENCES,
};

/* THREAD algorithm charset search-key... (RFC 5256 4). */
struct imap_thread_cmd {
	enum imap_thread_alg alg;
	struct span charset;
	struct imap_search_key program;
};

int imap_thread_parse_command(const struct imap_arg *args, size_t n,
			      const struct imap_search_limits *lim,
			      struct imap_arena *a, struct imap_thread_cmd *out,
			      struct err *err);

/* Is charset one SORT, THREAD and SEARCH accept (US-ASCII, UTF-8)? */
bool imap_sort_charset_ok(struct span charset);

/* RFC 5256 2.1: the base subject of a Subject field value (raw: RFC 2047
 * words are decoded to UTF-8 first), appended to out as UTF-8 in its
 * original case. *refwd_out (may be NULL): whether anything removed marks
 * a reply or forward (a subj-refwd, a "(fwd)" trailer or a "[fwd: ]"
 * wrapper), as REFERENCES step 5 needs. -1 if out is full. */
int imap_base_subject(struct span subject, struct buf *out, bool *refwd_out)
	__attribute__((warn_unused_result));

/* One message as SORT and THREAD see it. Spans point into memory the
 * caller owns (imap_sort_msg_fill's mem). */
struct imap_sort_msg {
	uint32_t seq;		/* sequence number: the final tie-break */
	uint32_t number;	/* what is printed: seq or UID */
	int64_t arrival;	/* internal date */
	int64_t date;		/* Date: field in UTC, else the internal date */
	uint64_t size;
	uint64_t modseq;
	/* i;ascii-casemap keys (a-z as A-Z), UTF-8 */
	struct span subject;	/* base subject */
	struct span from, to, cc;	/* addr-mailbox of the first address */
	struct span dispfrom, dispto;	/* RFC 5957 3 display value */
	bool refwd;		/* the subject was a reply or forward */
	/* threading: raw field values (message ids are read from them) */
	struct span message_id, in_reply_to, references;
};

/* Fill the keys of m from a cached ENVELOPE (RFC 9051 7.5.2 text, as
 * mime_cache keeps it) and References value (both copied as needed);
 * seq, number, arrival, size and modseq are the caller's and left alone;
 * date falls back to m->arrival, so set that first. Strings go to mem
 * (reset first), which must stay unchanged while m is used. -1 if the envelope cannot be read
 * or mem is full: the keys read so far stay, the rest are empty. */
int imap_sort_msg_fill(struct imap_sort_msg *m, struct span envelope,
		       struct span references, struct buf *mem);

/* <0, 0, >0 as a sorts before, with or after b (the sequence number
 * breaking ties). */
int imap_sort_compare(const struct imap_sort_msg *a, const struct imap_sort_msg *b,
		      const struct imap_sort_criterion *crit, size_t n_crit);
/* Order v[0..n) by the criteria; equal messages by sequence number
 * (RFC 5256 3: REVERSE does not reverse that). O(n log n). */
void imap_sort_messages(const struct imap_sort_msg **v, size_t n,
			const struct imap_sort_criterion *crit, size_t n_crit);

/* THREAD (RFC 5256 2.2 and 4) over the messages v[0..n) (in sequence
 * order): the thread lists, "(1 2)(3 (4)(5))", appended to out without
 * "* THREAD". Message ids are compared as octets. Work is O(n log n)
 * plus the length of the References chains; no recursion, so any depth
 * of reply chain is fine. -1 if out is full. */
int imap_thread_build(enum imap_thread_alg alg,
		      const struct imap_sort_msg *const *v, size_t n,
		      struct buf *out) __attribute__((warn_unused_result));

#endif
