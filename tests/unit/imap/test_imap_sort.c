/* test_imap_sort.c - cmocka tests of imap_sort.h: base subject extraction
 * (RFC 5256 2.1) as a table, the SORT and THREAD argument readers on real
 * parsed commands, the keys read from a cached ENVELOPE, ordering with
 * REVERSE and the sequence tie-break, and both threading algorithms
 * (RFC 5256 2.2) on crafted message sets, loops and a reply chain far
 * deeper than any C stack would take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap_parse.h"
#include "imap/imap_search.h"
#include "imap/imap_sort.h"

/* ---- base subject ---------------------------------------------------- */

static const struct {
	const char *in, *base;
	int refwd;
} subjects[] = {
	{ "foo", "foo", 0 },
	{ "", "", 0 },
	{ "Re: foo", "foo", 1 },
	{ "RE: Re: re: foo", "foo", 1 },
	{ "re:re:re:foo", "foo", 1 },
	{ "Re[2]: foo", "foo", 1 },
	{ "Re [2] : foo", "foo", 1 },
	{ "Fwd: foo", "foo", 1 },
	{ "FW: foo", "foo", 1 },
	{ "fw : foo", "foo", 1 },
	{ "Re: Re[3]: Fwd: foo", "foo", 1 },
	{ "Reply: foo", "Reply: foo", 0 },
	{ "Re:", "", 1 },
	{ "[PATCH] foo", "foo", 0 },
	{ "[PATCH]", "[PATCH]", 0 },
	{ "[]", "[]", 0 },
	{ "[a] [b]", "[b]", 0 },
	{ "Re: [a]", "[a]", 1 },
	{ "[PATCH] [v2] Re: foo", "foo", 1 },
	{ "Re: [list] Re: foo", "foo", 1 },
	{ "[list] Re: [list] foo", "foo", 1 },
	{ "foo (fwd)", "foo", 1 },
	{ "foo (fwd) (FWD)  ", "foo", 1 },
	{ "foo(fwd)", "foo", 1 },
	{ "[fwd: foo]", "foo", 1 },
	{ "[Fwd: [list] foo]", "foo", 1 },
	{ "Re: [fwd: Re: foo] (fwd)", "foo", 1 },
	{ "[fwd: foo", "[fwd: foo", 0 },
	{ "[fwd: ]", "", 1 },
	{ "   spaced\t  out  ", "spaced out", 0 },
	{ "folded\r\n line", "folded line", 0 },
	{ "=?UTF-8?Q?Re=3A_caf=C3=A9?=", "caf\xc3\xa9", 1 },
	{ "=?ISO-8859-1?Q?Re:_=E9t=E9?=", "\xc3\xa9t\xc3\xa9", 1 },
	{ "Re: =?UTF-8?B?W2xpc3RdIGhlbGxv?=", "hello", 1 },
	{ "Fwd: Re: [a] [b] x (fwd)", "x", 1 },
};

static void test_base_subject(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
		struct buf out;
		buf_init(&out, 4096);
		bool refwd = !subjects[i].refwd;
		assert_int_equal(imap_base_subject(span_cstr(subjects[i].in), &out, &refwd), 0);
		if (out.len != strlen(subjects[i].base) ||
		    (out.len > 0 && memcmp(out.data, subjects[i].base, out.len) != 0))
			fail_msg("\"%s\" -> \"%.*s\", want \"%s\"", subjects[i].in,
				 (int)out.len, (const char *)out.data, subjects[i].base);
		if (refwd != (bool)subjects[i].refwd)
			fail_msg("\"%s\": refwd %d", subjects[i].in, refwd);
		buf_release(&out);
	}
}

static void test_base_subject_full_buffer(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, 2);
	assert_int_equal(imap_base_subject(span_cstr("Re: long subject"), &out, NULL), -1);
	buf_release(&out);
}

/* ---- arguments ------------------------------------------------------- */

static struct imap_parser *g_parser;

