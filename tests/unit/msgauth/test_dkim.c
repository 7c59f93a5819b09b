/* test_dkim.c - DKIM parsers, canonicalisation, limits and verification
 * outcomes that the third-party suites do not reach: bad and oversized
 * tags, too many signatures, header limits at and past the limit, l=
 * past the body, key record flags, DNS failures, and LF-only messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "msgauth/dkim.h"
#include "msgauth/dkim_private.h"
#include "msgauth/ma_zone.h"

/* ---- helpers ------------------------------------------------------------ */

static char *b64(const unsigned char *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* A string of n copies of c. */
static char *rep(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static const char *BH = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=";

static int parse(const char *v, struct dkim_sig *sig, const char **why)
{
	return dkim_sig_parse(v, strlen(v), DKIM_SIG_DKIM, sig, why);
}

static void expect_bad(const char *v, const char *reason)
{
	struct dkim_sig *sig = malloc(sizeof *sig);
	const char *why = NULL;
	assert_int_equal(parse(v, sig, &why), -1);
	assert_non_null(why);
	assert_string_equal(why, reason);
	free(sig);
}

struct keys {
	EVP_PKEY *ed;
	struct ma_zone *z;
	struct ma_dns dns;
};

/* An Ed25519 key published at ed._domainkey.example.com (and variants
 * with key flags), a 512-bit RSA key at small._domainkey.example.com. */
static int setup(void **state)
{
	struct keys *k = calloc(1, sizeof *k);
	unsigned char raw[32];
	size_t n = sizeof raw;
	struct err err;
	char rec[256];

	k->ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k->ed);
	assert_int_equal(EVP_PKEY_get_raw_public_key(k->ed, raw, &n), 1);
	char *p = b64(raw, n);
	k->z = ma_zone_new();
	snprintf(rec, sizeof rec, "\"v=DKIM1; k=ed25519; p=%s\"", p);
	assert_int_equal(ma_zone_add(k->z, "ed._domainkey.example.com", "TXT", rec, &err), 0);
	snprintf(rec, sizeof rec, "\"v=DKIM1; k=ed25519; t=y; p=%s\"", p);
	assert_int_equal(ma_zone_add(k->z, "testing._domainkey.example.com", "TXT", rec, &err), 0);
	snprintf(rec, sizeof rec, "\"k=ed25519; t=s; p=%s\"", p);
	assert_int_equal(ma_zone_add(k->z, "strict._domainkey.example.com", "TXT", rec, &err), 0);
	snprintf(rec, sizeof rec, "\"k=ed25519; h=sha1; p=%s\"", p);
	assert_int_equal(ma_zone_add(k->z, "sha1only._domainkey.example.com", "TXT", rec, &err), 0);
	free(p);
	assert_int_equal(ma_zone_add(k->z, "revoked._domainkey.example.com", "TXT",
				     "\"v=DKIM1; k=ed25519; p=\"", &err), 0);
	assert_int_equal(ma_zone_add(k->z, "slow._domainkey.example.com", "TIMEOUT", "", &err), 0);

	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	assert_non_null(rsa);
	unsigned char *der = NULL;
	int dl = i2d_PUBKEY(rsa, &der);
	assert_true(dl > 0);
	p = b64(der, (size_t)dl);
	snprintf(rec, sizeof rec, "\"k=rsa; p=%s\"", p);
	assert_int_equal(ma_zone_add(k->z, "small._domainkey.example.com", "TXT", rec, &err), 0);
	free(p);
	OPENSSL_free(der);
	EVP_PKEY_free(rsa);
	ma_zone_dns(k->z, &k->dns);
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	struct keys *k = *state;
	EVP_PKEY_free(k->ed);
	ma_zone_free(&k->z);
	free(k);
	return 0;
}

static const char *MSG =
	"From: a@example.com\r\n"
	"To: b@example.org\r\n"
	"Subject: test\r\n"
	"\r\n"
	"Hello.\r\n";

/* Verify text and return the verdict (static storage: tests run serially). */
static struct dkim_verdict *run(struct keys *k, const char *text, time_t now)
{
	static struct dkim_verdict v;
	struct dkim_verify_opts o = { .now = now };
	struct err err;
	assert_int_equal(dkim_verify(text, strlen(text), &k->dns, &o, &v, &err), 0);
	return &v;
}

static char *signed_msg(struct keys *k, const char *msg, const char *sel, time_t t, time_t x)
{
	struct dkim_sign_opts o = { .domain = "example.com", .selector = sel, .key = k->ed,
				    .t = t, .x = x, .hcanon = DKIM_CANON_RELAXED,
				    .bcanon = DKIM_CANON_RELAXED };
	struct err err;
	char *field = NULL;
	assert_int_equal(dkim_sign(msg, strlen(msg), &o, &field, &err), 0);
	size_t fl = strlen(field), ml = strlen(msg);
	char *out = malloc(fl + ml + 1);
	memcpy(out, field, fl);
	memcpy(out + fl, msg, ml + 1);
	free(field);
	return out;
}

/* A message with one DKIM-Signature of the given tags in front of MSG. */
static char *with_sig(const char *tags)
{
	size_t n = strlen(tags) + strlen(MSG) + 64;
	char *s = malloc(n);
	snprintf(s, n, "DKIM-Signature: %s\r\n%s", tags, MSG);
	return s;
}

/* ---- DKIM-Signature parsing ---------------------------------------------- */

static void test_sig_valid(void **state)
{
	(void)state;
	char v[512];
	struct dkim_sig sig;
	const char *why;
	snprintf(v, sizeof v, "v=1; a=rsa-sha256; d=Example.COM; s=sel;\r\n\th = From : To;"
		 " bh=%s; b=AAAA BBBB\r\n CCCC; c=relaxed; l=10; t=5; x=6; q=dns/txt", BH);
	assert_int_equal(parse(v, &sig, &why), 0);
	assert_string_equal(sig.d, "example.com");
	assert_string_equal(sig.i, "@example.com");
	assert_string_equal(sig.b8, "AAAABBBB");
	assert_int_equal(sig.b_len, 9);
	assert_int_equal(sig.nh, 2);
	assert_int_equal(sig.h[1].len, 2);
	assert_int_equal(sig.hcanon, DKIM_CANON_RELAXED);
	assert_int_equal(sig.bcanon, DKIM_CANON_SIMPLE);
	assert_true(sig.has_l && sig.l == 10 && sig.t == 5 && sig.x == 6);
	/* no c=: simple/simple (RFC 6376 3.5) */
	snprintf(v, sizeof v, "v=1; a=rsa-sha256; d=e.com; s=s; h=from; bh=%s; b=AAAA", BH);
	assert_int_equal(parse(v, &sig, &why), 0);
	assert_int_equal(sig.hcanon, DKIM_CANON_SIMPLE);
	assert_int_equal(sig.bcanon, DKIM_CANON_SIMPLE);
}

static void test_sig_missing_tags(void **state)
{
	(void)state;
	static const char *const tags[] = { "v=1", "a=rsa-sha256", "b=AAAA", "bh=", "d=example.com",
					     "h=from", "s=sel" };
	for (size_t drop = 0; drop < 7; drop++) {
		char v[512] = "";
		size_t n = 0;
		for (size_t k = 0; k < 7; k++)
			if (k != drop)
				n += (size_t)snprintf(v + n, sizeof v - n, "%s%s; ", tags[k],
						      k == 3 ? BH : "");
		expect_bad(v, "missing required tag");
	}
}

static void test_sig_bad_tags(void **state)
{
	(void)state;
	char v[4096];
#define SIG(fmt, ...) (snprintf(v, sizeof v, fmt, __VA_ARGS__), v)
	expect_bad(SIG("v=1; v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s", BH),
		   "duplicate tag");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AA*A; bh=%s; d=e.com; h=from; s=s", BH), "bad b=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=A; bh=%s; d=e.com; h=from; s=s", BH), "bad b=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AA=A; bh=%s; d=e.com; h=from; s=s", BH), "bad b=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=; bh=%s; d=e.com; h=from; s=s", BH), "bad b=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=AAAA; d=e.com; h=from; s=s%s", ""),
		   "bad bh=");
	expect_bad(SIG("v=2; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s", BH),
		   "v= is not 1");
	expect_bad(SIG("v=1; a=rsa-md5; b=AAAA; bh=%s; d=e.com; h=from; s=s", BH),
		   "unknown algorithm");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=to:subject; s=s", BH),
		   "From is not signed");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from::to; s=s", BH),
		   "empty name in h=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s; c=fancy", BH),
		   "unknown canonicalization");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s; q=http", BH),
		   "q= without dns/txt");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s; l=-1", BH),
		   "bad l=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s; l=1234567890123456789", BH),
		   "bad l=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s; t=10; x=10", BH),
		   "x= before t=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s; i=a@evil.com", BH),
		   "i= domain not within d=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s; i=a@xe.com", BH),
		   "i= domain not within d=");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s; i=nobody", BH),
		   "i= without @");
	expect_bad(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e com; h=from; s=s", BH), "bad d=");
	expect_bad("v=1; a", "tag without '='");
	struct dkim_sig sig;
	const char *why;
	assert_int_equal(parse(SIG("v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; h=from; s=s;"
				   " i=a@mail.E.com", BH), &sig, &why), 0);
#undef SIG
}

