/* test_dmarc.c - src/msgauth/dmarc*.c on bad and edge input: junk
 * records, p=bogus and the 6.6.3 rua fallback, pct out of range,
 * duplicate tags, huge rua lists and sizes, discovery (several records,
 * fallback, temperror), np for non-existent subdomains, pct sampling with
 * an injected random source, the Authentication-Results text, From
 * extraction, and the aggregate report reader's limits, the writer's
 * round trip and a report inside an e-mail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "msgauth/dmarc.h"
#include "msgauth/dmarc_report.h"
#include "msgauth/ma_zone.h"

static int parse(const char *s, struct dmarc_record *r, const char **why)
{
	return dmarc_record_parse(s, strlen(s), r, why);
}

static void test_record_junk(void **state)
{
	struct dmarc_record r;
	const char *why;
	(void)state;

	assert_int_equal(parse("", &r, &why), -1);
	assert_string_equal(why, "empty record");
	assert_int_equal(parse("   ", &r, &why), -1);
	assert_int_equal(parse("v=spf1 -all", &r, &why), -1);
	assert_int_equal(parse("p=reject; v=DMARC1", &r, &why), -1);	/* v first */
	assert_int_equal(parse("v=DMARC1x; p=reject", &r, &why), -1);
	assert_int_equal(parse("v=dmarc1; p=reject", &r, &why), -1);
	assert_int_equal(parse("\x01\xff;;;==;", &r, &why), -1);
	/* junk after a good start: discarded, the record stands (6.3) */
	assert_int_equal(parse("v=DMARC1; p=reject; \x01garbage; =x; a b c", &r, &why), 0);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_true(r.n_ignored >= 1);
	for (const char *c = r.complaint; *c; c++)
		assert_true(*c >= 0x20 && *c <= 0x7e);
	/* upper-case tag names and keyword values */
	assert_int_equal(parse("V=DMARC1; P=Reject; ADKIM=S", &r, &why), 0);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.adkim, DMARC_ALIGN_STRICT);
	/* a record longer than the limit */
	char big[DMARC_RECORD_MAX + 40];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "v=DMARC1; p=none;", 17);
	assert_int_equal(parse(big, &r, &why), -1);
	assert_string_equal(why, "record too long");
}

static void test_record_policy(void **state)
{
	struct dmarc_record r;
	const char *why;
	(void)state;

	assert_int_equal(parse("v=DMARC1; p=bogus", &r, &why), -1);
	assert_non_null(strstr(why, "invalid p="));
	assert_int_equal(parse("v=DMARC1; pct=100", &r, &why), -1);
	assert_non_null(strstr(why, "no p="));
	assert_int_equal(parse("v=DMARC1; p=none; sp=bob", &r, &why), -1);
	assert_non_null(strstr(why, "invalid sp="));
	/* 6.6.3: with a valid rua, act as p=none */
	assert_int_equal(parse("v=DMARC1; p=bogus; sp=reject; rua=mailto:a@example.com", &r, &why), 0);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_UNSET);
	assert_true(r.p_from_rua);
	assert_int_equal(parse("v=DMARC1; rua=mailto:a@example.com", &r, &why), 0);
	assert_true(r.p_from_rua);
	/* an invalid rua does not rescue it */
	assert_int_equal(parse("v=DMARC1; rua=not a uri", &r, &why), -1);
	/* np (RFC 9091), t (RFC 9989) */
	assert_int_equal(parse("v=DMARC1; p=reject; np=quarantine; t=y", &r, &why), 0);
	assert_int_equal(r.np, DMARC_POLICY_QUARANTINE);
	assert_true(r.testing);
	assert_int_equal(parse("v=DMARC1; p=reject; np=maybe; t=perhaps", &r, &why), 0);
	assert_int_equal(r.np, DMARC_POLICY_UNSET);
	assert_false(r.testing);
	assert_int_equal(r.n_ignored, 2);
}

