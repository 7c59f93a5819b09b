/* test_buf.c - cmocka tests of src/core/buf.c: the hard maximum (append at
 * max and max + 1, nothing appended on failure), consume and reset, and
 * buf_getline at its limit and limit + 1, with CRLF, bare LF, a pending
 * CR and NUL bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"

static void test_append_limit(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 10);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);	/* at max */
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "0123456789", 10);
	assert_int_equal(buf_append(&b, "x", 1), -1);		/* max + 1 */
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_memory_equal(b.data, "0123456789", 10);
	buf_release(&b);

	/* growing one byte at a time up to max, then refused */
	buf_init(&b, 1000);
	for (size_t i = 0; i < 1000; i++) {
		unsigned char c = (unsigned char)i;
		assert_int_equal(buf_append(&b, &c, 1), 0);
	}
	assert_int_equal(b.len, 1000);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(b.data[i], (unsigned char)i);
	assert_int_equal(buf_append(&b, "x", 1), -1);
	buf_release(&b);

	/* a single append one over max leaves the buffer as it was */
	buf_init(&b, 5);
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	assert_int_equal(buf_append(&b, "cdef", 4), -1);
	assert_int_equal(b.len, 2);
	assert_int_equal(buf_append(&b, "cde", 3), 0);
	assert_memory_equal(b.data, "abcde", 5);
	buf_release(&b);

	/* max 0 holds nothing */
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_append(&b, "x", 1), -1);
	buf_release(&b);

	/* a huge n must not wrap len + n around */
	buf_init(&b, 16);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(b.len, 3);
	buf_release(&b);
}

static void test_consume_reset(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, "hello world", 11), 0);
	buf_consume(&b, 6);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "world", 5);
	buf_consume(&b, 100);	/* more than len: empties */
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	buf_consume(&b, 3);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	/* after consume and reset the whole max is available again */
	char big[64];
	memset(big, 'z', sizeof big);
	assert_int_equal(buf_append(&b, big, 64), 0);
	assert_int_equal(buf_append(&b, "x", 1), -1);
	struct span s = buf_span(&b);
	assert_int_equal(s.len, 64);
	assert_ptr_equal(s.p, b.data);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	/* released buffers can be initialised again */
	buf_init(&b, 4);
	assert_int_equal(buf_append(&b, "abcd", 4), 0);
	buf_release(&b);
}

static int getline_of(const char *in, size_t len, size_t max, struct span *line,
		      size_t *used)
{
	struct buf b;
	buf_init(&b, 1024);
	/* Give the buffer storage first: buf_getline on a never-used buffer
	 * passes NULL to memchr (reported; see test_getline). */
	assert_int_equal(buf_append(&b, "x", 1), 0);
	buf_consume(&b, 1);
	assert_int_equal(buf_append(&b, in, len), 0);
	*used = 0;
	int rc = buf_getline(&b, max, line, used);
	if (rc == 1) {
		/* the line points into the buffer; copy before releasing */
		static unsigned char copy[1024];
		memcpy(copy, line->p, line->len);
		line->p = copy;
	}
	buf_release(&b);
	return rc;
}

static void test_getline(void **state)
{
	(void)state;
	struct span line;
	size_t used;

	/* CRLF and bare LF both end a line; the terminator is not in it */
	assert_int_equal(getline_of("abc\r\nrest", 9, 100, &line, &used), 1);
	assert_int_equal(line.len, 3);
	assert_memory_equal(line.p, "abc", 3);
	assert_int_equal(used, 5);
	assert_int_equal(getline_of("abc\nrest", 8, 100, &line, &used), 1);
	assert_int_equal(line.len, 3);
	assert_int_equal(used, 4);
	assert_int_equal(getline_of("\r\n", 2, 100, &line, &used), 1);
	assert_int_equal(line.len, 0);
	assert_int_equal(used, 2);
	assert_int_equal(getline_of("\n", 1, 100, &line, &used), 1);
	assert_int_equal(line.len, 0);
	assert_int_equal(used, 1);
	/* NUL bytes are data */
	assert_int_equal(getline_of("a\0b\r\n", 5, 100, &line, &used), 1);
	assert_int_equal(line.len, 3);
	assert_memory_equal(line.p, "a\0b", 3);
	/* a CR inside the line is kept; only the one before LF goes */
	assert_int_equal(getline_of("a\rb\r\n", 5, 100, &line, &used), 1);
	assert_int_equal(line.len, 3);
	assert_memory_equal(line.p, "a\rb", 3);

	/* need more (an empty buffer too; one never appended to has
	 * data == NULL, which buf_getline hands to memchr: reported) */
	assert_int_equal(getline_of("", 0, 100, &line, &used), 0);
	assert_int_equal(getline_of("abc", 3, 100, &line, &used), 0);
	assert_int_equal(getline_of("abc\r", 4, 100, &line, &used), 0);
}

/* max counts the line end: the LF must be within the first max bytes. */
static void test_getline_limit(void **state)
{
	(void)state;
	struct span line;
	size_t used;
	const size_t max = 10;

	/* at the limit: 8 + CRLF = 10 bytes */
	assert_int_equal(getline_of("12345678\r\nX", 11, max, &line, &used), 1);
	assert_int_equal(line.len, 8);
	assert_int_equal(used, 10);
	/* 9 + LF = 10 bytes */
	assert_int_equal(getline_of("123456789\nX", 11, max, &line, &used), 1);
	assert_int_equal(line.len, 9);
	assert_int_equal(used, 10);
	/* limit + 1: 9 + CRLF = 11 bytes */
	assert_int_equal(getline_of("123456789\r\n", 11, max, &line, &used), -1);
	assert_int_equal(getline_of("1234567890\n", 11, max, &line, &used), -1);
	/* no line end yet: fewer than max bytes is "more", max bytes is over */
	assert_int_equal(getline_of("123456789", 9, max, &line, &used), 0);
	assert_int_equal(getline_of("1234567890", 10, max, &line, &used), -1);
	assert_int_equal(getline_of("123456789\r", 10, max, &line, &used), -1);
	/* an LF past max is not looked for */
	assert_int_equal(getline_of("1234567890123\n", 14, max, &line, &used), -1);
	/* an early line is found even when much more is buffered */
	assert_int_equal(getline_of("ab\r\n0123456789012345", 20, max, &line, &used), 1);
	assert_int_equal(line.len, 2);
}

/* Lines one after another, consuming each (how the SMTP reader uses it). */
static void test_getline_sequence(void **state)
{
	(void)state;
	struct buf b;
	struct span line;
	size_t used;
	static const char in[] = "EHLO x\r\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\r\npartial";
	buf_init(&b, 512);
	assert_int_equal(buf_append(&b, in, sizeof in - 1), 0);
	static const char *const want[] = { "EHLO x", "MAIL FROM:<a@b>", "RCPT TO:<c@d>" };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(buf_getline(&b, 512, &line, &used), 1);
		assert_int_equal(line.len, strlen(want[i]));
		assert_memory_equal(line.p, want[i], line.len);
		buf_consume(&b, used);
	}
	assert_int_equal(buf_getline(&b, 512, &line, &used), 0);
	assert_int_equal(b.len, 7);
	assert_int_equal(buf_append(&b, "\r\n", 2), 0);
	assert_int_equal(buf_getline(&b, 512, &line, &used), 1);
	assert_int_equal(line.len, 7);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_limit),
		cmocka_unit_test(test_consume_reset),
		cmocka_unit_test(test_getline),
		cmocka_unit_test(test_getline_limit),
		cmocka_unit_test(test_getline_sequence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
