/* test_facts_headers.c - filter facts from a message's trace fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "filter/facts_headers.h"

static void read_facts(const char *msg, struct filter_facts_hdr *fh,
		       struct filter_facts *f)
{
	memset(f, 0, sizeof(*f));
	filter_facts_from_headers(span_cstr(msg), fh, f);
}

static void test_petrel_stored(void **state)
{
	struct filter_facts_hdr fh;
	struct filter_facts f;

	(void)state;
	read_facts("Return-Path: <bob@Sender.test>\r\n"
		   "Received: from mail.sender.test ([192.0.2.7])\r\n"
		   "\tby mx.example.test (petrel) with ESMTPS id x.1;\r\n"
		   "\tThu, 26 Nov 2026 12:00:00 +0000\r\n"
		   "Authentication-Results: mx.example.test;\r\n"
		   " spf=softfail smtp.mailfrom=bob@sender.test;\r\n"
		   " dkim=fail header.d=sender.test; dkim=pass header.d=esp.test;\r\n"
		   " dmarc=fail (p=reject sp=none dis=reject) header.from=sender.test\r\n"
		   "Received-SPF: pass (other)\r\n"
		   "From: Bob <bob@sender.test>\r\n"
		   "Subject: x\r\n\r\nbody\r\n", &fh, &f);
	assert_true(f.have_ip);
	assert_int_equal(f.ip[10], 0xff);
	assert_int_equal(f.ip[12], 192);
	assert_int_equal(f.ip[15], 7);
	assert_string_equal(f.helo, "mail.sender.test");
	assert_null(f.rdns);	/* petreld did not look the name up */
	assert_string_equal(f.mail_from, "bob@sender.test");
	assert_string_equal(f.spf, "softfail");
	assert_string_equal(f.spf_domain, "sender.test");
	assert_string_equal(f.dkim, "pass");
	assert_int_equal(f.n_dkim_pass, 1);
	assert_string_equal(f.dkim_pass_domains[0], "esp.test");
	assert_string_equal(f.dmarc, "fail");
	assert_string_equal(f.dmarc_policy, "reject");
	assert_string_equal(f.from_domain, "sender.test");
}

static void test_local_hops_passed_over(void **state)
{
	struct filter_facts_hdr fh;
	struct filter_facts f;

	(void)state;
	read_facts("From sender@x.test Mon Apr  9 12:00:00 2007\n"
		   "Received: from localhost (localhost [127.0.0.1])\n"
		   "\tby box.local (Postfix) with ESMTP id 1;\n"
		   "Received: from gw (gw.lan [10.1.2.3]) by box.local;\n"
		   "Received: from relay.example (relay.example [IPv6:2001:db8::5])"
		   " by gw;\n"
		   "Received-SPF: Neutral (x)\n"
		   "From: a@b.test\n\nbody\n", &fh, &f);
	assert_true(f.have_ip);
	assert_int_equal(f.ip[0], 0x20);
	assert_int_equal(f.ip[15], 5);
	assert_string_equal(f.helo, "relay.example");
	assert_string_equal(f.spf, "neutral");
	assert_null(f.dmarc);
	assert_string_equal(f.from_domain, "b.test");
}

static void test_nothing_known(void **state)
{
	struct filter_facts_hdr fh;
	struct filter_facts f;

	(void)state;
	read_facts("Subject: no trace\r\n\r\nReceived: from x ([192.0.2.1])\r\n",
		   &fh, &f);
	assert_false(f.have_ip);
	assert_null(f.spf);
	assert_null(f.from_domain);
	read_facts("", &fh, &f);
	assert_false(f.have_ip);
	read_facts("Received: from x ([999.1.1.1]) by y\r\n"
		   "Received: by y from z ([192.0.2.9])\r\n"
		   "Authentication-Results: x; spf\r\n\r\n", &fh, &f);
	assert_false(f.have_ip);
	assert_null(f.spf);
}

/* The client's reverse name as each MTA writes it, and none. */
static void test_reverse_names(void **state)
{
	static const struct {
		const char *rcvd, *helo, *rdns;
	} cases[] = {
		/* Postfix; its "unknown" is no name, or none that leads back */
		{ "from mail.a.test (mx.a.test [192.0.2.7]) by mx.b.test",
		  "mail.a.test", "mx.a.test" },
		{ "from mail.a.test (unknown [192.0.2.7]) by mx.b.test",
		  "mail.a.test", "" },
		/* Sendmail: the address alone, an ident before the name */
		{ "from xent.com ([192.0.2.7]) by mx.b.test (8.11.6)",
		  "xent.com", "" },
		{ "from lugh.test (root@lugh.tuatha.test [192.0.2.7]) by x",
		  "lugh.test", "lugh.tuatha.test" },
		/* Exim and qmail: the name first, the greeting inside */
		{ "from c-7.dsl.test ([192.0.2.7] helo=Mail.A.test) by x",
		  "mail.a.test", "c-7.dsl.test" },
		{ "from [192.0.2.7] (helo=mail.a.test) by x", "mail.a.test", "" },
		/* petreld: "unknown" when it looked and found none */
		{ "from mail.a.test (unknown [192.0.2.7])\r\n\tby mx.b.test "
		  "(petrel) with ESMTP id x.1", "mail.a.test", "" },
		{ "from mail.a.test (mx.a.test [192.0.2.7])\r\n\tby mx.b.test "
		  "(petrel) with ESMTP id x.1", "mail.a.test", "mx.a.test" },
	};
	struct filter_facts_hdr fh;
	struct filter_facts f;
	char msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(msg, sizeof msg, "Received: %s; Tue, 1 May 2007 "
			 "10:00:00 +0000\r\nFrom: a@a.test\r\n\r\nhi\r\n",
			 cases[i].rcvd);
		read_facts(msg, &fh, &f);
		assert_true(f.have_ip);
		assert_string_equal(f.helo, cases[i].helo);
		assert_non_null(f.rdns);
		assert_string_equal(f.rdns, cases[i].rdns);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_petrel_stored),
		cmocka_unit_test(test_local_hops_passed_over),
		cmocka_unit_test(test_nothing_known),
		cmocka_unit_test(test_reverse_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
