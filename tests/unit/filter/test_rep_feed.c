/* test_rep_feed.c - URL feeds of the reputation checks
 * (src/filter/rep_feed.c, rep_feeds.c): each format (URLhaus text and
 * CSV, PhishTank CSV and JSON) detected and read, malformed input
 * (broken CSV quotes, huge lines, bad JSON, files with nothing good),
 * matching through the same normalisation as the message's URLs, host
 * entries and their subdomains, the symbols, and reloading on change
 * with the old set kept when the new file is bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "filter/rep.h"
#include "filter/rep_private.h"
#include "filter/sym.h"
#include "filter/token.h"

static const char urlhaus_text[] =
	"################################################################\n"
	"# abuse.ch URLhaus Database Dump (TEXT - online URLs only)      #\n"
	"################################################################\n"
	"#\n"
	"http://198.51.100.7:41535/i\n"
	"https://evil.example/payload.exe\r\n"
	"http://Dropper.Example:80/a%7eb/c.bin\n"
	"\n"
	"http://whole-site.example/\n"
	"bare-host.example\n";

static const char urlhaus_csv[] =
	"################################################################\n"
	"# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #\n"
	"# Last updated: 2024-11-05 10:05:09 (UTC)                       #\n"
	"################################################################\n"
	"# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,"
	"reporter\n"
	"\"3237374\",\"2024-11-05 10:01:06\",\"http://198.51.100.7:41535/i\","
	"\"online\",\"2024-11-05 10:01:06\",\"malware_download\","
	"\"32-bit,elf,mips,Mozi\",\"https://urlhaus.abuse.ch/url/3237374/\","
	"\"geenensp\"\n"
	"\"3237373\",\"2024-11-05 10:00:07\",\"https://evil.example/x;y;z;w"
	";v;u.exe\",\"online\",\"\",\"malware_download\",\"exe\","
	"\"https://urlhaus.abuse.ch/url/3237373/\",\"abuse_ch\"\n";

static const char phishtank_csv[] =
	"phish_id,url,phish_detail_url,submission_time,verified,"
	"verification_time,online,target\n"
	"8012345,https://login.bank-secure.example/verify?acct=1,"
	"http://www.phishtank.com/phish_detail.php?phish_id=8012345,"
	"2024-11-05T09:00:00+00:00,yes,2024-11-05T09:10:00+00:00,yes,Other\n"
	"8012346,\"https://phish.example/a,b\",http://www.phishtank.com/"
	"phish_detail.php?phish_id=8012346,2024-11-05T09:00:00+00:00,yes,"
	"2024-11-05T09:10:00+00:00,yes,Other\n";

static const char phishtank_json[] =
	"[\n"
	" {\"phish_id\": 8012345, \"url\": \"https://login.bank-secure.example"
	"/verify?acct=1\", \"phish_detail_url\": \"http://www.phishtank.com/"
	"phish_detail.php?phish_id=8012345\", \"details\": [{\"ip_address\": "
	"\"192.0.2.1\"}], \"verified\": \"yes\", \"target\": \"Other\"},\n"
	" {\"phish_id\": 8012347, \"url\": \"https://\\u00e9vil.example/\"},\n"
	" {\"phish_id\": 8012348},\n"
	" \"not an object\"\n"
	"]\n";

static int parse(struct rep_feed *f, const char *text,
		 struct rep_feed_info *info)
{
	struct err err = { 0 };

	rep_feed_init(f);
	return rep_feed_parse(f, span_cstr(text), info, &err);
}

/* true if raw, normalised as a message URL, is in the feed (by URL or
 * by host) */
static bool listed(const struct rep_feed *f, const char *raw, bool *by_host)
{
	struct filter_url u;
	size_t mlen;
	bool hit;

	if (filter_url_normalise(span_cstr(raw), &u) != 0)
		fail_msg("cannot normalise %s", raw);
	*by_host = rep_feed_has_host(f, u.host, &mlen);
	hit = rep_feed_has_url(f, u.url) || *by_host;
	filter_url_clear(&u);
	return hit;
}

