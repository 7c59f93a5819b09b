/* test_lookalike.c - src/filter/lookalike*.c: lookalike domains of the
 * hosted domains and brands (digit swaps, rn/m, Cyrillic letters,
 * transpositions, diacritics), what is never a lookalike (the domain,
 * its subdomains, the allow list, unrelated names), mixed-script labels,
 * bad input, and display-name impersonation of the organisation's users
 * (the CEO-fraud case). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter/lookalike.h"

static struct lookalike_set *dom_set;
static struct imperson_set *users_set;

static int setup(void **state)
{
	static const char *const prot[] = { "example.com", "petrel.test",
					    "paypal.com", "ibm.com",
					    "northwindtraders.com" };
	static const struct imperson_user users[] = {
		{ "Jane Smith", "ceo@example.com" },
		{ "Bob", "bob@example.com" },
		{ NULL, "john.doe@example.com" },
		{ "王小明", "wang@example.com" },
		{ "Борис Петров", "boris@example.com" },
	};
	static const char *const hosted[] = { "example.com", "example.org" };
	struct err err;
	(void)state;

	if (lookalike_set_new(prot, 5, NULL, 0, &dom_set, &err) < 0)
		return -1;
	if (imperson_set_new(users, 5, hosted, 2, &users_set, &err) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lookalike_set_free(&dom_set);
	imperson_set_free(&users_set);
	assert_null(dom_set);
	return 0;
}

static int check(const char *d, struct lookalike_result *r)
{
	return lookalike_check(dom_set, d, strlen(d), r);
}

static void test_digit_swap(void **state)
{
	struct lookalike_result r;
	(void)state;

	assert_int_equal(check("examp1e.com", &r), 1);
	assert_true(r.why & LOOKALIKE_HOMOGLYPH);
	assert_string_equal(r.match, "example.com");
	assert_string_equal(r.reason, "examp1e.com looks like example.com (1 = l)");
	assert_int_equal(check("EXAMP1E.COM.", &r), 1);
	assert_string_equal(r.domain, "examp1e.com");
	assert_int_equal(check("paypa1.com", &r), 1);
	assert_int_equal(check("payp4l.com", &r), 1);	/* one edit */
	assert_true(r.why & LOOKALIKE_EDIT);
	assert_int_equal(check("petre1.test", &r), 1);
	assert_int_equal(check("p3trel.test", &r), 1);
	assert_int_equal(check("exampl3.com", &r), 1);
	assert_int_equal(check("ex4mple.com", &r), 1);
	/* another suffix: same skeleton still counts, edits do not */
	assert_int_equal(check("examp1e.net", &r), 1);
	assert_int_equal(check("exampel.net", &r), 0);
}

static void test_rn_m(void **state)
{
	struct lookalike_result r;
	(void)state;

	assert_int_equal(check("exarnple.com", &r), 1);
	assert_true(r.why & LOOKALIKE_HOMOGLYPH);
	assert_string_equal(r.reason, "exarnple.com looks like example.com (rn = m)");
	assert_int_equal(check("northvvindtraders.com", &r), 1);
	assert_string_equal(r.match, "northwindtraders.com");
}

static void test_cyrillic(void **state)
{
	struct lookalike_result r;
	(void)state;

	/* Cyrillic е (U+0435) for e */
	assert_int_equal(check("\xd0\xb5xample.com", &r), 1);
	assert_true(r.why & LOOKALIKE_HOMOGLYPH);
	assert_true(r.why & LOOKALIKE_MIXED);
	assert_string_equal(r.domain, "xn--xample-2of.com");
	assert_string_equal(r.match, "example.com");
	assert_string_equal(r.reason,
			    "xn--xample-2of.com looks like example.com (U+0435 = e)");
	assert_int_equal(check("xn--xample-2of.com", &r), 1);
	assert_string_equal(r.match, "example.com");
	/* all-Cyrillic раураl: no mixed label, still a homoglyph */
	assert_int_equal(check("\xd1\x80\xd0\xb0\xd1\x83\xd1\x80\xd0\xb0\xd3\x8f.com", &r), 1);
	assert_int_equal(r.why, LOOKALIKE_HOMOGLYPH);
	assert_string_equal(r.match, "paypal.com");
	/* Greek ο */
	assert_int_equal(check("petrel.test", &r), 0);
	assert_int_equal(check("p\xce\xbftrel.test", &r), 1);	/* pοtrel: 1 edit */
	/* diacritics */
	assert_int_equal(check("ex\xc3\xa4mple.com", &r), 1);
	assert_true(r.why & LOOKALIKE_HOMOGLYPH);
	assert_string_equal(r.reason,
			    "xn--exmple-cua.com looks like example.com (U+00E4 = a)");
}

