/* test_smtpc_reply.c - cmocka tests of src/smtp/smtpc_reply.c, the SMTP
 * client's reply parser, EHLO keyword reader and DATA dot-stuffing
 * encoder. Replies are fed whole, byte by byte and split at every
 * position; each limit is tried at the limit and one past it; the encoder
 * is checked against the server's own DATA reader (smtp_data.c), which
 * must get back exactly the normalised message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "smtp/smtp_data.h"
#include "smtp/smtpc_reply.h"

/* ----- feeding --------------------------------------------------------- */

/* Feed in[0..len) cut at position cut (0: whole, SIZE_MAX: byte by byte)
 * until one reply is complete. Returns the push result; *used_out is the
 * bytes consumed in all. Each piece is an exactly sized heap block so
 * ASan sees reads outside it. */
static int feed(const char *in, size_t len, size_t cut, struct smtpc_reply *r,
		size_t *used_out, char *err, size_t errsz)
{
	struct smtpc_reply_parser p;
	smtpc_reply_parser_init(&p);
	size_t off = 0;
	int rc = 0;
	while (off < len) {
		size_t n = len - off;
		if (cut == SIZE_MAX)
			n = 1;
		else if (cut > off && cut < len)
			n = cut - off;
		unsigned char *piece = malloc(n);
		assert_non_null(piece);
		memcpy(piece, in + off, n);
		size_t used = 0;
		rc = smtpc_reply_push(&p, piece, n, &used, r);
		free(piece);
		assert_true(used <= n);
		off += used;
		if (rc != 0)
			break;
		assert_int_equal(used, n);
	}
	*used_out = off;
	if (err)
		snprintf(err, errsz, "%s", smtpc_reply_parser_error(&p));
	return rc;
}

struct good {
	const char *in;
	int code;
	const char *enhanced;
	const char *text;
	size_t used;		/* 0: all of in */
};

static const struct good goods[] = {
	{ "250 OK\r\n", 250, "", "OK", 0 },
	{ "250\r\n", 250, "", "", 0 },
	{ "250 \r\n", 250, "", "", 0 },
	{ "220 mx.example ESMTP\n", 220, "", "mx.example ESMTP", 0 },
	{ "550 5.1.1 <x@y>: no such user\r\n", 550, "5.1.1", "<x@y>: no such user", 0 },
	{ "250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 250, "",
	  "mx.example PIPELINING 8BITMIME", 0 },
	{ "550-5.7.1 first\r\n550 5.7.1 second\r\n", 550, "5.7.1", "first second", 0 },
	{ "550-5.7.1 first\r\n550-\r\n550 5.7.1\r\n", 550, "5.7.1", "first", 0 },
	{ "451 4.3.0 try\tlater\r\n", 451, "4.3.0", "try later", 0 },
	{ "554 bin\x01\xff\r\n", 554, "", "bin??", 0 },
	/* class digit differs: not an enhanced code */
	{ "250 5.1.1 odd\r\n", 250, "", "5.1.1 odd", 0 },
	{ "250 2.1.1234 long\r\n", 250, "", "2.1.1234 long", 0 },
	{ "250 2.0.0x\r\n", 250, "", "2.0.0x", 0 },
	{ "250 2.0.0\r\n", 250, "2.0.0", "", 0 },
	/* what follows the reply is the next one's */
	{ "250 OK\r\n354 go\r\n", 250, "", "OK", 8 },
	{ "250-a\r\n250 b\r\n221 bye\r\n", 250, "", "a b", 14 },
};

static void check_good(const struct good *g, size_t cut)
{
	struct smtpc_reply r;
	size_t used;
	char err[128];
	size_t len = strlen(g->in);
	int rc = feed(g->in, len, cut, &r, &used, err, sizeof err);
	if (rc != 1)
		fail_msg("%s (cut %zu): rc %d (%s)", g->in, cut, rc, err);
	assert_int_equal(r.code, g->code);
	assert_string_equal(r.enhanced, g->enhanced);
	assert_string_equal(r.text, g->text);
	assert_int_equal(used, g->used ? g->used : len);
	assert_false(r.synthetic);
}

static void test_good_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
		size_t len = strlen(goods[i].in);
		check_good(&goods[i], 0);
		check_good(&goods[i], SIZE_MAX);
		for (size_t cut = 1; cut < len; cut++)
			check_good(&goods[i], cut);
	}
}

