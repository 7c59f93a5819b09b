/* test_imap_parse.c - cmocka tests of the IMAP command reader
 * (src/imap/imap_parse.c): a table of valid and invalid input, each fed
 * whole, byte by byte and cut in two at every position, compared with the
 * expected transcript of commands, continuations, literal data and errors;
 * every limit at limit and limit + 1; literal streaming, refusal and
 * skipping; raw lines; pending bytes. Every piece is pushed from an
 * exactly sized heap block so that ASan catches reads past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap_parse.h"

#define B(s) s, sizeof(s) - 1

/* ----- a growing text, for transcripts ---------------------------------- */

struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const void *p, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 256;
		while (cap < t->len + n + 1)
			cap *= 2;
		t->p = realloc(t->p, cap);
		assert_non_null(t->p);
		t->cap = cap;
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void text_fmt(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void text_fmt(struct text *t, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof tmp);
	text_add(t, tmp, (size_t)n);
}

/* Bytes as text: printable ASCII as is, the rest as \xHH. */
static void text_bytes(struct text *t, struct span s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = s.p[i];
		if (c >= 0x20 && c < 0x7f)
			text_add(t, &c, 1);
		else
			text_fmt(t, "\\x%02x", c);
	}
}

static void dump_args(struct text *t, const struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			text_str(t, " ");
		switch (a[i].type) {
		case IMAP_ARG_ATOM:
			text_bytes(t, a[i].str);
			break;
		case IMAP_ARG_NIL:
			text_str(t, "NIL");
			break;
		case IMAP_ARG_STRING:
			text_str(t, "\"");
			text_bytes(t, a[i].str);
			text_str(t, "\"");
			break;
		case IMAP_ARG_LITERAL:
		case IMAP_ARG_LITERAL8:
			text_fmt(t, "%s{%llu}", a[i].type == IMAP_ARG_LITERAL8 ? "~" : "",
				 (unsigned long long)a[i].literal_size);
			if (a[i].streamed)
				text_str(t, "S");
			else
				text_bytes(t, a[i].str);
			break;
		case IMAP_ARG_LIST:
			text_str(t, "(");
			dump_args(t, a[i].list, a[i].list_len);
			text_str(t, ")");
			break;
		}
		/* every value is NUL-terminated in the arena */
		if (a[i].type != IMAP_ARG_LIST && !a[i].streamed)
			assert_int_equal(a[i].str.p[a[i].str.len], 0);
	}
}

/* ----- feeding ---------------------------------------------------------- */

struct feed {
	struct text t;		/* transcript */
	struct text lit;	/* literal chunks not yet written out */
	bool lit_open;
	bool closed;
};

static void flush_lit(struct feed *f)
{
	if (!f->lit_open)
		return;
	text_str(&f->t, "L");
	text_bytes(&f->t, span_make(f->lit.p ? f->lit.p : "", f->lit.len));
	text_str(&f->t, "\n");
	f->lit.len = 0;
	f->lit_open = false;
}

/* Drain the parser: record every event until it needs more. */
static void drain(struct imap_parser *p, struct feed *f)
{
	for (;;) {
		const struct imap_cmd *cmd = NULL;
		int rc = imap_parser_next(p, &cmd);
		if (rc == IMAP_PARSE_MORE)
			return;
		if (rc == IMAP_PARSE_LITERAL) {
			const struct imap_literal_info *li = imap_parser_literal(p);
			assert_true(li->chunk.len > 0);
			assert_true(li->offset + li->chunk.len <= li->size);
			if (li->offset == 0)
				flush_lit(f);	/* the next literal */
			assert_int_equal(li->offset, f->lit.len);
			text_add(&f->lit, li->chunk.p, li->chunk.len);
			f->lit_open = true;
			continue;
		}
		flush_lit(f);
		if (rc == IMAP_PARSE_COMMAND) {
			assert_non_null(cmd);
			text_fmt(&f->t, "CMD %s %s%s", (const char *)cmd->tag.p,
				 cmd->uid ? "UID " : "", (const char *)cmd->name.p);
			if (cmd->nargs > 0)
				text_str(&f->t, " ");
			dump_args(&f->t, cmd->args, cmd->nargs);
			text_str(&f->t, "\n");
		} else if (rc == IMAP_PARSE_CONTINUE) {
			text_str(&f->t, "+\n");
		} else {
			assert_int_equal(rc, IMAP_PARSE_ERROR);
			const struct imap_parse_error *e = imap_parser_error(p);
			text_fmt(&f->t, "ERR %s %s%s\n", e->tag[0] ? e->tag : "*",
				 e->err.msg, e->close ? " CLOSE" : "");
			if (e->close) {
				/* it stays closed */
				assert_int_equal(imap_parser_next(p, NULL),
						 IMAP_PARSE_ERROR);
				f->closed = true;
				return;
			}
		}
	}
}

