/* test_imap_url.c - the CATENATE URL reader (src/imap/imap_url.c): a
 * table of URLs it takes, with what it reads from them, and of URLs it
 * refuses; the length limit at the limit and one past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap_url.h"

static const struct good {
	const char *url;
	const char *user, *host, *mailbox, *section;
	uint32_t uidvalidity, uid;
	bool partial;
	uint32_t off, len;
} goods[] = {
	{ "/INBOX/;UID=1", "", "", "INBOX", "", 0, 1, false, 0, 0 },
	{ "/INBOX;UIDVALIDITY=385759045/;UID=20", "", "", "INBOX", "", 385759045, 20, false, 0, 0 },
	{ "/Drafts/;uid=7/;section=1.2.MIME", "", "", "Drafts", "1.2.MIME", 0, 7, false, 0, 0 },
	{ "/a%20b/c/;UID=3/;SECTION=HEADER/;PARTIAL=5.10", "", "", "a b/c", "HEADER", 0, 3, true, 5, 10 },
	{ "/x/;UID=3/;PARTIAL=0", "", "", "x", "", 0, 3, true, 0, 0 },
	{ "imap://bob%40example.test@mail.example.test/INBOX/;UID=9",
	  "bob@example.test", "mail.example.test", "INBOX", "", 0, 9, false, 0, 0 },
	{ "IMAP://joe;AUTH=*@h:143/%C3%84rger;UIDVALIDITY=1/;UID=2/;SECTION=TEXT",
	  "joe", "h", "\xc3\x84rger", "TEXT", 1, 2, false, 0, 0 },
	{ "imap://[::1]:993/INBOX/;UID=1", "", "[::1]", "INBOX", "", 0, 1, false, 0, 0 },
};

static const char *const bads[] = {
	"", "INBOX/;UID=1", "/INBOX", "/INBOX/;UID=", "/INBOX/;UID=0",
	"/INBOX/;UID=x", "/INBOX/;UID=4294967296", "//host/INBOX/;UID=1",
	"/;UID=1", "/INBOX;UIDVALIDITY=0/;UID=1", "/INBOX/;UID=1/;SECTION=",
	"/INBOX/;UID=1/;PARTIAL=", "/INBOX/;UID=1/;PARTIAL=1.0",
	"/INBOX/;UID=1/junk", "/IN%2BOX%/;UID=1", "/IN%zzBOX/;UID=1",
	"/IN BOX/;UID=1", "/IN%00BOX/;UID=1", "/IN%0aBOX/;UID=1",
	"/INBOX/;UID=1;URLAUTH=anonymous:internal:00",
	"/INBOX/;UID=1;EXPIRE=2030-01-01T00:00:00Z",
	"imap://host", "imap:///INBOX/;UID=1", "imap://u;AUTH=GSSAPI@h/INBOX/;UID=1",
	"imap://h:99999/INBOX/;UID=1", "imap://h:x/INBOX/;UID=1",
	"imap://u@/INBOX/;UID=1",
};

static void eq(struct span s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof goods / sizeof *goods; i++) {
		const struct good *g = &goods[i];
		struct imap_arena *a = imap_arena_new(1 << 16);
		struct imap_url u;
		struct err err;
		int rc = imap_url_parse(span_cstr(g->url), a, &u, &err);
		if (rc != 0)
			fail_msg("%s: %s", g->url, err.msg);
		eq(u.user, g->user);
		eq(u.host, g->host);
		eq(u.mailbox, g->mailbox);
		eq(u.section, g->section);
		assert_int_equal(u.mailbox.p[u.mailbox.len], '\0');
		assert_int_equal(u.uidvalidity, g->uidvalidity);
		assert_int_equal(u.uid, g->uid);
		assert_int_equal(u.partial, g->partial);
		assert_int_equal(u.partial_offset, g->off);
		assert_int_equal(u.partial_len, g->len);
		imap_arena_free(&a);
	}
}

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
		struct imap_arena *a = imap_arena_new(1 << 16);
		struct imap_url u;
		struct err err;
		if (imap_url_parse(span_cstr(bads[i]), a, &u, &err) == 0)
			fail_msg("took %s", bads[i]);
		assert_int_equal(err.kind, ERR_PEER);
		imap_arena_free(&a);
	}
}

static void test_length_limit(void **state)
{
	(void)state;
	static char url[IMAP_URL_MAX + 2];
	const char *tail = "/;UID=1";
	size_t fill = IMAP_URL_MAX - 1 - strlen(tail);
	url[0] = '/';
	memset(url + 1, 'a', fill);
	memcpy(url + 1 + fill, tail, strlen(tail) + 1);
	assert_int_equal(strlen(url), IMAP_URL_MAX);
	struct imap_arena *a = imap_arena_new(1 << 16);
	struct imap_url u;
	struct err err;
	assert_int_equal(imap_url_parse(span_cstr(url), a, &u, &err), 0);
	assert_int_equal(u.mailbox.len, fill);
	memmove(url + 2, url + 1, IMAP_URL_MAX);
	url[1] = 'a';
	assert_int_equal(strlen(url), IMAP_URL_MAX + 1);
	assert_int_equal(imap_url_parse(span_cstr(url), a, &u, &err), -1);
	imap_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_length_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
