/* test_guard.c - login protection with a clock of the test's own:
 * thresholds per account and per address, the growing delay and its cap,
 * a lock refusing until it expires (and both audited), a success clearing
 * an account's count but not an address's, IPv6 counted per /64, exempt
 * ranges, and the table staying within its slots under many addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/guard.h"

struct events {
	int lockouts, unlocks;
	char last_subject[AUTH_GUARD_NAME_MAX + 1];
	int64_t last_when;
};

static void on_event(void *arg, const char *kind, const char *subject,
		     const char *what, const char *detail, int64_t when)
{
	(void)what;
	(void)detail;
	struct events *ev = arg;
	if (!strcmp(kind, "login.lockout"))
		ev->lockouts++;
	else if (!strcmp(kind, "login.unlock"))
		ev->unlocks++;
	snprintf(ev->last_subject, sizeof ev->last_subject, "%s", subject);
	ev->last_when = when;
}

static int64_t now_v = 1000000;

static int64_t test_clock(void *arg)
{
	(void)arg;
	return now_v;
}

static struct auth_guard_conf conf(void)
{
	struct auth_guard_conf c;
	memset(&c, 0, sizeof c);
	c.window = 900;
	c.account_max = 10;
	c.ip_max = 30;
	c.lockout = 900;
	c.delay = 1;
	c.delay_max = 15;
	return c;
}

static struct auth_guard *make(const struct auth_guard_conf *c,
			       size_t slots, struct events *ev)
{
	memset(ev, 0, sizeof *ev);
	struct auth_guard *g = auth_guard_new(c, slots, on_event, ev);
	auth_guard_set_clock(g, test_clock, NULL);
	return g;
}

static void test_account_lockout_and_expiry(void **state)
{
	(void)state;
	struct events ev;
	struct auth_guard_conf c = conf();
	struct auth_guard *g = make(&c, AUTH_GUARD_SLOTS, &ev);
	/* different addresses: only the account's count reaches 10 */
	for (int i = 0; i < 9; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "192.0.2.%d", i + 1);
		assert_false(auth_guard_locked(g, ip, "Victim@Example.com"));
		(void)auth_guard_record(g, ip, "victim@example.com", false);
	}
	assert_int_equal(ev.lockouts, 0);
	(void)auth_guard_record(g, "192.0.2.100", "VICTIM@example.com", false);
	assert_int_equal(ev.lockouts, 1);
	assert_string_equal(ev.last_subject, "victim@example.com");
	/* from anywhere, in any case, while it lasts */
	assert_true(auth_guard_locked(g, "198.51.100.1", "victim@EXAMPLE.com"));
	/* a success while locked does not clear the lock */
	(void)auth_guard_record(g, "198.51.100.1", "victim@example.com", true);
	now_v += 899;
	assert_true(auth_guard_locked(g, "198.51.100.1", "victim@example.com"));
	now_v += 1;
	assert_false(auth_guard_locked(g, "198.51.100.1", "victim@example.com"));
	assert_int_equal(ev.unlocks, 1);
	assert_int_equal(ev.last_when, now_v);	/* the lock's own end */
	/* counting starts over */
	(void)auth_guard_record(g, "198.51.100.2", "victim@example.com", false);
	assert_false(auth_guard_locked(g, "198.51.100.3", "victim@example.com"));
	auth_guard_free(&g);
	assert_null(g);
}

static void test_ip_lockout_across_accounts(void **state)
{
	(void)state;
	struct events ev;
	struct auth_guard_conf c = conf();
	struct auth_guard *g = make(&c, AUTH_GUARD_SLOTS, &ev);
	for (int i = 0; i < 30; i++) {
		char user[64];
		snprintf(user, sizeof user, "user%d@example.com", i);
		assert_false(auth_guard_locked(g, "203.0.113.9", user));
		(void)auth_guard_record(g, "203.0.113.9", user, false);
	}
	assert_int_equal(ev.lockouts, 1);
	assert_string_equal(ev.last_subject, "203.0.113.9");
	assert_true(auth_guard_locked(g, "203.0.113.9", "new@example.com"));
	assert_true(auth_guard_locked(g, "203.0.113.9", ""));
	assert_false(auth_guard_locked(g, "203.0.113.10", "new@example.com"));
	/* a success does not reset an address: still locked */
	(void)auth_guard_record(g, "203.0.113.9", "own@example.com", true);
	assert_true(auth_guard_locked(g, "203.0.113.9", "own@example.com"));
	now_v += 900;
	assert_false(auth_guard_locked(g, "203.0.113.9", "own@example.com"));
	auth_guard_free(&g);
}

static void test_window_restarts(void **state)
{
	(void)state;
	struct events ev;
	struct auth_guard_conf c = conf();
	struct auth_guard *g = make(&c, AUTH_GUARD_SLOTS, &ev);
	for (int i = 0; i < 9; i++)
		(void)auth_guard_record(g, "192.0.2.1", "slow@example.com", false);
	now_v += 900;	/* the window has passed: the count starts over */
	for (int i = 0; i < 9; i++)
		(void)auth_guard_record(g, "192.0.2.1", "slow@example.com", false);
	assert_int_equal(ev.lockouts, 0);
	assert_false(auth_guard_locked(g, "192.0.2.1", "slow@example.com"));
	auth_guard_free(&g);
}

