/* test_lists.c - cmocka tests of the filter's allow/block lists
 * (src/filter/lists*.c): entry syntax and canonical forms, matching of
 * addresses, domains, subdomains and networks (/0, /32, /128, mapped
 * IPv4), precedence inside a level and across levels, the rule that a
 * sender allow needs authentication, the file format with every bad
 * line reported by number, the size bound, and change detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "filter/lists.h"

static void add(struct filter_list *l, enum filter_list_action a,
		const char *e)
{
	struct err err = { 0 };
	int rc = filter_list_add(l, a, span_cstr(e), 0, &err);
	if (rc != 0)
		fail_msg("add %s: %s", e, err.msg);
}

/* 16-byte form of a textual IP, IPv4 mapped */
static const unsigned char *ip16(const char *s)
{
	static unsigned char b[4][16];
	static int n;
	unsigned char *o = b[n++ % 4];
	memset(o, 0, 16);
	if (inet_pton(AF_INET, s, o + 12) == 1)
		o[10] = o[11] = 0xff;
	else
		assert_int_equal(inet_pton(AF_INET6, s, o), 1);
	return o;
}

static enum filter_list_action look(const struct filter_list *l,
				    const char *sender, const char *ip,
				    struct filter_list_match *m)
{
	struct filter_list_query q = { 0 };
	if (sender != NULL)
		q.sender = span_cstr(sender);
	if (ip != NULL)
		q.ip = ip16(ip);
	struct filter_list_match mm;
	if (m == NULL)
		m = &mm;
	filter_list_lookup(l, &q, m);
	return m->action;
}

static void test_canonical(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
		enum filter_entry_kind kind;
	} good[] = {
		{ "Alice@Example.COM", "alice@example.com", FILTER_ENTRY_ADDRESS },
		{ "  bob+news@example.com\t", "bob+news@example.com",
		  FILTER_ENTRY_ADDRESS },
		{ "o'neil#x@example.com", "o'neil#x@example.com",
		  FILTER_ENTRY_ADDRESS },
		{ "example.com.", "example.com", FILTER_ENTRY_DOMAIN },
		{ "@example.com", "example.com", FILTER_ENTRY_DOMAIN },
		{ "*@Example.com", "example.com", FILTER_ENTRY_DOMAIN },
		{ ".example.com", ".example.com", FILTER_ENTRY_SUBDOMAINS },
		{ "*.example.com", ".example.com", FILTER_ENTRY_SUBDOMAINS },
		{ "*@*.example.com", ".example.com", FILTER_ENTRY_SUBDOMAINS },
		{ "bücher.example", "xn--bcher-kva.example", FILTER_ENTRY_DOMAIN },
		{ "192.0.2.7", "192.0.2.7", FILTER_ENTRY_IP },
		{ "192.0.2.7/32", "192.0.2.7", FILTER_ENTRY_IP },
		{ "192.0.2.0/24", "192.0.2.0/24", FILTER_ENTRY_IP },
		{ "0.0.0.0/0", "0.0.0.0/0", FILTER_ENTRY_IP },
		{ "2001:DB8::/32", "2001:db8::/32", FILTER_ENTRY_IP },
		{ "2001:db8::1/128", "2001:db8::1", FILTER_ENTRY_IP },
		{ "::/0", "::/0", FILTER_ENTRY_IP },
		{ "::ffff:192.0.2.0/120", "192.0.2.0/24", FILTER_ENTRY_IP },
		{ "123.com", "123.com", FILTER_ENTRY_DOMAIN },
	};
	static const char *bad[] = {
		"", "   ", "192.0.2.1/24", "192.0.2.0/33", "2001:db8::/129",
		"192.0.2.0/", "192.0.2.0/-1", "nonsense/8", "192.0.2.300",
		"a b.example.com", "alice@", "alice@*.example.com",
		"al ice@example.com", "example..com", "-", "*", ".",
		"x@192.0.2.1",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"@example.com",
	};
	char out[FILTER_LIST_TEXT_MAX];
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct err err = { 0 };
		enum filter_entry_kind k;
		if (filter_entry_canonical(span_cstr(good[i].in), out,
					   sizeof out, &k, &err) != 0)
			fail_msg("%s: %s", good[i].in, err.msg);
		assert_string_equal(out, good[i].out);
		assert_int_equal(k, good[i].kind);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct err err = { 0 };
		if (filter_entry_canonical(span_cstr(bad[i]), out, sizeof out,
					   NULL, &err) == 0)
			fail_msg("accepted %s as %s", bad[i], out);
		assert_true(err.msg[0] != '\0');
	}
	/* a local part of exactly 64 octets is fine */
	char at64[80];
	memset(at64, 'a', 64);
	memcpy(at64 + 64, "@x.example", 11);
	assert_int_equal(filter_entry_canonical(span_cstr(at64), out,
						sizeof out, NULL, NULL), 0);
}

