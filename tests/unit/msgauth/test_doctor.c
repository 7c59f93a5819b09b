/* test_doctor.c - the DNS doctor without a network: zone-file lines
 * split at 255 bytes, the records for a site, checks against zone tables
 * (ma_zone) with each mistake alone, SPF lookup counting with loops and
 * 50 includes (bounded work), DMARC junk, DNS failures, the rdata decoder
 * of the live backend, DKIM key making and key states by time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/xmalloc.h"
#include "msgauth/dkim_keys.h"
#include "msgauth/doctor.h"
#include "msgauth/ma_dns_ub.h"
#include "msgauth/ma_zone.h"

static struct doctor_site site(void)
{
	struct doctor_site s;
	memset(&s, 0, sizeof s);
	snprintf(s.hostname, sizeof s.hostname, "mail.host.test");
	snprintf(s.ipv4, sizeof s.ipv4, "192.0.2.10");
	s.ttl = 3600;
	s.svc.s[CFG_SVC_IMAPS].srv = "_imaps._tcp";
	s.svc.s[CFG_SVC_IMAPS].port = 993;
	s.svc.s[CFG_SVC_SUBMISSIONS].srv = "_submissions._tcp";
	s.svc.s[CFG_SVC_SUBMISSIONS].port = 465;
	return s;
}

static struct store_dkim_key make_key(enum dkim_key_alg alg, const char *sel)
{
	struct store_dkim_key k;
	memset(&k, 0, sizeof k);
	snprintf(k.domain, sizeof k.domain, "ex.test");
	snprintf(k.selector, sizeof k.selector, "%s", sel);
	snprintf(k.algorithm, sizeof k.algorithm, "%s",
		 alg == DKIM_ALG_RSA ? "rsa-2048" : "ed25519");
	char pem[STORE_DKIM_PEM_MAX + 1];
	struct err err;
	assert_int_equal(dkim_key_make(alg, pem, sizeof pem, k.public_key,
				       sizeof k.public_key, &err), 0);
	assert_non_null(strstr(pem, "BEGIN PRIVATE KEY"));
	k.has_private = true;
	return k;
}

static void test_zone_line_split(void **state)
{
	(void)state;
	struct doctor_record r;
	memset(&r, 0, sizeof r);
	snprintf(r.name, sizeof r.name, "s._domainkey.ex.test");
	r.type = DOCTOR_TXT;
	r.ttl = 60;
	char line[4096];
	for (size_t len = 0; len <= 600; len++) {
		memset(r.value, 'a', len);
		r.value[len] = '\0';
		if (len > 10)
			r.value[10] = '"';
		assert_int_equal(doctor_zone_line(&r, line, sizeof line), 0);
		/* count strings and rebuild the text */
		size_t strings = 0, n = 0, run = 0;
		char back[700];
		bool in = false;
		for (const char *p = strstr(line, "TXT ") + 4; *p; p++) {
			if (!in && *p == '"') {
				in = true;
				strings++;
				run = 0;
			} else if (in && *p == '\\') {
				back[n++] = *++p;
				run++;
			} else if (in && *p == '"') {
				in = false;
				assert_true(run <= 255);
			} else if (in) {
				back[n++] = *p;
				run++;
			}
		}
		assert_int_equal(n, len);
		assert_memory_equal(back, r.value, len);
		assert_int_equal(strings, len == 0 ? 1 : (len + 254) / 255);
	}
	/* too small a buffer is refused, not cut */
	assert_int_equal(doctor_zone_line(&r, line, 100), -1);
	r.type = DOCTOR_MX;
	snprintf(r.value, sizeof r.value, "10 mail.host.test");
	assert_int_equal(doctor_zone_line(&r, line, sizeof line), 0);
	assert_string_equal(line, "s._domainkey.ex.test. 60 IN MX 10 mail.host.test.");
}