static const struct imap_cmd *parse(const char *line)
{
	if (g_parser == NULL) {
		struct imap_parse_limits lim;
		imap_parse_limits_default(&lim);
		g_parser = imap_parser_new(&lim);
	}
	size_t n = strlen(line);
	assert_int_equal(imap_parser_push(g_parser, line, n), n);
	const struct imap_cmd *cmd = NULL;
	if (imap_parser_next(g_parser, &cmd) != IMAP_PARSE_COMMAND)
		fail_msg("\"%s\" did not parse", line);
	return cmd;
}

static int teardown(void **state)
{
	(void)state;
	imap_parser_free(&g_parser);
	return 0;
}

static void test_sort_args(void **state)
{
	(void)state;
	struct imap_search_limits lim;
	imap_search_limits_default(&lim);
	struct imap_sort_cmd sc;
	struct err e;
	const struct imap_cmd *cmd = parse("a SORT (REVERSE DATE subject) UTF-8 ALL\r\n");
	assert_int_equal(imap_sort_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &sc, &e), 0);
	assert_int_equal(sc.n_crit, 2);
	assert_int_equal(sc.crit[0].key, IMAP_SORT_DATE);
	assert_true(sc.crit[0].reverse);
	assert_int_equal(sc.crit[1].key, IMAP_SORT_SUBJECT);
	assert_false(sc.crit[1].reverse);
	assert_false(sc.has_return);
	assert_true(imap_sort_charset_ok(sc.charset));

	cmd = parse("a SORT RETURN (MIN COUNT) (DISPLAYFROM) us-ascii FROM x\r\n");
	assert_int_equal(imap_sort_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &sc, &e), 0);
	assert_true(sc.has_return);
	assert_int_equal(sc.ret, IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_COUNT);
	assert_int_equal(sc.crit[0].key, IMAP_SORT_DISPLAYFROM);
	assert_true(imap_sort_charset_ok(sc.charset));

	cmd = parse("a UID SORT RETURN (UPDATE PARTIAL 9:3 CONTEXT) (ARRIVAL) UTF-8 ALL\r\n");
	assert_int_equal(imap_sort_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &sc, &e), 0);
	assert_int_equal(sc.ret, IMAP_SEARCH_RETURN_UPDATE | IMAP_SEARCH_RETURN_PARTIAL |
			 IMAP_SEARCH_RETURN_CONTEXT);
	assert_int_equal(sc.partial_lo, 3);
	assert_int_equal(sc.partial_hi, 9);

	cmd = parse("a SORT (SIZE) KOI8-R ALL\r\n");
	assert_int_equal(imap_sort_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &sc, &e), 0);
	assert_false(imap_sort_charset_ok(sc.charset));

	static const char *const bad[] = {
		"a SORT\r\n", "a SORT ()\r\n", "a SORT () UTF-8 ALL\r\n",
		"a SORT (FOO) UTF-8 ALL\r\n", "a SORT (REVERSE) UTF-8 ALL\r\n",
		"a SORT (DATE REVERSE) UTF-8 ALL\r\n",
		"a SORT (REVERSE REVERSE DATE) UTF-8 ALL\r\n",
		"a SORT DATE UTF-8 ALL\r\n", "a SORT (DATE) UTF-8\r\n",
		"a SORT (DATE) \"\" ALL\r\n", "a SORT (DATE) (UTF-8) ALL\r\n",
		"a SORT (DATE) UTF-8 BOGUS\r\n", "a SORT RETURN (SAVE) (DATE) UTF-8 ALL\r\n",
		"a SORT RETURN MIN (DATE) UTF-8 ALL\r\n", "a SORT RETURN\r\n",
		"a SORT ((DATE)) UTF-8 ALL\r\n",
		"a SORT RETURN (PARTIAL 0:3) (DATE) UTF-8 ALL\r\n",
		"a SORT RETURN (PARTIAL 1:*) (DATE) UTF-8 ALL\r\n",
		"a SORT RETURN (PARTIAL 1:4294967296) (DATE) UTF-8 ALL\r\n",
		"a SORT RETURN (PARTIAL 1:2 ALL) (DATE) UTF-8 ALL\r\n",
		"a SORT RETURN (PARTIAL) (DATE) UTF-8 ALL\r\n",
		"a SORT RETURN (UPDATE UPDATE) (DATE) UTF-8 ALL\r\n",
		"a SORT RETURN (PARTIAL \"1:2\") (DATE) UTF-8 ALL\r\n",
		"a SORT (DATE DATE DATE DATE DATE DATE DATE DATE DATE DATE DATE DATE"
		" DATE DATE DATE DATE DATE) UTF-8 ALL\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cmd = parse(bad[i]);
		if (imap_sort_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &sc, &e) == 0)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void test_thread_args(void **state)
{
	(void)state;
	struct imap_search_limits lim;
	imap_search_limits_default(&lim);
	struct imap_thread_cmd tc;
	struct err e;
	const struct imap_cmd *cmd = parse("a THREAD references UTF-8 SINCE 1-Feb-1994\r\n");
	assert_int_equal(imap_thread_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &tc, &e), 0);
	assert_int_equal(tc.alg, IMAP_THREAD_REFERENCES);
	cmd = parse("a THREAD ORDEREDSUBJECT UTF-8 ALL\r\n");
	assert_int_equal(imap_thread_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &tc, &e), 0);
	assert_int_equal(tc.alg, IMAP_THREAD_ORDEREDSUBJECT);
	static const char *const bad[] = {
		"a THREAD\r\n", "a THREAD REFERENCES\r\n", "a THREAD REFERENCES UTF-8\r\n",
		"a THREAD ORDERED UTF-8 ALL\r\n", "a THREAD (REFERENCES) UTF-8 ALL\r\n",
		"a THREAD REFERENCES UTF-8 NOT\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cmd = parse(bad[i]);
		if (imap_thread_parse_command(cmd->args, cmd->nargs, &lim, cmd->arena, &tc, &e) == 0)
			fail_msg("accepted: %s", bad[i]);
	}
}

