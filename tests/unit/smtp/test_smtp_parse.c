/* test_smtp_parse.c - cmocka tests of src/smtp/smtp_parse.c: tables of
 * valid and invalid command lines, MAIL/RCPT paths and parameters, BDAT
 * and HELO arguments, with the reply and enhanced status code expected,
 * the open-relay address tricks, and each length limit at limit and
 * limit + 1. Every input is copied into an exactly sized heap block so
 * that ASan catches any read past a span. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtp_parse.h"

/* A string literal with its length, NULs included. */
#define B(s) s, sizeof(s) - 1

/* An exactly sized copy: reading one byte past len is an ASan error. */
static unsigned char *exact_copy(const char *s, size_t len)
{
	unsigned char *p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static void check_err(size_t i, const char *input, const struct err *e,
		      int reply, const char *esc)
{
	if (e->reply != reply || strcmp(e->esc, esc) != 0)
		fail_msg("case %zu \"%s\": got %d %s (%s), want %d %s", i, input,
			 e->reply, e->esc, e->msg, reply, esc);
}

/* ----- smtp_cmd_parse ------------------------------------------------- */

struct cmd_case {
	const char *line;
	size_t len;
	int rc;
	enum smtp_verb verb;
	const char *arg;	/* expected arg when rc == 0 */
	int reply;
	const char *esc;
};

static const struct cmd_case cmd_cases[] = {
	{ B("EHLO client.example.test"), 0, SMTP_VERB_EHLO, "client.example.test", 0, "" },
	{ B("ehlo  client.test  "), 0, SMTP_VERB_EHLO, "client.test", 0, "" },
	{ B("HeLo x"), 0, SMTP_VERB_HELO, "x", 0, "" },
	{ B("EHLO"), 0, SMTP_VERB_EHLO, "", 0, "" },
	{ B("MAIL FROM:<a@b.test>"), 0, SMTP_VERB_MAIL, "<a@b.test>", 0, "" },
	{ B("mail from:<a@b.test> SIZE=10"), 0, SMTP_VERB_MAIL, "<a@b.test> SIZE=10", 0, "" },
	{ B("MAIL FROM: <a@b.test>"), 0, SMTP_VERB_MAIL, "<a@b.test>", 0, "" },
	{ B("MAIL  FROM:  <a@b.test>\t "), 0, SMTP_VERB_MAIL, "<a@b.test>", 0, "" },
	{ B("MAIL FROM:<>"), 0, SMTP_VERB_MAIL, "<>", 0, "" },
	{ B("MAIL FROM:a@b.test"), 0, SMTP_VERB_MAIL, "a@b.test", 0, "" },
	{ B("MAIL TO:<a@b.test>"), -1, 0, NULL, 501, "5.5.4" },
	{ B("MAIL"), -1, 0, NULL, 501, "5.5.4" },
	{ B("MAIL FROM:"), -1, 0, NULL, 501, "5.5.4" },
	{ B("MAIL FROM:   "), -1, 0, NULL, 501, "5.5.4" },
	{ B("MAIL FROM <a@b.test>"), -1, 0, NULL, 501, "5.5.4" },
	{ B("RCPT TO:<a@b.test>"), 0, SMTP_VERB_RCPT, "<a@b.test>", 0, "" },
	{ B("rcpt to: <a@b.test>"), 0, SMTP_VERB_RCPT, "<a@b.test>", 0, "" },
	{ B("Rcpt To:<a@b.test> NOTIFY=NEVER"), 0, SMTP_VERB_RCPT, "<a@b.test> NOTIFY=NEVER", 0, "" },
	{ B("RCPT FROM:<a@b.test>"), -1, 0, NULL, 501, "5.5.4" },
	{ B("RCPT"), -1, 0, NULL, 501, "5.5.4" },
	{ B("DATA"), 0, SMTP_VERB_DATA, "", 0, "" },
	{ B("data   "), 0, SMTP_VERB_DATA, "", 0, "" },
	{ B("DATA x"), 0, SMTP_VERB_DATA, "x", 0, "" },	/* caller checks */
	{ B("BDAT 100 LAST"), 0, SMTP_VERB_BDAT, "100 LAST", 0, "" },
	{ B("RSET"), 0, SMTP_VERB_RSET, "", 0, "" },
	{ B("RSET now"), 0, SMTP_VERB_RSET, "now", 0, "" },	/* caller checks */
	{ B("NOOP"), 0, SMTP_VERB_NOOP, "", 0, "" },
	{ B("NOOP hello there"), 0, SMTP_VERB_NOOP, "hello there", 0, "" },
	{ B("QUIT"), 0, SMTP_VERB_QUIT, "", 0, "" },
	{ B("QUIT please"), 0, SMTP_VERB_QUIT, "please", 0, "" },	/* caller checks */
	{ B("VRFY postmaster"), 0, SMTP_VERB_VRFY, "postmaster", 0, "" },
	{ B("EXPN all"), 0, SMTP_VERB_EXPN, "all", 0, "" },
	{ B("HELP"), 0, SMTP_VERB_HELP, "", 0, "" },
	{ B("help mail"), 0, SMTP_VERB_HELP, "mail", 0, "" },
	{ B("STARTTLS"), 0, SMTP_VERB_STARTTLS, "", 0, "" },
	{ B("starttls"), 0, SMTP_VERB_STARTTLS, "", 0, "" },
	{ B("STARTTLS x"), 0, SMTP_VERB_STARTTLS, "x", 0, "" },	/* caller checks */
	{ B("AUTH PLAIN AGFiYwBkZWY="), 0, SMTP_VERB_AUTH, "PLAIN AGFiYwBkZWY=", 0, "" },
	{ B("FOO bar"), 0, SMTP_VERB_UNKNOWN, "bar", 0, "" },
	{ B("XYZZY"), 0, SMTP_VERB_UNKNOWN, "", 0, "" },
	{ B("MAILFROM:<a@b.test>"), -1, 0, NULL, 500, "5.5.2" },
	{ B(""), -1, 0, NULL, 500, "5.5.2" },
	{ B(" MAIL FROM:<a@b.test>"), -1, 0, NULL, 500, "5.5.2" },
	{ B("MA\0L FROM:<a@b.test>"), -1, 0, NULL, 500, "5.5.2" },
	{ B("\0"), -1, 0, NULL, 500, "5.5.2" },
	{ B("MAIL\tFROM:<a@b.test>"), -1, 0, NULL, 500, "5.5.2" },
	{ B("MAI1 x"), -1, 0, NULL, 500, "5.5.2" },
	{ B("\xc3\xa9HLO x"), -1, 0, NULL, 500, "5.5.2" },
	{ B("QUIT\r"), -1, 0, NULL, 500, "5.5.2" },
	{ B("GET / HTTP/1.1"), 0, SMTP_VERB_UNKNOWN, "/ HTTP/1.1", 0, "" },
	{ B("NOOP a\0b"), 0, SMTP_VERB_NOOP, NULL, 0, "" },	/* arg checked below */
};

static void test_cmd_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cmd_cases / sizeof *cmd_cases; i++) {
		const struct cmd_case *c = &cmd_cases[i];
		unsigned char *p = exact_copy(c->line, c->len);
		struct smtp_cmd cmd;
		struct err e;
		err_clear(&e);
		int rc = smtp_cmd_parse(span_make(p, c->len), &cmd, &e);
		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d want %d (%s)", i, c->line,
				 rc, c->rc, e.msg);
		if (rc == 0) {
			assert_int_equal(cmd.verb, c->verb);
			if (c->arg != NULL) {
				if (cmd.arg.len != strlen(c->arg) ||
				    memcmp(cmd.arg.p, c->arg, cmd.arg.len) != 0)
					fail_msg("case %zu \"%s\": arg \"%.*s\"", i,
						 c->line, (int)cmd.arg.len,
						 (const char *)cmd.arg.p);
			}
			/* arg is borrowed from the line and inside it */
			assert_true(cmd.arg.p >= p && cmd.arg.p + cmd.arg.len <= p + c->len);
		} else {
			check_err(i, c->line, &e, c->reply, c->esc);
		}
		free(p);
	}
}