static void test_records_for_a_site(void **state)
{
	(void)state;
	struct doctor_site s = site();
	struct store_dkim_key k[2] = { make_key(DKIM_ALG_RSA, "p1"),
				       make_key(DKIM_ALG_ED25519, "e1") };
	k[0].activate_at = 100;
	k[1].activate_at = 100;
	k[1].retire_at = 150;
	k[1].removed_at = 200;	/* retired at 300: not published */
	struct doctor_records *r = xmalloc(sizeof *r);
	doctor_records(&s, "ex.test", k, 2, 300, r);
	size_t mx = 0, dkim = 0, srv = 0;
	for (size_t i = 0; i < r->n; i++) {
		mx += r->r[i].type == DOCTOR_MX;
		dkim += !strcmp(r->r[i].purpose, "dkim");
		srv += r->r[i].type == DOCTOR_SRV;
		if (!strcmp(r->r[i].purpose, "spf"))
			assert_string_equal(r->r[i].value,
					    "v=spf1 mx ip4:192.0.2.10 -all");
	}
	assert_int_equal(mx, 1);	/* no backup configured */
	assert_int_equal(dkim, 1);
	assert_int_equal(srv, 2);	/* only the services listening */
	assert_int_equal(dkim_key_state(&k[1], 120), DKIM_KEY_ACTIVE);
	assert_int_equal(dkim_key_state(&k[1], 150), DKIM_KEY_RETIRING);
	assert_int_equal(dkim_key_state(&k[1], 200), DKIM_KEY_RETIRED);
	assert_int_equal(dkim_key_state(&k[0], 99), DKIM_KEY_NEXT);
	free(r);
}

static void test_key_material(void **state)
{
	(void)state;
	struct store_dkim_key rsa = make_key(DKIM_ALG_RSA, "p");
	unsigned char der[1024];
	int n = EVP_DecodeBlock(der, (const unsigned char *)rsa.public_key,
				(int)strlen(rsa.public_key));
	assert_true(n > 256);
	const unsigned char *p = der;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, n);
	assert_non_null(pk);
	assert_int_equal(EVP_PKEY_get_bits(pk), 2048);
	EVP_PKEY_free(pk);
	struct store_dkim_key ed = make_key(DKIM_ALG_ED25519, "e");
	assert_int_equal(strlen(ed.public_key), 44);	/* 32 bytes */
	char txt[1024];
	assert_int_equal(dkim_key_txt(&ed, txt, sizeof txt), 0);
	assert_true(strncmp(txt, "v=DKIM1; k=ed25519; p=", 22) == 0);
}

/* ---- checks against a zone table ---------------------------------------- */

struct fx {
	struct doctor_site s;
	struct store_dkim_key k;
	struct doctor_records *want;
	struct doctor_report *rep;
	struct ma_zone *z;
	struct ma_dns dns;
};

static struct store_dkim_key fx_key;	/* made once: RSA keys are slow */

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	f->s = site();
	if (fx_key.public_key[0] == '\0')
		fx_key = make_key(DKIM_ALG_RSA, "p1");
	f->k = fx_key;
	f->want = xmalloc(sizeof *f->want);
	f->rep = xmalloc(sizeof *f->rep);
	doctor_records(&f->s, "ex.test", &f->k, 1, 0, f->want);
	f->z = ma_zone_new();
	ma_zone_dns(f->z, &f->dns);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ma_zone_free(&f->z);
	free(f->want);
	free(f->rep);
	free(f);
	return 0;
}

/* Load the good zone with the records named in skip left out, then
 * extra lines. */
static void load(struct fx *f, const char *skip, const char *extra)
{
	struct err err;
	for (size_t i = 0; i < f->want->n; i++) {
		const struct doctor_record *r = &f->want->r[i];
		if (skip != NULL && strstr(skip, r->purpose) != NULL)
			continue;
		char v[DOCTOR_VALUE_MAX + 4];
		if (r->type == DOCTOR_TXT)
			snprintf(v, sizeof v, "\"%s\"", r->value);
		else
			snprintf(v, sizeof v, "%s", r->value);
		assert_int_equal(ma_zone_add(f->z, r->name,
					     doctor_rtype_name(r->type), v,
					     &err), 0);
	}
	const char *host = "mail.host.test A 192.0.2.10\n"
			   "10.2.0.192.in-addr.arpa PTR mail.host.test\n";
	assert_int_equal(ma_zone_load(f->z, host, strlen(host), &err), 0);
	if (extra != NULL)
		assert_int_equal(ma_zone_load(f->z, extra, strlen(extra), &err),
				 0);
}

static size_t bad(struct fx *f, const char *check, enum doctor_status st)
{
	doctor_check(&f->dns, &f->s, "ex.test", f->want, &f->k, 1, 0, f->rep);
	size_t n = 0, other = 0;
	for (size_t i = 0; i < f->rep->n; i++) {
		const struct doctor_finding *d = &f->rep->f[i];
		if (d->status == DOCTOR_OK)
			continue;
		if (check != NULL && !strcmp(d->check, check) && d->status == st) {
			assert_true(d->fix[0] != '\0');
			n++;
		} else {
			print_message("unexpected: %s %s %s\n", d->check,
				      doctor_status_name(d->status), d->what);
			other++;
		}
	}
	assert_int_equal(other, 0);
	return n;
}

