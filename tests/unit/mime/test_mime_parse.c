/* test_mime_parse.c - cmocka tests of src/mime/: a table of messages with
 * the exact ENVELOPE, BODY and BODYSTRUCTURE Dovecot 2.3.19 returned for
 * them (recorded through a private Dovecot over a pipe, see
 * dovecot-ref.py), section lookup and slicing offsets, every limit at and
 * past its value (1,000-deep nesting, part and header counts), the
 * decoders (base64, quoted-printable, RFC 2047 in many charsets, RFC
 * 2231), dates, ids, the cache form against corruption, and a timing
 * check on a 100 KB message. Inputs are exactly sized heap copies so
 * ASan catches any read past a length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "mime/mime.h"
#include "mime_test_util.h"

static unsigned char *exact(const void *p, size_t n)
{
	unsigned char *d = malloc(n ? n : 1);
	if (n > 0)
		memcpy(d, p, n);
	return d;
}

static struct mime_message *parse_str(const char *s, size_t n, unsigned char **copy)
{
	*copy = exact(s, n);
	return mime_parse(*copy, n, NULL);
}

/* ----- IMAP views against Dovecot ------------------------------------- */

static const struct {
	const char *name, *msg, *envelope, *body, *bodystructure;
} imap_cases[] = {
	{ "alternative.eml",
	  "From: a@b.example\r\n"
	  "Subject: alt\r\n"
	  "Content-Type: multipart/alternative; boundary=\"XX\"\r\n"
	  "Content-Language: en, fr\r\n"
	  "\r\n"
	  "preamble\r\n"
	  "--XX\r\n"
	  "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n"
	  "Content-ID: <part1@b.example>\r\n"
	  "Content-Description: the text\r\n"
	  "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
	  "\r\n"
	  "Hi=20there\r\n"
	  "line two\r\n"
	  "--XX\r\n"
	  "Content-Type: text/html\r\n"
	  "Content-Disposition: inline\r\n"
	  "Content-Language: de\r\n"
	  "Content-Location: http://example.com/x.html\r\n"
	  "\r\n"
	  "<p>Hi</p>\r\n"
	  "--XX--\r\n"
	  "epilogue\r\n"
	  "",
	  "(NIL \"alt\" ((NIL NIL \"a\" \"b.example\")) ((NIL NIL \"a\" \"b.example\")) ((NIL NIL \"a\" \"b.example\")) NIL NIL NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") \"<part1@b.example>\" \"the text\" \"quoted-printable\" 20 1)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0) \"alternative\")",
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") \"<part1@b.example>\" \"the text\" \"quoted-printable\" 20 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL (\"inline\" NIL) (\"de\") \"http://example.com/x.html\") \"alternative\" (\"boundary\" \"XX\") NIL (\"en\" \"fr\") NIL)" },
	{ "eightbit.eml",
	  "From: =?utf-8?q?J=C3=B6rg?= <j@example.de>\r\n"
	  "To: J\xc3""\xb6""rg <j@example.de>\r\n"
	  "Subject: Gr\xc3""\xbc""\xc3""\x9f""e aus\r\n"
	  " K\xc3""\xb6""ln\r\n"
	  "Content-Type: text/plain; charset=utf-8\r\n"
	  "Content-Transfer-Encoding: 8bit\r\n"
	  "\r\n"
	  "Gr\xc3""\xbc""\xc3""\x9f""e\r\n"
	  "no newline at end",
	  "(NIL {17}\r\n"
	  "Gr\xc3""\xbc""\xc3""\x9f""e aus K\xc3""\xb6""ln ((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"example.de\")) ((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"example.de\")) ((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"example.de\")) (({5}\r\n"
	  "J\xc3""\xb6""rg NIL \"j\" \"example.de\")) NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 26 1)",
	  "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 26 1 NIL NIL NIL NIL)" },
	{ "groups.eml",
	  "From: \"Joe \\\"Q\\\" Public\" <john.q.public@example.com>\r\n"
	  "Sender: jdoe@example.org (John Doe)\r\n"
	  "To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;\r\n"
	  "Cc: Undisclosed recipients:;\r\n"
	  "Bcc: Mary Smith <@node.test,@other.test:mary@example.net>\r\n"
	  "Reply-To: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>\r\n"
	  "In-Reply-To: <1234@local.machine.example>\r\n"
	  "Subject: =?utf-8?B?w6k=?= \"quoted\" \\ back\r\n"
	  "\r\n"
	  "body\r\n"
	  "",
	  "(NIL {32}\r\n"
	  "=?utf-8?B?w6k=?= \"quoted\" \\ back (({14}\r\n"
	  "Joe \"Q\" Public NIL \"john.q.public\" \"example.com\")) ((\"John Doe\" NIL \"jdoe\" \"example.org\")) ((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"dkuug.dk\")) ((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL)) ((NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)) ((\"Mary Smith\" \"@node.test,@other.test\" \"mary\" \"example.net\")) \"<1234@local.machine.example>\" NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)" },
	{ "noheader.eml",
	  "\r\n"
	  "just a body\r\n"
	  "",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 1)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 1 NIL NIL NIL NIL)" },
	{ "rfc822.eml",
	  "From: outer@example.com\r\n"
	  "Subject: fwd\r\n"
	  "Content-Type: multipart/mixed; boundary=b1\r\n"
	  "\r\n"
	  "--b1\r\n"
	  "Content-Type: text/plain\r\n"
	  "\r\n"
	  "see attached\r\n"
	  "--b1\r\n"
	  "Content-Type: message/rfc822\r\n"
	  "Content-Disposition: attachment; filename=\"fwd.eml\"\r\n"
	  "\r\n"
	  "From: inner@example.com\r\n"
	  "To: x@example.com\r\n"
	  "Subject: inner\r\n"
	  "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	  "Content-Type: multipart/mixed; boundary=b2\r\n"
	  "\r\n"
	  "--b2\r\n"
	  "Content-Type: text/plain; charset=iso-8859-1\r\n"
	  "\r\n"
	  "Z\xfc""rich\r\n"
	  "--b2\r\n"
	  "Content-Type: application/pdf; name*=utf-8''%E2%82%AC.pdf\r\n"
	  "Content-Transfer-Encoding: base64\r\n"
	  "\r\n"
	  "JVBERi0=\r\n"
	  "--b2--\r\n"
	  "\r\n"
	  "--b1--\r\n"
	  "",
	  "(NIL \"fwd\" ((NIL NIL \"outer\" \"example.com\")) ((NIL NIL \"outer\" \"example.com\")) ((NIL NIL \"outer\" \"example.com\")) NIL NIL NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 0)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 326 (\"Tue, 1 Jul 2003 10:52:37 +0200\" \"inner\" ((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"x\" \"example.com\")) NIL NIL NIL NIL) ((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"7bit\" 6 0)(\"application\" \"pdf\" (\"name*\" \"utf-8''%E2%82%AC.pdf\") NIL NIL \"base64\" 8) \"mixed\") 16) \"mixed\")",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 0 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 326 (\"Tue, 1 Jul 2003 10:52:37 +0200\" \"inner\" ((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"x\" \"example.com\")) NIL NIL NIL NIL) ((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"7bit\" 6 0 NIL NIL NIL NIL)(\"application\" \"pdf\" (\"name*\" \"utf-8''%E2%82%AC.pdf\") NIL NIL \"base64\" 8 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b2\") NIL NIL NIL) 16 NIL (\"attachment\" (\"filename\" \"fwd.eml\")) NIL NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)" },
	{ "simple.eml",
	  "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
	  "Subject: afternoon meeting\r\n"
	  "To: mooch@owatagu.siam.edu.example\r\n"
	  "Message-Id: <B27397-0100000@Blurdybloop.example>\r\n"
	  "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
	  "MIME-Version: 1.0\r\n"
	  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
	  "\r\n"
	  "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n"
	  "",
	  "(\"Mon, 7 Feb 1994 21:52:25 -0800 (PST)\" \"afternoon meeting\" ((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) ((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) ((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) ((NIL NIL \"mooch\" \"owatagu.siam.edu.example\")) NIL NIL NIL \"<B27397-0100000@Blurdybloop.example>\")",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 55 1)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 55 1 NIL NIL NIL NIL)" },
};