static void test_urlhaus_text(void **state)
{
	struct rep_feed f;
	struct rep_feed_info info;
	bool h;

	(void)state;
	assert_int_equal(parse(&f, urlhaus_text, &info), 0);
	rep_feed_seal(&f);
	assert_int_equal(info.format, REP_FEED_TEXT);
	assert_int_equal(info.added, 5);
	assert_int_equal(info.bad, 0);
	assert_true(listed(&f, "http://198.51.100.7:41535/i", &h));
	assert_false(h);
	assert_false(listed(&f, "http://198.51.100.7:41535/j", &h));
	assert_true(listed(&f, "HTTPS://EVIL.example/payload.exe", &h));
	assert_false(listed(&f, "https://evil.example/", &h));
	/* the same URL in another spelling */
	assert_true(listed(&f, "http://dropper.example/a~b/c.bin#x", &h));
	/* host entries: the site root and a bare host, with subdomains */
	assert_true(listed(&f, "https://whole-site.example/any/path", &h));
	assert_true(h);
	assert_true(listed(&f, "http://deep.sub.bare-host.example/", &h));
	assert_true(h);
	assert_false(listed(&f, "http://other.example/", &h));
	assert_false(listed(&f, "http://notbare-host.example/", &h));
	rep_feed_free(&f);
}

static void test_urlhaus_csv(void **state)
{
	struct rep_feed f;
	struct rep_feed_info info;
	bool h;

	(void)state;
	assert_int_equal(parse(&f, urlhaus_csv, &info), 0);
	rep_feed_seal(&f);
	assert_int_equal(info.format, REP_FEED_CSV);
	assert_int_equal(info.added, 2);
	assert_int_equal(info.bad, 0);
	assert_true(listed(&f, "http://198.51.100.7:41535/i", &h));
	assert_true(listed(&f, "https://evil.example/x;y;z;w;v;u.exe", &h));
	/* the detail link is not the listed URL */
	assert_false(listed(&f, "https://urlhaus.abuse.ch/url/3237374/", &h));
	rep_feed_free(&f);
}

static void test_phishtank_csv(void **state)
{
	struct rep_feed f;
	struct rep_feed_info info;
	bool h;

	(void)state;
	assert_int_equal(parse(&f, phishtank_csv, &info), 0);
	rep_feed_seal(&f);
	assert_int_equal(info.format, REP_FEED_CSV);
	assert_int_equal(info.added, 2);
	assert_int_equal(info.bad, 0);
	assert_true(listed(&f, "https://login.bank-secure.example/verify?acct=1",
			   &h));
	assert_true(listed(&f, "https://phish.example/a,b", &h));
	assert_false(listed(&f, "http://www.phishtank.com/phish_detail.php?"
			    "phish_id=8012345", &h));
	rep_feed_free(&f);
}

static void test_phishtank_json(void **state)
{
	struct rep_feed f;
	struct rep_feed_info info;
	bool h;

	(void)state;
	assert_int_equal(parse(&f, phishtank_json, &info), 0);
	rep_feed_seal(&f);
	assert_int_equal(info.format, REP_FEED_JSON);
	assert_int_equal(info.added, 2);
	assert_int_equal(info.bad, 2);
	assert_int_equal(info.first_bad, 3);
	assert_true(listed(&f, "https://login.bank-secure.example/verify?acct=1",
			   &h));
	/* an IDN host: the A-label form on both sides */
	assert_true(listed(&f, "https://xn--vil-9la.example/login", &h));
	assert_true(h);
	rep_feed_free(&f);
}