static void test_record_values(void **state)
{
	struct dmarc_record r;
	const char *why;
	(void)state;

	/* pct at and past its limit; defaults on discard (6.3) */
	assert_int_equal(parse("v=DMARC1; p=none; pct=100", &r, &why), 0);
	assert_int_equal(r.pct, 100);
	assert_int_equal(parse("v=DMARC1; p=none; pct=0", &r, &why), 0);
	assert_int_equal(r.pct, 0);
	assert_int_equal(parse("v=DMARC1; p=none; pct=500", &r, &why), 0);
	assert_int_equal(r.pct, 100);
	assert_int_equal(r.n_ignored, 1);
	assert_non_null(strstr(r.complaint, "pct"));
	assert_int_equal(parse("v=DMARC1; p=none; pct=101", &r, &why), 0);
	assert_int_equal(r.pct, 100);
	assert_int_equal(parse("v=DMARC1; p=none; pct=-1", &r, &why), 0);
	assert_int_equal(r.n_ignored, 1);
	assert_int_equal(parse("v=DMARC1; p=none; ri=4294967295", &r, &why), 0);
	assert_int_equal(r.ri, 4294967295u);
	assert_int_equal(parse("v=DMARC1; p=none; ri=4294967296", &r, &why), 0);
	assert_int_equal(r.ri, 86400);
	assert_int_equal(parse("v=DMARC1; p=none; fo=1:d", &r, &why), 0);
	assert_int_equal(r.fo, DMARC_FO_1 | DMARC_FO_D);
	assert_int_equal(parse("v=DMARC1; p=none; fo=1:x", &r, &why), 0);
	assert_int_equal(r.fo, DMARC_FO_0);
	/* duplicate tags: the first counts */
	assert_int_equal(parse("v=DMARC1; p=reject; p=none; pct=10; pct=90", &r, &why), 0);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.pct, 10);
	assert_int_equal(r.n_ignored, 2);
	assert_non_null(strstr(r.complaint, "duplicate"));
}

static void test_record_uris(void **state)
{
	struct dmarc_record r;
	const char *why;
	char rec[DMARC_RECORD_MAX + 1];
	(void)state;

	assert_int_equal(parse("v=DMARC1; p=none; rua=mailto:a@x.example!10m, "
			       "mailto:b@x.example!2k,mailto:c@x.example!7, mailto:d!x@y.example", &r, &why), 0);
	assert_int_equal(r.n_rua, 4);
	assert_string_equal(r.rua[0].uri, "mailto:a@x.example");
	assert_true(r.rua[0].max_size == 10u * 1024 * 1024);
	assert_true(r.rua[1].max_size == 2048);
	assert_true(r.rua[2].max_size == 7);
	assert_string_equal(r.rua[3].uri, "mailto:d!x@y.example");	/* no size: kept */
	assert_int_equal(r.n_ignored, 0);
	/* a size that overflows makes that URI invalid */
	assert_int_equal(parse("v=DMARC1; p=none; rua=mailto:a@x!999999999999t", &r, &why), 0);
	assert_int_equal(r.n_rua, 0);
	assert_int_equal(r.n_ignored, 1);
	/* a huge list: the first DMARC_URIS_MAX kept */
	size_t n = (size_t)snprintf(rec, sizeof(rec), "v=DMARC1; p=none; rua=");
	for (int i = 0; i < 50; i++)
		n += (size_t)snprintf(rec + n, sizeof(rec) - n, "mailto:r%d@example.com,", i);
	assert_int_equal(parse(rec, &r, &why), 0);
	assert_int_equal(r.n_rua, DMARC_URIS_MAX);
	assert_string_equal(r.rua[0].uri, "mailto:r0@example.com");
	assert_non_null(strstr(r.complaint, "dropped"));
	/* one URI longer than DMARC_URI_MAX */
	n = (size_t)snprintf(rec, sizeof(rec), "v=DMARC1; p=none; ruf=mailto:");
	memset(rec + n, 'a', DMARC_URI_MAX);
	snprintf(rec + n + DMARC_URI_MAX, sizeof(rec) - n - DMARC_URI_MAX, "@x.example");
	assert_int_equal(parse(rec, &r, &why), 0);
	assert_int_equal(r.n_ruf, 0);
}

