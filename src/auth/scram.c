/* scram.c - SCRAM-SHA-256 (RFC 5802, RFC 7677), server side: making the
 * stored secret from a password, and one exchange (client-first,
 * server-first, client-final, server-final). The server keeps StoredKey
 * and ServerKey, never the password; checking a proof is two HMACs and a
 * hash, cheap enough for the event loop. Messages are parsed from their
 * decoded bytes with explicit lengths; every field has a bound. */
#include "auth/auth.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>

#define SCRAM_PREFIX "SCRAM-SHA-256$"

static void hmac(const unsigned char *key, size_t keylen, const void *msg,
		 size_t len, unsigned char out[AUTH_SCRAM_KEY_LEN])
{
	unsigned int outlen = AUTH_SCRAM_KEY_LEN;
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &outlen) == NULL)
		memset(out, 0, AUTH_SCRAM_KEY_LEN);	/* never matches a proof */
}

static int b64_encode(const unsigned char *in, size_t len, char *out, size_t outsz)
{
	if (outsz < sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL))
		return -1;
	sodium_bin2base64(out, outsz, in, len, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

/* Decode exactly; -1 unless the whole of in is base64 of at most max. */
static int b64_decode(const char *in, size_t len, unsigned char *out, size_t max,
		      size_t *outlen)
{
	if (len > 4 * ((max + 2) / 3))
		return -1;
	const char *end;
	if (sodium_base642bin(out, max, in, len, NULL, outlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || end != in + len)
		return -1;
	return 0;
}

static void derive_keys(const unsigned char salted[AUTH_SCRAM_KEY_LEN],
			struct auth_scram_secret *s)
{
	unsigned char client_key[AUTH_SCRAM_KEY_LEN];
	hmac(salted, AUTH_SCRAM_KEY_LEN, "Client Key", 10, client_key);
	SHA256(client_key, sizeof client_key, s->stored_key);
	hmac(salted, AUTH_SCRAM_KEY_LEN, "Server Key", 10, s->server_key);
	OPENSSL_cleanse(client_key, sizeof client_key);
}

int auth_scram_secret_derive(const char *password, size_t len,
			     const unsigned char *salt, size_t salt_len,
			     unsigned iterations, struct auth_scram_secret *s)
{
	unsigned char salted[AUTH_SCRAM_KEY_LEN];
	if (iterations < AUTH_SCRAM_ITERATIONS_MIN ||
	    iterations > AUTH_SCRAM_ITERATIONS_MAX || len > INT32_MAX ||
	    salt_len == 0 || salt_len > sizeof s->salt)
		return -1;
	s->iterations = iterations;
	s->salt_len = salt_len;
	memcpy(s->salt, salt, salt_len);
	if (PKCS5_PBKDF2_HMAC(password, (int)len, salt, (int)salt_len,
			      (int)iterations, EVP_sha256(), sizeof salted,
			      salted) != 1)
		return -1;
	derive_keys(salted, s);
	OPENSSL_cleanse(salted, sizeof salted);
	return 0;
}

int auth_scram_secret_make(const char *password, size_t len, unsigned iterations,
			   char *out, size_t outsz, struct err *err)
{
	struct auth_scram_secret s;
	unsigned char salt[AUTH_SCRAM_SALT_LEN];
	randombytes_buf(salt, sizeof salt);
	if (auth_scram_secret_derive(password, len, salt, sizeof salt, iterations, &s) != 0)
		return err_set(err, ERR_CONFIG, 0, NULL, "scram: cannot derive the secret");
	char salt64[64], stored64[64], server64[64];
	if (b64_encode(s.salt, s.salt_len, salt64, sizeof salt64) != 0 ||
	    b64_encode(s.stored_key, AUTH_SCRAM_KEY_LEN, stored64, sizeof stored64) != 0 ||
	    b64_encode(s.server_key, AUTH_SCRAM_KEY_LEN, server64, sizeof server64) != 0)
		return err_set(err, ERR_LIMIT, 0, NULL, "scram: encoding");
	int n = snprintf(out, outsz, SCRAM_PREFIX "%u:%s$%s:%s", iterations,
			 salt64, stored64, server64);
	if (n < 0 || (size_t)n >= outsz)
		return err_set(err, ERR_LIMIT, 0, NULL, "scram: secret too long");
	return 0;
}

/* text..end up to the first sep (or end); *next past it. */
static bool field(const char **p, const char *end, char sep, const char **f,
		  size_t *flen)
{
	const char *q = memchr(*p, sep, (size_t)(end - *p));
	if (q == NULL)
		q = end;
	*f = *p;
	*flen = (size_t)(q - *p);
	*p = q < end ? q + 1 : end;
	return *flen > 0;
}

int auth_scram_secret_parse(const char *text, struct auth_scram_secret *out)
{
	size_t len = strlen(text), plen = strlen(SCRAM_PREFIX);
	if (len <= plen || len >= AUTH_SCRAM_SECRET_MAX ||
	    memcmp(text, SCRAM_PREFIX, plen) != 0)
		return -1;
	const char *p = text + plen, *end = text + len, *f;
	size_t flen, n;
	unsigned long long iter = 0;
	if (!field(&p, end, ':', &f, &flen) || flen > 9)
		return -1;
	for (size_t i = 0; i < flen; i++) {
		if (f[i] < '0' || f[i] > '9')
			return -1;
		iter = iter * 10 + (unsigned)(f[i] - '0');
	}
	if (iter < AUTH_SCRAM_ITERATIONS_MIN || iter > AUTH_SCRAM_ITERATIONS_MAX)
		return -1;
	out->iterations = (unsigned)iter;
	if (!field(&p, end, '$', &f, &flen) ||
	    b64_decode(f, flen, out->salt, sizeof out->salt, &out->salt_len) != 0 ||
	    out->salt_len == 0)
		return -1;
	if (!field(&p, end, ':', &f, &flen) ||
	    b64_decode(f, flen, out->stored_key, AUTH_SCRAM_KEY_LEN, &n) != 0 ||
	    n != AUTH_SCRAM_KEY_LEN)
		return -1;
	if (!field(&p, end, '\0', &f, &flen) ||
	    b64_decode(f, flen, out->server_key, AUTH_SCRAM_KEY_LEN, &n) != 0 ||
	    n != AUTH_SCRAM_KEY_LEN)
		return -1;
	return 0;
}

void auth_scram_mock(const unsigned char *key, size_t keylen, const char *user,
		     struct auth_scram_secret *out)
{
	/* Case-folded, so that spelling an unknown name differently does
	 * not show a different salt where a real user's would not change. */
	char folded[AUTH_USER_MAX];
	size_t n = strnlen(user, sizeof folded - 1);
	for (size_t i = 0; i < n; i++)
		folded[i] = (user[i] >= 'A' && user[i] <= 'Z') ? (char)(user[i] + 32) : user[i];
	folded[n] = '\0';
	unsigned char buf[AUTH_SCRAM_KEY_LEN];
	char msg[AUTH_USER_MAX + 8];
	int m = snprintf(msg, sizeof msg, "salt:%s", folded);
	hmac(key, keylen, msg, (size_t)m, buf);
	out->iterations = AUTH_SCRAM_ITERATIONS;
	out->salt_len = AUTH_SCRAM_SALT_LEN;
	memcpy(out->salt, buf, AUTH_SCRAM_SALT_LEN);
	m = snprintf(msg, sizeof msg, "keys:%s", folded);
	hmac(key, keylen, msg, (size_t)m, buf);
	derive_keys(buf, out);
	OPENSSL_cleanse(buf, sizeof buf);
}

/* RFC 5802 5.1: saslname, with "=2C" for ',' and "=3D" for '='. */
static int unescape_name(const char *f, size_t flen, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < flen; i++) {
		char ch = f[i];
		if (ch == '\0' || ch == ',')
			return -1;
		if (ch == '=') {
			if (i + 2 >= flen)
				return -1;
			if (f[i + 1] == '2' && f[i + 2] == 'C')
				ch = ',';
			else if (f[i + 1] == '3' && f[i + 2] == 'D')
				ch = '=';
			else
				return -1;
			i += 2;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = ch;
	}
	if (o == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

static bool printable_nonce(const char *f, size_t flen)
{
	/* RFC 5802 7: printable ASCII except ',' */
	for (size_t i = 0; i < flen; i++)
		if (f[i] < 0x21 || f[i] > 0x7e || f[i] == ',')
			return false;
	return flen > 0;
}

enum auth_sasl_result auth_scram_client_first(struct auth_scram *sc,
					       const unsigned char *msg, size_t len)
{
	const char *p = (const char *)msg, *end = p + len, *f;
	size_t flen;
	if (len == 0 || len > AUTH_SCRAM_MSG_MAX || memchr(msg, '\0', len))
		return AUTH_SASL_MALFORMED;
	/* gs2-header: "n" or "y" (no channel binding; we offer no -PLUS
	 * mechanism, RFC 5802 6), then an optional authzid. */
	if (len < 3 || (p[0] != 'n' && p[0] != 'y') || p[1] != ',')
		return AUTH_SASL_MALFORMED;
	p += 2;
	const char *authz = NULL;
	size_t authz_len = 0;
	if (p < end && *p != ',') {
		if (!field(&p, end, ',', &f, &flen) || flen < 3 || f[0] != 'a' || f[1] != '=')
			return AUTH_SASL_MALFORMED;
		authz = f + 2;
		authz_len = flen - 2;
	} else {
		p++;
	}
	sc->gs2_len = (size_t)(p - (const char *)msg);
	memcpy(sc->gs2, msg, sc->gs2_len);	/* at most AUTH_SCRAM_MSG_MAX */
	const char *bare = p;
	/* "m=" (reserved-mext) is a mandatory extension we do not know */
	if (!field(&p, end, ',', &f, &flen) || flen < 3 || f[0] != 'n' || f[1] != '=')
		return AUTH_SASL_MALFORMED;
	if (unescape_name(f + 2, flen - 2, sc->user, sizeof sc->user) != 0)
		return AUTH_SASL_MALFORMED;
	if (!field(&p, end, ',', &f, &flen) || flen < 3 || f[0] != 'r' || f[1] != '=' ||
	    !printable_nonce(f + 2, flen - 2) || flen - 2 >= sizeof sc->nonce - AUTH_SCRAM_SNONCE_LEN)
		return AUTH_SASL_MALFORMED;
	memcpy(sc->nonce, f + 2, flen - 2);
	sc->cnonce_len = flen - 2;
	if (authz != NULL) {
		char az[AUTH_USER_MAX];
		if (unescape_name(authz, authz_len, az, sizeof az) != 0)
			return AUTH_SASL_MALFORMED;
		if (strcmp(az, sc->user) != 0)
			return AUTH_SASL_AUTHZ;
	}
	sc->bare_len = (size_t)(end - bare);
	memcpy(sc->bare, bare, sc->bare_len);
	return AUTH_SASL_OK;
}

int auth_scram_server_first(struct auth_scram *sc, char *out, size_t outsz)
{
	unsigned char rnd[AUTH_SCRAM_SNONCE_LEN * 3 / 4];
	char snonce[AUTH_SCRAM_SNONCE_LEN + 4];
	randombytes_buf(rnd, sizeof rnd);
	/* base64 is printable and has no ',' */
	if (b64_encode(rnd, sizeof rnd, snonce, sizeof snonce) != 0)
		return -1;
	return auth_scram_server_first_nonce(sc, snonce, strlen(snonce), out, outsz);
}

int auth_scram_server_first_nonce(struct auth_scram *sc, const char *snonce,
				  size_t snonce_len, char *out, size_t outsz)
{
	char salt64[128];
	if (!printable_nonce(snonce, snonce_len) ||
	    sc->cnonce_len + snonce_len > sizeof sc->nonce ||
	    b64_encode(sc->secret.salt, sc->secret.salt_len, salt64, sizeof salt64) != 0)
		return -1;
	memcpy(sc->nonce + sc->cnonce_len, snonce, snonce_len);
	sc->nonce_len = sc->cnonce_len + snonce_len;
	int n = snprintf(sc->server_first, sizeof sc->server_first, "r=%.*s,s=%s,i=%u",
			 (int)sc->nonce_len, sc->nonce, salt64, sc->secret.iterations);
	if (n < 0 || (size_t)n >= sizeof sc->server_first)
		return -1;
	sc->sf_len = (size_t)n;
	return b64_encode((const unsigned char *)sc->server_first, sc->sf_len, out, outsz);
}

enum auth_sasl_result auth_scram_client_final(struct auth_scram *sc,
					       const unsigned char *msg, size_t len,
					       bool *proof_ok, char *out, size_t outsz)
{
	const char *p = (const char *)msg, *end = p + len, *f;
	size_t flen;
	*proof_ok = false;
	if (len == 0 || len > AUTH_SCRAM_MSG_MAX || memchr(msg, '\0', len))
		return AUTH_SASL_MALFORMED;
	/* c=: base64 of the gs2 header as sent in client-first */
	unsigned char cbraw[AUTH_SCRAM_MSG_MAX];
	size_t cblen;
	if (!field(&p, end, ',', &f, &flen) || flen < 3 || f[0] != 'c' || f[1] != '=' ||
	    b64_decode(f + 2, flen - 2, cbraw, sizeof cbraw, &cblen) != 0 ||
	    cblen != sc->gs2_len || memcmp(cbraw, sc->gs2, cblen) != 0)
		return AUTH_SASL_MALFORMED;
	if (!field(&p, end, ',', &f, &flen) || flen < 3 || f[0] != 'r' || f[1] != '=' ||
	    flen - 2 != sc->nonce_len || memcmp(f + 2, sc->nonce, sc->nonce_len) != 0)
		return AUTH_SASL_MALFORMED;
	/* extensions may follow; the proof is last */
	const char *proof = NULL;
	size_t proof_len = 0;
	while (p < end) {
		if (!field(&p, end, ',', &f, &flen) || flen < 2 || f[1] != '=')
			return AUTH_SASL_MALFORMED;
		if (f[0] == 'p') {
			if (p != end)
				return AUTH_SASL_MALFORMED;
			proof = f + 2;
			proof_len = flen - 2;
		}
	}
	unsigned char client_proof[AUTH_SCRAM_KEY_LEN];
	size_t n;
	if (proof == NULL || proof + proof_len != end ||
	    b64_decode(proof, proof_len, client_proof, sizeof client_proof, &n) != 0 ||
	    n != AUTH_SCRAM_KEY_LEN)
		return AUTH_SASL_MALFORMED;
	/* AuthMessage = client-first-bare "," server-first ","
	 * client-final-without-proof */
	size_t without_proof = (size_t)(proof - 3 - (const char *)msg);
	/* bounded by the three parts' own bounds */
	unsigned char am[sizeof sc->bare + sizeof sc->server_first + AUTH_SCRAM_MSG_MAX + 2];
	size_t amlen = 0;
	memcpy(am, sc->bare, sc->bare_len);
	amlen += sc->bare_len;
	am[amlen++] = ',';
	memcpy(am + amlen, sc->server_first, sc->sf_len);
	amlen += sc->sf_len;
	am[amlen++] = ',';
	memcpy(am + amlen, msg, without_proof);
	amlen += without_proof;

	unsigned char sig[AUTH_SCRAM_KEY_LEN], client_key[AUTH_SCRAM_KEY_LEN],
		      check[AUTH_SCRAM_KEY_LEN], server_sig[AUTH_SCRAM_KEY_LEN];
	hmac(sc->secret.stored_key, AUTH_SCRAM_KEY_LEN, am, amlen, sig);
	for (size_t i = 0; i < AUTH_SCRAM_KEY_LEN; i++)
		client_key[i] = client_proof[i] ^ sig[i];
	SHA256(client_key, sizeof client_key, check);
	*proof_ok = CRYPTO_memcmp(check, sc->secret.stored_key, AUTH_SCRAM_KEY_LEN) == 0;
	hmac(sc->secret.server_key, AUTH_SCRAM_KEY_LEN, am, amlen, server_sig);
	char v[128], sig64[64];
	int rc = b64_encode(server_sig, sizeof server_sig, sig64, sizeof sig64);
	int m = snprintf(v, sizeof v, "v=%s", sig64);
	if (rc != 0 || m < 0 || (size_t)m >= sizeof v ||
	    b64_encode((const unsigned char *)v, (size_t)m, out, outsz) != 0)
		*proof_ok = false;
	OPENSSL_cleanse(client_key, sizeof client_key);
	OPENSSL_cleanse(client_proof, sizeof client_proof);
	return AUTH_SASL_OK;
}
