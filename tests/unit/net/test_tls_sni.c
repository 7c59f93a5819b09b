/* test_tls_sni.c - the SNI name table: exact names, case, "*.domain" for
 * one label only, the default for everything else, and the table going
 * away with its context (ASan sees the frees). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "net/tls_sni.h"

static void test_lookup(void **state)
{
	(void)state;
	SSL_CTX *dflt = SSL_CTX_new(TLS_server_method());
	SSL_CTX *a = SSL_CTX_new(TLS_server_method());
	SSL_CTX *w = SSL_CTX_new(TLS_server_method());
	assert_true(dflt && a && w);
	assert_ptr_equal(net_tls_sni_lookup(dflt, "mail.a.example"), dflt);
	const char *names[] = { "mail.a.example", "*.b.example" };
	SSL_CTX *ctxs[] = { a, w };
	assert_int_equal(net_tls_sni_attach(dflt, names, ctxs, 2, NULL), 0);
	assert_ptr_equal(net_tls_sni_lookup(dflt, "mail.a.example"), a);
	assert_ptr_equal(net_tls_sni_lookup(dflt, "MAIL.A.Example"), a);
	assert_ptr_equal(net_tls_sni_lookup(dflt, "a.example"), dflt);
	assert_ptr_equal(net_tls_sni_lookup(dflt, "x.mail.a.example"), dflt);
	assert_ptr_equal(net_tls_sni_lookup(dflt, "imap.b.example"), w);
	assert_ptr_equal(net_tls_sni_lookup(dflt, "b.example"), dflt);
	assert_ptr_equal(net_tls_sni_lookup(dflt, "x.imap.b.example"), dflt);
	assert_ptr_equal(net_tls_sni_lookup(dflt, ".b.example"), dflt);
	assert_ptr_equal(net_tls_sni_lookup(dflt, ""), dflt);
	char longname[400];
	for (size_t i = 0; i < sizeof longname - 1; i++)
		longname[i] = 'a';
	longname[sizeof longname - 1] = '\0';
	assert_ptr_equal(net_tls_sni_lookup(dflt, longname), dflt);
	/* a and w belong to dflt's table now */
	SSL_CTX_free(dflt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
