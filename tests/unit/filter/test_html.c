/* test_html.c - cmocka tests of src/filter/html_text.c: text with tags,
 * entities, script and style dropped and block elements as line breaks;
 * each way of hiding text (display:none, visibility:hidden, tiny fonts,
 * white on white, same colour) found and kept out of the visible text;
 * links as (href, text); and pathological input (deep nesting, unclosed
 * tags, a 1 MB attribute) bounded with a result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/limits.h"
#include "filter/html.h"

static char *text_of(const struct buf *b)
{
	char *s = malloc(b->len + 1);
	memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	return s;
}

static void parse(const char *html, struct filter_html *h)
{
	filter_html_parse(span_cstr(html), h);
}

static void expect_text(const char *html, const char *want)
{
	struct filter_html h;
	parse(html, &h);
	char *got = text_of(&h.text);
	assert_string_equal(got, want);
	free(got);
	filter_html_free(&h);
}

static void test_text(void **state)
{
	(void)state;
	expect_text("<p>Hello <b>world</b></p><p>Again</p>",
		    "Hello world\nAgain");
	expect_text("a &amp; b &lt;c&gt; &#72;&#x49; &eacute;t&eacute; &copyright",
		    "a & b <c> HI \xc3\xa9t\xc3\xa9 &copyright");
	expect_text("<script>var x = '<p>no</p>';</script>yes<style>p{}</style>!",
		    "yes!");
	expect_text("<SCRIPT type=x>hidden</SCRIPT >shown", "shown");
	expect_text("one<br>two<br/>three<div>four</div>five",
		    "one\ntwo\nthree\nfour\nfive");
	expect_text("  lots \n\n of   space&nbsp;here ", "lots of space here");
	expect_text("<!-- a comment <p> -->text<!DOCTYPE html><?xml x?>",
		    "text");
	expect_text("1 < 2 and 3 > 2", "1 < 2 and 3 > 2");
	expect_text("<a href=x>unclosed <b>bold", "unclosed bold");
	expect_text("&#0;&#xD800;&#99999999;", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_text("<p>Vi&shy;a&#8203;gra</p>", "Vi\xc2\xad" "a\xe2\x80\x8bgra");
}

static void test_hidden(void **state)
{
	(void)state;
	struct filter_html h;
	parse("Buy now<div style=\"display: none\">good ham words</div>"
	      "<span style='VISIBILITY:hidden !important'>more</span>", &h);
	char *vis = text_of(&h.text), *hid = text_of(&h.hidden);
	assert_string_equal(vis, "Buy now");
	assert_string_equal(hid, "good ham words\nmore");
	assert_true(h.flags & FILTER_HTML_HIDDEN);
	assert_int_equal(h.hidden_bytes, strlen("goodhamwordsmore"));	/* no spaces */
	free(vis);
	free(hid);
	filter_html_free(&h);

	parse("<font size=1>tiny</font> <span style=\"font-size:2px\">small</span>"
	      " <span style=\"font-size:0.1em\">x</span> <font size=3>ok</font>"
	      " <p hidden>attr</p>", &h);
	vis = text_of(&h.text);
	assert_string_equal(vis, "ok");
	assert_true(h.flags & FILTER_HTML_TINY);
	assert_true(h.flags & FILTER_HTML_HIDDEN);
	assert_int_equal(h.tiny_bytes, 10);
	free(vis);
	filter_html_free(&h);
}

static void test_colour(void **state)
{
	(void)state;
	struct filter_html h;
	parse("<font color=\"#FFFFFF\">white on white</font>"
	      "<table bgcolor=black><tr><td><font color=white>shown</font>"
	      "<span style=\"color:#000\">black on black</span></td></tr></table>"
	      "<div style=\"background-color: rgb(10,20,30); color: #0a141e\">same</div>"
	      "<span style=\"color:red\">red</span>", &h);
	char *vis = text_of(&h.text), *hid = text_of(&h.hidden);
	assert_string_equal(vis, "shown\nred");
	assert_string_equal(hid, "white on white\nblack on black\nsame");
	assert_true(h.flags & FILTER_HTML_SAMECOLOR);
	assert_false(h.flags & (FILTER_HTML_HIDDEN | FILTER_HTML_TINY));
	free(vis);
	free(hid);
	filter_html_free(&h);
}

