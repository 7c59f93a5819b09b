/* test_filter_header.c - the fields that explain a verdict, the removal
 * of outside copies, and the [External] Subject tag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "filter/filter.h"

static void test_format_folds_and_bounds(void **state)
{
	struct filter_verdict v;
	struct buf out;

	(void)state;
	memset(&v, 0, sizeof(v));
	filter_syms_init(&v.syms);
	v.action = FILTER_JUNK;
	v.level = FILTER_ENTERPRISE;
	filter_sym_add_score(&v.syms, "BAYES_SPAM", 6.2, "p=0.998 (a, b)");
	for (int i = 0; i < 40; i++) {
		char name[FILTER_SYM_NAME_MAX];
		snprintf(name, sizeof(name), "RULE_%d", i);
		filter_sym_add_score(&v.syms, name, 1, "some detail text here");
	}
	v.score = v.syms.total;
	buf_init(&out, 1 << 20);
	assert_int_equal(filter_header_format(&v, &out), 0);
	assert_true(out.len <= FILTER_HEADER_MAX);
	assert_non_null(memmem(out.data, out.len, "X-Spam-Flag: YES\r\n", 18));
	assert_non_null(memmem(out.data, out.len,
			       "X-Spam-Score: 46.20 (junk, level enterprise)",
			       44));
	assert_non_null(memmem(out.data, out.len,
			       "BAYES_SPAM(6.20; p=0.998 [a; b])", 32));
	/* every line within 78 columns + CRLF, ends with CRLF */
	size_t col = 0;
	for (size_t i = 0; i < out.len; i++) {
		if (out.data[i] == '\n') {
			col = 0;
			continue;
		}
		col++;
		if (strncmp((const char *)out.data, "X-Spam-Score", 12) != 0)
			assert_true(col <= 100);
	}
	assert_memory_equal(out.data + out.len - 2, "\r\n", 2);
	buf_release(&out);
}

static void test_strip(void **state)
{
	char msg[] = "Received: x\r\nX-Spam-Score: -100\r\nSubject: s\r\n"
		     "x-spam-flag:\r\n NO\r\nX-Spam-Symbolsx: keep\r\n\r\n"
		     "X-Spam-Score: in the body\r\n";
	size_t len = strlen(msg);

	(void)state;
	assert_int_equal(filter_header_strip((unsigned char *)msg, &len, 0),
			 2);
	msg[len] = '\0';
	assert_string_equal(msg, "Received: x\r\nSubject: s\r\n"
			    "X-Spam-Symbolsx: keep\r\n\r\n"
			    "X-Spam-Score: in the body\r\n");
}

static void tagged(const char *in, size_t start, const char *want)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(buf_append(&b, in, strlen(in)), 0);
	assert_int_equal(filter_subject_tag(&b, start), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_release(&b);
}

static void test_subject_tag(void **state)
{
	(void)state;
	tagged("Received: r\r\nFrom: a\r\nSubject: Hello\r\n\r\nbody", 13,
	       "Received: r\r\nFrom: a\r\nSubject: [External] Hello\r\n\r\nbody");
	tagged("Subject: [external] again\r\n\r\n", 0,
	       "Subject: [external] again\r\n\r\n");
	tagged("From: a\r\n\r\nSubject: not a field\r\n", 0,
	       "Subject: [External]\r\nFrom: a\r\n\r\nSubject: not a field\r\n");
	tagged("From: a\n\n", 0, "Subject: [External]\r\nFrom: a\n\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_folds_and_bounds),
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_subject_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
