/* test_tls_check.c - certificate checks on certificates made here with
 * OpenSSL: good, expired, not yet valid, expiring soon, wrong host,
 * wildcard and CN-only names, a key that does not match, a missing file,
 * and a chain whose intermediate is left out of the file. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "net/tls_check.h"

static char dir[64];

struct found {
	char text[4096];
};

static void collect(void *arg, enum tls_check_level level, const char *line)
{
	struct found *f = arg;
	size_t n = strlen(f->text);
	snprintf(f->text + n, sizeof f->text - n, "%d %s\n", (int)level, line);
}

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_true(X509_add_ext(cert, ext, -1));
	X509_EXTENSION_free(ext);
}

/* A certificate for cn (and san, if not NULL) valid from now+from to
 * now+until seconds, signed by issuer/ikey (itself when NULL). */
static X509 *new_cert(const char *cn, const char *san, EVP_PKEY *key,
		      X509 *issuer, EVP_PKEY *ikey, long from, long until, bool ca)
{
	static long serial = 1;
	X509 *c = X509_new();
	assert_non_null(c);
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
	X509_gmtime_adj(X509_getm_notBefore(c), from);
	X509_gmtime_adj(X509_getm_notAfter(c), until);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(issuer ? issuer : c));
	X509_set_pubkey(c, key);
	add_ext(c, issuer ? issuer : c, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (san)
		add_ext(c, issuer ? issuer : c, NID_subject_alt_name, san);
	assert_true(X509_sign(c, ikey ? ikey : key, EVP_sha256()) > 0);
	return c;
}

