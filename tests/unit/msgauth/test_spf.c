/* test_spf.c - the SPF evaluator without a network: record syntax
 * tables, the RFC 7208 7.4 macro examples and malformed macros, name
 * truncation, and hostile records (loops, 50 includes, giant records
 * and expansions, huge MX and PTR sets) that must end in permerror after
 * a bounded number of queries (ma_zone_queries). Also Received-SPF
 * quoting and folding, and ma_zone's TIMEOUT rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "msgauth/ma_zone.h"
#include "msgauth/spf.h"
#include "msgauth/spf_private.h"

/* ---- record syntax */

static void test_record_syntax(void **state)
{
	(void)state;
	static const char *const good[] = {
		"v=spf1", "V=SPF1 -ALL", "v=spf1  a   -all ", "v=spf1 a/24//64 mx//0",
		"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all",
		"v=spf1 include:_spf.example.com ?all", "v=spf1 ptr ptr:example.com",
		"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
		"v=spf1 redirect=_spf.example.com", "v=spf1 -all exp=exp.%{d}",
		"v=spf1 moo.cow-far_out=man:dog/cat -all", "v=spf1 a:foo:bar/baz.example.com",
		"v=spf1 mx:%%%_/.Clara.de/27", "v=spf1 a:foo.example.xn--zckzah",
		"v=spf1 a:example.com. -all", "v=spf1 default=+",
	};
	static const char *const bad[] = {
		"v=spf1 moo", "v=spf1 -all.", "v=spf1 -all:x", "v=spf1 all/8",
		"v=spf1 ptr/0", "v=spf1 a/33", "v=spf1 a//129", "v=spf1 a/24/64",
		"v=spf1 ip4:1.2.3.4/032", "v=spf1 ip4", "v=spf1 ip4:1.2.3",
		"v=spf1 ip4:1.2.3.4//32", "v=spf1 ip4:1.2.03.4", "v=spf1 ip6::CAFE::BABE",
		"v=spf1 ip6:::1/129", "v=spf1 include", "v=spf1 include:",
		"v=spf1 include:ip5.example.com/24", "v=spf1 exists", "v=spf1 a:museum",
		"v=spf1 a:abc.123", "v=spf1 a:example.-com", "v=spf1 a:example.com:8080",
		"v=spf1 redirect:x.example.com", "v=spf1 1up=foo", "v=spf1 =all",
		"v=spf1 exp=", "v=spf1 redirect=", "v=spf1 exp=-all",
		"v=spf1 redirect=a.example.com redirect=b.example.com",
		"v=spf1 exp=a.example.com exp=b.example.com", "v=spf1 foo=%abc",
		"v=spf1 a:%{x}.example.com", "v=spf1 a:%{d0}.example.com",
		"v=spf1 exp=%{r}.example.com", "v=spf1 a:%{d", "v=spf1 a\t-all",
		"v=spf1 a:ctrl.example.com\rptr", "v=spf1 \x80" "a", "v=spf1 -redirect=x.com",
	};
	struct spf_record rec;
	char why[128];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int rc = spf_record_parse(good[i], strlen(good[i]), &rec, why, sizeof why);
		if (rc != 0)
			fail_msg("good record refused: %s (%s)", good[i], why);
		spf_record_free(&rec);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (spf_record_parse(bad[i], strlen(bad[i]), &rec, why, sizeof why) == 0)
			fail_msg("bad record accepted: %s", bad[i]);
		assert_int_equal(rec.n, 0);
	}
	assert_true(spf_record_is_v1((const unsigned char *)"v=spf1", 6));
	assert_false(spf_record_is_v1((const unsigned char *)"v=spf10", 7));
	assert_false(spf_record_is_v1((const unsigned char *)"v=spf1-all", 10));

	const char *r = "v=spf1 a/24//64 -mx:x.example.com/16 redirect=r.example.com";
	assert_int_equal(spf_record_parse(r, strlen(r), &rec, why, sizeof why), 0);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.t[0].cidr4, 24);
	assert_int_equal(rec.t[0].cidr6, 64);
	assert_int_equal(rec.t[1].qual, '-');
	assert_int_equal(rec.t[1].cidr4, 16);
	assert_int_equal(rec.t[1].spec.len, strlen("x.example.com"));
	assert_true(rec.has_redirect);
	spf_record_free(&rec);
}

