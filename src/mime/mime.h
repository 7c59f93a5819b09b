/* mime.h - RFC 5322 / MIME message parser and the IMAP views built on it.
 * mime_parse() turns a complete message (bytes, length; NULs, bare LF and
 * 8-bit allowed) into a tree of parts located by byte offsets, without
 * copying the message. Helpers decode header text (RFC 2047), parameters
 * (RFC 2231), addresses, dates and ids; builders write IMAP ENVELOPE and
 * BODYSTRUCTURE; a compact cache form lets IMAP serve a message without
 * parsing it again. Nothing here does I/O or logs; all calls are
 * thread-safe on distinct objects. */
#ifndef PETREL_MIME_H
#define PETREL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/limits.h"
#include "core/span.h"

/* ----- limits (defaults in core/limits.h) ---------------------------- */

struct mime_limits {
	unsigned max_depth;
	unsigned max_parts;
	unsigned max_headers;
	size_t max_header_size;
};

void mime_limits_default(struct mime_limits *lim);

/* ----- the parse tree ------------------------------------------------ */

#define MIME_NONE UINT32_MAX	/* no such part index */

enum mime_cte {
	MIME_CTE_7BIT = 0,	/* also the default when absent */
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_UNKNOWN,	/* x-uuencode and friends: served raw */
};

enum mime_part_flags {
	MIME_PART_MULTIPART = 1u << 0,	/* children are its body parts */
	MIME_PART_MESSAGE = 1u << 1,	/* message/rfc822 (or global): its one
					 * child is the encapsulated message */
	MIME_PART_TEXT = 1u << 2,	/* text/ * (or defaulted to text/plain) */
	MIME_PART_LIMIT = 1u << 3,	/* a depth or part limit made it a leaf */
	MIME_PART_BROKEN = 1u << 4,	/* multipart without boundary, or no
					 * boundary line: read as one text part */
	MIME_PART_NO_TYPE = 1u << 5,	/* no (usable) Content-Type field */
	MIME_PART_HDR_LIMIT = 1u << 6,	/* some header fields were ignored */
};

/* A parameter of Content-Type or Content-Disposition after RFC 2231
 * continuations are joined. value is unquoted; when extended is true it
 * is still in RFC 2231 form (charset'lang'%XX), as Dovecot returns it in
 * BODYSTRUCTURE under the name "name*"; mime_param_utf8() decodes. */
struct mime_param {
	struct span name;
	struct span value;
	bool extended;
};

/* One part. Read-only for callers. Offsets index the message passed to
 * mime_parse(): the header is [hdr_start, body_start) (blank line
 * included), the body [body_start, body_end). The line break before a
 * boundary belongs to the boundary (RFC 2046 5.1.1), so it is not in the
 * body. Spans point into the message or into memory the mime_message
 * owns; they live as long as both do. */
struct mime_part {
	uint32_t parent, first_child, next_sibling;	/* MIME_NONE if none */
	uint32_t nchildren;
	uint32_t depth;		/* 0 for the root */
	uint32_t flags;		/* enum mime_part_flags */
	size_t hdr_start, body_start, body_end;
	size_t body_lines;	/* LFs in the body, as Dovecot counts */
	struct span type, subtype;	/* as written; empty when absent */
	struct mime_param *params;
	uint32_t nparams;
	enum mime_cte cte;
	struct span cte_raw;		/* empty when absent */
	struct span disposition;	/* empty when absent */
	struct mime_param *disp_params;
	uint32_t ndisp_params;
	/* Raw field values, leading and trailing white space dropped, folds
	 * still in; empty when the field is absent. */
	struct span id, description, md5, language, location;
};

struct mime_message;

/* Parse msg[0..len). Never fails and never reads past len: malformed
 * input gives a best-effort tree. lim may be NULL for the defaults. The
 * message bytes are borrowed and must outlive the result. Aborts only if
 * memory runs out (xmalloc); memory used is O(len + parts). */
struct mime_message *mime_parse(const void *msg, size_t len,
				const struct mime_limits *lim);
void mime_message_free(struct mime_message **mp);

/* Parts in depth-first order; index 0 is the root (the whole message). */
uint32_t mime_message_nparts(const struct mime_message *m);
const struct mime_part *mime_message_part(const struct mime_message *m,
					  uint32_t index);
struct span mime_message_bytes(const struct mime_message *m);
struct span mime_part_header(const struct mime_message *m,
			     const struct mime_part *part);
struct span mime_part_body(const struct mime_message *m,
			   const struct mime_part *part);

