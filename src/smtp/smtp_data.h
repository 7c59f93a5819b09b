/* smtp_data.h - the message body reader for DATA and BDAT.
 *
 * DATA (RFC 5321 4.1.1.4, 4.5.2): bytes arrive in arbitrary pieces; the
 * only end of data is <CRLF>.<CRLF> (the CRLF before the dot belongs to the
 * message, the "." line is not). Dot-stuffing is undone. A bare CR or a
 * bare LF anywhere (RFC 5321 2.3.8) makes the transaction fail, since a
 * receiver that took "\n.\n" or "\r.\r" as an end of data can be made to
 * deliver smuggled messages (CVE-2023-51764 family). After such an error
 * the reader goes on consuming until the real <CRLF>.<CRLF> and stores
 * nothing, so what follows is never read as commands.
 *
 * BDAT (RFC 3030): each chunk is exactly n bytes, no stuffing, no
 * terminator. The same CR/LF rule is applied across chunk borders, as we
 * do not offer BINARYMIME.
 *
 * The reader also enforces a maximum message size and line length; over
 * either it keeps consuming to the end (DATA) and reports at the end.
 * It appends the decoded message to a caller-owned struct buf.
 */
#ifndef PETREL_SMTP_DATA_H
#define PETREL_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum smtp_data_error {
	SMTP_DATA_OK = 0,
	SMTP_DATA_BARE_LF,	/* LF not preceded by CR */
	SMTP_DATA_BARE_CR,	/* CR not followed by LF */
	SMTP_DATA_TOO_BIG,	/* over max_size */
	SMTP_DATA_LINE_TOO_LONG,/* a line over max_line (excluding CRLF) */
	SMTP_DATA_NUL,		/* reserved: NUL bytes are currently kept */
};

struct smtp_data {	/* opaque in spirit: callers use the functions */
	int state;
	enum smtp_data_error error;
	uint64_t size;		/* decoded bytes seen (even when not kept) */
	uint64_t max_size;
	size_t max_line;
	size_t line_len;	/* bytes on the current line so far */
	struct buf *out;	/* not owned */
};

/* Start reading a DATA body, appended to out after whatever it already
 * holds (the session puts its trace headers there first). max_size counts
 * body bytes only (0: only an empty message fits). After an error, what
 * out holds is unspecified and must not be stored. When several errors
 * occur, bare CR/LF is reported before "too big", which comes before
 * "line too long", so the result does not depend on how input was split. */
void smtp_data_begin(struct smtp_data *d, struct buf *out, uint64_t max_size,
		     size_t max_line);
/* Start a BDAT transaction (first chunk); the state carries across
 * chunks until smtp_data_bdat_end(). */
void smtp_data_bdat_begin(struct smtp_data *d, struct buf *out,
			  uint64_t max_size, size_t max_line);

/* DATA: consume up to len bytes from p. Returns 1 when the end of data was
 * seen (*used_out = bytes consumed, including the final ".\r\n"; bytes after
 * that are the next command and must not be touched), 0 when all len bytes
 * were consumed and more are needed (*used_out = len). Never fails: an
 * error is recorded and reported by smtp_data_result() at the end. */
int smtp_data_push(struct smtp_data *d, const unsigned char *p, size_t len,
		   size_t *used_out);

/* BDAT: consume exactly these chunk bytes (the caller counts the chunk
 * size). Never fails; errors are kept for smtp_data_result(). */
void smtp_data_bdat_push(struct smtp_data *d, const unsigned char *p,
			 size_t len);
/* BDAT LAST seen: a CR pending at the very end is a bare CR. */
void smtp_data_bdat_end(struct smtp_data *d);

/* After the end: 0 if the message in out is good, else -1 with err set to
 * the reply to send: 554 5.6.0 bare CR/LF (naming which), 552 5.3.4 too
 * big, 554 5.6.0 line too long. */
int smtp_data_result(const struct smtp_data *d, struct err *err);

#endif