/* b= at DKIM_MAX_SIG_BYTES decodes; one more octet, or a megabyte, does not */
static void test_sig_huge_b(void **state)
{
	(void)state;
	for (size_t octets = DKIM_MAX_SIG_BYTES - 3; octets <= DKIM_MAX_SIG_BYTES + 3; octets += 3) {
		unsigned char *raw = calloc(1, octets);
		char *b = b64(raw, octets);
		size_t n = strlen(b) + 256;
		char *v = malloc(n);
		snprintf(v, n, "v=1; a=rsa-sha256; b=%s; bh=%s; d=e.com; h=from; s=s", b, BH);
		struct dkim_sig *sig = malloc(sizeof *sig);
		const char *why;
		int rc = parse(v, sig, &why);
		if (octets <= DKIM_MAX_SIG_BYTES) {
			assert_int_equal(rc, 0);
			assert_int_equal(sig->b_len, octets);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(why, "bad b=");
		}
		free(sig);
		free(v);
		free(b);
		free(raw);
	}
	char *huge = rep('A', 1024 * 1024);
	size_t n = strlen(huge) + 256;
	char *v = malloc(n);
	snprintf(v, n, "v=1; a=rsa-sha256; b=%s; bh=%s; d=e.com; h=from; s=s", huge, BH);
	expect_bad(v, "bad b=");
	free(v);
	free(huge);
}

