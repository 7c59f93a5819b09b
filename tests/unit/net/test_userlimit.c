/* test_userlimit.c - per-user session counting: the limit at max and
 * max + 1, users independent of each other, release frees a slot, 0 means
 * no limit, and many threads acquiring and releasing at once leave the
 * count at zero. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/net.h"

static void test_limit_and_release(void **state)
{
	(void)state;
	struct net_userlimit *l = net_userlimit_new(10);
	for (int i = 0; i < 3; i++)
		assert_true(net_userlimit_acquire(l, 7, 3));
	assert_false(net_userlimit_acquire(l, 7, 3));	/* max + 1 */
	assert_int_equal(net_userlimit_count(l, 7), 3);
	assert_true(net_userlimit_acquire(l, 8, 3));	/* others unaffected */
	net_userlimit_release(l, 7);
	assert_int_equal(net_userlimit_count(l, 7), 2);
	assert_true(net_userlimit_acquire(l, 7, 3));	/* the slot is free */
	for (int i = 0; i < 3; i++)
		net_userlimit_release(l, 7);
	assert_int_equal(net_userlimit_count(l, 7), 0);
	net_userlimit_release(l, 7);	/* unmatched: harmless */
	assert_int_equal(net_userlimit_count(l, 7), 0);
	for (int i = 0; i < 100; i++)
		assert_true(net_userlimit_acquire(l, 9, 0));	/* 0 = no limit */
	assert_int_equal(net_userlimit_count(l, 9), 100);
	net_userlimit_free(&l);
	assert_null(l);
}

static void test_many_users_share_buckets(void **state)
{
	(void)state;
	struct net_userlimit *l = net_userlimit_new(1);	/* 64 buckets */
	for (int64_t id = 1; id <= 1000; id++)
		assert_true(net_userlimit_acquire(l, id, 1));
	for (int64_t id = 1; id <= 1000; id++) {
		assert_false(net_userlimit_acquire(l, id, 1));
		assert_int_equal(net_userlimit_count(l, id), 1);
	}
	for (int64_t id = 1; id <= 1000; id += 2)
		net_userlimit_release(l, id);
	for (int64_t id = 1; id <= 1000; id++)
		assert_int_equal(net_userlimit_count(l, id), id % 2 ? 0 : 1);
	net_userlimit_free(&l);
}

struct race {
	struct net_userlimit *l;
	unsigned ok;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < 20000; i++) {
		if (net_userlimit_acquire(r->l, 42, 4)) {
			r->ok++;
			net_userlimit_release(r->l, 42);
		}
		/* never more than max at once, whoever holds them */
		if (net_userlimit_count(r->l, 42) > 4)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct net_userlimit *l = net_userlimit_new(10);
	pthread_t t[8];
	struct race r[8];
	for (int i = 0; i < 8; i++) {
		r[i] = (struct race){ l, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, racer, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		void *rv;
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
		assert_true(r[i].ok > 0);
	}
	assert_int_equal(net_userlimit_count(l, 42), 0);
	net_userlimit_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_and_release),
		cmocka_unit_test(test_many_users_share_buckets),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