static void test_match_sender(void **state)
{
	(void)state;
	struct filter_list *l = filter_list_new();
	add(l, FILTER_LIST_BLOCK, "Spammer@Bad.example");
	add(l, FILTER_LIST_BLOCK, "exact.example");
	add(l, FILTER_LIST_BLOCK, ".wild.example");
	add(l, FILTER_LIST_BLOCK, "xn--bcher-kva.example");
	struct filter_list_match m;
	assert_int_equal(look(l, "spammer@bad.example", NULL, &m),
			 FILTER_LIST_BLOCK);
	assert_int_equal(m.kind, FILTER_ENTRY_ADDRESS);
	assert_string_equal(m.entry, "spammer@bad.example");
	assert_string_equal(m.domain, "bad.example");
	assert_int_equal(look(l, "<SPAMMER@BAD.EXAMPLE.>", NULL, NULL),
			 FILTER_LIST_BLOCK);
	assert_int_equal(look(l, "spammer+x@bad.example", NULL, NULL),
			 FILTER_LIST_NONE);
	assert_int_equal(look(l, "other@bad.example", NULL, NULL),
			 FILTER_LIST_NONE);
	/* exact domain: not its subdomains */
	assert_int_equal(look(l, "a@Exact.Example", NULL, &m),
			 FILTER_LIST_BLOCK);
	assert_int_equal(m.kind, FILTER_ENTRY_DOMAIN);
	assert_int_equal(look(l, "a@sub.exact.example", NULL, NULL),
			 FILTER_LIST_NONE);
	/* ".wild.example": itself and every depth below, not a sibling */
	assert_int_equal(look(l, "a@wild.example", NULL, NULL),
			 FILTER_LIST_BLOCK);
	assert_int_equal(look(l, "a@x.y.z.wild.example", NULL, &m),
			 FILTER_LIST_BLOCK);
	assert_string_equal(m.entry, ".wild.example");
	assert_string_equal(m.domain, "x.y.z.wild.example");
	assert_int_equal(look(l, "a@notwild.example", NULL, NULL),
			 FILTER_LIST_NONE);
	/* U-label sender matches the A-label entry */
	assert_int_equal(look(l, "a@BÜCHER.example", NULL, NULL),
			 FILTER_LIST_BLOCK);
	/* the domain given separately (a null sender, HELO or From) */
	struct filter_list_query q = { .domain = span_cstr("mx.wild.example") };
	filter_list_lookup(l, &q, &m);
	assert_int_equal(m.action, FILTER_LIST_BLOCK);
	/* junk senders match nothing and do not crash */
	assert_int_equal(look(l, "", NULL, NULL), FILTER_LIST_NONE);
	assert_int_equal(look(l, "<>", NULL, NULL), FILTER_LIST_NONE);
	assert_int_equal(look(l, "@", NULL, NULL), FILTER_LIST_NONE);
	assert_int_equal(look(l, "no-at-sign", NULL, NULL), FILTER_LIST_NONE);
	assert_int_equal(look(l, "a@b@exact.example", NULL, NULL),
			 FILTER_LIST_BLOCK);
	filter_list_free(&l);
	assert_null(l);
}