static void test_sig_h_limit(void **state)
{
	(void)state;
	char v[2048];
	for (size_t names = DKIM_MAX_SIGNED_HEADERS; names <= DKIM_MAX_SIGNED_HEADERS + 1; names++) {
		int n = snprintf(v, sizeof v, "v=1; a=rsa-sha256; b=AAAA; bh=%s; d=e.com; s=s; h=from", BH);
		for (size_t k = 1; k < names; k++)
			n += snprintf(v + n, sizeof v - (size_t)n, ":to");
		struct dkim_sig sig;
		const char *why;
		int rc = parse(v, &sig, &why);
		if (names == DKIM_MAX_SIGNED_HEADERS) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(why, "too many names in h=");
		}
	}
}

/* ---- key records --------------------------------------------------------- */

static void test_key_records(void **state)
{
	(void)state;
	struct dkim_key k;
	const char *why;
#define KEY(s) dkim_key_parse(s, strlen(s), &k, &why)
	assert_int_equal(KEY("v=DKIM1; p="), 0);
	assert_true(k.revoked);
	assert_int_equal(KEY("p=AAAA; t=y:s; h=sha1:sha256; s=email:other; n=notes"), 0);
	assert_true(k.testing && k.strict && k.sha1_ok && k.sha256_ok && !k.ed25519);
	assert_int_equal(KEY("k=ed25519; h=sha256; p=AAAA"), 0);
	assert_true(k.ed25519 && !k.sha1_ok && k.sha256_ok);
	assert_int_equal(KEY("p=AAAA; v=DKIM1"), -1);
	assert_string_equal(why, "key v= is not DKIM1");
	assert_int_equal(KEY("v=DKIM1: k=rsa; p=AAAA"), -1);
	assert_string_equal(why, "key v= is not DKIM1");
	assert_int_equal(KEY("k=dsa; p=AAAA"), -1);
	assert_string_equal(why, "unknown key type");
	assert_int_equal(KEY("s=tlsrpt; p=AAAA"), -1);
	assert_string_equal(why, "key not for email (s=)");
	assert_int_equal(KEY("k=rsa"), -1);
	assert_string_equal(why, "key without p=");
	assert_int_equal(KEY("p=AA!A"), -1);
	assert_string_equal(why, "bad p=");
	assert_int_equal(KEY("p=AAAA; p=BBBB"), -1);
	assert_string_equal(why, "duplicate tag");
	char *big = rep('A', DKIM_MAX_KEY_BYTES / 3 * 4 + 4);
	char rec[2048];
	snprintf(rec, sizeof rec, "p=%s", big);
	assert_int_equal(KEY(rec), -1);
	free(big);
#undef KEY
}

