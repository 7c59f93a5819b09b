/* imap_parse_value.h - reading single values out of a parsed IMAP command:
 * numbers, dates and date-times, flag lists, mailbox names (with modified
 * UTF-7, RFC 3501 5.1.3, for IMAP4rev1 clients) and UTF-8 checks. Syntax
 * and safety checks only: whether a mailbox exists or a flag may be set
 * is the server's business. Results live in the arena passed in. */
#ifndef PETREL_IMAP_PARSE_VALUE_H
#define PETREL_IMAP_PARSE_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"
#include "imap/imap_parse.h"

/* ----- numbers (RFC 9051 9) ---------------------------------------------
 * Digits only, no sign, no leading zero unless the number is 0; -1 if
 * empty, not digits, or out of range. */
int imap_parse_number(struct span s, uint32_t *out);	/* 0..2^32-1 */
int imap_parse_nz_number(struct span s, uint32_t *out);	/* 1..2^32-1 */
/* number64 / mod-sequence-value: 0..2^63-1 (RFC 9051 9, RFC 7162 7). */
int imap_parse_number64(struct span s, uint64_t *out);

/* ----- dates ------------------------------------------------------------ */

struct imap_date {
	int year;	/* 4 digits as sent */
	int month;	/* 1..12 */
	int day;	/* 1..31, valid for the month and year */
};

/* RFC 9051 9 date: "1-Feb-1994" as an atom or a quoted string (SEARCH
 * SINCE etc.). Month names are case-insensitive. -1 with err set. */
int imap_parse_date(const struct imap_arg *arg, struct imap_date *out,
		    struct err *err);
/* Seconds since the epoch at 00:00:00 UTC of that day. */
int64_t imap_date_unix(const struct imap_date *d);

/* RFC 9051 9 date-time: "01-Feb-1994 12:00:00 +0000" (a quoted string;
 * the day may be " 1"). *unix_out is the UTC instant, *zone_out the
 * offset east of UTC in minutes (may be NULL). */
int imap_parse_datetime(const struct imap_arg *arg, int64_t *unix_out,
			int *zone_out, struct err *err);

/* ----- flags (RFC 9051 2.3.2) ------------------------------------------- */

enum imap_sysflag {
	IMAP_FLAG_SEEN = 1u << 0,
	IMAP_FLAG_ANSWERED = 1u << 1,
	IMAP_FLAG_FLAGGED = 1u << 2,
	IMAP_FLAG_DELETED = 1u << 3,
	IMAP_FLAG_DRAFT = 1u << 4,
};

struct imap_flags {
	unsigned system;		/* enum imap_sysflag bits */
	const struct span *keywords;	/* atoms as sent ($Forwarded, Junk) */
	size_t nkeywords;
};

/* APPEND's flag-list, or STORE's flag-list / "flag *(SP flag)": args
 * [0..n) are either one list or atoms. System flags are matched
 * case-insensitively; \Recent (which no client may set, RFC 3501 2.3.2)
 * and unknown \-flags are errors, so is "\*". Keywords must be atoms
 * without wildcards or "]". Duplicates are kept. */
int imap_parse_flags(const struct imap_arg *args, size_t n,
		     struct imap_arena *a, struct imap_flags *out,
		     struct err *err);

/* ----- UTF-8 and modified UTF-7 ----------------------------------------- */

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
bool imap_utf8_valid(struct span s);
/* RFC 3501 5.1.3 modified UTF-7 to UTF-8 (-1 if malformed: 8-bit bytes,
 * bad base64, non-zero padding bits, "-&" null shifts, printable ASCII
 * encoded, lone surrogates). */
int imap_mutf7_decode(struct span in, struct imap_arena *a, struct span *out);
/* UTF-8 to modified UTF-7 for IMAP4rev1 clients (-1 if not UTF-8). */
int imap_mutf7_encode(struct span in, struct imap_arena *a, struct span *out);

/* ----- mailbox names ---------------------------------------------------- */

/* Longest mailbox name we accept, in UTF-8 bytes, and deepest hierarchy. */
#define IMAP_MAILBOX_MAX 1024u
#define IMAP_MAILBOX_DEPTH_MAX 64u
#define IMAP_MAILBOX_SEP '/'

enum imap_mailbox_opts {
	/* The client sends UTF-8 (IMAP4rev2, or UTF8=ACCEPT enabled, RFC 6855
	 * 3); otherwise modified UTF-7 is decoded (IMAP4rev1). */
	IMAP_MAILBOX_UTF8 = 1u << 0,
	/* A LIST/LSUB pattern: "%" and "*" are wildcards, "" is allowed and
	 * the path rules below do not apply. */
	IMAP_MAILBOX_PATTERN = 1u << 1,
};

/* Result of imap_parse_mailbox(): reply BAD, or NO [CANNOT]. */
#define IMAP_MAILBOX_REFUSED (-2)

/* Read a mailbox name (RFC 9051 9 mailbox = "INBOX" / astring) into UTF-8
 * with "INBOX" (any case, also as the first component) upper-cased.
 * 0: *out set (arena copy, NUL-terminated). -1: syntax (not an astring,
 * streamed literal, bad modified UTF-7 or UTF-8): reply BAD. 
 * IMAP_MAILBOX_REFUSED: a well-formed name we will not use as a path:
 * empty, control characters (NUL, CR, LF...), a leading "/", an empty,
 * "." or ".." component, "%" or "*" (unless a pattern), over
 * IMAP_MAILBOX_MAX bytes or IMAP_MAILBOX_DEPTH_MAX levels: reply
 * NO [CANNOT]. err->msg says which. */
int imap_parse_mailbox(const struct imap_arg *arg, unsigned opts,
		       struct imap_arena *a, struct span *out, struct err *err);

#endif
