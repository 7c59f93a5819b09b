/* test_dkim_keys.c - DKIM keys on a real store (a directory under /tmp):
 * keys made on first need, what the signer gets (keys that sign and
 * verify against the published p=), rotation by age at chosen times,
 * withdrawn and wiped keys, refusals, and the audit entries. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/log.h"
#include "msgauth/dkim_keys.h"
#include "../store/store_test_util.h"

#define DAY 86400
#define T0 ((int64_t)1790000000)	/* 2026-09-21 */

struct fx {
	char root[64];
	char dir[96];
	struct store *st;
	struct dkim_key_policy p;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->st = temp_store_open("dkim", f->root, sizeof f->root, f->dir,
				sizeof f->dir);
	struct err err;
	assert_int_equal(store_domain_add(f->st, "ex.test", &err), 0);
	f->p.rotate_every = 90 * DAY;
	f->p.publish_ahead = 7 * DAY;
	f->p.retire_after = 7 * DAY;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	temp_store_close(&f->st, f->root);
	free(f);
	return 0;
}

static size_t keys(struct fx *f, struct store_dkim_key **k)
{
	size_t n;
	struct err err;
	assert_int_equal(dkim_keys_list(f->st, "ex.test", k, &n, &err), 0);
	return n;
}

/* Sign with the signer's key, verify with the published p=. */
static void sign_verify(EVP_PKEY *priv, const struct store_dkim_key *k)
{
	unsigned char der[1024], sig[512];
	int n = EVP_DecodeBlock(der, (const unsigned char *)k->public_key,
				(int)strlen(k->public_key));
	assert_true(n > 0);
	EVP_PKEY *pub;
	bool ed = dkim_key_alg_of(k) == DKIM_ALG_ED25519;
	if (ed) {
		pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32);
	} else {
		const unsigned char *p = der;
		pub = d2i_PUBKEY(NULL, &p, n);
	}
	assert_non_null(pub);
	static const unsigned char msg[] = "a header hash";
	size_t siglen = sizeof sig;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(m, NULL, ed ? NULL : EVP_sha256(),
					    NULL, priv), 1);
	assert_int_equal(EVP_DigestSign(m, sig, &siglen, msg, sizeof msg), 1);
	EVP_MD_CTX_free(m);
	m = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(m, NULL, ed ? NULL : EVP_sha256(),
					      NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(m, sig, siglen, msg, sizeof msg), 1);
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(pub);
}