/* ---- canonicalisation ----------------------------------------------------- */

struct out {
	char b[512];
	size_t n;
};

static void out_put(void *arg, const void *p, size_t n)
{
	struct out *o = arg;
	assert_true(o->n + n < sizeof o->b);
	memcpy(o->b + o->n, p, n);
	o->n += n;
	o->b[o->n] = '\0';
}

static const char *body(enum dkim_canon c, const char *in, uint64_t limit, uint64_t *total)
{
	static struct out o;
	struct dkim_sink s = { out_put, &o };
	o.n = 0;
	o.b[0] = '\0';
	*total = dkim_canon_body(c, in, strlen(in), limit, &s);
	return o.b;
}

static void test_canon_body(void **state)
{
	(void)state;
	uint64_t t;
	assert_string_equal(body(DKIM_CANON_SIMPLE, "", UINT64_MAX, &t), "\r\n");
	assert_string_equal(body(DKIM_CANON_RELAXED, "", UINT64_MAX, &t), "");
	assert_string_equal(body(DKIM_CANON_RELAXED, " \t\r\n\r\n", UINT64_MAX, &t), "");
	assert_string_equal(body(DKIM_CANON_SIMPLE, "a \r\n\r\n", UINT64_MAX, &t), "a \r\n");
	assert_string_equal(body(DKIM_CANON_RELAXED, " a  \t b \r\n\r\nc", UINT64_MAX, &t),
			    " a b\r\n\r\nc\r\n");
	/* bare LF is CRLF, a lone CR is data */
	assert_string_equal(body(DKIM_CANON_SIMPLE, "a\nb\r\n\n", UINT64_MAX, &t), "a\r\nb\r\n");
	assert_string_equal(body(DKIM_CANON_SIMPLE, "a\rb", UINT64_MAX, &t), "a\rb\r\n");
	/* l= cuts the canonical form, the total is still counted */
	assert_string_equal(body(DKIM_CANON_SIMPLE, "hello\r\nworld\r\n", 7, &t), "hello\r\n");
	assert_int_equal(t, 14);
	assert_string_equal(body(DKIM_CANON_SIMPLE, "hello\r\n", 0, &t), "");
	assert_int_equal(t, 7);
}

static const char *header(enum dkim_canon c, const char *in)
{
	static struct out o;
	struct dkim_sink s = { out_put, &o };
	o.n = 0;
	dkim_canon_header(c, in, strlen(in), true, &s);
	return o.b;
}

