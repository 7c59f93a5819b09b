/* test_csv.c - cmocka tests of src/core/csv.c: a table of valid inputs
 * (quoting, doubled quotes, embedded separators and line breaks, BOM,
 * ';' detected from the header, CRLF and LF, blank lines, a trailing
 * empty field) with their records, a table of malformed ones with the
 * reason and line, and each limit at the limit and limit + 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/csv.h"

static const struct csv_limits lim = { 256, 8, 100 };

/* The records of text as "a|b|c/line" joined by "\n". */
static int render(const char *text, size_t len, const struct csv_limits *l,
		  char *out, size_t outsz, char *sep_out)
{
	struct csv_reader *r = csv_new(span_make(text, len), l);
	struct csv_record rec;
	size_t used = 0;
	int rc;
	out[0] = '\0';
	while ((rc = csv_next(r, &rec)) == 1) {
		for (size_t i = 0; i < rec.nfields; i++)
			used += (size_t)snprintf(out + used, outsz - used, "%s%s",
						 i ? "|" : "", rec.field[i]);
		used += (size_t)snprintf(out + used, outsz - used, "/%zu\n",
					 rec.line);
	}
	if (sep_out != NULL)
		*sep_out = csv_separator(r);
	csv_free(&r);
	assert_null(r);
	return rc;
}

static void test_valid(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
		char sep;
	} t[] = {
		{ "a,b\n1,2\n", "a|b/1\n1|2/2\n", ',' },
		{ "a,b\r\n1,2\r\n", "a|b/1\n1|2/2\n", ',' },
		{ "a,b\n1,2", "a|b/1\n1|2/2\n", ',' },		/* no final EOL */
		{ "\xef\xbb\xbf" "a;b\n1;2,5\n", "a|b/1\n1|2,5/2\n", ';' },
		{ "a;b,c;d\n", "a|b,c|d/1\n", ';' },
		{ "a,b;c\n", "a|b;c/1\n", ',' },		/* tie: none */
		{ "\"a,b\",c\n", "a,b|c/1\n", ',' },
		{ "a,\"x\ny\"\nnext,1\n", "a|x\ny/1\nnext|1/3\n", ',' },
		{ "a,\"he said \"\"hi\"\"\"\n", "a|he said \"hi\"/1\n", ',' },
		{ "a,\"\"\n", "a|/1\n", ',' },
		{ "a,b,\n", "a|b|/1\n", ',' },
		{ "a,b,", "a|b|/1\n", ',' },
		{ "a\n\n\r\nb\n", "a/1\nb/4\n", ',' },
		{ "\"h;1\",x\n", "h;1|x/1\n", ',' },	/* quoted ';' not counted */
		{ "caf\xc3\xa9,\xe4\xb8\xad\xf0\x9f\x98\x80\n",
		  "caf\xc3\xa9|\xe4\xb8\xad\xf0\x9f\x98\x80/1\n", ',' },
		{ "", "", ',' },
		{ "\xef\xbb\xbf", "", ',' },
	};
	char out[512], sep;
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		int rc = render(t[i].in, strlen(t[i].in), &lim, out, sizeof out,
				&sep);
		if (rc != 0 || strcmp(out, t[i].want) != 0 || sep != t[i].sep)
			fail_msg("case %zu: rc %d got [%s] want [%s]", i, rc,
				 out, t[i].want);
	}
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;	/* 0: strlen */
		const char *why;
		size_t line;
	} t[] = {
		{ "a,\"open\n", 0, "not closed", 1 },
		{ "a\nb,\"x\"y\n", 0, "after a closing quote", 2 },
		{ "a,b\"c\n", 0, "quote inside", 1 },
		{ "a\rb\n", 0, "CR without LF", 1 },
		{ "a,b\r", 0, "CR without LF", 1 },
		{ "a,\xff\n", 0, "not UTF-8", 1 },
		{ "a,\xc0\xaf\n", 0, "not UTF-8", 1 },		/* overlong */
		{ "a,\xed\xa0\x80\n", 0, "not UTF-8", 1 },	/* surrogate */
		{ "a,\xe4\xb8\n", 0, "not UTF-8", 1 },		/* cut */
		{ "a,b\0c\n", 6, "NUL", 1 },
		{ "a,\"b\0c\"\n", 8, "NUL", 1 },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		size_t len = t[i].len ? t[i].len : strlen(t[i].in);
		struct csv_reader *r = csv_new(span_make(t[i].in, len), &lim);
		struct csv_record rec;
		int rc;
		while ((rc = csv_next(r, &rec)) == 1)
			;
		size_t line;
		const char *why = csv_error(r, &line);
		if (rc != -1 || strstr(why, t[i].why) == NULL || line != t[i].line)
			fail_msg("case %zu: rc %d why [%s] line %zu", i, rc, why,
				 line);
		assert_int_equal(csv_next(r, &rec), -1);	/* for good */
		csv_free(&r);
	}
}

static void test_limits(void **state)
{
	(void)state;
	char text[64], out[256];
	struct csv_limits l = { 8, 3, 2 };
	/* a record of 8 octets (its EOL aside) and of 9 */
	assert_int_equal(render("abc,defg\n", 9, &l, out, sizeof out, NULL), 0);
	assert_int_equal(render("abc,defgh\n", 10, &l, out, sizeof out, NULL), -1);
	assert_int_equal(render("\"a\"\"b\",cd\n", 10, &l, out, sizeof out,
				NULL), -1);	/* quotes count */
	/* 3 fields and 4 */
	assert_int_equal(render("a,b,c\n", 6, &l, out, sizeof out, NULL), 0);
	assert_int_equal(render("a,b,c,\n", 7, &l, out, sizeof out, NULL), -1);
	assert_int_equal(render("a,b,c,", 6, &l, out, sizeof out, NULL), -1);
	/* 2 records and 3; blank lines are not records */
	snprintf(text, sizeof text, "a\n\nb\n\n");
	assert_int_equal(render(text, strlen(text), &l, out, sizeof out, NULL), 0);
	snprintf(text, sizeof text, "a\nb\nc\n");
	assert_int_equal(render(text, strlen(text), &l, out, sizeof out, NULL), -1);
	assert_string_equal(out, "a/1\nb/2\n");
	/* limits of 0 are 1 */
	struct csv_limits zero = { 0, 0, 0 };
	assert_int_equal(render("a", 1, &zero, out, sizeof out, NULL), 0);
	assert_int_equal(render("ab", 2, &zero, out, sizeof out, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
