/* dkim_crypto.c - the public-key side of DKIM and ARC with OpenSSL 3:
 * key record bytes to an EVP_PKEY, and signing or verifying a digest with
 * RSA PKCS#1 v1.5 (RFC 6376 3.3.1) or Ed25519 (RFC 8463 3). */
#include "msgauth/dkim_private.h"

#include <openssl/rsa.h>
#include <openssl/x509.h>

const EVP_MD *dkim_alg_md(enum dkim_alg a)
{
	return a == DKIM_ALG_RSA_SHA1 ? EVP_sha1() : EVP_sha256();
}

EVP_PKEY *dkim_key_pkey(const struct dkim_key *k, const char **why)
{
	const unsigned char *p = k->p;
	EVP_PKEY *key;

	if (k->ed25519) {
		key = k->p_len == 32 ?
		      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->p, 32) : NULL;
		if (key == NULL)
			*why = "bad ed25519 key";
		return key;
	}
	/* 3.6.1 says SubjectPublicKeyInfo; some publish a bare RSAPublicKey */
	key = d2i_PUBKEY(NULL, &p, (long)k->p_len);
	if (key == NULL) {
		p = k->p;
		key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)k->p_len);
	}
	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		EVP_PKEY_free(key);
		*why = "bad rsa key";
		return NULL;
	}
	if (EVP_PKEY_get_bits(key) < DKIM_MIN_RSA_BITS) {
		EVP_PKEY_free(key);
		*why = "rsa key under 1024 bits";	/* RFC 8301 3.2 */
		return NULL;
	}
	return key;
}

static EVP_PKEY_CTX *rsa_ctx(EVP_PKEY *key, enum dkim_alg a, bool sign)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);

	if (ctx == NULL)
		return NULL;
	if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, dkim_alg_md(a)) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool alg_fits(EVP_PKEY *key, enum dkim_alg a)
{
	int id = EVP_PKEY_get_base_id(key);

	return a == DKIM_ALG_ED25519_SHA256 ? id == EVP_PKEY_ED25519 : id == EVP_PKEY_RSA;
}

int dkim_crypto_verify(EVP_PKEY *key, enum dkim_alg a, const unsigned char *digest,
		       size_t dlen, const unsigned char *sig, size_t slen)
{
	int ok = 0;

	if (!alg_fits(key, a))
		return 0;
	if (a == DKIM_ALG_ED25519_SHA256) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		ok = m != NULL && EVP_DigestVerifyInit(m, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestVerify(m, sig, slen, digest, dlen) == 1;
		EVP_MD_CTX_free(m);
		return ok;
	}
	EVP_PKEY_CTX *ctx = rsa_ctx(key, a, false);
	ok = ctx != NULL && EVP_PKEY_verify(ctx, sig, slen, digest, dlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

int dkim_crypto_sign(EVP_PKEY *key, enum dkim_alg a, const unsigned char *digest,
		     size_t dlen, unsigned char *sig, size_t *slen)
{
	size_t n = DKIM_MAX_SIG_BYTES;
	int ok = 0;

	if (!alg_fits(key, a))
		return -1;
	if (a == DKIM_ALG_ED25519_SHA256) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		ok = m != NULL && EVP_DigestSignInit(m, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(m, NULL, &n, digest, dlen) == 1 &&
		     n <= DKIM_MAX_SIG_BYTES &&
		     EVP_DigestSign(m, sig, &n, digest, dlen) == 1;
		EVP_MD_CTX_free(m);
	} else {
		EVP_PKEY_CTX *ctx = rsa_ctx(key, a, true);
		ok = ctx != NULL && EVP_PKEY_sign(ctx, NULL, &n, digest, dlen) == 1 &&
		     n <= DKIM_MAX_SIG_BYTES &&
		     EVP_PKEY_sign(ctx, sig, &n, digest, dlen) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	if (!ok)
		return -1;
	*slen = n;
	return 0;
}
