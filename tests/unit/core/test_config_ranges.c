/* test_config_ranges.c - max_connections_per_ip_ranges: the CIDR=limit
 * parser (good lists, each kind of bad item with its message, the count
 * limit at max and max + 1), longest-prefix lookup with IPv4 and
 * IPv4-mapped IPv6 as one address, the config key's "file:line:" errors,
 * and cfg_dump reading back as the same ranges. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

/* addr as the 16-byte key (IPv4 mapped). */
static void key(const char *addr, unsigned char k[16])
{
	memset(k, 0, 16);
	if (strchr(addr, ':')) {
		assert_int_equal(inet_pton(AF_INET6, addr, k), 1);
	} else {
		k[10] = k[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, addr, k + 12), 1);
	}
}

/* The limit for addr, or -1 when no range holds it. */
static long limit_for(const struct cfg_ip_ranges *l, const char *addr)
{
	unsigned char k[16];
	key(addr, k);
	const struct cfg_ip_range *r = cfg_ip_range_find(l->r, l->n, k);
	return r ? (long)r->limit : -1;
}

static void test_parse_and_find(void **state)
{
	(void)state;
	struct cfg_ip_ranges l;
	char why[256];
	assert_int_equal(cfg_parse_ip_ranges(
		"10.0.0.0/8=50, 10.1.0.0/16=5,192.0.2.7=200  2001:db8::/32=0,"
		" ::ffff:198.51.100.0/120=7, 0.0.0.0/0=30", &l, why, sizeof why), 0);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.r[0].prefix, 96 + 8);
	assert_int_equal(l.r[2].prefix, 128);	/* no /n: one address */
	assert_int_equal(l.r[3].prefix, 32);
	assert_int_equal(l.r[3].limit, 0);

	/* longest prefix wins, whatever the order */
	assert_int_equal(limit_for(&l, "10.2.3.4"), 50);
	assert_int_equal(limit_for(&l, "10.1.255.255"), 5);
	assert_int_equal(limit_for(&l, "10.0.0.0"), 50);
	assert_int_equal(limit_for(&l, "11.0.0.0"), 30);
	assert_int_equal(limit_for(&l, "192.0.2.7"), 200);
	assert_int_equal(limit_for(&l, "192.0.2.8"), 30);
	/* IPv4-mapped IPv6 is the IPv4 address; mapped ranges are IPv4 */
	assert_int_equal(limit_for(&l, "::ffff:10.1.0.1"), 5);
	assert_int_equal(limit_for(&l, "198.51.100.99"), 7);
	assert_int_equal(limit_for(&l, "198.51.101.1"), 30);
	/* IPv6: the /32, and nothing for others (0.0.0.0/0 is IPv4 only) */
	assert_int_equal(limit_for(&l, "2001:db8:ffff::1"), 0);
	assert_int_equal(limit_for(&l, "2001:db9::1"), -1);
	assert_int_equal(limit_for(&l, "::1"), -1);

	/* prefix edges: /31 holds two addresses, a bit in the middle of a byte */
	assert_int_equal(cfg_parse_ip_ranges("192.0.2.6/31=1 2001:db8:8000::/33=2",
					     &l, why, sizeof why), 0);
	assert_int_equal(limit_for(&l, "192.0.2.6"), 1);
	assert_int_equal(limit_for(&l, "192.0.2.7"), 1);
	assert_int_equal(limit_for(&l, "192.0.2.5"), -1);
	assert_int_equal(limit_for(&l, "192.0.2.8"), -1);
	assert_int_equal(limit_for(&l, "2001:db8:8000::1"), 2);
	assert_int_equal(limit_for(&l, "2001:db8:ffff::1"), 2);
	assert_int_equal(limit_for(&l, "2001:db8:7fff::1"), -1);

	/* ::/0 holds everything, IPv4 included */
	assert_int_equal(cfg_parse_ip_ranges("::/0=9", &l, why, sizeof why), 0);
	assert_int_equal(limit_for(&l, "203.0.113.1"), 9);

	/* empty: no ranges */
	assert_int_equal(cfg_parse_ip_ranges(" , ", &l, why, sizeof why), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(limit_for(&l, "10.0.0.1"), -1);
}