static void expect_str(const struct buf *b, const char *want, const char *what,
		       const char *name)
{
	if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0)
		fail_msg("%s %s:\n want %s\n got  %.*s", name, what, want,
			 (int)b->len, b->data);
}

static void test_imap_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof imap_cases / sizeof imap_cases[0]; i++) {
		unsigned char *copy;
		struct mime_message *m = parse_str(imap_cases[i].msg,
						   strlen(imap_cases[i].msg), &copy);
		struct buf e, b, s;
		buf_init(&e, 1 << 20);
		buf_init(&b, 1 << 20);
		buf_init(&s, 1 << 20);
		assert_int_equal(mime_envelope_imap(m, 0, &e), 0);
		assert_int_equal(mime_bodystructure_imap(m, 0, false, &b), 0);
		assert_int_equal(mime_bodystructure_imap(m, 0, true, &s), 0);
		expect_str(&e, imap_cases[i].envelope, "ENVELOPE", imap_cases[i].name);
		expect_str(&b, imap_cases[i].body, "BODY", imap_cases[i].name);
		expect_str(&s, imap_cases[i].bodystructure, "BODYSTRUCTURE", imap_cases[i].name);

		/* The cache gives back the same strings. */
		struct buf c;
		buf_init(&c, 1 << 22);
		assert_int_equal(mime_cache_write(m, &c), 0);
		struct mime_cache mc;
		struct err err;
		assert_int_equal(mime_cache_read(buf_span(&c), &mc, &err), 0);
		assert_int_equal(mc.envelope.len, e.len);
		assert_memory_equal(mc.envelope.p, e.data, e.len);
		assert_int_equal(mc.body.len, b.len);
		assert_memory_equal(mc.bodystructure.p, s.data, s.len);
		buf_release(&c);
		buf_release(&e);
		buf_release(&b);
		buf_release(&s);
		mime_message_free(&m);
		free(copy);
	}
}