/* Feed in[0..len) cut at cuts[0..ncuts) (increasing). */
static char *feed_cuts(const struct imap_parse_limits *lim,
		       const unsigned char *in, size_t len,
		       const size_t *cuts, size_t ncuts)
{
	struct imap_parser *p = imap_parser_new(lim);
	struct feed f = { 0 };
	text_str(&f.t, "");
	size_t off = 0;
	for (size_t k = 0; k <= ncuts && !f.closed; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		size_t n = end - off;
		unsigned char *piece = malloc(n ? n : 1);
		assert_non_null(piece);
		memcpy(piece, in + off, n);
		size_t done = 0;
		while (done < n && !f.closed) {
			done += imap_parser_push(p, piece + done, n - done);
			drain(p, &f);
		}
		free(piece);
		off = end;
	}
	if (!f.closed)
		drain(p, &f);
	flush_lit(&f);
	imap_parser_free(&p);
	assert_null(p);
	free(f.lit.p);
	return f.t.p;
}

static char *feed_whole(const struct imap_parse_limits *lim,
			const unsigned char *in, size_t len)
{
	return feed_cuts(lim, in, len, NULL, 0);
}

static char *feed_bytewise(const struct imap_parse_limits *lim,
			   const unsigned char *in, size_t len)
{
	size_t *cuts = malloc((len ? len : 1) * sizeof *cuts);
	assert_non_null(cuts);
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	char *r = feed_cuts(lim, in, len, cuts, len ? len - 1 : 0);
	free(cuts);
	return r;
}

/* Whole, byte by byte, and cut in two at every position: all the same. */
static void check_all_ways(size_t idx, const struct imap_parse_limits *lim,
			   const char *in, size_t len, const char *want)
{
	const unsigned char *u = (const unsigned char *)in;
	char *got = feed_whole(lim, u, len);
	if (strcmp(got, want) != 0)
		fail_msg("case %zu whole:\n got: %s\nwant: %s", idx, got, want);
	free(got);
	got = feed_bytewise(lim, u, len);
	if (strcmp(got, want) != 0)
		fail_msg("case %zu bytewise:\n got: %s\nwant: %s", idx, got, want);
	free(got);
	for (size_t cut = 1; cut < len; cut++) {
		got = feed_cuts(lim, u, len, &cut, 1);
		if (strcmp(got, want) != 0)
			fail_msg("case %zu cut at %zu:\n got: %s\nwant: %s", idx,
				 cut, got, want);
		free(got);
	}
}

/* ----- the table ----------------------------------------------------------- */

enum profile { DEF, PRE, UTF8, MINUS };

static void limits_for(enum profile pr, struct imap_parse_limits *lim)
{
	if (pr == PRE) {
		imap_parse_limits_preauth(lim);
		return;
	}
	imap_parse_limits_default(lim);
	lim->max_literal_kept = 8;	/* so that short literals stream */
	if (pr == UTF8)
		lim->utf8 = true;
	if (pr == MINUS)
		lim->literal_minus = true;
}

struct pcase {
	enum profile pr;
	const char *in;
	size_t len;
	const char *want;
};

