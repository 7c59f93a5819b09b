/* imap_search.h - SEARCH programs (RFC 9051 6.4.4 and 9 search-key; the
 * RFC 3501 keys NEW, OLD, RECENT; RFC 7162 MODSEQ; RFC 5032 OLDER and
 * YOUNGER; RFC 8474 EMAILID and THREADID; RFC 4731/9051 RETURN options;
 * RFC 5182 "$") read from a parsed SEARCH, UID SEARCH, SORT or THREAD
 * command into a tree of keys. Bounded by a key count and a nesting depth.
 * Strings are kept as sent: converting from CHARSET is the server's. */
#ifndef PETREL_IMAP_SEARCH_H
#define PETREL_IMAP_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"
#include "imap/imap_parse.h"
#include "imap/imap_parse_value.h"
#include "imap/imap_seqset.h"

/* Keys (each key and each parenthesised group counts) in one program; the
 * key count bounds work per message. */
#define IMAP_SEARCH_MAX_KEYS_DEFAULT 10000u
/* Nesting of (), NOT and OR: clients chain ORs ("OR OR OR a b c d"), so
 * this is larger than the list depth; it bounds our recursion. */
#define IMAP_SEARCH_MAX_DEPTH_DEFAULT 128u

enum imap_search_type {
	IMAP_SEARCH_AND = 1,	/* children: a parenthesised list, or the
				 * whole program */
	IMAP_SEARCH_OR,		/* children[0] or children[1] */
	IMAP_SEARCH_NOT,	/* children[0] */
	IMAP_SEARCH_ALL,
	/* flags */
	IMAP_SEARCH_ANSWERED,
	IMAP_SEARCH_DELETED,
	IMAP_SEARCH_DRAFT,
	IMAP_SEARCH_FLAGGED,
	IMAP_SEARCH_SEEN,
	IMAP_SEARCH_NEW,	/* RFC 3501: RECENT UNSEEN */
	IMAP_SEARCH_OLD,	/* RFC 3501: NOT RECENT */
	IMAP_SEARCH_RECENT,	/* RFC 3501 */
	IMAP_SEARCH_UNANSWERED,
	IMAP_SEARCH_UNDELETED,
	IMAP_SEARCH_UNDRAFT,
	IMAP_SEARCH_UNFLAGGED,
	IMAP_SEARCH_UNSEEN,
	IMAP_SEARCH_KEYWORD,	/* str: the keyword */
	IMAP_SEARCH_UNKEYWORD,
	/* text: str */
	IMAP_SEARCH_BCC,
	IMAP_SEARCH_BODY,
	IMAP_SEARCH_CC,
	IMAP_SEARCH_FROM,
	IMAP_SEARCH_SUBJECT,
	IMAP_SEARCH_TEXT,
	IMAP_SEARCH_TO,
	IMAP_SEARCH_HEADER,	/* field, str */
	/* dates: date */
	IMAP_SEARCH_BEFORE,
	IMAP_SEARCH_ON,
	IMAP_SEARCH_SINCE,
	IMAP_SEARCH_SENTBEFORE,
	IMAP_SEARCH_SENTON,
	IMAP_SEARCH_SENTSINCE,
	/* sizes: number */
	IMAP_SEARCH_LARGER,
	IMAP_SEARCH_SMALLER,
	/* sets: seqset */
	IMAP_SEARCH_UID,
	IMAP_SEARCH_SEQSET,
	/* RFC 5032: number = seconds */
	IMAP_SEARCH_OLDER,
	IMAP_SEARCH_YOUNGER,
	/* RFC 7162 3.1.5: number = mod-sequence; entry/entry_type optional */
	IMAP_SEARCH_MODSEQ,
	/* RFC 8474 6: str = objectid */
	IMAP_SEARCH_EMAILID,
	IMAP_SEARCH_THREADID,
};

enum imap_search_entry_type {
	IMAP_SEARCH_ENTRY_NONE = 0,
	IMAP_SEARCH_ENTRY_PRIV,
	IMAP_SEARCH_ENTRY_SHARED,
	IMAP_SEARCH_ENTRY_ALL,
};

struct imap_search_key {
	enum imap_search_type type;
	struct span str;		/* text, keyword, objectid (arena,
					 * NUL-terminated, may hold NULs from a
					 * literal) */
	struct span field;		/* HEADER field name */
	struct imap_date date;
	uint64_t number;
	struct span entry;		/* MODSEQ entry name ("/flags/\\Seen") */
	enum imap_search_entry_type entry_type;
	struct imap_seqset seqset;
	const struct imap_search_key *children;
	size_t nchildren;
};

struct imap_search_limits {
	unsigned max_keys;
	unsigned max_depth;
};

void imap_search_limits_default(struct imap_search_limits *lim);

/* A program: args [0..n) are search-keys, ANDed (out->type AND). Errors:
 * unknown key, missing or bad argument ("Invalid date", "Invalid sequence
 * set"...), a streamed literal, over the key count or depth. */
int imap_search_parse(const struct imap_arg *args, size_t n,
		      const struct imap_search_limits *lim,
		      struct imap_arena *a, struct imap_search_key *out,
		      struct err *err);

/* What comes before the keys of SEARCH (RFC 9051 6.4.4):
 * [RETURN (options)] [CHARSET name] keys. */
struct imap_search_cmd {
	bool has_return;		/* RETURN given (even "RETURN ()") */
	unsigned ret;			/* enum imap_search_return bits */
	struct span charset;		/* empty if none given */
	struct imap_search_key program;
	uint32_t partial_lo, partial_hi;	/* PARTIAL lo:hi, lo <= hi */
};

enum imap_search_return {
	IMAP_SEARCH_RETURN_MIN = 1u << 0,
	IMAP_SEARCH_RETURN_MAX = 1u << 1,
	IMAP_SEARCH_RETURN_ALL = 1u << 2,
	IMAP_SEARCH_RETURN_COUNT = 1u << 3,
	IMAP_SEARCH_RETURN_SAVE = 1u << 4,	/* RFC 5182 */
	/* RFC 5267 4 (CONTEXT=SEARCH, CONTEXT=SORT) */
	IMAP_SEARCH_RETURN_PARTIAL = 1u << 5,
	IMAP_SEARCH_RETURN_UPDATE = 1u << 6,
	IMAP_SEARCH_RETURN_CONTEXT = 1u << 7,	/* a hint; no effect */
};

/* A RETURN (...) list: option bits into *ret_out, PARTIAL's range into
 * *lo_out <= *hi_out (RFC 5267 4.4: "500:400" is "400:500", no "*").
 * Options outside `allowed`, repeats of PARTIAL or UPDATE, and PARTIAL
 * with ALL (RFC 5267 4.4) are errors (BAD). */
int imap_search_parse_return(const struct imap_arg *list, unsigned allowed,
			     unsigned *ret_out, uint32_t *lo_out,
			     uint32_t *hi_out, struct err *err);

/* Unknown RETURN options are an error (RFC 4731 3.1 asks for BAD). */
int imap_search_parse_command(const struct imap_arg *args, size_t n,
			      const struct imap_search_limits *lim,
			      struct imap_arena *a, struct imap_search_cmd *out,
			      struct err *err);

#endif