/* A full buffer is an error, never an overrun; every size up to the
 * needed one fails cleanly. */
static void test_imap_output_bound(void **state)
{
	(void)state;
	unsigned char *copy;
	const char *msg = imap_cases[0].msg;
	struct mime_message *m = parse_str(msg, strlen(msg), &copy);
	size_t need = strlen(imap_cases[0].bodystructure);
	for (size_t max = 0; max <= need; max++) {
		struct buf b;
		buf_init(&b, max);
		int rc = mime_bodystructure_imap(m, 0, true, &b);
		assert_int_equal(rc, max == need ? 0 : -1);
		assert_true(b.len <= max);
		buf_release(&b);
	}
	mime_message_free(&m);
	free(copy);
}

/* ----- structure, sections, offsets ------------------------------------ */

static void expect_span(struct span s, const char *want)
{
	if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
		fail_msg("want [%s] got [%.*s]", want, (int)s.len, s.p);
}

static void test_sections(void **state)
{
	(void)state;
	/* rfc822.eml: 1 text, 2 message/rfc822 with 2.1 text, 2.2 pdf. */
	const char *msg = NULL;
	for (size_t i = 0; i < sizeof imap_cases / sizeof imap_cases[0]; i++)
		if (strcmp(imap_cases[i].name, "rfc822.eml") == 0)
			msg = imap_cases[i].msg;
	assert_non_null(msg);
	unsigned char *copy;
	struct mime_message *m = parse_str(msg, strlen(msg), &copy);
	uint32_t p1[] = { 1 }, p2[] = { 2 }, p21[] = { 2, 1 }, p22[] = { 2, 2 },
		 p3[] = { 3 }, p23[] = { 2, 3 }, p111[] = { 1, 1 }, p0[] = { 0 };
	const struct mime_part *pt = mime_message_part(m, mime_message_section(m, p1, 1));
	expect_span(mime_part_body(m, pt), "see attached");
	expect_span(mime_part_header(m, pt), "Content-Type: text/plain\r\n\r\n");
	uint32_t i2 = mime_message_section(m, p2, 1);
	pt = mime_message_part(m, i2);
	assert_true(pt->flags & MIME_PART_MESSAGE);
	/* 2.HEADER is the encapsulated message's header. */
	const struct mime_part *inner = mime_message_part(m, pt->first_child);
	struct span h = mime_part_header(m, inner);
	assert_true(span_prefix_ci(h, "From: inner@example.com\r\n"));
	pt = mime_message_part(m, mime_message_section(m, p21, 2));
	expect_span(mime_part_body(m, pt), "Z\xfcrich");
	pt = mime_message_part(m, mime_message_section(m, p22, 2));
	expect_span(mime_part_body(m, pt), "JVBERi0=");
	struct buf bin;
	buf_init(&bin, 1024);
	assert_int_equal(mime_part_decode(m, pt, &bin), 0);
	expect_span(buf_span(&bin), "%PDF-");
	buf_release(&bin);
	struct buf name;
	buf_init(&name, 1024);
	const struct mime_param *np = mime_param_find(pt->params, pt->nparams, "name");
	assert_non_null(np);
	assert_true(np->extended);
	assert_int_equal(mime_param_utf8(np, &name), 0);
	expect_span(buf_span(&name), "\xe2\x82\xac.pdf");
	buf_release(&name);
	assert_int_equal(mime_message_section(m, p3, 1), MIME_NONE);
	assert_int_equal(mime_message_section(m, p23, 2), MIME_NONE);
	assert_int_equal(mime_message_section(m, p111, 2), MIME_NONE);
	assert_int_equal(mime_message_section(m, p0, 1), MIME_NONE);
	mime_message_free(&m);
	free(copy);

	/* A single-part message: part 1 is the body itself. */
	const char *single = "Subject: x\n\nbody\n";
	m = parse_str(single, strlen(single), &copy);
	assert_int_equal(mime_message_section(m, p1, 1), 0);
	assert_int_equal(mime_message_section(m, p111, 2), MIME_NONE);
	expect_span(mime_part_body(m, mime_message_part(m, 0)), "body\n");
	mime_message_free(&m);
	free(copy);
}