static const char *const bads[] = {
	"OK\r\n",
	"25 x\r\n",
	"2x0 x\r\n",
	"\r\n",
	"150 x\r\n",		/* 1yz is not SMTP */
	"650 x\r\n",
	"260 x\r\n",		/* second digit 0..5 */
	"250x\r\n",
	"250-a\r\n251 b\r\n",	/* mixed codes */
	"250-a\r\n550 b\r\n",
	"250-a\r\nx\r\n",
};

static void test_bad_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		size_t len = strlen(bads[i]);
		for (size_t cut = 0; cut < len; cut++) {
			struct smtpc_reply r;
			size_t used;
			char err[128];
			int rc = feed(bads[i], len, cut ? cut : 0, &r, &used, err,
				      sizeof err);
			if (rc != -1)
				fail_msg("%s accepted (cut %zu)", bads[i], cut);
		}
	}
}

/* "250 " + n bytes of text + CRLF */
static char *long_line(size_t text_len, const char *prefix)
{
	size_t pl = strlen(prefix);
	char *s = malloc(pl + text_len + 3);
	assert_non_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, 'a', text_len);
	memcpy(s + pl + text_len, "\r\n", 3);
	return s;
}

static void test_line_limit(void **state)
{
	(void)state;
	struct smtpc_reply r;
	size_t used;
	/* the line without CRLF is at most SMTPC_LINE_MAX bytes */
	char *at = long_line(SMTPC_LINE_MAX - 4, "250 ");
	assert_int_equal(feed(at, strlen(at), 0, &r, &used, NULL, 0), 1);
	assert_int_equal(strlen(r.text), SMTPC_REPLY_TEXT_MAX - 1);
	assert_memory_equal(r.text + SMTPC_REPLY_TEXT_MAX - 4, "...", 3);
	free(at);
	char *over = long_line(SMTPC_LINE_MAX - 3, "250 ");
	assert_int_equal(feed(over, strlen(over), 0, &r, &used, NULL, 0), -1);
	assert_int_equal(feed(over, strlen(over), SIZE_MAX, &r, &used, NULL, 0), -1);
	free(over);
	/* bare LF: the same bound */
	char *lf = long_line(SMTPC_LINE_MAX - 3, "250 ");
	lf[strlen(lf) - 2] = '\n';
	lf[strlen(lf) - 1] = '\0';
	assert_int_equal(feed(lf, strlen(lf), 0, &r, &used, NULL, 0), -1);
	free(lf);
}

static char *many_lines(size_t n)
{
	char *s = malloc(n * 8 + 1);
	assert_non_null(s);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(s + o, i + 1 < n ? "250-ab\r\n" : "250 ab\r\n", 8);
		o += 8;
	}
	s[o] = '\0';
	return s;
}

static void test_lines_limit(void **state)
{
	(void)state;
	struct smtpc_reply r;
	size_t used;
	char *at = many_lines(SMTPC_REPLY_LINES_MAX);
	assert_int_equal(feed(at, strlen(at), 0, &r, &used, NULL, 0), 1);
	free(at);
	char *over = many_lines(SMTPC_REPLY_LINES_MAX + 1);
	assert_int_equal(feed(over, strlen(over), 0, &r, &used, NULL, 0), -1);
	free(over);
	/* a second reply starts its count afresh */
	char *a = many_lines(SMTPC_REPLY_LINES_MAX);
	size_t half = strlen(a), len = 2 * half;
	char *two = malloc(len);
	assert_non_null(two);
	memcpy(two, a, half);
	memcpy(two + half, a, half);
	struct smtpc_reply_parser p;
	smtpc_reply_parser_init(&p);
	assert_int_equal(smtpc_reply_push(&p, (unsigned char *)two, len, &used, &r), 1);
	assert_int_equal(used, half);
	assert_int_equal(smtpc_reply_push(&p, (unsigned char *)two + used,
					  len - used, &used, &r), 1);
	free(a);
	free(two);
}