/* ---- keys from ENVELOPE ----------------------------------------------- */

static void expect_span(struct span s, const char *want)
{
	if (s.len != strlen(want) || (s.len > 0 && memcmp(s.p, want, s.len) != 0))
		fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, (const char *)s.p, want);
}

static void test_keys_from_envelope(void **state)
{
	(void)state;
	const char *env =
		"(\"Mon, 02 Jan 2023 12:00:00 +0100\" \"Re: [x] Hello\" "
		"((\"=?UTF-8?Q?=C3=89mile?=\" NIL \"emile\" \"a.test\")(NIL NIL \"second\" \"a.test\")) "
		"NIL NIL ((NIL NIL \"Bob\" \"b.test\")) "
		"((NIL NIL \"team\" NIL)(\"Carl\" NIL \"carl\" \"c.test\")(NIL NIL NIL NIL)) "
		"NIL \"<p@t>\" {5}\r\n<m@t>)";
	struct imap_sort_msg m = { .arrival = 77 };
	struct buf mem;
	buf_init(&mem, 65536);
	assert_int_equal(imap_sort_msg_fill(&m, span_cstr(env), span_cstr("<r1@t> <r2@t>"), &mem), 0);
	expect_span(m.subject, "HELLO");
	assert_true(m.refwd);
	expect_span(m.from, "EMILE");
	expect_span(m.dispfrom, "\xc3\x89MILE");
	expect_span(m.to, "BOB");
	expect_span(m.dispto, "BOB@B.TEST");
	/* the group marker is passed over */
	expect_span(m.cc, "CARL");
	expect_span(m.message_id, "<m@t>");
	expect_span(m.in_reply_to, "<p@t>");
	expect_span(m.references, "<r1@t> <r2@t>");
	assert_int_equal(m.date, 1672657200);	/* 11:00 UTC */

	/* no Date: the internal date; damaged envelope: what was read */
	const char *broken = "(NIL \"subject here\" ((\"x\" NIL \"y\"";
	assert_int_equal(imap_sort_msg_fill(&m, span_cstr(broken), span_cstr(""), &mem), -1);
	assert_int_equal(m.date, 77);
	expect_span(m.subject, "SUBJECT HERE");
	expect_span(m.from, "");
	assert_int_equal(imap_sort_msg_fill(&m, span_cstr(""), span_cstr(""), &mem), -1);
	expect_span(m.subject, "");
	buf_release(&mem);
}