static void test_links(void **state)
{
	(void)state;
	struct filter_html h;
	parse("<a href=\"https://evil.example/x?a=1&amp;b=2\">www.bank.com</a>"
	      "<A HREF=http://one.example>One <img src=i.png><i>two</i></A>"
	      "<img src='http://img.example/p.gif'><a name=x>no href</a>"
	      "<a href=\" http://t.example/\n\tpath \">t</a>", &h);
	assert_int_equal(h.nlinks, 5);
	assert_int_equal(h.links[0].kind, FILTER_LINK_HREF);
	assert_string_equal(h.links[0].url, "https://evil.example/x?a=1&b=2");
	assert_string_equal(h.links[0].text, "www.bank.com");
	assert_string_equal(h.links[1].url, "http://one.example");
	assert_string_equal(h.links[1].text, "One two");
	assert_string_equal(h.links[2].url, "i.png");
	assert_int_equal(h.links[3].kind, FILTER_LINK_SRC);
	assert_string_equal(h.links[3].url, "http://img.example/p.gif");
	assert_string_equal(h.links[3].text, "");
	assert_string_equal(h.links[4].url, "http://t.example/path");
	filter_html_free(&h);
}

static void test_many_links(void **state)
{
	(void)state;
	size_t n = 1000, len = 0;
	char *s = malloc(n * 40);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, 40, "<a href=\"http://h%zu.x/\">l</a>", i);
	struct filter_html h;
	filter_html_parse(span_make(s, len), &h);
	assert_int_equal(h.nlinks, FILTER_HTML_MAX_LINKS);
	assert_int_equal(h.links_dropped, n - FILTER_HTML_MAX_LINKS);
	filter_html_free(&h);
	free(s);
}

static void test_pathological(void **state)
{
	(void)state;
	struct filter_html h;
	/* 100,000 nested elements, the innermost hidden */
	size_t depth = 100000, len = 0;
	char *s = malloc(depth * 12 + 64);
	for (size_t i = 0; i < depth; i++) {
		memcpy(s + len, "<div><b>", 8);
		len += 8;
	}
	memcpy(s + len, "deep", 4);
	len += 4;
	filter_html_parse(span_make(s, len), &h);
	assert_true(h.flags & FILTER_HTML_DEEP);
	char *vis = text_of(&h.text);
	assert_string_equal(vis, "deep");
	free(vis);
	filter_html_free(&h);
	free(s);

	/* a 1 MB attribute, unclosed quote, then a 1 MB unclosed tag */
	size_t big = 1024 * 1024;
	s = malloc(2 * big + 64);
	len = (size_t)snprintf(s, 64, "ok<a href=\"");
	memset(s + len, 'x', big);
	len += big;
	memcpy(s + len, "\">text</a>", 10);
	len += 10;
	filter_html_parse(span_make(s, len), &h);
	vis = text_of(&h.text);
	assert_string_equal(vis, "oktext");
	assert_int_equal(h.nlinks, 1);
	assert_int_equal(strlen(h.links[0].url), FILTER_HTML_MAX_ATTR);
	assert_true(h.flags & FILTER_HTML_TRUNCATED);
	free(vis);
	filter_html_free(&h);
	len = 3;
	memcpy(s, "<p ", 3);
	memset(s + len, 'y', 2 * big);
	len += 2 * big;
	filter_html_parse(span_make(s, len), &h);
	assert_int_equal(h.text.len, 0);
	filter_html_free(&h);

	/* more text than kept */
	len = FILTER_HTML_MAX_TEXT + 1000;
	s = realloc(s, len);
	for (size_t i = 0; i < len; i++)
		s[i] = i % 8 == 7 ? ' ' : 'w';
	filter_html_parse(span_make(s, len), &h);
	assert_true(h.text.len <= FILTER_HTML_MAX_TEXT);
	assert_true(h.flags & FILTER_HTML_TRUNCATED);
	filter_html_free(&h);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_hidden),
		cmocka_unit_test(test_colour),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_many_links),
		cmocka_unit_test(test_pathological),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