static const struct pcase cases[] = {
	/* plain commands */
	{ DEF, B("a NOOP\r\n"), "CMD a NOOP\n" },
	{ DEF, B("a1 noop\r\n"), "CMD a1 NOOP\n" },
	{ DEF, B("a NOOP\n"), "CMD a NOOP\n" },
	{ DEF, B("\r\n\r\na NOOP \r\n"), "CMD a NOOP\n" },
	{ DEF, B("a NOOP\r\nb NOOP\r\nc CAPABILITY\r\n"),
	  "CMD a NOOP\nCMD b NOOP\nCMD c CAPABILITY\n" },
	{ DEF, B("x.1]y LOGOUT\r\n"), "CMD x.1]y LOGOUT\n" },
	{ DEF, B("A2 UID fetch 1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10>)\r\n"),
	  "CMD A2 UID FETCH 1:*,3 (FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10>)\n" },
	{ DEF, B("a FETCH 1 body[]\r\n"), "CMD a FETCH 1 body[]\n" },
	{ DEF, B("a FETCH 1 BINARY.SIZE[1.2] BODY[1.MIME]<5.6>\r\n"),
	  "CMD a FETCH 1 BINARY.SIZE[1.2] BODY[1.MIME]<5.6>\n" },
	{ DEF, B("a SELECT foo[bar\r\n"), "CMD a SELECT foo[bar\n" },
	{ DEF, B("a SELECT foo[bar baz]\r\n"), "CMD a SELECT foo[bar baz]\n" },
	{ DEF, B("a LIST \"\" %/*\r\n"), "CMD a LIST \"\" %/*\n" },
	{ DEF, B("a STORE 1 +FLAGS.SILENT (\\Seen $Junk)\r\n"),
	  "CMD a STORE 1 +FLAGS.SILENT (\\Seen $Junk)\n" },
	{ DEF, B("a X NIL nil (NIL) \"NIL\"\r\n"), "CMD a X NIL NIL (NIL) \"NIL\"\n" },
	{ DEF, B("a X (a (b c) () d)\r\n"), "CMD a X (a (b c) () d)\n" },
	{ DEF, B("a X ((()))\r\n"), "CMD a X ((()))\n" },
	{ DEF, B("a X ~abc ~\r\n"), "CMD a X ~abc ~\n" },
	{ DEF, B("a X  two  spaces \r\n"), "CMD a X two spaces\n" },
	/* quoted strings */
	{ DEF, B("a LOGIN \"us\\\"er\" \"p\\\\ss\"\r\n"), "CMD a LOGIN \"us\"er\" \"p\\ss\"\n" },
	{ DEF, B("a X \"\" \"()\"\r\n"), "CMD a X \"\" \"()\"\n" },
	{ DEF, B("a X \"a\\b\"\r\nb NOOP\r\n"),
	  "ERR a Invalid escape in quoted string\nCMD b NOOP\n" },
	{ DEF, B("a X \"abc\r\nb NOOP\r\n"), "ERR a Missing '\"'\nCMD b NOOP\n" },
	{ DEF, B("a X \"a\"b\r\n"), "ERR a Missing space between arguments\n" },
	{ DEF, B("a X \"caf\xc3\xa9\"\r\n"),
	  "ERR a 8-bit data in quoted string (use a literal)\n" },
	{ UTF8, B("a X \"caf\xc3\xa9 \xe5\x8f\xb0 \xf0\x9f\x98\x80\"\r\n"),
	  "CMD a X \"caf\\xc3\\xa9 \\xe5\\x8f\\xb0 \\xf0\\x9f\\x98\\x80\"\n" },
	{ UTF8, B("a X \"\xc0\x80\"\r\n"), "ERR a Invalid UTF-8 in quoted string\n" },
	{ UTF8, B("a X \"\xed\xa0\x80\"\r\n"), "ERR a Invalid UTF-8 in quoted string\n" },
	{ UTF8, B("a X \"\xc3\"\r\n"), "ERR a Invalid UTF-8 in quoted string\n" },
	{ UTF8, B("a X \"\xf4\x90\x80\x80\"\r\n"), "ERR a Invalid UTF-8 in quoted string\n" },
	{ UTF8, B("a X caf\xc3\xa9\r\n"), "ERR a 8-bit data in argument\n" },
	{ DEF, B("a X \"a\0b\"\r\nb NOOP\r\n"), "ERR a NUL in quoted string\nCMD b NOOP\n" },
	/* literals */
	{ DEF, B("a LOGIN {3}\r\nfoo bar\r\n"), "+\nCMD a LOGIN {3}foo bar\n" },
	{ DEF, B("a LOGIN {3+}\r\nfoo {3+}\r\nbar\r\n"), "CMD a LOGIN {3}foo {3}bar\n" },
	{ DEF, B("a LOGIN {3}\nfoo bar\n"), "+\nCMD a LOGIN {3}foo bar\n" },
	{ DEF, B("a X {2+}\r\n\r\n\r\n"), "CMD a X {2}\\x0d\\x0a\n" },
	{ DEF, B("a X {0}\r\n {0+}\r\n\r\n"), "+\nCMD a X {0} {0}\n" },
	{ DEF, B("a X ({1+}\r\n) {1+}\r\n()\r\n"), "CMD a X ({1}) {1}()\n" },
	{ DEF, B("a APPEND INBOX (\\Seen) {10+}\r\n0123456789\r\n"),
	  "L0123456789\nCMD a APPEND INBOX (\\Seen) {10}S\n" },
	{ DEF, B("a APPEND INBOX {10}\r\n0123456789 {9+}\r\n012345678\r\n"),
	  "+\nL0123456789\nL012345678\nCMD a APPEND INBOX {10}S {9}S\n" },
	{ DEF, B("a APPEND x ~{3+}\r\na\0b\r\n"), "CMD a APPEND x ~{3}a\\x00b\n" },
	{ DEF, B("a APPEND x ~{3}\r\na\0b\r\n"), "+\nCMD a APPEND x ~{3}a\\x00b\n" },
	{ DEF, B("a APPEND x {3+}\r\na\0b\r\nb NOOP\r\n"),
	  "ERR a NUL octet in literal (use literal8)\nCMD b NOOP\n" },
	{ DEF, B("a APPEND x {9+}\r\n\0bcdefghi\r\nb NOOP\r\n"),
	  "L\\x00bcdefghi\nERR a NUL octet in literal (use literal8)\nCMD b NOOP\n" },
	{ DEF, B("a X {}\r\nb NOOP\r\n"), "ERR a Invalid literal size\nCMD b NOOP\n" },
	{ DEF, B("a X {+}\r\nb NOOP\r\n"), "ERR a Invalid literal size\nCMD b NOOP\n" },
	{ DEF, B("a X {1a}\r\nb NOOP\r\n"), "ERR a Invalid literal size\nCMD b NOOP\n" },
	{ DEF, B("a X {5-}\r\nb NOOP\r\n"), "ERR a Invalid literal size\nCMD b NOOP\n" },
	{ DEF, B("a X {5}x\r\nb NOOP\r\n"),
	  "ERR a Missing CRLF after literal size\nCMD b NOOP\n" },
	{ DEF, B("a X {5}\rx\r\nb NOOP\r\n"),
	  "ERR a Missing CRLF after literal size\nCMD b NOOP\n" },
	{ DEF, B("a X {1+}\r\nxy\r\nb NOOP\r\n"),
	  "ERR a Missing space between arguments\nCMD b NOOP\n" },
	/* literals too large: a synchronising one ends the command (the
	 * client waits for "+"), a non-synchronising one cannot be skipped */
	{ DEF, B("a APPEND x {4294967296}\r\nb NOOP\r\n"),
	  "ERR a Literal too large\nCMD b NOOP\n" },
	{ DEF, B("a APPEND x {99999999999999999999999}\r\nb NOOP\r\n"),
	  "ERR a Literal too large\nCMD b NOOP\n" },
	{ DEF, B("a APPEND x {4294967296+}\r\nb NOOP\r\n"),
	  "ERR a Literal too large CLOSE\n" },
	{ DEF, B("a APPEND x {99999999999999999999999+}\r\n"),
	  "ERR a Literal too large CLOSE\n" },
	{ DEF, B("a APPEND x ~{52428801}\r\nb NOOP\r\n"),
	  "ERR a Literal too large\nCMD b NOOP\n" },
	{ MINUS, B("a X {5000000+}\r\n"),
	  "ERR a Non-synchronizing literal over 4096 octets CLOSE\n" },
	/* structure errors and resynchronisation */
	{ DEF, B("a X (a\r\nb NOOP\r\n"), "ERR a Missing ')'\nCMD b NOOP\n" },
	{ DEF, B("a X a)\r\nb NOOP\r\n"), "ERR a Unexpected ')'\nCMD b NOOP\n" },
	{ DEF, B("a X ) {5+}\r\nab)\r\n ) \r\nb NOOP\r\n"),
	  "ERR a Unexpected ')'\nCMD b NOOP\n" },
	{ DEF, B("a X ) \"{5+}\"\r\nb NOOP\r\n"), "ERR a Unexpected ')'\nCMD b NOOP\n" },
	{ DEF, B("a X ) \"\\\"{5+}\"\r\nb NOOP\r\n"), "ERR a Unexpected ')'\nCMD b NOOP\n" },
	{ DEF, B("a X ) {5}\r\nb NOOP\r\n"), "ERR a Unexpected ')'\nCMD b NOOP\n" },
	{ DEF, B("a X ) {5+} x\r\nb NOOP\r\n"), "ERR a Unexpected ')'\nCMD b NOOP\n" },
	{ DEF, B("a NOOP\rb NOOP\r\nc NOOP\r\n"),
	  "ERR a CR not followed by LF\nCMD c NOOP\n" },
	{ DEF, B("a X a\x01z\r\n"), "ERR a Control character in argument\n" },
	{ DEF, B("a X \x80\r\n"), "ERR a 8-bit data in argument\n" },
	{ DEF, B("a FETCH 1 BODY[HEADER\r\nb NOOP\r\n"), "ERR a Missing ']'\nCMD b NOOP\n" },
	{ DEF, B("a FETCH 1 BODY[HEADER.FIELDS (\"A]\r\n"), "ERR a Missing '\"'\n" },
	{ DEF, B("a FETCH 1 BODY[{3}\r\nb NOOP\r\n"),
	  "ERR a Unexpected '{' in section\nCMD b NOOP\n" },
	/* tags and names */
	{ DEF, B("+ NOOP\r\na NOOP\r\n"), "ERR * Unexpected '+' in tag\nCMD a NOOP\n" },
	{ DEF, B("* NOOP\r\n"), "ERR * Unexpected '*' in tag\n" },
	{ DEF, B("a* NOOP\r\n"), "ERR * Unexpected '*' in tag\n" },
	{ DEF, B(" NOOP\r\n"), "ERR * Unexpected ' ' in tag\n" },
	{ DEF, B("a\r\nb NOOP\r\n"), "ERR a Missing command name\nCMD b NOOP\n" },
	{ DEF, B("a \r\n"), "ERR a Missing command name\n" },
	{ DEF, B("a UID\r\n"), "ERR a Missing command name\n" },
	{ DEF, B("a UID UID x\r\n"), "CMD a UID UID x\n" },
	{ DEF, B("a NO(OP\r\n"), "ERR a Unexpected '(' in command name\n" },
	{ DEF, B("a \"NOOP\"\r\n"), "ERR a Unexpected '\"' in command name\n" },
};

