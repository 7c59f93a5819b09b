/* dkim_verify.c - RFC 6376 6 verification: every DKIM-Signature field up
 * to the cap, each with its own key lookup, body hash and signature
 * check, and a result naming why (RFC 8601 2.7.1). Signatures are never
 * combined here: DMARC and the caller read the list. */
#include "msgauth/dkim_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/xmalloc.h"

const char *dkim_result_str(enum dkim_result r)
{
	static const char *const names[] = { "none", "pass", "fail", "neutral",
					     "policy", "temperror", "permerror" };
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *dkim_alg_str(enum dkim_alg a)
{
	return a == DKIM_ALG_RSA_SHA1 ? "rsa-sha1" :
	       a == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

static void set(struct dkim_sig_result *r, enum dkim_result res, const char *why)
{
	r->result = res;
	snprintf(r->reason, sizeof r->reason, "%s", why);
}

/* The first TXT record at the name that reads as a key: a selector name
 * may hold other TXT records. */
EVP_PKEY *dkim_fetch_key(const struct ma_dns *dns, const struct dkim_sig *sig,
			   struct dkim_key *key, struct dkim_sig_result *r)
{
	char name[DNS_NAME_MAX + 2];
	const char *why = "no key record";
	int n = snprintf(name, sizeof name, "%s._domainkey.%s", sig->s, sig->d);

	if (n < 0 || (size_t)n > DNS_NAME_MAX) {
		set(r, DKIM_PERMERROR, "key name too long");
		return NULL;
	}
	struct ma_rrset *rs = xmalloc(sizeof *rs);
	ma_rrset_reset(rs);
	ma_dns_query(dns, name, MA_RR_TXT, rs);
	if (rs->rc == MA_DNS_TEMPFAIL) {
		free(rs);
		set(r, DKIM_TEMPERROR, "key lookup failed");
		return NULL;
	}
	bool found = false;
	for (size_t k = 0; k < rs->n && !found; k++) {
		const char *w;
		if (dkim_key_parse((const char *)rs->rr[k].data, rs->rr[k].len, key, &w) == 0)
			found = true;
		else if (k == 0)
			why = w;
	}
	free(rs);
	if (!found) {
		set(r, DKIM_PERMERROR, why);
		return NULL;
	}
	if (key->revoked) {
		set(r, DKIM_PERMERROR, "key revoked");
		return NULL;
	}
	r->testing = key->testing;
	if (key->ed25519 != (sig->alg == DKIM_ALG_ED25519_SHA256)) {
		set(r, DKIM_PERMERROR, "key type does not match a=");
		return NULL;
	}
	if (sig->alg == DKIM_ALG_RSA_SHA1 ? !key->sha1_ok : !key->sha256_ok) {
		set(r, DKIM_PERMERROR, "hash not allowed by the key (h=)");
		return NULL;
	}
	/* 3.6.1 t=s: i= must be in d= itself, no subdomain */
	const char *at = strrchr(sig->i, '@');
	if (key->strict && (at == NULL || strcasecmp(at + 1, sig->d) != 0)) {
		set(r, DKIM_PERMERROR, "i= is a subdomain and the key says t=s");
		return NULL;
	}
	EVP_PKEY *pk = dkim_key_pkey(key, &why);
	if (pk == NULL)
		set(r, DKIM_PERMERROR, why);
	return pk;
}

/* The body hash sig asks for, from m's cache or computed (and kept
 * while there is room). */
static const struct dkim_body_digest *body_digest(struct dkim_msg *m,
						  const struct dkim_sig *sig,
						  struct dkim_body_digest *scratch)
{
	struct dkim_body_digest want = {
		.canon = sig->bcanon, .sha1 = sig->alg == DKIM_ALG_RSA_SHA1,
		.limit = sig->has_l ? sig->l : UINT64_MAX,
	};
	struct dkim_sink sink;

	for (size_t k = 0; k < m->ndigests; k++) {
		const struct dkim_body_digest *d = &m->digest[k];
		if (d->canon == want.canon && d->sha1 == want.sha1 && d->limit == want.limit)
			return d;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, dkim_alg_md(sig->alg), NULL) != 1)
		abort();	/* out of memory: as xmalloc does */
	dkim_sink_md(&sink, ctx);
	want.total = dkim_canon_body(want.canon, m->body, m->body_len, want.limit, &sink);
	if (EVP_DigestFinal_ex(ctx, want.md, &want.mdlen) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	struct dkim_body_digest *d = m->ndigests < DKIM_BODY_DIGESTS ?
				     &m->digest[m->ndigests++] : scratch;
	*d = want;
	return d;
}

int dkim_check_body(struct dkim_msg *m, const struct dkim_sig *sig,
		    struct dkim_sig_result *r)
{
	struct dkim_body_digest scratch;
	const struct dkim_body_digest *d = body_digest(m, sig, &scratch);
	uint64_t total = d->total;

	/* 3.5 l=: a count past the end of the body cannot have been signed
	 * as written; treated as an error rather than a partial pass */
	if (sig->has_l && sig->l > total) {
		set(r, DKIM_PERMERROR, "l= exceeds the body");
		return 0;
	}
	if (d->mdlen != sig->bh_len || CRYPTO_memcmp(d->md, sig->bh, d->mdlen) != 0) {
		set(r, DKIM_FAIL, "body hash mismatch");
		return 0;
	}
	return 1;
}

void dkim_check_sig(const struct dkim_msg *m, const struct dkim_field *f,
		      const struct dkim_sig *sig, EVP_PKEY *pk, struct dkim_sig_result *r)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char *stripped = xmalloc(f->raw_len);
	size_t slen = dkim_strip_b(f->raw, f->raw_len, stripped);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, dkim_alg_md(sig->alg), NULL) != 1)
		abort();
	dkim_hash_headers(m, sig->hcanon, sig->h, sig->nh, stripped, slen, ctx);
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	free(stripped);
	if (!dkim_crypto_verify(pk, sig->alg, md, mdlen, sig->b, sig->b_len)) {
		set(r, DKIM_FAIL, "signature did not verify");
		return;
	}
	r->key_bits = (unsigned)EVP_PKEY_get_bits(pk);
	if (sig->alg == DKIM_ALG_RSA_SHA1)	/* RFC 8301 3.1: MUST NOT be valid */
		set(r, DKIM_POLICY, "rsa-sha1 is not accepted");
	else
		set(r, DKIM_PASS, "");
}

