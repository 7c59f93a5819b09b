/* test_dsn.c - delivery status notifications: the report's structure,
 * the per-recipient fields, hostile remote replies (CR LF injection,
 * 10 KB, non-ASCII), UTF-8 addresses, RET=FULL and its cap, refusals.
 * With PETREL_DSN_SAMPLES=DIR set it also writes each report built here
 * to DIR/<name>.eml for tests/integration/test_dsn_parse.py, which reads
 * them with Python's email package. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "queue/dsn.h"

#define T0 1795000000	/* Wed, 18 Nov 2026 11:06:40 UTC */

static const char orig_msg[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.net\r\n"
	"Subject: quarterly figures\r\n"
	"Message-ID: <orig-1@example.org>\r\n"
	"\r\n"
	"Hello Bob,\r\n"
	"the figures are attached.\r\n";

static void save(const char *name, const struct buf *b)
{
	const char *dir = getenv("PETREL_DSN_SAMPLES");
	if (dir == NULL)
		return;
	char path[1024];
	snprintf(path, sizeof path, "%s/%s.eml", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	assert_int_equal(fclose(f), 0);
}

/* Every line ends in CRLF, is at most 998 bytes, and no CR or LF stands
 * alone; returns the number of lines. */
static size_t check_lines(const struct buf *b)
{
	size_t lines = 0, start = 0;
	assert_true(b->len >= 2);
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\r') {
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
			assert_true(i - start <= DSN_LINE_MAX);
			lines++;
			i++;
			start = i + 1;
		} else {
			assert_true(b->data[i] != '\n');
			assert_true(b->data[i] != 0);
		}
	}
	assert_int_equal(start, b->len);
	return lines;
}

