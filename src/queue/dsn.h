/* dsn.h - delivery status notifications (bounces, delay warnings):
 * RFC 3464 (the delivery-status fields), RFC 3461 (ENVID, ORCPT, RET),
 * RFC 6522 (multipart/report), RFC 6533 (UTF-8 addresses), RFC 3834
 * (Auto-Submitted).
 *
 * dsn_build is a pure function: it formats one report message and does
 * not decide whether one is owed. The caller must never send one for a
 * message whose envelope sender is null (<>: a bounce itself, RFC 5321
 * 4.5.5) and sends the report with a null sender itself, so that a
 * report cannot cause another; dsn_build refuses an empty sender.
 *
 * Every string input may come from the network (remote replies are
 * untrusted): control characters, CR and LF included, never reach the
 * output as such, so no input can add a header field or a MIME part.
 * Every output line ends in CRLF and is at most DSN_LINE_MAX bytes
 * (fields folded at 78 columns where there is a space). Without any
 * non-ASCII address the report is ASCII (bytes >= 0x80 of a remote reply
 * become '?'); with one it is a message/global-delivery-status report
 * (RFC 6533; invalid UTF-8 becomes '?') and needs SMTPUTF8 to be sent.
 * The returned original message is 8bit when it has 8-bit bytes. */
#ifndef PETREL_DSN_H
#define PETREL_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum dsn_action {
	DSN_FAILED,
	DSN_DELAYED,
	DSN_DELIVERED,
	DSN_RELAYED,
	DSN_EXPANDED,
};

/* RFC 3461 RET: what of the original message comes back. */
enum dsn_ret {
	DSN_RET_HDRS,	/* default: the header section only */
	DSN_RET_FULL,	/* the whole message, up to dsn_msg.full_max */
};

struct dsn_rcpt {
	const char *final_rcpt;	/* the address we tried, UTF-8 allowed */
	const char *orig_rcpt;	/* ORCPT, xtext-decoded "type;address", or NULL */
	enum dsn_action action;
	const char *status;	/* RFC 3463 "5.1.1"; NULL or malformed: x.0.0
				 * from the action */
	const char *remote_mta;	/* host name or [address], or NULL */
	const char *diag_type;	/* Diagnostic-Code type; NULL = "smtp" */
	const char *diag;	/* the remote reply as received, lines
				 * separated by CRLF; NULL = none */
	size_t diag_len;
	int64_t last_attempt;	/* Unix time; 0 = no field */
	int64_t retry_until;	/* Unix time, for DSN_DELAYED; 0 = no field */
};

struct dsn_msg {
	const char *reporting_mta;	/* our host name */
	const char *sender;		/* envelope sender: To: of the report */
	int64_t arrival;		/* Unix time the message arrived */
	int64_t now;			/* Date: of the report */
	const char *envid;		/* ENVID, xtext-decoded, or NULL */
	enum dsn_ret ret;
	const struct dsn_rcpt *rcpts;	/* at least one */
	size_t nrcpts;
	const unsigned char *orig;	/* the original message (CRLF lines) */
	size_t orig_len;
	size_t full_max;		/* RET=FULL above this returns headers
					 * only; 0 = DSN_FULL_MAX */
};

/* Write the complete report (header section and body, CRLF lines) to
 * out, appending. The subject says "Undelivered Mail Returned to Sender"
 * if any recipient failed, "Delayed Mail (still being retried)" if any
 * is delayed, else "Successful Mail Delivery Report". Returns 0, or -1
 * with err: no recipient, an empty sender (ERR_PEER), or out's maximum
 * reached (ERR_LIMIT; out then holds a partial report to discard).
 * Output size is bounded: each recipient adds at most about
 * 3 x DSN_DIAG_MAX + 4 KB, the original at most full_max or
 * DSN_HEADERS_MAX (plus folding). */
int dsn_build(const struct dsn_msg *m, struct buf *out, struct err *err)
	__attribute__((warn_unused_result));

const char *dsn_action_name(enum dsn_action a);

#endif
