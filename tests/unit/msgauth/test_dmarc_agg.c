/* test_dmarc_agg.c - DMARC aggregate reporting without a network: rows
 * made from inbound check results (only with rua=), counted by key, the
 * table's cap and drop count, the DKIM results kept in a row, rua= URIs
 * with their size limit, the RFC 7489 7.1 external destination check
 * against a zone table, and the report e-mail (Subject, file name,
 * attachment) read back by petrel's own report reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "msgauth/dmarc_agg.h"
#include "msgauth/dmarc_send.h"
#include "msgauth/ma_zone.h"

static void checked(struct msgauth_in *in, struct msgauth_out *out,
		    const char *rua, unsigned char ip_last)
{
	memset(in, 0, sizeof *in);
	memset(out, 0, sizeof *out);
	in->family = AF_INET;
	in->ip[0] = 192; in->ip[1] = 0; in->ip[2] = 2; in->ip[3] = ip_last;
	in->mail_from = "ann@Mail.Example.COM";
	in->now = 1764115200 + 3600;	/* 2025-11-26 01:00 UTC */
	out->dmarc_checked = true;
	out->dmarc.have_record = true;
	snprintf(out->dmarc.policy_domain, sizeof out->dmarc.policy_domain,
		 "example.com");
	snprintf(out->dmarc.from_domain, sizeof out->dmarc.from_domain,
		 "example.com");
	snprintf(out->dmarc.spf_aligned, sizeof out->dmarc.spf_aligned,
		 "mail.example.com");
	out->dmarc.rec.p = DMARC_POLICY_QUARANTINE;
	out->dmarc.rec.pct = 100;
	if (rua != NULL) {
		snprintf(out->dmarc.rec.rua[0].uri, sizeof out->dmarc.rec.rua[0].uri,
			 "%s", rua);
		out->dmarc.rec.rua[0].max_size = 10 * 1024 * 1024;
		out->dmarc.rec.n_rua = 1;
	}
	out->spf.result = SPF_PASS;
	snprintf(out->spf.domain, sizeof out->spf.domain, "mail.example.com");
	out->dkim.n = 2;
	out->dkim.r[0].result = DKIM_FAIL;
	snprintf(out->dkim.r[0].d, sizeof out->dkim.r[0].d, "example.com");
	snprintf(out->dkim.r[0].s, sizeof out->dkim.r[0].s, "s1");
	out->dkim.r[1].result = DKIM_PASS;
	snprintf(out->dkim.r[1].d, sizeof out->dkim.r[1].d, "esp.test");
	snprintf(out->dkim.r[1].s, sizeof out->dkim.r[1].s, "k");
	out->action = MSGAUTH_JUNK;
}

static void test_row_from_results(void **state)
{
	(void)state;
	struct msgauth_in in;
	struct msgauth_out out;
	struct store_dmarc_row r;
	checked(&in, &out, NULL, 9);
	assert_false(dmarc_agg_row(&in, &out, &r));	/* no rua= */
	checked(&in, &out, "mailto:d@example.com", 9);
	out.dmarc.have_record = false;
	assert_false(dmarc_agg_row(&in, &out, &r));
	checked(&in, &out, "mailto:d@example.com", 9);
	assert_true(dmarc_agg_row(&in, &out, &r));
	assert_int_equal(r.day, 1764115200);
	assert_string_equal(r.policy_domain, "example.com");
	assert_string_equal(r.rua, "mailto:d@example.com!10485760");
	assert_string_equal(r.source_ip, "192.0.2.9");
	assert_string_equal(r.envelope_from, "mail.example.com");
	assert_int_equal(r.disposition, DMARC_DISP_QUARANTINE);
	assert_int_equal(r.spf, DMARC_RR_PASS);
	assert_int_equal(r.dkim, DMARC_RR_FAIL);
	assert_string_equal(r.dkim_auth, "example.com/s1/fail esp.test/k/pass");
	assert_string_equal(r.spf_scope, "mfrom");
	assert_int_equal(r.spf_result, DMARC_RR_PASS);
	assert_int_equal(r.count, 1);

	char d[4][DMARC_DOMAIN_MAX + 1], s[4][DKIM_MAX_SELECTOR + 1];
	enum dmarc_rr res[4];
	assert_int_equal(dmarc_agg_dkim_results(r.dkim_auth, d, s, res, 4), 2);
	assert_string_equal(d[1], "esp.test");
	assert_string_equal(s[1], "k");
	assert_int_equal(res[1], DMARC_RR_PASS);
	assert_int_equal(dmarc_agg_dkim_results(r.dkim_auth, d, s, res, 1), 1);
	assert_int_equal(dmarc_agg_dkim_results("junk a/b x//pass", d, s, res,
						4), 1);
	assert_string_equal(d[0], "x");
	assert_string_equal(s[0], "");
}