/* The part an IMAP section number path names (RFC 9051 6.4.5): path of n
 * numbers (each >= 1); n == 0 gives the root. MIME_NONE if there is no
 * such part. For a message/rfc822 part X, X.HEADER and X.TEXT are the
 * header and body of its child (the encapsulated message). */
uint32_t mime_message_section(const struct mime_message *m,
			      const uint32_t *path, size_t n);

/* ----- header fields ------------------------------------------------- */

/* Iterate over the fields of a header block: 1 with *name_out and
 * *value_out (raw, folds kept, leading white space and the final line
 * break dropped), 0 at the end. *pos starts at 0. Lines that are not
 * fields are skipped. */
int mime_header_next(struct span hdr, size_t *pos, struct span *name_out,
		     struct span *value_out);
/* The header section of msg: up to and including the line break before
 * the first empty line (LF or CRLF), or all of msg when it has none.
 * *body_out (may be NULL) is where the body starts (msg.len if none). */
struct span mime_header_section(struct span msg, size_t *body_out);
/* First field called name (ASCII case-insensitive) in hdr. */
bool mime_header_find(struct span hdr, const char *name,
		      struct span *value_out);

/* Append value with folds removed (RFC 5322 2.2.3: CRLF dropped, white
 * space kept). -1 if out is full. */
int mime_unfold(struct span value, struct buf *out)
	__attribute__((warn_unused_result));

/* Unstructured header text to UTF-8: folds become a space, encoded words
 * (RFC 2047 B and Q, charset*lang allowed) are decoded through iconv and
 * the white space between adjacent ones is dropped; raw 8-bit that is not
 * UTF-8 and anything undecodable becomes U+FFFD. Leading and trailing
 * white space is trimmed. -1 only if out is full. */
int mime_header_decode(struct span value, struct buf *out)
	__attribute__((warn_unused_result));

/* Bytes in charset to UTF-8. Unknown charsets and invalid sequences give
 * U+FFFD per bad byte; never fails otherwise. -1 only if out is full. */
int mime_charset_to_utf8(struct span charset, struct span in,
			 struct buf *out)
	__attribute__((warn_unused_result));

/* Transfer decodings, tolerant of garbage: base64 skips characters
 * outside the alphabet; quoted-printable keeps malformed '=' sequences as
 * they are and removes soft line breaks. -1 only if out is full. */
int mime_base64_decode(struct span in, struct buf *out)
	__attribute__((warn_unused_result));
int mime_qp_decode(struct span in, struct buf *out)
	__attribute__((warn_unused_result));
/* The part's body with its Content-Transfer-Encoding undone (IMAP
 * BINARY). Unknown encodings are copied as they are. */
int mime_part_decode(const struct mime_message *m,
		     const struct mime_part *part, struct buf *out)
	__attribute__((warn_unused_result));

/* A parameter value as UTF-8: RFC 2231 charset'lang'%XX decoded when
 * extended, else RFC 2047 encoded words decoded (common in file names). */
int mime_param_utf8(const struct mime_param *param, struct buf *out)
	__attribute__((warn_unused_result));
/* First parameter called name (case-insensitive) among params; NULL. */
const struct mime_param *mime_param_find(const struct mime_param *params,
					 uint32_t n, const char *name);

/* Content-Type / Content-Disposition value parsed on its own (for tests
 * and other modules): type and subtype spans point into value; params are
 * allocated in memory owned by *ctx_out, freed with mime_fields_free(). */
struct mime_fields;
struct mime_content_type {
	struct span type, subtype;
	const struct mime_param *params;
	uint32_t nparams;
};
void mime_content_type_parse(struct span value, struct mime_fields **ctx_out,
			     struct mime_content_type *out);
void mime_fields_free(struct mime_fields **ctxp);

/* ----- addresses, dates, ids ---------------------------------------- */

enum mime_addr_kind {
	MIME_ADDR_MAILBOX = 0,
	MIME_ADDR_GROUP_START,	/* name is the group's display name */
	MIME_ADDR_GROUP_END,
};

/* One element of an address list in IMAP's shape (RFC 9051 7.5.2): name
 * is the display name unquoted but not RFC 2047-decoded (a lone comment
 * stands in for a missing one), route the obsolete source route without
 * its final ':'. Empty spans mean absent. */
struct mime_addr {
	enum mime_addr_kind kind;
	struct span name, route, mailbox, domain;
	bool invalid;		/* some syntax had to be guessed */
};

struct mime_addr_list {
	struct mime_addr *addrs;
	size_t n;
	struct mime_fields *mem;	/* owns the strings */
};

