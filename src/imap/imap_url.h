/* imap_url.h - the IMAP URLs of CATENATE (RFC 4469 5, RFC 5092): a
 * message or one of its sections on this server, as
 *   imap://[user[;AUTH=*]@]host[:port]/mailbox[;UIDVALIDITY=n]/;UID=n
 *       [/;SECTION=s][/;PARTIAL=o[.l]]
 * or the same from "/mailbox" on. URLAUTH (";EXPIRE=", ";URLAUTH=") and
 * anything else is refused: the caller answers NO [BADURL]. Pure
 * parsing: who may read what is the caller's question. */
#ifndef PETREL_IMAP_URL_H
#define PETREL_IMAP_URL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"
#include "imap/imap_parse.h"

/* Longest URL taken. */
#define IMAP_URL_MAX 2048u

struct imap_url {
	struct span user;	/* percent-decoded; empty if none */
	struct span host;	/* empty for "/mailbox..." */
	struct span mailbox;	/* percent-decoded (arena, NUL-terminated) */
	uint32_t uidvalidity;	/* 0: not given */
	uint32_t uid;		/* >= 1 */
	struct span section;	/* percent-decoded, NUL-terminated; empty:
				 * the whole message */
	bool partial;
	uint32_t partial_offset;
	uint32_t partial_len;	/* 0: to the end */
};

/* 0 and *out (its spans in a or in; valid as long as both), or -1 with
 * err (ERR_PEER) saying what is wrong. */
int imap_url_parse(struct span in, struct imap_arena *a, struct imap_url *out,
		   struct err *err);

#endif