static void test_align(void **state)
{
	char org[DMARC_DOMAIN_MAX + 1];
	(void)state;

	assert_true(dmarc_org_domain("a.b.example.co.uk", org));
	assert_string_equal(org, "example.co.uk");
	assert_false(dmarc_org_domain("co.uk", org));
	assert_false(dmarc_org_domain("localhost", org));
	assert_false(dmarc_org_domain("192.0.2.1", org));
	assert_true(dmarc_aligned("mail.example.com", "EXAMPLE.com.", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned("mail.example.com", "example.com", DMARC_ALIGN_STRICT));
	assert_false(dmarc_aligned("a.example.co.uk", "b.other.co.uk", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned("co.uk", "x.co.uk", DMARC_ALIGN_RELAXED));
	assert_false(dmarc_aligned("a..b", "a..b", DMARC_ALIGN_STRICT));
	assert_int_equal(dmarc_domain_norm("ex ample.com", 12, org), -1);
}

struct env {
	struct ma_zone *z;
	struct ma_dns dns;
};

static void env_zone(struct env *e, const char *text)
{
	struct err err;

	e->z = ma_zone_new();
	assert_int_equal(ma_zone_load(e->z, text, strlen(text), &err), 0);
	ma_zone_dns(e->z, &e->dns);
}

static unsigned rand_fixed(void *arg)
{
	return *(unsigned *)arg;
}

static void eval(struct env *e, const char *from, const char *dkim, bool dkim_pass,
		 const char *spf, struct dmarc_eval *ev)
{
	struct dmarc_dkim_sig sig = { dkim, dkim_pass, 0 };
	struct dmarc_input in = { .from_domain = from, .spf_domain = spf,
				  .spf_pass = spf != NULL, .dkim = &sig,
				  .n_dkim = dkim != NULL };
	dmarc_evaluate(&e->dns, &in, ev);
}

static void test_evaluate(void **state)
{
	struct env e;
	struct dmarc_eval *ev = malloc(sizeof(*ev));
	char ar[512];
	(void)state;

	env_zone(&e,
		 "_dmarc.example.com TXT \"v=DMARC1; p=reject; sp=quarantine; np=reject\"\n"
		 "live.example.com A 192.0.2.1\n"
		 "_dmarc.two.example TXT \"v=DMARC1; p=none\"\n"
		 "_dmarc.two.example TXT \"v=DMARC1; p=reject\"\n"
		 "_dmarc.slow.example TIMEOUT\n"
		 "_dmarc.bad.example TXT \"v=DMARC1; adkim=s\"\n");
	eval(&e, "example.com", "example.com", true, NULL, ev);
	assert_int_equal(ev->result, DMARC_RESULT_PASS);
	assert_int_equal(ev->disposition, DMARC_POLICY_NONE);
	assert_string_equal(ev->dkim_aligned, "example.com");
	assert_int_equal(dmarc_auth_results(ev, ar, sizeof(ar)), 0);
	assert_string_equal(ar, "dmarc=pass (p=reject sp=quarantine dis=none) "
			    "header.from=example.com policy.dmarc=reject");
	/* a failing DKIM signature never aligns */
	eval(&e, "example.com", "example.com", false, "other.example", ev);
	assert_int_equal(ev->result, DMARC_RESULT_FAIL);
	assert_int_equal(ev->disposition, DMARC_POLICY_REJECT);
	assert_int_equal(ev->which, DMARC_WHICH_P);
	assert_non_null(strstr(ev->reason, "example.com"));
	/* existing subdomain: sp; non-existent: np (RFC 9091) */
	eval(&e, "live.example.com", NULL, false, NULL, ev);
	assert_int_equal(ev->which, DMARC_WHICH_SP);
	assert_int_equal(ev->policy, DMARC_POLICY_QUARANTINE);
	assert_true(ev->org_record);
	eval(&e, "gone.example.com", NULL, false, NULL, ev);
	assert_int_equal(ev->which, DMARC_WHICH_NP);
	assert_true(ev->nonexistent);
	assert_int_equal(ev->policy, DMARC_POLICY_REJECT);
	/* several records: none (6.6.3 step 5); DNS trouble: temperror */
	eval(&e, "two.example", NULL, false, NULL, ev);
	assert_int_equal(ev->result, DMARC_RESULT_NONE);
	eval(&e, "slow.example", NULL, false, NULL, ev);
	assert_int_equal(ev->result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(dmarc_auth_results(ev, ar, sizeof(ar)), 0);
	assert_string_equal(ar, "dmarc=temperror header.from=slow.example");
	/* unusable record: none, and no fallback past it */
	eval(&e, "bad.example", NULL, false, NULL, ev);
	assert_int_equal(ev->result, DMARC_RESULT_NONE);
	/* no usable From domain */
	eval(&e, "not a domain", NULL, false, NULL, ev);
	assert_int_equal(ev->result, DMARC_RESULT_PERMERROR);
	assert_int_equal(dmarc_auth_results(ev, ar, 8), -1);
	/* at most two TXT and three existence queries per message */
	size_t before = ma_zone_queries(e.z);
	eval(&e, "deep.gone.example.com", NULL, false, NULL, ev);
	assert_true(ma_zone_queries(e.z) - before <= 5);
	ma_zone_free(&e.z);
	free(ev);
}

static void test_pct(void **state)
{
	struct env e;
	struct dmarc_eval *ev = malloc(sizeof(*ev));
	unsigned draw;
	struct dmarc_input in = { .from_domain = "example.com", .rand = rand_fixed,
				  .rand_arg = &draw };
	(void)state;

	env_zone(&e, "_dmarc.example.com TXT \"v=DMARC1; p=reject; pct=30\"\n");
	draw = 29;		/* inside the 30 %: the policy applies */
	dmarc_evaluate(&e.dns, &in, ev);
	assert_int_equal(ev->disposition, DMARC_POLICY_REJECT);
	assert_false(ev->sampled_out);
	draw = 30;		/* outside: one step down (6.6.4) */
	dmarc_evaluate(&e.dns, &in, ev);
	assert_int_equal(ev->result, DMARC_RESULT_FAIL);
	assert_int_equal(ev->policy, DMARC_POLICY_REJECT);
	assert_int_equal(ev->disposition, DMARC_POLICY_QUARANTINE);
	assert_true(ev->sampled_out);
	ma_zone_free(&e.z);
	free(ev);
}

static enum dmarc_from_rc from(const char *hdr, char *out)
{
	const char *why = NULL;
	enum dmarc_from_rc rc = dmarc_from_domain(span_cstr(hdr), out, &why);
	assert_non_null(why);
	return rc;
}

static void test_from(void **state)
{
	char d[DMARC_DOMAIN_MAX + 1];
	(void)state;

	assert_int_equal(from("Subject: x\r\nFrom: \"Ann\" <ann@Mail.Example.COM>\r\n\r\nFrom: body@x.example\r\n", d),
			 DMARC_FROM_OK);
	assert_string_equal(d, "mail.example.com");
	assert_int_equal(from("FROM:\r\n  b@example.net (folded)\r\n\r\n", d), DMARC_FROM_OK);
	assert_string_equal(d, "example.net");
	assert_int_equal(from("To: a@example.com\r\n\r\n", d), DMARC_FROM_MISSING);
	assert_int_equal(from("From: a@example.com\r\nFrom: b@example.com\r\n\r\n", d),
			 DMARC_FROM_MULTIPLE);
	assert_int_equal(from("From: a@example.com, b@example.com\r\n\r\n", d), DMARC_FROM_MULTIPLE);
	assert_int_equal(from("From: undisclosed:;\r\n\r\n", d), DMARC_FROM_INVALID);
	assert_int_equal(from("From: nobody\r\n\r\n", d), DMARC_FROM_INVALID);
	assert_int_equal(from("From: a@[192.0.2.1]\r\n\r\n", d), DMARC_FROM_INVALID);
	assert_string_equal(d, "");
}

/* ----- aggregate reports ----- */

static int read_str(const char *xml, struct dmarc_report *r, struct err *err)
{
	return dmarc_report_read(xml, strlen(xml), r, err);
}

#define HEAD "<feedback><report_metadata><org_name>o</org_name><email>e@o</email>" \
	"<report_id>1</report_id><date_range><begin>1</begin><end>2</end></date_range>" \
	"</report_metadata><policy_published><domain>example.com</domain><p>none</p>" \
	"</policy_published>"
#define REC "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>" \
	"<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf>" \
	"</policy_evaluated></row><identifiers><header_from>example.com</header_from>" \
	"</identifiers><auth_results><spf><domain>example.com</domain><result>fail</result>" \
	"</spf></auth_results></record>"

/* data gzip'd (RFC 1952), malloc'd */
static unsigned char *gzip_of(const void *data, size_t len, size_t *out_len)
{
	z_stream z = { 0 };
	uLong cap = compressBound((uLong)len) + 64;
	unsigned char *gz = malloc(cap);

	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = gz;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return gz;
}

static void test_report_refuse(void **state)
{
	struct dmarc_report r;
	struct err err;
	(void)state;

	assert_int_equal(read_str(HEAD REC "</feedback>", &r, &err), 0);
	assert_int_equal(r.n_records, 1);
	dmarc_report_free(&r);
	/* DTDs and entities: refused before any expansion */
	assert_int_equal(read_str("<!DOCTYPE feedback [<!ENTITY a \"aaaa\">]>" HEAD REC
				  "</feedback>", &r, &err), -1);
	assert_non_null(strstr(err.msg, "DTD"));
	assert_int_equal(read_str("<!DOCTYPE feedback SYSTEM \"file:///etc/passwd\">" HEAD REC
				  "</feedback>", &r, &err), -1);
	assert_null(r.records);
	/* no record, missing p, bad enum, bad ip, bad count */
	assert_int_equal(read_str(HEAD "</feedback>", &r, &err), -1);
	assert_int_equal(read_str("<feedback><report_metadata/></feedback>", &r, &err), -1);
	assert_int_equal(read_str(HEAD "<record><row><source_ip>x</source_ip></row></record></feedback>",
				  &r, &err), -1);
	assert_non_null(strstr(err.msg, "source_ip"));
	/* depth */
	char deep[4096];
	size_t n = (size_t)snprintf(deep, sizeof(deep), "%s", HEAD REC);
	for (int i = 0; i < DMARC_REPORT_DEPTH; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<x>");
	assert_int_equal(read_str(deep, &r, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	/* text per element: at the limit and past it */
	char *big = malloc(DMARC_REPORT_TEXT_MAX + 1024);
	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(big, 200, "<feedback><report_metadata><org_name>");
		memset(big + n, 'a', DMARC_REPORT_TEXT_MAX + extra);
		n += DMARC_REPORT_TEXT_MAX + (size_t)extra;
		snprintf(big + n, 200, "</org_name></report_metadata></feedback>");
		assert_int_equal(read_str(big, &r, &err), -1);
		assert_int_equal(err.kind, extra ? ERR_LIMIT : ERR_PEER);
	}
	free(big);
	/* a gzip bomb stops at DMARC_REPORT_XML_MAX */
	size_t zlen = DMARC_REPORT_XML_MAX + 1024, glen;
	unsigned char *zeros = calloc(1, zlen);
	unsigned char *gz = gzip_of(zeros, zlen, &glen);
	assert_int_equal(dmarc_report_read(gz, glen, &r, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	free(gz);
	free(zeros);
	/* records: at the limit and one past it */
	size_t rlen = strlen(REC), hlen = strlen(HEAD);
	size_t cap = hlen + rlen * (DMARC_REPORT_RECORDS_MAX + 1) + 32;
	char *many = malloc(cap);
	for (int extra = 0; extra <= 1; extra++) {
		n = hlen;
		memcpy(many, HEAD, hlen);
		for (int i = 0; i < DMARC_REPORT_RECORDS_MAX + extra; i++, n += rlen)
			memcpy(many + n, REC, rlen);
		memcpy(many + n, "</feedback>", 12);
		n += 11;
		gz = gzip_of(many, n, &glen);	/* plain, it is over DMARC_REPORT_IN_MAX */
		if (extra == 0) {
			assert_int_equal(dmarc_report_read(gz, glen, &r, &err), 0);
			assert_int_equal(r.n_records, DMARC_REPORT_RECORDS_MAX);
			dmarc_report_free(&r);
		} else {
			assert_int_equal(dmarc_report_read(gz, glen, &r, &err), -1);
			assert_int_equal(err.kind, ERR_LIMIT);
			assert_non_null(strstr(err.msg, "records"));
		}
		free(gz);
	}
	free(many);
	/* truncated gzip */
	static const unsigned char cut[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xb3 };
	assert_int_equal(dmarc_report_read(cut, sizeof(cut), &r, &err), -1);
}

static void test_report_roundtrip(void **state)
{
	struct dmarc_report r = { 0 }, back;
	struct dmarc_report_row rows[2];
	struct err err;
	unsigned char *gz;
	size_t len;
	char name[300];
	(void)state;

	memset(rows, 0, sizeof(rows));
	r.org_name = "receiver.example";
	r.email = "dmarc@receiver.example";
	r.report_id = "abc<&>\"'";
	r.begin = 1700000000;
	r.end = 1700086399;
	r.domain = "example.com";
	r.adkim = DMARC_ALIGN_STRICT;
	r.p = DMARC_POLICY_REJECT;
	r.np = DMARC_POLICY_QUARANTINE;
	r.pct = 100;
	rows[0] = (struct dmarc_report_row){ .source_ip = "192.0.2.1", .count = 12,
		.disposition = DMARC_DISP_REJECT, .dkim = DMARC_RR_FAIL, .spf = DMARC_RR_FAIL,
		.reason_type = "local_policy", .reason_comment = "a & b",
		.header_from = "example.com", .envelope_from = "bounce.example.net",
		.n_dkim = 1, .n_spf = 1 };
	rows[0].dkim_res[0] = (struct dmarc_report_dkim){ "example.net", "s1", NULL, DMARC_RR_PASS };
	rows[0].spf_res[0] = (struct dmarc_report_spf){ "bounce.example.net", "mfrom", DMARC_RR_SOFTFAIL };
	rows[1] = (struct dmarc_report_row){ .source_ip = "2001:db8::5", .count = 1,
		.disposition = DMARC_DISP_NONE, .dkim = DMARC_RR_PASS, .spf = DMARC_RR_PASS,
		.header_from = "example.com" };
	r.records = rows;
	r.n_records = 2;
	assert_int_equal(dmarc_report_gzip(&r, &gz, &len, &err), 0);
	assert_int_equal(dmarc_report_read(gz, len, &back, &err), 0);
	free(gz);
	assert_string_equal(back.report_id, r.report_id);
	assert_int_equal(back.begin, r.begin);
	assert_int_equal(back.adkim, DMARC_ALIGN_STRICT);
	assert_int_equal(back.np, DMARC_POLICY_QUARANTINE);
	assert_int_equal(back.sp, DMARC_POLICY_UNSET);
	assert_int_equal(back.n_records, 2);
	assert_int_equal(back.records[0].count, 12);
	assert_int_equal(back.records[0].disposition, DMARC_DISP_REJECT);
	assert_string_equal(back.records[0].reason_comment, "a & b");
	assert_string_equal(back.records[0].envelope_from, "bounce.example.net");
	assert_int_equal(back.records[0].spf_res[0].result, DMARC_RR_SOFTFAIL);
	assert_string_equal(back.records[0].dkim_res[0].selector, "s1");
	assert_string_equal(back.records[1].source_ip, "2001:db8::5");
	assert_null(back.records[1].reason_type);
	dmarc_report_free(&back);

	assert_int_equal(dmarc_report_filename("mx.receiver.example", &r, NULL, name,
					       sizeof(name), &err), 0);
	assert_string_equal(name, "mx.receiver.example!example.com!1700000000!1700086399.xml.gz");
	assert_int_equal(dmarc_report_filename("mx.receiver.example", &r, "u1", name,
					       sizeof(name), &err), 0);
	assert_string_equal(name, "mx.receiver.example!example.com!1700000000!1700086399!u1.xml.gz");
	assert_int_equal(dmarc_report_filename("a!b", &r, NULL, name, sizeof(name), &err), -1);
	assert_int_equal(dmarc_report_filename("x.example", &r, "no-dash", name, sizeof(name), &err), -1);
	assert_int_equal(dmarc_report_filename("x.example", &r, NULL, name, 10, &err), -1);
	/* the writer refuses a report without what appendix C requires */
	rows[1].header_from = NULL;
	char *xml;
	assert_int_equal(dmarc_report_xml(&r, &xml, &len, &err), -1);
}

static void test_report_mail(void **state)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *xml = HEAD REC "</feedback>";
	struct dmarc_report r;
	struct err err;
	char msg[4096];
	(void)state;

	/* the XML as an application/octet-stream attachment named .xml,
	 * base64-encoded, after a text part */
	size_t n = (size_t)snprintf(msg, sizeof(msg),
		"From: r@receiver.example\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nreport attached\r\n"
		"--b\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; filename=\"r!example.com!1!2.xml\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n");
	size_t len = strlen(xml);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned char)xml[i] << 16 |
			(i + 1 < len ? (unsigned char)xml[i + 1] << 8 : 0) |
			(i + 2 < len ? (unsigned char)xml[i + 2] : 0);
		msg[n++] = b64[v >> 18 & 63];
		msg[n++] = b64[v >> 12 & 63];
		msg[n++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		msg[n++] = i + 2 < len ? b64[v & 63] : '=';
	}
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\r\n--b--\r\n");
	assert_int_equal(dmarc_report_read_mail(msg, n, &r, &err), 0);
	assert_string_equal(r.domain, "example.com");
	assert_int_equal(r.n_records, 1);
	dmarc_report_free(&r);
	const char *none = "From: a@b.example\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
	assert_int_equal(dmarc_report_read_mail(none, strlen(none), &r, &err), -1);
	assert_non_null(strstr(err.msg, "attachment"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_junk),
		cmocka_unit_test(test_record_policy),
		cmocka_unit_test(test_record_values),
		cmocka_unit_test(test_record_uris),
		cmocka_unit_test(test_align),
		cmocka_unit_test(test_evaluate),
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_report_refuse),
		cmocka_unit_test(test_report_roundtrip),
		cmocka_unit_test(test_report_mail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