static const char *write_file(const char *name, X509 *c1, X509 *c2, EVP_PKEY *key)
{
	static char paths[8][128];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 128, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	if (c1)
		assert_true(PEM_write_X509(f, c1));
	if (c2)
		assert_true(PEM_write_X509(f, c2));
	if (key)
		assert_true(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	return p;
}

#define DAY 86400L

static enum tls_check_level check_self(const char *cn, const char *san, long from,
				       long until, const char *host, struct found *f)
{
	EVP_PKEY *k = new_key();
	X509 *c = new_cert(cn, san, k, NULL, NULL, from, until, false);
	const char *cp = write_file("cert.pem", c, NULL, NULL);
	const char *kp = write_file("key.pem", NULL, NULL, k);
	memset(f, 0, sizeof *f);
	enum tls_check_level l = tls_check_files(cp, kp, host, collect, f);
	X509_free(c);
	EVP_PKEY_free(k);
	return l;
}

static void test_good_self_signed(void **state)
{
	(void)state;
	struct found f;
	assert_int_equal(check_self("mail.example.com", "DNS:mail.example.com", -DAY, 365 * DAY + 60,
				    "mail.example.com", &f), TLS_CHECK_WARN);
	assert_non_null(strstr(f.text, "0 "));
	assert_non_null(strstr(f.text, "(365 days) subject=\"CN=mail.example.com\" issuer=\"CN=mail.example.com\""));
	assert_non_null(strstr(f.text, "self-signed"));
	assert_null(strstr(f.text, "does not cover"));
	assert_null(strstr(f.text, "2 "));
}

static void test_expired(void **state)
{
	(void)state;
	struct found f;
	assert_int_equal(check_self("mail.example.com", NULL, -30 * DAY, -DAY,
				    "mail.example.com", &f), TLS_CHECK_ERROR);
	assert_non_null(strstr(f.text, "error: certificate expired on "));
}

static void test_not_yet_valid(void **state)
{
	(void)state;
	struct found f;
	assert_int_equal(check_self("mail.example.com", NULL, 2 * DAY, 30 * DAY,
				    "mail.example.com", &f), TLS_CHECK_ERROR);
	assert_non_null(strstr(f.text, "error: certificate is not valid before "));
}

static void test_expiring_soon(void **state)
{
	(void)state;
	struct found f;
	assert_int_equal(check_self("mail.example.com", NULL, -DAY, 10 * DAY + 60,
				    "mail.example.com", &f), TLS_CHECK_WARN);
	assert_non_null(strstr(f.text, "warning: certificate expires on "));
	assert_non_null(strstr(f.text, "in 10 days"));
}

static void test_host_names(void **state)
{
	(void)state;
	struct found f;
	check_self("mail.example.com", "DNS:mail.example.com", -DAY, 90 * DAY, "other.example", &f);
	assert_non_null(strstr(f.text, "does not cover the name other.example"));
	check_self("x", "DNS:*.example.com", -DAY, 90 * DAY, "imap.example.com", &f);
	assert_null(strstr(f.text, "does not cover"));
	check_self("x", "DNS:*.example.com", -DAY, 90 * DAY, "a.b.example.com", &f);
	assert_non_null(strstr(f.text, "does not cover"));
	/* CN counts only when there is no DNS name in the SAN. */
	check_self("mail.example.com", NULL, -DAY, 90 * DAY, "mail.example.com", &f);
	assert_null(strstr(f.text, "does not cover"));
	check_self("mail.example.com", "DNS:other.example", -DAY, 90 * DAY, "mail.example.com", &f);
	assert_non_null(strstr(f.text, "does not cover"));
}

static void test_key_mismatch_and_missing(void **state)
{
	(void)state;
	struct found f = { "" };
	EVP_PKEY *k = new_key(), *other = new_key();
	X509 *c = new_cert("m.example", NULL, k, NULL, NULL, -DAY, 90 * DAY, false);
	const char *cp = write_file("cert.pem", c, NULL, NULL);
	const char *kp = write_file("other.pem", NULL, NULL, other);
	assert_int_equal(tls_check_files(cp, kp, NULL, collect, &f), TLS_CHECK_ERROR);
	assert_non_null(strstr(f.text, "other.pem: error: the key does not match the certificate"));
	memset(&f, 0, sizeof f);
	char missing[128];
	snprintf(missing, sizeof missing, "%s/nope.pem", dir);
	assert_int_equal(tls_check_files(missing, kp, NULL, collect, &f), TLS_CHECK_ERROR);
	assert_non_null(strstr(f.text, "nope.pem: error: cannot read the certificate: No such file"));
	memset(&f, 0, sizeof f);
	assert_int_equal(tls_check_files(cp, missing, NULL, collect, &f), TLS_CHECK_ERROR);
	assert_non_null(strstr(f.text, "nope.pem: error: cannot read the private key"));
	X509_free(c);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void test_chain_missing_intermediate(void **state)
{
	(void)state;
	struct found f = { "" };
	EVP_PKEY *rk = new_key(), *ik = new_key(), *lk = new_key();
	X509 *root = new_cert("Petrel Test Root", NULL, rk, NULL, NULL, -DAY, 900 * DAY, true);
	X509 *inter = new_cert("Petrel Test Intermediate", NULL, ik, root, rk, -DAY, 900 * DAY, true);
	X509 *leaf = new_cert("mail.example.com", "DNS:mail.example.com", lk, inter, ik,
			      -DAY, 90 * DAY, false);
	const char *kp = write_file("leaf.key", NULL, NULL, lk);
	const char *cp = write_file("leaf-only.pem", leaf, NULL, NULL);
	assert_int_equal(tls_check_files(cp, kp, "mail.example.com", collect, &f), TLS_CHECK_WARN);
	assert_non_null(strstr(f.text, "chain incomplete: the issuer 'CN=Petrel Test Intermediate'"));
	/* With the intermediate in the file the chain stops at the root,
	 * which is not in the system store. */
	memset(&f, 0, sizeof f);
	cp = write_file("leaf-inter.pem", leaf, inter, NULL);
	assert_int_equal(tls_check_files(cp, kp, "mail.example.com", collect, &f), TLS_CHECK_WARN);
	assert_null(strstr(f.text, "Intermediate'"));
	assert_non_null(strstr(f.text, "'CN=Petrel Test Root'"));
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/petrel-tlscheck-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_self_signed),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_not_yet_valid),
		cmocka_unit_test(test_expiring_soon),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_key_mismatch_and_missing),
		cmocka_unit_test(test_chain_missing_intermediate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
