/* smtpc_reply.h - the SMTP client's reply parser (RFC 5321 4.2) and EHLO
 * keyword reader, shared by the client, its unit tests and its fuzzer.
 *
 * Replies come from remote servers we do not control, so the parser holds
 * at most one line (SMTPC_LINE_MAX) and bounds the lines and bytes of one
 * reply; past any bound, or on a malformed line (no 3-digit code, a code
 * outside 200..599, a multiline reply whose lines disagree on the code),
 * it fails and the connection must be dropped. It does not act on
 * replies: that is smtpc.c's job. */
#ifndef PETREL_SMTPC_REPLY_H
#define PETREL_SMTPC_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/span.h"
#include "smtp/smtpc.h"

struct smtpc_reply_parser {
	/* private */
	unsigned char line[SMTPC_LINE_MAX + 1];	/* + its CR */
	size_t line_len;
	bool overlong;
	int code;		/* of the reply being read, 0 before a line */
	unsigned lines;
	size_t bytes;
	size_t text_len;
	bool failed;
	char error[128];
	/* Called with each line's text (after "250-" / "250 "), e.g. for
	 * EHLO keywords; NULL: none. The span is valid during the call. */
	void (*on_line)(void *arg, struct span text);
	void *on_line_arg;
};

void smtpc_reply_parser_init(struct smtpc_reply_parser *p);
/* Read bytes until one reply is complete. out is filled as lines come,
 * so pass the same one until 1 is returned. 1: *out holds it (stage
 * CONNECT, synthetic false: the caller sets them) and *used_out bytes
 * were consumed (what
 * follows belongs to the next reply); 0: all len bytes consumed, more
 * needed; -1: malformed or over a limit, smtpc_reply_parser_error() says
 * which; the parser stays failed. Lines end in LF, a CR before it is
 * dropped. */
int smtpc_reply_push(struct smtpc_reply_parser *p, const unsigned char *in,
		     size_t len, size_t *used_out, struct smtpc_reply *out);
/* true if a reply has been started but not finished. */
bool smtpc_reply_pending(const struct smtpc_reply_parser *p);
const char *smtpc_reply_parser_error(const struct smtpc_reply_parser *p);

/* EHLO keywords (RFC 5321 4.1.1.1) we use. */
struct smtpc_caps {
	bool pipelining, starttls, eightbitmime, smtputf8, enhanced;
	bool size, auth_plain, auth_login, dsn;
	uint64_t size_max;	/* 0: no limit given */
};
/* Take one EHLO reply line's text (the first line, the greeting part, is
 * passed too and ignored by the caller's choice). Unknown keywords and
 * bad parameters are ignored. */
void smtpc_caps_line(struct smtpc_caps *caps, struct span text);

/* s as RFC 3461 4 xtext ("+XX" for '+', '=', controls and bytes
 * outside 33-126) into out (outsz bytes, NUL-ended); -1 if it does not
 * fit. */
int smtpc_xtext(const char *s, char *out, size_t outsz);

/* Streaming dot-stuffing encoder for DATA (RFC 5321 4.5.2): a '.' at the
 * start of a line is doubled, bare CR and bare LF become CRLF (we never
 * pass a smuggling sequence on), and the end adds CRLF if needed and
 * ".\r\n". */
struct smtpc_dot {
	bool bol;		/* at the start of a line */
	bool cr;		/* a CR is pending */
};
#define SMTPC_DOT_EXPAND 4	/* most output bytes one input byte makes */
#define SMTPC_DOT_END_MAX 5	/* most bytes smtpc_dot_end() writes */
void smtpc_dot_init(struct smtpc_dot *d);
/* Encode from in (len bytes) into out (outsz bytes) while at least
 * SMTPC_DOT_EXPAND bytes are free; *used_out = input bytes taken. Returns
 * the output bytes written. */
size_t smtpc_dot_encode(struct smtpc_dot *d, const unsigned char *in,
			size_t len, unsigned char *out, size_t outsz,
			size_t *used_out);
/* The end: CRLF if the text did not end with one, then ".\r\n". out must
 * hold SMTPC_DOT_END_MAX bytes; returns the bytes written. */
size_t smtpc_dot_end(struct smtpc_dot *d, unsigned char *out);

#endif
