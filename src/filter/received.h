/* received.h - the names in a Received field's "from" clause, as the
 * receiving MTAs write them (RFC 5321 4.4 leaves the comment's form to
 * them): the trace reader (facts_headers.c) and the rules on the chain
 * (rules_received.c) read them the same way. */
#ifndef PETREL_FILTER_RECEIVED_H
#define PETREL_FILTER_RECEIVED_H

#include "core/span.h"

#define RECEIVED_HOST_MAX 256

struct received_names {
	char from[RECEIVED_HOST_MAX];	/* the word after "from", or "" */
	char helo[RECEIVED_HOST_MAX];	/* what the client greeted with */
	char rdns[RECEIVED_HOST_MAX];	/* its address's name; "" none */
};

/* From an unfolded Received value s: "from A (B [ip])" is the greeting
 * first and the reverse name inside (Postfix, Sendmail; Sendmail writes
 * "([ip])" when the address has no name, Postfix "unknown"), "from B
 * ([ip] helo=A)" (Exim) and "from B (HELO A)" (qmail) the other way
 * round; without a comment the greeting is the "from" name. "unknown",
 * address literals and a name without an address after it are no name;
 * an ident ("user@host") is dropped. */
void received_names(struct span s, struct received_names *out);

/* The word after keyword kw (a whole word, any case) in s, into out of
 * RECEIVED_HOST_MAX bytes; "" when kw is not there. */
void received_word_after(struct span s, const char *kw, char *out);

#endif
