/* imap_parse_fetch.h - FETCH items (RFC 9051 6.4.5, 9 fetch-att; RFC 3501
 * 6.4.5; RFC 3516 BINARY; RFC 7162 MODSEQ and CHANGEDSINCE/VANISHED;
 * RFC 8474 EMAILID/THREADID; RFC 8514 SAVEDATE) read from a parsed FETCH
 * command into flags and a list of body sections. Syntax only: whether a
 * part exists is known when the message is read. */
#ifndef PETREL_IMAP_PARSE_FETCH_H
#define PETREL_IMAP_PARSE_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"
#include "imap/imap_parse.h"

enum imap_fetch_item {
	IMAP_FETCH_ENVELOPE = 1u << 0,
	IMAP_FETCH_FLAGS = 1u << 1,
	IMAP_FETCH_INTERNALDATE = 1u << 2,
	IMAP_FETCH_RFC822_SIZE = 1u << 3,
	IMAP_FETCH_BODYSTRUCTURE = 1u << 4,
	IMAP_FETCH_BODY = 1u << 5,		/* BODY without a section */
	IMAP_FETCH_UID = 1u << 6,
	IMAP_FETCH_MODSEQ = 1u << 7,
	IMAP_FETCH_EMAILID = 1u << 8,
	IMAP_FETCH_THREADID = 1u << 9,
	IMAP_FETCH_SAVEDATE = 1u << 10,
};

enum imap_fetch_body_type {
	IMAP_FETCH_BODY_SECTION = 1,	/* BODY[...], BODY.PEEK[...], RFC822* */
	IMAP_FETCH_BINARY,		/* BINARY[...], BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE,		/* BINARY.SIZE[...] */
};

enum imap_section_kind {
	IMAP_SECTION_ALL = 1,		/* [] or [1.2]: all of it / the part */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,		/* only after a part number */
};

/* RFC822, RFC822.HEADER and RFC822.TEXT are sections too, answered under
 * their own names (RFC 3501 6.4.5). */
enum imap_fetch_legacy {
	IMAP_FETCH_LEGACY_NONE = 0,
	IMAP_FETCH_LEGACY_RFC822,	/* BODY[] */
	IMAP_FETCH_LEGACY_HEADER,	/* BODY.PEEK[HEADER] */
	IMAP_FETCH_LEGACY_TEXT,		/* BODY[TEXT] */
};

struct imap_fetch_body {
	enum imap_fetch_body_type type;
	bool peek;			/* .PEEK: do not set \Seen */
	enum imap_fetch_legacy legacy;
	const uint32_t *part;		/* "1.2.3" -> {1,2,3}; NULL, 0: top */
	size_t part_len;
	enum imap_section_kind kind;
	const struct span *fields;	/* HEADER.FIELDS[.NOT] names, unquoted;
					 * not NUL-terminated */
	size_t nfields;
	struct span section;		/* text between the brackets, to echo
					 * in the reply */
	bool partial;			/* <offset.count> */
	uint64_t offset, count;
};

struct imap_fetch_atts {
	unsigned items;			/* enum imap_fetch_item bits */
	const struct imap_fetch_body *bodies;
	size_t nbodies;
};

/* Limits of a section we read: part numbers per section, header names
 * per HEADER.FIELDS list. */
#define IMAP_FETCH_PART_DEPTH_MAX 64u
#define IMAP_FETCH_FIELDS_MAX 1000u

/* The FETCH item argument: a macro (ALL, FAST, FULL), one fetch-att, or a
 * non-empty list of them. -1 with err ("Invalid fetch item ...") on
 * anything else. All results live in a. */
int imap_parse_fetch_atts(const struct imap_arg *arg, struct imap_arena *a,
			  struct imap_fetch_atts *out, struct err *err);

/* FETCH modifiers (RFC 7162 3.1.4.1, 3.2.6): "(CHANGEDSINCE n [VANISHED])".
 * *changedsince_out 0 when absent. VANISHED without CHANGEDSINCE is an
 * error (RFC 7162 3.2.6); so are unknown and repeated modifiers. */
int imap_parse_fetch_modifiers(const struct imap_arg *arg,
			       uint64_t *changedsince_out, bool *vanished_out,
			       struct err *err);

#endif