static void test_transposition(void **state)
{
	struct lookalike_result r;
	(void)state;

	assert_int_equal(check("exampel.com", &r), 1);
	assert_int_equal(r.why, LOOKALIKE_EDIT);
	assert_int_equal(r.distance, 1);
	assert_string_equal(r.reason, "exampel.com is 1 edit from example.com");
	assert_int_equal(check("exmaple.com", &r), 1);
	assert_int_equal(check("examples.com", &r), 1);
	assert_int_equal(check("exampe.com", &r), 1);
	/* two edits are allowed from nine letters on */
	assert_int_equal(check("nortwindtrader.com", &r), 1);
	assert_int_equal(r.distance, 2);
	assert_int_equal(check("exmpel.com", &r), 0);	/* 2 edits, 7 letters */
}

static void test_not_lookalike(void **state)
{
	static const char *const no[] = {
		"example.com", "sub.example.com", "a.b.example.com",
		"Example.COM", "example.com.", "totally-different.com",
		"examine.com", "sample.com", "example.net", "ibn.com", "ibm.org",
		"petrel.org", "gmail.com", "com", "localhost", "paypal.co.uk",
		"xn--80ak6aa92e.com",	/* all-Cyrillic, no Latin lookalike */
	};
	struct lookalike_result r;
	(void)state;

	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		int rc = check(no[i], &r);
		if (rc != 0)
			fail_msg("%s: %d %s", no[i], rc, r.reason);
	}
}

static void test_mixed_script(void **state)
{
	struct lookalike_result r;
	(void)state;

	/* Latin "bank" with Cyrillic а, nothing protected resembles it */
	assert_int_equal(check("b\xd0\xb0nk.test", &r), 1);
	assert_int_equal(r.why, LOOKALIKE_MIXED);
	assert_string_equal(r.match, "");
	assert_non_null(strstr(r.reason, "mixes Latin and Cyrillic"));
	/* in a subdomain label too */
	assert_int_equal(check("l\xce\xbfgin.unrelated.test", &r), 1);
	assert_non_null(strstr(r.reason, "Latin and Greek"));
	/* the xn-- form is decoded */
	char a[300];
	snprintf(a, sizeof a, "%s", r.domain);
	assert_int_equal(check(a, &r), 1);
	assert_int_equal(r.why, LOOKALIKE_MIXED);
	/* Latin with Japanese is ordinary */
	assert_int_equal(check("\xe6\x97\xa5\xe6\x9c\xac" "shop.test", &r), 0);
	/* a mixed label under a protected domain is the owner's business */
	assert_int_equal(check("b\xd0\xb0nk.example.com", &r), 0);
}

