/* test_scram.c - cmocka tests of src/auth/scram.c: the RFC 7677 example
 * exchange byte for byte, stored secrets made and read back, the mock
 * secret for unknown users, and client messages that must be refused.
 * Inputs are exactly sized heap copies so that ASan sees any overread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"
#include "store/store.h"

static unsigned char *exact(const char *s, size_t *len)
{
	*len = strlen(s);
	unsigned char *p = malloc(*len ? *len : 1);
	assert_non_null(p);
	memcpy(p, s, *len);
	return p;
}

static enum auth_sasl_result first(struct auth_scram *sc, const char *msg)
{
	size_t len;
	unsigned char *p = exact(msg, &len);
	enum auth_sasl_result rc = auth_scram_client_first(sc, p, len);
	free(p);
	return rc;
}

static enum auth_sasl_result final(struct auth_scram *sc, const char *msg,
				   bool *ok, char *out, size_t outsz)
{
	size_t len;
	unsigned char *p = exact(msg, &len);
	enum auth_sasl_result rc = auth_scram_client_final(sc, p, len, ok, out, outsz);
	free(p);
	return rc;
}

static char *unb64(const char *in)
{
	static char out[1024];
	size_t n;
	assert_int_equal(sodium_base642bin((unsigned char *)out, sizeof out - 1, in,
					   strlen(in), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	out[n] = '\0';
	return out;
}

#define RFC_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SERVER_FIRST "r=" RFC_CNONCE RFC_SNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_FINAL "c=biws,r=" RFC_CNONCE RFC_SNONCE \
	",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="

static void rfc_setup(struct auth_scram *sc)
{
	static const char salt64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
	unsigned char salt[32];
	size_t salt_len;
	char out[1024];
	memset(sc, 0, sizeof *sc);
	assert_int_equal(first(sc, "n,,n=user,r=" RFC_CNONCE), AUTH_SASL_OK);
	assert_string_equal(sc->user, "user");
	assert_int_equal(sodium_base642bin(salt, sizeof salt, salt64, strlen(salt64),
					   NULL, &salt_len, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(auth_scram_secret_derive("pencil", 6, salt, salt_len, 4096,
						  &sc->secret), 0);
	assert_int_equal(auth_scram_server_first_nonce(sc, RFC_SNONCE, strlen(RFC_SNONCE),
						       out, sizeof out), 0);
	assert_string_equal(unb64(out), RFC_SERVER_FIRST);
}

/* RFC 7677 3: the example exchange, with its proof and signature */
static void test_rfc7677_example(void **state)
{
	(void)state;
	struct auth_scram sc;
	char out[256];
	bool ok;
	rfc_setup(&sc);
	assert_int_equal(final(&sc, RFC_FINAL, &ok, out, sizeof out), AUTH_SASL_OK);
	assert_true(ok);
	assert_string_equal(unb64(out), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

static void test_wrong_proof_and_nonce(void **state)
{
	(void)state;
	struct auth_scram sc;
	char out[256];
	bool ok = true;
	rfc_setup(&sc);
	/* one bit of the proof changed */
	assert_int_equal(final(&sc, "c=biws,r=" RFC_CNONCE RFC_SNONCE
			       ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU=",
			       &ok, out, sizeof out), AUTH_SASL_OK);
	assert_false(ok);
	/* the client's nonce without ours, another channel binding, no
	 * proof, the proof not last, a short proof, trailing bytes */
	static const char *const bad[] = {
		"c=biws,r=" RFC_CNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=eSws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=" RFC_CNONCE RFC_SNONCE,
		"c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
		"c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzb",
		"c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,",
		"r=" RFC_CNONCE RFC_SNONCE ",c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ok = true;
		assert_int_equal(final(&sc, bad[i], &ok, out, sizeof out), AUTH_SASL_MALFORMED);
		assert_false(ok);
	}
}

static void test_client_first(void **state)
{
	(void)state;
	struct auth_scram sc;
	memset(&sc, 0, sizeof sc);
	assert_int_equal(first(&sc, "n,,n=a=2Cb=3Dc@example.test,r=abc"), AUTH_SASL_OK);
	assert_string_equal(sc.user, "a,b=c@example.test");
	memset(&sc, 0, sizeof sc);
	assert_int_equal(first(&sc, "y,a=u@x.test,n=u@x.test,r=abc,ext=1"), AUTH_SASL_OK);
	memset(&sc, 0, sizeof sc);
	assert_int_equal(first(&sc, "n,a=other@x.test,n=u@x.test,r=abc"), AUTH_SASL_AUTHZ);
	static const char *const bad[] = {
		"p=tls-unique,,n=u,r=abc",	/* channel binding */
		"n,,m=ext,n=u,r=abc",		/* mandatory extension */
		"n,,n=,r=abc",
		"n,,n=a=b,r=abc",		/* '=' not escaped */
		"n,,n=a=2,r=abc",
		"n,,n=u,r=",
		"n,,n=u,r=a b",
		"n,,n=u",
		"n,,r=abc,n=u",
		"n,n=u,r=abc",
		"x,,n=u,r=abc",
		"n",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		memset(&sc, 0, sizeof sc);
		assert_int_equal(first(&sc, bad[i]), AUTH_SASL_MALFORMED);
	}
	/* a message longer than the bound */
	char big[AUTH_SCRAM_MSG_MAX + 20];
	memset(big, 'a', sizeof big - 1);
	memcpy(big, "n,,n=u,r=", 9);
	big[sizeof big - 1] = '\0';
	memset(&sc, 0, sizeof sc);
	assert_int_equal(first(&sc, big), AUTH_SASL_MALFORMED);
	/* a NUL inside */
	memset(&sc, 0, sizeof sc);
	assert_int_equal(auth_scram_client_first(&sc, (const unsigned char *)"n,,n=u\0,r=abc", 14),
			 AUTH_SASL_MALFORMED);
}

static void test_secret_text(void **state)
{
	(void)state;
	char text[AUTH_SCRAM_SECRET_MAX];
	struct err err;
	struct auth_scram_secret s, again;
	assert_int_equal(auth_scram_secret_make("pencil", 6, 4096, text, sizeof text, &err), 0);
	assert_non_null(strstr(text, "SCRAM-SHA-256$4096:"));
	assert_null(strstr(text, "pencil"));
	assert_int_equal(auth_scram_secret_parse(text, &s), 0);
	assert_int_equal(s.iterations, 4096);
	assert_int_equal(s.salt_len, AUTH_SCRAM_SALT_LEN);
	assert_int_equal(auth_scram_secret_derive("pencil", 6, s.salt, s.salt_len, 4096, &again), 0);
	assert_memory_equal(s.stored_key, again.stored_key, AUTH_SCRAM_KEY_LEN);
	assert_memory_equal(s.server_key, again.server_key, AUTH_SCRAM_KEY_LEN);
	/* fewer rounds than RFC 7677 asks are refused */
	assert_int_equal(auth_scram_secret_make("pencil", 6, 4095, text, sizeof text, &err), -1);
	static const char *const bad[] = {
		"", "SCRAM-SHA-256$", "SCRAM-SHA-1$4096:c2FsdA==$AAAA:AAAA",
		"SCRAM-SHA-256$4095:c2FsdA==$"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
		"SCRAM-SHA-256$4096:$"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"SCRAM-SHA-256$4096:c2FsdA==$"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=x",
		"$argon2id$v=19$m=65536,t=2,p=1$abc$def",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(auth_scram_secret_parse(bad[i], &s), -1);
}

static void test_mock_is_stable(void **state)
{
	(void)state;
	unsigned char key[32] = { 1, 2, 3 };
	struct auth_scram_secret a, b, c;
	auth_scram_mock(key, sizeof key, "Ghost@Example.TEST", &a);
	auth_scram_mock(key, sizeof key, "ghost@example.test", &b);
	auth_scram_mock(key, sizeof key, "other@example.test", &c);
	assert_int_equal(a.iterations, AUTH_SCRAM_ITERATIONS);
	assert_int_equal(a.salt_len, AUTH_SCRAM_SALT_LEN);
	assert_memory_equal(a.salt, b.salt, a.salt_len);
	assert_memory_equal(a.stored_key, b.stored_key, AUTH_SCRAM_KEY_LEN);
	assert_memory_not_equal(a.salt, c.salt, a.salt_len);
}

/* auth_scram_lookup over a real store: a mailbox with a stored secret,
 * one without (made before SCRAM), an unknown user; the mock key stays
 * the same across a reopen. */
static void test_lookup(void **state)
{
	(void)state;
	char dir[] = "/tmp/petrel-scram-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct store *st;
	struct err err;
	assert_int_equal(auth_init(&err), 0);
	assert_int_equal(store_open(dir, &st, &err), 0);
	assert_int_equal(store_domain_add(st, "example.com", &err), 0);
	int64_t alice, bob;
	assert_int_equal(store_mailbox_add(st, "alice", "example.com", "h", 0, &alice, &err), 0);
	assert_int_equal(store_mailbox_add(st, "bob", "example.com", "h", 0, &bob, &err), 0);
	assert_int_equal(auth_scram_store(st, alice, "pencil", 6, &err), 0);
	assert_int_equal(store_mailbox_set_scram(st, 999999, "x", &err), -1);
	struct auth *au = auth_new_cost(st, NULL, 1, 8192);
	struct auth_scram *sc = calloc(1, sizeof *sc);
	assert_non_null(sc);

	snprintf(sc->user, sizeof sc->user, "Alice@EXAMPLE.com");
	assert_int_equal(auth_scram_lookup(au, sc), 0);
	assert_true(sc->real);
	assert_true(sc->enabled);
	assert_int_equal(sc->mailbox_id, alice);
	assert_string_equal(sc->address, "alice@example.com");
	struct auth_scram_secret check;
	assert_int_equal(auth_scram_secret_derive("pencil", 6, sc->secret.salt,
						  sc->secret.salt_len, 4096, &check), 0);
	assert_memory_equal(check.stored_key, sc->secret.stored_key, AUTH_SCRAM_KEY_LEN);

	snprintf(sc->user, sizeof sc->user, "bob@example.com");
	assert_int_equal(auth_scram_lookup(au, sc), 0);
	assert_false(sc->real);
	assert_int_equal(sc->mailbox_id, bob);

	snprintf(sc->user, sizeof sc->user, "ghost@example.com");
	assert_int_equal(auth_scram_lookup(au, sc), 0);
	assert_false(sc->real);
	assert_int_equal(sc->mailbox_id, 0);
	assert_int_equal(sc->secret.salt_len, AUTH_SCRAM_SALT_LEN);
	unsigned char salt[64];
	memcpy(salt, sc->secret.salt, sizeof salt);

	auth_free(&au);
	store_close(&st);
	assert_int_equal(store_open(dir, &st, &err), 0);
	au = auth_new_cost(st, NULL, 1, 8192);
	assert_int_equal(auth_scram_lookup(au, sc), 0);
	assert_memory_equal(salt, sc->secret.salt, AUTH_SCRAM_SALT_LEN);
	free(sc);
	auth_free(&au);
	store_close(&st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7677_example),
		cmocka_unit_test(test_wrong_proof_and_nonce),
		cmocka_unit_test(test_client_first),
		cmocka_unit_test(test_secret_text),
		cmocka_unit_test(test_mock_is_stable),
		cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