static void test_table(void **state)
{
	(void)state;	/* cmocka's fixture, unused */
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct imap_parse_limits lim;
		limits_for(cases[i].pr, &lim);
		check_all_ways(i, &lim, cases[i].in, cases[i].len, cases[i].want);
	}
}

/* ----- limits ------------------------------------------------------------ */

/* "a X " followed by filler so that the line (CRLF excluded) is len. */
static char *line_of(size_t len, char fill)
{
	char *s = malloc(len + 3);
	assert_non_null(s);
	memcpy(s, "a X ", 4);
	memset(s + 4, fill, len - 4);
	memcpy(s + len, "\r\n", 3);
	return s;
}

static void test_line_limit(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	char *ok = line_of(lim.max_line, 'x');
	char *want = malloc(lim.max_line + 16);
	assert_non_null(want);
	snprintf(want, lim.max_line + 16, "CMD a X %s\n", ok + 4);
	want[strlen(want) - 3] = '\n';	/* drop the CRLF copied from ok */
	want[strlen(want) - 2] = '\0';
	char *got = feed_whole(&lim, (const unsigned char *)ok, strlen(ok));
	assert_string_equal(got, want);
	free(got);
	got = feed_bytewise(&lim, (const unsigned char *)ok, strlen(ok));
	assert_string_equal(got, want);
	free(got);
	free(ok);
	free(want);

	/* one more byte: refused, and the next command is read */
	char *over = line_of(lim.max_line + 1, 'x');
	size_t n = strlen(over);
	over = realloc(over, n + 16);
	memcpy(over + n, "b NOOP\r\n", 9);
	got = feed_whole(&lim, (const unsigned char *)over, strlen(over));
	assert_string_equal(got, "ERR a Line too long\nCMD b NOOP\n");
	free(got);
	got = feed_bytewise(&lim, (const unsigned char *)over, strlen(over));
	assert_string_equal(got, "ERR a Line too long\nCMD b NOOP\n");
	free(got);
	free(over);

	/* in a quoted string too; the count starts again after a literal */
	lim.max_line = 20;
	got = feed_whole(&lim, (const unsigned char *)B(
		"a X \"0123456789abcd\"\r\nb X \"0123456789abcde\"\r\nc NOOP\r\n"));
	assert_string_equal(got, "CMD a X \"0123456789abcd\"\nERR b Line too long\nCMD c NOOP\n");
	free(got);
	got = feed_whole(&lim, (const unsigned char *)B(
		"a X 0123456789 {1+}\r\nx 0123456789abcdefgh\r\n"));
	assert_string_equal(got, "CMD a X 0123456789 {1}x 0123456789abcdefgh\n");
	free(got);
}