static void test_allow(void **state)
{
	static const char *const prot[] = { "example.com" };
	static const char *const allow[] = { "examp1e.com", "xn--xample-2of.com" };
	struct lookalike_set *s;
	struct lookalike_result r;
	struct err err;
	(void)state;

	assert_int_equal(lookalike_set_new(prot, 1, allow, 2, &s, &err), 0);
	assert_int_equal(lookalike_check(s, "examp1e.com", 11, &r), 0);
	assert_int_equal(lookalike_check(s, "www.examp1e.com", 15, &r), 0);
	assert_int_equal(lookalike_check(s, "\xd0\xb5xample.com", 12, &r), 0);
	assert_int_equal(lookalike_check(s, "exarnple.com", 12, &r), 1);
	lookalike_set_free(&s);

	assert_int_equal(lookalike_set_new(prot, FILTER_LOOKALIKE_PROTECTED_MAX + 1,
					   NULL, 0, &s, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);

	static const char *const bad[] = { "example.com", "not a domain" };
	assert_int_equal(lookalike_set_new(bad, 2, NULL, 0, &s, &err), -1);
	assert_null(s);
	assert_non_null(strstr(err.msg, "protected entry 2"));
}

static void test_bad_input(void **state)
{
	struct lookalike_result r;
	char big[FILTER_LOOKALIKE_INPUT_MAX + 10];
	(void)state;

	assert_int_equal(lookalike_check(dom_set, "", 0, &r), -1);
	assert_string_not_equal(r.reason, "");
	assert_int_equal(lookalike_check(dom_set, "a\0b.com", 7, &r), -1);
	assert_int_equal(check("exa mple.com", &r), -1);
	assert_int_equal(check("xn--zz.com", &r), 0);	/* bad Punycode */
	memset(big, 'a', sizeof big);
	assert_int_equal(lookalike_check(dom_set, big, sizeof big, &r), -1);
	/* a long but valid name ends quickly */
	memset(big, 'a', 63);
	memcpy(big + 63, ".com", 5);
	assert_int_equal(check(big, &r), 0);
	assert_int_equal(check("\xff\xfe.com", &r), -1);
}

static int imp(const char *name, const char *addr, struct imperson_result *r)
{
	return imperson_check(users_set, name, strlen(name), addr, strlen(addr), r);
}

static void test_imperson(void **state)
{
	struct imperson_result r;
	(void)state;

	assert_int_equal(imp("Jane Smith", "jane@evil.test", &r), 1);
	assert_int_equal(r.via, IMPERSON_NAME);
	assert_string_equal(r.user, "ceo@example.com");
	assert_string_equal(r.reason, "display name \"Jane Smith\" of "
			    "jane@evil.test (outside) is user ceo@example.com");
	assert_int_equal(imp("jane smith", "x@evil.test", &r), 1);
	assert_int_equal(imp("  JANE   SMITH ", "x@evil.test", &r), 1);
	assert_int_equal(imp("Smith, Jane", "x@evil.test", &r), 1);
	assert_int_equal(imp("jane.smith", "x@evil.test", &r), 1);
	assert_int_equal(imp("J\xc3\xa1ne Sm\xc3\xafth", "x@evil.test", &r), 1);
	assert_int_equal(imp("Jane Q. Smith", "x@evil.test", &r), 1);
	assert_int_equal(imp("J\xd0\xb0ne Smith", "x@evil.test", &r), 1);	/* Cyrillic а */
	assert_int_equal(imp("Jane Sm1th", "x@evil.test", &r), 1);
	/* the local part of a user with no display name */
	assert_int_equal(imp("John Doe", "x@evil.test", &r), 1);
	assert_int_equal(r.via, IMPERSON_LOCALPART);
	assert_string_equal(r.user, "john.doe@example.com");
	/* a CJK name written without spaces */
	assert_int_equal(imp("\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e", "x@evil.test", &r), 1);
	/* Cyrillic capitals */
	assert_int_equal(imp("\xd0\x91\xd0\x9e\xd0\xa0\xd0\x98\xd0\xa1 \xd0\x9f\xd0\x95\xd0\xa2\xd0\xa0\xd0\x9e\xd0\x92", "x@evil.test", &r), 1);
	assert_string_equal(r.user, "boris@example.com");
	/* the user's address inside the display name */
	assert_int_equal(imp("ceo@example.com", "x@evil.test", &r), 1);
	assert_int_equal(r.via, IMPERSON_ADDRESS);
	assert_int_equal(imp("\"CEO@Example.com via Docs\"", "x@evil.test", &r), 1);
	assert_string_equal(r.user, "ceo@example.com");
	assert_int_equal(imp("Jane Smith", "not-an-address", &r), 1);
}

static void test_imperson_not(void **state)
{
	struct imperson_result r;
	(void)state;

	/* from inside: the hosted domains and their subdomains */
	assert_int_equal(imp("Jane Smith", "ceo@example.com", &r), 0);
	assert_int_equal(imp("Jane Smith", "jane@EXAMPLE.ORG", &r), 0);
	assert_int_equal(imp("Jane Smith", "jane@mail.example.com", &r), 0);
	assert_string_equal(r.reason, "");
	/* other names, one-word names, partial names */
	assert_int_equal(imp("Jane Doe", "x@evil.test", &r), 0);
	assert_int_equal(imp("Bob", "bob@evil.test", &r), 0);
	assert_int_equal(imp("Jane", "x@evil.test", &r), 0);
	assert_int_equal(imp("Jane Smith Consulting", "x@evil.test", &r), 0);
	assert_int_equal(imp("", "x@evil.test", &r), 0);
	assert_int_equal(imp("ceo@example.com.evil.test", "x@evil.test", &r), 0);
	assert_int_equal(imp("aa bb cc dd ee ff gg Jane Smith", "x@evil.test", &r), 0);
}

static void test_imperson_bounds(void **state)
{
	struct imperson_result r;
	size_t n = 10 * 1024 * 1024;
	char *big = malloc(n);
	(void)state;

	assert_non_null(big);
	memset(big, '@', n);
	assert_int_equal(imperson_check(users_set, big, n, "x@evil.test", 11, &r), 0);
	memset(big, 'a', n);
	assert_int_equal(imperson_check(users_set, big, n, big, n, &r), 0);
	free(big);

	/* many users: build stays linear, lookups find the last */
	size_t nu = 20000;
	struct imperson_user *u = calloc(nu, sizeof *u);
	char (*names)[40] = calloc(nu, 40), (*addrs)[40] = calloc(nu, 40);
	assert_non_null(u);
	for (size_t i = 0; i < nu; i++) {
		snprintf(names[i], 40, "User%zu Family", i);
		snprintf(addrs[i], 40, "u%zu@big.test", i);
		u[i].name = names[i];
		u[i].address = addrs[i];
	}
	struct imperson_set *s;
	struct err err;
	assert_int_equal(imperson_set_new(u, nu, NULL, 0, &s, &err), 0);
	assert_int_equal(imperson_check(s, "family user19999", 16, "x@y.test", 8, &r), 1);
	assert_string_equal(r.user, "u19999@big.test");
	imperson_set_free(&s);
	free(u);
	free(names);
	free(addrs);

	static const struct imperson_user bad[] = { { "A B", "no-at-sign" } };
	assert_int_equal(imperson_set_new(bad, 1, NULL, 0, &s, &err), -1);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digit_swap),
		cmocka_unit_test(test_rn_m),
		cmocka_unit_test(test_cyrillic),
		cmocka_unit_test(test_transposition),
		cmocka_unit_test(test_not_lookalike),
		cmocka_unit_test(test_mixed_script),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_imperson),
		cmocka_unit_test(test_imperson_not),
		cmocka_unit_test(test_imperson_bounds),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
