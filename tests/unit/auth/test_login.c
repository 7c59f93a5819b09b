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
#include <sodium.h>

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

static enum auth_sasl_result plain(const void *raw, size_t len, char *user,
				   char *pw, size_t *pwlen)
{
	char b64[1200];
	sodium_bin2base64(b64, sizeof b64, raw, len, sodium_base64_VARIANT_ORIGINAL);
	return auth_sasl_plain(span_cstr(b64), user, 320, pw, 256, pwlen);
}

static void test_sasl_plain(void **state)
{
	(void)state;
	char user[320], pw[256];
	size_t n;
	assert_int_equal(plain("\0alice@x.test\0s3cret", 20, user, pw, &n), AUTH_SASL_OK);
	assert_string_equal(user, "alice@x.test");
	assert_int_equal(n, 6);
	assert_string_equal(pw, "s3cret");
	/* an authorization identity equal to the user is allowed */
	assert_int_equal(plain("a@x\0a@x\0pw", 10, user, pw, &n), AUTH_SASL_OK);
	assert_int_equal(plain("b@x\0a@x\0pw", 10, user, pw, &n), AUTH_SASL_AUTHZ);
	assert_int_equal(plain("a@x\0pw", 6, user, pw, &n), AUTH_SASL_MALFORMED);
	assert_int_equal(plain("\0\0pw", 4, user, pw, &n), AUTH_SASL_MALFORMED);
	assert_int_equal(plain("\0a@x\0p\0w", 8, user, pw, &n), AUTH_SASL_MALFORMED);
	assert_int_equal(auth_sasl_plain(span_cstr("=="), user, 320, pw, 256, &n),
			 AUTH_SASL_BAD_BASE64);
	assert_int_equal(auth_sasl_plain(span_cstr("not base64!"), user, 320, pw, 256, &n),
			 AUTH_SASL_BAD_BASE64);
	assert_int_equal(auth_sasl_plain(span_cstr("="), user, 320, pw, 256, &n),
			 AUTH_SASL_MALFORMED);	/* empty */
	/* user at the buffer's size and one under it */
	unsigned char raw[AUTH_SASL_MAX];
	memset(raw, 'u', sizeof raw);
	raw[0] = 0;
	raw[320] = 0;		/* user of 319 bytes */
	raw[321] = 'p';
	assert_int_equal(plain(raw, 322, user, pw, &n), AUTH_SASL_OK);
	assert_int_equal(strlen(user), 319);
	raw[320] = 'u';
	raw[321] = 0;		/* user of 320 bytes: too long */
	raw[322] = 'p';
	assert_int_equal(plain(raw, 323, user, pw, &n), AUTH_SASL_MALFORMED);
	/* more than AUTH_SASL_MAX decoded bytes */
	memset(raw, 'x', sizeof raw);
	char big[2000];
	unsigned char bigraw[AUTH_SASL_MAX + 3];
	memset(bigraw, 'x', sizeof bigraw);
	sodium_bin2base64(big, sizeof big, bigraw, sizeof bigraw, sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(auth_sasl_plain(span_cstr(big), user, 320, pw, 256, &n),
			 AUTH_SASL_BAD_BASE64);
}

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_and_cache),
		cmocka_unit_test(test_sasl_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