static void test_cmd_nul_in_arg(void **state)
{
	(void)state;
	struct smtp_cmd cmd;
	struct err e;
	assert_int_equal(smtp_cmd_parse(span_make(B("NOOP a\0b")), &cmd, &e), 0);
	assert_int_equal(cmd.verb, SMTP_VERB_NOOP);
	assert_int_equal(cmd.arg.len, 3);
	assert_memory_equal(cmd.arg.p, "a\0b", 3);
}

/* ----- MAIL ----------------------------------------------------------- */

enum { F_NULL = 1, F_UTF8 = 2, F_LIT = 4, F_SMTPUTF8 = 8, F_SIZE = 16 };

struct path_case {
	const char *arg;
	size_t len;
	uint64_t max_size;
	int rc;
	int reply;		/* rc == -1 */
	const char *esc;
	const char *local;	/* rc == 0 */
	const char *domain;
	const char *addr;
	unsigned flags;
	uint64_t size;
	enum smtp_body body;
};

#define OKP(a, l, d, ad, f) { B(a), 0, 0, 0, "", l, d, ad, f, 0, SMTP_BODY_7BIT }
#define BADP(a, r, e) { B(a), 0, -1, r, e, NULL, NULL, NULL, 0, 0, SMTP_BODY_7BIT }