static void test_depth_limit(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	char in[256], want[300];
	unsigned d = lim.max_depth;
	size_t k = 0;
	k += (size_t)snprintf(in, sizeof in, "a X ");
	for (unsigned i = 0; i < d; i++)
		in[k++] = '(';
	for (unsigned i = 0; i < d; i++)
		in[k++] = ')';
	memcpy(in + k, "\r\n", 3);
	snprintf(want, sizeof want, "CMD %s\n", in);
	want[strlen(want) - 3] = '\n';
	want[strlen(want) - 2] = '\0';
	check_all_ways(0, &lim, in, strlen(in), want);

	k = (size_t)snprintf(in, sizeof in, "a X ");
	for (unsigned i = 0; i <= d; i++)
		in[k++] = '(';
	for (unsigned i = 0; i <= d; i++)
		in[k++] = ')';
	memcpy(in + k, "\r\nb NOOP\r\n", 11);
	check_all_ways(1, &lim, in, strlen(in),
		       "ERR a Too many nested lists\nCMD b NOOP\n");

	/* 100,000 open parentheses: still one clear error */
	size_t big = 100000;
	char *deep = malloc(big + 16);
	assert_non_null(deep);
	memcpy(deep, "a X ", 4);
	memset(deep + 4, '(', big);
	memcpy(deep + 4 + big, "\r\n", 3);
	char *got = feed_whole(&lim, (const unsigned char *)deep, strlen(deep));
	assert_string_equal(got, "ERR a Too many nested lists\n");
	free(got);
	free(deep);
}