static void test_match_ip(void **state)
{
	(void)state;
	struct filter_list *l = filter_list_new();
	add(l, FILTER_LIST_BLOCK, "192.0.2.0/24");
	add(l, FILTER_LIST_ALLOW, "192.0.2.10");
	add(l, FILTER_LIST_BLOCK, "2001:db8::/32");
	add(l, FILTER_LIST_ALLOW, "2001:db8::5/128");
	struct filter_list_match m;
	assert_int_equal(look(l, NULL, "192.0.2.0", NULL), FILTER_LIST_BLOCK);
	assert_int_equal(look(l, NULL, "192.0.2.255", &m), FILTER_LIST_BLOCK);
	assert_string_equal(m.entry, "192.0.2.0/24");
	assert_int_equal(look(l, NULL, "192.0.3.0", NULL), FILTER_LIST_NONE);
	assert_int_equal(look(l, NULL, "192.0.1.255", NULL), FILTER_LIST_NONE);
	/* /32 inside the /24: the longest prefix decides */
	assert_int_equal(look(l, NULL, "192.0.2.10", &m), FILTER_LIST_ALLOW);
	assert_string_equal(m.entry, "192.0.2.10");
	assert_int_equal(look(l, NULL, "192.0.2.11", NULL), FILTER_LIST_BLOCK);
	/* an IPv4-mapped IPv6 peer is the IPv4 address */
	assert_int_equal(look(l, NULL, "::ffff:192.0.2.10", NULL),
			 FILTER_LIST_ALLOW);
	assert_int_equal(look(l, NULL, "2001:db8:ffff::1", NULL),
			 FILTER_LIST_BLOCK);
	assert_int_equal(look(l, NULL, "2001:db8::5", NULL), FILTER_LIST_ALLOW);
	assert_int_equal(look(l, NULL, "2001:db8::4", NULL), FILTER_LIST_BLOCK);
	assert_int_equal(look(l, NULL, "2001:db9::", NULL), FILTER_LIST_NONE);
	filter_list_free(&l);

	/* /0 of each family */
	l = filter_list_new();
	add(l, FILTER_LIST_BLOCK, "0.0.0.0/0");
	assert_int_equal(look(l, NULL, "255.255.255.255", NULL),
			 FILTER_LIST_BLOCK);
	assert_int_equal(look(l, NULL, "0.0.0.0", NULL), FILTER_LIST_BLOCK);
	assert_int_equal(look(l, NULL, "2001:db8::1", NULL), FILTER_LIST_NONE);
	add(l, FILTER_LIST_ALLOW, "::/0");
	assert_int_equal(look(l, NULL, "2001:db8::1", NULL), FILTER_LIST_ALLOW);
	assert_int_equal(look(l, NULL, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
			      NULL), FILTER_LIST_ALLOW);
	/* the IPv4 /0 is longer (/96 in the 16-byte space) than ::/0 */
	assert_int_equal(look(l, NULL, "10.0.0.1", NULL), FILTER_LIST_BLOCK);
	assert_int_equal(look(l, NULL, NULL, NULL), FILTER_LIST_NONE);
	filter_list_free(&l);
}

static void test_level_precedence(void **state)
{
	(void)state;
	struct filter_list *l = filter_list_new();
	add(l, FILTER_LIST_BLOCK, "example.com");
	add(l, FILTER_LIST_ALLOW, "ceo@example.com");
	add(l, FILTER_LIST_ALLOW, ".partner.example");
	add(l, FILTER_LIST_BLOCK, ".shop.partner.example");
	add(l, FILTER_LIST_ALLOW, "both.example");
	add(l, FILTER_LIST_BLOCK, "both.example");
	add(l, FILTER_LIST_BLOCK, "198.51.100.0/24");
	struct filter_list_match m;
	/* the address is more specific than its domain */
	assert_int_equal(look(l, "ceo@example.com", NULL, NULL),
			 FILTER_LIST_ALLOW);
	assert_int_equal(look(l, "cfo@example.com", NULL, NULL),
			 FILTER_LIST_BLOCK);
	/* the deeper ".parent" decides */
	assert_int_equal(look(l, "a@mx.shop.partner.example", NULL, &m),
			 FILTER_LIST_BLOCK);
	assert_string_equal(m.entry, ".shop.partner.example");
	assert_int_equal(look(l, "a@mx.partner.example", NULL, NULL),
			 FILTER_LIST_ALLOW);
	/* the same entry in both: block */
	assert_int_equal(look(l, "a@both.example", NULL, NULL),
			 FILTER_LIST_BLOCK);
	/* sender allow against IP block at one level: block */
	assert_int_equal(look(l, "ceo@example.com", "198.51.100.9", &m),
			 FILTER_LIST_BLOCK);
	assert_int_equal(m.kind, FILTER_ENTRY_IP);
	filter_list_free(&l);
}

static const char *const dkim_example[] = { "mail.example.com" };

