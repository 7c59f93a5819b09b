/* test_keepalive.c - how tcp_keepalive_idle and tcp_keepalive_timeout
 * become TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT: probes spread over
 * the timeout, intervals of at least a second, 0 turning it off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core/limits.h"
#include "net/conn.h"

static void check(unsigned idle, unsigned timeout, unsigned want_idle,
		  unsigned want_intvl, unsigned want_cnt)
{
	struct net_limits l;
	net_limits_init(&l, 10, 0, false);
	net_limits_set_keepalive(&l, idle, timeout);
	assert_int_equal(l.keepalive_idle, want_idle);
	assert_int_equal(l.keepalive_intvl, want_intvl);
	assert_int_equal(l.keepalive_cnt, want_cnt);
	net_limits_release(&l);
}

static void test_derive(void **state)
{
	(void)state;
	/* the defaults: 6 probes 10 s apart, dropped 60 s after the idle 30 */
	check(30, 60, 30, 10, NET_KEEPALIVE_PROBES);
	/* not a multiple of the probe count: rounded up, never short */
	check(30, 61, 30, 11, 6);
	/* fewer seconds than probes: one probe a second */
	check(10, 1, 10, 1, 1);
	check(10, 5, 10, 1, 5);
	check(10, 6, 10, 1, 6);
	/* the largest timeout stays inside the kernel's TCP_KEEPINTVL limit */
	check(NET_KEEPALIVE_IDLE_MAX, NET_KEEPALIVE_TIMEOUT_MAX,
	      NET_KEEPALIVE_IDLE_MAX, NET_KEEPALIVE_TIMEOUT_MAX / 6, 6);
	assert_true(NET_KEEPALIVE_TIMEOUT_MAX / NET_KEEPALIVE_PROBES <= 32767);
	/* either 0: off */
	check(0, 60, 0, 0, 0);
	check(30, 0, 0, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