/* ---- macros: RFC 7208 7.4 */

static const char *no_p(void *arg, const char *d)
{
	(void)arg;
	(void)d;
	return "mx.example.org";
}

static const struct spf_macro_env env4 = {
	.s = "strong-bad@email.example.com", .l = "strong-bad",
	.o = "email.example.com", .d = "email.example.com", .h = "mx.example.org",
	.r = "mx.example.net", .v = "in-addr", .i = "192.0.2.3", .c = "192.0.2.3",
	.t = "1700000000", .p = no_p,
};

static void expand_is(const struct spf_macro_env *env, const char *in, bool exp,
		      const char *want)
{
	char out[SPF_EXPAND_MAX];
	size_t len;

	if (spf_macro_expand(env, in, strlen(in), exp, out, sizeof out, &len) != 0)
		fail_msg("expansion of %s failed", in);
	if (strcmp(out, want) != 0 || len != strlen(want))
		fail_msg("%s: got '%s', want '%s'", in, out, want);
}

static void test_macro_examples(void **state)
{
	(void)state;
	static const char *const tab[][2] = {
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" }, { "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" }, { "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" }, { "%{d1}", "com" },
		{ "%{dr}", "com.example.email" }, { "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" }, { "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" }, { "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
		  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
		  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net" },
		{ "%{p}", "mx.example.org" }, { "%{p2}", "example.org" },
		{ "%%%_%-", "% %20" }, { "%{l99999999999999}", "strong-bad" },
		{ "%{s+=}", "strong-bad@email.example.com" },
		{ "%{l2r+-}", "bad.strong" },
	};
	for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++)
		expand_is(&env4, tab[k][0], false, tab[k][1]);
	/* upper case: URL-escaped (7.3) */
	struct spf_macro_env e = env4;
	e.l = "~jack&jill=up-a_b3.c";
	expand_is(&e, "l=%{L}", true, "l=~jack%26jill%3Dup-a_b3.c");
	/* c r t only in explanation text */
	expand_is(&env4, "%{c} %{r} %{t}", true, "192.0.2.3 mx.example.net 1700000000");
	char out[64];
	assert_int_equal(spf_macro_expand(&env4, "%{c}", 4, false, out, sizeof out, NULL), -1);
	/* the IPv6 example, nibbles upper case */
	e = env4;
	e.i = "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1";
	e.v = "ip6";
	expand_is(&e, "%{ir}.%{v}._spf.%{d2}",  false,
		  "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
}

static void test_macro_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"%", "%{", "%{d", "%{}", "%{x}", "%{d0}", "%{d2x}", "%a", "%(ir)",
		"foo%.sbl.example.com", "%{ir", "%{l1r-", "a b", "%{d\x01}",
	};
	char out[64];
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		if (spf_macro_check(bad[k], strlen(bad[k]), false, NULL) == 0)
			fail_msg("macro-string accepted: %s", bad[k]);
		if (spf_macro_expand(&env4, bad[k], strlen(bad[k]), false, out,
				     sizeof out, NULL) != -1)
			fail_msg("macro-string expanded: %s", bad[k]);
	}
	/* output bound: a full buffer is -2, never an overflow */
	assert_int_equal(spf_macro_expand(&env4, "%{s}%{s}%{s}", 12, false, out,
					  sizeof out, NULL), -2);
	assert_true(strlen(out) < sizeof out);
	assert_true(spf_domain_spec_ok("%{d}", 4));
	assert_true(spf_domain_spec_ok("_spf.%{d2}", 10));
	assert_false(spf_domain_spec_ok("%{d}.", 5));
	assert_false(spf_domain_spec_ok("", 0));
}