static void test_auth_rule(void **state)
{
	(void)state;
	struct filter_list_match m = { .action = FILTER_LIST_ALLOW,
				       .kind = FILTER_ENTRY_ADDRESS };
	snprintf(m.domain, sizeof m.domain, "example.com");
	struct filter_auth none = { .from_domain = "example.com" };
	struct filter_auth spf = { .spf_pass_domain = "bounce.example.com",
				   .from_domain = "Example.COM." };
	struct filter_auth spf_other = { .spf_pass_domain = "spammer.example",
					 .from_domain = "example.com" };
	struct filter_auth dkim = { .dkim_pass_domains = dkim_example,
				    .n_dkim = 1, .from_domain = "example.com" };
	struct filter_auth dkim_from_other = { .dkim_pass_domains = dkim_example,
					       .n_dkim = 1,
					       .from_domain = "other.example" };
	assert_false(filter_allow_applies(NULL, &m));
	assert_false(filter_allow_applies(&none, &m));
	assert_true(filter_allow_applies(&spf, &m));
	assert_false(filter_allow_applies(&spf_other, &m));
	assert_true(filter_allow_applies(&dkim, &m));
	/* authenticated, but for a From that is not the allowed sender */
	assert_false(filter_allow_applies(&dkim_from_other, &m));
	/* an IP allow needs no proof; a block never "applies" */
	m.kind = FILTER_ENTRY_IP;
	m.domain[0] = '\0';
	assert_true(filter_allow_applies(NULL, &m));
	m.action = FILTER_LIST_BLOCK;
	assert_false(filter_allow_applies(&spf, &m));
	assert_false(filter_allow_applies(&spf, NULL));
}

static void test_decide_levels(void **state)
{
	(void)state;
	struct filter_list *g = filter_list_new(), *d = filter_list_new(),
			   *u = filter_list_new();
	add(g, FILTER_LIST_BLOCK, "203.0.113.0/24");
	add(g, FILTER_LIST_ALLOW, "newsletter.example");
	add(d, FILTER_LIST_BLOCK, "partner.example");
	add(u, FILTER_LIST_ALLOW, "friend@partner.example");
	const struct filter_list *const lists[FILTER_LEVELS] = { g, d, u };
	struct filter_auth ok = { .spf_pass_domain = "partner.example",
				  .from_domain = "partner.example" };
	struct filter_auth noauth = { .from_domain = "partner.example" };
	struct filter_list_query q = {
		.sender = span_cstr("friend@partner.example") };
	struct filter_list_verdict v;

	/* the user's allow beats the domain's block when authenticated */
	filter_lists_decide(lists, &q, &ok, &v);
	assert_int_equal(v.action, FILTER_LIST_ALLOW);
	assert_int_equal(v.match.level, FILTER_LEVEL_USER);
	assert_false(v.ignored_allow);
	/* unauthenticated: passed over, the domain block decides */
	filter_lists_decide(lists, &q, &noauth, &v);
	assert_int_equal(v.action, FILTER_LIST_BLOCK);
	assert_int_equal(v.match.level, FILTER_LEVEL_DOMAIN);
	assert_string_equal(v.match.entry, "partner.example");
	assert_true(v.ignored_allow);
	assert_int_equal(v.ignored.level, FILTER_LEVEL_USER);
	assert_string_equal(v.ignored.entry, "friend@partner.example");
	filter_lists_decide(lists, &q, NULL, &v);
	assert_int_equal(v.action, FILTER_LIST_BLOCK);

	/* nothing at user or domain level: global decides */
	q.sender = span_cstr("x@newsletter.example");
	struct filter_auth nl = { .dkim_pass_domains = (const char *const[]){
					  "newsletter.example" },
				  .n_dkim = 1,
				  .from_domain = "newsletter.example" };
	filter_lists_decide(lists, &q, &nl, &v);
	assert_int_equal(v.action, FILTER_LIST_ALLOW);
	assert_int_equal(v.match.level, FILTER_LEVEL_GLOBAL);
	/* the same sender from the blocked network: block at one level */
	q.ip = ip16("203.0.113.5");
	filter_lists_decide(lists, &q, &nl, &v);
	assert_int_equal(v.action, FILTER_LIST_BLOCK);
	assert_int_equal(v.match.kind, FILTER_ENTRY_IP);
	/* missing levels are skipped; no match is NONE */
	const struct filter_list *const only_g[FILTER_LEVELS] = { g, NULL, NULL };
	q.ip = NULL;
	q.sender = span_cstr("who@else.example");
	filter_lists_decide(only_g, &q, &ok, &v);
	assert_int_equal(v.action, FILTER_LIST_NONE);
	assert_false(v.ignored_allow);
	filter_list_free(&g);
	filter_list_free(&d);
	filter_list_free(&u);
}