static void test_bare_lf_nul_8bit(void **state)
{
	(void)state;
	static const char msg[] =
		"Subject: a\0b \xff\xfe\n"
		"Content-Type: multipart/mixed; boundary=\"=_x\"\n"
		"\n"
		"--=_x\n"
		"\n"
		"one\0two\n"
		"--=_x\r\n"
		"Content-Type: text/plain; charset=\"iso-8859-1\"\r\n"
		"\r\n"
		"caf\xe9\r\n"
		"--=_x--";
	unsigned char *copy;
	struct mime_message *m = parse_str(msg, sizeof msg - 1, &copy);
	assert_int_equal(mime_message_nparts(m), 3);
	struct span nulpart = mime_part_body(m, mime_message_part(m, 1));
	assert_int_equal(nulpart.len, 7);
	assert_memory_equal(nulpart.p, "one\0two", 7);
	expect_span(mime_part_body(m, mime_message_part(m, 2)), "caf\xe9");
	struct buf t;
	buf_init(&t, 4096);
	assert_int_equal(mime_text_extract(m, MIME_TEXT_BODY, &t), 0);
	assert_non_null(memmem(t.data, t.len, "caf\xc3\xa9", 5));
	buf_release(&t);
	/* NUL and 8-bit in the subject go out as a literal with U+FFFD. */
	struct buf e;
	buf_init(&e, 4096);
	assert_int_equal(mime_envelope_imap(m, 0, &e), 0);
	assert_non_null(memmem(e.data, e.len, "{8}\r\na\xef\xbf\xbd" "b \xff\xfe", 13));
	buf_release(&e);
	mime_message_free(&m);
	free(copy);
}

/* ----- limits ------------------------------------------------------------ */

/* depth nested multiparts, each with its own boundary. */
static char *nested(unsigned depth, size_t *len_out)
{
	size_t cap = (size_t)depth * 120 + 64, n = 0;
	char *s = malloc(cap);
	for (unsigned i = 0; i < depth; i++)
		n += (size_t)snprintf(s + n, cap - n,
				      "Content-Type: multipart/mixed; boundary=b%u\n\n--b%u\n",
				      i, i);
	n += (size_t)snprintf(s + n, cap - n, "\nleaf\n");
	for (unsigned i = depth; i-- > 0;)
		n += (size_t)snprintf(s + n, cap - n, "--b%u--\n", i);
	*len_out = n;
	return s;
}

