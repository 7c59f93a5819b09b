/* test_rep_http.c - the pieces of the threat-intelligence client that
 * need no server (src/filter/rep_http*.c, rep_ti.c, rep_cache.c): the
 * response parser on a table of answers, each fed whole and cut at every
 * length; the API's URL and template; reading its answers; the LRU
 * cache's bound, order and TTL from several threads. The client against
 * real servers is tests/integration/test_filter_rep.py. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter/rep_private.h"

struct resp_case {
	const char *text;
	int rc;		/* when all of it was read and the peer closed */
	int status;
	const char *body;
};

static const struct resp_case cases[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 1, 200, "hello" },
	{ "HTTP/1.0 404 Not Found\r\n\r\n", 1, 404, "" },
	{ "HTTP/1.1 200 OK\nContent-Type: application/json\n\n{\"a\":1}", 1,
	  200, "{\"a\":1}" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n", 1, 200,
	  "wikipedia" },
	{ "HTTP/1.1 204 No Content\r\n\r\n", 1, 204, "" },
	{ "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n"
	  "content-length: 2\r\n\r\nno", 1, 500, "no" },
	{ "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 1, 200, "" },
	/* bad */
	{ "HTTP/1.1 100 Continue\r\n\r\n", -1, 0, NULL },
	{ "HTTP/2 200\r\n\r\n", -1, 0, NULL },
	{ "HTTP/1.1 20 OK\r\n\r\n", -1, 0, NULL },
	{ "HTTP/1.1 200OK\r\n\r\n", -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
	  "hello!", -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: "
	  "chunked\r\n\r\n0\r\n\r\n", -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	  -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -1,
	  0, NULL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
	  -1, 0, NULL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
	  -1, 0, NULL },		/* closed before the last chunk */
	{ "HTTP/1.1 200 OK\r\n", -1, 0, NULL },
	{ "", -1, 0, NULL },
};

static void test_parse_table(void **state)
{
	unsigned char body[64];
	struct rep_http_resp r;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct resp_case *c = &cases[i];
		const unsigned char *p = (const unsigned char *)c->text;
		size_t len = strlen(c->text);
		int rc = rep_http_parse(p, len, true, body, sizeof body, &r);

		if (rc != c->rc)
			fail_msg("case %zu: rc %d, want %d", i, rc, c->rc);
		if (rc == 1) {
			assert_int_equal(r.status, c->status);
			assert_int_equal(r.body_len, strlen(c->body));
			assert_memory_equal(body, c->body, r.body_len);
		}
		/* every shorter read, the peer still there: never complete
		 * early with another answer, never an error for a good one */
		for (size_t k = 0; k < len; k++) {
			int prc = rep_http_parse(p, k, false, body, sizeof body,
						 &r);

			if (c->rc == 1 && prc == -1)
				fail_msg("case %zu cut at %zu: error", i, k);
			if (prc == 1 && c->rc == 1 &&
			    (r.status != c->status ||
			     r.body_len > strlen(c->body)))
				fail_msg("case %zu cut at %zu: other answer", i,
					 k);
		}
	}
}

static void test_parse_limits(void **state)
{
	char text[4096];
	unsigned char body[16];
	struct rep_http_resp r;
	size_t n;

	(void)state;
	/* the body at the caller's bound and one over */
	n = (size_t)snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\n"
			     "Content-Length: 16\r\n\r\n0123456789abcdef");
	assert_int_equal(rep_http_parse((unsigned char *)text, n, false, body,
					16, &r), 1);
	assert_int_equal(rep_http_parse((unsigned char *)text, n, false, body,
					15, &r), -1);
	n = (size_t)snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\n\r\n"
			     "0123456789abcdefg");
	assert_int_equal(rep_http_parse((unsigned char *)text, n, true, body,
					16, &r), -1);
	n = (size_t)snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\n"
			     "Transfer-Encoding: chunked\r\n\r\n"
			     "10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n");
	assert_int_equal(rep_http_parse((unsigned char *)text, n, true, body,
					16, &r), -1);
	/* header lines at the bound and one over */
	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\n");
		for (int i = 0; i < FILTER_REP_TI_HEADERS_MAX + extra; i++)
			n += (size_t)snprintf(text + n, sizeof text - n,
					      "X-%d: y\r\n", i);
		n += (size_t)snprintf(text + n, sizeof text - n, "\r\n");
		assert_int_equal(rep_http_parse((unsigned char *)text, n, true,
						body, 16, &r),
				 extra ? -1 : 1);
	}
}

