/* test_rep_dnsbl.c - DNS blocklists of the reputation checks
 * (src/filter/rep_dnsbl.c) against the ma_zone test DNS table: the zone
 * syntax, RFC 5782 query names for IPv4 and IPv6, return-code filters
 * and masks, error answers and DNS failures failing open, URL domains by
 * their registrable domain, the lookup bound, and the skips (internal
 * mail, private addresses, no DNS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "filter/facts.h"
#include "filter/rep.h"
#include "filter/rep_private.h"
#include "filter/sym.h"
#include "filter/token.h"
#include "msgauth/ma_zone.h"

static struct filter_weights *weights(void)
{
	struct filter_weights *w = NULL;
	struct err err = { 0 };

	assert_int_equal(filter_weights_new(NULL, &w, &err), 0);
	return w;
}

static void ip16(const char *s, unsigned char o[16])
{
	memset(o, 0, 16);
	if (inet_pton(AF_INET, s, o + 12) == 1)
		o[10] = o[11] = 0xff;
	else
		assert_int_equal(inet_pton(AF_INET6, s, o), 1);
}

static void test_zone_syntax(void **state)
{
	struct rep_zones z;
	struct err err = { 0 };

	(void)state;
	assert_int_equal(rep_zones_parse("zen.spamhaus.org=127.0.0.2-"
					 "127.0.0.11|127.0.0.20:6, "
					 "BL.Example.:2.5 multi.uribl.com=&14",
					 &z, &err), 0);
	assert_int_equal(z.n, 3);
	assert_string_equal(z.z[0].name, "zen.spamhaus.org");
	assert_int_equal(z.z[0].nranges, 2);
	assert_true(z.z[0].weight == 6);
	assert_string_equal(z.z[1].name, "bl.example");
	assert_true(z.z[1].weight == 2.5);
	assert_int_equal(z.z[1].nranges, 0);
	assert_int_equal(z.z[2].mask, 14);
	assert_true(z.z[2].weight < 0);
	assert_int_equal(rep_zones_parse("", &z, &err), 0);
	assert_int_equal(z.n, 0);
	assert_int_equal(rep_zones_parse(NULL, &z, &err), 0);

	static const char *const bad[] = {
		"localhost",			/* one label */
		"bl.example=127.0.0.11-127.0.0.2",	/* backwards */
		"bl.example=127.0.0.x",
		"bl.example=127.0.0.2|",
		"bl.example=&0", "bl.example=&256", "bl.example=&",
		"bl.example:-1", "bl.example:1001", "bl.example:abc",
		"bl.example:", "b l.example", "bl..example",
		"bl.example=1.2.3.4|1.2.3.5|1.2.3.6|1.2.3.7|1.2.3.8|1.2.3.9|"
		"1.2.3.10|1.2.3.11|1.2.3.12",	/* 9 ranges */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&err);
		if (rep_zones_parse(bad[i], &z, &err) == 0)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(err.kind, ERR_CONFIG);
	}
	/* FILTER_REP_ZONES_MAX and one more */
	char many[2048] = "";
	for (int i = 0; i <= FILTER_REP_ZONES_MAX; i++) {
		char one[32];

		snprintf(one, sizeof one, "z%d.example ", i);
		strcat(many, one);
		if (i == FILTER_REP_ZONES_MAX - 1)
			assert_int_equal(rep_zones_parse(many, &z, &err), 0);
	}
	assert_int_equal(rep_zones_parse(many, &z, &err), -1);
}