static void test_good_zone(void **state)
{
	struct fx *f = *state;
	load(f, NULL, NULL);
	assert_int_equal(bad(f, NULL, DOCTOR_OK), 0);
	assert_true(doctor_report_ok(f->rep));
}

static void test_mx_mistakes(void **state)
{
	struct fx *f = *state;
	load(f, "mx", "ex.test MX 10 other.test\n");
	assert_int_equal(bad(f, "mx", DOCTOR_WRONG), 2);	/* elsewhere, not us */
	ma_zone_free(&f->z);
	f->z = ma_zone_new();
	ma_zone_dns(f->z, &f->dns);
	load(f, "mx", NULL);
	assert_int_equal(bad(f, "mx", DOCTOR_MISSING), 1);
}

/* RFC 6186 SRV: a wrong port, a wrong host, "." (not offered), a
 * missing one; a second record beside the right one is fine. */
static void test_srv_mistakes(void **state)
{
	struct fx *f = *state;
	load(f, "srv", "_imaps._tcp.ex.test SRV 0 1 143 mail.host.test\n"
	     "_submissions._tcp.ex.test SRV 0 0 0 .\n");
	assert_int_equal(bad(f, "srv", DOCTOR_WRONG), 2);
	ma_zone_free(&f->z);
	f->z = ma_zone_new();
	ma_zone_dns(f->z, &f->dns);
	load(f, "srv", "_imaps._tcp.ex.test SRV 10 1 993 backup.host.test\n"
	     "_imaps._tcp.ex.test SRV 0 1 993 MAIL.host.test.\n");
	assert_int_equal(bad(f, "srv", DOCTOR_MISSING), 1);	/* submissions */
	struct err err;
	assert_int_not_equal(ma_zone_add(f->z, "x.ex.test", "SRV", "0 1 70000 a",
					 &err), 0);
	assert_int_not_equal(ma_zone_add(f->z, "x.ex.test", "SRV", "0 1", &err), 0);
}

static void test_spf_loops_and_includes(void **state)
{
	struct fx *f = *state;
	/* a loop: bounded by depth, counted on the way */
	load(f, "spf", "ex.test TXT \"v=spf1 ip4:192.0.2.10 include:a.test -all\"\n"
	     "a.test TXT \"v=spf1 include:b.test -all\"\n"
	     "b.test TXT \"v=spf1 include:a.test -all\"\n");
	assert_int_equal(bad(f, "spf", DOCTOR_WRONG), 1);
	assert_true(f->rep->queries < 60);
	bool c4, c6;
	size_t q = 0;
	/* 50 includes: counted to the bound, not followed past it */
	char rec[1024] = "v=spf1";
	for (int i = 0; i < 50; i++) {
		size_t n = strlen(rec);
		snprintf(rec + n, sizeof rec - n, " include:i%d.test", i);
	}
	unsigned l = doctor_spf_lookups(&f->dns, "ex.test", rec, "", "", &c4,
					&c6, &q);
	assert_int_equal(l, 50);
	assert_true(q <= DOCTOR_SPF_LOOKUPS_MAX);
	/* coverage: a CIDR, an a: term, an mx term; not a fail term */
	assert_int_equal(doctor_spf_lookups(&f->dns, "ex.test",
					    "v=spf1 ip4:192.0.2.0/24 -all",
					    "192.0.2.10", "", &c4, &c6, &q), 0);
	assert_true(c4);
	doctor_spf_lookups(&f->dns, "ex.test", "v=spf1 -ip4:192.0.2.10 -all",
			   "192.0.2.10", "", &c4, &c6, &q);
	assert_false(c4);
	assert_int_equal(doctor_spf_lookups(&f->dns, "ex.test",
					    "v=spf1 a:mail.host.test/32 -all",
					    "192.0.2.10", "", &c4, &c6, &q), 1);
	assert_true(c4);
	assert_int_equal(doctor_spf_lookups(&f->dns, "ex.test",
					    "v=spf1 mx -all", "192.0.2.10",
					    "", &c4, &c6, &q), 1);
	assert_true(c4);	/* ex.test's MX is mail.host.test */
}

static void test_dkim_mistakes(void **state)
{
	struct fx *f = *state;
	char line[2048];
	/* a space in the key is folding white space: fine (RFC 6376 3.6.1) */
	snprintf(line, sizeof line, "p1._domainkey.ex.test TXT \"v=DKIM1; "
		 "k=rsa; p=%.40s\" \" %s\"\n", f->k.public_key,
		 f->k.public_key + 40);
	load(f, "dkim", line);
	assert_int_equal(bad(f, "dkim", DOCTOR_WRONG), 0);
	ma_zone_free(&f->z);
	f->z = ma_zone_new();
	ma_zone_dns(f->z, &f->dns);
	/* a character lost in pasting */
	snprintf(line, sizeof line, "p1._domainkey.ex.test TXT \"v=DKIM1; "
		 "k=rsa; p=%.40s%s\"\n", f->k.public_key,
		 f->k.public_key + 41);
	load(f, "dkim", line);
	assert_int_equal(bad(f, "dkim", DOCTOR_WRONG), 1);
}