static void test_delay_grows_and_caps(void **state)
{
	(void)state;
	struct events ev;
	struct auth_guard_conf c = conf();
	c.account_max = 0;
	c.ip_max = 0;	/* never lock: delays only */
	struct auth_guard *g = make(&c, AUTH_GUARD_SLOTS, &ev);
	unsigned want[] = { 1, 2, 4, 8, 15, 15, 15 };
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(auth_guard_record(g, "192.0.2.7", "d@example.com",
						   false), want[i]);
	assert_int_equal(ev.lockouts, 0);
	/* a success answers at once and clears the account, not the address */
	assert_int_equal(auth_guard_record(g, "192.0.2.7", "d@example.com", true), 0);
	assert_int_equal(auth_guard_record(g, "192.0.2.8", "d@example.com", false), 1);
	assert_int_equal(auth_guard_record(g, "192.0.2.7", "e@example.com", false), 15);
	auth_guard_free(&g);
	/* no base delay: none at all */
	c.delay = 0;
	g = make(&c, AUTH_GUARD_SLOTS, &ev);
	for (int i = 0; i < 5; i++)
		assert_int_equal(auth_guard_record(g, "192.0.2.7", "d@example.com",
						   false), 0);
	auth_guard_free(&g);
}

static void test_ipv6_per_64_and_exempt_ranges(void **state)
{
	(void)state;
	struct events ev;
	struct auth_guard_conf c = conf();
	c.account_max = 0;
	c.ip_max = 3;
	char why[128];
	assert_int_equal(cfg_parse_ip_ranges("10.0.0.0/8=0, 192.0.2.0/24=5",
					     &c.ip_ranges, why, sizeof why), 0);
	struct auth_guard *g = make(&c, AUTH_GUARD_SLOTS, &ev);
	(void)auth_guard_record(g, "2001:db8:1:2::1", "a@x.test", false);
	(void)auth_guard_record(g, "2001:db8:1:2::ffff", "b@x.test", false);
	(void)auth_guard_record(g, "2001:db8:1:2:aaaa::1", "c@x.test", false);
	assert_int_equal(ev.lockouts, 1);
	assert_string_equal(ev.last_subject, "2001:db8:1:2::/64");
	assert_true(auth_guard_locked(g, "2001:db8:1:2::99", NULL));
	assert_false(auth_guard_locked(g, "2001:db8:1:3::1", NULL));
	/* an IPv4-mapped peer is its IPv4 address */
	for (int i = 0; i < 10; i++)
		(void)auth_guard_record(g, "::ffff:10.1.2.3", "a@x.test", false);
	assert_false(auth_guard_locked(g, "10.1.2.3", NULL));	/* exempt */
	for (int i = 0; i < 4; i++)
		(void)auth_guard_record(g, "192.0.2.1", "a@x.test", false);
	assert_false(auth_guard_locked(g, "192.0.2.1", NULL));	/* 5 there */
	(void)auth_guard_record(g, "::ffff:192.0.2.1", "a@x.test", false);
	assert_true(auth_guard_locked(g, "192.0.2.1", NULL));
	/* not an address: not counted, never locked */
	(void)auth_guard_record(g, "", "a@x.test", false);
	assert_false(auth_guard_locked(g, "garbage", NULL));
	auth_guard_free(&g);
}

static void test_table_bounded(void **state)
{
	(void)state;
	struct events ev;
	struct auth_guard_conf c = conf();
	c.ip_max = 2;
	c.account_max = 0;
	struct auth_guard *g = make(&c, 64, &ev);
	/* a locked address survives a flood of one-off addresses: unlocked
	 * entries are evicted first */
	(void)auth_guard_record(g, "198.51.100.1", NULL, false);
	(void)auth_guard_record(g, "198.51.100.1", NULL, false);
	assert_true(auth_guard_locked(g, "198.51.100.1", NULL));
	for (int i = 0; i < 5000; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
		(void)auth_guard_record(g, ip, NULL, false);
		assert_true(auth_guard_count(g) <= 64);
	}
	assert_int_equal(auth_guard_count(g), 64);
	assert_true(auth_guard_locked(g, "198.51.100.1", NULL));
	/* expired entries are freed by the sweep */
	now_v += 2000;
	assert_false(auth_guard_locked(g, "198.51.100.1", NULL));
	assert_int_equal(auth_guard_count(g), 0);
	assert_int_equal(ev.unlocks, 1);
	auth_guard_free(&g);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_account_lockout_and_expiry),
		cmocka_unit_test(test_ip_lockout_across_accounts),
		cmocka_unit_test(test_window_restarts),
		cmocka_unit_test(test_delay_grows_and_caps),
		cmocka_unit_test(test_ipv6_per_64_and_exempt_ranges),
		cmocka_unit_test(test_table_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
