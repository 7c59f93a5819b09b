/* fuzz_smtp_parse.c - libFuzzer target for src/smtp/smtp_parse.c. The
 * input is one command line: smtp_cmd_parse, then the argument parser the
 * verb calls for (MAIL, RCPT, BDAT, HELO/EHLO). The whole input also goes
 * straight to each argument parser, to reach paths a verb prefix hides.
 * Results are checked against the header's contract; a breach aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/smtp_parse.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t bounded_strlen(const char *s, size_t max)
{
	const char *z = memchr(s, '\0', max);
	CHECK(z != NULL);	/* every string is terminated inside its array */
	return (size_t)(z - s);
}

static void check_err(int rc, const struct err *e)
{
	if (rc == 0)
		return;
	CHECK(rc == -1);
	CHECK(e->reply >= 500 && e->reply <= 555);
	CHECK(bounded_strlen(e->esc, sizeof e->esc) >= 5);
	CHECK(e->esc[0] == '5');
	CHECK(strchr(e->msg, '\r') == NULL && strchr(e->msg, '\n') == NULL);
}

static void check_path(const struct smtp_path *p, bool rcpt)
{
	size_t al = bounded_strlen(p->addr, sizeof p->addr);
	size_t ll = bounded_strlen(p->local, sizeof p->local);
	size_t dl = bounded_strlen(p->domain, sizeof p->domain);
	/* "<" + addr + ">" is at most SMTP_PATH_MAX */
	CHECK(al + 2 <= SMTP_PATH_MAX);
	CHECK(ll <= SMTP_LOCAL_MAX + 2);
	if (p->null_path) {
		CHECK(!rcpt);
		CHECK(al == 0 && ll == 0 && dl == 0);
		return;
	}
	bool high = false;
	for (size_t i = 0; i < al; i++) {
		unsigned char c = (unsigned char)p->addr[i];
		CHECK(c >= 0x20 && c != 0x7f);	/* no NUL or controls */
		if (c >= 0x80)
			high = true;
	}
	CHECK(!high || p->utf8);
	for (size_t i = 0; i < dl; i++) {
		unsigned char c = (unsigned char)p->domain[i];
		if (!(p->domain_literal && i >= 1 && i <= 4))	/* "IPv6" tag */
			CHECK(!(c >= 'A' && c <= 'Z'));
	}
	if (dl == 0) {
		/* only <Postmaster> has no domain */
		CHECK(rcpt);
		CHECK(strcasecmp(p->local, "postmaster") == 0);
	} else {
		CHECK(dl <= SMTP_DOMAIN_MAX);
		CHECK(p->domain[dl - 1] != '.');
		CHECK(p->domain_literal == (p->domain[0] == '['));
		CHECK(al == ll + 1 + dl);
		CHECK(memcmp(p->addr, p->local, ll) == 0 && p->addr[ll] == '@');
		CHECK(strncasecmp(p->addr + ll + 1, p->domain, dl) == 0);
	}
}

static void parse_mail(struct span arg)
{
	struct smtp_path path;
	struct smtp_mail_params prm;
	struct err e;
	const uint64_t max = 1000000;
	int rc = smtp_parse_mail(arg, max, &path, &prm, &e);
	check_err(rc, &e);
	if (rc == 0) {
		check_path(&path, false);
		CHECK(!prm.has_size || prm.size <= max);
		CHECK(prm.body <= SMTP_BODY_BINARYMIME);
	}
}

static void parse_rcpt(struct span arg)
{
	struct smtp_path path;
	struct smtp_rcpt_params dsn;
	struct err e;
	int rc = smtp_parse_rcpt(arg, &path, NULL, &e);
	check_err(rc, &e);
	if (rc == 0)
		check_path(&path, true);
	/* with DSN's NOTIFY and ORCPT allowed */
	rc = smtp_parse_rcpt(arg, &path, &dsn, &e);
	check_err(rc, &e);
	if (rc == 0) {
		check_path(&path, true);
		CHECK(strlen(dsn.orcpt) <= SMTP_ORCPT_MAX);
		CHECK((dsn.notify & SMTP_NOTIFY_NEVER) == 0 ||
		      dsn.notify == SMTP_NOTIFY_NEVER);
		for (const char *c = dsn.orcpt; *c; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	}
}

static void parse_bdat(struct span arg)
{
	uint64_t size;
	bool last;
	struct err e;
	int rc = smtp_parse_bdat(arg, &size, &last, &e);
	check_err(rc, &e);
	if (rc == 0)
		CHECK(arg.len > 0 && arg.p[0] >= '0' && arg.p[0] <= '9');
}

static void parse_helo(struct span arg)
{
	char out[SMTP_DOMAIN_MAX + 1];
	struct err e;
	int rc = smtp_parse_helo(arg, out, sizeof out, &e);
	check_err(rc, &e);
	if (rc == 0) {
		CHECK(bounded_strlen(out, sizeof out) == arg.len);
		CHECK(memcmp(out, arg.p, arg.len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span line = span_make(data, size);
	struct smtp_cmd cmd;
	struct err e;
	int rc = smtp_cmd_parse(line, &cmd, &e);
	check_err(rc, &e);
	if (rc == 0) {
		/* arg is borrowed from the line, inside it */
		CHECK(cmd.arg.len <= size);
		CHECK(cmd.arg.len == 0 ||
		      (cmd.arg.p >= data && cmd.arg.p + cmd.arg.len <= data + size));
		CHECK(cmd.arg.len == 0 || (cmd.arg.p[cmd.arg.len - 1] != ' ' &&
					   cmd.arg.p[cmd.arg.len - 1] != '\t'));
		switch (cmd.verb) {
		case SMTP_VERB_MAIL: parse_mail(cmd.arg); break;
		case SMTP_VERB_RCPT: parse_rcpt(cmd.arg); break;
		case SMTP_VERB_BDAT: parse_bdat(cmd.arg); break;
		case SMTP_VERB_HELO:
		case SMTP_VERB_EHLO: parse_helo(cmd.arg); break;
		default: break;
		}
	}
	parse_mail(line);
	parse_rcpt(line);
	parse_bdat(line);
	parse_helo(line);
	return 0;
}