static void test_bytes_limit(void **state)
{
	(void)state;
	/* lines of 1000 bytes: the byte bound comes before the line bound */
	size_t per = 1000, n = SMTPC_REPLY_BYTES_MAX / per + 1;
	char *s = malloc(n * per + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		char *l = s + i * per;
		memcpy(l, "250-", 4);
		memset(l + 4, 'x', per - 6);
		memcpy(l + per - 2, "\r\n", 2);
	}
	s[n * per] = '\0';
	struct smtpc_reply r;
	size_t used;
	char err[128];
	assert_int_equal(feed(s, n * per, 0, &r, &used, err, sizeof err), -1);
	assert_string_equal(err, "reply too long");
	free(s);
}

static void test_failed_stays_failed(void **state)
{
	(void)state;
	struct smtpc_reply_parser p;
	struct smtpc_reply r;
	size_t used;
	smtpc_reply_parser_init(&p);
	assert_int_equal(smtpc_reply_push(&p, (const unsigned char *)"xx\n", 3,
					  &used, &r), -1);
	assert_int_equal(smtpc_reply_push(&p, (const unsigned char *)"250 ok\n", 7,
					  &used, &r), -1);
	assert_string_equal(smtpc_reply_parser_error(&p),
			    "reply line does not start with a 3-digit code");
	/* pending: a reply begun and not finished */
	smtpc_reply_parser_init(&p);
	assert_false(smtpc_reply_pending(&p));
	assert_int_equal(smtpc_reply_push(&p, (const unsigned char *)"250-a\n25", 9,
					  &used, &r), 0);
	assert_true(smtpc_reply_pending(&p));
}

/* ----- EHLO keywords --------------------------------------------------- */

static struct smtpc_caps caps_of(const char *const *lines)
{
	struct smtpc_caps c;
	memset(&c, 0, sizeof c);
	for (; *lines; lines++)
		smtpc_caps_line(&c, span_cstr(*lines));
	return c;
}

static void test_caps(void **state)
{
	(void)state;
	const char *all[] = { "PIPELINING", "starttls", "8BITMIME", "SMTPUTF8",
			      "ENHANCEDSTATUSCODES", "SIZE 10240000",
			      "AUTH LOGIN PLAIN CRAM-MD5", "DSN", NULL };
	struct smtpc_caps c = caps_of(all);
	assert_true(c.pipelining && c.starttls && c.eightbitmime && c.smtputf8 &&
		    c.enhanced && c.size && c.auth_plain && c.auth_login && c.dsn);
	assert_int_equal(c.size_max, 10240000);
	const char *odd[] = { "SIZE", "AUTH=LOGIN", "PIPELININGX", "X-STARTTLS", NULL };
	c = caps_of(odd);
	assert_true(c.size && c.size_max == 0 && c.auth_login && !c.auth_plain);
	assert_false(c.pipelining || c.starttls || c.dsn);
	const char *big[] = { "SIZE 99999999999999999999999", NULL };
	c = caps_of(big);
	assert_true(c.size && c.size_max == 0);
	const char *junk[] = { "SIZE 12ab", "", "   ", NULL };
	c = caps_of(junk);
	assert_int_equal(c.size_max, 0);
}