static void verify_one(struct dkim_msg *m, const struct dkim_field *f,
		       const struct ma_dns *dns, time_t now, struct dkim_sig_result *r)
{
	struct dkim_sig *sig = xmalloc(sizeof *sig);
	struct dkim_key *key = xmalloc(sizeof *key);
	const char *colon = memchr(f->raw, ':', f->raw_len), *why;
	size_t off = (size_t)(colon - f->raw) + 1;
	int rc = dkim_sig_parse(f->raw + off, f->raw_len - off, DKIM_SIG_DKIM, sig, &why);

	memcpy(r->d, sig->d, sizeof r->d);
	memcpy(r->s, sig->s, sizeof r->s);
	memcpy(r->i, sig->i, sizeof r->i);
	memcpy(r->a, sig->a, sizeof r->a);
	memcpy(r->b8, sig->b8, sizeof r->b8);
	if (rc < 0) {
		set(r, DKIM_PERMERROR, why);
		goto out;
	}
	uint64_t unow = now < 0 ? 0 : (uint64_t)now;
	if (sig->has_x && unow > sig->x + DKIM_CLOCK_SKEW) {
		set(r, DKIM_FAIL, "signature expired");	/* 6.1.1 */
		goto out;
	}
	if (sig->has_t && sig->t > unow + DKIM_FUTURE_SKEW) {
		set(r, DKIM_FAIL, "signed in the future");
		goto out;
	}
	EVP_PKEY *pk = dkim_fetch_key(dns, sig, key, r);
	if (pk == NULL)
		goto out;
	if (dkim_check_body(m, sig, r))
		dkim_check_sig(m, f, sig, pk, r);
	EVP_PKEY_free(pk);
out:
	free(sig);
	free(key);
}

int dkim_verify(const char *msg, size_t len, const struct ma_dns *dns,
		const struct dkim_verify_opts *opts, struct dkim_verdict *out,
		struct err *err)
{
	struct dkim_msg m;
	size_t max = opts->max_sigs && opts->max_sigs < DKIM_MAX_SIGS ?
		     opts->max_sigs : DKIM_MAX_SIGS;

	memset(out, 0, sizeof *out);
	if (dkim_msg_split(msg, len, &m, err) < 0)
		return -1;
	for (size_t j = 0; j < m.n; j++) {
		if (!dkim_field_is(&m.f[j], "DKIM-Signature", 14))
			continue;
		if (out->n == max) {
			out->unchecked++;
			continue;
		}
		verify_one(&m, &m.f[j], dns, opts->now, &out->r[out->n++]);
	}
	dkim_msg_free(&m);
	return 0;
}