static void test_dmarc_junk(void **state)
{
	struct fx *f = *state;
	static const char *const junk[] = {
		"\"v=DMARC1; p=none; p=none\"",		/* duplicate tag */
		"\"v=DMARC1; sp=none; p=none\"",	/* p not second */
		"\"v=DMARC1; p=maybe\"",
		"\"v=DMARC1 p=none\"",
		"\"v=DMARC1;;;;=\"",
	};
	for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
		ma_zone_free(&f->z);
		f->z = ma_zone_new();
		ma_zone_dns(f->z, &f->dns);
		char line[200];
		snprintf(line, sizeof line, "_dmarc.ex.test TXT %s\n", junk[i]);
		load(f, "dmarc", line);
		size_t n = bad(f, "dmarc", DOCTOR_WRONG);
		if (i == 3)	/* "v=DMARC1 p=none": not a DMARC record */
			continue;
		assert_int_equal(n, 1);
	}
}

static void test_dns_failure_is_unknown(void **state)
{
	struct fx *f = *state;
	load(f, "dmarc", "_dmarc.ex.test TIMEOUT\n");
	doctor_check(&f->dns, &f->s, "ex.test", f->want, &f->k, 1, 0, f->rep);
	bool seen = false;
	for (size_t i = 0; i < f->rep->n; i++)
		if (!strcmp(f->rep->f[i].check, "dmarc"))
			seen = f->rep->f[i].status == DOCTOR_UNKNOWN;
	assert_true(seen);
	assert_false(doctor_report_ok(f->rep));
}

static void test_rdata_decoder(void **state)
{
	(void)state;
	struct ma_rrset *s = xmalloc(sizeof *s);
	ma_rrset_reset(s);
	static const unsigned char txt[] = "\003abc\000\002de";
	assert_true(ma_dns_ub_rdata(MA_RR_TXT, txt, sizeof txt - 1, s));
	assert_int_equal(s->rr[0].len, 5);
	assert_memory_equal(s->rr[0].data, "abcde", 5);
	static const unsigned char over[] = "\005abc";
	assert_false(ma_dns_ub_rdata(MA_RR_TXT, over, sizeof over - 1, s));
	static const unsigned char mx[] = "\000\012\004mail\004host\004test\000";
	assert_true(ma_dns_ub_rdata(MA_RR_MX, mx, sizeof mx - 1, s));
	assert_string_equal((const char *)s->rr[1].data, "mail.host.test");
	assert_int_equal(s->rr[1].pref, 10);
	static const unsigned char ptr_ptr[] = "\300\014";
	assert_false(ma_dns_ub_rdata(MA_RR_PTR, ptr_ptr, 2, s));
	static const unsigned char trailing[] = "\001a\000x";
	assert_false(ma_dns_ub_rdata(MA_RR_PTR, trailing, 4, s));
	assert_false(ma_dns_ub_rdata(MA_RR_A, txt, 3, s));
	/* RFC 2782: priority 0, weight 1, port 993, target */
	static const unsigned char srv[] = "\000\000\000\001\003\341"
					   "\004MAIL\004host\004test\000";
	assert_true(ma_dns_ub_rdata(MA_RR_SRV, srv, sizeof srv - 1, s));
	assert_string_equal((const char *)s->rr[2].data, "0 1 993 mail.host.test");
	static const unsigned char srv_root[] = "\000\000\000\000\000\000\000";
	assert_true(ma_dns_ub_rdata(MA_RR_SRV, srv_root, sizeof srv_root - 1, s));
	assert_string_equal((const char *)s->rr[3].data, "0 0 0 .");
	assert_false(ma_dns_ub_rdata(MA_RR_SRV, srv, 6, s));
	assert_false(ma_dns_ub_rdata(MA_RR_SRV, srv, sizeof srv - 2, s));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_line_split),
		cmocka_unit_test(test_records_for_a_site),
		cmocka_unit_test(test_key_material),
		cmocka_unit_test_setup_teardown(test_good_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mx_mistakes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srv_mistakes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spf_loops_and_includes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dkim_mistakes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dmarc_junk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_failure_is_unknown,
						setup, teardown),
		cmocka_unit_test(test_rdata_decoder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