/* ---- ordering --------------------------------------------------------- */

static void test_sort_order(void **state)
{
	(void)state;
	struct imap_sort_msg m[4] = {
		{ .seq = 1, .number = 1, .size = 30, .subject = span_cstr("B"), .date = 5 },
		{ .seq = 2, .number = 2, .size = 10, .subject = span_cstr("A"), .date = 5 },
		{ .seq = 3, .number = 3, .size = 30, .subject = span_cstr("A"), .date = 1 },
		{ .seq = 4, .number = 4, .size = 20, .subject = span_cstr("AB"), .date = 5 },
	};
	const struct imap_sort_msg *v[4];
	static const struct {
		struct imap_sort_criterion c[2];
		size_t n;
		uint32_t want[4];
	} cases[] = {
		{ { { IMAP_SORT_SIZE, false } }, 1, { 2, 4, 1, 3 } },
		{ { { IMAP_SORT_SIZE, true } }, 1, { 1, 3, 4, 2 } },
		{ { { IMAP_SORT_SUBJECT, false } }, 1, { 2, 3, 4, 1 } },
		{ { { IMAP_SORT_SUBJECT, false }, { IMAP_SORT_DATE, false } }, 2, { 3, 2, 4, 1 } },
		{ { { IMAP_SORT_DATE, true } }, 1, { 1, 2, 4, 3 } },
		{ { { IMAP_SORT_CC, true } }, 1, { 1, 2, 3, 4 } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t k = 0; k < 4; k++)
			v[k] = &m[3 - k];
		imap_sort_messages(v, 4, cases[i].c, cases[i].n);
		for (size_t k = 0; k < 4; k++)
			if (v[k]->number != cases[i].want[k])
				fail_msg("case %zu: position %zu is %u", i, k, v[k]->number);
	}
}

/* ---- threads ---------------------------------------------------------- */

struct tm_def {
	const char *id, *subject, *refs, *irt;
	int64_t date;
	bool refwd;
};

static void expect_threads(enum imap_thread_alg alg, const struct tm_def *d,
			   size_t n, const char *want)
{
	struct imap_sort_msg *m = calloc(n, sizeof *m);
	const struct imap_sort_msg **v = calloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		m[i].seq = m[i].number = (uint32_t)i + 1;
		m[i].date = d[i].date;
		m[i].subject = span_cstr(d[i].subject);
		m[i].refwd = d[i].refwd;
		m[i].message_id = span_cstr(d[i].id ? d[i].id : "");
		m[i].references = span_cstr(d[i].refs ? d[i].refs : "");
		m[i].in_reply_to = span_cstr(d[i].irt ? d[i].irt : "");
		v[i] = &m[i];
	}
	struct buf out;
	buf_init(&out, 1 << 20);
	assert_int_equal(imap_thread_build(alg, v, n, &out), 0);
	if (out.len != strlen(want) || (out.len > 0 && memcmp(out.data, want, out.len) != 0))
		fail_msg("got %.*s\nwant %s", (int)out.len, (const char *)out.data, want);
	buf_release(&out);
	free(v);
	free(m);
}

/* The integration test's set (test_imap_sort.py), worked by hand there. */
static const struct tm_def rfc_set[] = {
	{ "<a@t>", "MEETING", NULL, NULL, 1000, false },
	{ "<b@t>", "MEETING", "<a@t>", NULL, 1100, true },
	{ "<c@t>", "MEETING", "<a@t> <b@t>", NULL, 1200, true },
	{ "<d@t>", "MEETING", NULL, "<a@t>", 1130, true },
	{ "<e@t>", "LUNCH", NULL, NULL, 900, false },
	{ "<f@t>", "LUNCH", "<missing@t>", NULL, 1300, true },
	{ "<g@t>", "LUNCH", "<missing@t>", NULL, 1400, true },
	{ "<h@t>", "PARTY", "<gone1@t>\r\n <gone2@t>", NULL, 800, true },
	{ "<i@t>", "MEETING", NULL, NULL, 1500, true },
	{ "<j@t>", "STATUS", NULL, NULL, 2000, false },
	{ "<k@t>", "STATUS", NULL, NULL, 3000, false },
	{ NULL, "", NULL, NULL, 700, false },
	{ "<a@t>", "DUP", NULL, NULL, 4000, false },
};