static void test_canon_header(void **state)
{
	(void)state;
	assert_string_equal(header(DKIM_CANON_RELAXED, "SubJect \t:  a \r\n\t b\t"),
			    "subject:a b\r\n");
	assert_string_equal(header(DKIM_CANON_RELAXED, "X:\n c"), "x:c\r\n");
	assert_string_equal(header(DKIM_CANON_RELAXED, "X: a\rb"), "x:a\rb\r\n");
	assert_string_equal(header(DKIM_CANON_SIMPLE, "SubJect : a\n b"), "SubJect : a\r\n b\r\n");

	char out[128];
	const char *f = "DKIM-Signature: a=x; b = abc\r\n def ; bh=Zm9v; c=d";
	size_t n = dkim_strip_b(f, strlen(f), out);
	out[n] = '\0';
	assert_string_equal(out, "DKIM-Signature: a=x; b =; bh=Zm9v; c=d");
	f = "DKIM-Signature: a=x; bh=Zm9v; b=abc";
	n = dkim_strip_b(f, strlen(f), out);
	out[n] = '\0';
	assert_string_equal(out, "DKIM-Signature: a=x; bh=Zm9v; b=");
}

/* ---- the message --------------------------------------------------------- */

static void test_msg_limits(void **state)
{
	(void)state;
	struct dkim_msg m;
	struct err err;
	size_t cap = (DKIM_MAX_HEADERS + 2) * 8 + 16;
	char *text = malloc(cap);
	for (size_t count = DKIM_MAX_HEADERS; count <= DKIM_MAX_HEADERS + 1; count++) {
		size_t n = 0;
		for (size_t k = 0; k < count; k++)
			n += (size_t)snprintf(text + n, cap - n, "X: y\r\n");
		n += (size_t)snprintf(text + n, cap - n, "\r\nbody");
		int rc = dkim_msg_split(text, n, &m, &err);
		if (count == DKIM_MAX_HEADERS) {
			assert_int_equal(rc, 0);
			assert_int_equal(m.n, count);
			assert_int_equal(m.body_len, 4);
			dkim_msg_free(&m);
		} else {
			assert_int_equal(rc, -1);
		}
	}
	free(text);

	/* one field of DKIM_MAX_FIELD octets, then one more */
	for (size_t len = DKIM_MAX_FIELD; len <= DKIM_MAX_FIELD + 1; len++) {
		char *f = rep('a', len + 2);
		memcpy(f, "X:", 2);
		f[len] = '\r';
		f[len + 1] = '\n';
		int rc = dkim_msg_split(f, len + 2, &m, &err);
		assert_int_equal(rc, len == DKIM_MAX_FIELD ? 0 : -1);
		if (rc == 0)
			dkim_msg_free(&m);
		free(f);
	}
	assert_int_equal(dkim_msg_split("asdf", 4, &m, &err), -1);
	assert_int_equal(dkim_msg_split(" x: y\r\n", 7, &m, &err), -1);
	assert_int_equal(dkim_msg_split("a b: y\r\n", 8, &m, &err), -1);
	assert_int_equal(dkim_msg_split("A: b\n c\nD : e", 13, &m, &err), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.f[0].raw_len, 7);
	assert_int_equal(m.f[1].name_len, 1);
	assert_int_equal(m.body_len, 0);
	dkim_msg_free(&m);
}

/* ---- verification outcomes ----------------------------------------------- */

static void test_roundtrip_and_lf(void **state)
{
	struct keys *k = *state;
	char *s = signed_msg(k, MSG, "ed", 1000, 0);
	struct dkim_verdict *v = run(k, s, 2000);
	assert_int_equal(v->n, 1);
	assert_int_equal(v->r[0].result, DKIM_PASS);
	assert_string_equal(v->r[0].d, "example.com");
	assert_string_equal(v->r[0].s, "ed");
	assert_string_equal(v->r[0].a, "ed25519-sha256");
	assert_int_equal(strlen(v->r[0].b8), 8);
	/* the same message stored with LF line ends */
	char *lf = malloc(strlen(s) + 1);
	size_t n = 0;
	for (const char *p = s; *p; p++)
		if (*p != '\r')
			lf[n++] = *p;
	lf[n] = '\0';
	v = run(k, lf, 2000);
	assert_int_equal(v->r[0].result, DKIM_PASS);
	free(lf);
	free(s);
}

