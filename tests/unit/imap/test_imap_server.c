/* test_imap_server.c - cmocka tests of the IMAP server's pure helpers
 * (src/imap/imap_util.c, imap_cmd_mailbox.c): LIST wildcard matching
 * (including patterns that would make a backtracking matcher blow up),
 * quoting of strings and literals, and compact UID sets. The protocol
 * itself is tested end to end in tests/integration/test_imap.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap_private.h"

static bool m(const char *pat, const char *name)
{
	return imap_list_match(span_cstr(pat), name);
}

static void test_list_match(void **state)
{
	(void)state;
	assert_true(m("*", "INBOX"));
	assert_true(m("*", "a/b/c"));
	assert_true(m("%", "Sent"));
	assert_false(m("%", "a/b"));
	assert_true(m("a/%", "a/b"));
	assert_false(m("a/%", "a/b/c"));
	assert_true(m("a/*", "a/b/c"));
	assert_false(m("a/*", "a"));
	assert_true(m("a*", "a"));
	assert_true(m("INBOX", "INBOX"));
	assert_false(m("INBOX", "INBOX/x"));
	assert_true(m("%/%", "x/y"));
	assert_false(m("%/%", "x"));
	assert_true(m("*b*", "aaa/b/ccc"));
	assert_false(m("", "x"));
	assert_true(m("Entw%", "Entw\xc3\xbcrfe"));
	/* many wildcards against a long name: linear per pattern byte */
	char pat[2001], name[256];
	for (int i = 0; i < 2000; i += 2) {
		pat[i] = '*';
		pat[i + 1] = '%';
	}
	pat[2000] = '\0';
	memset(name, 'a', 255);
	name[255] = '\0';
	assert_true(m(pat, name));
	memset(pat, '*', 2000);
	pat[1999] = 'b';
	assert_false(m(pat, name));
}

static void test_out_string(void **state)
{
	(void)state;
	struct buf o;
	buf_init(&o, 1 << 20);
	imap_out_string(&o, span_cstr("a \"q\" \\ b"));
	assert_int_equal(o.len, strlen("\"a \\\"q\\\" \\\\ b\""));
	assert_memory_equal(o.data, "\"a \\\"q\\\" \\\\ b\"", o.len);
	buf_reset(&o);
	imap_out_string(&o, span_make("x\r\ny", 4));
	assert_int_equal(o.len, 9);
	assert_memory_equal(o.data, "{4}\r\nx\r\ny", 9);
	buf_reset(&o);
	imap_out_string(&o, span_cstr("caf\xc3\xa9"));
	assert_memory_equal(o.data, "{5}\r\ncaf\xc3\xa9", 10);
	buf_reset(&o);
	imap_out_nstring(&o, NULL);
	assert_memory_equal(o.data, "NIL", 3);
	buf_release(&o);
}

static void test_out_uidset(void **state)
{
	(void)state;
	struct buf o;
	buf_init(&o, 4096);
	uint32_t a[] = { 1, 2, 3, 5, 7, 8, 4294967295u };
	imap_out_uidset(&o, a, 7);
	assert_int_equal(o.len, strlen("1:3,5,7:8,4294967295"));
	assert_memory_equal(o.data, "1:3,5,7:8,4294967295", o.len);
	buf_reset(&o);
	imap_out_uidset(&o, a, 1);
	assert_memory_equal(o.data, "1", 1);
	buf_reset(&o);
	imap_out_date(&o, 0);
	assert_memory_equal(o.data, "\"01-Jan-1970 00:00:00 +0000\"", o.len);
	buf_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_match),
		cmocka_unit_test(test_out_string),
		cmocka_unit_test(test_out_uidset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
