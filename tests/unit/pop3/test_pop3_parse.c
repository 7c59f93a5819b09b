/* test_pop3_parse.c - POP3 command lines: keywords in any case, argument
 * splitting, PASS keeping its whole rest, control bytes and NULs refused,
 * message numbers and TOP counts at their limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pop3/pop3_parse.h"

static int parse(const char *s, size_t len, struct pop3_cmd *cmd)
{
	/* an exactly sized heap copy so ASan sees any read past the end */
	unsigned char *p = malloc(len ? len : 1);
	memcpy(p, s, len);
	struct err err;
	int rc = pop3_cmd_parse(span_make(p, len), cmd, &err);
	/* the spans point into p: compare before freeing */
	static unsigned char keep[256];
	if (rc == 0 && len < sizeof keep) {
		memcpy(keep, p, len);
		for (unsigned i = 0; i < cmd->nargs; i++)
			cmd->args[i].p = keep + (cmd->args[i].p - p);
		cmd->rest.p = keep + (cmd->rest.p - p);
	}
	free(p);
	return rc;
}

#define P(s, cmd) parse(s, sizeof(s) - 1, cmd)

static void test_verbs(void **state)
{
	(void)state;
	struct pop3_cmd c;
	assert_int_equal(P("stat", &c), 0);
	assert_int_equal(c.verb, POP3_STAT);
	assert_int_equal(P("Retr 1", &c), 0);
	assert_int_equal(c.verb, POP3_RETR);
	assert_int_equal(c.nargs, 1);
	assert_true(span_eq_ci(c.args[0], "1"));
	assert_int_equal(P("TOP 2 10", &c), 0);
	assert_int_equal(c.nargs, 2);
	assert_int_equal(P("XYZZY", &c), 0);
	assert_int_equal(c.verb, POP3_UNKNOWN);
	assert_int_equal(P("STATS", &c), 0);
	assert_int_equal(c.verb, POP3_UNKNOWN);
	assert_int_equal(P("", &c), 0);
	assert_int_equal(c.verb, POP3_UNKNOWN);
}

static void test_pass_keeps_spaces(void **state)
{
	(void)state;
	struct pop3_cmd c;
	assert_int_equal(P("PASS my secret  pass word", &c), 0);
	assert_int_equal(c.verb, POP3_PASS);
	assert_int_equal(c.rest.len, strlen("my secret  pass word"));
	assert_memory_equal(c.rest.p, "my secret  pass word", c.rest.len);
}

static void test_bad(void **state)
{
	(void)state;
	struct pop3_cmd c;
	assert_int_equal(P("LIST 1 2 3", &c), -1);
	assert_int_equal(parse("NOOP\0x", 6, &c), -1);
	assert_int_equal(P("USER a\tb", &c), -1);
	assert_int_equal(P("USER a\x7f", &c), -1);
}

static void test_numbers(void **state)
{
	(void)state;
	uint32_t n;
	assert_true(pop3_parse_msgno(span_cstr("1"), 5, &n));
	assert_int_equal(n, 1);
	assert_true(pop3_parse_msgno(span_cstr("5"), 5, &n));
	assert_false(pop3_parse_msgno(span_cstr("6"), 5, &n));	/* max + 1 */
	assert_false(pop3_parse_msgno(span_cstr("0"), 5, &n));
	assert_false(pop3_parse_msgno(span_cstr("-1"), 5, &n));
	assert_false(pop3_parse_msgno(span_cstr("1a"), 5, &n));
	assert_false(pop3_parse_msgno(span_cstr(""), 5, &n));
	assert_false(pop3_parse_msgno(span_cstr("99999999999"), UINT32_MAX, &n));
	assert_true(pop3_parse_msgno(span_cstr("4294967295"), UINT32_MAX, &n));
	assert_true(pop3_parse_count(span_cstr("0"), &n));
	assert_int_equal(n, 0);
	assert_true(pop3_parse_count(span_cstr("99999999999999999999999"), &n));
	assert_int_equal(n, UINT32_MAX);
	assert_false(pop3_parse_count(span_cstr("1 "), &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_pass_keeps_spaces),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