struct bad_lines {
	size_t n;
	unsigned line[16];
	char why[16][400];
	char file[64];
};

static void on_bad(void *ctx, const char *file, unsigned line,
		   const char *reason)
{
	struct bad_lines *b = ctx;
	if (b->n < 16) {
		b->line[b->n] = line;
		snprintf(b->why[b->n], sizeof b->why[0], "%s", reason);
		snprintf(b->file, sizeof b->file, "%s", file);
	}
	b->n++;
}

static void test_parse_file(void **state)
{
	(void)state;
	char longline[FILTER_LIST_LINE_MAX + 20];
	memset(longline, 'a', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	char text[4096];
	int n = snprintf(text, sizeof text,
		"# allow list of example.com\n"
		"\n"
		"friend@example.org   # a friend\r\n"
		"not an entry\n"
		"   .partner.example\n"
		"192.0.2.1/24\n"
		"hash#in@local.example\n"
		"%s\n"
		"\t# indented comment\n"
		"2001:db8::/48\n"
		"bad@@\n"
		"last.example", longline);
	assert_true(n > 0 && (size_t)n < sizeof text);
	struct filter_list *l = filter_list_new();
	struct bad_lines b = { 0 };
	size_t nbad = filter_list_parse(l, FILTER_LIST_ALLOW,
					span_make(text, (size_t)n),
					"allow.conf", on_bad, &b);
	assert_int_equal(nbad, 4);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.line[0], 4);
	assert_non_null(strstr(b.why[0], "\"not an entry\""));
	assert_int_equal(b.line[1], 6);
	assert_non_null(strstr(b.why[1], "past the prefix"));
	assert_int_equal(b.line[2], 8);
	assert_non_null(strstr(b.why[2], "longer than"));
	assert_int_equal(b.line[3], 11);
	assert_string_equal(b.file, "allow.conf");
	assert_int_equal(filter_list_count(l), 5);
	struct filter_list_match m;
	assert_int_equal(look(l, "Friend@Example.org", NULL, &m),
			 FILTER_LIST_ALLOW);
	assert_int_equal(m.line, 3);
	assert_string_equal(m.file, "allow.conf");
	assert_int_equal(look(l, "hash#in@local.example", NULL, NULL),
			 FILTER_LIST_ALLOW);
	assert_int_equal(look(l, "x@last.example", NULL, &m),
			 FILTER_LIST_ALLOW);
	assert_int_equal(m.line, 12);
	assert_int_equal(look(l, NULL, "2001:db8:0:ffff::", NULL),
			 FILTER_LIST_ALLOW);
	/* an API entry has no file */
	add(l, FILTER_LIST_BLOCK, "api.example");
	assert_int_equal(look(l, "a@api.example", NULL, &m), FILTER_LIST_BLOCK);
	assert_null(m.file);
	assert_int_equal(m.line, 0);
	filter_list_free(&l);

	/* split at every position: same entries, no crash */
	for (int cut = 0; cut <= n; cut++) {
		l = filter_list_new();
		(void)filter_list_parse(l, FILTER_LIST_BLOCK,
					span_make(text, (size_t)cut), NULL,
					NULL, NULL);
		assert_true(filter_list_count(l) <= 5);
		filter_list_free(&l);
	}
}

static void count_bad(void *ctx, const char *file, unsigned line,
		      const char *reason)
{
	(void)file;
	(void)line;
	assert_true(strlen(reason) < 400);
	(*(size_t *)ctx)++;
}

/* 10 MB of one word, and 2 million bad lines: linear, bounded. */
static void test_parse_bounds(void **state)
{
	(void)state;
	size_t big = 10u * 1024 * 1024;
	char *t = malloc(big);
	assert_non_null(t);
	memset(t, '@', big);
	struct filter_list *l = filter_list_new();
	size_t n = 0;
	assert_int_equal(filter_list_parse(l, FILTER_LIST_BLOCK,
					   span_make(t, big), "big", count_bad,
					   &n), 1);
	assert_int_equal(n, 1);
	for (size_t i = 1; i < big; i += 5)
		t[i] = '\n';
	n = 0;
	size_t nbad = filter_list_parse(l, FILTER_LIST_BLOCK,
					span_make(t, big), "many", count_bad, &n);
	assert_int_equal(nbad, n);
	assert_true(nbad > 2000000);
	assert_int_equal(filter_list_count(l), 0);
	filter_list_free(&l);
	free(t);
}