static const struct path_case mail_cases[] = {
	OKP("<user@example.test>", "user", "example.test", "user@example.test", 0),
	OKP("<User@Example.TEST>", "User", "example.test", "User@Example.TEST", 0),
	OKP("<>", "", "", "", F_NULL),
	OKP("<a.b-c+tag@sub-1.example.test>", "a.b-c+tag", "sub-1.example.test",
	    "a.b-c+tag@sub-1.example.test", 0),
	OKP("<!#$%&'*+-/=?^_`{|}~@x.test>", "!#$%&'*+-/=?^_`{|}~", "x.test",
	    "!#$%&'*+-/=?^_`{|}~@x.test", 0),
	OKP("<@relay.test:a@b.test>", "a", "b.test", "a@b.test", 0),
	OKP("<@r1.test,@r2.test:a@b.test>", "a", "b.test", "a@b.test", 0),
	OKP("<\"john doe\"@b.test>", "\"john doe\"", "b.test", "\"john doe\"@b.test", 0),
	OKP("<\"a\\\"b\"@b.test>", "\"a\\\"b\"", "b.test", "\"a\\\"b\"@b.test", 0),
	OKP("<\"a>b\"@b.test>", "\"a>b\"", "b.test", "\"a>b\"@b.test", 0),
	OKP("<\"\"@b.test>", "\"\"", "b.test", "\"\"@b.test", 0),
	OKP("<a@[192.0.2.1]>", "a", "[192.0.2.1]", "a@[192.0.2.1]", F_LIT),
	OKP("<a@[0.0.0.0]>", "a", "[0.0.0.0]", "a@[0.0.0.0]", F_LIT),
	OKP("<a@[IPv6:2001:db8::1]>", "a", "[IPv6:2001:db8::1]", "a@[IPv6:2001:db8::1]", F_LIT),
	OKP("<a@[ipv6:2001:DB8::1]>", "a", "[IPv6:2001:db8::1]", "a@[ipv6:2001:DB8::1]", F_LIT),
	OKP("<a@[IPv6:::ffff:192.0.2.1]>", "a", "[IPv6:::ffff:192.0.2.1]",
	    "a@[IPv6:::ffff:192.0.2.1]", F_LIT),
	OKP("<a@123.test>", "a", "123.test", "a@123.test", 0),
	OKP("<a@localhost>", "a", "localhost", "a@localhost", 0),
	OKP("<a@xn--bcher-kva.test>", "a", "xn--bcher-kva.test", "a@xn--bcher-kva.test", 0),
	/* RFC 6531: UTF-8 local part and domain */
	OKP("<\xce\xb4\xce\xbf\xce\xba@\xcf\x80\xce\xb1\xcf\x81.test>",
	    "\xce\xb4\xce\xbf\xce\xba", "\xcf\x80\xce\xb1\xcf\x81.test",
	    "\xce\xb4\xce\xbf\xce\xba@\xcf\x80\xce\xb1\xcf\x81.test", F_UTF8),
	OKP("<\xe7\x94\xa8\xe6\x88\xb7@Example.TEST>", "\xe7\x94\xa8\xe6\x88\xb7",
	    "example.test", "\xe7\x94\xa8\xe6\x88\xb7@Example.TEST", F_UTF8),
	OKP("<a@\xf0\x9f\x98\x80.test>", "a", "\xf0\x9f\x98\x80.test",
	    "a@\xf0\x9f\x98\x80.test", F_UTF8),
	OKP("<\"\xc3\xa9t\xc3\xa9\"@b.test>", "\"\xc3\xa9t\xc3\xa9\"", "b.test",
	    "\"\xc3\xa9t\xc3\xa9\"@b.test", F_UTF8),
	OKP("<a@b.test> SMTPUTF8", "a", "b.test", "a@b.test", F_SMTPUTF8),
	OKP("<a@b.test>  smtputf8  ", "a", "b.test", "a@b.test", F_SMTPUTF8),
	OKP("<a@b.test> AUTH=<>", "a", "b.test", "a@b.test", 0),
	OKP("<a@b.test> AUTH=user+40example.test", "a", "b.test", "a@b.test", 0),
	{ B("<> SIZE=1000"), 0, 0, 0, "", "", "", "", F_NULL | F_SIZE, 1000, SMTP_BODY_7BIT },
	{ B("<a@b.test> SIZE=1000 BODY=8BITMIME"), 0, 0, 0, "", "a", "b.test", "a@b.test",
	  F_SIZE, 1000, SMTP_BODY_8BITMIME },
	{ B("<a@b.test> size=0 body=7bit"), 0, 0, 0, "", "a", "b.test", "a@b.test",
	  F_SIZE, 0, SMTP_BODY_7BIT },
	{ B("<a@b.test> Body=BinaryMIME SMTPUTF8"), 0, 0, 0, "", "a", "b.test", "a@b.test",
	  F_SMTPUTF8, 0, SMTP_BODY_BINARYMIME },
	{ B("<a@b.test> SIZE=18446744073709551615"), 0, 0, 0, "", "a", "b.test", "a@b.test",
	  F_SIZE, UINT64_MAX, SMTP_BODY_7BIT },
	/* RFC 1870: at the limit and one over it */
	{ B("<a@b.test> SIZE=1000"), 1000, 0, 0, "", "a", "b.test", "a@b.test",
	  F_SIZE, 1000, SMTP_BODY_7BIT },
	{ B("<a@b.test> SIZE=1001"), 1000, -1, 552, "5.3.4", NULL, NULL, NULL, 0, 0, 0 },
	/* RFC 1870 allows 20 digits: past uint64_t it is too big, not bad */
	{ B("<a@b.test> SIZE=18446744073709551616"), 1000, -1, 552, "5.3.4", NULL, NULL, NULL, 0, 0, 0 },
	{ B("<a@b.test> SIZE=99999999999999999999"), 0, 0, 0, "", "a", "b.test", "a@b.test",
	  F_SIZE, UINT64_MAX, SMTP_BODY_7BIT },
	/* syntax of the whole command is judged before the size */
	{ B("<a@b.test> SIZE=99999 FOO=bar"), 10, -1, 555, "5.5.4", NULL, NULL, NULL, 0, 0, 0 },

	/* angle brackets */
	BADP("user@example.test", 501, "5.5.4"),
	BADP("<user@example.test", 501, "5.5.4"),
	BADP("user@example.test>", 501, "5.5.4"),
	BADP("", 501, "5.5.4"),
	BADP("<\"unterminated@x.test>", 501, "5.5.4"),
	/* mailbox syntax: 501 5.1.7 for a sender */
	BADP("<user>", 501, "5.1.7"),
	BADP("<Postmaster>", 501, "5.1.7"),
	BADP("<user@>", 501, "5.1.7"),
	BADP("<@x.test>", 501, "5.1.7"),
	BADP("<@x.test:>", 501, "5.1.7"),
	BADP("<@:a@b.test>", 501, "5.1.7"),
	BADP("<@x.test,a@b.test>", 501, "5.1.7"),
	BADP("<@x.test.:a@b.test>", 501, "5.1.7"),
	BADP("<user@example.test.>", 501, "5.1.7"),
	BADP("<user@.example.test>", 501, "5.1.7"),
	BADP("<user@example..test>", 501, "5.1.7"),
	BADP("<user@-example.test>", 501, "5.1.7"),
	BADP("<user@example-.test>", 501, "5.1.7"),
	BADP("<user@exa_mple.test>", 501, "5.1.7"),
	BADP("<user@exa mple.test>", 501, "5.1.7"),
	BADP("<a@b.test@c.test>", 501, "5.1.7"),
	BADP("<.user@x.test>", 501, "5.1.7"),
	BADP("<user.@x.test>", 501, "5.1.7"),
	BADP("<us..er@x.test>", 501, "5.1.7"),
	BADP("<us er@x.test>", 501, "5.1.7"),
	BADP("<us(er@x.test>", 501, "5.1.7"),
	BADP("<@x.test>", 501, "5.1.7"),
	BADP("<\"a\"b@x.test>", 501, "5.1.7"),
	BADP("<\"a\\\x01\"@x.test>", 501, "5.1.7"),
	/* NUL and control characters */
	BADP("<us\0er@x.test>", 501, "5.1.7"),
	BADP("<user@x.test\0>", 501, "5.1.7"),
	BADP("<user@x\0.test>", 501, "5.1.7"),
	BADP("<us\x01" "er@x.test>", 501, "5.1.7"),
	BADP("<us\x7f" "er@x.test>", 501, "5.1.7"),
	BADP("<\"us\x01" "er\"@x.test>", 501, "5.1.7"),
	BADP("<\"us\0er\"@x.test>", 501, "5.1.7"),
	BADP("<\"us\ter\"@x.test>", 501, "5.1.7"),
	BADP("<user@x.test\r>", 501, "5.1.7"),
	/* malformed UTF-8 */
	BADP("<\xff@x.test>", 501, "5.1.7"),
	BADP("<\xc0\xaf@x.test>", 501, "5.1.7"),
	BADP("<\xc2\x80@x.test>", 501, "5.1.7"),
	BADP("<\xc3@x.test>", 501, "5.1.7"),
	BADP("<a@\xed\xa0\x80.test>", 501, "5.1.7"),
	BADP("<a@\xf4\x90\x80\x80.test>", 501, "5.1.7"),
	BADP("<a@\xe0\x80\xaf.test>", 501, "5.1.7"),
	/* address literals */
	BADP("<a@[192.0.2.256]>", 501, "5.1.7"),
	BADP("<a@[192.0.2]>", 501, "5.1.7"),
	BADP("<a@[192.0.2.1.5]>", 501, "5.1.7"),
	BADP("<a@[0177.0.0.1]>", 501, "5.1.7"),
	BADP("<a@[1234.0.0.1]>", 501, "5.1.7"),
	BADP("<a@[IPv6:zz::1]>", 501, "5.1.7"),
	BADP("<a@[IPv6:1:2:3:4:5:6:7:8:9]>", 501, "5.1.7"),
	BADP("<a@[IPv6:]>", 501, "5.1.7"),
	BADP("<a@[2001:db8::1]>", 501, "5.1.7"),
	BADP("<a@[x-tag:foo]>", 501, "5.1.7"),
	BADP("<a@[]>", 501, "5.1.7"),
	BADP("<a@[192.0.2.1]x>", 501, "5.1.7"),
	BADP("<a@[192.0.2.1>", 501, "5.1.7"),
	/* after the path */
	BADP("<a@b.test>x", 501, "5.5.4"),
	BADP("<a@b.test><c@d.test>", 501, "5.5.4"),
	BADP("<a@b.test> <c@d.test>", 501, "5.5.4"),
	BADP("<a@b.test> FOO=bar", 555, "5.5.4"),
	BADP("<a@b.test> BY=120;R", 555, "5.5.4"),	/* DELIVERBY: not offered */
	BADP("<a@b.test> SIZE=10 SIZE=20", 501, "5.5.4"),
	BADP("<a@b.test> size=10 SIZE=10", 501, "5.5.4"),
	BADP("<a@b.test> BODY=7BIT BODY=8BITMIME", 501, "5.5.4"),
	BADP("<a@b.test> SMTPUTF8 SMTPUTF8", 501, "5.5.4"),
	BADP("<a@b.test> AUTH=<> AUTH=<>", 501, "5.5.4"),
	BADP("<a@b.test> BODY=9BIT", 501, "5.5.4"),
	BADP("<a@b.test> BODY", 501, "5.5.4"),
	BADP("<a@b.test> SIZE", 501, "5.5.4"),
	BADP("<a@b.test> SIZE=", 501, "5.5.4"),
	BADP("<a@b.test> SIZE=abc", 501, "5.5.4"),
	BADP("<a@b.test> SIZE=-1", 501, "5.5.4"),
	BADP("<a@b.test> SIZE=123456789012345678901", 501, "5.5.4"),
	BADP("<a@b.test> SIZE=000000000000000000001", 501, "5.5.4"),
	BADP("<a@b.test> SMTPUTF8=yes", 501, "5.5.4"),
	BADP("<a@b.test> AUTH", 501, "5.5.4"),
	BADP("<a@b.test> AUTH=a+4", 501, "5.5.4"),
	BADP("<a@b.test> SIZE=10\x01", 501, "5.5.4"),
	BADP("<a@b.test> SIZE=10\0", 501, "5.5.4"),
	BADP("<a@b.test> -X=1", 501, "5.5.4"),
	BADP("<a@b.test> X=a=b", 501, "5.5.4"),
	BADP("<a@b.test>\tSIZE=10", 501, "5.5.4"),
};

