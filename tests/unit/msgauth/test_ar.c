/* test_ar.c - cmocka tests of the pieces every message check shares:
 * Authentication-Results written (folding, quoting, "none", the size
 * bound) and forged ones stripped (our authserv-id only, folded fields,
 * comments before the id, case, the body untouched); the tag=value
 * parser (duplicates, bad names, whitespace, the count bound); and the
 * zone-table DNS backend (NXDOMAIN vs NODATA, CNAME chains and loops,
 * TIMEOUT, TXT strings joined). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msgauth/ar.h"
#include "msgauth/ma_zone.h"
#include "msgauth/taglist.h"

static void test_ar_format(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 16);
	struct ar_result r[3] = {
		{ "spf", "pass", NULL, NULL, 1, { "smtp.mailfrom=example.com" } },
		{ "dkim", "fail", NULL, "signature did not verify", 2,
		  { "header.d=example.com", "header.s=sel 1" } },
		{ "dmarc", "pass", "p=reject dis=none (x)", NULL, 1,
		  { "header.from=example.com" } },
	};
	assert_int_equal(ar_format(&b, "mx.petrel.test", r, 3), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	const char *s = (const char *)b.data;
	assert_non_null(strstr(s, "Authentication-Results: mx.petrel.test; spf=pass"));
	assert_non_null(strstr(s, "reason=\"signature did not verify\""));
	assert_non_null(strstr(s, "header.s=\"sel 1\""));
	assert_non_null(strstr(s, "; dmarc=pass (p=reject dis=none ?x?)"));
	/* folded: no line longer than 78 + CRLF */
	for (const char *l = s; *l; ) {
		const char *e = strstr(l, "\r\n");
		assert_non_null(e);
		assert_true(e - l <= 78);
		l = e + 2;
	}
	buf_reset(&b);
	assert_int_equal(ar_format(&b, "mx.petrel.test", NULL, 0), 0);
	assert_int_equal(b.len, strlen("Authentication-Results: mx.petrel.test; none\r\n"));
	/* a huge reason: the result is left out, the header stays valid */
	char big[8000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct ar_result huge[2] = {
		{ "spf", "pass", NULL, NULL, 0, { NULL } },
		{ "dkim", "fail", NULL, big, 0, { NULL } },
	};
	buf_reset(&b);
	assert_int_equal(ar_format(&b, "mx.petrel.test", huge, 2), 0);
	assert_true(b.len < AR_MAX);
	assert_true(b.len > 2 && memcmp(b.data + b.len - 2, "\r\n", 2) == 0);
	buf_release(&b);
}

static size_t strip(char *msg, const char *id)
{
	size_t len = strlen(msg);
	size_t n = ar_strip((unsigned char *)msg, &len, 0, id);
	msg[len] = '\0';
	return n;
}

static void test_ar_strip(void **state)
{
	(void)state;
	char m[] =
		"Received: from a\r\n"
		"Authentication-Results: MX.Petrel.Test; spf=pass\r\n"
		"authentication-results : (forged) mx.petrel.test;\r\n"
		"\tdkim=pass header.d=bank.example\r\n"
		"Authentication-Results: other.example; spf=fail\r\n"
		"Authentication-Results: \"mx.petrel.test\"; dmarc=pass\r\n"
		"Authentication-Results: mx.petrel.test.evil; spf=pass\r\n"
		"Subject: hi\r\n"
		"\r\n"
		"Authentication-Results: mx.petrel.test; in the body\r\n";
	assert_int_equal(strip(m, "mx.petrel.test"), 3);
	assert_string_equal(m,
		"Received: from a\r\n"
		"Authentication-Results: other.example; spf=fail\r\n"
		"Authentication-Results: mx.petrel.test.evil; spf=pass\r\n"
		"Subject: hi\r\n"
		"\r\n"
		"Authentication-Results: mx.petrel.test; in the body\r\n");
	/* bare LF, a last field without a line end, nothing to take */
	char lf[] = "Authentication-Results: mx.petrel.test; x\nA: b\n\nbody";
	assert_int_equal(strip(lf, "mx.petrel.test"), 1);
	assert_string_equal(lf, "A: b\n\nbody");
	char last[] = "A: b\r\nAuthentication-Results: mx.petrel.test";
	assert_int_equal(strip(last, "mx.petrel.test"), 1);
	assert_string_equal(last, "A: b\r\n");
	/* a body line starting with a space is not a header continuation */
	char wsp[] = "A: b\r\n\r\n Authentication-Results: mx.petrel.test\r\n"
		     "Authentication-Results: mx.petrel.test; y\r\n";
	assert_int_equal(strip(wsp, "mx.petrel.test"), 0);
	char junk[] = "Authentication-Results: (unclosed comment mx.petrel.test\r\n\r\n";
	assert_int_equal(strip(junk, "mx.petrel.test"), 0);
}