static void test_counting_and_cap(void **state)
{
	(void)state;
	struct msgauth_in in;
	struct msgauth_out out;
	struct store_dmarc_row r;
	struct dmarc_agg *a = dmarc_agg_new(3);
	for (unsigned char ip = 1; ip <= 4; ip++)
		for (int k = 0; k < 5; k++) {
			checked(&in, &out, "mailto:d@example.com", ip);
			in.now += k;		/* same day: same key */
			assert_true(dmarc_agg_row(&in, &out, &r));
			assert_int_equal(dmarc_agg_add(a, &r), ip <= 3);
		}
	struct store_dmarc_row *rows;
	uint64_t dropped;
	size_t n = dmarc_agg_take(a, &rows, &dropped);
	assert_int_equal(n, 3);
	assert_int_equal(dropped, 5);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rows[i].count, 5);
	assert_string_equal(rows[2].source_ip, "192.0.2.3");
	free(rows);
	/* emptied: room again, a different outcome is another row */
	checked(&in, &out, "mailto:d@example.com", 4);
	assert_true(dmarc_agg_row(&in, &out, &r));
	assert_true(dmarc_agg_add(a, &r));
	out.action = MSGAUTH_DELIVER;
	assert_true(dmarc_agg_row(&in, &out, &r));
	assert_true(dmarc_agg_add(a, &r));
	in.now += 86400;			/* the next day */
	assert_true(dmarc_agg_row(&in, &out, &r));
	assert_true(dmarc_agg_add(a, &r));
	n = dmarc_agg_take(a, &rows, &dropped);
	assert_int_equal(n, 3);
	assert_int_equal(dropped, 0);
	free(rows);
	assert_int_equal(dmarc_agg_take(a, &rows, &dropped), 0);
	assert_null(rows);
	dmarc_agg_free(&a);
	assert_null(a);
}

static void test_rua_mailto(void **state)
{
	(void)state;
	char addr[64];
	uint64_t max;
	const char *why;
	assert_int_equal(dmarc_rua_mailto("mailto:a@b.test!2048", addr,
					  sizeof addr, &max, &why), 0);
	assert_string_equal(addr, "a@b.test");
	assert_int_equal(max, 2048);
	assert_int_equal(dmarc_rua_mailto("MAILTO:a@b.test", addr, sizeof addr,
					  &max, &why), 0);
	assert_int_equal(max, 0);
	assert_int_equal(dmarc_rua_mailto("https://b.test/r", addr,
					  sizeof addr, &max, &why), -1);
	assert_int_equal(dmarc_rua_mailto("mailto:a@b.test?subject=x", addr,
					  sizeof addr, &max, &why), -1);
	assert_int_equal(dmarc_rua_mailto("mailto:a@b.test!x", addr,
					  sizeof addr, &max, &why), -1);
	assert_int_equal(dmarc_rua_mailto("mailto:@b.test", addr, sizeof addr,
					  &max, &why), -1);
	assert_int_equal(dmarc_rua_mailto("mailto:a@", addr, sizeof addr,
					  &max, &why), -1);
}

static void test_external_destination(void **state)
{
	(void)state;
	struct ma_zone *z = ma_zone_new();
	struct err err;
	static const char zone[] =
		"example.com._report._dmarc.reports.test TXT \"v=DMARC1\"\n"
		"example.com._report._dmarc.other.test TXT \"v=spf1 -all\"\n";
	assert_int_equal(ma_zone_load(z, zone, sizeof zone - 1, &err), 0);
	struct ma_dns dns;
	ma_zone_dns(z, &dns);
	char why[600];
	/* same organisational domain: no query */
	assert_true(dmarc_external_ok(&dns, "mail.example.com", "example.com",
				      why, sizeof why));
	assert_int_equal(ma_zone_queries(z), 0);
	assert_true(dmarc_external_ok(&dns, "example.com", "reports.test", why,
				      sizeof why));
	assert_false(dmarc_external_ok(&dns, "example.com", "other.test", why,
				       sizeof why));
	assert_non_null(strstr(why, "RFC 7489 7.1"));
	assert_false(dmarc_external_ok(&dns, "example.com", "nowhere.test", why,
				       sizeof why));
	ma_zone_free(&z);
}