static void test_url_parse(void **state)
{
	struct rep_http_url u;

	(void)state;
	assert_int_equal(rep_http_url_parse("https://ti.example/check?u=1",
					    &u), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "ti.example");
	assert_string_equal(u.port, "443");
	assert_string_equal(u.path, "/check?u=1");
	assert_int_equal(rep_http_url_parse("HTTP://127.0.0.1:8080", &u), 0);
	assert_false(u.tls);
	assert_string_equal(u.port, "8080");
	assert_string_equal(u.path, "");
	assert_int_equal(rep_http_url_parse("http://[::1]:99/x", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "99");
	static const char *const bad[] = {
		"ftp://x/", "http://", "http://:80/", "http://a:0/",
		"http://a:65536/", "http://a:8x/", "http://user@a/",
		"http://a/#frag", "http://[::1/", "http://a/b c", "//a/",
		"http://a b/",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (rep_http_url_parse(bad[i], &u) == 0)
			fail_msg("accepted %s", bad[i]);
}

static void test_expand(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(rep_ti_expand("https://ti.example/c?url=%u&p=100%%",
				       "http://a.example/x?y=1&z=~a b",
				       out, sizeof out), 0);
	assert_string_equal(out, "https://ti.example/c?url=http%3A%2F%2F"
			    "a.example%2Fx%3Fy%3D1%26z%3D~a%20b&p=100%");
	assert_int_equal(rep_ti_expand("http://t/%u", "\xff", out, sizeof out),
			 0);
	assert_string_equal(out, "http://t/%FF");
	assert_int_equal(rep_ti_expand("http://t/%u", "abcdefgh", out, 14), -1);
	assert_int_equal(rep_ti_expand("http://t/%u", "abcd", out, 14), 0);
	assert_int_equal(rep_ti_expand("http://t/%u", "abcde", out, 14), -1);
}

static void test_answers(void **state)
{
	char cat[REP_CATEGORY_MAX];
	static const struct {
		int status;
		const char *body;
		enum rep_verdict v;
		const char *cat;
	} t[] = {
		{ 200, "{\"malicious\":true,\"category\":\"phishing\"}",
		  REP_MALICIOUS, "phishing" },
		{ 200, "{\"malicious\":false,\"category\":\"phishing\"}",
		  REP_CLEAN, "" },
		{ 200, "{\"malicious\":true}", REP_MALICIOUS, "" },
		{ 200, "{\"malicious\":true,\"category\":\"a b\\n\\u00e9 "
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
		  REP_MALICIOUS, "a?b????xxxxxxxxxxxxxxxxxxxxxxxx" },
		{ 404, "", REP_CLEAN, "" },
		{ 200, "{\"malicious\":\"yes\"}", REP_UNKNOWN, "" },
		{ 200, "{\"malicious\":1}", REP_UNKNOWN, "" },
		{ 200, "[true]", REP_UNKNOWN, "" },
		{ 200, "{\"malicious\":true", REP_UNKNOWN, "" },
		{ 200, "", REP_UNKNOWN, "" },
		{ 200, "{\"malicious\":true,\"malicious\":false}", REP_UNKNOWN,
		  "" },
		{ 500, "{\"malicious\":true}", REP_UNKNOWN, "" },
		{ 403, "", REP_UNKNOWN, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		enum rep_verdict v = rep_ti_answer(t[i].status,
			(const unsigned char *)t[i].body, strlen(t[i].body), cat);

		if (v != t[i].v)
			fail_msg("answer %zu: %d, want %d", i, v, t[i].v);
		assert_string_equal(cat, t[i].cat);
	}
}

static void test_cache(void **state)
{
	struct rep_cache *c = rep_cache_new(3, 60);
	enum rep_verdict v;
	char cat[REP_CATEGORY_MAX];

	(void)state;
	rep_cache_put(c, 1, 100, REP_MALICIOUS, "phishing");
	rep_cache_put(c, 2, 100, REP_CLEAN, NULL);
	rep_cache_put(c, 3, 100, REP_CLEAN, "");
	rep_cache_put(c, 9, 100, REP_UNKNOWN, "");	/* never kept */
	assert_int_equal(rep_cache_count(c), 3);
	assert_true(rep_cache_get(c, 1, 110, &v, cat));	/* 1 now recent */
	assert_int_equal(v, REP_MALICIOUS);
	assert_string_equal(cat, "phishing");
	rep_cache_put(c, 4, 110, REP_CLEAN, NULL);	/* evicts 2 */
	assert_false(rep_cache_get(c, 2, 110, &v, cat));
	assert_true(rep_cache_get(c, 3, 110, &v, cat));
	assert_int_equal(v, REP_CLEAN);
	assert_true(rep_cache_get(c, 4, 110, &v, cat));
	assert_true(rep_cache_get(c, 1, 159, &v, cat));
	assert_false(rep_cache_get(c, 1, 160, &v, cat));	/* TTL over */
	assert_false(rep_cache_get(c, 1, 99, &v, cat));	/* clock back */
	rep_cache_put(c, 1, 170, REP_CLEAN, NULL);		/* refreshed */
	assert_true(rep_cache_get(c, 1, 171, &v, cat));
	assert_int_equal(v, REP_CLEAN);
	assert_int_equal(rep_cache_count(c), 3);
	rep_cache_free(&c);
	assert_null(c);
}

static void *hammer(void *arg)
{
	struct rep_cache *c = arg;
	enum rep_verdict v;
	char cat[REP_CATEGORY_MAX];

	for (uint64_t i = 0; i < 20000; i++) {
		uint64_t k = (i * 2654435761u) % 500;

		if (!rep_cache_get(c, k, 1, &v, cat))
			rep_cache_put(c, k, 1, k & 1 ? REP_CLEAN : REP_MALICIOUS,
				      "x");
		else if (v != (k & 1 ? REP_CLEAN : REP_MALICIOUS))
			return (void *)1;
	}
	return NULL;
}

static void test_cache_threads(void **state)
{
	struct rep_cache *c = rep_cache_new(100, 60);
	pthread_t th[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, c), 0);
	for (int i = 0; i < 4; i++) {
		void *rv;

		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_null(rv);
	}
	assert_int_equal(rep_cache_count(c), 100);
	rep_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