static void check_path(size_t i, const struct path_case *c,
		       const struct smtp_path *path)
{
	if (strcmp(path->local, c->local) != 0 || strcmp(path->domain, c->domain) != 0 ||
	    strcmp(path->addr, c->addr) != 0)
		fail_msg("case %zu \"%s\": local \"%s\" domain \"%s\" addr \"%s\"",
			 i, c->arg, path->local, path->domain, path->addr);
	assert_int_equal(path->null_path, (c->flags & F_NULL) != 0);
	assert_int_equal(path->utf8, (c->flags & F_UTF8) != 0);
	assert_int_equal(path->domain_literal, (c->flags & F_LIT) != 0);
}

static void test_mail_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof mail_cases / sizeof *mail_cases; i++) {
		const struct path_case *c = &mail_cases[i];
		unsigned char *p = exact_copy(c->arg, c->len);
		struct smtp_path path;
		struct smtp_mail_params prm;
		struct err e;
		err_clear(&e);
		int rc = smtp_parse_mail(span_make(p, c->len), c->max_size, &path, &prm, &e);
		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d want %d (%d %s %s)", i, c->arg,
				 rc, c->rc, e.reply, e.esc, e.msg);
		if (rc == 0) {
			check_path(i, c, &path);
			assert_int_equal(prm.smtputf8, (c->flags & F_SMTPUTF8) != 0);
			assert_int_equal(prm.has_size, (c->flags & F_SIZE) != 0);
			assert_true(prm.size == c->size);
			assert_int_equal(prm.body, c->body);
		} else {
			check_err(i, c->arg, &e, c->reply, c->esc);
		}
		free(p);
	}
}

