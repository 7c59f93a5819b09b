/* smtp_sender.h - sender authorization for submission: which addresses an
 * authenticated user may send as, in the envelope (MAIL FROM) and in the
 * From: header. Given no store (NULL) they are pure functions of their
 * arguments, so that unit tests and the fuzzer call them directly.
 * A user owns the address of their mailbox and, with a store, the
 * aliases and groups they may send as (store_may_send_as, decision
 * 0022); that is decided in smtp_sender_owned() alone. */
#ifndef PETREL_SMTP_SENDER_H
#define PETREL_SMTP_SENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/span.h"

struct store;

/* true if user (the mailbox address, local@domain) may use addr
 * (local@domain as in an envelope or From:). Local part and domain
 * compare ASCII case-insensitively; anything else (a quoted local part,
 * a trailing dot, an address literal) must match byte for byte, so only
 * the user's own spelling passes. With st, also an alias or group the
 * user may send as; a store error counts as not owned. */
bool smtp_sender_owned(struct store *st, const char *user, const char *addr);

/* The header block at the start of msg: every byte up to and including
 * the empty line that ends it (all of msg if there is none). */
struct span smtp_header_block(struct span msg);

enum smtp_from_result {
	SMTP_FROM_OK = 0,	/* every From: mailbox is the user's */
	SMTP_FROM_MISSING,	/* no From: field */
	SMTP_FROM_FOREIGN,	/* one is not: *bad names it */
};

/* Check every From: field of hdr (a header block) and every mailbox in
 * each (groups included). On SMTP_FROM_FOREIGN the first foreign address
 * is copied, truncated, into bad (badsz > 0). */
enum smtp_from_result smtp_from_check(struct span hdr, struct store *st,
				      const char *user, char *bad, size_t badsz);

#endif