static char *repeat_args(size_t n, const char *head)
{
	size_t hl = strlen(head);
	char *s = malloc(hl + 2 * n + 3);
	assert_non_null(s);
	memcpy(s, head, hl);
	size_t k = hl;
	for (size_t i = 0; i < n; i++) {
		s[k++] = ' ';
		s[k++] = 'x';
	}
	memcpy(s + k, "\r\n", 3);
	return s;
}

static void test_args_limit(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	char *in = repeat_args(lim.max_args, "a SEARCH");
	char *got = feed_whole(&lim, (const unsigned char *)in, strlen(in));
	assert_memory_equal(got, "CMD a SEARCH x x", 16);
	free(got);
	free(in);
	in = repeat_args(lim.max_args + 1, "a SEARCH");
	got = feed_whole(&lim, (const unsigned char *)in, strlen(in));
	assert_string_equal(got, "ERR a Too many arguments\n");
	free(got);
	free(in);
	/* a list counts as one */
	lim.max_args = 3;
	check_all_ways(0, &lim, B("a X (x y)\r\n"), "CMD a X (x y)\n");
	check_all_ways(1, &lim, B("a X (x y z)\r\nb N\r\n"),
		       "ERR a Too many arguments\nCMD b N\n");
	check_all_ways(2, &lim, B("a X x y z {1+}\r\nz\r\nb N\r\n"),
		       "ERR a Too many arguments\nCMD b N\n");
}

static void test_literal_limits(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	lim.max_literal = 10;
	lim.max_literal_kept = 4;
	lim.max_skip = 20;
	check_all_ways(0, &lim, B("a X {10}\r\n0123456789\r\n"),
		       "+\nL0123456789\nCMD a X {10}S\n");
	check_all_ways(1, &lim, B("a X {11}\r\nb N\r\n"),
		       "ERR a Literal too large\nCMD b N\n");
	/* non-synchronising over the limit: skipped if it is small enough */
	check_all_ways(2, &lim, B("a X {11+}\r\n0123456789a\r\nb N\r\n"),
		       "ERR a Literal too large\nCMD b N\n");
	check_all_ways(3, &lim, B("a X {4}\r\n0123\r\n"), "+\nCMD a X {4}0123\n");
	check_all_ways(4, &lim, B("a X {5}\r\n01234\r\n"), "+\nL01234\nCMD a X {5}S\n");
	lim.max_skip = 10;
	check_all_ways(5, &lim, B("a X {11+}\r\n0123456789a\r\nb N\r\n"),
		       "ERR a Literal too large CLOSE\n");

	/* before authentication: 8 KiB literals, nothing streamed */
	imap_parse_limits_preauth(&lim);
	size_t n = lim.max_literal;
	char *in = malloc(n + 64);
	assert_non_null(in);
	int h = snprintf(in, 64, "a LOGIN u {%zu+}\r\n", n);
	memset(in + h, 'p', n);
	memcpy(in + h + n, "\r\n", 3);
	char *got = feed_whole(&lim, (const unsigned char *)in, (size_t)h + n + 2);
	assert_memory_equal(got, "CMD a LOGIN u {8192}pppp", 24);
	free(got);
	h = snprintf(in, 64, "a LOGIN u {%zu}\r\nb NOOP\r\n", n + 1);
	got = feed_whole(&lim, (const unsigned char *)in, (size_t)h);
	assert_string_equal(got, "ERR a Literal too large\nCMD b NOOP\n");
	free(got);
	free(in);

	/* the command budget: kept literals count, and a literal that would
	 * go over it is streamed (or refused before authentication) */
	imap_parse_limits_default(&lim);
	lim.max_command = 21;
	lim.max_literal_kept = 10;
	check_all_ways(6, &lim, B("a X {5}\r\n01234 {5}\r\n56789\r\n"),
		       "+\n+\nCMD a X {5}01234 {5}56789\n");
	check_all_ways(7, &lim, B("a X {5}\r\n01234 {9}\r\n56789abcd\r\n"),
		       "+\n+\nL56789abcd\nCMD a X {5}01234 {9}S\n");
	lim.stream_literals = false;
	check_all_ways(8, &lim, B("a X {5}\r\n01234 {9}\r\nb N\r\n"),
		       "+\nERR a Command too long\nCMD b N\n");
	check_all_ways(9, &lim, B("a X {11}\r\nb N\r\n"),
		       "ERR a Literal too large\nCMD b N\n");
	check_all_ways(10, &lim, B("a X 0123456789abcdefgh\r\nb N\r\n"),
		       "ERR a Command too long\nCMD b N\n");
	check_all_ways(11, &lim, B("a X 0123456789abcdefg\r\n"),
		       "CMD a X 0123456789abcdefg\n");

	/* LITERAL-: 4096 is fine, 4097 is not */
	imap_parse_limits_default(&lim);
	lim.literal_minus = true;
	in = malloc(5000);
	assert_non_null(in);
	h = snprintf(in, 64, "a X {4096+}\r\n");
	memset(in + h, 'x', 4096);
	memcpy(in + h + 4096, "\r\n", 3);
	got = feed_whole(&lim, (const unsigned char *)in, strlen(in));
	assert_memory_equal(got, "CMD a X {4096}xxx", 17);
	free(got);
	h = snprintf(in, 64, "a X {4097+}\r\n");
	memset(in + h, 'x', 4097);
	memcpy(in + h + 4097, "\r\nb N\r\n", 8);
	got = feed_whole(&lim, (const unsigned char *)in, strlen(in));
	assert_string_equal(got,
		"ERR a Non-synchronizing literal over 4096 octets\nCMD b N\n");
	free(got);
	free(in);
}