/* ----- RCPT, including the open-relay tricks --------------------------- */

static const struct path_case rcpt_cases[] = {
	OKP("<user@ourdomain.test>", "user", "ourdomain.test", "user@ourdomain.test", 0),
	OKP("<USER@OURDOMAIN.TEST>", "USER", "ourdomain.test", "USER@OURDOMAIN.TEST", 0),
	OKP("<user@ourdomain.test> ", "user", "ourdomain.test", "user@ourdomain.test", 0),
	/* percent hack: the server sees a local part and its own domain */
	OKP("<user%foreign.test@ourdomain.test>", "user%foreign.test", "ourdomain.test",
	    "user%foreign.test@ourdomain.test", 0),
	/* source route: dropped, the mailbox decides */
	OKP("<@a.test:user@b.test>", "user", "b.test", "user@b.test", 0),
	OKP("<@ourdomain.test:user@foreign.test>", "user", "foreign.test",
	    "user@foreign.test", 0),
	/* quoted '@' stays in the local part */
	OKP("<\"user@foreign\"@ourdomain.test>", "\"user@foreign\"", "ourdomain.test",
	    "\"user@foreign\"@ourdomain.test", 0),
	OKP("<\"user%foreign.test\"@ourdomain.test>", "\"user%foreign.test\"",
	    "ourdomain.test", "\"user%foreign.test\"@ourdomain.test", 0),
	/* bang path */
	OKP("<foreign!user@ourdomain.test>", "foreign!user", "ourdomain.test",
	    "foreign!user@ourdomain.test", 0),
	OKP("<user@[127.0.0.1]>", "user", "[127.0.0.1]", "user@[127.0.0.1]", F_LIT),
	OKP("<user%foreign.test@[127.0.0.1]>", "user%foreign.test", "[127.0.0.1]",
	    "user%foreign.test@[127.0.0.1]", F_LIT),
	/* RFC 5321 4.5.1: postmaster without a domain */
	OKP("<Postmaster>", "Postmaster", "", "Postmaster", 0),
	OKP("<postmaster>", "postmaster", "", "postmaster", 0),
	OKP("<POSTMASTER>", "POSTMASTER", "", "POSTMASTER", 0),
	OKP("<postmaster@ourdomain.test>", "postmaster", "ourdomain.test",
	    "postmaster@ourdomain.test", 0),

	BADP("<user@ourdomain.>", 501, "5.1.3"),
	BADP("<user@ourdomain.test.>", 501, "5.1.3"),
	BADP("<>", 501, "5.1.3"),
	BADP("<\"postmaster\">", 501, "5.1.3"),
	BADP("<@a.test:postmaster>", 501, "5.1.3"),
	BADP("<postmasters>", 501, "5.1.3"),
	BADP("<user@foreign.test@ourdomain.test>", 501, "5.1.3"),
	BADP("<\"user@foreign.test\">", 501, "5.1.3"),
	BADP("<foreign.test!user>", 501, "5.1.3"),
	BADP("<@[127.0.0.1]:user@foreign.test>", 501, "5.1.3"),
	BADP("<user@foreign.test@[127.0.0.1]>", 501, "5.1.3"),
	BADP("<us\0er@ourdomain.test>", 501, "5.1.3"),
	BADP("<user@ourdomain.test\n>", 501, "5.1.3"),
	BADP("user@ourdomain.test", 501, "5.5.4"),
	BADP("<user@ourdomain.test>x", 501, "5.5.4"),
	BADP("<user@ourdomain.test> NOTIFY=NEVER", 555, "5.5.4"),
	BADP("<user@ourdomain.test> ORCPT=rfc822;a@b.test", 555, "5.5.4"),
	BADP("<user@ourdomain.test> =x", 501, "5.5.4"),
};