static void test_times(void **state)
{
	struct keys *k = *state;
	char *s = signed_msg(k, MSG, "ed", 1000000, 1000100);
	assert_int_equal(run(k, s, 1000100 + DKIM_CLOCK_SKEW)->r[0].result, DKIM_PASS);
	struct dkim_verdict *v = run(k, s, 1000100 + DKIM_CLOCK_SKEW + 1);
	assert_int_equal(v->r[0].result, DKIM_FAIL);
	assert_string_equal(v->r[0].reason, "signature expired");
	assert_int_equal(run(k, s, 1000000 - DKIM_FUTURE_SKEW)->r[0].result, DKIM_PASS);
	v = run(k, s, 1000000 - DKIM_FUTURE_SKEW - 1);
	assert_int_equal(v->r[0].result, DKIM_FAIL);
	assert_string_equal(v->r[0].reason, "signed in the future");
	free(s);
}

static void expect_result(struct keys *k, const char *tags, enum dkim_result res,
			  const char *reason)
{
	char *m = with_sig(tags);
	struct dkim_verdict *v = run(k, m, 2000);
	assert_int_equal(v->n, 1);
	if (v->r[0].result != res || strcmp(v->r[0].reason, reason) != 0)
		fail_msg("%s: got %s (%s)", tags, dkim_result_str(v->r[0].result), v->r[0].reason);
	free(m);
}

static void test_key_outcomes(void **state)
{
	struct keys *k = *state;
	char t[512];
#define ED(sel, extra) (snprintf(t, sizeof t, "v=1; a=ed25519-sha256; b=AAAA; bh=%s;" \
				 " d=example.com; h=from; s=%s%s", BH, sel, extra), t)
	expect_result(k, ED("nokey", ""), DKIM_PERMERROR, "no key record");
	expect_result(k, ED("slow", ""), DKIM_TEMPERROR, "key lookup failed");
	expect_result(k, ED("revoked", ""), DKIM_PERMERROR, "key revoked");
	expect_result(k, ED("sha1only", ""), DKIM_PERMERROR, "hash not allowed by the key (h=)");
	expect_result(k, ED("strict", "; i=a@sub.example.com"), DKIM_PERMERROR,
		      "i= is a subdomain and the key says t=s");
	expect_result(k, ED("ed", ""), DKIM_FAIL, "body hash mismatch");
	expect_result(k, ED("ed", "; l=9999"), DKIM_PERMERROR, "l= exceeds the body");
	snprintf(t, sizeof t, "v=1; a=rsa-sha256; b=AAAA; bh=%s; d=example.com; h=from; s=ed", BH);
	expect_result(k, t, DKIM_PERMERROR, "key type does not match a=");
	snprintf(t, sizeof t, "v=1; a=rsa-sha256; b=AAAA; bh=%s; d=example.com; h=from; s=small", BH);
	expect_result(k, t, DKIM_PERMERROR, "rsa key under 1024 bits");
	expect_result(k, "v=1; a=rsa-sha256; d=example.com; s=x", DKIM_PERMERROR,
		      "missing required tag");
#undef ED
	char *s = signed_msg(k, MSG, "testing", 1000, 0);
	struct dkim_verdict *v = run(k, s, 2000);
	assert_int_equal(v->r[0].result, DKIM_PASS);
	assert_true(v->r[0].testing);
	free(s);
}

static void test_too_many_signatures(void **state)
{
	struct keys *k = *state;
	char *one = signed_msg(k, MSG, "ed", 1000, 0);
	size_t fl = strstr(one, "\r\nFrom:") + 2 - one;
	size_t total = 10 * fl + strlen(MSG) + 1;
	char *m = malloc(total), *p = m;
	for (int i = 0; i < 10; i++) {
		memcpy(p, one, fl);
		p += fl;
	}
	memcpy(p, MSG, strlen(MSG) + 1);
	struct dkim_verdict *v = run(k, m, 2000);
	assert_int_equal(v->n, DKIM_MAX_SIGS);
	assert_int_equal(v->unchecked, 10 - DKIM_MAX_SIGS);
	for (size_t i = 0; i < v->n; i++)
		assert_int_equal(v->r[i].result, DKIM_PASS);
	/* a lower cap from the caller, never a higher one */
	struct dkim_verify_opts o = { .now = 2000, .max_sigs = 2 };
	struct err err;
	assert_int_equal(dkim_verify(m, strlen(m), &k->dns, &o, v, &err), 0);
	assert_int_equal(v->n, 2);
	assert_int_equal(v->unchecked, 8);
	o.max_sigs = 100;
	assert_int_equal(dkim_verify(m, strlen(m), &k->dns, &o, v, &err), 0);
	assert_int_equal(v->n, DKIM_MAX_SIGS);
	free(m);
	free(one);
}