static void test_depth_limit(void **state)
{
	(void)state;
	size_t len;
	char *s = nested(1000, &len);
	unsigned char *copy = exact(s, len);
	struct mime_message *m = mime_parse(copy, len, NULL);
	uint32_t n = mime_message_nparts(m);
	unsigned maxdepth = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct mime_part *p = mime_message_part(m, i);
		if (p->depth > maxdepth)
			maxdepth = p->depth;
		assert_true(p->body_end <= len);
	}
	/* Parts at the limit are leaves holding the rest. */
	assert_int_equal(maxdepth, MIME_MAX_DEPTH_DEFAULT - 1);
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(mime_bodystructure_imap(m, 0, true, &b), 0);
	buf_release(&b);
	mime_message_free(&m);

	/* At the limit and one past it. */
	struct mime_limits lim;
	mime_limits_default(&lim);
	lim.max_depth = 5;
	for (unsigned d = 3; d <= 6; d++) {
		free(s);
		free(copy);
		s = nested(d, &len);
		copy = exact(s, len);
		m = mime_parse(copy, len, &lim);
		const struct mime_part *last =
			mime_message_part(m, mime_message_nparts(m) - 1);
		/* depth d: d multiparts and a leaf at depth d. */
		if (d + 1 <= lim.max_depth) {
			assert_int_equal(last->depth, d);
			assert_false(last->flags & MIME_PART_LIMIT);
		} else {
			assert_int_equal(last->depth, lim.max_depth - 1);
			assert_true(last->flags & MIME_PART_LIMIT);
		}
		mime_message_free(&m);
	}
	free(s);
	free(copy);
}

static void test_part_and_header_limits(void **state)
{
	(void)state;
	char msg[8192];
	size_t n = (size_t)snprintf(msg, sizeof msg,
				    "Content-Type: multipart/mixed; boundary=z\n\n");
	for (int i = 0; i < 50; i++)
		n += (size_t)snprintf(msg + n, sizeof msg - n, "--z\n\npart %d\n", i);
	n += (size_t)snprintf(msg + n, sizeof msg - n, "--z--\n");
	struct mime_limits lim;
	mime_limits_default(&lim);
	for (unsigned maxp = 50; maxp <= 52; maxp++) {
		lim.max_parts = maxp;
		unsigned char *copy = exact(msg, n);
		struct mime_message *m = mime_parse(copy, n, &lim);
		/* root + 50 parts = 51 */
		assert_int_equal(mime_message_nparts(m), maxp < 51 ? maxp : 51);
		assert_int_equal((mime_message_part(m, 0)->flags & MIME_PART_LIMIT) != 0,
				 maxp < 51);
		mime_message_free(&m);
		free(copy);
	}
	/* Header fields past max_headers are ignored, the header still ends
	 * where it ends. */
	const char *h = "X-A: 1\nX-B: 2\nContent-Type: text/html\n\nbody";
	lim.max_headers = 2;
	unsigned char *copy = exact(h, strlen(h));
	struct mime_message *m = mime_parse(copy, strlen(h), &lim);
	const struct mime_part *p = mime_message_part(m, 0);
	assert_true(p->flags & MIME_PART_HDR_LIMIT);
	assert_true(span_eq_ci(p->subtype, "plain"));
	expect_span(mime_part_body(m, p), "body");
	mime_message_free(&m);
	lim.max_headers = 3;
	m = mime_parse(copy, strlen(h), &lim);
	assert_true(span_eq_ci(mime_message_part(m, 0)->subtype, "html"));
	mime_message_free(&m);
	free(copy);
}

/* ----- decoders ---------------------------------------------------------- */

static void decode_case(struct span in, int (*fn)(struct span, struct buf *),
			const char *want, size_t want_len)
{
	unsigned char *copy = exact(in.p, in.len);
	struct buf out;
	buf_init(&out, 1 << 16);
	assert_int_equal(fn(span_make(copy, in.len), &out), 0);
	if (out.len != want_len || (want_len > 0 && memcmp(out.data, want, want_len) != 0))
		fail_msg("decode [%.*s]: want [%s] got [%.*s]", (int)in.len, in.p,
			 want, (int)out.len, out.data);
	buf_release(&out);
	free(copy);
}

#define DEC(in, fn, want) decode_case(span_make(in, sizeof(in) - 1), fn, want, sizeof(want) - 1)

