/* test_arc.c - ARC sealing and validation round trips the ValiMail suite
 * does not reach: several hops with Ed25519 and RSA keys, oldest-pass
 * after a change in transit, the set limit (ARC_MAX_SETS sets, then the
 * chain is full), refusals (cv that does not fit, an ended chain), DNS
 * failures, and broken structure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "msgauth/arc.h"
#include "msgauth/ma_zone.h"

struct keys {
	EVP_PKEY *ed, *rsa;
	struct ma_zone *z;
	struct ma_dns dns;
};

static char *b64(const unsigned char *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static int setup(void **state)
{
	struct keys *k = calloc(1, sizeof *k);
	unsigned char raw[32], *der = NULL;
	size_t n = sizeof raw;
	struct err err;
	char rec[1024];

	k->ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	k->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	assert_non_null(k->ed);
	assert_non_null(k->rsa);
	k->z = ma_zone_new();
	assert_int_equal(EVP_PKEY_get_raw_public_key(k->ed, raw, &n), 1);
	char *p = b64(raw, n);
	snprintf(rec, sizeof rec, "\"v=DKIM1; k=ed25519; p=%s\"", p);
	free(p);
	assert_int_equal(ma_zone_add(k->z, "ed._domainkey.hop.example", "TXT", rec, &err), 0);
	int dl = i2d_PUBKEY(k->rsa, &der);
	p = b64(der, (size_t)dl);
	OPENSSL_free(der);
	snprintf(rec, sizeof rec, "\"v=DKIM1; p=%s\"", p);
	free(p);
	assert_int_equal(ma_zone_add(k->z, "rsa._domainkey.hop.example", "TXT", rec, &err), 0);
	assert_int_equal(ma_zone_add(k->z, "slow._domainkey.hop.example", "TIMEOUT", "", &err), 0);
	ma_zone_dns(k->z, &k->dns);
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	struct keys *k = *state;
	EVP_PKEY_free(k->ed);
	EVP_PKEY_free(k->rsa);
	ma_zone_free(&k->z);
	free(k);
	return 0;
}

static const char *MSG =
	"From: a@example.com\r\n"
	"To: list@example.org\r\n"
	"Subject: arc\r\n"
	"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
	"\r\n"
	"Hello.\r\n";

static struct arc_result verify(struct keys *k, const char *msg)
{
	struct arc_result r;
	struct err err;
	assert_int_equal(arc_verify(msg, strlen(msg), &k->dns, 2000000000, &r, &err), 0);
	return r;
}

/* Seal msg (freed) and return the sealed message; NULL when rc is 0. */
static char *seal(struct keys *k, char *msg, const char *sel, enum arc_cv cv, int want_rc)
{
	struct arc_seal_opts o = {
		.domain = "hop.example", .selector = sel,
		.key = strcmp(sel, "rsa") == 0 ? k->rsa : k->ed,
		.t = 1700000000, .aar = "hop.example; spf=pass smtp.mailfrom=example.com",
		.cv = cv,
	};
	struct err err;
	char *fields = NULL;
	int rc = arc_seal(msg, strlen(msg), &o, &fields, &err);
	assert_int_equal(rc, want_rc);
	if (rc != 1) {
		assert_null(fields);
		free(msg);
		return NULL;
	}
	size_t fl = strlen(fields), ml = strlen(msg);
	char *out = malloc(fl + ml + 1);
	memcpy(out, fields, fl);
	memcpy(out + fl, msg, ml + 1);
	free(fields);
	free(msg);
	return out;
}

static void test_no_chain(void **state)
{
	struct arc_result r = verify(*state, MSG);
	assert_int_equal(r.cv, ARC_NONE);
	assert_int_equal(r.sets, 0);
}

static void test_three_hops(void **state)
{
	struct keys *k = *state;
	char *m = seal(k, strdup(MSG), "ed", ARC_NONE, 1);
	struct arc_result r = verify(k, m);
	assert_int_equal(r.cv, ARC_PASS);
	assert_int_equal(r.sets, 1);
	assert_int_equal(r.oldest_pass, 1);
	assert_string_equal(r.d, "hop.example");
	m = seal(k, m, "rsa", ARC_PASS, 1);
	m = seal(k, m, "ed", ARC_PASS, 1);
	r = verify(k, m);
	assert_int_equal(r.cv, ARC_PASS);
	assert_int_equal(r.sets, 3);
	assert_int_equal(r.oldest_pass, 1);
	assert_string_equal(r.s, "ed");
	/* the same chain read with LF line ends */
	char *lf = malloc(strlen(m) + 1);
	size_t n = 0;
	for (const char *p = m; *p; p++)
		if (*p != '\r')
			lf[n++] = *p;
	lf[n] = '\0';
	assert_int_equal(verify(k, lf).cv, ARC_PASS);
	free(lf);
	free(m);
}

