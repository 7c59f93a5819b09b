/* test_url.c - cmocka tests of src/filter/url_norm.c and url_extract.c:
 * a table of URLs with their normal form, host, Unicode host and flags
 * (case, IDN, escapes, default ports, userinfo, IPv4 in decimal, hex and
 * octal, IPv6, shorteners), refused inputs, URLs found in text and HTML,
 * and 100,000 URLs bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "filter/url.h"

static const struct {
	const char *in, *url, *host, *host_u;
	unsigned flags;
} norm[] = {
	{ "HTTP://WWW.Example.COM", "http://www.example.com/",
	  "www.example.com", "www.example.com", 0 },
	{ "https://example.com:443/a/%7euser/%2f%41?q=%3c#frag",
	  "https://example.com/a/~user/%2FA?q=%3C", "example.com",
	  "example.com", 0 },
	{ "http://example.com:8080", "http://example.com:8080/", "example.com",
	  "example.com", FILTER_URL_PORT },
	{ "www.example.org/path.", "http://www.example.org/path.",
	  "www.example.org", "www.example.org", 0 },
	{ "http://bücher.example/", "http://xn--bcher-kva.example/",
	  "xn--bcher-kva.example", "bücher.example", FILTER_URL_IDN },
	{ "http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/",
	  "xn--bcher-kva.example", "bücher.example", FILTER_URL_IDN },
	/* Cyrillic е (U+0435) in еxample.com */
	{ "http://\xd0\xb5xample.com/", "http://xn--xample-2of.com/",
	  "xn--xample-2of.com", "\xd0\xb5xample.com", FILTER_URL_IDN },
	{ "http://%65vil.example/", "http://evil.example/", "evil.example",
	  "evil.example", 0 },
	{ "http://3232235777/", "http://192.168.1.1/", "192.168.1.1",
	  "192.168.1.1", FILTER_URL_IP | FILTER_URL_IP_OBFUSCATED },
	{ "http://0xC0A80101/x", "http://192.168.1.1/x", "192.168.1.1",
	  "192.168.1.1", FILTER_URL_IP | FILTER_URL_IP_OBFUSCATED },
	{ "http://0300.0250.1.1/", "http://192.168.1.1/", "192.168.1.1",
	  "192.168.1.1", FILTER_URL_IP | FILTER_URL_IP_OBFUSCATED },
	{ "http://192.168.257/", "http://192.168.1.1/", "192.168.1.1",
	  "192.168.1.1", FILTER_URL_IP | FILTER_URL_IP_OBFUSCATED },
	{ "http://10.0.0.1/", "http://10.0.0.1/", "10.0.0.1", "10.0.0.1",
	  FILTER_URL_IP },
	{ "http://[2001:DB8::1]:80/", "http://[2001:db8::1]/", "[2001:db8::1]",
	  "[2001:db8::1]", FILTER_URL_IP },
	{ "http://www.paypal.com@evil.example/login",
	  "http://evil.example/login", "evil.example", "evil.example",
	  FILTER_URL_USERINFO },
	{ "https://bit.ly/3xYz", "https://bit.ly/3xYz", "bit.ly", "bit.ly",
	  FILTER_URL_SHORTENER },
	{ "http://WWW.TinyURL.com/abc", "http://www.tinyurl.com/abc",
	  "www.tinyurl.com", "www.tinyurl.com", FILTER_URL_SHORTENER },
	{ "http:\\\\example.com\\a\\b", "http://example.com/a/b",
	  "example.com", "example.com", 0 },
	{ "http://exa\nmple.com./", "http://example.com/", "example.com",
	  "example.com", 0 },
	{ "//cdn.example/x.js", "http://cdn.example/x.js", "cdn.example",
	  "cdn.example", 0 },
	/* found by fuzz_url: a NUL or control in the path must not cut the
	 * string; non-ASCII is escaped as UTF-8 */
	{ "http://a.example/x\x01y z\"/\xc3\xa9%e9", "http://a.example/x%01y%20z%22/%C3%A9%E9",
	  "a.example", "a.example", 0 },
	/* full-width digits: IDNA maps them to an address */
	{ "http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/", "http://127.0.0.1/",
	  "127.0.0.1", "127.0.0.1", FILTER_URL_IP | FILTER_URL_IP_OBFUSCATED },
	/* U+034F is ignored by IDNA: the dot before it ends the host */
	{ "www.goo.\xcd\x8f/", "http://www.goo/", "www.goo", "www.goo", 0 },
	{ "http://x/%3%3253%", "http://x/%253253%25", "x", "x", 0 },
};

static const char *const refused[] = {
	"mailto:a@example.com", "ftp://example.com/", "javascript:alert(1)",
	"http://", "http:///", "http://exa mple.com/", "http://example.com:99999/",
	"http://example.com:8x/", "http://1.2.3.4.5/", "http://256.1.1.1/",
	"http://0x1g.2/", "http://[::g]/", "relative/path", "",
	"http://a%00b.example/",
	"www.\xc2%B2",	/* "www.²" is "www.2" after IDNA: a bad address */
};

