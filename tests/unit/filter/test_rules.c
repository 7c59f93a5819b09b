/* test_rules.c - cmocka tests of the message rules (src/filter/rules*.c):
 * one crafted message per rule, what must not fire (lists, old archived
 * mail, the sender's own click tracking), configuration, and bad input:
 * 100,000 URLs, 10 MB of one word, pathological HTML, broken charsets,
 * a zip bomb, a ZIP directory of 100,000 entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "filter/fraud.h"
#include "filter/lookalike.h"
#include "filter/rules.h"
#include "rules_test_util.h"

static struct filter_weights *weights;

#define RCVD "Received: from mx.sender.example (mx.sender.example " \
	"[192.0.2.1]) by mx.petrel.test; Tue, 1 May 2007 10:00:00 +0000\r\n"
#define BASE_HDR RCVD \
	"From: Alice <alice@sender.example>\r\n" \
	"To: bob@petrel.test\r\n" \
	"Subject: Lunch on Friday\r\n" \
	"Date: Tue, 1 May 2007 09:59:00 +0000\r\n" \
	"Message-ID: <1@sender.example>\r\n"

static void run_conf(const char *msg, size_t len,
		     const struct filter_facts *f,
		     const struct filter_rules_conf *conf, struct filter_syms *s)
{
	struct filter_tokens t;

	filter_tokenize(span_make(msg, len), &t);
	filter_syms_init(s);
	filter_rules_run(conf, span_make(msg, len), &t, f, weights, s);
	filter_tokens_free(&t);
}

static void run(const char *msg, const struct filter_facts *f,
		struct filter_syms *s)
{
	run_conf(msg, strlen(msg), f, NULL, s);
}

static char *names(const struct filter_syms *s)
{
	static char all[2048];
	size_t o = 0;

	all[0] = '\0';
	for (size_t i = 0; i < s->n && o < sizeof all - 64; i++)
		o += (size_t)snprintf(all + o, sizeof all - o, "%s(%s) ",
				      s->v[i].name, s->v[i].detail);
	return all;
}

static void expect(const struct filter_syms *s, const char *name)
{
	if (!filter_syms_has(s, name))
		fail_msg("%s did not fire; fired: %s", name, names(s));
}

static void expect_not(const struct filter_syms *s, const char *name)
{
	if (filter_syms_has(s, name))
		fail_msg("%s fired: %s", name, names(s));
}

static void expect_msg(const char *msg, const char *name)
{
	struct filter_syms s;

	run(msg, NULL, &s);
	expect(&s, name);
}

static void expect_msg_not(const char *msg, const char *name)
{
	struct filter_syms s;

	run(msg, NULL, &s);
	expect_not(&s, name);
}

/* Messages of header fields before, one of vals, after (after RCVD, with
 * a body): name fires on every one, or on none. */
static void expect_each(const char *before, const char *const *vals,
			size_t n, const char *after, const char *name,
			bool fires)
{
	for (size_t i = 0; i < n; i++) {
		char m[1024];
		snprintf(m, sizeof m, RCVD "%s%s%s\r\nhi\r\n", before, vals[i],
			 after);
		if (fires)
			expect_msg(m, name);
		else
			expect_msg_not(m, name);
	}
}

static void test_clean(void **state)
{
	struct filter_syms s;

	(void)state;
	run(BASE_HDR "\r\nSee you at noon.\r\n", NULL, &s);
	if (s.n != 0)
		fail_msg("a plain message fired: %s", names(&s));
	assert_true(s.total == 0);
}

static void test_auth(void **state)
{
	struct filter_facts f;
	struct filter_syms s;
	const char *msg = BASE_HDR "\r\nhi\r\n";
	static const struct {
		const char *spf, *dkim, *dmarc, *policy, *want;
	} cases[] = {
		{ "fail", NULL, NULL, NULL, "SPF_FAIL" },
		{ "softfail", NULL, NULL, NULL, "SPF_SOFTFAIL" },
		{ "none", NULL, NULL, NULL, "SPF_NONE" },
		{ "permerror", NULL, NULL, NULL, "SPF_PERMERROR" },
		{ "pass", NULL, NULL, NULL, "SPF_PASS" },
		{ NULL, "fail", NULL, NULL, "DKIM_FAIL" },
		{ NULL, "permerror", NULL, NULL, "DKIM_FAIL" },
		{ NULL, "none", NULL, NULL, "DKIM_NONE" },
		{ NULL, "pass", NULL, NULL, "DKIM_PASS" },
		{ NULL, NULL, "fail", "reject", "DMARC_REJECT" },
		{ NULL, NULL, "fail", "quarantine", "DMARC_QUARANTINE" },
		{ NULL, NULL, "fail", "none", "DMARC_FAIL" },
		{ NULL, NULL, "fail", NULL, "DMARC_FAIL" },
		{ NULL, NULL, "pass", "reject", "DMARC_PASS" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&f, 0, sizeof f);
		f.spf = cases[i].spf;
		f.spf_domain = "sender.example";
		f.dkim = cases[i].dkim;
		f.dmarc = cases[i].dmarc;
		f.dmarc_policy = cases[i].policy;
		run(msg, &f, &s);
		expect(&s, cases[i].want);
		assert_int_equal(s.n, 1);
	}
	/* unknown and temporary results say nothing */
	memset(&f, 0, sizeof f);
	f.spf = "temperror";
	f.dkim = "temperror";
	f.dmarc = "temperror";
	run(msg, &f, &s);
	assert_int_equal(s.n, 0);
	run(msg, NULL, &s);
	assert_int_equal(s.n, 0);
	/* passes are small negatives, failures positive */
	assert_true(filter_weight(weights, "SPF_PASS") < 0);
	assert_true(filter_weight(weights, "DMARC_PASS") < 0);
	assert_true(filter_weight(weights, "DMARC_REJECT") >
		    filter_weight(weights, "DMARC_QUARANTINE"));
	/* the half weight of a DKIM permerror */
	memset(&f, 0, sizeof f);
	f.dkim = "permerror";
	run(msg, &f, &s);
	assert_true(s.total == filter_weight(weights, "DKIM_FAIL") / 2);
}