static bool has(const struct buf *b, const char *s)
{
	return memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static size_t count(const struct buf *b, const char *s)
{
	size_t n = 0, sl = strlen(s);
	const unsigned char *p = b->data, *end = b->data + b->len;
	while ((p = memmem(p, (size_t)(end - p), s, sl)) != NULL) {
		n++;
		p += sl;
	}
	return n;
}

static void base(struct dsn_msg *m, struct dsn_rcpt *r, size_t n)
{
	memset(m, 0, sizeof *m);
	m->reporting_mta = "mx.example.org";
	m->sender = "alice@example.org";
	m->arrival = T0;
	m->now = T0 + 3600;
	m->rcpts = r;
	m->nrcpts = n;
	m->orig = (const unsigned char *)orig_msg;
	m->orig_len = sizeof orig_msg - 1;
}

static void test_failed(void **state)
{
	(void)state;
	static const char reply[] =
		"550-5.1.1 <bob@example.net>: Recipient address rejected:\r\n"
		"550 5.1.1 User unknown in virtual mailbox table";
	struct dsn_rcpt r[2] = {
		{ .final_rcpt = "bob@example.net", .orig_rcpt = "rfc822;Bob@Example.net",
		  .action = DSN_FAILED, .status = "5.1.1",
		  .remote_mta = "mx1.example.net", .diag = reply,
		  .diag_len = sizeof reply - 1, .last_attempt = T0 + 3500 },
		{ .final_rcpt = "carol@example.net", .action = DSN_FAILED,
		  .status = "bogus", .remote_mta = "mx1.example.net" },
	};
	struct dsn_msg m;
	base(&m, r, 2);
	m.envid = "QQ314159";
	struct buf b;
	struct err err;
	buf_init(&b, 1 << 20);
	assert_int_equal(dsn_build(&m, &b, &err), 0);
	check_lines(&b);
	save("failed", &b);
	assert_true(has(&b, "\r\nSubject: Undelivered Mail Returned to Sender\r\n"));
	assert_true(has(&b, "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"));
	assert_true(has(&b, "\r\nTo: <alice@example.org>\r\n"));
	assert_true(has(&b, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_true(has(&b, "multipart/report; report-type=delivery-status;"));
	assert_true(has(&b, "\r\nContent-Type: message/delivery-status\r\n"));
	assert_true(has(&b, "\r\nContent-Type: text/rfc822-headers\r\n"));
	assert_true(has(&b, "\r\nReporting-MTA: dns; mx.example.org\r\n"));
	assert_true(has(&b, "\r\nOriginal-Envelope-Id: QQ314159\r\n"));
	assert_true(has(&b, "\r\nArrival-Date: Wed, 18 Nov 2026 11:06:40 +0000"));
	assert_true(has(&b, "\r\nOriginal-Recipient: rfc822; Bob@Example.net\r\n"));
	assert_true(has(&b, "\r\nFinal-Recipient: rfc822; bob@example.net\r\n"));
	assert_true(has(&b, "\r\nStatus: 5.1.1\r\n"));
	/* a malformed status falls back to the action's class */
	assert_true(has(&b, "\r\nStatus: 5.0.0\r\n"));
	assert_true(has(&b, "\r\nRemote-MTA: dns; mx1.example.net\r\n"));
	assert_true(has(&b, "\r\nDiagnostic-Code: smtp; 550-5.1.1 <bob@example.net>:"));
	assert_true(has(&b, "Last-Attempt-Date: "));
	/* the original's header comes back, not its body */
	assert_true(has(&b, "\r\nSubject: quarterly figures\r\n"));
	assert_false(has(&b, "the figures are attached"));
	/* the reply is quoted line by line in the human part */
	assert_true(has(&b, "\r\n      550 5.1.1 User unknown in virtual mailbox table\r\n"));
	assert_int_equal(count(&b, "Action: failed\r\n"), 2);
	buf_release(&b);
}

static void test_delayed_full(void **state)
{
	(void)state;
	static const char reply[] = "451 4.7.1 Greylisted, try again in 5 minutes";
	struct dsn_rcpt r = {
		.final_rcpt = "bob@example.net", .action = DSN_DELAYED, .status = "4.7.1",
		.remote_mta = "[192.0.2.7]", .diag = reply, .diag_len = sizeof reply - 1,
		.last_attempt = T0 + 3000, .retry_until = T0 + 5 * 86400,
	};
	struct dsn_msg m;
	base(&m, &r, 1);
	m.ret = DSN_RET_FULL;
	struct buf b;
	struct err err;
	buf_init(&b, 1 << 20);
	assert_int_equal(dsn_build(&m, &b, &err), 0);
	check_lines(&b);
	save("delayed_full", &b);
	assert_true(has(&b, "\r\nSubject: Delayed Mail (still being retried)\r\n"));
	assert_true(has(&b, "\r\nAction: delayed\r\n"));
	assert_true(has(&b, "\r\nWill-Retry-Until: Mon, 23 Nov 2026"));
	assert_true(has(&b, "Delivery will be tried until Mon, 23 Nov 2026"));
	assert_true(has(&b, "\r\nRemote-MTA: dns; [192.0.2.7]\r\n"));
	assert_true(has(&b, "\r\nContent-Type: message/rfc822\r\n"));
	assert_true(has(&b, "the figures are attached.\r\n"));
	buf_release(&b);

	/* past full_max only the header comes back, and the text says why */
	m.full_max = 64;
	buf_init(&b, 1 << 20);
	assert_int_equal(dsn_build(&m, &b, &err), 0);
	check_lines(&b);
	save("full_capped", &b);
	assert_true(has(&b, "\r\nContent-Type: text/rfc822-headers\r\n"));
	assert_false(has(&b, "the figures are attached"));
	assert_true(has(&b, "larger than 64 bytes"));
	buf_release(&b);
}

static void test_hostile(void **state)
{
	(void)state;
	/* a reply that tries to end the field, add one and start a part */
	static const char inject[] =
		"550 5.7.1 no\r\nX-Injected: yes\r\n\r\n--fake\rContent-Type: text/html\n"
		"\0\x01\x1b[31m\x7f \xff\xfe bad bytes";
	char big[10 * 1024 + 1];
	for (size_t i = 0; i < sizeof big - 1; i++)
		big[i] = (i % 97 == 96) ? ' ' : (char)('a' + i % 26);
	big[sizeof big - 1] = '\0';
	memcpy(big, "554 5.6.0 ", 10);
	struct dsn_rcpt r[3] = {
		{ .final_rcpt = "bob@example.net\r\nBcc: victim@example.com",
		  .action = DSN_FAILED, .status = "5.7.1",
		  .remote_mta = "mx.example.net\r\nX-Evil: 1", .diag = inject,
		  .diag_len = sizeof inject - 1 },
		{ .final_rcpt = "long@example.net", .action = DSN_FAILED, .status = "5.6.0",
		  .diag = big, .diag_len = sizeof big - 1, .diag_type = "x-unix\r\n" },
		{ .final_rcpt = "carol@example.net", .action = DSN_DELIVERED,
		  .status = "2.0.0" },
	};
	struct dsn_msg m;
	base(&m, r, 3);
	m.envid = "id\r\nX-Evil: 2";
	m.reporting_mta = "mx.example.org\nX-Evil: 3";
	/* a header longer than 998 and bare LF / CR line ends in the original */
	char orig[4000];
	int n = snprintf(orig, sizeof orig, "From: a@example.org\nSubject: ");
	memset(orig + n, 'x', 2500);
	n += 2500;
	n += snprintf(orig + n, sizeof orig - (size_t)n, "\rTo: b@example.net\n\nbody\n");
	m.orig = (const unsigned char *)orig;
	m.orig_len = (size_t)n;
	struct buf b;
	struct err err;
	buf_init(&b, 1 << 20);
	assert_int_equal(dsn_build(&m, &b, &err), 0);
	check_lines(&b);
	save("hostile", &b);
	assert_false(has(&b, "\r\nX-Injected:"));
	assert_false(has(&b, "\r\nBcc:"));
	assert_false(has(&b, "\r\nX-Evil:"));
	assert_false(has(&b, "\r\n--fake"));
	assert_false(has(&b, "\x1b"));
	assert_false(has(&b, "\xff"));
	assert_true(has(&b, "\r\nContent-Type: message/delivery-status\r\n"));
	/* the 10 KB reply is cut to DSN_DIAG_MAX, with a mark */
	assert_true(has(&b, "..."));
	assert_true(b.len < 3 * DSN_DIAG_MAX + 20000);
	assert_true(has(&b, "\r\nTo: b@example.net\r\n"));
	buf_release(&b);
}

static void test_utf8(void **state)
{
	(void)state;
	static const char reply[] = "550 5.1.1 Benutzer unbekannt: j\xc3\xbcrgen";
	struct dsn_rcpt r = {
		.final_rcpt = "j\xc3\xbcrgen@b\xc3\xbc" "cher.example",
		.orig_rcpt = "utf-8;j\xc3\xbcrgen@b\xc3\xbc" "cher.example",
		.action = DSN_FAILED, .status = "5.1.1", .diag = reply,
		.diag_len = sizeof reply - 1,
	};
	struct dsn_msg m;
	base(&m, &r, 1);
	m.sender = "\xe5\xbc\xa0\xe4\xb8\x89@example.org";
	struct buf b;
	struct err err;
	buf_init(&b, 1 << 20);
	assert_int_equal(dsn_build(&m, &b, &err), 0);
	check_lines(&b);
	save("utf8", &b);
	assert_true(has(&b, "report-type=global-delivery-status"));
	assert_true(has(&b, "\r\nContent-Type: message/global-delivery-status\r\n"));
	assert_true(has(&b, "\r\nContent-Type: message/global-headers\r\n"));
	assert_true(has(&b, "\r\nFinal-Recipient: utf-8; j\xc3\xbcrgen@b\xc3\xbc" "cher.example\r\n"));
	assert_true(has(&b, "\r\nTo: <\xe5\xbc\xa0\xe4\xb8\x89@example.org>\r\n"));
	assert_true(has(&b, "unbekannt: j\xc3\xbcrgen"));
	assert_true(has(&b, "charset=utf-8"));
	buf_release(&b);

	/* ASCII addresses: non-ASCII bytes of a reply become '?' */
	r.final_rcpt = "juergen@example.net";
	r.orig_rcpt = NULL;
	m.sender = "alice@example.org";
	buf_init(&b, 1 << 20);
	assert_int_equal(dsn_build(&m, &b, &err), 0);
	check_lines(&b);
	save("ascii_reply_8bit", &b);
	assert_true(has(&b, "report-type=delivery-status"));
	assert_true(has(&b, "unbekannt: j??rgen"));
	for (size_t i = 0; i < b.len; i++)
		assert_true(b.data[i] < 0x80);
	buf_release(&b);
}

static void test_refused(void **state)
{
	(void)state;
	struct dsn_rcpt r = { .final_rcpt = "bob@example.net", .action = DSN_FAILED };
	struct dsn_msg m;
	struct buf b;
	struct err err;
	base(&m, &r, 1);
	m.sender = "";
	buf_init(&b, 1 << 20);
	assert_int_equal(dsn_build(&m, &b, &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	m.sender = "alice@example.org";
	m.nrcpts = 0;
	assert_int_equal(dsn_build(&m, &b, &err), -1);
	buf_release(&b);
	/* a buffer too small is a limit error, not a cut report */
	m.nrcpts = 1;
	buf_init(&b, 300);
	assert_int_equal(dsn_build(&m, &b, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	buf_release(&b);
}

static void test_boundary_unique(void **state)
{
	(void)state;
	/* two reports of the same message get different boundaries and
	 * Message-IDs */
	struct dsn_rcpt r = { .final_rcpt = "bob@example.net", .action = DSN_FAILED };
	struct dsn_msg m;
	base(&m, &r, 1);
	struct buf a, b;
	struct err err;
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	assert_int_equal(dsn_build(&m, &a, &err), 0);
	assert_int_equal(dsn_build(&m, &b, &err), 0);
	const char *pa = memmem(a.data, a.len, "boundary=\"", 10);
	const char *pb = memmem(b.data, b.len, "boundary=\"", 10);
	assert_non_null(pa);
	assert_non_null(pb);
	assert_memory_not_equal(pa, pb, 40);
	buf_release(&a);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_delayed_full),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_boundary_unique),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
