/* test_config_sni.c - the tls_sni value: entries, wildcards, lower-casing,
 * bad names and shapes, duplicates, the count limit, and the text back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

static struct cfg_sni_list l;

static void test_entries(void **state)
{
	(void)state;
	char why[256];
	assert_int_equal(cfg_parse_sni(" Mail.A.example:/c/a.pem:/c/a.key ,*.b.example:b.crt:b.key,",
				       &l, why, sizeof why), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.e[0].name, "mail.a.example");
	assert_string_equal(l.e[0].cert, "/c/a.pem");
	assert_string_equal(l.e[0].key, "/c/a.key");
	assert_string_equal(l.e[1].name, "*.b.example");
	assert_string_equal(l.e[1].key, "b.key");
	char text[512];
	cfg_format_sni(&l, text, sizeof text);
	assert_string_equal(text, "mail.a.example:/c/a.pem:/c/a.key, *.b.example:b.crt:b.key");
	assert_int_equal(cfg_parse_sni("", &l, why, sizeof why), 0);
	assert_int_equal(l.n, 0);
}

static void test_bad(void **state)
{
	(void)state;
	char why[256];
	const char *bad[] = {
		"a.example:/c/a.pem", "a.example:c:k:x", ":c:k", "a.example::k",
		"a.example:c:", "a_b.example:c:k", "*.:c:k", "*:c:k", "a.*.example:c:k",
		".a.example:c:k", "a.example.:c:k", "a.example:c:k, A.example:d:e",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (cfg_parse_sni(bad[i], &l, why, sizeof why) == 0)
			fail_msg("accepted '%s'", bad[i]);
	char many[CFG_MAX_SNI * 24 + 64] = "";
	for (int i = 0; i <= CFG_MAX_SNI; i++) {
		size_t n = strlen(many);
		snprintf(many + n, sizeof many - n, "h%d.example:c:k,", i);
	}
	assert_int_equal(cfg_parse_sni(many, &l, why, sizeof why), -1);
	assert_non_null(strstr(why, "more than"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