/* RFC 5322 3.4 address-list (and obs- forms): never fails; garbage gives
 * best-effort entries. Free with mime_addr_list_free(). */
void mime_addr_parse(struct span value, struct mime_addr_list *out);
void mime_addr_list_free(struct mime_addr_list *list);

/* RFC 5322 3.3 date-time and its obsolete forms (2-digit years, zone
 * names, missing seconds or weekday, comments). 0 and the Unix time and
 * zone offset in minutes east of UTC, or -1 if no date can be read. */
int mime_date_parse(struct span value, int64_t *time_out, int *zone_out);

/* Next message id of a Message-ID / In-Reply-To / References value: 1
 * with *id_out (between the angle brackets, or a bare word when there are
 * none), 0 at the end. *pos starts at 0. */
int mime_msgid_next(struct span value, size_t *pos, struct span *id_out);

/* ----- text for SEARCH ----------------------------------------------- */

enum mime_text_flags {
	MIME_TEXT_HEADERS = 1u << 0,	/* headers too (SEARCH TEXT), decoded */
	MIME_TEXT_BODY = 1u << 1,	/* text parts, decoded (SEARCH BODY) */
};

/* Append the text of the message as UTF-8: each text/ * part with its
 * transfer encoding and charset undone (HTML as it is), separated by LF.
 * -1 if out filled up (what fitted is there). */
int mime_text_extract(const struct mime_message *m, unsigned flags,
		      struct buf *out)
	__attribute__((warn_unused_result));

/* ----- IMAP ---------------------------------------------------------- */

/* ENVELOPE (RFC 9051 7.5.2) of the message whose root is part (index 0,
 * or the child of a message/rfc822 part): the parenthesised list, no
 * "ENVELOPE " prefix. Strings are quoted, or literals when they hold CR,
 * LF, 8-bit or are long; NUL becomes U+FFFD. -1 if out is full. */
int mime_envelope_imap(const struct mime_message *m, uint32_t part,
		       struct buf *out)
	__attribute__((warn_unused_result));
/* BODY (extended false) or BODYSTRUCTURE (extended true) of part and its
 * subtree, in Dovecot's form. -1 if out is full. */
int mime_bodystructure_imap(const struct mime_message *m, uint32_t part,
			    bool extended, struct buf *out)
	__attribute__((warn_unused_result));

/* ----- cache: parse once at delivery, serve many times --------------- */

/* One part as the cache keeps it: enough to slice sections and to undo
 * the transfer encoding for BINARY. */
struct mime_cache_part {
	uint64_t hdr_start, body_start, body_end;
	uint32_t parent, first_child, next_sibling;
	uint32_t flags;		/* enum mime_part_flags */
	enum mime_cte cte;
};

/* A validated view into a serialised cache: the spans point into the
 * bytes given to mime_cache_read() and live as long as they do. */
struct mime_cache {
	uint64_t msg_size;
	uint32_t nparts;
	struct span envelope, body, bodystructure;
	/* the top-level fields mime_cache_search_field() names, raw, as a
	 * header block; has_search_headers false: not kept (an old record, or
	 * too many), read the message */
	struct span search_headers;
	bool has_search_headers;
	const unsigned char *table;	/* private: nparts records */
};
/* The fields kept in search_headers: Subject, From, To, Cc, Bcc, Date,
 * Message-ID, In-Reply-To, References, Sender, Reply-To. */
bool mime_cache_search_field(struct span name);
/* Only the search fields of a serialised cache, checking no more than the
 * lengths (SEARCH reads them for every message of a folder; they only
 * ever go through the header iterator): 1 and *out, 0 not kept, -1 not a
 * cache record. */
int mime_cache_search_headers(struct span in, struct span *out)
	__attribute__((warn_unused_result));

/* Append the cache form of m (envelope, BODY, BODYSTRUCTURE and the part
 * table) to out. -1 if out is full. */
int mime_cache_write(const struct mime_message *m, struct buf *out)
	__attribute__((warn_unused_result));
/* Check everything in (format, lengths, offsets within msg_size, a
 * consistent tree) and fill *out. -1 and err (ERR_PEER) if anything is
 * wrong: the caller reparses the message. */
int mime_cache_read(struct span in, struct mime_cache *out, struct err *err)
	__attribute__((warn_unused_result));
void mime_cache_part(const struct mime_cache *c, uint32_t index,
		     struct mime_cache_part *out);
/* As mime_message_section(), on the cache. */
uint32_t mime_cache_section(const struct mime_cache *c, const uint32_t *path,
			    size_t n);

#endif