static void test_date(void **state)
{
	struct filter_facts f;
	struct filter_syms s;

	(void)state;
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Subject: x y\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n",
		   "DATE_MISSING");
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Date: yesterday at noon\r\nSubject: x\r\n"
		   "Message-ID: <1@x>\r\n\r\nhi\r\n", "DATE_INVALID");
	/* judged against the newest Received, not the clock */
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Date: Sat, 1 Sep 2007 10:00:00 +0000\r\nSubject: x\r\n"
		   "Message-ID: <1@x>\r\n\r\nhi\r\n", "DATE_FUTURE");
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Date: Mon, 1 Jan 2007 10:00:00 +0000\r\nSubject: x\r\n"
		   "Message-ID: <1@x>\r\n\r\nhi\r\n", "DATE_PAST");
	/* a time zone off by hours is not the future */
	expect_msg_not(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		       "Date: Tue, 1 May 2007 09:59:00 -1100\r\nSubject: x\r\n"
		       "Message-ID: <1@x>\r\n\r\nhi\r\n", "DATE_FUTURE");
	/* no Received: an archived message is not old by today's clock,
	 * but a Date after today is in the future */
	const char *old = "From: a@sender.example\r\nTo: b@petrel.test\r\n"
			  "Date: Tue, 1 May 2007 09:59:00 +0000\r\n"
			  "Subject: x\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n";
	memset(&f, 0, sizeof f);
	f.now = time(NULL);
	run(old, &f, &s);
	expect_not(&s, "DATE_PAST");
	f.now = 1000000000;	/* 2001 */
	run(old, &f, &s);
	expect(&s, "DATE_FUTURE");
	/* a zone that does not exist: no zone is west of -1200 or east of
	 * +1400; the time it gives is not judged */
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Date: Sun, 04 Aug 2002 16:01:24 -1900\r\nSubject: x\r\n"
		   "Message-ID: <1@x>\r\n\r\nhi\r\n", "DATE_ZONE_BAD");
	expect_msg_not(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		       "Date: Sun, 04 Aug 2002 16:01:24 -1900\r\nSubject: x\r\n"
		       "Message-ID: <1@x>\r\n\r\nhi\r\n", "DATE_PAST");
	static const char *const zones[] = { "+1400", "-1200", "+0545",
					     "-0930", "+0000" };
	expect_each("From: a@sender.example\r\nTo: b@petrel.test\r\n"
		    "Subject: x\r\nDate: Tue, 1 May 2007 09:59:00 ", zones,
		    sizeof zones / sizeof zones[0],
		    "\r\nMessage-ID: <1@x>\r\n", "DATE_ZONE_BAD", false);
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Date: Tue, 1 May 2007 09:59:00 +1500\r\nSubject: x\r\n"
		   "Message-ID: <1@x>\r\n\r\nhi\r\n", "DATE_ZONE_BAD");
}

static void test_msgid(void **state)
{
	(void)state;
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Subject: x\r\nDate: Tue, 1 May 2007 09:59:00 +0000\r\n"
		   "\r\nhi\r\n", "MSGID_MISSING");
	static const char *const bad[] = {
		"<nodomain>", "no-brackets@x", "<a@b@c>", "<@x>", "<a@>",
		"<a b@c>", "",
	};
	expect_each("From: a@sender.example\r\nTo: b@petrel.test\r\n"
		    "Subject: x\r\nDate: Tue, 1 May 2007 09:59:00 +0000\r\n"
		    "Message-ID: ", bad, sizeof bad / sizeof bad[0], "\r\n",
		    "MSGID_INVALID", true);
	expect_msg_not(BASE_HDR "\r\nhi\r\n", "MSGID_INVALID");
}

static void test_addresses(void **state)
{
	(void)state;
	expect_msg(RCVD "To: b@petrel.test\r\nSubject: x\r\n\r\nhi\r\n",
		   "FROM_MISSING");
	expect_msg(RCVD "From: a@sender.example\r\nSubject: x\r\n\r\nhi\r\n",
		   "TO_MISSING");
	expect_msg_not(RCVD "From: a@sender.example\r\nCc: c@petrel.test\r\n"
		       "Subject: x\r\n\r\nhi\r\n", "TO_MISSING");
	expect_msg_not(RCVD "From: a@sender.example\r\nList-Id: <l.x>\r\n"
		       "Subject: x\r\n\r\nhi\r\n", "TO_MISSING");
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Subject: FREE MONEY FOR YOU NOW\r\n\r\nhi\r\n",
		   "SUBJECT_CAPS");
	expect_msg_not(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		       "Subject: FYI NASA\r\n\r\nhi\r\n", "SUBJECT_CAPS");
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "\r\nhi\r\n", "SUBJECT_MISSING");
	/* the advertisement label, in any case, encoded or not */
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Subject: ADV: buyers sellers agents\r\n\r\nhi\r\n",
		   "SUBJECT_ADV");
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Subject: =?us-ascii?Q?Adv_=3A_cheap_toner?=\r\n\r\nhi\r\n",
		   "SUBJECT_ADV");
	expect_msg_not(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		       "Subject: Advice: how to file\r\n\r\nhi\r\n",
		       "SUBJECT_ADV");
	expect_msg_not(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		       "Subject: Re: ADV: seen this?\r\n\r\nhi\r\n",
		       "SUBJECT_ADV");
	/* a tag pushed out of sight by blanks */
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Subject: Herbal Viagra 30 day trial....            OV\r\n"
		   "\r\nhi\r\n", "SUBJECT_PADDED");
	expect_msg(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		   "Subject: Your quote\t\t\t\t\t\t\t\t19283\r\n"
		   "\r\nhi\r\n", "SUBJECT_PADDED");
	/* folding indents as deep as it likes; trailing blanks hide
	 * nothing */
	expect_msg_not(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		       "Subject: Minutes of the meeting on the budget for\r\n"
		       "                 next year\r\n\r\nhi\r\n",
		       "SUBJECT_PADDED");
	expect_msg_not(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
		       "Subject:          Lunch   on Friday            \r\n"
		       "\r\nhi\r\n", "SUBJECT_PADDED");
	/* the display name shows somebody else's address */
	expect_msg(RCVD "From: \"service@paypal.com\" <x@evil.example>\r\n"
		   "To: b@petrel.test\r\nSubject: x\r\n\r\nhi\r\n",
		   "FROM_NAME_ADDR");
	expect_msg_not(RCVD "From: \"alice@mail.sender.example\" "
		       "<alice@sender.example>\r\nTo: b@petrel.test\r\n"
		       "Subject: x\r\n\r\nhi\r\n", "FROM_NAME_ADDR");
}