static const struct {
	const char *text, *why;
} bad[] = {
	{ "10.0.0.0/8", "expected address/prefix=limit, got '10.0.0.0/8'" },
	{ "10.0.0.0/8=", "bad limit '' for 10.0.0.0/8 (0-1000000)" },
	{ "10.0.0.0/8=-1", "bad limit '-1' for 10.0.0.0/8 (0-1000000)" },
	{ "10.0.0.0/8=1000001", "bad limit '1000001' for 10.0.0.0/8 (0-1000000)" },
	{ "10.0.0.0/8=99999999999999999999",
	  "bad limit '9999999999999999' for 10.0.0.0/8 (0-1000000)" },
	{ "10.0.0.0/8=5x", "bad limit '5x' for 10.0.0.0/8 (0-1000000)" },
	{ "10.0.0.0/33=5", "bad prefix length in '10.0.0.0/33' (0-32)" },
	{ "10.0.0.0/=5", "bad prefix length in '10.0.0.0/' (0-32)" },
	{ "10.0.0.0/8/8=5", "bad prefix length in '10.0.0.0/8/8' (0-32)" },
	{ "2001:db8::/129=5", "bad prefix length in '2001:db8::/129' (0-128)" },
	{ "10.0.0.256/32=5", "bad IPv4 address '10.0.0.256'" },
	{ "10.0.0/24=5", "bad IPv4 address '10.0.0'" },
	{ "mail.example.com=5", "bad IPv4 address 'mail.example.com'" },
	{ "2001:db8:::1=5", "bad IPv6 address '2001:db8:::1'" },
	{ "/8=5", "bad address '/8'" },
	{ "=5", "bad address ''" },
	{ "10.0.0.1/8=5", "'10.0.0.1/8' has address bits set past the prefix" },
	{ "2001:db8::1/32=5", "'2001:db8::1/32' has address bits set past the prefix" },
	{ "10.0.0.0/8=5, 10.0.0.0/8=6", "'10.0.0.0/8=6' is listed twice" },
	/* the same range written as IPv4 and as mapped IPv6 */
	{ "10.0.0.0/8=5 ::ffff:10.0.0.0/104=6",
	  "'::ffff:10.0.0.0/104=6' is listed twice" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/64=1",
	  "bad address '1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/64'" },
};

static void test_parse_bad(void **state)
{
	(void)state;
	struct cfg_ip_ranges l;
	char why[256];
	l.n = 3;	/* untouched on failure */
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		why[0] = '\0';
		if (cfg_parse_ip_ranges(bad[i].text, &l, why, sizeof why) != -1)
			fail_msg("accepted: %s", bad[i].text);
		assert_string_equal(why, bad[i].why);
		assert_int_equal(l.n, 3);
	}
}

/* CFG_MAX_IP_RANGES ranges are fine, one more is not. */
static void test_count_limit(void **state)
{
	(void)state;
	char text[CFG_MAX_IP_RANGES * 24 + 32];
	size_t n = 0;
	for (int i = 0; i <= CFG_MAX_IP_RANGES; i++) {
		int w = snprintf(text + n, sizeof text - n, "10.%d.0.0/16=%d,", i, i);
		assert_true(w > 0 && (size_t)w < sizeof text - n);
		if (i == CFG_MAX_IP_RANGES - 1) {
			struct cfg_ip_ranges l;
			char why[128];
			assert_int_equal(cfg_parse_ip_ranges(text, &l, why, sizeof why), 0);
			assert_int_equal(l.n, CFG_MAX_IP_RANGES);
			assert_int_equal(limit_for(&l, "10.63.1.1"), 63);
		}
		n += (size_t)w;
	}
	struct cfg_ip_ranges l;
	char why[128];
	assert_int_equal(cfg_parse_ip_ranges(text, &l, why, sizeof why), -1);
	assert_string_equal(why, "more than 64 ranges");
}

/* As a config key: file:line errors, -o, the default, cfg_dump's text. */
static void test_config_key(void **state)
{
	(void)state;
	struct config cfg;
	struct err e;
	cfg_defaults(&cfg);
	assert_int_equal(cfg.max_connections_per_ip_ranges.n, 0);
	assert_int_equal(cfg.max_connections_per_ip, 20);

	char dir[256], path[300];
	const char *base = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/petrel-ranges-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/petrel.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("# gateway\nmax_connections_per_ip = 20\n"
	      "max_connections_per_ip_ranges = 10.0.0.0/8=50, 10.0.0.0/33=1\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cfg_load_file(&cfg, path, false, &e), -1);
	char want[512];
	snprintf(want, sizeof want,
		 "%s:3: bad value for max_connections_per_ip_ranges: "
		 "bad prefix length in '10.0.0.0/33' (0-32)", path);
	assert_string_equal(e.msg, want);

	cfg_defaults(&cfg);
	assert_int_equal(cfg_set(&cfg, "-o",
				 "max_connections_per_ip_ranges=10.0.0.0/8=50,"
				 "192.0.2.7=200 2001:db8::/32=0 ::/95=3", &e), 0);
	assert_int_equal(cfg.max_connections_per_ip_ranges.n, 4);

	/* dump, and read the dump back */
	f = fopen(path, "w+");
	assert_non_null(f);
	cfg_dump(&cfg, fileno(f));
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	static char text[16384];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "max_connections_per_ip_ranges = 10.0.0.0/8=50, "
				     "192.0.2.7/32=200, 2001:db8::/32=0, ::/95=3\n"));
	struct config back;
	cfg_defaults(&back);
	if (cfg_load_file(&back, path, false, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(back.max_connections_per_ip_ranges.n, 4);
	assert_memory_equal(&back.max_connections_per_ip_ranges,
			    &cfg.max_connections_per_ip_ranges,
			    sizeof back.max_connections_per_ip_ranges);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_find),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_count_limit),
		cmocka_unit_test(test_config_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
