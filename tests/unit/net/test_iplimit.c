/* test_iplimit.c - per-address connection counting: limits at max and
 * max + 1, IPv4 and IPv4-mapped IPv6 as one address, release, loopback
 * detection, and many threads acquiring and releasing at once. */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "net/net.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
	s->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
	return ss;
}

#define SA(x) ((struct sockaddr *)&(x))

static void test_limit_and_release(void **state)
{
	(void)state;
	struct net_iplimit *l = net_iplimit_new(10);
	struct sockaddr_storage a = v4("192.0.2.1"), b = v4("192.0.2.2");
	for (int i = 0; i < 3; i++)
		assert_true(net_iplimit_acquire(l, SA(a), 3));
	assert_false(net_iplimit_acquire(l, SA(a), 3));	/* max + 1 */
	assert_int_equal(net_iplimit_count(l, SA(a)), 3);
	assert_true(net_iplimit_acquire(l, SA(b), 3));	/* others unaffected */
	net_iplimit_release(l, SA(a));
	assert_true(net_iplimit_acquire(l, SA(a), 3));
	for (int i = 0; i < 3; i++)
		net_iplimit_release(l, SA(a));
	assert_int_equal(net_iplimit_count(l, SA(a)), 0);
	net_iplimit_release(l, SA(a));	/* unmatched: harmless */
	assert_true(net_iplimit_acquire(l, SA(a), 0));	/* 0 = no limit */
	net_iplimit_free(&l);
	assert_null(l);
}

static void test_mapped_is_same_address(void **state)
{
	(void)state;
	struct net_iplimit *l = net_iplimit_new(10);
	struct sockaddr_storage a = v4("198.51.100.7"), m = v6("::ffff:198.51.100.7");
	assert_true(net_iplimit_acquire(l, SA(a), 2));
	assert_true(net_iplimit_acquire(l, SA(m), 2));
	assert_false(net_iplimit_acquire(l, SA(a), 2));
	assert_int_equal(net_iplimit_count(l, SA(m)), 2);
	net_iplimit_free(&l);
}

static void test_loopback(void **state)
{
	(void)state;
	struct sockaddr_storage a = v4("127.0.0.1"), b = v4("127.8.9.10"),
		c = v6("::1"), d = v6("::ffff:127.0.0.2"), e = v4("128.0.0.1"),
		f = v6("2001:db8::1");
	assert_true(net_addr_is_loopback(SA(a)));
	assert_true(net_addr_is_loopback(SA(b)));
	assert_true(net_addr_is_loopback(SA(c)));
	assert_true(net_addr_is_loopback(SA(d)));
	assert_false(net_addr_is_loopback(SA(e)));
	assert_false(net_addr_is_loopback(SA(f)));
}

struct race {
	struct net_iplimit *l;
	int id;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	char ip[32];
	for (int round = 0; round < 2000; round++) {
		snprintf(ip, sizeof ip, "10.0.%d.%d", r->id, round % 50);
		struct sockaddr_storage a = v4(ip);
		if (net_iplimit_acquire(r->l, SA(a), 0))
			net_iplimit_release(r->l, SA(a));
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct net_iplimit *l = net_iplimit_new(64);
	pthread_t t[8];
	struct race r[8];
	for (int i = 0; i < 8; i++) {
		r[i].l = l;
		r[i].id = i % 2;	/* threads share addresses */
		assert_int_equal(pthread_create(&t[i], NULL, racer, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int j = 0; j < 50; j++) {
		char ip[32];
		snprintf(ip, sizeof ip, "10.0.0.%d", j);
		struct sockaddr_storage a = v4(ip);
		assert_int_equal(net_iplimit_count(l, SA(a)), 0);
	}
	net_iplimit_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_and_release),
		cmocka_unit_test(test_mapped_is_same_address),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