static void test_reply_return(void **state)
{
	struct filter_facts f;
	struct filter_syms s;

	(void)state;
	expect_msg(BASE_HDR "Reply-To: claims@gmail.com\r\n\r\nhi\r\n",
		   "REPLYTO_FREEMAIL");
	expect_msg(BASE_HDR "Reply-To: a@other.example\r\n\r\nhi\r\n",
		   "REPLYTO_DIFF");
	expect_msg_not(BASE_HDR "Reply-To: a@lists.sender.example\r\n"
		       "\r\nhi\r\n", "REPLYTO_DIFF");
	/* free mail replying to free mail is a person, not a trick */
	expect_msg_not(RCVD "From: a@yahoo.com\r\nTo: b@petrel.test\r\n"
		       "Reply-To: a@gmail.com\r\nSubject: x\r\n\r\nhi\r\n",
		       "REPLYTO_FREEMAIL");
	/* lists reply elsewhere and bounce elsewhere by design */
	expect_msg_not(BASE_HDR "Reply-To: list@gmail.com\r\n"
		       "List-Unsubscribe: <mailto:u@x>\r\n\r\nhi\r\n",
		       "REPLYTO_FREEMAIL");
	expect_msg("Return-Path: <bounce@other.example>\r\n" BASE_HDR
		   "\r\nhi\r\n", "RETURNPATH_DIFF");
	expect_msg_not("Return-Path: <bounce@other.example>\r\n" BASE_HDR
		       "Precedence: bulk\r\n\r\nhi\r\n", "RETURNPATH_DIFF");
	/* the SMTP envelope wins over the header */
	memset(&f, 0, sizeof f);
	f.mail_from = "bounce@mail.sender.example";
	run("Return-Path: <bounce@other.example>\r\n" BASE_HDR "\r\nhi\r\n",
	    &f, &s);
	expect_not(&s, "RETURNPATH_DIFF");
	f.mail_from = "x@third.example";
	run(BASE_HDR "\r\nhi\r\n", &f, &s);
	expect(&s, "RETURNPATH_DIFF");
	f.mail_from = "";	/* the null sender: bounces */
	run(BASE_HDR "\r\nhi\r\n", &f, &s);
	expect_not(&s, "RETURNPATH_DIFF");
}