static void test_rcpt_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rcpt_cases / sizeof *rcpt_cases; i++) {
		const struct path_case *c = &rcpt_cases[i];
		unsigned char *p = exact_copy(c->arg, c->len);
		struct smtp_path path;
		struct err e;
		err_clear(&e);
		int rc = smtp_parse_rcpt(span_make(p, c->len), &path, NULL, &e);
		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d want %d (%d %s %s)", i, c->arg,
				 rc, c->rc, e.reply, e.esc, e.msg);
		if (rc == 0)
			check_path(i, c, &path);
		else
			check_err(i, c->arg, &e, c->reply, c->esc);
		free(p);
	}
}

/* The whole way in: a command line through smtp_cmd_parse, then RCPT. */
static void test_cmd_then_rcpt(void **state)
{
	(void)state;
	struct smtp_cmd cmd;
	struct smtp_path path;
	struct err e;
	struct span line = span_cstr("RCPT TO: <@a.test:user%foreign.test@Our.Test>  ");
	assert_int_equal(smtp_cmd_parse(line, &cmd, &e), 0);
	assert_int_equal(cmd.verb, SMTP_VERB_RCPT);
	assert_int_equal(smtp_parse_rcpt(cmd.arg, &path, NULL, &e), 0);
	assert_string_equal(path.local, "user%foreign.test");
	assert_string_equal(path.domain, "our.test");
}

/* ----- limits at limit and limit + 1 ---------------------------------- */

static char *repeat(char *dst, char c, size_t n)
{
	memset(dst, c, n);
	return dst + n;
}

/* "<" + local(llen) + "@" + a domain of dlen octets + ">" (dlen >= 2). */
static size_t make_path(char *buf, size_t llen, size_t dlen)
{
	char *p = buf;
	*p++ = '<';
	p = repeat(p, 'l', llen);
	*p++ = '@';
	size_t left = dlen;
	while (left > 0) {
		size_t lab = left > 63 ? 63 : left;
		if (left > 63 && left - lab < 2)
			lab = left - 2;	/* keep the last label non-empty */
		p = repeat(p, 'd', lab);
		left -= lab;
		if (left > 0) {
			*p++ = '.';
			left--;
		}
	}
	*p++ = '>';
	return (size_t)(p - buf);
}

