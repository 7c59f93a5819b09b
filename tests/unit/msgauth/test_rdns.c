/* test_rdns.c - the client's forward-confirmed reverse name
 * (ma_rdns_lookup) against a zone table: a name that leads back, one
 * that does not, none, several, IPv6, DNS trouble, and bounded work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "core/limits.h"
#include "msgauth/ma_zone.h"

static const char ZONE[] =
	"7.2.0.192.in-addr.arpa PTR mx.a.test\n"
	"mx.a.test A 192.0.2.7\n"
	/* a name anyone could claim: it leads elsewhere */
	"8.2.0.192.in-addr.arpa PTR mx.bank.test\n"
	"mx.bank.test A 198.51.100.1\n"
	/* several names, the second one leads back */
	"9.2.0.192.in-addr.arpa PTR gone.test\n"
	"9.2.0.192.in-addr.arpa PTR mail.c.test\n"
	"mail.c.test A 192.0.2.99\n"
	"mail.c.test A 192.0.2.9\n"
	/* DNS trouble on the way back */
	"10.2.0.192.in-addr.arpa PTR slow.test\n"
	"slow.test TIMEOUT\n"
	"11.2.0.192.in-addr.arpa TIMEOUT\n"
	/* IPv6 */
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa "
	"PTR v6.d.test\n"
	"v6.d.test AAAA 2001:db8::1\n"
	/* a name that would split our Received field differently */
	"13.2.0.192.in-addr.arpa PTR x)(y.test\n"
	"x)(y.test A 192.0.2.13\n"
	/* many names, none leading back: only the first few are asked */
	"12.2.0.192.in-addr.arpa PTR n1.test\n"
	"12.2.0.192.in-addr.arpa PTR n2.test\n"
	"12.2.0.192.in-addr.arpa PTR n3.test\n"
	"12.2.0.192.in-addr.arpa PTR n4.test\n"
	"12.2.0.192.in-addr.arpa PTR n5.test\n"
	"12.2.0.192.in-addr.arpa PTR n6.test\n"
	"12.2.0.192.in-addr.arpa PTR n7.test\n";

static enum ma_rdns look(struct ma_zone *z, const char *addr, char *name)
{
	struct ma_dns d;
	unsigned char ip[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, addr, ip), 1);
	ma_zone_dns(z, &d);
	return ma_rdns_lookup(&d, family, ip, name, DNS_NAME_MAX + 1);
}

static void test_rdns(void **state)
{
	struct ma_zone *z = ma_zone_new();
	struct err err;
	char name[DNS_NAME_MAX + 1];

	(void)state;
	assert_int_equal(ma_zone_load(z, ZONE, strlen(ZONE), &err), 0);
	assert_int_equal(look(z, "192.0.2.7", name), MA_RDNS_OK);
	assert_string_equal(name, "mx.a.test");
	assert_int_equal(look(z, "192.0.2.8", name), MA_RDNS_NONE);
	assert_string_equal(name, "");
	assert_int_equal(look(z, "192.0.2.9", name), MA_RDNS_OK);
	assert_string_equal(name, "mail.c.test");
	assert_int_equal(look(z, "192.0.2.20", name), MA_RDNS_NONE);
	assert_int_equal(look(z, "192.0.2.13", name), MA_RDNS_NONE);
	assert_int_equal(look(z, "192.0.2.10", name), MA_RDNS_UNKNOWN);
	assert_int_equal(look(z, "192.0.2.11", name), MA_RDNS_UNKNOWN);
	assert_int_equal(look(z, "2001:db8::1", name), MA_RDNS_OK);
	assert_string_equal(name, "v6.d.test");
	size_t before = ma_zone_queries(z);
	assert_int_equal(look(z, "192.0.2.12", name), MA_RDNS_NONE);
	assert_int_equal(ma_zone_queries(z) - before, 1 + MA_RDNS_NAMES_MAX);
	ma_zone_free(&z);
}

/* The PTR owner names of both families. */
static void test_reverse_name(void **state)
{
	unsigned char ip[16];
	char out[MA_REVERSE_NAME_MAX];

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", ip), 1);
	ma_reverse_name(ip, false, out, sizeof out);
	assert_string_equal(out, "7.2.0.192.in-addr.arpa");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", ip), 1);
	ma_reverse_name(ip, true, out, sizeof out);
	assert_string_equal(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			    "0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rdns),
		cmocka_unit_test(test_reverse_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