static void test_malformed(void **state)
{
	struct rep_feed f;
	struct rep_feed_info info;
	bool h;

	(void)state;
	/* a broken quote spoils its own line only */
	assert_int_equal(parse(&f, "phish_id,url,detail\n"
			       "1,\"https://a.example/x,2\n"
			       "2,https://b.example/y,z\n"
			       "3,https://c.example/\"q\",z\n", &info), 0);
	rep_feed_seal(&f);
	assert_int_equal(info.added, 1);
	assert_int_equal(info.bad, 2);
	assert_int_equal(info.first_bad, 2);
	assert_true(listed(&f, "https://b.example/y", &h));
	rep_feed_free(&f);

	/* a huge line is skipped, the rest read */
	size_t big = FILTER_REP_FEED_LINE_MAX + 100;
	char *t = malloc(big + 100);
	memcpy(t, "http://", 7);
	memset(t + 7, 'a', big);
	snprintf(t + 7 + big, 100, ".example/\nhttp://small.example/x\n");
	assert_int_equal(parse(&f, t, &info), 0);
	rep_feed_seal(&f);
	assert_int_equal(info.added, 1);
	assert_int_equal(info.bad, 1);
	assert_int_equal(info.first_bad, 1);
	free(t);
	rep_feed_free(&f);

	/* bad JSON fails the file */
	static const char *const bad_json[] = {
		"[{\"url\": \"http://a.example/\"},",
		"[{\"url\": \"http://a.example/\"} {\"url\": \"x\"}]",
		"[{\"url\": \"http://a.example/\"]",
		"{\"url\": \"http://a.example/\"}",
		"[{\"url\": \"http://a.example/\"}] trailing",
		"[{\"url\": \"http://a.example/\", \"url\": \"http://b/\"}]",
		"[\"http://a.example/\"]",	/* no object at all */
	};
	for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
		if (parse(&f, bad_json[i], &info) == 0)
			fail_msg("accepted %s", bad_json[i]);
		rep_feed_free(&f);
	}
	/* nothing good: not a feed */
	assert_int_equal(parse(&f, "id,name\n1,foo\n2,bar\n", &info), -1);
	rep_feed_free(&f);
	assert_int_equal(parse(&f, "<html><body>404</body></html>\n", &info),
			 -1);
	rep_feed_free(&f);
	/* empty and comment-only files are empty feeds */
	assert_int_equal(parse(&f, "", &info), 0);
	assert_int_equal(info.format, REP_FEED_EMPTY);
	rep_feed_free(&f);
	assert_int_equal(parse(&f, "# nothing today\n\n", &info), 0);
	assert_int_equal(parse(&f, "[]", &info), 0);
	rep_feed_free(&f);
}

static void test_public_suffix_not_listed(void **state)
{
	struct rep_feed f;
	struct rep_feed_info info;
	bool h;

	(void)state;
	/* a "host" that is a public suffix must not list all under it */
	assert_int_equal(parse(&f, "co.uk\nhttp://com/\nevil.co.uk\n", &info),
			 0);
	rep_feed_seal(&f);
	assert_false(listed(&f, "http://bank.co.uk/", &h));
	assert_false(listed(&f, "http://bank.com/", &h));
	assert_true(listed(&f, "http://www.evil.co.uk/", &h));
	rep_feed_free(&f);
}

