/* test_tokenize.c - cmocka tests of src/filter/token*.c: English words
 * (case, joiners, numbers, long words, zero-width tricks), Chinese,
 * Japanese and Korean as bigrams, mixed text, header tokens with RFC
 * 2047 words in UTF-8, Big5 and Shift_JIS, bodies in GB2312, base64 and
 * quoted-printable, HTML parts (hidden text kept out, signals in),
 * URL tokens, and bounds: 10 MB of one word, 100,000 URLs, more distinct
 * words than FILTER_TOKENS_MAX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "filter/token.h"

static void text_tokens(const char *text, struct filter_tokens *t)
{
	filter_tokens_init(t);
	filter_tokens_text(t, "", span_cstr(text));
}

/* All tokens, space-separated, in order. */
static char *joined(const struct filter_tokens *t)
{
	size_t len = 1;
	for (size_t i = 0; i < t->n; i++)
		len += t->v[i].len + 1;
	char *s = malloc(len);
	size_t o = 0;
	for (size_t i = 0; i < t->n; i++) {
		memcpy(s + o, filter_token_str(t, i), t->v[i].len);
		o += t->v[i].len;
		s[o++] = ' ';
	}
	s[o ? o - 1 : 0] = '\0';
	return s;
}

static void expect_words(const char *text, const char *want)
{
	struct filter_tokens t;
	text_tokens(text, &t);
	char *got = joined(&t);
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", text, got, want);
	free(got);
	filter_tokens_free(&t);
}

static void expect_has(const struct filter_tokens *t, const char *tok)
{
	if (!filter_tokens_has(t, tok)) {
		char *all = joined(t);
		fail_msg("no token \"%s\" in: %s", tok, all);
	}
}