static void test_received(void **state)
{
	struct filter_facts f;
	struct filter_syms s;
	struct filter_rules_conf conf = { .host_name = "mx.petrel.test" };
	const char *msg = BASE_HDR "\r\nhi\r\n";

	(void)state;
	memset(&f, 0, sizeof f);
	f.helo = "MX.petrel.test";
	run_conf(msg, strlen(msg), &f, &conf, &s);
	expect(&s, "HELO_OURS");
	f.internal = true;
	run_conf(msg, strlen(msg), &f, &conf, &s);
	expect_not(&s, "HELO_OURS");
	/* an address literal that is not the client */
	memset(&f, 0, sizeof f);
	f.have_ip = true;
	memcpy(f.ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01", 16);
	f.helo = "[192.0.2.9]";
	run(msg, &f, &s);
	expect(&s, "HELO_IP_MISMATCH");
	f.helo = "[192.0.2.1]";
	run(msg, &f, &s);
	expect_not(&s, "HELO_IP_MISMATCH");
	f.helo = "[IPv6:2001:db8::1]";
	run(msg, &f, &s);
	expect(&s, "HELO_IP_MISMATCH");

	expect_msg("Received: from x ([300.1.2.3]) by y; Tue, 1 May 2007 "
		   "10:00:00 +0000\r\n" BASE_HDR "\r\nhi\r\n", "RCVD_BAD_IP");
	expect_msg_not("Received: from x ([10.1.2.3]) by y; Tue, 1 May 2007 "
		       "10:00:00 +0000\r\n" BASE_HDR "\r\nhi\r\n",
		       "RCVD_BAD_IP");
	/* a free mail provider's name from someone else's host, in the
	 * Postfix and Sendmail form (greeting first), Exim's (helo=) and
	 * qmail's (HELO) */
	expect_msg("Received: from mx1.mail.yahoo.com (ACBEEEF9.ipt.aol.com "
		   "[172.190.238.249]) by mail.cks; Tue, 1 May 2007 10:00:00 "
		   "+0000\r\n" BASE_HDR "\r\nhi\r\n", "RCVD_HELO_FORGED");
	expect_msg("Received: from host-7.dsl.example.net ([198.51.100.7] "
		   "helo=smtp.hotmail.com) by mx.sender.example; Tue, 1 May "
		   "2007 10:00:00 +0000\r\n" BASE_HDR "\r\nhi\r\n",
		   "RCVD_HELO_FORGED");
	expect_msg("Received: from pool-9.example.net (HELO mail.gmail.com) "
		   "(198.51.100.9) by mx.sender.example; Tue, 1 May 2007 "
		   "10:00:00 +0000\r\n" BASE_HDR "\r\nhi\r\n",
		   "RCVD_HELO_FORGED");
	/* the provider's own servers under its other names; no reverse
	 * name; a greeting that is not a provider's */
	static const char *const honest[] = {
		"from mail-wr1-f54.google.com (mail-wr1-f54.google.com "
		"[209.85.221.54])",
		"from mail-yw0-f44.googlemail.com (mail-yw0-f44.google.com "
		"[209.85.211.44])",
		"from EUR05-DB8-obe.outbound.protection.outlook.com (mail-db8"
		"eur05olkn2087.outbound.protection.outlook.com [40.92.89.87])",
		"from bay0-omc1-s10.bay0.hotmail.com (bay0-omc1-s10.bay0."
		"hotmail.com [65.54.246.146])",
		"from smtp.yahoo.com (unknown [198.51.100.9])",
		"from smtp.yahoo.com ([198.51.100.9])",
		"from smtp.yahoo.com (198.51.100.9 [198.51.100.9])",
		"from mx.sender.example (host-7.dsl.example.net "
		"[198.51.100.7])",
	};
	for (size_t i = 0; i < sizeof honest / sizeof honest[0]; i++) {
		char m[1024];
		snprintf(m, sizeof m, "Received: %s by mx.petrel.test; Tue, 1 "
			 "May 2007 10:00:00 +0000\r\n" BASE_HDR "\r\nhi\r\n",
			 honest[i]);
		expect_msg_not(m, "RCVD_HELO_FORGED");
	}
	/* the older hop is dated days after the newer one */
	expect_msg(RCVD "Received: from a by mx.sender.example; Fri, 4 May "
		   "2007 10:00:00 +0000\r\n" BASE_HDR "\r\nhi\r\n",
		   "RCVD_DATE_ORDER");
	expect_msg_not(RCVD "Received: from a by mx.sender.example; Tue, 1 May "
		       "2007 12:00:00 +0200\r\n" BASE_HDR "\r\nhi\r\n",
		       "RCVD_DATE_ORDER");
	/* below an outside hop, a field claiming our server forges an
	 * internal path */
	const char *forged = "Received: from a by mx.sender.example; Tue, 1 "
			     "May 2007 10:00:00 +0000\r\nReceived: from laptop"
			     " by mx.petrel.test; Tue, 1 May 2007 09:59:30 "
			     "+0000\r\nFrom: a@sender.example\r\nTo: "
			     "b@petrel.test\r\n\r\nhi\r\n";
	memset(&f, 0, sizeof f);
	run_conf(forged, strlen(forged), &f, &conf, &s);
	expect(&s, "RCVD_FORGED_OURS");
	/* our own fields on top are ours */
	const char *ours = "Received: from mx.sender.example by mx.petrel.test;"
			   " Tue, 1 May 2007 10:00:01 +0000\r\n"
			   "Received: from laptop by mx.sender.example; Tue, 1 "
			   "May 2007 09:59:30 +0000\r\nFrom: a@sender.example\r\n"
			   "To: b@petrel.test\r\n\r\nhi\r\n";
	run_conf(ours, strlen(ours), &f, &conf, &s);
	expect_not(&s, "RCVD_FORGED_OURS");
	run(forged, &f, &s);	/* no host name configured: not checked */
	expect_not(&s, "RCVD_FORGED_OURS");
}

/* A message with one base64 attachment. */
static char *with_attachment(const char *name, const void *data, size_t len,
			     size_t *len_out)
{
	struct buf b;

	buf_init(&b, 64u * 1024 * 1024);
	const char *h = BASE_HDR "MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
		"--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
		"--b1\r\nContent-Type: application/octet-stream\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"Content-Disposition: attachment; filename=\"";
	tz_put(&b, h, strlen(h));
	tz_put(&b, name, strlen(name));
	tz_put(&b, "\"\r\n\r\n", 5);
	tb64(&b, data, len);
	tz_put(&b, "--b1--\r\n\0", 9);
	*len_out = b.len - 1;
	return (char *)b.data;
}

static void attach(const char *name, const void *data, size_t len,
		   const struct filter_rules_conf *conf, struct filter_syms *s)
{
	size_t n;
	char *m = with_attachment(name, data, len, &n);

	run_conf(m, n, NULL, conf, s);
	free(m);
}

static void expect_attach(const char *name, const char *sym)
{
	struct filter_syms s;

	attach(name, "hello", 5, NULL, &s);
	expect(&s, sym);
}

static void test_attach_names(void **state)
{
	struct filter_syms s;

	(void)state;
	static const char *const bad[] = {
		"setup.exe", "Invoice.SCR", "a.js", "b.vbs", "c.hta", "d.ps1",
		"e.lnk", "f.iso", "g.img", "h.msi", "i.jar", "j.bat", "k.cmd",
		"l.wsf", "run.exe. ", "m.jse", "n.pif", "o.com",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_attach(bad[i], "ATTACH_EXECUTABLE");
	expect_attach("invoice.pdf.exe", "ATTACH_DOUBLE_EXT");
	expect_attach("invoice.pdf          .exe", "ATTACH_DOUBLE_EXT");
	expect_attach("invoice\xe2\x80\xae" "fdp.exe", "ATTACH_DOUBLE_EXT");
	expect_attach("report.docm", "ATTACH_MACRO");
	expect_attach("budget.XLSM", "ATTACH_MACRO");
	attach("report.pdf", "hello", 5, NULL, &s);
	assert_int_equal(s.n, 0);
	attach("v1.2.tar.gz", "hello", 5, NULL, &s);
	assert_int_equal(s.n, 0);
	/* the admin's extra extensions */
	static const char *const extra[] = { "xyz" };
	struct filter_rules_conf conf = { .extra_exts = extra,
					  .n_extra_exts = 1 };
	attach("tool.xyz", "hello", 5, &conf, &s);
	expect(&s, "ATTACH_EXECUTABLE");
	attach("tool.xyz", "hello", 5, NULL, &s);
	expect_not(&s, "ATTACH_EXECUTABLE");
}

static void test_attach_content(void **state)
{
	struct filter_syms s;
	unsigned char pe[512] = { 'M', 'Z' };
	unsigned char ole[4096] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1,
				    0x1a, 0xe1 };

	(void)state;
	pe[0x3c] = 0x80;
	memcpy(pe + 0x80, "PE\0\0", 4);
	attach("photo.jpg", pe, sizeof pe, NULL, &s);
	expect(&s, "ATTACH_EXECUTABLE");
	pe[0x81] = 'X';	/* MZ alone is not a program */
	attach("photo.jpg", pe, sizeof pe, NULL, &s);
	expect_not(&s, "ATTACH_EXECUTABLE");
	const char *vba = "_VBA_PROJECT";
	for (size_t i = 0; vba[i]; i++)
		ole[2000 + 2 * i] = (unsigned char)vba[i];
	attach("report.doc", ole, sizeof ole, NULL, &s);
	expect(&s, "ATTACH_MACRO");
	ole[2000] = 'X';
	attach("report.doc", ole, sizeof ole, NULL, &s);
	expect_not(&s, "ATTACH_MACRO");
}

static void zip_attach(const struct tzip_entry *e, size_t n,
		       struct filter_syms *s)
{
	struct buf z;

	buf_init(&z, 64u * 1024 * 1024);
	tzip_build(&z, e, n, "a comment");
	attach("files.zip", z.data, z.len, NULL, s);
	buf_release(&z);
}

static void test_zip(void **state)
{
	struct filter_syms s;

	(void)state;
	struct tzip_entry exe[] = {
		{ "readme.txt", false, 10, 20 },
		{ "docs/Invoice.PDF.exe", false, 100, 200 },
	};
	zip_attach(exe, 2, &s);
	expect(&s, "ARCHIVE_EXECUTABLE");
	expect_not(&s, "ARCHIVE_NESTED");
	struct tzip_entry nested[] = { { "inner.zip", false, 10, 10 } };
	zip_attach(nested, 1, &s);
	expect(&s, "ARCHIVE_NESTED");
	struct tzip_entry enc[] = { { "a.txt", true, 10, 10 } };
	zip_attach(enc, 1, &s);
	expect(&s, "ARCHIVE_ENCRYPTED");
	/* claims 4 GB from 4 MB: a bomb, costs one directory entry */
	struct tzip_entry bomb[] = { { "big.txt", false, 4000000, 0xfffffff0u } };
	zip_attach(bomb, 1, &s);
	expect(&s, "ARCHIVE_BOMB");
	struct tzip_entry docx[] = {
		{ "[Content_Types].xml", false, 10, 10 },
		{ "word/document.xml", false, 10, 10 },
		{ "word/vbaProject.bin", false, 10, 10 },
	};
	zip_attach(docx, 3, &s);
	expect(&s, "ATTACH_MACRO");
	struct tzip_entry fine[] = {
		{ "a/", false, 0, 0 }, { "a/photo.jpg", false, 10, 12 },
	};
	zip_attach(fine, 2, &s);
	assert_int_equal(s.n, 0);
}

static void test_zip_many_entries(void **state)
{
	struct filter_syms s;
	size_t n = 100000;
	struct tzip_entry *e = calloc(n, sizeof *e);
	char (*names_)[16] = calloc(n, 16);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		snprintf(names_[i], 16, "f%zu.txt", i);
		e[i].name = names_[i];
	}
	e[n - 1].name = "last.exe";
	clock_t t0 = clock();
	zip_attach(e, n, &s);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	expect(&s, "ARCHIVE_OVERSIZE");
	assert_true(secs < 5);
	/* the first entries are still read when the directory fits */
	n = FILTER_ZIP_MAX_ENTRIES + 10;
	e[0].name = "first.exe";
	zip_attach(e, n, &s);
	expect(&s, "ARCHIVE_OVERSIZE");
	expect(&s, "ARCHIVE_EXECUTABLE");
	free(e);
	free(names_);
}

