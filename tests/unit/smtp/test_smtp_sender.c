/* test_smtp_sender.c - cmocka tests of src/smtp/smtp_sender.c: which
 * envelope senders and From: fields a user may use, and where a header
 * block ends. Inputs are exactly sized heap copies (ASan sees overreads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtp_sender.h"

#define USER "Demo.User@example.test"

static void test_owned(void **state)
{
	(void)state;
	static const char *const yes[] = {
		"Demo.User@example.test", "demo.user@example.test",
		"DEMO.USER@EXAMPLE.TEST", "demo.USER@Example.Test",
	};
	static const char *const no[] = {
		"", "demo.user", "@example.test", "demo.user@", "demo.user@example.test.",
		"demo.user@sub.example.test", "demo.user@example.testx",
		"xdemo.user@example.test", "demo.userx@example.test",
		"\"demo.user\"@example.test", "demo.user@[127.0.0.1]",
		"demo.user%example.test@evil.test", "evil.test!demo.user@example.test",
		"demo.user@example.test@evil.test", "other@example.test",
	};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_true(smtp_sender_owned(NULL, USER, yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_false(smtp_sender_owned(NULL, USER, no[i]));
	assert_false(smtp_sender_owned(NULL, "", "a@b"));
	assert_false(smtp_sender_owned(NULL, NULL, "a@b"));
	assert_false(smtp_sender_owned(NULL, USER, NULL));
}

static enum smtp_from_result check(const char *msg, char *bad, size_t badsz)
{
	size_t len = strlen(msg);
	unsigned char *p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, msg, len);
	struct span hdr = smtp_header_block(span_make(p, len));
	enum smtp_from_result rc = smtp_from_check(hdr, NULL, USER, bad, badsz);
	free(p);
	return rc;
}

static void test_from(void **state)
{
	(void)state;
	char bad[64];
	static const char *const ok[] = {
		"From: demo.user@example.test\r\n\r\nbody",
		"From: \"Demo User\" <DEMO.USER@example.test>\r\nTo: x@y\r\n\r\n",
		"Subject: x\r\nFROM:\r\n Demo\r\n <demo.user@example.test>\r\n\r\nFrom: evil@evil.test\r\n",
		"From: demo.user@example.test (Demo)\n\n",
		"From: team: demo.user@example.test;\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		assert_int_equal(check(ok[i], bad, sizeof bad), SMTP_FROM_OK);
	assert_int_equal(check("Subject: no from\r\n\r\nFrom: x@y.test\r\n", bad, sizeof bad),
			 SMTP_FROM_MISSING);
	assert_int_equal(check("\r\nFrom: x@y.test\r\n", bad, sizeof bad), SMTP_FROM_MISSING);
	static const char *const foreign[] = {
		"From: boss@example.test\r\n\r\n",
		"From: demo.user@example.test, boss@example.test\r\n\r\n",
		"From: demo.user@example.test\r\nFrom: boss@example.test\r\n\r\n",
		"From: \"demo.user@example.test\" <boss@example.test>\r\n\r\n",
		"From: team: boss@example.test;\r\n\r\n",
		"From: undisclosed:;\r\n\r\n",
		"From: \r\n\r\n",
		"From: demo.user@example.test.\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++)
		assert_int_equal(check(foreign[i], bad, sizeof bad), SMTP_FROM_FOREIGN);
	assert_int_equal(check("From: a@b.test, boss@example.test\r\n\r\n", bad, sizeof bad),
			 SMTP_FROM_FOREIGN);
	assert_string_equal(bad, "a@b.test");
	/* a long foreign address is cut to the caller's buffer */
	char small[8];
	assert_int_equal(check("From: averyveryverylongname@example.test\r\n\r\n", small,
			       sizeof small), SMTP_FROM_FOREIGN);
	assert_string_equal(small, "averyve");
}

static void test_header_block(void **state)
{
	(void)state;
	struct span s = smtp_header_block(span_cstr("A: b\r\n\r\nbody"));
	assert_int_equal(s.len, 8);
	s = smtp_header_block(span_cstr("A: b\n\nbody"));
	assert_int_equal(s.len, 6);
	s = smtp_header_block(span_cstr("\r\nbody"));
	assert_int_equal(s.len, 2);
	s = smtp_header_block(span_cstr("A: b\r\nC: d"));
	assert_int_equal(s.len, 10);
	s = smtp_header_block(span_make("", 0));
	assert_int_equal(s.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owned),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_header_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
