/* test_msgauth_seal.c - sealing a forwarded message (msgauth_seal.c):
 * the set made with the hosted domain's RSA key validates against its
 * published record, its AAR is our Authentication-Results on one line,
 * the domains are tried in order, and what is not sealed says why. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "msgauth/dkim_keys.h"
#include "msgauth/ma_zone.h"
#include "msgauth/msgauth_svc.h"
#include "../store/store_test_util.h"

#define T0 ((int64_t)1790000000)

static const char msg[] = "From: <ann@sender.test>\r\nTo: <fwd@fwd.test>\r\n"
			  "Subject: hi\r\n\r\nhello\r\n";
static const char ar[] = "Authentication-Results: mx.petrel.test;\r\n"
			 "\tspf=pass smtp.mailfrom=ann@sender.test;\r\n"
			 "\tdkim=none\r\n";

struct fx {
	char root[64];
	char dir[96];
	struct store *st;
	struct dkim_key_policy p;
	struct msgauth_in in;
	struct msgauth_out out;
	struct msgauth_sealed sealed;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->st = temp_store_open("seal", f->root, sizeof f->root, f->dir,
				sizeof f->dir);
	struct err err;
	assert_int_equal(store_domain_add(f->st, "fwd.test", &err), 0);
	f->in.msg = msg;
	f->in.len = sizeof msg - 1;
	f->in.now = (time_t)T0;
	memcpy(f->out.ar, ar, sizeof ar - 1);
	f->out.ar_len = sizeof ar - 1;
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

/* The ARC chain status of the sealed message, with fwd.test's keys in
 * the zone. */
static enum arc_cv validate(struct fx *f, struct arc_result *r)
{
	struct store_dkim_key *k = NULL;
	size_t n = 0;
	struct err err;
	assert_int_equal(dkim_keys_list(f->st, "fwd.test", &k, &n, &err), 0);
	struct ma_zone *z = ma_zone_new();
	for (size_t i = 0; i < n; i++) {
		char txt[2048], val[2100], name[128];
		assert_int_equal(dkim_key_txt(&k[i], txt, sizeof txt), 0);
		snprintf(val, sizeof val, "\"%s\"", txt);
		snprintf(name, sizeof name, "%s._domainkey.fwd.test", k[i].selector);
		assert_int_equal(ma_zone_add(z, name, "TXT", val, &err), 0);
	}
	free(k);
	struct ma_dns dns;
	ma_zone_dns(z, &dns);
	size_t len = f->sealed.len + f->in.len;
	char *m = malloc(len);
	assert_non_null(m);
	memcpy(m, f->sealed.fields, f->sealed.len);
	memcpy(m + f->sealed.len, f->in.msg, f->in.len);
	assert_int_equal(arc_verify(m, len, &dns, f->in.now, r, &err), 0);
	free(m);
	ma_zone_free(&z);
	return r->cv;
}

static void test_sealed_as_first_hosted_domain(void **state)
{
	struct fx *f = *state;
	const char *domains[2] = { "elsewhere.test", "fwd.test" };
	msgauth_seal(f->st, &f->p, domains, 2, &f->in, &f->out, &f->sealed);
	assert_true(f->sealed.len > 0);
	assert_string_equal(f->sealed.domain, "fwd.test");
	assert_int_equal(f->sealed.instance, 1);
	assert_true(f->sealed.selector[0] == 'p');	/* RSA, not Ed25519 */
	/* ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results */
	const char *s = f->sealed.fields;
	assert_true(strncmp(s, "ARC-Seal: ", 10) == 0);
	assert_non_null(strstr(s, "cv=none"));
	assert_non_null(strstr(s, "\r\nARC-Message-Signature: "));
	const char *aar = strstr(s, "\r\nARC-Authentication-Results: i=1; "
				 "mx.petrel.test; spf=pass");
	assert_non_null(aar);
	assert_non_null(strstr(aar, "smtp.mailfrom=ann@sender.test; dkim=none\r\n"));
	struct arc_result r;
	assert_int_equal(validate(f, &r), ARC_PASS);
	assert_int_equal(r.sets, 1);
	assert_string_equal(r.d, "fwd.test");
}

static void test_not_sealed_says_why(void **state)
{
	struct fx *f = *state;
	const char *none[2] = { "elsewhere.test", "" };
	msgauth_seal(f->st, &f->p, none, 2, &f->in, &f->out, &f->sealed);
	assert_int_equal(f->sealed.len, 0);
	assert_string_equal(f->sealed.why, "elsewhere.test is not hosted here");
	const char *empty[2] = { NULL, "" };
	msgauth_seal(f->st, &f->p, empty, 2, &f->in, &f->out, &f->sealed);
	assert_string_equal(f->sealed.why, "no recipient domain");

	const char *ours[1] = { "fwd.test" };
	msgauth_seal(NULL, &f->p, ours, 1, &f->in, &f->out, &f->sealed);
	assert_string_equal(f->sealed.why, "no key store");

	/* a chain that failed on DNS trouble is not ended by our cv=fail */
	f->out.arc.sets = 1;
	f->out.arc.cv = ARC_FAIL;
	f->out.arc.temporary = true;
	msgauth_seal(f->st, &f->p, ours, 1, &f->in, &f->out, &f->sealed);
	assert_int_equal(f->sealed.len, 0);
	assert_string_equal(f->sealed.why, "arc chain temperror");

	/* the chain the checks saw must be the message's: none here */
	f->out.arc.temporary = false;
	msgauth_seal(f->st, &f->p, ours, 1, &f->in, &f->out, &f->sealed);
	assert_int_equal(f->sealed.len, 0);
	assert_non_null(strstr(f->sealed.why, "cv does not fit"));

	f->out.arc.sets = 0;
	f->out.ar_len = 0;
	msgauth_seal(f->st, &f->p, ours, 1, &f->in, &f->out, &f->sealed);
	assert_string_equal(f->sealed.why, "no Authentication-Results");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sealed_as_first_hosted_domain,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_sealed_says_why, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
