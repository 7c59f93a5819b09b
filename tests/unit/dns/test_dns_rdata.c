/* test_dns_rdata.c - the pieces of src/dns that need no network: MX and
 * address rdata decoding at and past their limits, name and literal
 * parsing, target ordering with an injected random source, and query
 * life cycles that never reach a server (literals, bad names, cancel,
 * freeing a resolver with queries in flight). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "dns/dns.h"
#include "dns/dns_private.h"

/* wire name from "a.b.c" ("" = root) after a 2-byte preference */
static size_t mx_rdata(unsigned char *out, unsigned pref, const char *name)
{
	size_t n = 0;
	out[n++] = (unsigned char)(pref >> 8);
	out[n++] = (unsigned char)pref;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		out[n++] = (unsigned char)l;
		memcpy(out + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

static void test_mx_decode_valid(void **state)
{
	(void)state;
	unsigned char rd[600];
	char name[DNS_NAME_MAX + 1];
	unsigned pref;
	size_t n = mx_rdata(rd, 10, "MX1.Example.COM");
	assert_int_equal(dns_mx_decode(rd, n, &pref, name, sizeof name), 0);
	assert_int_equal(pref, 10);
	assert_string_equal(name, "mx1.example.com");
	n = mx_rdata(rd, 0, "");
	assert_int_equal(dns_mx_decode(rd, n, &pref, name, sizeof name), 0);
	assert_int_equal(pref, 0);
	assert_string_equal(name, "");
	n = mx_rdata(rd, 65535, "_x-1.y");
	assert_int_equal(dns_mx_decode(rd, n, &pref, name, sizeof name), 0);
	assert_int_equal(pref, 65535);
	assert_string_equal(name, "_x-1.y");
}

static void test_mx_decode_limits(void **state)
{
	(void)state;
	unsigned char rd[600];
	char name[DNS_NAME_MAX + 1], text[600];
	unsigned pref;
	/* a 63-octet label is fine, 64 is not */
	memset(text, 'a', 63);
	text[63] = '\0';
	size_t n = mx_rdata(rd, 1, text);
	assert_int_equal(dns_mx_decode(rd, n, &pref, name, sizeof name), 0);
	memset(text, 'a', 64);
	text[64] = '\0';
	n = mx_rdata(rd, 1, text);
	assert_int_equal(dns_mx_decode(rd, n, &pref, name, sizeof name), -1);
	/* 255 octets on the wire: 4 labels 63+63+63+61 -> 1+63+1+63+1+63+1+61+1 */
	snprintf(text, sizeof text, "%.63s.%.63s.%.63s.%.61s",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		 "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
	n = mx_rdata(rd, 1, text);
	assert_int_equal(n - 2, 255);
	assert_int_equal(dns_mx_decode(rd, n, &pref, name, sizeof name), 0);
	assert_int_equal(strlen(name), DNS_NAME_MAX);
	/* 256 octets */
	snprintf(text, sizeof text, "%.63s.%.63s.%.63s.%.62s",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		 "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
	n = mx_rdata(rd, 1, text);
	assert_int_equal(n - 2, 256);
	assert_int_equal(dns_mx_decode(rd, n, &pref, name, sizeof name), -1);
}

static void test_mx_decode_malformed(void **state)
{
	(void)state;
	static const struct { const char *rd; size_t len; } bad[] = {
		{ "", 0 },
		{ "\0\1", 2 },				/* no name */
		{ "\0\1\3ab", 5 },			/* label runs past the end */
		{ "\0\1\2ab", 5 },			/* no root label */
		{ "\0\1\300\14", 4 },			/* compression pointer */
		{ "\0\1\100a\0", 5 },			/* extended label type */
		{ "\0\1\1a\0\0", 6 },			/* bytes after the name */
		{ "\0\1\3a b\0", 7 },			/* space in a label */
		{ "\0\1\3a.b\0", 7 },			/* dot inside a label */
		{ "\0\1\3a\0b\0", 7 },			/* NUL inside a label */
		{ "\0\1\2\303\251\0", 6 },		/* 8-bit bytes */
	};
	char name[DNS_NAME_MAX + 1];
	unsigned pref;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(dns_mx_decode((const unsigned char *)bad[i].rd,
					       bad[i].len, &pref, name, sizeof name), -1);
	/* every truncation of a good record is refused */
	unsigned char rd[64];
	size_t n = mx_rdata(rd, 5, "mx.example.org");
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(dns_mx_decode(rd, cut, &pref, name, sizeof name), -1);
	/* an output buffer below DNS_NAME_MAX + 1 is refused outright */
	assert_int_equal(dns_mx_decode(rd, n, &pref, name, 10), -1);
}

static void test_addr_decode(void **state)
{
	(void)state;
	struct dns_addr a;
	char buf[64];
	assert_int_equal(dns_addr_decode(AF_INET, (const unsigned char *)"\177\0\0\2", 4, &a), 0);
	assert_string_equal(dns_addr_str(&a, buf, sizeof buf), "127.0.0.2");
	assert_int_equal(dns_addr_decode(AF_INET, (const unsigned char *)"\177\0\0", 3, &a), -1);
	assert_int_equal(dns_addr_decode(AF_INET, (const unsigned char *)"\177\0\0\2\0", 5, &a), -1);
	unsigned char v6[16] = { [15] = 1 };
	assert_int_equal(dns_addr_decode(AF_INET6, v6, 16, &a), 0);
	assert_string_equal(dns_addr_str(&a, buf, sizeof buf), "::1");
	assert_int_equal(dns_addr_decode(AF_INET6, v6, 15, &a), -1);
	assert_int_equal(dns_addr_decode(AF_UNIX, v6, 4, &a), -1);
}

static void test_name_valid(void **state)
{
	(void)state;
	char out[DNS_NAME_MAX + 1], long_name[400];
	assert_true(dns_name_valid("Example.COM.", out));
	assert_string_equal(out, "example.com");
	assert_true(dns_name_valid("a", out));
	assert_true(dns_name_valid("_dmarc.x-y.z", out));
	static const char *const bad[] = { "", ".", "a..b", ".a", "a b", "a/b",
		"ex\xc3\xa9.com", "a.b..", "[1.2.3.4]", "a@b" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(dns_name_valid(bad[i], out));
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_false(dns_name_valid(long_name, out));	/* label of 64 */
	/* 253 characters is the most; 254 is too many, with or without dot */
	for (size_t i = 0; i < 253; i++)
		long_name[i] = i % 2 ? '.' : 'a';
	long_name[253] = '\0';
	assert_true(dns_name_valid(long_name, out));
	assert_int_equal(strlen(out), 253);
	long_name[253] = '.';
	long_name[254] = '\0';
	assert_true(dns_name_valid(long_name, out));
	long_name[253] = 'a';
	long_name[254] = 'a';
	long_name[255] = '\0';
	assert_false(dns_name_valid(long_name, out));
}

static void test_literals(void **state)
{
	(void)state;
	struct dns_addr a;
	char buf[64];
	assert_int_equal(dns_literal_parse("[192.0.2.1]", true, &a), 1);
	assert_string_equal(dns_addr_str(&a, buf, sizeof buf), "192.0.2.1");
	assert_int_equal(dns_literal_parse("[IPv6:2001:db8::1]", true, &a), 1);
	assert_string_equal(dns_addr_str(&a, buf, sizeof buf), "2001:db8::1");
	assert_int_equal(dns_literal_parse("[ipv6:::1]", true, &a), 1);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(dns_literal_parse("example.com", true, &a), 0);
	static const char *const bad[] = { "[", "[]", "[1.2.3]", "[1.2.3.4",
		"[::1]", "[IPv6:]", "[IPv6:1.2.3.4]", "[ 1.2.3.4]",
		"[1.2.3.4.5]", "[IPv6:::1:::]",
		"[0000000000000000000000000000000000000000000000000000000000000001.1.1.1]" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(dns_literal_parse(bad[i], true, &a), -1);
	/* bare forms: an MX "192.0.2.1." or a smarthost "::1" */
	assert_int_equal(dns_literal_parse("192.0.2.1.", false, &a), 1);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(dns_literal_parse("::1", false, &a), 1);
	assert_int_equal(dns_literal_parse("mx.example", false, &a), 0);
	assert_int_equal(dns_literal_parse("1.2.3", false, &a), 0);
	assert_int_equal(dns_literal_parse("", false, &a), 0);
}

/* a scripted random source: returns its values in turn */
struct script { const uint32_t *v; size_t n, i; };

static uint32_t scripted(void *arg, uint32_t upper)
{
	struct script *s = arg;
	uint32_t v = s->i < s->n ? s->v[s->i++] : 0;
	return v % upper;
}

static void fill(struct dns_target *t, const unsigned *prefs, const char *const *hosts,
		 size_t n)
{
	memset(t, 0, n * sizeof *t);
	for (size_t i = 0; i < n; i++) {
		t[i].pref = prefs[i];
		snprintf(t[i].host, sizeof t[i].host, "%s", hosts[i]);
	}
}

static void test_order(void **state)
{
	(void)state;
	static const unsigned prefs[] = { 30, 10, 20, 20, 20 };
	static const char *const hosts[] = { "c", "a", "b1", "b2", "b3" };
	struct dns_target t[5];
	/* Fisher-Yates over the 20s: i=3 picks j, then i=2 picks j */
	static const uint32_t keep[] = { 2, 1 };
	struct script s = { keep, 2, 0 };
	fill(t, prefs, hosts, 5);
	assert_int_equal(dns_targets_order(t, 5, 32, scripted, &s), 5);
	assert_int_equal(t[0].pref, 10);
	assert_int_equal(t[4].pref, 30);
	assert_string_equal(t[0].host, "a");
	assert_string_equal(t[4].host, "c");
	char got[3][4];
	for (int i = 0; i < 3; i++)
		snprintf(got[i], sizeof got[i], "%s", t[1 + i].host);
	/* whatever qsort left, a different script gives a different order:
	 * the shuffle really uses the source */
	static const uint32_t swap[] = { 0, 0 };
	struct script s2 = { swap, 2, 0 };
	fill(t, prefs, hosts, 5);
	dns_targets_order(t, 5, 32, scripted, &s2);
	bool same = true;
	for (int i = 0; i < 3; i++)
		same &= strcmp(got[i], t[1 + i].host) == 0;
	assert_false(same);
	/* every permutation of the three is reachable */
	int seen = 0;
	for (uint32_t a = 0; a < 3; a++)
		for (uint32_t b = 0; b < 2; b++) {
			uint32_t v[2] = { a, b };
			struct script s3 = { v, 2, 0 };
			fill(t, prefs, hosts, 5);
			dns_targets_order(t, 5, 32, scripted, &s3);
			seen |= 1 << ((t[1].host[1] - '1') * 3 + (t[2].host[1] - '1'));
		}
	assert_int_equal(__builtin_popcount((unsigned)seen), 6);
}

static void test_order_dedup_and_cap(void **state)
{
	(void)state;
	static const unsigned prefs[] = { 20, 10, 30, 5 };
	static const char *const hosts[] = { "mx", "mx", "other", "first" };
	struct dns_target t[4];
	struct script s = { NULL, 0, 0 };
	fill(t, prefs, hosts, 4);
	assert_int_equal(dns_targets_order(t, 4, 32, scripted, &s), 3);
	assert_string_equal(t[0].host, "first");
	assert_string_equal(t[1].host, "mx");
	assert_int_equal(t[1].pref, 10);	/* the better of the two */
	assert_string_equal(t[2].host, "other");
	fill(t, prefs, hosts, 4);
	assert_int_equal(dns_targets_order(t, 4, 2, scripted, &s), 2);
	assert_string_equal(t[1].host, "mx");
	assert_int_equal(dns_targets_order(t, 0, 2, scripted, &s), 0);
}

static uint32_t broken_random(void *arg, uint32_t upper)
{
	(void)arg;
	return upper + 7;	/* out of range: must be clamped, not used */
}

static void test_order_survives_bad_random(void **state)
{
	(void)state;
	static const unsigned prefs[] = { 1, 1, 1 };
	static const char *const hosts[] = { "x", "y", "z" };
	struct dns_target t[3];
	fill(t, prefs, hosts, 3);
	assert_int_equal(dns_targets_order(t, 3, 32, broken_random, NULL), 3);
}

/* ---- query life cycles that never reach a server */

struct seen { int calls; enum dns_status st; char first[DNS_NAME_MAX + 1]; size_t n; };

static void record(const struct dns_route *rt, void *arg)
{
	struct seen *s = arg;
	s->calls++;
	s->st = rt->status;
	s->n = rt->n;
	if (rt->n)
		snprintf(s->first, sizeof s->first, "%s", rt->t[0].host);
}

static int hole = -1;

/* A loopback UDP socket that never answers stands in for the server:
 * these tests finish before any query could. */
static struct dns_resolver *resolver(struct event_base *base)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;
	if (hole < 0) {
		hole = socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(hole >= 0);
		assert_int_equal(bind(hole, (struct sockaddr *)&sin, sizeof sin), 0);
	}
	assert_int_equal(getsockname(hole, (struct sockaddr *)&sin, &sl), 0);
	char fwd[32];
	snprintf(fwd, sizeof fwd, "127.0.0.1@%u", (unsigned)ntohs(sin.sin_port));
	struct dns_options opt = { .forwarder = fwd, .timeout = 30 };
	struct err err;
	struct dns_resolver *r = dns_resolver_new(base, &opt, &err);
	assert_non_null(r);
	return r;
}

static void test_literal_and_bad_name_answer_from_the_loop(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct dns_resolver *r = resolver(base);
	struct seen lit = { 0 }, bad = { 0 }, bare = { 0 };
	dns_mail_route(r, "[IPv6:2001:db8::5]", record, &lit);
	dns_mail_route(r, "no..dots", record, &bad);
	dns_addr(r, "192.0.2.7", record, &bare);
	/* never from inside the call */
	assert_int_equal(lit.calls + bad.calls + bare.calls, 0);
	/* the resolver's pipe event keeps the loop alive: run it by hand */
	for (int i = 0; i < 100 && lit.calls + bad.calls + bare.calls < 3; i++)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(lit.calls, 1);
	assert_int_equal(lit.st, DNS_OK);
	assert_int_equal(lit.n, 1);
	assert_string_equal(lit.first, "[IPv6:2001:db8::5]");
	assert_int_equal(bad.calls, 1);
	assert_int_equal(bad.st, DNS_BADNAME);
	assert_int_equal(bad.n, 0);
	assert_int_equal(bare.st, DNS_OK);
	dns_resolver_free(&r);
	assert_null(r);
	event_base_free(base);
}

static void test_cancel_and_free_with_queries_in_flight(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct dns_resolver *r = resolver(base);
	struct seen a = { 0 }, b = { 0 }, c = { 0 };
	struct dns_query *qa = dns_mail_route(r, "example.org", record, &a);
	struct dns_query *qc = dns_mail_route(r, "[192.0.2.1]", record, &c);
	dns_addr(r, "mx.example.org", record, &b);
	dns_query_cancel(&qa);
	assert_null(qa);
	dns_query_cancel(&qc);
	dns_query_cancel(&qc);	/* NULL: nothing */
	dns_resolver_free(&r);	/* b still in flight */
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 1);
	assert_int_equal(a.calls + b.calls + c.calls, 0);
	event_base_free(base);
}

static void test_bad_forwarder(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct err err;
	struct dns_options opt = { .forwarder = "mx.example.org" };
	assert_null(dns_resolver_new(base, &opt, &err));
	assert_int_equal(err.kind, ERR_CONFIG);
	opt.forwarder = " , ";
	assert_null(dns_resolver_new(base, &opt, &err));
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_decode_valid),
		cmocka_unit_test(test_mx_decode_limits),
		cmocka_unit_test(test_mx_decode_malformed),
		cmocka_unit_test(test_addr_decode),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_order_dedup_and_cap),
		cmocka_unit_test(test_order_survives_bad_random),
		cmocka_unit_test(test_literal_and_bad_name_answer_from_the_loop),
		cmocka_unit_test(test_cancel_and_free_with_queries_in_flight),
		cmocka_unit_test(test_bad_forwarder),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (hole >= 0 && close(hole) != 0)
		rc = 1;
	return rc;
}