static void test_report_mail(void **state)
{
	(void)state;
	struct msgauth_in in;
	struct msgauth_out out;
	struct store_dmarc_row r;
	checked(&in, &out, "mailto:d@example.com", 7);
	assert_true(dmarc_agg_row(&in, &out, &r));
	r.count = 12;
	struct dmarc_reporter_id who = { "mx.petrel.test", "petrel.test",
					 "dmarc-noreply@mx.petrel.test" };
	struct dmarc_outgoing o;
	dmarc_outgoing_init(&o, &who, "20418.0.abc", r.day, r.day + 86399, 5,
			    &r);
	struct store_dmarc_row r2 = r;
	snprintf(r2.source_ip, sizeof r2.source_ip, "2001:db8::1");
	assert_true(dmarc_outgoing_same(&o, &r2));
	dmarc_outgoing_add(&o, 6, &r2);
	struct store_dmarc_row r3 = r;
	r3.p = DMARC_POLICY_REJECT;
	assert_false(dmarc_outgoing_same(&o, &r3));
	dmarc_outgoing_finish(&o);
	assert_int_equal(o.messages, 24);

	char subject[256];
	assert_int_equal(dmarc_report_subject("example.com", "mx.petrel.test",
					      "20418.0.abc", subject,
					      sizeof subject), 0);
	assert_string_equal(subject, "Report Domain: example.com Submitter: "
			    "mx.petrel.test Report-ID: <20418.0.abc>");
	assert_int_equal(dmarc_report_subject("example.com", "x", "y", subject,
					      20), -1);

	struct err err;
	unsigned char *gz;
	size_t gz_len;
	char fname[256];
	assert_int_equal(dmarc_report_gzip(&o.rep, &gz, &gz_len, &err), 0);
	assert_int_equal(dmarc_report_filename("mx.petrel.test", &o.rep, NULL,
					       fname, sizeof fname, &err), 0);
	assert_string_equal(fname, "mx.petrel.test!example.com!1764115200!"
			    "1764201599.xml.gz");
	struct buf msg;
	buf_init(&msg, 1024 * 1024);
	assert_int_equal(dmarc_report_mail_build(&who, &o.rep, "d@example.com",
						 1764201600, gz, gz_len, fname,
						 &msg, &err), 0);
	assert_int_equal(buf_append(&msg, "", 1), 0);
	assert_non_null(strstr((const char *)msg.data, "\r\nSubject: Report Domain: "
			       "example.com Submitter: mx.petrel.test "
			       "Report-ID: <20418.0.abc>\r\n"));
	assert_non_null(strstr((const char *)msg.data, "Content-Type: multipart/mixed;"));
	assert_non_null(strstr((const char *)msg.data, "Content-Type: application/gzip; "
			       "name=\"mx.petrel.test!example.com!"));
	assert_non_null(strstr((const char *)msg.data, "Date: Thu, 27 Nov 2025 00:00:00 +0000"));

	/* petrel's own reader gets back what was reported */
	struct dmarc_report back;
	assert_int_equal(dmarc_report_read_mail(msg.data, msg.len - 1, &back,
						&err), 0);
	assert_string_equal(back.domain, "example.com");
	assert_string_equal(back.org_name, "petrel.test");
	assert_int_equal(back.p, DMARC_POLICY_QUARANTINE);
	assert_int_equal(back.n_records, 2);
	assert_int_equal(back.records[0].count, 12);
	assert_int_equal(back.records[0].disposition, DMARC_DISP_QUARANTINE);
	assert_int_equal(back.records[0].n_dkim, 2);
	assert_string_equal(back.records[0].dkim_res[1].domain, "esp.test");
	assert_int_equal(back.records[0].spf_res[0].result, DMARC_RR_PASS);
	assert_string_equal(back.records[1].source_ip, "2001:db8::1");
	dmarc_report_free(&back);

	/* a bound too small for the mail is an error, not a cut message */
	struct buf small;
	buf_init(&small, 200);
	assert_int_equal(dmarc_report_mail_build(&who, &o.rep, "d@example.com",
						 1764201600, gz, gz_len, fname,
						 &small, &err), -1);
	buf_release(&small);
	buf_release(&msg);
	free(gz);
	dmarc_outgoing_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_from_results),
		cmocka_unit_test(test_counting_and_cap),
		cmocka_unit_test(test_rua_mailto),
		cmocka_unit_test(test_external_destination),
		cmocka_unit_test(test_report_mail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
