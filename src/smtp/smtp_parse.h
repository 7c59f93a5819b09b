/* smtp_parse.h - RFC 5321 command-line syntax: verbs, paths and ESMTP
 * parameters. Checks syntax only and never acts (OpenSMTPD's check/proceed
 * split), so the server, a future client and the fuzzer share it. Input is
 * one command line without its CRLF, as a span: it may hold any bytes,
 * NULs included, and is never read past its length. No allocation. */
#ifndef PETREL_SMTP_PARSE_H
#define PETREL_SMTP_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/span.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
};

struct smtp_cmd {
	enum smtp_verb verb;
	/* Everything after the verb and its single separating space, with
	 * trailing SP/HTAB removed; borrowed from the input line. For MAIL and
	 * RCPT it starts after "FROM:" / "TO:" (spaces after the colon
	 * skipped, as many clients send "MAIL FROM: <a@b>"). */
	struct span arg;
};

/* 0 and *out filled, or -1 with err set:
 *  500 5.5.2 for an unknown or malformed verb (also for NUL or 8-bit bytes
 *  in the verb), 501 5.5.4 for "MAIL" without "FROM:" and similar.
 * The verb is case-insensitive. Unknown verbs are not an error here: they
 * return 0 with SMTP_VERB_UNKNOWN, so the caller counts and replies. */
int smtp_cmd_parse(struct span line, struct smtp_cmd *out, struct err *err);

/* An envelope address, split. Strings are NUL-terminated copies. */
struct smtp_path {
	bool null_path;			/* "<>" (MAIL FROM only) */
	bool utf8;			/* has bytes >= 0x80 (needs SMTPUTF8) */
	char addr[SMTP_PATH_MAX + 1];	/* local@domain, as sent (quotes kept,
					 * source route dropped) */
	char local[SMTP_LOCAL_MAX + 3];	/* local part as sent, quotes kept */
	char domain[SMTP_DOMAIN_MAX + 1]; /* lower-cased ASCII letters; an
					 * address literal keeps its brackets */
	bool domain_literal;		/* "[192.0.2.1]" or "[IPv6:...]" */
};

enum smtp_body { SMTP_BODY_7BIT = 0, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };

/* RFC 3461 (DSN): what of the message a failure report returns. */
enum smtp_ret { SMTP_RET_DEFAULT = 0, SMTP_RET_HDRS, SMTP_RET_FULL };
/* RFC 3461 4.4: ENVID is at most 100 characters (decoded here). */
#define SMTP_ENVID_MAX 100
/* RFC 3461 4.2: ORCPT's value is at most 500 characters. */
#define SMTP_ORCPT_MAX 500

struct smtp_mail_params {
	bool has_size;
	uint64_t size;			/* SIZE= (RFC 1870) */
	enum smtp_body body;		/* BODY= (RFC 6152, RFC 3030) */
	bool smtputf8;			/* SMTPUTF8 (RFC 6531) */
	/* DSN (RFC 3461 4.3, 4.4); dsn: RET or ENVID was given */
	bool dsn;
	enum smtp_ret ret;
	char envid[SMTP_ENVID_MAX + 1];	/* xtext decoded, "" if none */
};

/* RCPT's DSN parameters (RFC 3461 4.1, 4.2). */
#define SMTP_NOTIFY_NEVER   0x01u
#define SMTP_NOTIFY_SUCCESS 0x02u
#define SMTP_NOTIFY_FAILURE 0x04u
#define SMTP_NOTIFY_DELAY   0x08u
struct smtp_rcpt_params {
	unsigned notify;		/* 0: not given (failure and delay) */
	/* "rfc822;user@example.com": type and the xtext-decoded address;
	 * "" if not given */
	char orcpt[SMTP_ORCPT_MAX + 1];
};

/* Parse the argument of MAIL after "FROM:": "<path> [params]".
 * Parameters: SIZE, BODY, SMTPUTF8, AUTH, and the DSN ones RET and ENVID
 * (params->dsn says they were given: a server that does not offer DSN
 * refuses them).
 * RFC 5321 4.1.2 syntax, RFC 6531 UTF-8 local parts and domains allowed
 * (path->utf8 set; the caller decides whether SMTPUTF8 was given).
 * A source route "<@a,@b:user@c>" is accepted and ignored (RFC 5321
 * 4.1.1.3 / C). Errors: 501 5.1.7 bad sender syntax, 501 5.5.4 bad or
 * unknown parameter, 552 5.3.4 SIZE= over max_size (when max_size > 0),
 * 553 5.1.3 path too long. */
int smtp_parse_mail(struct span arg, uint64_t max_size, struct smtp_path *path,
		    struct smtp_mail_params *params, struct err *err);

/* Parse the argument of RCPT after "TO:": "<path> [params]". "<>" is an
 * error; "<Postmaster>" (no domain) is accepted with domain "" (RFC 5321
 * 4.5.1). Parameters: NOTIFY and ORCPT (RFC 3461) into *dsn when dsn is
 * not NULL; any other parameter, or any at all with dsn NULL, is 555
 * 5.5.4. Errors: 501 5.1.3 bad recipient syntax, 553 5.1.3 too long,
 * 501 5.5.4 a bad NOTIFY or ORCPT. */
int smtp_parse_rcpt(struct span arg, struct smtp_path *path,
		    struct smtp_rcpt_params *dsn, struct err *err);

/* "BDAT <size> [LAST]" argument (RFC 3030). size must fit in uint64_t
 * and consist of digits only. Error: 501 5.5.4. */
int smtp_parse_bdat(struct span arg, uint64_t *size_out, bool *last_out,
		    struct err *err);

/* HELO/EHLO argument: a domain or address literal (RFC 5321 4.1.1.1).
 * We are lenient, as real clients send odd names: any printable ASCII
 * word of 1..255 bytes without spaces is accepted and copied into
 * out (size outsz); empty or control bytes: 501 5.5.4. */
int smtp_parse_helo(struct span arg, char *out, size_t outsz, struct err *err);

#endif