static void test_urls(void **state)
{
	(void)state;
	expect_msg(BASE_HDR "\r\nhttp://192.0.2.7/login\r\n", "URL_IP");
	expect_msg(BASE_HDR "\r\nhttp://3221225994/login\r\n",
		   "URL_IP_OBFUSCATED");
	expect_msg(BASE_HDR "\r\nhttp://www.bank.example@evil.example/\r\n",
		   "URL_USERINFO");
	expect_msg(BASE_HDR "\r\nhttps://bit.ly/abc\r\n", "URL_SHORTENER");
	expect_msg(BASE_HDR "\r\nhttp://shop.example:8081/\r\n", "URL_PORT");
	expect_msg_not(BASE_HDR "\r\nhttps://www.sender.example/a\r\n",
		       "URL_IP");
	struct buf b;
	buf_init(&b, 1 << 20);
	tz_put(&b, BASE_HDR "\r\n", strlen(BASE_HDR) + 2);
	for (int i = 0; i < 30; i++) {
		char u[64];
		int n = snprintf(u, sizeof u, "http://site%d.example/\r\n", i);
		tz_put(&b, u, (size_t)n);
	}
	tz_put(&b, "", 1);
	expect_msg((const char *)b.data, "URL_MANY_DOMAINS");
	buf_release(&b);
}

#define HTML_HDR BASE_HDR "MIME-Version: 1.0\r\n" \
	"Content-Type: text/html; charset=utf-8\r\n\r\n"

static void test_link_mismatch(void **state)
{
	struct filter_facts f;
	struct filter_syms s;

	(void)state;
	expect_msg(HTML_HDR "<a href=\"http://evil.example/x\">"
		   "https://www.paypal.com/signin</a>", "PHISH_LINK_MISMATCH");
	expect_msg(HTML_HDR "<a href=\"http://evil.example/x\">www.paypal.com"
		   "</a>", "PHISH_LINK_MISMATCH");
	expect_msg(HTML_HDR "<a href=\"http://192.0.2.7/x\">paypal.com</a>",
		   "PHISH_LINK_MISMATCH");
	/* same registrable domain, words, file names: fine */
	expect_msg_not(HTML_HDR "<a href=\"https://login.paypal.com/x\">"
		       "www.paypal.com</a>", "PHISH_LINK_MISMATCH");
	expect_msg_not(HTML_HDR "<a href=\"http://evil.example/x\">Click here"
		       "</a>", "PHISH_LINK_MISMATCH");
	expect_msg_not(HTML_HDR "<a href=\"http://files.example/r.pdf\">"
		       "report.pdf</a>", "PHISH_LINK_MISMATCH");
	expect_msg_not(HTML_HDR "<a href=\"mailto:a@b.example\">www.c.example"
		       "</a>", "PHISH_LINK_MISMATCH");
	/* the sender's own tracker: its envelope domain or a DKIM signer */
	const char *tracked = HTML_HDR "<a href=\"http://click.esp.example/"
			      "r?1\">www.sender-shop.example</a>";
	memset(&f, 0, sizeof f);
	f.mail_from = "bounce-1@esp.example";
	run(tracked, &f, &s);
	expect_not(&s, "PHISH_LINK_MISMATCH");
	const char *const signers[] = { "mail.esp.example" };
	memset(&f, 0, sizeof f);
	f.dkim_pass_domains = signers;
	f.n_dkim_pass = 1;
	run(tracked, &f, &s);
	expect_not(&s, "PHISH_LINK_MISMATCH");
	run(tracked, NULL, &s);
	expect(&s, "PHISH_LINK_MISMATCH");
	/* half weight in list mail */
	const char *list = BASE_HDR "List-Id: <news.x>\r\nMIME-Version: 1.0\r\n"
			   "Content-Type: text/html\r\n\r\n<a href=\"http://"
			   "evil.example/\">www.paypal.com</a>";
	run(list, NULL, &s);
	assert_true(s.total == filter_weight(weights, "PHISH_LINK_MISMATCH") / 2);
}

static void test_forms(void **state)
{
	struct filter_syms s;

	(void)state;
	run(HTML_HDR "<p>Your mailbox is suspended. Verify now:</p><form "
	    "action=\"https://collect.example/p\" method=post>"
	    "<input name=u><input type=password name=p>"
	    "<input type=submit></form>", NULL, &s);
	expect(&s, "FORM_PASSWORD");
	expect(&s, "FORM_EXTERNAL");
	expect(&s, "FORM_VERIFY_ACCOUNT");
	/* a search box is one input */
	run(HTML_HDR "<form action=\"http://search.example/\"><input "
	    "name=q></form> verify your password", NULL, &s);
	expect_not(&s, "FORM_EXTERNAL");
	expect_not(&s, "FORM_VERIFY_ACCOUNT");
	/* a form posting to the sender's own site */
	run(HTML_HDR "<form action=\"https://www.sender.example/survey\">"
	    "<input name=a><input type=email name=b></form>", NULL, &s);
	expect_not(&s, "FORM_EXTERNAL");
	/* in a comment or a script it is not a form */
	run(HTML_HDR "<!-- <input type=password> --><script>x='<input "
	    "type=password>'</script>", NULL, &s);
	expect_not(&s, "FORM_PASSWORD");
}

/* An advance-fee letter: three groups of its phrases, two the fraud's
 * own; ordinary business mail with the common ones alone, or two of the
 * fraud's own without a third, does not fire. */
