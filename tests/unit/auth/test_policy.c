/* test_policy.c - cmocka tests of src/auth/policy.c: each rule of a
 * domain's password policy at its boundary (length in characters, not
 * octets; classes; local part and common passwords ignoring case),
 * generated passwords meeting strict policies, and Argon2id hashes as an
 * import brings them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "store/store.h"

static int check(const struct store_password_policy *p, const char *pw,
		 const char *local)
{
	const char *why = NULL;
	int rc = auth_password_policy_check(p, pw, strlen(pw), local, &why);
	if (rc != 0)
		assert_non_null(why);
	return rc;
}

static void test_defaults(void **state)
{
	(void)state;
	struct store_password_policy p;
	auth_password_policy_default(&p);
	assert_int_equal(p.min_length, 10);
	assert_int_equal(p.min_classes, 3);
	assert_int_equal(check(&p, "Abcdefgh1x", "bob"), 0);	/* 10 */
	assert_int_equal(check(&p, "Abcdefg1x", "bob"), -1);	/* 9 */
	assert_int_equal(check(&p, "abcdefgh1x", "bob"), -1);	/* 2 classes */
	assert_int_equal(check(&p, "abcdefgh-1", "bob"), 0);	/* 3 */
	/* ten characters, twenty octets: long enough */
	assert_int_equal(check(&p, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			       "Aa1\xc3\xa9\xc3\xa9", "bob"), 0);
	assert_int_equal(check(&p, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			       "Aa1\xc3\xa9", "bob"), -1);
	assert_int_equal(check(&p, "Firstname.Lastname1", "firstname.lastname1"),
			 -1);
	assert_int_equal(check(&p, "Firstname.Lastname1", NULL), 0);
	assert_int_equal(check(&p, "PASSWORD123", "bob"), -1);	/* common */
	assert_int_equal(check(&p, "P@ssw0rd123", "bob"), -1);
	assert_int_equal(check(&p, "Tab\tbed-pass1", "bob"), -1);	/* control */
}

static void test_relaxed(void **state)
{
	(void)state;
	struct store_password_policy p = { 4, 0, false, false };
	assert_int_equal(check(&p, "aaaa", "aaaa"), 0);
	assert_int_equal(check(&p, "aaa", "x"), -1);
	p.min_classes = 4;
	assert_int_equal(check(&p, "aA1-", "x"), 0);
	assert_int_equal(check(&p, "aA11", "x"), -1);
	char big[AUTH_PASSWORD_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(check(&p, big, "x"), -1);		/* 257 octets */
}

static void test_generate(void **state)
{
	(void)state;
	struct store_password_policy p;
	auth_password_policy_default(&p);
	char pw[130];
	for (int i = 0; i < 200; i++) {
		p.min_classes = (uint32_t)(i % 5);
		p.min_length = i == 0 ? 40 : 10;
		auth_password_generate(&p, pw, sizeof pw);
		assert_true(strlen(pw) >= 16);
		assert_int_equal(check(&p, pw, "user"), 0);
	}
	p.min_length = 128;
	auth_password_generate(&p, pw, sizeof pw);
	assert_int_equal(strlen(pw), 128);
}

static void test_hash_valid(void **state)
{
	(void)state;
	struct err err;
	assert_int_equal(auth_init(&err), 0);
	char h[AUTH_HASH_MAX];
	assert_int_equal(auth_password_hash_cost("pw", 2, h, sizeof h, 1,
						 8192, &err), 0);
	assert_true(auth_password_hash_valid(h));
	assert_false(auth_password_hash_valid("$argon2id$v=19$garbage"));
	assert_false(auth_password_hash_valid("$argon2i$v=19$m=8,t=1,p=1$"
					      "c2FsdHNhbHQ$aGFzaA"));
	assert_false(auth_password_hash_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_relaxed),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_hash_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