static void test_thread_rfc_set(void **state)
{
	(void)state;
	size_t n = sizeof rfc_set / sizeof rfc_set[0];
	expect_threads(IMAP_THREAD_REFERENCES, rfc_set, n,
		       "(12)(8)((5)(6)(7))(1 (2 3)(4)(9))((10)(11))(13)");
	expect_threads(IMAP_THREAD_ORDEREDSUBJECT, rfc_set, n,
		       "(12)(8)(5 (6)(7))(1 (2)(4)(3)(9))(10 11)(13)");
	expect_threads(IMAP_THREAD_REFERENCES, rfc_set, 0, "");
	expect_threads(IMAP_THREAD_ORDEREDSUBJECT, rfc_set, 1, "(1)");
}

static void test_thread_cases(void **state)
{
	(void)state;
	/* two messages naming each other: no loop, the later link is not
	 * made */
	static const struct tm_def loop[] = {
		{ "<a@t>", "X", "<b@t>", NULL, 1, false },
		{ "<b@t>", "Y", "<a@t>", NULL, 2, false },
	};
	expect_threads(IMAP_THREAD_REFERENCES, loop, 2, "(2 1)");
	/* a message that references itself */
	static const struct tm_def self[] = {
		{ "<a@t>", "X", "<a@t>", NULL, 1, false },
	};
	expect_threads(IMAP_THREAD_REFERENCES, self, 1, "(1)");
	/* References wins over the parent a reply claimed earlier (1C) */
	static const struct tm_def relink[] = {
		{ "<c@t>", "A", "<x@t> <b@t>", NULL, 1, false },
		{ "<b@t>", "B", "<y@t>", NULL, 2, false },
		{ "<y@t>", "C", NULL, NULL, 3, false },
		{ "<x@t>", "D", NULL, NULL, 4, false },
	};
	expect_threads(IMAP_THREAD_REFERENCES, relink, 4, "(3 2 1)(4)");
	/* a lost parent with several replies keeps them together, and a
	 * dummy in the middle of a chain goes */
	static const struct tm_def lost[] = {
		{ "<r1@t>", "A", "<lost@t>", NULL, 2, false },
		{ "<r2@t>", "B", "<lost@t>", NULL, 1, false },
		{ "<top@t>", "C", NULL, NULL, 3, false },
		{ "<r3@t>", "D", "<top@t> <mid@t>", NULL, 4, false },
	};
	expect_threads(IMAP_THREAD_REFERENCES, lost, 4, "((2)(1))(3 4)");
	/* In-Reply-To's first id only, and only without References; words
	 * outside angle brackets are no ids */
	static const struct tm_def irt[] = {
		{ "<a@t>", "A", NULL, NULL, 1, false },
		{ "<b@t>", "B", NULL, NULL, 2, false },
		{ "<c@t>", "C", NULL, "your message <b@t> <a@t>", 3, false },
		{ "<d@t>", "D", "<a@t>", "<b@t>", 4, false },
		{ "<e@t>", "E", NULL, "a@t", 5, false },
	};
	expect_threads(IMAP_THREAD_REFERENCES, irt, 5, "(1 4)(2 3)(5)");
	/* subjects: a reply thread joins the original's; two originals get a
	 * dummy; empty subjects are never grouped */
	static const struct tm_def subj[] = {
		{ "<a@t>", "S", NULL, NULL, 3, true },
		{ "<b@t>", "S", NULL, NULL, 1, false },
		{ "<c@t>", "", NULL, NULL, 2, false },
		{ "<d@t>", "", NULL, NULL, 4, false },
		{ "<e@t>", "T", NULL, NULL, 5, false },
		{ "<f@t>", "T", NULL, NULL, 6, false },
	};
	expect_threads(IMAP_THREAD_REFERENCES, subj, 6, "(2 1)(3)(4)((5)(6))");
	/* equal dates: sequence order */
	static const struct tm_def same[] = {
		{ "<a@t>", "A", NULL, NULL, 5, false },
		{ "<b@t>", "B", NULL, NULL, 5, false },
		{ "<c@t>", "C", "<a@t>", NULL, 5, false },
		{ "<d@t>", "D", "<a@t>", NULL, 5, false },
	};
	expect_threads(IMAP_THREAD_REFERENCES, same, 4, "(1 (3)(4))(2)");
}