static void test_limit(void **state)
{
	(void)state;
	struct filter_list *l = filter_list_new();
	char e[64];
	struct err err = { 0 };
	for (unsigned i = 0; i < FILTER_LIST_MAX; i++) {
		snprintf(e, sizeof e, "u%u@example.com", i);
		assert_int_equal(filter_list_add(l, FILTER_LIST_BLOCK,
						 span_cstr(e), 0, &err), 0);
	}
	assert_int_equal(filter_list_count(l), FILTER_LIST_MAX);
	/* a duplicate at the limit is still fine, one more is not */
	assert_int_equal(filter_list_add(l, FILTER_LIST_BLOCK,
					 span_cstr("u7@example.com"), 0, &err), 0);
	assert_int_equal(filter_list_add(l, FILTER_LIST_BLOCK,
					 span_cstr("over@example.com"), 0, &err),
			 -1);
	assert_int_equal(err.kind, ERR_LIMIT);
	assert_int_equal(look(l, "u99999@example.com", NULL, NULL),
			 FILTER_LIST_BLOCK);
	/* the file parser reports the overflow once and counts each line */
	struct bad_lines b = { 0 };
	const char *more = "a@x.example\nb@x.example\nc@x.example\n";
	assert_int_equal(filter_list_parse(l, FILTER_LIST_ALLOW,
					   span_cstr(more), "f", on_bad, &b),
			 3);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.line[0], 1);
	filter_list_free(&l);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_files_reload(void **state)
{
	(void)state;
	char dir[] = "/tmp/petrel-lists-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct filter_list_files f = { 0 };
	snprintf(f.allow_path, sizeof f.allow_path, "%s/allow.conf", dir);
	snprintf(f.block_path, sizeof f.block_path, "%s/block.conf", dir);
	write_file(f.allow_path, "friend@example.org\n");
	/* block.conf missing: an empty list */
	struct filter_list *l = NULL;
	struct err err = { 0 };
	struct bad_lines b = { 0 };
	assert_int_equal(filter_list_files_load(&f, on_bad, &b, &l, &err), 0);
	assert_int_equal(filter_list_count(l), 1);
	assert_int_equal(b.n, 0);
	assert_false(filter_list_files_changed(&f, 1000));
	/* a new file is a change, seen only after the check interval */
	write_file(f.block_path, "spam.example\nbad entry\n");
	assert_false(filter_list_files_changed(&f,
					       1000 + FILTER_LIST_CHECK_SECONDS - 1));
	assert_true(filter_list_files_changed(&f,
					      1000 + FILTER_LIST_CHECK_SECONDS));
	filter_list_free(&l);
	assert_int_equal(filter_list_files_load(&f, on_bad, &b, &l, &err), 0);
	assert_int_equal(filter_list_count(l), 2);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.line[0], 2);
	assert_non_null(strstr(b.file, "block.conf"));
	assert_int_equal(look(l, "x@spam.example", NULL, NULL),
			 FILTER_LIST_BLOCK);
	assert_false(filter_list_files_changed(&f, 2000));
	/* an edit keeping the size (the stamp holds ns and the ctime) */
	write_file(f.allow_path, "friend@example.net\n");
	assert_true(filter_list_files_changed(&f, 3000));
	filter_list_free(&l);
	assert_int_equal(filter_list_files_load(&f, NULL, NULL, &l, &err), 0);
	assert_false(filter_list_files_changed(&f, 4000));
	/* removed */
	assert_int_equal(unlink(f.allow_path), 0);
	assert_true(filter_list_files_changed(&f, 5000));
	filter_list_free(&l);
	/* a directory where a file should be: error, no list */
	assert_int_equal(mkdir(f.allow_path, 0700), 0);
	assert_int_equal(filter_list_files_load(&f, NULL, NULL, &l, &err), -1);
	assert_null(l);
	assert_int_equal(err.kind, ERR_ENV);
	assert_int_equal(rmdir(f.allow_path), 0);
	assert_int_equal(unlink(f.block_path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_match_sender),
		cmocka_unit_test(test_match_ip),
		cmocka_unit_test(test_level_precedence),
		cmocka_unit_test(test_auth_rule),
		cmocka_unit_test(test_decide_levels),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_files_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