static void test_path_limits(void **state)
{
	(void)state;
	char buf[600];
	struct smtp_path path;
	struct smtp_mail_params prm;
	struct err e;

	/* RFC 5321 4.5.3.1.3: 256 octets with the brackets */
	size_t n = make_path(buf, 64, SMTP_PATH_MAX - 64 - 3);
	assert_int_equal(n, SMTP_PATH_MAX);
	assert_int_equal(smtp_parse_rcpt(span_make(buf, n), &path, NULL, &e), 0);
	assert_int_equal(strlen(path.addr), SMTP_PATH_MAX - 2);
	assert_int_equal(smtp_parse_mail(span_make(buf, n), 0, &path, &prm, &e), 0);
	n = make_path(buf, 64, SMTP_PATH_MAX - 64 - 2);
	assert_int_equal(n, SMTP_PATH_MAX + 1);
	assert_int_equal(smtp_parse_rcpt(span_make(buf, n), &path, NULL, &e), -1);
	assert_int_equal(e.reply, 553);
	assert_string_equal(e.esc, "5.1.3");
	assert_int_equal(smtp_parse_mail(span_make(buf, n), 0, &path, &prm, &e), -1);
	assert_int_equal(e.reply, 553);
	assert_string_equal(e.esc, "5.1.3");

	/* RFC 5321 4.5.3.1.1: local part 64 */
	n = make_path(buf, SMTP_LOCAL_MAX, 6);
	assert_int_equal(smtp_parse_rcpt(span_make(buf, n), &path, NULL, &e), 0);
	assert_int_equal(strlen(path.local), SMTP_LOCAL_MAX);
	n = make_path(buf, SMTP_LOCAL_MAX + 1, 6);
	assert_int_equal(smtp_parse_rcpt(span_make(buf, n), &path, NULL, &e), -1);
	assert_int_equal(e.reply, 553);
	assert_string_equal(e.esc, "5.1.3");
	assert_int_equal(smtp_parse_mail(span_make(buf, n), 0, &path, &prm, &e), -1);
	assert_int_equal(e.reply, 553);
	assert_string_equal(e.esc, "5.1.7");

	/* the same for a quoted local part: quotes do not count */
	char *p = buf;
	*p++ = '<';
	*p++ = '"';
	p = repeat(p, 'q', SMTP_LOCAL_MAX);
	memcpy(p, "\"@x.test>", 9);
	n = (size_t)(p + 9 - buf);
	assert_int_equal(smtp_parse_rcpt(span_make(buf, n), &path, NULL, &e), 0);
	assert_int_equal(strlen(path.local), SMTP_LOCAL_MAX + 2);
	p = buf + 2;
	p = repeat(p, 'q', SMTP_LOCAL_MAX + 1);
	memcpy(p, "\"@x.test>", 9);
	n = (size_t)(p + 9 - buf);
	assert_int_equal(smtp_parse_rcpt(span_make(buf, n), &path, NULL, &e), -1);
	assert_int_equal(e.reply, 553);

	/* RFC 5321 4.5.3.1.2 / RFC 1035: a label is at most 63 octets */
	p = buf;
	memcpy(p, "<a@", 3);
	p = repeat(p + 3, 'x', 63);
	memcpy(p, ".test>", 6);
	n = (size_t)(p + 6 - buf);
	assert_int_equal(smtp_parse_rcpt(span_make(buf, n), &path, NULL, &e), 0);
	p = repeat(buf + 3, 'x', 64);
	memcpy(p, ".test>", 6);
	n = (size_t)(p + 6 - buf);
	assert_int_equal(smtp_parse_rcpt(span_make(buf, n), &path, NULL, &e), -1);
	assert_int_equal(e.reply, 501);
	assert_string_equal(e.esc, "5.1.3");
}

/* ----- BDAT ----------------------------------------------------------- */

struct bdat_case {
	const char *arg;
	size_t len;
	int rc;
	uint64_t size;
	bool last;
};

static const struct bdat_case bdat_cases[] = {
	{ B("100"), 0, 100, false },
	{ B("100 LAST"), 0, 100, true },
	{ B("0 last"), 0, 0, true },
	{ B("0"), 0, 0, false },
	{ B("100  LAST"), 0, 100, true },
	{ B("100 LAST "), 0, 100, true },
	{ B("18446744073709551615"), 0, UINT64_MAX, false },
	{ B("18446744073709551616"), -1, 0, false },
	{ B("99999999999999999999"), -1, 0, false },
	{ B(""), -1, 0, false },
	{ B("LAST"), -1, 0, false },
	{ B(" 100"), -1, 0, false },
	{ B("100 FIRST"), -1, 0, false },
	{ B("100 LASTX"), -1, 0, false },
	{ B("100LAST"), -1, 0, false },
	{ B("100 LAST x"), -1, 0, false },
	{ B("1 0"), -1, 0, false },
	{ B("-1"), -1, 0, false },
	{ B("+5"), -1, 0, false },
	{ B("0x10"), -1, 0, false },
	{ B("10\0"), -1, 0, false },
	{ B("10\t"), -1, 0, false },
};

static void test_bdat_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bdat_cases / sizeof *bdat_cases; i++) {
		const struct bdat_case *c = &bdat_cases[i];
		unsigned char *p = exact_copy(c->arg, c->len);
		uint64_t size = 7;
		bool last = false;
		struct err e;
		err_clear(&e);
		int rc = smtp_parse_bdat(span_make(p, c->len), &size, &last, &e);
		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d want %d", i, c->arg, rc, c->rc);
		if (rc == 0) {
			assert_true(size == c->size);
			assert_int_equal(last, c->last);
		} else {
			check_err(i, c->arg, &e, 501, "5.5.4");
		}
		free(p);
	}
}

/* ----- HELO / EHLO ---------------------------------------------------- */

struct helo_case {
	const char *arg;
	size_t len;
	int rc;
};

static const struct helo_case helo_cases[] = {
	{ B("client.example.test"), 0 },
	{ B("[192.0.2.1]"), 0 },
	{ B("[IPv6:2001:db8::1]"), 0 },
	{ B("foo_bar"), 0 },
	{ B("localhost"), 0 },
	{ B("x"), 0 },
	{ B(""), -1 },
	{ B("a b"), -1 },
	{ B("a\tb"), -1 },
	{ B("a\0b"), -1 },
	{ B("a\x01"), -1 },
	{ B("a\x7f"), -1 },
	{ B("caf\xc3\xa9.test"), -1 },
};

static void test_helo_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof helo_cases / sizeof *helo_cases; i++) {
		const struct helo_case *c = &helo_cases[i];
		unsigned char *p = exact_copy(c->arg, c->len);
		char out[256];
		struct err e;
		err_clear(&e);
		int rc = smtp_parse_helo(span_make(p, c->len), out, sizeof out, &e);
		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d want %d", i, c->arg, rc, c->rc);
		if (rc == 0)
			assert_string_equal(out, c->arg);
		else
			check_err(i, c->arg, &e, 501, "5.5.4");
		free(p);
	}
}