static void test_target_name(void **state)
{
	(void)state;
	char name[600];
	size_t len;

	/* 7.3: left labels dropped until 253 or fewer */
	memset(name, 'a', 300);
	for (size_t i = 9; i < 299; i += 10)
		name[i] = '.';
	memcpy(name + 300, ".example.com", 13);
	len = strlen(name);
	assert_true(spf_target_name(name, &len));
	assert_true(len <= DNS_NAME_MAX);
	assert_int_equal(len, strlen(name));
	assert_string_equal(name + len - 12, ".example.com");
	snprintf(name, sizeof name, "mail.example.com.");
	len = strlen(name);
	assert_true(spf_target_name(name, &len));
	assert_string_equal(name, "mail.example.com");
	snprintf(name, sizeof name, "mail.example...com");
	len = strlen(name);
	assert_false(spf_target_name(name, &len));
	memset(name, 'b', 64);
	memcpy(name + 64, ".com", 5);
	len = strlen(name);
	assert_false(spf_target_name(name, &len));
	memset(name, 'c', 300);	/* one label: nothing to drop */
	name[300] = '\0';
	len = 300;
	assert_false(spf_target_name(name, &len));
}

/* ---- whole checks against a zone */

struct run {
	struct spf_out out;
	size_t queries;
};

static struct run check_zone(struct ma_zone *z, const char *ip, const char *sender)
{
	struct ma_dns dns;
	struct run r;
	struct spf_request req = { .helo = "helo.example.org",
				   .receiver = "mx.example.org", .now = 1 };
	size_t before = ma_zone_queries(z);

	ma_zone_dns(z, &dns);
	req.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(req.family, ip, req.ip), 1);
	req.sender = sender;
	spf_check_mailfrom(&dns, &req, &r.out);
	r.queries = ma_zone_queries(z) - before;
	assert_int_equal(r.queries, r.out.queries);
	return r;
}

static struct run check(const char *zone_text, const char *ip, const char *sender)
{
	struct ma_zone *z = ma_zone_new();
	struct err err = { 0 };

	if (ma_zone_load(z, zone_text, strlen(zone_text), &err) != 0)
		fail_msg("zone: %s", err.msg);
	struct run r = check_zone(z, ip, sender);
	ma_zone_free(&z);
	return r;
}

/* a zone text buffer built line by line */
struct zbuf {
	char *p;
	size_t n, cap;
};