static void test_oldest_pass(void **state)
{
	struct keys *k = *state;
	char *m = seal(k, strdup(MSG), "ed", ARC_NONE, 1);
	/* a list rewrites the subject, then seals: AMS(1) no longer verifies */
	char *subj = strstr(m, "Subject: arc");
	subj[9] = 'A';
	m = seal(k, m, "rsa", ARC_PASS, 1);
	struct arc_result r = verify(k, m);
	assert_int_equal(r.cv, ARC_PASS);
	assert_int_equal(r.oldest_pass, 2);
	/* a change after the last hop breaks the newest AMS: fail */
	char *body = strstr(m, "Hello.");
	body[0] = 'J';
	r = verify(k, m);
	assert_int_equal(r.cv, ARC_FAIL);
	assert_non_null(strstr(r.reason, "ARC-Message-Signature i=2"));
	assert_int_equal(r.oldest_pass, 0);
	/* sealing what we found failed: cv=fail ends the chain */
	m = seal(k, m, "ed", ARC_FAIL, 1);
	r = verify(k, m);
	assert_int_equal(r.cv, ARC_FAIL);
	assert_string_equal(r.reason, "the newest ARC-Seal says cv=fail");
	assert_null(seal(k, m, "ed", ARC_FAIL, 0));
}

static void test_seal_refusals(void **state)
{
	struct keys *k = *state;
	struct err err;
	char *fields = NULL;
	struct arc_seal_opts o = { .domain = "hop.example", .selector = "ed", .key = k->ed,
				   .aar = "hop.example; none", .cv = ARC_PASS };
	assert_int_equal(arc_seal(MSG, strlen(MSG), &o, &fields, &err), -1);	/* no chain */
	o.cv = ARC_NONE;
	o.aar = "hop.example;\r\n x=y";
	assert_int_equal(arc_seal(MSG, strlen(MSG), &o, &fields, &err), -1);	/* CRLF */
	o.aar = "hop.example; none";
	o.key = NULL;
	assert_int_equal(arc_seal(MSG, strlen(MSG), &o, &fields, &err), -1);
	o.key = k->ed;
	o.headers = "to:subject";
	assert_int_equal(arc_seal(MSG, strlen(MSG), &o, &fields, &err), -1);	/* no From */
	assert_null(fields);
	char *m = seal(k, strdup(MSG), "ed", ARC_NONE, 1);
	assert_null(seal(k, strdup(m), "ed", ARC_NONE, -1));	/* none on a chain */
	free(m);
}

static void test_dns_failure(void **state)
{
	struct keys *k = *state;
	char *m = seal(k, strdup(MSG), "ed", ARC_NONE, 1);
	/* point the seal at a selector whose lookups time out */
	m = realloc(m, strlen(m) + 3);
	char *s = strstr(m, "s=ed");
	assert_non_null(s);
	memmove(s + 6, s + 4, strlen(s + 4) + 1);
	memcpy(s, "s=slow", 6);
	struct arc_result r = verify(k, m);
	assert_int_equal(r.cv, ARC_FAIL);
	assert_true(r.temporary);
	free(m);
}

static void test_set_limit(void **state)
{
	struct keys *k = *state;
	char *m = strdup(MSG);
	for (unsigned i = 1; i <= ARC_MAX_SETS; i++)
		m = seal(k, m, "ed", i == 1 ? ARC_NONE : ARC_PASS, 1);
	struct arc_result r = verify(k, m);
	assert_int_equal(r.cv, ARC_PASS);
	assert_int_equal(r.sets, ARC_MAX_SETS);
	/* the chain is full: nothing more may be added */
	char *copy = strdup(m);
	assert_null(seal(k, copy, "ed", ARC_PASS, 0));
	/* a set numbered past the limit is a broken chain */
	const char *extra = "ARC-Authentication-Results: i=51; x; none\r\n";
	char *big = malloc(strlen(extra) + strlen(m) + 1);
	memcpy(big, extra, strlen(extra));
	memcpy(big + strlen(extra), m, strlen(m) + 1);
	r = verify(k, big);
	assert_int_equal(r.cv, ARC_FAIL);
	free(big);
	free(m);
}

static void test_structure(void **state)
{
	struct keys *k = *state;
	char *m = seal(k, strdup(MSG), "ed", ARC_NONE, 1);
	/* drop the AAR: incomplete set */
	char *aar = strstr(m, "ARC-Authentication-Results:");
	char *end = strstr(aar, "\r\nFrom:");
	memmove(aar, end + 2, strlen(end + 2) + 1);
	struct arc_result r = verify(k, m);
	assert_int_equal(r.cv, ARC_FAIL);
	assert_string_equal(r.reason, "incomplete ARC set");
	free(m);
	static const char *const bad[] = {
		"ARC-Authentication-Results: i=0; x\r\n",
		"ARC-Authentication-Results: x; i=1\r\n",
		"ARC-Authentication-Results: i=1 x\r\n",
		"ARC-Authentication-Results: i=01; x\r\n",
		"ARC-Seal: i=1; a=rsa-sha256; b=AAAA; cv=none; d=x; s=y; h=from\r\n",
		"ARC-Seal: i=1; a=rsa-sha1; b=AAAA; cv=none; d=x; s=y\r\n",
		"ARC-Message-Signature: i=1; a=rsa-sha256; b=AAAA;; bh=AAAA; d=x; s=y; h=from\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *t = malloc(strlen(bad[i]) + strlen(MSG) + 1);
		memcpy(t, bad[i], strlen(bad[i]));
		memcpy(t + strlen(bad[i]), MSG, strlen(MSG) + 1);
		r = verify(k, t);
		assert_int_equal(r.cv, ARC_FAIL);
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_chain),
		cmocka_unit_test(test_three_hops),
		cmocka_unit_test(test_oldest_pass),
		cmocka_unit_test(test_seal_refusals),
		cmocka_unit_test(test_dns_failure),
		cmocka_unit_test(test_set_limit),
		cmocka_unit_test(test_structure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