static void test_advance_fee(void **state)
{
	struct filter_syms s;

	(void)state;
	assert_int_equal(fraud_table_ok(), 1);
	run(BASE_HDR "\r\nDear Sir,\r\n\r\nI am Barrister James Okon. "
	    "My late client left USD 15.5 Million United States Dollars;\r\n"
	    "as his next of kin you will receive 30%. Treat this in the\r\n"
	    "STRICTEST CONFIDENCE.\r\n", NULL, &s);
	expect(&s, "ADVANCE_FEE");
	assert_non_null(strstr(names(&s), "ADVANCE_FEE(secrecy next-of-kin "
				"deceased barrister millions greeting)"));
	/* the same in HTML, the phrase split by markup and a line break */
	run(HTML_HDR "<p>Dear Friend,</p><p>the <b>next</b> of\r\nkin of my "
	    "<i>deceased client</i> in Lagos</p>", NULL, &s);
	expect(&s, "ADVANCE_FEE");
	/* business mail: a fund transfer, a beneficiary, "dear sir" */
	expect_msg_not(BASE_HDR "\r\nDear Sir,\r\nthe fund transfer to the "
		       "beneficiary named in the central bank form is done."
		       "\r\n", "ADVANCE_FEE");
	/* news: two of the fraud's own groups and nothing else */
	expect_msg_not(BASE_HDR "\r\nThe diplomatic mission in Abuja "
		       "opened.\r\n", "ADVANCE_FEE");
	/* the words apart are not the phrases */
	expect_msg_not(BASE_HDR "\r\nDear Sir, next week the kin of the "
		       "client, late as usual, paid a million. Dollars "
		       "are strict.\r\n", "ADVANCE_FEE");
	/* a phrase does not run from one part into the next */
	expect_msg_not(BASE_HDR "MIME-Version: 1.0\r\nContent-Type: "
		       "multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n"
		       "Dear Sir, a note from Lagos on the next of"
		       "\r\n--b\r\n\r\nkin\r\n--b--\r\n", "ADVANCE_FEE");
	expect_msg(BASE_HDR "MIME-Version: 1.0\r\nContent-Type: "
		   "multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n"
		   "Dear Sir, a note from Lagos on the next of"
		   "\r\n--b\r\n\r\nkin next of kin\r\n--b--\r\n",
		   "ADVANCE_FEE");
	/* phrases in the Subject are not the body's */
	expect_msg_not(RCVD "From: a@sender.example\r\nSubject: next of kin"
		       " barrister strictest confidence\r\n\r\nhello\r\n",
		       "ADVANCE_FEE");
}

static void test_lookalike_imperson(void **state)
{
	struct lookalike_set *ls;
	struct imperson_set *is;
	struct err err;
	const char *prot[] = { "petrel.test", "paypal.com" };
	const char *hosted[] = { "petrel.test" };
	struct imperson_user users[] = {
		{ "Jane Smith", "ceo@petrel.test" },
	};
	struct filter_facts f;
	struct filter_syms s;

	(void)state;
	assert_int_equal(lookalike_set_new(prot, 2, NULL, 0, &ls, &err), 0);
	assert_int_equal(imperson_set_new(users, 1, hosted, 1, &is, &err), 0);
	memset(&f, 0, sizeof f);
	f.lookalike = ls;
	f.imperson = is;
	run(RCVD "From: Pay <service@paypa1.com>\r\nTo: b@petrel.test\r\n"
	    "Reply-To: x@petrel-test.com\r\n\r\nhttp://www.pet1el.test/login\r\n",
	    &f, &s);
	expect(&s, "FROM_LOOKALIKE");
	expect(&s, "URL_LOOKALIKE");
	run(RCVD "From: a@sender.example\r\nTo: b@petrel.test\r\n"
	    "Reply-To: x@petre1.test\r\n\r\nhi\r\n", &f, &s);
	expect(&s, "REPLYTO_LOOKALIKE");
	expect_not(&s, "FROM_LOOKALIKE");
	/* the CEO's name on an outside address */
	run(RCVD "From: \"Jane Smith\" <jane.smith.ceo@gmail.com>\r\n"
	    "To: b@petrel.test\r\nSubject: urgent wire\r\n\r\nhi\r\n", &f, &s);
	expect(&s, "FROM_IMPERSONATION");
	assert_true(s.total >= 5);
	run(RCVD "From: =?utf-8?q?Smith=2C_Jane?= <x@evil.example>\r\n"
	    "To: b@petrel.test\r\n\r\nhi\r\n", &f, &s);
	expect(&s, "FROM_IMPERSONATION");
	/* the CEO herself, and her name from inside */
	run(RCVD "From: \"Jane Smith\" <ceo@petrel.test>\r\nTo: b@petrel.test"
	    "\r\n\r\nhi\r\n", &f, &s);
	expect_not(&s, "FROM_IMPERSONATION");
	f.internal = true;
	run(RCVD "From: \"Jane Smith\" <jane@gmail.com>\r\nTo: b@petrel.test"
	    "\r\n\r\nhi\r\n", &f, &s);
	expect_not(&s, "FROM_IMPERSONATION");
	lookalike_set_free(&ls);
	imperson_set_free(&is);
}

static void test_html_flags(void **state)
{
	struct filter_syms s;

	(void)state;
	run(HTML_HDR "<p>hello</p><div style=\"display:none\">cheap pills"
	    "</div><font size=1>tiny words</font><p style=\"color:#fff;"
	    "background:#fff\">white</p>", NULL, &s);
	expect(&s, "HTML_HIDDEN");
	expect(&s, "HTML_TINY");
	expect(&s, "HTML_SAMECOLOR");
}

/* ----- bad input ---------------------------------------------------- */

static struct filter_syms bounded_syms;

static void bounded(const char *what, const char *msg, size_t len)
{
	struct filter_syms s;
	clock_t t0 = clock();

	run_conf(msg, len, NULL, NULL, &s);
	bounded_syms = s;
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (secs > 10)
		fail_msg("%s took %.1f s", what, secs);
	assert_true(s.n <= FILTER_SYMS_MAX);
}

static void test_bad_input(void **state)
{
	struct buf b;

	(void)state;
	/* 100,000 URLs */
	buf_init(&b, 64u * 1024 * 1024);
	tz_put(&b, BASE_HDR "\r\n", strlen(BASE_HDR) + 2);
	for (int i = 0; i < 100000; i++) {
		char u[64];
		int n = snprintf(u, sizeof u, "http://h%d.example/ ", i);
		tz_put(&b, u, (size_t)n);
	}
	bounded("100,000 URLs", (const char *)b.data, b.len);
	expect(&bounded_syms, "URL_MANY_DOMAINS");
	/* 10 MB of one word */
	buf_reset(&b);
	tz_put(&b, BASE_HDR "\r\n", strlen(BASE_HDR) + 2);
	for (int i = 0; i < 1000000; i++)
		tz_put(&b, "viagraviag", 10);
	bounded("10 MB of one word", (const char *)b.data, b.len);
	/* pathological HTML: open tags, unclosed quotes and comments,
	 * forms and links nested without end */
	buf_reset(&b);
	tz_put(&b, HTML_HDR, strlen(HTML_HDR));
	const char *nest = "<a href=\"http://x.example/\"><form action=\"//y"
			   ".example\"><input type=password><div style=\"";
	for (int i = 0; i < 200000; i++)
		tz_put(&b, nest, strlen(nest));
	tz_put(&b, "<!-- <a href='", 14);
	bounded("pathological HTML", (const char *)b.data, b.len);
	expect(&bounded_syms, "FORM_PASSWORD");
	/* broken charsets and encodings */
	buf_reset(&b);
	const char *cs = BASE_HDR "Subject: =?x-unknown?B?////?= =?utf-8?Q?"
		"=FF=FE?=\r\nMIME-Version: 1.0\r\nContent-Type: text/html; "
		"charset=\"utf-7\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"+ADw-a href+AD0-http://x.example+AD4-\xff\xfe\xc3\r\n!!!!====\r\n";
	tz_put(&b, cs, strlen(cs));
	bounded("broken charsets", (const char *)b.data, b.len);
	buf_release(&b);
	/* many parts, each a ZIP: the decode budget holds */
	buf_init(&b, 64u * 1024 * 1024);
	struct buf z;
	buf_init(&z, 1 << 20);
	struct tzip_entry e[] = { { "x.exe", true, 1, 0xffffffffu } };
	tzip_build(&z, e, 1, NULL);
	const char *mh = BASE_HDR "Content-Type: multipart/mixed; boundary=b"
			 "\r\n\r\n";
	tz_put(&b, mh, strlen(mh));
	for (int i = 0; i < 5000; i++) {
		const char *ph = "--b\r\nContent-Type: application/zip\r\n"
				 "Content-Transfer-Encoding: base64\r\n\r\n";
		tz_put(&b, ph, strlen(ph));
		tb64(&b, z.data, z.len);
	}
	bounded("5,000 ZIP parts", (const char *)b.data, b.len);
	expect(&bounded_syms, "ARCHIVE_EXECUTABLE");
	expect(&bounded_syms, "ARCHIVE_BOMB");
	expect(&bounded_syms, "ARCHIVE_ENCRYPTED");
	buf_release(&z);
	buf_release(&b);
}