static void zadd(struct zbuf *z, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void zadd(struct zbuf *z, const char *fmt, ...)
{
	va_list ap;

	if (z->cap - z->n < 20000) {
		z->cap = z->cap * 2 + 40000;
		z->p = realloc(z->p, z->cap);
		assert_non_null(z->p);
	}
	va_start(ap, fmt);
	int n = vsnprintf(z->p + z->n, z->cap - z->n, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < z->cap - z->n);
	z->n += (size_t)n;
}

static void test_basic_results(void **state)
{
	(void)state;
	const char *zone =
		"example.com TXT \"v=spf1 ip4:192.0.2.0/24 ~all exp=e.example.com\"\n"
		"e.example.com TXT \"%{i} is not one of %{d}'s servers\"\n"
		"hard.example.com TXT \"v=spf1 -all exp=e.example.com\"\n"
		"temp.example.com TIMEOUT\n";
	struct run r = check(zone, "192.0.2.9", "a@example.com");
	assert_int_equal(r.out.result, SPF_PASS);
	assert_string_equal(r.out.mechanism, "ip4:192.0.2.0/24");
	assert_string_equal(r.out.reason, "example.com designates 192.0.2.9 as permitted sender");
	r = check(zone, "198.51.100.1", "a@example.com");
	assert_int_equal(r.out.result, SPF_SOFTFAIL);
	assert_string_equal(r.out.explanation, "");
	r = check(zone, "198.51.100.1", "a@hard.example.com");
	assert_int_equal(r.out.result, SPF_FAIL);
	assert_string_equal(r.out.explanation,
			    "198.51.100.1 is not one of hard.example.com's servers");
	assert_false(r.out.explanation_default);
	r = check(zone, "198.51.100.1", "a@temp.example.com");
	assert_int_equal(r.out.result, SPF_TEMPERROR);
	r = check(zone, "198.51.100.1", "a@nowhere.example.com");
	assert_int_equal(r.out.result, SPF_NONE);
	r = check(zone, "198.51.100.1", "a@[192.0.2.1]");
	assert_int_equal(r.out.result, SPF_NONE);
	assert_int_equal(r.queries, 0);
	r = check(zone, "::ffff:192.0.2.200", "a@example.com");
	assert_int_equal(r.out.result, SPF_PASS);

	/* %{p} inside explanation text asks DNS halfway through it */
	const char *pzone =
		"p.example.com TXT \"v=spf1 -all exp=pe.example.com\"\n"
		"pe.example.com TXT \"from %{p}, not one of %{d}'s hosts (%{i})\"\n"
		"9.2.0.192.in-addr.arpa PTR other.example.net\n"
		"9.2.0.192.in-addr.arpa PTR mail.p.example.com\n"
		"other.example.net A 192.0.2.9\n"
		"mail.p.example.com A 192.0.2.9\n";
	r = check(pzone, "192.0.2.9", "a@p.example.com");
	assert_int_equal(r.out.result, SPF_FAIL);
	assert_string_equal(r.out.explanation,
			    "from mail.p.example.com, not one of p.example.com's hosts (192.0.2.9)");
}

static void test_loops_are_permerror(void **state)
{
	(void)state;
	const char *zone =
		"self.example.com TXT \"v=spf1 include:self.example.com -all\"\n"
		"a.example.com TXT \"v=spf1 include:b.example.com -all\"\n"
		"b.example.com TXT \"v=spf1 include:a.example.com -all\"\n"
		"r.example.com TXT \"v=spf1 redirect=r.example.com\"\n"
		"r1.example.com TXT \"v=spf1 redirect=r2.example.com\"\n"
		"r2.example.com TXT \"v=spf1 include:%{d} redirect=r1.example.com\"\n"
		"c.example.com CNAME d.example.com\n"
		"d.example.com CNAME c.example.com\n"
		"cl.example.com TXT \"v=spf1 include:c.example.com -all\"\n";
	static const char *const senders[] = {
		"x@self.example.com", "x@a.example.com", "x@r.example.com",
		"x@r1.example.com",
	};
	for (size_t k = 0; k < sizeof senders / sizeof senders[0]; k++) {
		struct run r = check(zone, "192.0.2.1", senders[k]);
		assert_int_equal(r.out.result, SPF_PERMERROR);
		assert_int_equal(r.out.lookups, SPF_LOOKUPS_MAX);
		assert_true(r.queries <= SPF_LOOKUPS_MAX + 1);
		assert_non_null(strstr(r.out.reason, "more than 10"));
	}
	/* a CNAME loop is a DNS error: temperror, after one query */
	struct run r = check(zone, "192.0.2.1", "x@cl.example.com");
	assert_int_equal(r.out.result, SPF_TEMPERROR);
	assert_int_equal(r.queries, 2);
}

static void test_fifty_includes(void **state)
{
	(void)state;
	struct zbuf z = { 0 };

	/* a chain of 50 and one record with 50 includes */
	for (int k = 0; k < 50; k++)
		zadd(&z, "i%d.example.com TXT \"v=spf1 include:i%d.example.com ~all\"\n",
		     k, k + 1);
	zadd(&z, "i50.example.com TXT \"v=spf1 +all\"\n");
	zadd(&z, "wide.example.com TXT \"v=spf1");
	for (int k = 0; k < 50; k++)
		zadd(&z, " include:w%d.example.com", k);
	zadd(&z, " -all\"\n");
	for (int k = 0; k < 50; k++)
		zadd(&z, "w%d.example.com TXT \"v=spf1 ip4:203.0.113.%d -all\"\n", k, k);

	struct run r = check(z.p, "192.0.2.1", "x@i0.example.com");
	assert_int_equal(r.out.result, SPF_PERMERROR);
	assert_true(r.queries <= SPF_LOOKUPS_MAX + 1);
	r = check(z.p, "192.0.2.1", "x@wide.example.com");
	assert_int_equal(r.out.result, SPF_PERMERROR);
	assert_true(r.queries <= SPF_LOOKUPS_MAX + 1);
	/* the ninth include matches before the limit */
	r = check(z.p, "203.0.113.8", "x@wide.example.com");
	assert_int_equal(r.out.result, SPF_PASS);
	assert_string_equal(r.out.mechanism, "include:w8.example.com");
	assert_int_equal(r.out.lookups, 9);
	free(z.p);
}

static void test_malformed_macros(void **state)
{
	(void)state;
	static const char *const recs[] = {
		"v=spf1 a:%{ -all", "v=spf1 exists:%{q}.example.com", "v=spf1 a:%{d0}.x.com",
		"v=spf1 include:%", "v=spf1 exists:%{ir.x.com", "v=spf1 -all exp=%{t}.x.com",
		"v=spf1 mx:%{l1r-.x.com", "v=spf1 foo=%{", "v=spf1 redirect=%{d}%",
	};
	for (size_t k = 0; k < sizeof recs / sizeof recs[0]; k++) {
		char zone[256];
		snprintf(zone, sizeof zone, "m.example.com TXT \"%s\"\n", recs[k]);
		struct run r = check(zone, "192.0.2.1", "x@m.example.com");
		if (r.out.result != SPF_PERMERROR)
			fail_msg("%s gave %s", recs[k], spf_result_str(r.out.result));
		assert_int_equal(r.queries, 1);
	}
}

static void test_huge_records(void **state)
{
	(void)state;
	struct ma_zone *zone = ma_zone_new();
	struct err err = { 0 };
	struct zbuf z = { 0 };

	/* 16,000 octets of ip4 terms in strings: read whole, evaluated
	 * (longer than a zone text line, so added directly) */
	zadd(&z, "\"v=spf1\"");
	for (int k = 0; k < 1000; k++)
		zadd(&z, "%s\" ip4:10.%d.%d.1\"", k % 16 ? "" : " ", k / 250, k % 250);
	zadd(&z, " \" -all\"");
	assert_int_equal(ma_zone_add(zone, "big.example.com", "TXT", z.p, &err), 0);
	/* a record of 3,000 a terms: stopped at the 11th */
	z.n = 0;
	zadd(&z, "\"v=spf1");
	for (int k = 0; k < 3000; k++)
		zadd(&z, " a");
	zadd(&z, "\"");
	assert_int_equal(ma_zone_add(zone, "many.example.com", "TXT", z.p, &err), 0);
	assert_int_equal(ma_zone_add(zone, "many.example.com", "A", "198.51.100.1", &err), 0);
	/* an expansion far past SPF_EXPAND_MAX */
	z.n = 0;
	zadd(&z, "\"v=spf1 exists:");
	for (int k = 0; k < 700; k++)
		zadd(&z, "%%{s}");
	zadd(&z, ".example.com\"");
	assert_int_equal(ma_zone_add(zone, "exp.example.com", "TXT", z.p, &err), 0);

	struct run r = check_zone(zone, "10.3.249.1", "x@big.example.com");
	assert_int_equal(r.out.result, SPF_PASS);
	assert_int_equal(r.queries, 1);
	r = check_zone(zone, "192.0.2.1", "x@big.example.com");
	assert_int_equal(r.out.result, SPF_FAIL);
	r = check_zone(zone, "192.0.2.1", "x@many.example.com");
	assert_int_equal(r.out.result, SPF_PERMERROR);
	assert_true(r.queries <= SPF_LOOKUPS_MAX + 1);
	r = check_zone(zone, "192.0.2.1", "x@exp.example.com");
	assert_int_equal(r.out.result, SPF_PERMERROR);
	assert_non_null(strstr(r.out.reason, "too long"));
	assert_int_equal(r.queries, 1);
	free(z.p);
	ma_zone_free(&zone);
}

static void test_mx_ptr_void_limits(void **state)
{
	(void)state;
	struct zbuf z = { 0 };

	zadd(&z, "mx.example.com TXT \"v=spf1 mx -all\"\n");
	for (int k = 0; k < 60; k++)
		zadd(&z, "mx.example.com MX %d h%d.example.com\nh%d.example.com A 10.0.0.%d\n",
		     k, k, k, k);
	zadd(&z, "ptr.example.com TXT \"v=spf1 ptr -all\"\n");
	for (int k = 0; k < 60; k++)
		zadd(&z, "1.2.0.192.in-addr.arpa PTR p%d.ptr.example.com\n"
		     "p%d.ptr.example.com A 192.0.2.1\n", k, k);
	zadd(&z, "void.example.com TXT \"v=spf1 a:n1.example.com a:n2.example.com "
		 "mx:n3.example.com -all\"\n");

	/* MX: the tenth name matches; an eleventh needed is a permerror */
	struct run r = check(z.p, "10.0.0.9", "x@mx.example.com");
	assert_int_equal(r.out.result, SPF_PASS);
	r = check(z.p, "10.0.0.10", "x@mx.example.com");
	assert_int_equal(r.out.result, SPF_PERMERROR);
	assert_true(r.queries <= 2 + SPF_MX_NAMES_MAX);
	/* PTR: at most 10 names validated */
	r = check(z.p, "192.0.2.1", "x@ptr.example.com");
	assert_int_equal(r.out.result, SPF_PASS);
	assert_true(r.queries <= 2 + SPF_PTR_NAMES_MAX);
	r = check(z.p, "192.0.2.2", "x@ptr.example.com");
	assert_int_equal(r.out.result, SPF_FAIL);
	/* the third void lookup */
	r = check(z.p, "192.0.2.1", "x@void.example.com");
	assert_int_equal(r.out.result, SPF_PERMERROR);
	assert_int_equal(r.out.void_lookups, 3);
	free(z.p);
}

/* ---- Received-SPF */

static void test_received_spf(void **state)
{
	(void)state;
	struct spf_request req = {
		.family = AF_INET, .sender = "a\"b@example.com",
		.helo = "evil\r\nX-Injected: yes (", .receiver = "mx.example.org",
	};
	struct spf_out out = { .result = SPF_PERMERROR, .identity = SPF_ID_MAILFROM };
	char buf[SPF_HEADER_MAX];

	inet_pton(AF_INET, "192.0.2.1", req.ip);
	snprintf(out.reason, sizeof out.reason, "syntax error (unbalanced \\ paren");
	snprintf(out.mechanism, sizeof out.mechanism, "ip4:192.0.2.0/24");
	int n = spf_received_spf(&req, &out, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_int_equal(strncmp(buf, "Received-SPF: permerror (mx.example.org: ", 41), 0);
	assert_non_null(strstr(buf, "envelope-from=\"a\\\"b@example.com\";"));
	assert_non_null(strstr(buf, "helo=\"evil??X-Injected: yes (\";"));
	assert_non_null(strstr(buf, "\\(unbalanced \\\\ paren)"));
	assert_non_null(strstr(buf, "mechanism=\"ip4:192.0.2.0/24\";"));
	assert_non_null(strstr(buf, "problem="));
	/* CR only in CRLF TAB folds, lines short */
	size_t line = 0;
	for (const char *p = buf; *p != '\0'; p++) {
		if (*p == '\r') {
			assert_true(p[1] == '\n' && p[2] == '\t');
			assert_true(line <= 80);
			line = 0;
			p++;
			continue;
		}
		assert_true(*p != '\n');
		line++;
	}
	assert_int_equal(spf_received_spf(&req, &out, buf, 40), -1);
}

static void test_zone_timeout_per_type(void **state)
{
	(void)state;
	const char *zone = "t.example.com TXT \"v=spf1 -all\"\nt.example.com TIMEOUT\n";
	struct ma_zone *z = ma_zone_new();
	struct err err = { 0 };
	struct ma_dns dns;
	struct ma_rrset *s = malloc(sizeof *s);

	assert_non_null(s);
	assert_int_equal(ma_zone_load(z, zone, strlen(zone), &err), 0);
	ma_zone_dns(z, &dns);
	ma_dns_query(&dns, "t.example.com", MA_RR_TXT, s);
	assert_int_equal(s->rc, MA_DNS_OK);
	ma_dns_query(&dns, "t.example.com", MA_RR_A, s);
	assert_int_equal(s->rc, MA_DNS_TEMPFAIL);
	assert_int_equal(ma_zone_add(z, "sp\\032ace\\.x.example.com", "A", "192.0.2.1", &err), 0);
	ma_dns_query(&dns, "sp ace.x.example.com", MA_RR_A, s);
	assert_int_equal(s->rc, MA_DNS_OK);
	free(s);
	ma_zone_free(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_syntax),
		cmocka_unit_test(test_macro_examples),
		cmocka_unit_test(test_macro_malformed),
		cmocka_unit_test(test_target_name),
		cmocka_unit_test(test_basic_results),
		cmocka_unit_test(test_loops_are_permerror),
		cmocka_unit_test(test_fifty_includes),
		cmocka_unit_test(test_malformed_macros),
		cmocka_unit_test(test_huge_records),
		cmocka_unit_test(test_mx_ptr_void_limits),
		cmocka_unit_test(test_received_spf),
		cmocka_unit_test(test_zone_timeout_per_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
