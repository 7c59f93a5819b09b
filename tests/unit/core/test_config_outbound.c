/* test_config_outbound.c - the outbound keys' values: retry schedules,
 * next hops in every spelling, transports, domain lists with wildcards,
 * TLS modes; bad values refused with a reason; dump reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

static void test_retry(void **state)
{
	(void)state;
	struct cfg_retry r;
	char why[200], back[200];
	assert_int_equal(cfg_parse_retry("5m, 10m 1h", &r, why, sizeof why), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(cfg_retry_delay(&r, 0), 300);
	assert_int_equal(cfg_retry_delay(&r, 2), 3600);
	assert_int_equal(cfg_retry_delay(&r, 50), 3600);	/* last repeats */
	cfg_format_retry(&r, back, sizeof back);
	assert_string_equal(back, "5m 10m 1h");
	assert_int_equal(cfg_parse_retry("", &r, why, sizeof why), -1);
	assert_int_equal(cfg_parse_retry("5x", &r, why, sizeof why), -1);
	assert_int_equal(cfg_parse_retry("8d", &r, why, sizeof why), -1);
	assert_non_null(strstr(why, "8d"));
}

static void test_nexthop(void **state)
{
	(void)state;
	struct cfg_nexthop h;
	char why[200], back[300];
	static const struct {
		const char *in, *host, *back;
		unsigned port;
		bool literal;
	} ok[] = {
		{ "mx.Example.com", "mx.example.com", "mx.example.com", 0, false },
		{ "mx.example.com:2525", "mx.example.com", "mx.example.com:2525", 2525, false },
		{ "[gw.corp]:587", "gw.corp", "[gw.corp]:587", 587, true },
		{ "[gw.corp]", "gw.corp", "[gw.corp]", 0, true },
		{ "10.0.0.5:25", "10.0.0.5", "10.0.0.5:25", 25, true },
		{ "[::1]:2525", "::1", "[::1]:2525", 2525, true },
		{ "::1", "::1", "[::1]", 0, true },
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		assert_int_equal(cfg_parse_nexthop(ok[i].in, strlen(ok[i].in),
						   &h, why, sizeof why), 0);
		assert_string_equal(h.host, ok[i].host);
		assert_int_equal(h.port, ok[i].port);
		assert_int_equal(h.literal, ok[i].literal);
		cfg_format_nexthop(&h, back, sizeof back);
		assert_string_equal(back, ok[i].back);
	}
	static const char *const bad[] = { "", ":25", "host:0", "host:65536",
		"host:x", "[gw.corp", "[gw]x", "bad_name", ".lead", "trail.",
		"a b" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(cfg_parse_nexthop(bad[i], strlen(bad[i]), &h,
						   why, sizeof why), -1);
}

static void test_transports_domains(void **state)
{
	(void)state;
	struct cfg_transports t;
	char why[200], back[600];
	assert_int_equal(cfg_parse_transports(
		"partner.example=10.0.0.5:25, *.Corp.example=[gw.corp]:2525",
		&t, why, sizeof why), 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.e[1].domain, "*.corp.example");
	cfg_format_transports(&t, back, sizeof back);
	assert_string_equal(back, "partner.example=10.0.0.5:25, "
				  "*.corp.example=[gw.corp]:2525");
	assert_int_equal(cfg_parse_transports("a.example=x, a.example=y", &t,
					      why, sizeof why), -1);
	assert_non_null(strstr(why, "twice"));
	assert_int_equal(cfg_parse_transports("a.example", &t, why, sizeof why), -1);

	struct cfg_domains d;
	assert_int_equal(cfg_parse_domains("bank.example *.gov.example", &d,
					   why, sizeof why), 0);
	assert_int_equal(d.n, 2);
	assert_true(cfg_domain_match(d.name[0], "BANK.example"));
	assert_false(cfg_domain_match(d.name[0], "x.bank.example"));
	assert_true(cfg_domain_match(d.name[1], "tax.gov.example"));
	assert_true(cfg_domain_match(d.name[1], "a.b.gov.example"));
	assert_false(cfg_domain_match(d.name[1], "gov.example"));
	assert_false(cfg_domain_match(d.name[1], "xgov.example"));
	assert_int_equal(cfg_parse_domains("*", &d, why, sizeof why), -1);

	enum cfg_tls_mode m;
	assert_int_equal(cfg_parse_tls_mode("implicit", &m, why, sizeof why), 0);
	assert_int_equal(m, CFG_TLS_IMPLICIT);
	assert_string_equal(cfg_tls_mode_name(m), "implicit");
	assert_int_equal(cfg_parse_tls_mode("yes", &m, why, sizeof why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_nexthop),
		cmocka_unit_test(test_transports_domains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