static void test_normalise(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof norm / sizeof norm[0]; i++) {
		struct filter_url u;
		int rc = filter_url_normalise(span_cstr(norm[i].in), &u);
		if (rc != 0)
			fail_msg("refused %s", norm[i].in);
		assert_string_equal(u.url, norm[i].url);
		assert_string_equal(u.host, norm[i].host);
		assert_string_equal(u.host_u, norm[i].host_u);
		if (u.flags != norm[i].flags)
			fail_msg("%s: flags %x, want %x", norm[i].in, u.flags,
				 norm[i].flags);
		filter_url_clear(&u);
	}
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		struct filter_url u;
		if (filter_url_normalise(span_cstr(refused[i]), &u) != -1)
			fail_msg("accepted %s as %s", refused[i], u.url);
		assert_null(u.url);
	}
}

static void test_ipv4(void **state)
{
	(void)state;
	uint32_t a;
	assert_int_equal(filter_ipv4_parse("3232235777", 10, &a), 0);
	assert_int_equal(a, 0xc0a80101);
	assert_int_equal(filter_ipv4_parse("0x7f.1", 6, &a), 0);
	assert_int_equal(a, 0x7f000001);
	assert_int_equal(filter_ipv4_parse("4294967295", 10, &a), 0);
	assert_int_equal(a, 0xffffffff);
	assert_int_equal(filter_ipv4_parse("4294967296", 10, &a), -1);
	assert_int_equal(filter_ipv4_parse("1.2.3.256", 9, &a), -1);
	assert_int_equal(filter_ipv4_parse("08.1.1.1", 8, &a), -1);
	assert_int_equal(filter_ipv4_parse("", 0, &a), -1);
	assert_true(filter_url_is_shortener("t.co"));
	assert_false(filter_url_is_shortener("nott.co"));
}

static void test_text(void **state)
{
	(void)state;
	struct filter_urls l;
	filter_urls_init(&l);
	const char *t = "See https://Example.com/a, (www.foo.example/x) and "
			"\"http://bit.ly/abc\". Not xhttp://no.example or "
			"mailto:x@y. 访问http://例え.jp/路径 now. Again "
			"HTTPS://EXAMPLE.COM/a!";
	filter_urls_from_text(&l, span_cstr(t));
	assert_int_equal(l.n, 4);
	assert_int_equal(l.seen, 5);
	assert_string_equal(l.v[0].url, "https://example.com/a");
	assert_string_equal(l.v[1].url, "http://www.foo.example/x");
	assert_string_equal(l.v[2].url, "http://bit.ly/abc");
	assert_true(l.v[2].flags & FILTER_URL_SHORTENER);
	assert_string_equal(l.v[3].host, "xn--r8jz45g.jp");
	assert_string_equal(l.v[3].url, "http://xn--r8jz45g.jp/");
	filter_urls_free(&l);
}

static void test_html(void **state)
{
	(void)state;
	struct filter_html h;
	struct filter_urls l;
	filter_html_parse(span_cstr("<a href='HTTP://Evil.Example:80/'>www.bank.example</a>"
				    "<img src=\"http://3232235777/t.gif\"><a href=\"#top\">x</a>"), &h);
	filter_urls_init(&l);
	filter_urls_from_html(&l, &h);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].url, "http://evil.example/");
	assert_true(l.v[0].flags & FILTER_URL_HTML);
	assert_string_equal(l.v[1].url, "http://192.168.1.1/t.gif");
	assert_true(l.v[1].flags & FILTER_URL_IP);
	assert_string_equal(l.v[2].url, "http://www.bank.example/");
	assert_false(l.v[2].flags & FILTER_URL_HTML);
	filter_urls_free(&l);
	filter_html_free(&h);
}

static void test_bounds(void **state)
{
	(void)state;
	/* 100,000 distinct URLs */
	size_t n = 100000, len = 0;
	char *s = malloc(n * 32);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, 32, "http://h%zu.example/ ", i);
	struct filter_urls l;
	filter_urls_init(&l);
	filter_urls_from_text(&l, span_make(s, len));
	assert_int_equal(l.n, FILTER_URLS_MAX);
	assert_int_equal(l.seen, n);
	assert_int_equal(l.dropped, n - FILTER_URLS_MAX);
	filter_urls_free(&l);
	/* 100,000 times the same URL: work bounded, one kept */
	len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, 32, "http://same.example/ ");
	filter_urls_init(&l);
	filter_urls_from_text(&l, span_make(s, len));
	assert_int_equal(l.n, 1);
	assert_int_equal(l.dropped, n - FILTER_URLS_MAX_WORK);
	filter_urls_free(&l);
	free(s);
	/* one 10 MB URL */
	len = 10 * 1024 * 1024;
	s = malloc(len);
	memcpy(s, "http://long.example/", 20);
	memset(s + 20, 'a', len - 20);
	filter_urls_init(&l);
	filter_urls_from_text(&l, span_make(s, len));
	assert_int_equal(l.n, 1);
	assert_true(l.v[0].flags & FILTER_URL_TRUNCATED);
	assert_true(strlen(l.v[0].url) <= FILTER_URL_MAX_LEN + 8);
	filter_urls_free(&l);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