static void test_transfer_decoders(void **state)
{
	(void)state;
	DEC("SGVsbG8=", mime_base64_decode, "Hello");
	DEC("SGVs\r\nbG8gd29y\nbGQ=", mime_base64_decode, "Hello world");
	DEC("S G V s b G 8 !!*", mime_base64_decode, "Hello");
	DEC("SGk=SGk=", mime_base64_decode, "HiHi");
	DEC("", mime_base64_decode, "");
	DEC("=", mime_base64_decode, "");
	DEC("a=3Db=\r\nc", mime_qp_decode, "a=bc");
	DEC("soft=  \nbreak", mime_qp_decode, "softbreak");
	DEC("=4=ZZ=", mime_qp_decode, "=4=ZZ");
	DEC("trail   \r\nx", mime_qp_decode, "trail\r\nx");
	DEC("=e9=E9", mime_qp_decode, "\xe9\xe9");
}

static void test_header_decode(void **state)
{
	(void)state;
	DEC("=?UTF-8?B?w6k=?=", mime_header_decode, "\xc3\xa9");
	DEC("=?iso-8859-1?q?caf=E9?= ok", mime_header_decode, "caf\xc3\xa9 ok");
	DEC("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", mime_header_decode,
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	DEC("=?gb2312?B?1tDOxA==?=", mime_header_decode, "\xe4\xb8\xad\xe6\x96\x87");
	DEC("=?big5?B?pKSk5Q==?=", mime_header_decode, "\xe4\xb8\xad\xe6\x96\x87");
	DEC("=?shift_jis?B?k/qWe4zq?=", mime_header_decode,
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	DEC("=?euc-jp?B?xvzL3A==?=", mime_header_decode, "\xe6\x97\xa5\xe6\x9c\xac");
	DEC("=?euc-kr?B?x9GxuQ==?=", mime_header_decode, "\xed\x95\x9c\xea\xb5\xad");
	DEC("=?koi8-r?B?8NLJ18XU?=", mime_header_decode,
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	DEC("=?windows-1252?Q?=80?=", mime_header_decode, "\xe2\x82\xac");
	DEC("=?utf-16?B?/v8AaQ==?=", mime_header_decode, "i");
	DEC("=?x-unknown?Q?a=E9b?=", mime_header_decode, "a\xef\xbf\xbd" "b");
	DEC("=?utf-8?Q?bad=FF?=", mime_header_decode, "bad\xef\xbf\xbd");
	DEC("raw \xff latin", mime_header_decode, "raw \xef\xbf\xbd latin");
	/* A UTF-8 character split across two adjacent words. */
	DEC("=?utf-8?B?4oI=?= =?utf-8?B?rA==?=", mime_header_decode, "\xe2\x82\xac");
	DEC("a =?utf-8?q?b?=\r\n =?utf-8?q?c?= d", mime_header_decode, "a bc d");
	DEC("=?utf-8?q?unterminated", mime_header_decode, "=?utf-8?q?unterminated");
	DEC("  folded\r\n\tline  ", mime_header_decode, "folded line");
}

static void test_dates(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int rc;
		int64_t t;
		int zone;
	} cases[] = {
		{ "Mon, 7 Feb 1994 21:52:25 -0800 (PST)", 0, 760686745, -480 },
		{ "7 Feb 94 21:52 PST", 0, 760686720, -480 },
		{ "Thu, 1 Jan 1970 00:00:00 +0000", 0, 0, 0 },
		{ "Thu, 01 Jan 1970 01:00:00 +0100", 0, 0, 60 },
		{ "Sat, 29 Feb 2020 23:59:60 GMT", 0, 1583020800, 0 },
		{ "Tue Jul  1 10:52:37 2003", 0, 1057056757, 0 },
		{ "from x by y; Tue, 1 Jul 2003 10:52:37 +0200", 0, 1057049557, 120 },
		{ "", -1, 0, 0 },
		{ "yesterday", -1, 0, 0 },
		{ "32 Jan 2020 10:00:00 +0000", -1, 0, 0 },
		{ "1 Jan 2020 24:00:00 +0000", -1, 0, 0 },
		{ "1 Foo 2020 10:00:00 +0000", -1, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char *copy = exact(cases[i].s, strlen(cases[i].s));
		int64_t t = -1;
		int z = 99;
		int rc = mime_date_parse(span_make(copy, strlen(cases[i].s)), &t, &z);
		if (rc != cases[i].rc || (rc == 0 && (t != cases[i].t || z != cases[i].zone)))
			fail_msg("date \"%s\": rc %d t %lld zone %d", cases[i].s, rc,
				 (long long)t, z);
		free(copy);
	}
}

static void test_ids(void **state)
{
	(void)state;
	const char *v = " <a@b> (comment) <c@d>,<e@f>\r\n\t<>bare@id";
	size_t pos = 0;
	struct span id;
	const char *want[] = { "a@b", "c@d", "e@f", "bare@id" };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(mime_msgid_next(span_cstr(v), &pos, &id), 1);
		expect_span(id, want[i]);
	}
	assert_int_equal(mime_msgid_next(span_cstr(v), &pos, &id), 0);
}

/* ----- cache ------------------------------------------------------------- */

static void test_cache_corruption(void **state)
{
	(void)state;
	const char *msg = imap_cases[3].msg;	/* rfc822.eml */
	unsigned char *copy;
	struct mime_message *m = parse_str(msg, strlen(msg), &copy);
	struct buf c;
	buf_init(&c, 1 << 20);
	assert_int_equal(mime_cache_write(m, &c), 0);
	struct mime_cache mc;
	struct err err;
	assert_int_equal(mime_cache_read(buf_span(&c), &mc, &err), 0);
	assert_int_equal(mc.nparts, mime_message_nparts(m));
	for (uint32_t i = 0; i < mc.nparts; i++) {
		struct mime_cache_part cp;
		mime_cache_part(&mc, i, &cp);
		const struct mime_part *p = mime_message_part(m, i);
		assert_int_equal(cp.hdr_start, p->hdr_start);
		assert_int_equal(cp.body_end, p->body_end);
		assert_int_equal(cp.first_child, p->first_child);
	}
	/* Every truncation and every single-byte change either fails or
	 * still gives a view whose parts lie inside the message. */
	for (size_t cut = 0; cut < c.len; cut++) {
		unsigned char *t = exact(c.data, cut);
		assert_int_equal(mime_cache_read(span_make(t, cut), &mc, &err), -1);
		free(t);
	}
	for (size_t i = 0; i < c.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			unsigned char *t = exact(c.data, c.len);
			t[i] ^= (unsigned char)(1u << bit);
			if (mime_cache_read(span_make(t, c.len), &mc, &err) == 0) {
				for (uint32_t k = 0; k < mc.nparts; k++) {
					struct mime_cache_part cp;
					mime_cache_part(&mc, k, &cp);
					assert_true(cp.body_end <= mc.msg_size);
				}
				uint32_t path[3] = { 2, 2, 1 };
				for (size_t pn = 0; pn <= 3; pn++) {
					uint32_t r = mime_cache_section(&mc, path, pn);
					assert_true(r == MIME_NONE || r < mc.nparts);
				}
			}
			free(t);
		}
	}
	buf_release(&c);
	mime_message_free(&m);
	free(copy);
}


/* The search fields the cache keeps: those SEARCH/SORT read, raw with
 * their folds, in order; none when there are too many; records of the
 * first format (no search fields) still read. */
static void test_cache_search_headers(void **state)
{
	(void)state;
	const char *msg =
		"Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
		"From: Ann <ann@example.test>\r\n"
		"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
		" folded\r\n"
		"X-Other: no\r\n"
		"to: bob@example.test\r\n"
		"\r\n"
		"Subject: not a header\r\n";
	unsigned char *copy;
	struct mime_message *m = parse_str(msg, strlen(msg), &copy);
	struct buf c;
	buf_init(&c, 1 << 20);
	assert_int_equal(mime_cache_write(m, &c), 0);
	struct mime_cache mc;
	struct err err;
	assert_int_equal(mime_cache_read(buf_span(&c), &mc, &err), 0);
	assert_true(mc.has_search_headers);
	const char *want = "From: Ann <ann@example.test>\r\n"
			   "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n folded\r\n"
			   "to: bob@example.test\r\n";
	assert_int_equal(mc.search_headers.len, strlen(want));
	assert_memory_equal(mc.search_headers.p, want, strlen(want));
	struct span v;
	assert_int_equal(mime_cache_search_headers(buf_span(&c), &v), 1);
	assert_int_equal(v.len, mc.search_headers.len);
	assert_ptr_equal(v.p, mc.search_headers.p);
	assert_true(mime_header_find(mc.search_headers, "TO", &v));
	assert_int_equal(v.len, 16);
	assert_memory_equal(v.p, "bob@example.test", 16);

	/* the first format: magic PMC1, no length word, no fields */
	unsigned char *old = malloc(c.len);
	size_t lh = strlen(want);
	memcpy(old, "PMC1", 4);
	memcpy(old + 4, c.data + 4, 24);
	size_t texts = (size_t)(mc.search_headers.p - c.data) - 32;
	memcpy(old + 28, c.data + 32, texts);
	memcpy(old + 28 + texts, c.data + 32 + texts + lh, c.len - 32 - texts - lh);
	size_t old_len = c.len - 4 - lh;
	unsigned char *t = exact(old, old_len);
	assert_int_equal(mime_cache_read(span_make(t, old_len), &mc, &err), 0);
	assert_false(mc.has_search_headers);
	assert_int_equal(mc.search_headers.len, 0);
	assert_int_equal(mime_cache_search_headers(span_make(t, old_len), &v), 0);
	assert_int_equal(mime_cache_search_headers(span_make(t, old_len - 1), &v), 0);
	free(t);
	free(old);
	buf_release(&c);
	mime_message_free(&m);
	free(copy);

	/* a From: longer than the cache keeps: no fields, SEARCH reads */
	struct buf big;
	buf_init(&big, 1 << 20);
	assert_int_equal(buf_append(&big, "Subject: s\r\nFrom: ", 19), 0);
	for (unsigned i = 0; i < 2000; i++)
		assert_int_equal(buf_append(&big, "a@example.test,\r\n ", 19), 0);
	assert_int_equal(buf_append(&big, "b@example.test\r\n\r\nbody\r\n", 24), 0);
	m = parse_str((const char *)big.data, big.len, &copy);
	buf_init(&c, 1 << 20);
	assert_int_equal(mime_cache_write(m, &c), 0);
	assert_int_equal(mime_cache_read(buf_span(&c), &mc, &err), 0);
	assert_false(mc.has_search_headers);
	assert_int_equal(mime_cache_search_headers(buf_span(&c), &v), 0);
	/* truncated or grown: not a record */
	assert_int_equal(mime_cache_search_headers(span_make(c.data, c.len - 1), &v), -1);
	assert_int_equal(mime_cache_search_headers(span_make(c.data, 10), &v), -1);
	buf_release(&c);
	buf_release(&big);
	mime_message_free(&m);
	free(copy);
}

/* ----- speed ------------------------------------------------------------- */

static void test_speed_100k(void **state)
{
	(void)state;
	/* A realistic 100 KB message: headers, text, HTML, an attachment. */
	struct buf b;
	buf_init(&b, 1 << 20);
	const char *head = "From: a@example.com\r\nTo: b@example.com\r\nSubject: speed\r\n"
			   "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
			   "--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
	assert_int_equal(buf_append(&b, head, strlen(head)), 0);
	while (b.len < 40000)
		assert_int_equal(buf_append(&b, "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n", 58), 0);
	const char *att = "--outer\r\nContent-Type: application/octet-stream\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\n";
	assert_int_equal(buf_append(&b, att, strlen(att)), 0);
	while (b.len < 102400)
		assert_int_equal(buf_append(&b, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n", 66), 0);
	assert_int_equal(buf_append(&b, "--outer--\r\n", 11), 0);
	struct timespec t0, t1;
	const int rounds = 200;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < rounds; i++) {
		struct mime_message *m = mime_parse(b.data, b.len, NULL);
		assert_int_equal(mime_message_nparts(m), 3);
		mime_message_free(&m);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
		     (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / rounds;
	print_message("parse of a %zu-byte message: %.1f us\n", b.len, us);
	/* Generous so sanitizer builds pass; an optimised build takes tens
	 * of microseconds. */
	assert_true(us < 20000);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_table),
		cmocka_unit_test(test_imap_output_bound),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_bare_lf_nul_8bit),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_part_and_header_limits),
		cmocka_unit_test(test_transfer_decoders),
		cmocka_unit_test(test_header_decode),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_cache_corruption),
		cmocka_unit_test(test_cache_search_headers),
		cmocka_unit_test(test_speed_100k),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