static void test_taglist(void **state)
{
	(void)state;
	struct taglist tl;
	const char *why = NULL;
	const char *s = " v=1;\ta = rsa-sha256 ;b=abc\r\n def; ;";
	assert_int_equal(taglist_parse(s, strlen(s), &tl, &why), 0);
	assert_int_equal(tl.n, 3);
	assert_true(tag_is(taglist_get(&tl, "a"), "rsa-sha256"));
	const struct tag *b = taglist_get(&tl, "b");
	assert_int_equal(b->val_len, strlen("abc\r\n def"));
	assert_null(taglist_get(&tl, "A"));
	assert_int_equal(taglist_parse("v=1; v=2", 8, &tl, &why), -1);
	assert_string_equal(why, "duplicate tag");
	assert_int_equal(taglist_parse("v=1; x", 6, &tl, &why), -1);
	assert_int_equal(taglist_parse("1v=1", 4, &tl, &why), -1);
	assert_int_equal(taglist_parse("=1", 2, &tl, &why), -1);
	char many[TAGLIST_MAX * 8 + 16];
	size_t n = 0;
	for (int i = 0; i <= TAGLIST_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "t%d=1;", i);
	assert_int_equal(taglist_parse(many, n, &tl, &why), -1);
	assert_string_equal(why, "too many tags");
	assert_int_equal(taglist_parse("", 0, &tl, &why), 0);
	assert_int_equal(tl.n, 0);
}

static void test_zone(void **state)
{
	(void)state;
	static const char text[] =
		"# a comment\n"
		"example.com TXT \"v=spf1 \" \"-all\"\n"
		"example.com A 192.0.2.1\n"
		"Example.COM. MX 10 MX.example.com.\n"
		"www.example.com CNAME example.com\n"
		"loop1.example.com CNAME loop2.example.com\n"
		"loop2.example.com CNAME loop1.example.com\n"
		"slow.example.com TIMEOUT\n"
		"esc.example.com TXT \"a\\\"b\\059c\"\n";
	struct ma_zone *z = ma_zone_new();
	struct err err;
	assert_int_equal(ma_zone_load(z, text, strlen(text), &err), 0);
	struct ma_dns d;
	ma_zone_dns(z, &d);
	struct ma_rrset *r = malloc(sizeof *r);
	ma_dns_query(&d, "EXAMPLE.com.", MA_RR_TXT, r);
	assert_int_equal(r->rc, MA_DNS_OK);
	assert_int_equal(r->n, 1);
	assert_string_equal((const char *)r->rr[0].data, "v=spf1 -all");
	ma_dns_query(&d, "example.com", MA_RR_MX, r);
	assert_int_equal(r->rr[0].pref, 10);
	assert_string_equal((const char *)r->rr[0].data, "mx.example.com");
	ma_dns_query(&d, "example.com", MA_RR_AAAA, r);
	assert_int_equal(r->rc, MA_DNS_NODATA);
	ma_dns_query(&d, "nothere.example.com", MA_RR_A, r);
	assert_int_equal(r->rc, MA_DNS_NXDOMAIN);
	ma_dns_query(&d, "www.example.com", MA_RR_A, r);
	assert_int_equal(r->rc, MA_DNS_OK);
	assert_memory_equal(r->rr[0].data, "\xc0\x00\x02\x01", 4);
	ma_dns_query(&d, "loop1.example.com", MA_RR_A, r);
	assert_int_equal(r->rc, MA_DNS_TEMPFAIL);
	ma_dns_query(&d, "slow.example.com", MA_RR_TXT, r);
	assert_int_equal(r->rc, MA_DNS_TEMPFAIL);
	ma_dns_query(&d, "esc.example.com", MA_RR_TXT, r);
	assert_string_equal((const char *)r->rr[0].data, "a\"b;c");
	assert_int_equal(ma_zone_queries(z), 8);
	assert_int_equal(ma_zone_load(z, "x BOGUS y\n", 10, &err), -1);
	assert_non_null(strstr(err.msg, "line 1"));
	assert_int_equal(ma_zone_load(z, "x A 999.1.1.1\n", 14, &err), -1);
	free(r);
	ma_zone_free(&z);
	assert_null(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ar_format),
		cmocka_unit_test(test_ar_strip),
		cmocka_unit_test(test_taglist),
		cmocka_unit_test(test_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