/* Body hashes are kept per (canonicalisation, hash, l=): each signature
 * still gets the one it asked for. */
static void test_body_digest_cache(void **state)
{
	(void)state;
	struct dkim_msg m;
	struct err err;
	struct dkim_sig_result r;
	struct dkim_sig *sig = calloc(1, sizeof *sig);
	assert_int_equal(dkim_msg_split(MSG, strlen(MSG), &m, &err), 0);
	static const struct { enum dkim_canon c; bool has_l; uint64_t l; const char *canon; } cases[] = {
		{ DKIM_CANON_SIMPLE, false, 0, "Hello.\r\n" },
		{ DKIM_CANON_SIMPLE, true, 3, "Hel" },
		{ DKIM_CANON_RELAXED, true, 3, "Hel" },
		{ DKIM_CANON_SIMPLE, true, 3, "Hel" },
		{ DKIM_CANON_RELAXED, false, 0, "Hello.\r\n" },
		{ DKIM_CANON_SIMPLE, true, 8, "Hello.\r\n" },
		{ DKIM_CANON_SIMPLE, true, 0, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned int n = 0;
		sig->alg = DKIM_ALG_ED25519_SHA256;
		sig->bcanon = cases[i].c;
		sig->has_l = cases[i].has_l;
		sig->l = cases[i].l;
		assert_int_equal(EVP_Digest(cases[i].canon, strlen(cases[i].canon), sig->bh, &n,
					    EVP_sha256(), NULL), 1);
		sig->bh_len = n;
		assert_int_equal(dkim_check_body(&m, sig, &r), 1);
		sig->bh[0] ^= 1;
		assert_int_equal(dkim_check_body(&m, sig, &r), 0);
		assert_string_equal(r.reason, "body hash mismatch");
	}
	assert_int_equal(m.ndigests, DKIM_BODY_DIGESTS);
	dkim_msg_free(&m);
	free(sig);
}

static void test_sign_refusals(void **state)
{
	struct keys *k = *state;
	struct dkim_sign_opts o = { .domain = "example.com", .selector = "ed", .key = k->ed };
	struct err err;
	char *field = NULL;
	const char *nofrom = "To: b@example.org\r\n\r\nx\r\n";
	assert_int_equal(dkim_sign(nofrom, strlen(nofrom), &o, &field, &err), -1);
	o.headers = "to:subject";
	assert_int_equal(dkim_sign(MSG, strlen(MSG), &o, &field, &err), -1);
	o.headers = NULL;
	o.t = 10;
	o.x = 5;
	assert_int_equal(dkim_sign(MSG, strlen(MSG), &o, &field, &err), -1);
	o.x = 0;
	o.key = NULL;
	assert_int_equal(dkim_sign(MSG, strlen(MSG), &o, &field, &err), -1);
	assert_null(field);
	/* zeroed options sign relaxed/relaxed */
	o.key = k->ed;
	assert_int_equal(dkim_sign(MSG, strlen(MSG), &o, &field, &err), 0);
	assert_non_null(strstr(field, " c=relaxed/relaxed;"));
	free(field);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sig_valid),
		cmocka_unit_test(test_sig_missing_tags),
		cmocka_unit_test(test_sig_bad_tags),
		cmocka_unit_test(test_sig_huge_b),
		cmocka_unit_test(test_sig_h_limit),
		cmocka_unit_test(test_key_records),
		cmocka_unit_test(test_canon_body),
		cmocka_unit_test(test_canon_header),
		cmocka_unit_test(test_msg_limits),
		cmocka_unit_test(test_roundtrip_and_lf),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_key_outcomes),
		cmocka_unit_test(test_too_many_signatures),
		cmocka_unit_test(test_body_digest_cache),
		cmocka_unit_test(test_sign_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
