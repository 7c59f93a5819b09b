/* test_cred.c - credentials besides the mailbox password: TOTP against
 * RFC 6238's test vectors, base32 against RFC 4648's, the TOTP replay
 * guard through the store, the life of an app password through real
 * logins (made, used, recorded, revoked), a domain that requires 2FA,
 * and the audit log's hash chain catching edits and deletions. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "auth/auth.h"
#include "core/jobs.h"
#include "core/limits.h"
#include "core/log.h"
#include "store/store.h"

static void test_totp_rfc6238(void **state)
{
	(void)state;
	/* RFC 6238 Appendix B: the seeds are ASCII digits repeated to the
	 * hash's length; T0 = 0, X = 30, 8 digits */
	static const char seed[] = "1234567890123456789012345678901234567890"
				   "123456789012345678901234";
	static const struct {
		int64_t t;
		uint32_t sha1, sha256, sha512;
	} v[] = {
		{ 59, 94287082, 46119246, 90693936 },
		{ 1111111109, 7081804, 68084774, 25091201 },
		{ 1111111111, 14050471, 67062674, 99943326 },
		{ 1234567890, 89005924, 91819424, 93441116 },
		{ 2000000000, 69279037, 90698825, 38618901 },
		{ 20000000000, 65353130, 77737706, 47863826 },
	};
	const unsigned char *k = (const unsigned char *)seed;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint64_t step = (uint64_t)(v[i].t / 30);
		assert_int_equal(auth_totp_code(AUTH_TOTP_SHA1, k, 20, step, 8), v[i].sha1);
		assert_int_equal(auth_totp_code(AUTH_TOTP_SHA256, k, 32, step, 8), v[i].sha256);
		assert_int_equal(auth_totp_code(AUTH_TOTP_SHA512, k, 64, step, 8), v[i].sha512);
	}
	/* 6 digits is the last six of the 8 */
	assert_int_equal(auth_totp_code(AUTH_TOTP_SHA1, k, 20, 1, 6), 287082);
}

static void test_totp_match(void **state)
{
	(void)state;
	const unsigned char *k = (const unsigned char *)"12345678901234567890";
	int64_t now = 1111111111, t = now / 30;
	char code[8];
	for (int d = -2; d <= 2; d++) {
		snprintf(code, sizeof code, "%06u",
			 auth_totp_code(AUTH_TOTP_SHA1, k, 20, (uint64_t)(t + d), 6));
		int64_t got = auth_totp_match(k, 20, now, code, 6, 0);
		/* one step either side for clock skew, no more */
		assert_int_equal(got, d >= -1 && d <= 1 ? t + d : -1);
		/* a step taken before is never taken again */
		assert_int_equal(auth_totp_match(k, 20, now, code, 6, t + 1), -1);
	}
	assert_int_equal(auth_totp_match(k, 20, now, "12345", 5, 0), -1);
	assert_int_equal(auth_totp_match(k, 20, now, "12a456", 6, 0), -1);
	assert_int_equal(auth_totp_match(k, 20, now, "1234567", 7, 0), -1);
}

static void test_base32(void **state)
{
	(void)state;
	/* RFC 4648 10, without the padding */
	static const char *const v[][2] = {
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" },
		{ "foobar", "MZXW6YTBOI" },
	};
	char out[32];
	unsigned char raw[16];
	size_t n;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t len = strlen(v[i][0]);
		assert_int_equal(auth_base32_encode((const unsigned char *)v[i][0],
						    len, out, sizeof out), 0);
		assert_string_equal(out, v[i][1]);
		assert_int_equal(auth_base32_decode(v[i][1], strlen(v[i][1]), raw,
						    sizeof raw, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(raw, v[i][0], len);
	}
	assert_int_equal(auth_base32_decode("mzxw6ytboi======", 16, raw, sizeof raw, &n), 0);
	assert_memory_equal(raw, "foobar", 6);
	assert_int_equal(auth_base32_decode("MZ1W", 4, raw, sizeof raw, &n), -1);
	assert_int_equal(auth_base32_decode("MZXW6YTBOI", 10, raw, 5, &n), -1);
	assert_int_equal(auth_base32_encode((const unsigned char *)"foobar", 6, out, 10), -1);
	char uri[AUTH_TOTP_URI_MAX];
	assert_int_equal(auth_totp_uri("a b@x.test", "MZXQ", uri, sizeof uri), 0);
	assert_string_equal(uri, "otpauth://totp/petrel:a%20b@x.test?secret=MZXQ&issuer=petrel");
}

/* ---- with a store ------------------------------------------------------- */

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
	snprintf(a->ip, sizeof a->ip, "192.0.2.7");
	a->proto = "imap";
	a->password_len = strlen(pw);
	memcpy(a->password, pw, a->password_len);
	a->done = wake;
	a->arg = &w;
	auth_login_submit(au, a);
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
}