static void test_tag_limit(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	char in[512], want[512];
	memset(in, 't', IMAP_TAG_MAX);
	memcpy(in + IMAP_TAG_MAX, " NOOP\r\n", 8);
	snprintf(want, sizeof want, "CMD %.*s NOOP\n", (int)IMAP_TAG_MAX, in);
	check_all_ways(0, &lim, in, strlen(in), want);
	memset(in, 't', IMAP_TAG_MAX + 1);
	memcpy(in + IMAP_TAG_MAX + 1, " NOOP\r\nb NOOP\r\n", 15);
	check_all_ways(1, &lim, in, strlen(in), "ERR * Tag too long\nCMD b NOOP\n");
}

static void test_skip_limit(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	lim.max_skip = 10;
	check_all_ways(0, &lim, B("a X ) 12345\r\nb N\r\n"),
		       "ERR a Unexpected ')'\nCMD b N\n");
	check_all_ways(1, &lim, B("a X ) 123456789\r\nb N\r\n"),
		       "ERR a Unexpected ')' CLOSE\n");
}

/* ----- literal streaming and the caller's decisions --------------------- */

static void test_partial_and_chunks(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	lim.max_literal_kept = 2;
	struct imap_parser *p = imap_parser_new(&lim);
	const char *in = "t1 APPEND \"Sent\" (\\Seen) \"1-Feb-1994 12:00:00 +0000\" {6}\r\n";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	const struct imap_cmd *cmd;
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_CONTINUE);
	assert_null(cmd);
	const struct imap_cmd *part = imap_parser_partial(p);
	assert_string_equal((const char *)part->tag.p, "t1");
	assert_string_equal((const char *)part->name.p, "APPEND");
	assert_int_equal(part->nargs, 3);
	assert_int_equal(part->args[1].type, IMAP_ARG_LIST);
	const struct imap_literal_info *li = imap_parser_literal(p);
	assert_int_equal(li->size, 6);
	assert_true(li->sync);
	assert_false(li->binary);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_MORE);
	assert_int_equal(imap_parser_push(p, "abc", 3), 3);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_LITERAL);
	assert_int_equal(li->offset, 0);
	assert_memory_equal(li->chunk.p, "abc", 3);
	assert_int_equal(imap_parser_push(p, "def\r\n", 5), 5);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_LITERAL);
	assert_int_equal(li->offset, 3);
	assert_int_equal(li->chunk.len, 3);
	assert_memory_equal(li->chunk.p, "def", 3);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	assert_int_equal(cmd->nargs, 4);
	assert_true(cmd->args[3].streamed);
	assert_int_equal(cmd->args[3].literal_size, 6);

	/* refusing a literal: the client will not send it */
	in = "t2 APPEND x {100}\r\nt3 NOOP\r\n";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_CONTINUE);
	imap_parser_refuse_literal(p);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	assert_string_equal((const char *)cmd->tag.p, "t3");

	/* giving up half way through a streamed literal */
	in = "t4 APPEND x {10+}\r\n01234";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_LITERAL);
	imap_parser_skip_command(p);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_MORE);
	in = "56789 more (args)\r\nt5 NOOP\r\n";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	assert_string_equal((const char *)cmd->tag.p, "t5");
	imap_parser_free(&p);
}