static void test_names_declared(void **state)
{
	(void)state;
	/* every symbol the tests saw is in the table with a weight */
	static const char *const all[] = {
		"SPF_FAIL", "DMARC_REJECT", "DATE_FUTURE", "MSGID_INVALID",
		"HELO_OURS", "ATTACH_EXECUTABLE", "ARCHIVE_BOMB", "URL_IP",
		"PHISH_LINK_MISMATCH", "FORM_PASSWORD", "FROM_IMPERSONATION",
		"HTML_SAMECOLOR", "RCVD_FORGED_OURS", "ARCHIVE_OVERSIZE",
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		assert_true(filter_weight(weights, all[i]) != 0);
	/* one executable on its own reaches junk; a plain oddity does not */
	assert_true(filter_weight(weights, "ATTACH_EXECUTABLE") >= 5);
	assert_true(filter_weight(weights, "MSGID_MISSING") < 2);
}

static int setup(void **state)
{
	struct err err;

	(void)state;
	return filter_weights_new(NULL, &weights, &err);
}

static int teardown(void **state)
{
	(void)state;
	filter_weights_free(&weights);
	return 0;
}

/* The client's reverse name: none, or an access line's made from the
 * address; neither for local addresses, our own users or IPv6. */
static void test_rdns(void **state)
{
	static const unsigned char v4[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 24, 132, 246, 246 };
	static const unsigned char lan[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3 };
	static const unsigned char v6[16] = {
		0x20, 0x01, 0x0d, 0xb8, [15] = 0x18 };
	static const char *const dynamic[] = {
		"c-24-132-246-246.hsd1.example.net",
		"246.246.132.24.dyn.example.net",
		"ip024-132-246.cable.example.nl",
		"node246-246.a132-24.example.nl",
	};
	static const char *const named[] = {
		"mx.sender.example", "mail24.example.com",
		"smtp-132-1.example.com", "246.example.net",
	};
	const char *msg = BASE_HDR "\r\nhi\r\n";
	struct filter_facts f;
	struct filter_syms s;

	(void)state;
	memset(&f, 0, sizeof f);
	f.have_ip = true;
	memcpy(f.ip, v4, 16);
	f.rdns = "";
	run(msg, &f, &s);
	expect(&s, "RDNS_NONE");
	expect_not(&s, "RDNS_DYNAMIC");
	for (size_t i = 0; i < sizeof dynamic / sizeof dynamic[0]; i++) {
		f.rdns = dynamic[i];
		run(msg, &f, &s);
		expect(&s, "RDNS_DYNAMIC");
		expect_not(&s, "RDNS_NONE");
	}
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		f.rdns = named[i];
		run(msg, &f, &s);
		expect_not(&s, "RDNS_DYNAMIC");
		expect_not(&s, "RDNS_NONE");
	}
	f.rdns = NULL;			/* not known */
	run(msg, &f, &s);
	expect_not(&s, "RDNS_NONE");
	f.rdns = "";
	f.internal = true;		/* our own user */
	run(msg, &f, &s);
	expect_not(&s, "RDNS_NONE");
	f.internal = false;
	memcpy(f.ip, lan, 16);		/* a host of the LAN */
	run(msg, &f, &s);
	expect_not(&s, "RDNS_NONE");
	memcpy(f.ip, v6, 16);
	f.rdns = "24-132-246-246.example.net";
	run(msg, &f, &s);
	expect_not(&s, "RDNS_DYNAMIC");
}

/* What Outlook wrote beside its X-Mailer, and what a hand-made MIME
 * encoding gives away. */