static void test_english(void **state)
{
	(void)state;
	expect_words("Hello, WORLD! hello world.", "hello world");
	expect_words("Don't miss e-mail offers... a b I x", "don't miss e-mail offers");
	expect_words("Call 555-1234 now: $1,000 or 3.14", "call #n7 now #n4 or #n3");
	expect_words("abc123 R2D2", "abc123 r2d2");
	expect_words("V\xc2\xad" "i\xe2\x80\x8b" "a\xe2\x80\x8cgra", "viagra");
	expect_words("\xef\xbc\xa6\xef\xbd\x92\xef\xbd\x85\xef\xbd\x85", "free");
	expect_words("\xc3\x89T\xc3\x89 caf\xc3\xa9 \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
		     "\xc3\xa9t\xc3\xa9 caf\xc3\xa9 \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	expect_words("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ok",
		     "#long70 ok");
	/* 40 octets is still a word, 41 is not */
	expect_words("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	expect_words("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxy", "#long40");
	expect_words("\xff\xfe broken \xc3", "broken");
}

static void test_cjk(void **state)
{
	(void)state;
	/* Chinese: 免费发票 -> 免费 费发 发票 */
	expect_words("免费发票", "免费 费发 发票");
	/* Japanese with kana and kanji, then Korean */
	expect_words("今日は晴れ", "今日 日は は晴 晴れ");
	expect_words("안녕하세요", "안녕 녕하 하세 세요");
	/* mixed: runs end at Latin letters and punctuation; a lone char */
	expect_words("买Viagra药品，价格低！好", "买 viagra 药品 价格 格低 好");
	expect_words("カタカナとひらがな。", "カタ タカ カナ ナと とひ ひら らが がな");
}

static void test_hash(void **state)
{
	(void)state;
	/* the stored format: FNV-1a 64 of the string */
	assert_true(filter_token_hash("", 0) == 0xcbf29ce484222325ull);
	assert_true(filter_token_hash("a", 1) == 0xaf63dc4c8601ec8cull);
	struct filter_tokens t;
	text_tokens("one two one", &t);
	assert_int_equal(t.n, 2);
	assert_true(t.v[0].hash == filter_token_hash("one", 3));
	filter_tokens_free(&t);
}

static const char msg_en[] =
	"From: \"=?UTF-8?B?5YWN6LS55Y+R56WoIEZyZWU=?=\" <promo@Mail.Example.COM>\r\n"
	"Reply-To: other@reply.example\r\n"
	"Subject: =?big5?B?wHW0Zg==?= Cheap =?Shift_JIS?B?jaGT+oLN?=\r\n"
	"X-Mailer: BulkMailer 5.0\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative; boundary=b1\r\n"
	"\r\n"
	"--b1\r\n"
	"Content-Type: text/plain; charset=gb2312\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"1tDOxLLiytQgdmlzaXQgaHR0cDovL2JpdC5seS94eXo=\r\n"
	"--b1\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"<p>Cl=C3=A9ment says <a href=3D\"http://www.Login.Example.co.uk/x\">click</a></p>=\r\n"
	"<div style=3D\"display:none\">hamword</div>\r\n"
	"--b1\r\n"
	"Content-Type: application/octet-stream; name=\"invoice.pdf.EXE\"\r\n"
	"Content-Disposition: attachment; filename=\"invoice.pdf.EXE\"\r\n"
	"\r\n"
	"AAAA\r\n"
	"--b1--\r\n";

static void test_message(void **state)
{
	(void)state;
	struct filter_tokens t;
	filter_tokenize(span_make(msg_en, sizeof msg_en - 1), &t);
	expect_has(&t, "subject:優惠");
	expect_has(&t, "subject:cheap");
	expect_has(&t, "subject:今日");
	expect_has(&t, "subject:日は");
	expect_has(&t, "from:免费");
	expect_has(&t, "from:free");
	expect_has(&t, "from:mail.example.com");
	expect_has(&t, "reply-to:reply.example");
	expect_has(&t, "x-mailer:bulkmailer");
	expect_has(&t, "ct:multipart/alternative");
	expect_has(&t, "ct:text/html");
	expect_has(&t, "charset:gb2312");
	expect_has(&t, "ext:exe");
	expect_has(&t, "中文");
	expect_has(&t, "测试");
	expect_has(&t, "visit");
	expect_has(&t, "clément");
	expect_has(&t, "click");
	expect_has(&t, "url:bit.ly");
	expect_has(&t, "url:#shortener");
	expect_has(&t, "url:www.login.example.co.uk");
	expect_has(&t, "url:example.co.uk");
	expect_has(&t, "html:#hidden");
	assert_false(filter_tokens_has(&t, "hamword"));
	assert_true(t.html_flags & FILTER_HTML_HIDDEN);
	assert_int_equal(t.urls.n, 2);
	filter_tokens_free(&t);
}

static void test_plain_message(void **state)
{
	(void)state;
	static const char m[] =
		"Subject: hello\r\n\r\nGo to http://3232235777/ and "
		"http://user@bank.example/ today\r\n";
	struct filter_tokens t;
	filter_tokenize(span_make(m, sizeof m - 1), &t);
	expect_has(&t, "subject:hello");
	expect_has(&t, "today");
	expect_has(&t, "url:192.168.1.1");
	expect_has(&t, "url:#ip");
	expect_has(&t, "url:#ip-obfuscated");
	expect_has(&t, "url:#userinfo");
	filter_tokens_free(&t);
	/* not a message at all: still a result */
	filter_tokenize(span_make("\0\0\xff", 3), &t);
	filter_tokens_free(&t);
	filter_tokenize(span_make("", 0), &t);
	assert_int_equal(t.n, 1);	/* the default type */
	assert_string_equal(filter_token_str(&t, 0), "ct:text/plain");
	filter_tokens_free(&t);
}

static void test_bounds(void **state)
{
	(void)state;
	/* 10 MB of one word */
	size_t len = 10 * 1024 * 1024;
	char *s = malloc(len + 64);
	size_t h = (size_t)snprintf(s, 64, "Subject: x\r\n\r\n");
	memset(s + h, 'a', len - h);
	struct filter_tokens t;
	filter_tokenize(span_make(s, len), &t);
	expect_has(&t, "#long200");
	assert_true(t.n <= 4);
	filter_tokens_free(&t);
	free(s);

	/* 100,000 URLs and as many distinct words */
	size_t n = 100000;
	s = malloc(n * 48 + 64);
	len = (size_t)snprintf(s, 64, "Subject: x\r\n\r\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, 48, "http://h%zu.example/ w%zux\n",
					i, i);
	filter_tokenize(span_make(s, len), &t);
	assert_int_equal(t.n, FILTER_TOKENS_MAX);
	assert_true(t.dropped > 0);
	assert_int_equal(t.urls.n, FILTER_URLS_MAX);
	filter_tokens_free(&t);
	free(s);
}

/* The links with visible text and the forms the phishing rules read. */
static void test_links_forms(void **state)
{
	(void)state;
	const char *m = "Content-Type: text/html\r\n\r\n"
		"<a href=\"http://evil.example/x\">www.bank.example</a>"
		"<a href=\"http://a.example/\"><img src=\"http://i.example/p\">"
		"</a><form action=\"https://collect.example/p\"><input name=u>"
		"<input type=password><input type=hidden name=h>"
		"<input type=submit></form><form action=\"/relative\"></form>";
	struct filter_tokens t;
	filter_tokenize(span_cstr(m), &t);
	assert_int_equal(t.nlinks, 1);
	assert_string_equal(t.links[0].href, "http://evil.example/x");
	assert_string_equal(t.links[0].text, "www.bank.example");
	assert_int_equal(t.forms.forms, 2);
	assert_int_equal(t.forms.inputs, 2);
	assert_int_equal(t.forms.passwords, 1);
	assert_int_equal(t.forms.nactions, 1);
	assert_string_equal(t.forms.actions[0], "collect.example");
	filter_tokens_free(&t);

	/* links past the cap are counted */
	size_t n = FILTER_TOKEN_LINKS_MAX + 5;
	char *s = malloc(n * 40 + 64);
	size_t len = (size_t)snprintf(s, 64, "Content-Type: text/html\r\n\r\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, 40, "<a href=\"http://x/\">t%zu</a>",
					i);
	filter_tokenize(span_make(s, len), &t);
	assert_int_equal(t.nlinks, FILTER_TOKEN_LINKS_MAX);
	assert_int_equal(t.links_dropped, 5);
	filter_tokens_free(&t);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_english),
		cmocka_unit_test(test_cjk),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_plain_message),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_links_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