struct fixture {
	char dir[64];
	struct store *st;
	struct jobs *jobs;
	struct auth *au;
	int64_t id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct err err;
	snprintf(f->dir, sizeof f->dir, "/tmp/petrel-cred-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, &f->st, &err), 0);
	assert_int_equal(auth_init(&err), 0);
	char hash[AUTH_HASH_MAX];
	assert_int_equal(auth_password_hash_cost("mailbox-password", 16, hash, sizeof hash,
						 crypto_pwhash_OPSLIMIT_MIN,
						 crypto_pwhash_MEMLIMIT_MIN, &err), 0);
	assert_int_equal(store_domain_add(f->st, "example.com", &err), 0);
	assert_int_equal(store_mailbox_add(f->st, "alice", "example.com", hash, 0,
					   &f->id, &err), 0);
	f->jobs = jobs_new(2);
	f->au = auth_new_cost(f->st, f->jobs, crypto_pwhash_OPSLIMIT_MIN,
			      crypto_pwhash_MEMLIMIT_MIN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	auth_free(&f->au);
	jobs_free(&f->jobs);
	store_close(&f->st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

struct ap_seen {
	size_t n;
	struct store_app_password last;
};

static int collect(const struct store_app_password *ap, void *arg)
{
	struct ap_seen *s = arg;
	s->n++;
	s->last = *ap;
	return 0;
}

static void test_app_password_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct err err;
	struct auth_login a;
	char pw[AUTH_APP_PASSWORD_TEXT];
	int64_t apid;
	assert_int_equal(auth_app_password_create(f->st, "alice@example.com", "Phone",
						  pw, &apid, &err), 0);
	/* four groups of four lowercase letters */
	assert_int_equal(strlen(pw), 19);
	for (size_t i = 0; i < 19; i++)
		assert_true(i % 5 == 4 ? pw[i] == '-' : (pw[i] >= 'a' && pw[i] <= 'z'));

	login(f->au, "alice@example.com", pw, &a);
	assert_true(a.ok);
	assert_int_equal(a.app_password_id, apid);
	assert_int_equal(a.mailbox_id, f->id);
	/* typed without dashes, in capitals, with spaces: the same */
	char loose[AUTH_APP_PASSWORD_TEXT];
	for (size_t i = 0; i < 19; i++)
		loose[i] = pw[i] == '-' ? ' ' : (char)(pw[i] - 32);
	loose[19] = '\0';
	login(f->au, "alice@example.com", loose, &a);
	assert_true(a.ok);
	/* the mailbox password still works; a wrong app password does not */
	login(f->au, "alice@example.com", "mailbox-password", &a);
	assert_true(a.ok);
	assert_int_equal(a.app_password_id, 0);
	login(f->au, "alice@example.com", "abcd-efgh-ijkl-mnop", &a);
	assert_false(a.ok);
	/* another mailbox's app password is not this one's */
	login(f->au, "bob@example.com", pw, &a);
	assert_false(a.ok);

	/* last use, with the client's address, once the audit thread wrote */
	store_audit_flush(f->st);
	struct ap_seen seen = { 0 };
	assert_int_equal(store_app_password_each(f->st, "alice@example.com", collect,
						 &seen, &err), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.last.name, "Phone");
	assert_true(seen.last.last_used > 0);
	assert_string_equal(seen.last.last_ip, "192.0.2.7");
	assert_int_equal(seen.last.revoked, 0);

	/* revoked: refused at the very next login */
	assert_int_equal(store_app_password_revoke(f->st, "alice@example.com", apid, &err), 0);
	login(f->au, "alice@example.com", pw, &a);
	assert_false(a.ok);
	assert_int_equal(store_app_password_revoke(f->st, "alice@example.com", apid, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
	assert_int_equal(store_app_password_add(f->st, "alice@example.com", "bad\nname",
						(const unsigned char *)"0123456789abcdef0123456789abcdef",
						&apid, &err), -1);
	assert_int_equal(auth_app_password_create(f->st, "nobody@example.com", "x", pw,
						  &apid, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
}

static void test_domain_2fa(void **state)
{
	struct fixture *f = *state;
	struct err err;
	struct auth_login a;
	char pw[AUTH_APP_PASSWORD_TEXT];
	int64_t apid;
	assert_int_equal(auth_app_password_create(f->st, "alice@example.com", "Laptop",
						  pw, &apid, &err), 0);
	login(f->au, "alice@example.com", "mailbox-password", &a);
	assert_true(a.ok);		/* and now in the login cache */
	assert_int_equal(store_domain_set_2fa(f->st, "example.com", true, &err), 0);
	assert_int_equal(store_domain_2fa(f->st, "EXAMPLE.com", &err), 1);
	/* the cached mailbox password is refused too */
	login(f->au, "alice@example.com", "mailbox-password", &a);
	assert_false(a.ok);
	assert_true(a.app_password_required);
	login(f->au, "nobody@example.com", "whatever", &a);
	assert_false(a.ok);		/* unknown users look the same */
	assert_true(a.app_password_required);
	login(f->au, "alice@example.com", pw, &a);
	assert_true(a.ok);
	assert_false(a.app_password_required);
	assert_int_equal(store_domain_set_2fa(f->st, "example.com", false, &err), 0);
	login(f->au, "alice@example.com", "mailbox-password", &a);
	assert_true(a.ok);
	assert_int_equal(store_domain_set_2fa(f->st, "example.org", true, &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);
}

static void test_totp_store(void **state)
{
	struct fixture *f = *state;
	struct err err;
	char secret[64];
	assert_int_equal(auth_totp_verify(f->st, "alice@example.com", "123456",
					  time(NULL), &err), -1);
	assert_int_equal(err.kind, ERR_NOTFOUND);	/* not enabled */
	assert_int_equal(auth_totp_enable(f->st, "alice@example.com", secret,
					  sizeof secret, &err), 0);
	assert_int_equal(strlen(secret), 32);	/* 20 bytes */
	unsigned char key[32];
	size_t n;
	assert_int_equal(auth_base32_decode(secret, 32, key, sizeof key, &n), 0);
	assert_int_equal(n, AUTH_TOTP_SECRET_LEN);
	int64_t now = time(NULL);
	char code[8];
	snprintf(code, sizeof code, "%06u",
		 auth_totp_code(AUTH_TOTP_SHA1, key, n, (uint64_t)(now / 30), 6));
	assert_int_equal(auth_totp_verify(f->st, "alice@example.com", code, now, &err), 1);
	/* the same code again: a replay */
	assert_int_equal(auth_totp_verify(f->st, "alice@example.com", code, now, &err), 0);
	/* the previous step's code is older than the one taken: refused too */
	snprintf(code, sizeof code, "%06u",
		 auth_totp_code(AUTH_TOTP_SHA1, key, n, (uint64_t)(now / 30 - 1), 6));
	assert_int_equal(auth_totp_verify(f->st, "alice@example.com", code, now, &err), 0);
	snprintf(code, sizeof code, "%06u",
		 auth_totp_code(AUTH_TOTP_SHA1, key, n, (uint64_t)(now / 30 + 1), 6));
	assert_int_equal(auth_totp_verify(f->st, "alice@example.com", code, now, &err), 1);
	assert_int_equal(store_totp_set(f->st, "alice@example.com", "", &err), 0);
	assert_int_equal(auth_totp_verify(f->st, "alice@example.com", code, now, &err), -1);
}

static int count_kind(const struct store_audit_entry *e, void *arg)
{
	if (!strcmp(e->kind, "login.fail") && !strcmp(e->ip, "192.0.2.7"))
		(*(int *)arg)++;
	return 0;
}

static void tamper(const char *dir, const char *sql)
{
	char path[128];
	snprintf(path, sizeof path, "%s/petrel.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_audit_chain(void **state)
{
	struct fixture *f = *state;
	struct err err;
	struct auth_login a;
	int64_t bad;
	uint64_t n;
	char head[65];
	/* domain.add and mailbox.add are there from setup */
	login(f->au, "alice@example.com", "wrong\x01password", &a);
	login(f->au, "alice@example.com", "mailbox-password", &a);
	/* entries 3 and 4, in this order, and 5: the first login from
	 * 192.0.2.7 is flagged login.new_ip */
	store_audit_flush(f->st);
	assert_int_equal(store_audit_add(f->st, "test.kind", "subject", "", "a\nb", &err), 0);
	store_audit_flush(f->st);
	int fails = 0;
	assert_int_equal(store_audit_each(f->st, 0, count_kind, &fails, &err), 0);
	assert_int_equal(fails, 1);
	assert_int_equal(store_audit_verify(f->st, &bad, &n, head, &err), 0);
	assert_int_equal(n, 6);
	assert_int_equal(strlen(head), 64);

	/* an edited field */
	tamper(f->dir, "UPDATE audit SET ip = '198.51.100.1' WHERE id = 3");
	assert_int_equal(store_audit_verify(f->st, &bad, &n, head, &err), 1);
	assert_int_equal(bad, 3);
	assert_int_equal(n, 2);
	tamper(f->dir, "UPDATE audit SET ip = '192.0.2.7' WHERE id = 3");
	assert_int_equal(store_audit_verify(f->st, &bad, &n, head, &err), 0);
	/* an entry rehashed to fit breaks the next one's prev */
	/* (the first byte changed whatever it was: a time-dependent hash
	 * starts with 00 once in 256 runs) */
	tamper(f->dir, "UPDATE audit SET hash = CASE WHEN substr(hash, 1, 2) = '00' "
		       "THEN 'ff' ELSE '00' END || substr(hash, 3) WHERE id = 2");
	assert_int_equal(store_audit_verify(f->st, &bad, &n, head, &err), 1);
	assert_int_equal(bad, 2);
	/* a deleted entry */
	tamper(f->dir, "UPDATE audit SET hash = (SELECT prev FROM audit WHERE id = 3) "
		       "WHERE id = 2; DELETE FROM audit WHERE id = 4");
	assert_int_equal(store_audit_verify(f->st, &bad, &n, head, &err), 1);
	assert_int_equal(bad, 5);
}

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_rfc6238),
		cmocka_unit_test(test_totp_match),
		cmocka_unit_test(test_base32),
		cmocka_unit_test_setup_teardown(test_app_password_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_2fa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totp_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_chain, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
