/* test_login.c - logins checked on the jobs pool: a right password, the
 * same again answered from the cache, a wrong one (never cached), an
 * unknown user, and a user name that is not an address. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "core/jobs.h"
#include "core/log.h"
#include "store/store.h"

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void wake(struct auth_login *a)
{
	struct waiter *w = a->arg;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void login(struct auth *au, const char *user, const char *pw,
		  struct auth_login *a)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
	memset(a, 0, sizeof *a);
	snprintf(a->user, sizeof a->user, "%s", user);
	a->password_len = strlen(pw);
	memcpy(a->password, pw, a->password_len);
	a->done = wake;
	a->arg = &w;
	auth_login_submit(au, a);
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	/* the password is wiped once checked */
	assert_int_equal(a->password_len, 0);
	assert_int_equal(a->password[0], 0);
}

static void test_login_and_cache(void **state)
{
	(void)state;
	char dir[] = "/tmp/petrel-auth-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct store *st;
	struct err err;
	assert_int_equal(store_open(dir, &st, &err), 0);
	assert_int_equal(auth_init(&err), 0);
	char hash[AUTH_HASH_MAX];
	assert_int_equal(auth_password_hash("right-password", 14, hash, sizeof hash, &err), 0);
	assert_int_equal(store_domain_add(st, "example.com", &err), 0);
	int64_t id;
	assert_int_equal(store_mailbox_add(st, "alice", "example.com", hash, 0, &id, &err), 0);
	struct jobs *jobs = jobs_new(2);
	struct auth *au = auth_new(st, jobs);
	struct auth_login a;

	login(au, "alice@example.com", "right-password", &a);
	assert_true(a.ok);
	assert_false(a.cached);
	assert_int_equal(a.mailbox_id, id);
	assert_string_equal(a.address, "alice@example.com");

	login(au, "alice@Example.COM", "right-password", &a);
	assert_true(a.ok);		/* domain case does not matter */
	login(au, "alice@example.com", "right-password", &a);
	assert_true(a.ok);
	assert_true(a.cached);		/* no Argon2id the second time */

	login(au, "alice@example.com", "wrong-password", &a);
	assert_false(a.ok);
	assert_false(a.cached);
	login(au, "alice@example.com", "right-passwor", &a);
	assert_false(a.ok);
	login(au, "bob@example.com", "right-password", &a);
	assert_false(a.ok);
	assert_false(a.temp_fail);
	login(au, "alice", "right-password", &a);
	assert_false(a.ok);

	auth_free(&au);
	jobs_free(&jobs);
	store_close(&st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_and_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
