/* pop3_parse.h - POP3 command lines: a keyword and up to two arguments
 * (RFC 1939 3: keywords of 3-4 characters, case-insensitive, arguments
 * separated by single spaces, each at most 40 characters; RFC 2449 allows
 * 255 octets per line, SASL responses more). Checks syntax only. */
#ifndef PETREL_POP3_PARSE_H
#define PETREL_POP3_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/span.h"

enum pop3_verb {
	POP3_UNKNOWN = 0, POP3_USER, POP3_PASS, POP3_AUTH, POP3_STLS,
	POP3_CAPA, POP3_QUIT, POP3_STAT, POP3_LIST, POP3_RETR, POP3_DELE,
	POP3_NOOP, POP3_RSET, POP3_TOP, POP3_UIDL,
	POP3_NVERBS
};

struct pop3_cmd {
	enum pop3_verb verb;
	unsigned nargs;
	struct span args[2];	/* borrowed from the line */
	struct span rest;	/* everything after the keyword (PASS takes the
				 * whole rest: passwords may contain spaces) */
};

/* 0 and *out, or -1 with err (a line with NUL or control bytes, more than
 * two arguments). An unknown keyword is 0 with POP3_UNKNOWN. */
int pop3_cmd_parse(struct span line, struct pop3_cmd *out, struct err *err);
/* A message number argument: 1..max, digits only. */
bool pop3_parse_msgno(struct span s, uint32_t max, uint32_t *out);
/* A non-negative line count for TOP: digits only, saturating. */
bool pop3_parse_count(struct span s, uint32_t *out);

#endif