/* RFC 3461 4 xtext for the DSN values passed on. */
static void test_xtext(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(smtpc_xtext("a+b=c d\x01\xc3\xa9", out, sizeof out), 0);
	assert_string_equal(out, "a+2Bb+3Dc+20d+01+C3+A9");
	assert_int_equal(smtpc_xtext("", out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(smtpc_xtext("abc", out, 4), 0);
	assert_int_equal(smtpc_xtext("abcd", out, 4), -1);
	assert_int_equal(smtpc_xtext("a+", out, 4), -1);
}

/* ----- dot-stuffing ---------------------------------------------------- */

/* Encode in, cut every `step` input bytes and with an output buffer of
 * outsz, then end. Returns a malloc'd copy, length in *len_out. */
static unsigned char *encode(const unsigned char *in, size_t len, size_t step,
			     size_t outsz, size_t *len_out)
{
	struct smtpc_dot d;
	smtpc_dot_init(&d);
	size_t cap = len * 4 + 16, o = 0, off = 0;
	unsigned char *res = malloc(cap);
	unsigned char *out = malloc(outsz);
	assert_non_null(res);
	assert_non_null(out);
	while (off < len) {
		size_t n = len - off < step ? len - off : step, used;
		size_t w = smtpc_dot_encode(&d, in + off, n, out, outsz, &used);
		assert_true(used > 0);
		assert_true(w <= outsz);
		memcpy(res + o, out, w);
		o += w;
		off += used;
	}
	o += smtpc_dot_end(&d, res + o);
	free(out);
	*len_out = o;
	return res;
}

struct dot_case {
	const char *in, *out;
};

static const struct dot_case dots[] = {
	{ "", ".\r\n" },
	{ "a\r\n", "a\r\n.\r\n" },
	{ "a", "a\r\n.\r\n" },
	{ ".\r\n", "..\r\n.\r\n" },
	{ ".a\r\n..b\r\nc.\r\n", "..a\r\n...b\r\nc.\r\n.\r\n" },
	{ "a\r\n.", "a\r\n..\r\n.\r\n" },
	{ "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n" },		/* bare LF */
	{ "a\r.\rb\r", "a\r\n..\r\nb\r\n.\r\n" },	/* bare CR */
	{ "a\r\r\n", "a\r\n\r\n.\r\n" },
	{ "\r\n.\r\n", "\r\n..\r\n.\r\n" },
};

static void test_dot_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++) {
		size_t len = strlen(dots[i].in);
		for (size_t step = 1; step <= len + 1; step++) {
			size_t ol;
			unsigned char *o = encode((const unsigned char *)dots[i].in,
						  len, step, SMTPC_DOT_EXPAND, &ol);
			if (ol != strlen(dots[i].out) || memcmp(o, dots[i].out, ol) != 0)
				fail_msg("case %zu step %zu: got %.*s", i, step,
					 (int)ol, (char *)o);
			free(o);
		}
	}
}

/* Random text through the encoder and then the server's DATA reader:
 * what comes out is the input with bare CR/LF made CRLF and a final CRLF,
 * and the reader ends exactly at our end. */
static void test_dot_round_trip(void **state)
{
	(void)state;
	srand(4242);
	const unsigned char alphabet[] = { 'a', '.', '\r', '\n', '\r', '\n', 0, 0xe9 };
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = (size_t)(rand() % 64);
		unsigned char in[64];
		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rand() % sizeof alphabet];
		/* normalised reference */
		unsigned char want[200];
		size_t wl = 0;
		for (size_t i = 0; i < len; i++) {
			if (in[i] == '\r') {
				want[wl++] = '\r';
				want[wl++] = '\n';
				if (i + 1 < len && in[i + 1] == '\n')
					i++;
			} else if (in[i] == '\n') {
				want[wl++] = '\r';
				want[wl++] = '\n';
			} else {
				want[wl++] = in[i];
			}
		}
		if (wl > 0 && !(wl >= 2 && want[wl - 2] == '\r' && want[wl - 1] == '\n')) {
			want[wl++] = '\r';
			want[wl++] = '\n';
		}
		size_t el;
		unsigned char *enc = encode(in, len, (size_t)(rand() % 8) + 1,
					    SMTPC_DOT_EXPAND + (size_t)(rand() % 8), &el);
		struct smtp_data d;
		struct buf out;
		buf_init(&out, 1 << 16);
		smtp_data_begin(&d, &out, 1 << 16, 1000);
		size_t used;
		/* the reader starts right after "DATA"'s CRLF */
		assert_int_equal(smtp_data_push(&d, enc, el, &used), 1);
		assert_int_equal(used, el);
		struct err e;
		assert_int_equal(smtp_data_result(&d, &e), 0);
		assert_int_equal(out.len, wl);
		assert_memory_equal(out.data, want, wl);
		buf_release(&out);
		free(enc);
	}
}

/* ----- formatting ------------------------------------------------------ */

static void test_format(void **state)
{
	(void)state;
	struct smtpc_reply r = { .code = 550, .enhanced = "5.1.1", .text = "no" };
	char out[64];
	smtpc_reply_format(&r, out, sizeof out);
	assert_string_equal(out, "550 5.1.1 no");
	r.enhanced[0] = '\0';
	smtpc_reply_format(&r, out, 6);
	assert_string_equal(out, "550 n");
	assert_string_equal(smtpc_stage_name(SMTPC_STAGE_RCPT), "RCPT TO command");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_replies),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_lines_limit),
		cmocka_unit_test(test_bytes_limit),
		cmocka_unit_test(test_failed_stays_failed),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_dot_cases),
		cmocka_unit_test(test_dot_round_trip),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