static void test_mailer_mime(void **state)
{
	(void)state;
	static const char *const forged[] = {
		"X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n",
		"X-Mailer: Microsoft Outlook Express 5.50.4133.2400\r\n",
		"X-Mailer: Microsoft Outlook, Build 10.0.2616\r\n",
		"X-Mailer: Microsoft Outlook IMO, Build 9.0.2416 (9.0.2910.0)"
		"\r\n",
		"X-Mailer: Microsoft Office Outlook, Build 11.0.5510\r\n",
	};
	expect_each(BASE_HDR, forged, sizeof forged / sizeof forged[0], "",
		    "MUA_FORGED", true);
	/* the real thing names its MIME writer */
	expect_each(BASE_HDR "X-MimeOLE: Produced By Microsoft MimeOLE "
		    "V6.00.2600.0000\r\n", forged,
		    sizeof forged / sizeof forged[0], "", "MUA_FORGED", false);
	/* Outlook Express for the Macintosh, Outlook from 2007, other
	 * mailers: they never wrote X-MimeOLE */
	static const char *const others[] = {
		"X-Mailer: Microsoft Outlook Express Macintosh Edition - 4.5 "
		"(0410)\r\n",
		"X-Mailer: Microsoft Office Outlook 12.0\r\n",
		"X-Mailer: Microsoft Outlook 16.0\r\n",
		"X-Mailer: Apple Mail (2.3654)\r\n",
		"X-Mailer: Outlook\r\n",
		"X-Mailer: Microsoft Outlook Express 6\r\n",
	};
	expect_each(BASE_HDR, others, sizeof others / sizeof others[0], "",
		    "MUA_FORGED", false);
	/* with X-MimeOLE, but HTML alone where Outlook sent it beside a
	 * plain text copy */
	expect_each(BASE_HDR "X-MimeOLE: Produced By Microsoft MimeOLE "
		    "V6.00.2600.0000\r\n", forged,
		    sizeof forged / sizeof forged[0],
		    "MIME-Version: 1.0\r\nContent-Type: text/html\r\n",
		    "MUA_FORGED", true);
	expect_each(BASE_HDR "X-MimeOLE: Produced By Microsoft MimeOLE "
		    "V6.00.2600.0000\r\n", forged,
		    sizeof forged / sizeof forged[0],
		    "MIME-Version: 1.0\r\nContent-Type: multipart/alternative;"
		    " boundary=b\r\n", "MUA_FORGED", false);
	expect_each(BASE_HDR, others, sizeof others / sizeof others[0],
		    "MIME-Version: 1.0\r\nContent-Type: text/html\r\n",
		    "MUA_FORGED", false);

	/* a quoted-printable line over 76 characters, in any part */
	char line[200];
	memset(line, 'a', 77);
	line[77] = '\0';
	char m[1024];
	snprintf(m, sizeof m, BASE_HDR "MIME-Version: 1.0\r\n"
		 "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
		 "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
		 "--b\r\nContent-Type: text/html\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		 "<p>%s</p>\r\nmore\r\n--b--\r\n", line);
	expect_msg(m, "MIME_QP_LONG");
	/* 76 with the soft break's "=" is the most a line may have */
	memset(line, 'a', 75);
	line[75] = '=';
	line[76] = '\0';
	snprintf(m, sizeof m, BASE_HDR "MIME-Version: 1.0\r\n"
		 "Content-Type: text/plain\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		 "%s\r\n%s\r\nend\r\n", line, line);
	expect_msg_not(m, "MIME_QP_LONG");
	/* long lines in another encoding are no fault */
	memset(line, 'a', 150);
	line[150] = '\0';
	snprintf(m, sizeof m, BASE_HDR "MIME-Version: 1.0\r\n"
		 "Content-Type: text/plain\r\n"
		 "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\nend\r\n",
		 line);
	expect_msg_not(m, "MIME_QP_LONG");
}

/* A free mail From: the provider's servers must be somewhere in the
 * chain, unless a list resent it or a signature proves it. */
static void test_freemail_forged(void **state)
{
	static const char *const froms[] = {
		"From: Ann <ann1977@yahoo.com>\r\n",
		"From: bob@hotmail.com\r\n",
		"From: \"Carol\" <carol@gmail.com>\r\n",
	};
#define SPAMHOP "Received: from pc7 (dsl-9.example.net [192.0.2.9]) by " \
	"mx.petrel.test; Tue, 1 May 2007 10:00:00 +0000\r\n"
#define TAIL "To: b@petrel.test\r\nSubject: hello\r\n" \
	"Date: Tue, 1 May 2007 09:59:00 +0000\r\nMessage-ID: <1@x.example>\r\n"
	(void)state;
	char m[1024];
	for (size_t i = 0; i < sizeof froms / sizeof froms[0]; i++) {
		snprintf(m, sizeof m, SPAMHOP "%s" TAIL "\r\nhi\r\n",
			 froms[i]);
		expect_msg(m, "FROM_FREEMAIL_FORGED");
		/* the same through a list */
		snprintf(m, sizeof m, SPAMHOP "%sList-Id: <talk.lists.example>"
			 "\r\n" TAIL "\r\nhi\r\n", froms[i]);
		expect_msg_not(m, "FROM_FREEMAIL_FORGED");
	}
	/* the provider's hop, by any of its names: sent from, greeted as,
	 * received by */
	static const char *const real[] = {
		"Received: from web12.mail.yahoo.com (web12.mail.yahoo.com "
		"[192.0.2.7]) by mx.petrel.test; Tue, 1 May 2007 10:00:00 "
		"+0000\r\nFrom: ann1977@yahoo.com\r\n",
		"Received: from [192.0.2.9] by web12.mail.yahoo.com via HTTP; "
		"Tue, 1 May 2007 10:00:00 +0000\r\n"
		"From: ann1977@yahoo.com\r\n",
		"Received: from mail-ot1.google.com (mail-ot1.google.com "
		"[192.0.2.8]) by mx.petrel.test; Tue, 1 May 2007 10:00:00 "
		"+0000\r\nFrom: carol@gmail.com\r\n",
		"Received: from BAY4-F1 ([192.0.2.6]) by outlook.com with "
		"Microsoft SMTPSVC; Tue, 1 May 2007 10:00:00 +0000\r\n"
		"From: bob@hotmail.com\r\n",
		/* providers whose servers carry another of their names */
		"Received: from forward100.mail.yandex.net (forward100.mail."
		"yandex.net [192.0.2.5]) by mx.petrel.test; Tue, 1 May 2007 "
		"10:00:00 +0000\r\nFrom: ivan@yandex.ru\r\n",
		"Received: from sonic3.consmr.mail.ne1.yahoo.com (sonic3.consmr"
		".mail.ne1.yahoo.com [192.0.2.4]) by mx.petrel.test; Tue, 1 "
		"May 2007 10:00:00 +0000\r\nFrom: dave@aol.com\r\n",
		"Received: from mail-4321.protonmail.ch (mail-4321.protonmail.ch"
		" [192.0.2.3]) by mx.petrel.test; Tue, 1 May 2007 10:00:00 "
		"+0000\r\nFrom: eve@proton.me\r\n",
	};
	for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
		snprintf(m, sizeof m, SPAMHOP "%s" TAIL "\r\nhi\r\n",
			 real[i]);
		expect_msg_not(m, "FROM_FREEMAIL_FORGED");
	}
	/* a signature of the provider proves its hand */
	struct filter_facts f;
	struct filter_syms s;
	static const char *const signers[] = { "yahoo.com" };
	memset(&f, 0, sizeof f);
	f.dkim = "pass";
	f.dkim_pass_domains = signers;
	f.n_dkim_pass = 1;
	snprintf(m, sizeof m, SPAMHOP "%s" TAIL "\r\nhi\r\n", froms[0]);
	run(m, &f, &s);
	expect_not(&s, "FROM_FREEMAIL_FORGED");
	f.n_dkim_pass = 0;
	f.dmarc = "pass";
	run(m, &f, &s);
	expect_not(&s, "FROM_FREEMAIL_FORGED");
	/* an address of an ordinary domain is not judged */
	snprintf(m, sizeof m, SPAMHOP "From: d@sender.example\r\n" TAIL
		 "\r\nhi\r\n");
	expect_msg_not(m, "FROM_FREEMAIL_FORGED");
#undef SPAMHOP
#undef TAIL
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_rdns),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_msgid),
		cmocka_unit_test(test_mailer_mime),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_reply_return),
		cmocka_unit_test(test_received),
		cmocka_unit_test(test_freemail_forged),
		cmocka_unit_test(test_attach_names),
		cmocka_unit_test(test_attach_content),
		cmocka_unit_test(test_zip),
		cmocka_unit_test(test_zip_many_entries),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_link_mismatch),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_advance_fee),
		cmocka_unit_test(test_lookalike_imperson),
		cmocka_unit_test(test_html_flags),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_names_declared),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