static void test_first_need_and_signer(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct dkim_signing_key sk[2];
	size_t n;
	assert_int_equal(dkim_keys_active(f->st, "nosuch.test", &f->p, T0, sk,
					  &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dkim_keys_active(f->st, "ex.test", &f->p, T0, sk, &n,
					  &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(sk[0].selector, "p202609a");
	assert_int_equal(sk[0].alg, DKIM_ALG_RSA);
	assert_string_equal(sk[1].selector, "e202609a");
	struct store_dkim_key *k;
	assert_int_equal(keys(f, &k), 2);
	sign_verify(sk[0].pkey, &k[0]);
	sign_verify(sk[1].pkey, &k[1]);
	dkim_signing_keys_free(sk, n);
	free(k);
	/* a second call makes nothing new */
	assert_int_equal(dkim_keys_ensure(f->st, "ex.test", T0 + 1, &err), 0);
	assert_int_equal(keys(f, &k), 2);
	free(k);
	/* keygen refuses what rotate is for */
	assert_int_equal(dkim_keys_generate(f->st, "ex.test", DKIM_ALG_RSA,
					    NULL, T0, T0, "dkim.keygen", NULL,
					    0, &err), -1);
	assert_int_equal(err.kind, ERR_PEER);
	assert_int_equal(dkim_keys_generate(f->st, "ex.test", DKIM_ALG_BOTH,
					    "s1", T0, T0, "dkim.keygen", NULL,
					    0, &err), -1);
}

static void test_rotation_by_age(void **state)
{
	struct fx *f = *state;
	struct err err;
	assert_int_equal(dkim_keys_ensure(f->st, "ex.test", T0, &err), 1);
	assert_int_equal(dkim_keys_due(f->st, "ex.test", &f->p, T0 + 89 * DAY,
				       &err), 0);
	int64_t t1 = T0 + 90 * DAY;
	assert_int_equal(dkim_keys_due(f->st, "ex.test", &f->p, t1, &err), 1);
	/* the signer starts the rotation and still signs with the old keys */
	struct dkim_signing_key sk[2];
	size_t n;
	assert_int_equal(dkim_keys_active(f->st, "ex.test", &f->p, t1, sk, &n,
					  &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(sk[0].selector, "p202609a");
	dkim_signing_keys_free(sk, n);
	assert_int_equal(dkim_keys_due(f->st, "ex.test", &f->p, t1, &err), 0);
	struct store_dkim_key *k;
	assert_int_equal(keys(f, &k), 4);
	assert_string_equal(k[2].selector, "p202612a");
	assert_int_equal(dkim_key_state(&k[2], t1), DKIM_KEY_NEXT);
	assert_int_equal(dkim_key_state(&k[0], t1 + 7 * DAY), DKIM_KEY_RETIRING);
	assert_int_equal(dkim_key_state(&k[2], t1 + 7 * DAY), DKIM_KEY_ACTIVE);
	assert_int_equal(dkim_key_state(&k[0], t1 + 14 * DAY), DKIM_KEY_RETIRED);
	free(k);
	/* after the publish-ahead time the new keys sign */
	assert_int_equal(dkim_keys_active(f->st, "ex.test", &f->p, t1 + 7 * DAY,
					  sk, &n, &err), 0);
	assert_string_equal(sk[0].selector, "p202612a");
	assert_string_equal(sk[1].selector, "e202612a");
	dkim_signing_keys_free(sk, n);
	/* a rotation once the old keys are retired wipes their private keys;
	 * the keys still waiting are withdrawn at once */
	int64_t t2 = t1 + 20 * DAY;
	assert_int_equal(dkim_keys_rotate(f->st, "ex.test", &f->p, false, t2,
					  NULL, 0, &err), 0);
	assert_int_equal(dkim_keys_rotate(f->st, "ex.test", &f->p, false,
					  t2 + 1, NULL, 0, &err), 0);
	assert_int_equal(keys(f, &k), 8);
	assert_false(k[0].has_private);
	assert_false(k[1].has_private);
	assert_int_equal(dkim_key_state(&k[4], t2 + 1), DKIM_KEY_RETIRED);
	assert_int_equal(dkim_key_state(&k[6], t2 + 1), DKIM_KEY_NEXT);
	assert_int_equal(dkim_key_state(&k[2], t2 + 1), DKIM_KEY_ACTIVE);
	assert_int_equal(k[2].retire_at, t2 + 1 + 7 * DAY);
	char pem[STORE_DKIM_PEM_MAX + 1];
	assert_int_equal(store_dkim_private(f->st, k[0].id, pem, sizeof pem,
					    &err), 0);
	assert_int_equal(store_dkim_private(f->st, k[2].id, pem, sizeof pem,
					    &err), 1);
	free(k);
}

static int count_audit(const struct store_audit_entry *e, void *arg)
{
	size_t *n = arg;
	assert_null(strstr(e->detail, "PRIVATE"));
	(*n)++;
	return 0;
}

static void test_audit(void **state)
{
	struct fx *f = *state;
	struct err err;
	assert_int_equal(dkim_keys_ensure(f->st, "ex.test", T0, &err), 1);
	assert_int_equal(dkim_keys_rotate(f->st, "ex.test", &f->p, true, T0 + 1,
					  NULL, 0, &err), 0);
	struct store_audit_filter flt = { .kind = "dkim" };
	size_t n = 0;
	bool more;
	assert_int_equal(store_audit_query(f->st, &flt, count_audit, &n, &more,
					   &err), 0);
	assert_int_equal(n, 4);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_need_and_signer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_by_age, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