static void test_helo_limits(void **state)
{
	(void)state;
	char name[SMTP_DOMAIN_MAX + 2], out[SMTP_DOMAIN_MAX + 2];
	struct err e;
	memset(name, 'h', sizeof name);
	assert_int_equal(smtp_parse_helo(span_make(name, SMTP_DOMAIN_MAX), out,
					 sizeof out, &e), 0);
	assert_int_equal(strlen(out), SMTP_DOMAIN_MAX);
	assert_int_equal(smtp_parse_helo(span_make(name, SMTP_DOMAIN_MAX + 1), out,
					 sizeof out, &e), -1);
	assert_int_equal(e.reply, 501);
	/* the caller's buffer is a limit too: len + NUL must fit */
	assert_int_equal(smtp_parse_helo(span_make(name, 10), out, 11, &e), 0);
	assert_int_equal(smtp_parse_helo(span_make(name, 10), out, 10, &e), -1);
}

/* RFC 3461 parameters: RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT
 * (the latter only when the caller offers DSN). */
static void test_dsn_params(void **state)
{
	(void)state;
	struct smtp_path path;
	struct smtp_mail_params prm;
	struct smtp_rcpt_params dsn;
	struct err e;
#define MAIL(s) smtp_parse_mail(span_cstr(s), 0, &path, &prm, &e)
#define RCPT(s) smtp_parse_rcpt(span_cstr(s), &path, &dsn, &e)
	assert_int_equal(MAIL("<a@b.test> RET=FULL ENVID=id+2B1"), 0);
	assert_true(prm.dsn);
	assert_int_equal(prm.ret, SMTP_RET_FULL);
	assert_string_equal(prm.envid, "id+1");
	assert_int_equal(MAIL("<a@b.test> ret=hdrs"), 0);
	assert_int_equal(prm.ret, SMTP_RET_HDRS);
	assert_int_equal(MAIL("<a@b.test>"), 0);
	assert_false(prm.dsn);
	static const char *const bad_mail[] = {
		"<a@b.test> RET=ALL", "<a@b.test> RET", "<a@b.test> RET=FULL RET=HDRS",
		"<a@b.test> ENVID=", "<a@b.test> ENVID=a+2", "<a@b.test> ENVID=a+zz",
		"<a@b.test> ENVID=+0A", "<a@b.test> ENVID=x ENVID=y",
	};
	for (size_t i = 0; i < sizeof bad_mail / sizeof *bad_mail; i++) {
		assert_int_equal(MAIL(bad_mail[i]), -1);
		assert_int_equal(e.reply, 501);
	}
	char longid[140];
	memset(longid, 0, sizeof longid);
	memcpy(longid, "<a@b.test> ENVID=", 17);
	memset(longid + 17, 'x', 101);
	assert_int_equal(MAIL(longid), -1);

	assert_int_equal(RCPT("<c@d.test> NOTIFY=SUCCESS,delay ORCPT=rfc822;C+2Bx@d.test"), 0);
	assert_int_equal(dsn.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY);
	assert_string_equal(dsn.orcpt, "rfc822;C+x@d.test");
	assert_int_equal(RCPT("<c@d.test> NOTIFY=NEVER"), 0);
	assert_int_equal(dsn.notify, SMTP_NOTIFY_NEVER);
	assert_int_equal(RCPT("<c@d.test>"), 0);
	assert_int_equal(dsn.notify, 0);
	assert_string_equal(dsn.orcpt, "");
	static const char *const bad_rcpt[] = {
		"<c@d.test> NOTIFY=NEVER,FAILURE", "<c@d.test> NOTIFY=", "<c@d.test> NOTIFY=SUCCESS,",
		"<c@d.test> NOTIFY=SUCCESS,SUCCESS", "<c@d.test> NOTIFY=MAYBE",
		"<c@d.test> ORCPT=rfc822", "<c@d.test> ORCPT=;a@b", "<c@d.test> ORCPT=rfc 822;a",
		"<c@d.test> ORCPT=rfc822;a+0Db", "<c@d.test> NOTIFY=DELAY NOTIFY=DELAY",
	};
	for (size_t i = 0; i < sizeof bad_rcpt / sizeof *bad_rcpt; i++) {
		assert_int_equal(RCPT(bad_rcpt[i]), -1);
		assert_true(e.reply == 501 || e.reply == 555);
	}
	/* not offered: any parameter is 555 */
	assert_int_equal(smtp_parse_rcpt(span_cstr("<c@d.test> NOTIFY=NEVER"), &path,
					 NULL, &e), -1);
	assert_int_equal(e.reply, 555);
	assert_int_equal(RCPT("<c@d.test> FOO=1"), -1);
	assert_int_equal(e.reply, 555);
#undef MAIL
#undef RCPT
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_table),
		cmocka_unit_test(test_cmd_nul_in_arg),
		cmocka_unit_test(test_mail_table),
		cmocka_unit_test(test_rcpt_table),
		cmocka_unit_test(test_dsn_params),
		cmocka_unit_test(test_cmd_then_rcpt),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_bdat_table),
		cmocka_unit_test(test_helo_table),
		cmocka_unit_test(test_helo_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