static void write_file(const char *path, const char *text)
{
	char tmp[256];
	FILE *f;

	/* as a feed fetcher should: write, then rename over */
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void test_check_and_reload(void **state)
{
	char dir[] = "/tmp/test_rep_feedXXXXXX";
	char p1[256], p2[256], list[600];
	struct filter_rep_conf c = { 0 };
	struct err err = { 0 };
	struct filter_weights *w = NULL;
	struct filter_tokens tok;
	struct filter_syms syms;
	struct rep_feeds fs;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p1, sizeof p1, "%s/urlhaus.txt", dir);
	snprintf(p2, sizeof p2, "%s/phishtank.json", dir);
	write_file(p1, urlhaus_text);
	write_file(p2, phishtank_json);
	assert_int_equal(filter_weights_new(NULL, &w, &err), 0);

	/* through filter_rep: relative names under dir */
	c.url_feed = "urlhaus.txt, phishtank.json";
	c.dir = dir;
	struct filter_rep *r = filter_rep_new(&c, &err);
	assert_non_null(r);
	assert_int_equal(filter_rep_feed_entries(r), 7);
	filter_tokens_init(&tok);
	filter_urls_add(&tok.urls, span_cstr("https://evil.example/payload.exe"),
			0);
	filter_urls_add(&tok.urls, span_cstr("http://x.bare-host.example/"), 0);
	filter_syms_init(&syms);
	filter_rep_check(r, &tok, NULL, w, &syms);
	assert_true(filter_syms_has(&syms, "URL_FEED"));
	assert_true(filter_syms_has(&syms, "URL_FEED_HOST"));
	assert_string_equal(syms.v[0].detail,
			    "https://evil.example/payload.exe");
	assert_string_equal(syms.v[1].detail, "bare-host.example");
	assert_true(syms.total == 17);
	filter_rep_free(&r);

	/* reload, driven with explicit clocks */
	snprintf(list, sizeof list, "%s %s", p1, p2);
	assert_int_equal(rep_feeds_init(&fs, list, NULL, &err), 0);
	assert_int_equal(rep_feeds_count(&fs), 7);
	rep_feeds_refresh(&fs, 1000);		/* nothing changed */
	assert_int_equal(rep_feeds_count(&fs), 7);
	write_file(p1, "http://new.example/one\n");
	rep_feeds_refresh(&fs, 1000 + FILTER_LIST_CHECK_SECONDS - 1); /* too soon */
	assert_int_equal(rep_feeds_count(&fs), 7);
	rep_feeds_refresh(&fs, 1000 + FILTER_LIST_CHECK_SECONDS);
	assert_int_equal(rep_feeds_count(&fs), 3);
	/* a broken file: the old set stays */
	write_file(p2, "[{\"url\": \"http://a.example/\"");
	rep_feeds_refresh(&fs, 2000);
	assert_int_equal(rep_feeds_count(&fs), 3);
	assert_false(filter_file_changed(p2, &fs.stamp[1]));
	/* and is not read again until it changes */
	rep_feeds_refresh(&fs, 3000);
	assert_int_equal(rep_feeds_count(&fs), 3);
	write_file(p2, "[{\"url\": \"http://a.example/x\"}]");
	rep_feeds_refresh(&fs, 4000);
	assert_int_equal(rep_feeds_count(&fs), 2);
	/* a file over the size bound (sparse: no disk used) is refused
	 * whole, at the bound it is read */
	FILE *big = fopen(p2, "a");
	assert_non_null(big);
	assert_int_equal(ftruncate(fileno(big), FILTER_REP_FEED_FILE_MAX + 1),
			 0);
	assert_int_equal(fclose(big), 0);
	rep_feeds_refresh(&fs, 5000);
	assert_int_equal(rep_feeds_count(&fs), 2);
	/* and is not looked at again while it stays so */
	assert_false(filter_file_changed(p2, &fs.stamp[1]));
	/* a vanished file fails too */
	assert_int_equal(unlink(p2), 0);
	rep_feeds_refresh(&fs, 6000);
	assert_int_equal(rep_feeds_count(&fs), 2);
	assert_false(fs.stamp[1].exists);
	rep_feeds_fini(&fs);
	/* at startup both stop it */
	assert_int_equal(rep_feeds_init(&fs, list, NULL, &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
	rep_feeds_fini(&fs);
	big = fopen(p2, "w");
	assert_non_null(big);
	assert_int_equal(fputs("http://a.example/\n", big) >= 0, 1);
	assert_int_equal(ftruncate(fileno(big), FILTER_REP_FEED_FILE_MAX + 1),
			 0);
	assert_int_equal(fclose(big), 0);
	assert_int_equal(rep_feeds_init(&fs, list, NULL, &err), -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	rep_feeds_fini(&fs);
	assert_int_equal(unlink(p2), 0);

	filter_tokens_free(&tok);
	filter_weights_free(&w);
	assert_int_equal(unlink(p1), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlhaus_text),
		cmocka_unit_test(test_urlhaus_csv),
		cmocka_unit_test(test_phishtank_csv),
		cmocka_unit_test(test_phishtank_json),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_public_suffix_not_listed),
		cmocka_unit_test(test_check_and_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