/* A reply chain 20,000 deep and a 20,000-reply fan: no recursion, and
 * the thread list is exact. */
static void test_thread_deep(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct imap_sort_msg *m = calloc(N, sizeof *m);
	const struct imap_sort_msg **v = calloc(N, sizeof *v);
	char (*ids)[32] = calloc(N, sizeof *ids);
	char (*refs)[32] = calloc(N, sizeof *refs);
	for (int fan = 0; fan < 2; fan++) {
		for (size_t i = 0; i < N; i++) {
			snprintf(ids[i], sizeof ids[i], "<%zu@t>", i);
			snprintf(refs[i], sizeof refs[i], "<%zu@t>", fan ? 0 : i - 1);
			m[i] = (struct imap_sort_msg){ .seq = (uint32_t)i + 1,
				.number = (uint32_t)i + 1, .date = (int64_t)i,
				.subject = span_cstr("S"),
				.message_id = span_cstr(ids[i]),
				.references = span_cstr(i ? refs[i] : "") };
			v[i] = &m[i];
		}
		struct buf out;
		buf_init(&out, 1 << 24);
		assert_int_equal(imap_thread_build(IMAP_THREAD_REFERENCES, v, N, &out), 0);
		/* chain: "(1 2 ... N)"; fan: "(1 (2)(3)...(N))" */
		size_t pos = 0;
		assert_true(out.len > 10);
		assert_int_equal(out.data[pos++], '(');
		for (size_t i = 0; i < N; i++) {
			char want[32];
			int k;
			if (i == 0)
				k = snprintf(want, sizeof want, "1");
			else if (fan)
				k = snprintf(want, sizeof want, "%s(%zu)", i == 1 ? " " : "", i + 1);
			else
				k = snprintf(want, sizeof want, " %zu", i + 1);
			if (pos + (size_t)k > out.len || memcmp(out.data + pos, want, (size_t)k) != 0)
				fail_msg("fan %d: message %zu at %zu", fan, i + 1, pos);
			pos += (size_t)k;
		}
		assert_int_equal(out.data[pos++], ')');
		assert_int_equal(pos, out.len);
		buf_release(&out);
		/* and ORDEREDSUBJECT over the same */
		buf_init(&out, 1 << 24);
		assert_int_equal(imap_thread_build(IMAP_THREAD_ORDEREDSUBJECT, v, N, &out), 0);
		assert_true(out.len > 0 && memcmp(out.data, "(1 (2)(3)", 9) == 0);
		buf_release(&out);
	}
	free(refs);
	free(ids);
	free(v);
	free(m);
}

static void test_thread_output_full(void **state)
{
	(void)state;
	const struct imap_sort_msg *v[3];
	struct imap_sort_msg m[3] = {
		{ .seq = 1, .number = 1 }, { .seq = 2, .number = 2 }, { .seq = 3, .number = 3 },
	};
	for (size_t i = 0; i < 3; i++)
		v[i] = &m[i];
	struct buf out;
	buf_init(&out, 4);
	assert_int_equal(imap_thread_build(IMAP_THREAD_REFERENCES, v, 3, &out), -1);
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_subject),
		cmocka_unit_test(test_base_subject_full_buffer),
		cmocka_unit_test(test_sort_args),
		cmocka_unit_test(test_thread_args),
		cmocka_unit_test(test_keys_from_envelope),
		cmocka_unit_test(test_sort_order),
		cmocka_unit_test(test_thread_rfc_set),
		cmocka_unit_test(test_thread_cases),
		cmocka_unit_test(test_thread_deep),
		cmocka_unit_test(test_thread_output_full),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