/* A 50 MB APPEND goes through in window-sized chunks and is never held. */
static void test_large_append(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	struct imap_parser *p = imap_parser_new(&lim);
	uint64_t size = IMAP_MAX_LITERAL_DEFAULT;
	char head[64];
	int h = snprintf(head, sizeof head, "a APPEND INBOX {%llu+}\r\n",
			 (unsigned long long)size);
	assert_int_equal(imap_parser_push(p, head, (size_t)h), (size_t)h);
	static unsigned char block[100000];
	memset(block, 'm', sizeof block);
	uint64_t sent = 0, got = 0;
	size_t max_chunk = 0;
	const struct imap_cmd *cmd = NULL;
	while (sent < size) {
		size_t n = size - sent < sizeof block ? (size_t)(size - sent) : sizeof block;
		size_t took = imap_parser_push(p, block, n);
		sent += took;
		int rc;
		while ((rc = imap_parser_next(p, &cmd)) == IMAP_PARSE_LITERAL) {
			const struct imap_literal_info *li = imap_parser_literal(p);
			assert_int_equal(li->offset, got);
			got += li->chunk.len;
			if (li->chunk.len > max_chunk)
				max_chunk = li->chunk.len;
		}
		assert_int_equal(rc, IMAP_PARSE_MORE);
	}
	assert_int_equal(got, size);
	assert_true(max_chunk <= IMAP_PARSE_WINDOW);
	assert_int_equal(imap_parser_push(p, "\r\n", 2), 2);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	assert_int_equal(cmd->args[1].literal_size, size);
	imap_parser_free(&p);
}

static void test_read_line(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	lim.max_line = 20;
	struct imap_parser *p = imap_parser_new(&lim);
	const char *in = "a AUTHENTICATE PLAIN\r\nAGZvbwBi\r\nYXI=\nb NOOP\r\n";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	const struct imap_cmd *cmd;
	struct span line;
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	assert_int_equal(imap_parser_read_line(p, &line), 1);
	assert_int_equal(line.len, 8);
	assert_memory_equal(line.p, "AGZvbwBi", 8);
	assert_int_equal(imap_parser_read_line(p, &line), 1);
	assert_int_equal(line.len, 4);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	assert_string_equal((const char *)cmd->tag.p, "b");
	/* in pieces, at the limit and over it */
	assert_int_equal(imap_parser_push(p, "01234", 5), 5);
	assert_int_equal(imap_parser_read_line(p, &line), 0);
	assert_int_equal(imap_parser_push(p, "567890123456789\r", 16), 16);
	assert_int_equal(imap_parser_read_line(p, &line), 0);
	assert_int_equal(imap_parser_push(p, "\n", 1), 1);
	assert_int_equal(imap_parser_read_line(p, &line), 1);
	assert_int_equal(line.len, 20);
	assert_int_equal(imap_parser_push(p, "01234567890123456789A", 21), 21);
	assert_int_equal(imap_parser_read_line(p, &line), -1);
	assert_true(imap_parser_error(p)->close);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_ERROR);
	imap_parser_free(&p);
}

static void test_pending(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits lim;
	imap_parse_limits_default(&lim);
	struct imap_parser *p = imap_parser_new(&lim);
	/* STARTTLS with injected plaintext behind it */
	const char *in = "a STARTTLS\r\nb LOGIN x y\r\n";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	const struct imap_cmd *cmd;
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	struct span rest = imap_parser_pending(p);
	assert_int_equal(rest.len, 13);
	assert_memory_equal(rest.p, "b LOGIN x y\r\n", 13);
	imap_parser_drop_pending(p);
	assert_int_equal(imap_parser_pending(p).len, 0);
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_MORE);
	/* an idle connection gives its buffers back and still works */
	imap_parser_shrink(p);
	in = "c IDLE\r\n";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	imap_parser_shrink(p);
	struct span line;
	in = "DONE\r\nd X (a b)\r\n";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	assert_int_equal(imap_parser_read_line(p, &line), 1);
	assert_int_equal(line.len, 4);
	imap_parser_shrink(p);	/* a line is lent out: nothing happens */
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	assert_string_equal((const char *)cmd->tag.p, "d");
	assert_int_equal(cmd->args[0].list_len, 2);
	/* the window: push takes no more than it can hold */
	static unsigned char big[IMAP_PARSE_WINDOW + 10];
	memset(big, 'x', sizeof big);
	assert_int_equal(imap_parser_push(p, big, sizeof big), IMAP_PARSE_WINDOW);
	imap_parser_free(&p);
}

static void test_set_limits(void **state)
{
	(void)state;	/* unused */
	struct imap_parse_limits pre, post;
	imap_parse_limits_preauth(&pre);
	imap_parse_limits_default(&post);
	struct imap_parser *p = imap_parser_new(&pre);
	const char *in = "a LOGIN u p\r\nb X {9000}\r\n";
	assert_int_equal(imap_parser_push(p, in, strlen(in)), strlen(in));
	const struct imap_cmd *cmd;
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_COMMAND);
	imap_parser_set_limits(p, &post);	/* from the next command on */
	assert_int_equal(imap_parser_next(p, &cmd), IMAP_PARSE_CONTINUE);
	imap_parser_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_args_limit),
		cmocka_unit_test(test_literal_limits),
		cmocka_unit_test(test_tag_limit),
		cmocka_unit_test(test_skip_limit),
		cmocka_unit_test(test_partial_and_chunks),
		cmocka_unit_test(test_large_append),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_set_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