static void test_qnames(void **state)
{
	unsigned char ip[16];
	char name[300];

	(void)state;
	ip16("192.0.2.99", ip);
	assert_int_equal(rep_ip_qname(ip, "bl.example", name, sizeof name), 0);
	assert_string_equal(name, "99.2.0.192.bl.example");
	/* RFC 5782 2.4's example */
	ip16("2001:db8:1:2:3:4:567:89ab", ip);
	assert_int_equal(rep_ip_qname(ip, "ugly.example.com", name,
				      sizeof name), 0);
	assert_string_equal(name, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1."
			    "0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
	assert_int_equal(rep_ip_qname(ip, "ugly.example.com", name, 40), -1);
}

static void test_codes(void **state)
{
	struct rep_zones z;
	struct err err = { 0 };

	(void)state;
	assert_int_equal(rep_zones_parse("any.example zen.example=127.0.0.2-"
					 "127.0.0.3|127.0.0.10 m.example=&6",
					 &z, &err), 0);
	const struct rep_zone *any = &z.z[0], *zen = &z.z[1], *m = &z.z[2];

	assert_true(rep_zone_code_counts(any, 0x7f000002));
	assert_true(rep_zone_code_counts(any, 0x7f0a0b0c));
	assert_false(rep_zone_code_counts(any, 0x7f000001));
	assert_false(rep_zone_code_counts(any, 0x7fffff01));	/* error */
	assert_false(rep_zone_code_counts(any, 0x7fffffff));
	assert_false(rep_zone_code_counts(any, 0x0a000002));	/* not 127/8 */
	assert_true(rep_zone_code_counts(zen, 0x7f000002));
	assert_true(rep_zone_code_counts(zen, 0x7f000003));
	assert_false(rep_zone_code_counts(zen, 0x7f000004));
	assert_true(rep_zone_code_counts(zen, 0x7f00000a));
	assert_false(rep_zone_code_counts(zen, 0x7fffff0a));
	assert_true(rep_zone_code_counts(m, 0x7f000002));
	assert_true(rep_zone_code_counts(m, 0x7f00000c));
	assert_false(rep_zone_code_counts(m, 0x7f000008));
}

static const char zone_text[] =
	"99.2.0.192.zen.example A 127.0.0.4\n"
	"99.2.0.192.bl.example A 127.0.0.2\n"
	"99.2.0.192.errs.example A 127.255.255.254\n"
	"98.2.0.192.zen.example A 127.0.0.11\n"
	"98.2.0.192.bl.example TIMEOUT\n"
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	"zen.example A 127.0.0.3\n"
	"evil.example.dbl.example A 127.0.1.2\n"
	"grey.example.dbl.example A 127.0.1.255\n"
	"evil.example.uri.example A 127.0.0.4\n"
	"evil.co.uk.dbl.example A 127.0.1.2\n";

struct fixture {
	struct ma_zone *z;
	struct ma_dns dns;
	struct filter_weights *w;
	struct filter_facts facts;
	struct filter_tokens tok;
	struct filter_syms syms;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct err err = { 0 };

	f->z = ma_zone_new();
	assert_int_equal(ma_zone_load(f->z, zone_text, strlen(zone_text),
				      &err), 0);
	ma_zone_dns(f->z, &f->dns);
	f->w = weights();
	f->facts.dns = &f->dns;
	f->facts.have_ip = true;
	filter_tokens_init(&f->tok);
	filter_syms_init(&f->syms);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ma_zone_free(&f->z);
	filter_weights_free(&f->w);
	filter_tokens_free(&f->tok);
	free(f);
	return 0;
}

static const struct filter_sym *find(const struct filter_syms *s,
				     const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static struct filter_rep *rep(const char *ipz, const char *dz,
			      unsigned max_lookups)
{
	struct filter_rep_conf c = { 0 };
	struct err err = { 0 };
	struct filter_rep *r;

	c.dnsbl_ip = ipz;
	c.dnsbl_domain = dz;
	c.dnsbl_max_lookups = max_lookups;
	r = filter_rep_new(&c, &err);
	if (r == NULL)
		fail_msg("filter_rep_new: %s", err.msg);
	return r;
}

static void test_ipv4_listed(void **state)
{
	struct fixture *f = *state;
	struct filter_rep *r = rep("zen.example=127.0.0.2-127.0.0.11:6 "
				   "bl.example errs.example", NULL, 0);
	const struct filter_sym *s;

	ip16("192.0.2.99", f->facts.ip);
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	s = find(&f->syms, "DNSBL_IP");
	assert_non_null(s);
	assert_true(s->score == 6);	/* the heaviest zone's weight */
	assert_non_null(strstr(s->detail, "192.0.2.99@zen.example=127.0.0.4"));
	assert_non_null(strstr(s->detail, "192.0.2.99@bl.example=127.0.0.2"));
	/* 127.255.255.254 is an error code, not a listing */
	assert_null(strstr(s->detail, "errs.example"));
	filter_rep_free(&r);
}

static void test_ipv4_codes_and_failure(void **state)
{
	struct fixture *f = *state;
	/* 127.0.0.11 is outside zen's range here; bl.example times out */
	struct filter_rep *r = rep("zen.example=127.0.0.2-127.0.0.10 "
				   "bl.example", NULL, 0);

	ip16("192.0.2.98", f->facts.ip);
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	assert_int_equal(f->syms.n, 0);
	assert_true(f->syms.total == 0);
	filter_rep_free(&r);
	/* an address nobody lists: NXDOMAIN */
	r = rep("zen.example bl.example", NULL, 0);
	ip16("192.0.2.1", f->facts.ip);
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	assert_int_equal(f->syms.n, 0);
	filter_rep_free(&r);
}

static void test_ipv6_listed(void **state)
{
	struct fixture *f = *state;
	struct filter_rep *r = rep("zen.example", NULL, 0);
	const struct filter_sym *s;

	ip16("2001:db8::1", f->facts.ip);
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	s = find(&f->syms, "DNSBL_IP");
	assert_non_null(s);
	assert_true(s->score == 4);	/* the symbol's default weight */
	assert_non_null(strstr(s->detail, "2001:db8::1@zen.example=127.0.0.3"));
	filter_rep_free(&r);
}

static void test_skips(void **state)
{
	struct fixture *f = *state;
	struct filter_rep *r = rep("zen.example", NULL, 0);
	size_t q0 = ma_zone_queries(f->z);

	ip16("192.0.2.99", f->facts.ip);
	f->facts.internal = true;	/* an authenticated user */
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	f->facts.internal = false;
	ip16("10.1.2.3", f->facts.ip);
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	ip16("::1", f->facts.ip);
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	ip16("fe80::1", f->facts.ip);
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	assert_int_equal(ma_zone_queries(f->z), q0);
	ip16("192.0.2.99", f->facts.ip);
	f->facts.dns = NULL;
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	filter_rep_check(r, &f->tok, NULL, f->w, &f->syms);
	filter_rep_check(r, NULL, NULL, f->w, &f->syms);
	assert_int_equal(ma_zone_queries(f->z), q0);
	assert_int_equal(f->syms.n, 0);
	filter_rep_free(&r);
}

static void add_url(struct filter_tokens *t, const char *u)
{
	filter_urls_add(&t->urls, span_cstr(u), 0);
}

static void test_domains(void **state)
{
	struct fixture *f = *state;
	struct filter_rep *r = rep(NULL, "dbl.example=127.0.1.2-127.0.1.99 "
				   "uri.example:9", 0);
	const struct filter_sym *s;

	f->facts.have_ip = false;
	add_url(&f->tok, "http://www.ok.example/");
	add_url(&f->tok, "https://a.b.Evil.Example/login?x=1");
	add_url(&f->tok, "http://evil.example/other");	/* same domain */
	add_url(&f->tok, "http://grey.example/");	/* 127.0.1.255: no */
	add_url(&f->tok, "http://shop.evil.co.uk/");
	add_url(&f->tok, "http://192.0.2.7/");		/* IP: skipped */
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	s = find(&f->syms, "DNSBL_DOMAIN");
	assert_non_null(s);
	assert_true(s->score == 9);
	assert_non_null(strstr(s->detail, "evil.example@dbl.example=127.0.1.2"));
	assert_non_null(strstr(s->detail, "evil.example@uri.example=127.0.0.4"));
	assert_non_null(strstr(s->detail, "evil.co.uk@dbl.example"));
	assert_null(strstr(s->detail, "grey"));
	/* 4 distinct registrable domains, 2 zones each */
	assert_int_equal(ma_zone_queries(f->z), 8);
	filter_rep_free(&r);
}

static void test_lookup_bound(void **state)
{
	struct fixture *f = *state;
	struct filter_rep *r = rep("zen.example bl.example", "dbl.example "
				   "uri.example", 5);
	char u[64];

	ip16("192.0.2.99", f->facts.ip);
	for (int i = 0; i < 40; i++) {
		snprintf(u, sizeof u, "http://d%d.example/", i);
		add_url(&f->tok, u);
	}
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	assert_int_equal(ma_zone_queries(f->z), 5);
	filter_rep_free(&r);
	/* without the bound: FILTER_REP_DOMAINS_MAX domains at most */
	size_t q0 = ma_zone_queries(f->z);
	r = rep(NULL, "dbl.example", 256);
	filter_rep_check(r, &f->tok, &f->facts, f->w, &f->syms);
	assert_int_equal(ma_zone_queries(f->z) - q0, FILTER_REP_DOMAINS_MAX);
	filter_rep_free(&r);
}

static void test_weight_zero_disables(void **state)
{
	struct fixture *f = *state;
	struct filter_weights *w = NULL;
	struct err err = { 0 };
	char path[] = "/tmp/test_rep_wXXXXXX";
	int fd = mkstemp(path);
	struct filter_rep *r = rep("zen.example:6", NULL, 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "DNSBL_IP 0\n", 11), 11);
	close(fd);
	assert_int_equal(filter_weights_new(path, &w, &err), 0);
	unlink(path);
	ip16("192.0.2.99", f->facts.ip);
	filter_rep_check(r, &f->tok, &f->facts, w, &f->syms);
	assert_int_equal(f->syms.n, 0);
	filter_weights_free(&w);
	filter_rep_free(&r);
}

static void test_symbols_declared(void **state)
{
	static const char *const names[] = { "DNSBL_IP", "DNSBL_DOMAIN",
		"URL_FEED", "URL_FEED_HOST", "URL_TI_MALICIOUS" };

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const struct filter_sym_def *d = filter_sym_def_find(names[i]);

		assert_non_null(d);
		assert_true(d->weight > 0 && d->weight < 15);
	}
}

static void test_bad_conf(void **state)
{
	struct filter_rep_conf c = { 0 };
	struct err err = { 0 };

	(void)state;
	c.dnsbl_ip = "zen.example=junk";
	assert_null(filter_rep_new(&c, &err));
	assert_int_equal(err.kind, ERR_CONFIG);
	c.dnsbl_ip = NULL;
	c.ti_url = "ftp://ti.example/%u";
	assert_null(filter_rep_new(&c, &err));
	assert_int_equal(err.kind, ERR_CONFIG);
	c.ti_url = "https://ti.example/check";	/* no %u */
	assert_null(filter_rep_new(&c, &err));
	c.ti_url = NULL;
	c.url_feed = "/nonexistent/feed.txt";
	err_clear(&err);
	assert_null(filter_rep_new(&c, &err));
	assert_int_equal(err.kind, ERR_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_syntax),
		cmocka_unit_test(test_qnames),
		cmocka_unit_test(test_codes),
		cmocka_unit_test_setup_teardown(test_ipv4_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_codes_and_failure,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_weight_zero_disables, setup,
						teardown),
		cmocka_unit_test(test_symbols_declared),
		cmocka_unit_test(test_bad_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
