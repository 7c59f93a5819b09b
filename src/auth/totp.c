/* totp.c - time-based one-time passwords (RFC 6238 over RFC 4226's
 * HOTP), base32 for the secrets (RFC 4648 6), and the otpauth:// URI
 * authenticator apps scan. HMAC comes from OpenSSL (libsodium has no
 * SHA-1). */
#include "auth/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "store/store.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint32_t auth_totp_code(enum auth_totp_alg alg, const unsigned char *key,
			size_t keylen, uint64_t counter, unsigned digits)
{
	const EVP_MD *md = alg == AUTH_TOTP_SHA256 ? EVP_sha256()
			 : alg == AUTH_TOTP_SHA512 ? EVP_sha512() : EVP_sha1();
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	for (int i = 0; i < 8; i++)
		msg[i] = (unsigned char)(counter >> (56 - 8 * i));
	if (HMAC(md, key, (int)keylen, msg, sizeof msg, mac, &maclen) == NULL ||
	    maclen < 20)
		return UINT32_MAX;
	/* RFC 4226 5.3: dynamic truncation */
	unsigned off = mac[maclen - 1] & 0x0f;
	uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) |
		       ((uint32_t)mac[off + 1] << 16) |
		       ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
	uint32_t mod = 1;
	for (unsigned i = 0; i < digits && i < 9; i++)
		mod *= 10;
	sodium_memzero(mac, sizeof mac);
	return bin % mod;
}

int auth_base32_encode(const unsigned char *in, size_t n, char *out,
		       size_t outsz)
{
	size_t need = (n * 8 + 4) / 5 + 1, o = 0;
	if (outsz < need)
		return -1;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return 0;
}

int auth_base32_decode(const char *in, size_t len, unsigned char *out,
		       size_t outsz, size_t *outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (ch == '=' || ch == ' ')
			continue;
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		const char *p = ch != '\0' ? strchr(b32_alphabet, ch) : NULL;
		if (p == NULL)
			return -1;
		acc = (acc << 5) | (uint32_t)(p - b32_alphabet);
		bits += 5;
		if (bits >= 8) {
			if (o == outsz)
				return -1;
			out[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	*outlen = o;
	return 0;
}

int64_t auth_totp_match(const unsigned char *key, size_t keylen, int64_t now,
			const char *code, size_t len, int64_t last_step)
{
	if (len != AUTH_TOTP_DIGITS || now < 0)
		return -1;
	uint32_t want = 0;
	for (size_t i = 0; i < len; i++) {
		if (code[i] < '0' || code[i] > '9')
			return -1;
		want = want * 10 + (uint32_t)(code[i] - '0');
	}
	int64_t t = now / AUTH_TOTP_STEP, found = -1;
	/* every step of the window is computed, so the time taken does not
	 * say which one matched */
	for (int64_t s = t - AUTH_TOTP_WINDOW; s <= t + AUTH_TOTP_WINDOW; s++) {
		if (s < 0)
			continue;
		uint32_t c = auth_totp_code(AUTH_TOTP_SHA1, key, keylen,
					    (uint64_t)s, AUTH_TOTP_DIGITS);
		if (c == want && s > last_step && found < 0)
			found = s;
	}
	return found;
}

/* Percent-encode all but RFC 3986 unreserved characters and '@'. */
static int uri_escape(const char *s, char *out, size_t outsz, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || strchr("-._~@", ch);
		if (*o + 4 > outsz)
			return -1;
		if (plain) {
			out[(*o)++] = (char)ch;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[ch >> 4];
			out[(*o)++] = hex[ch & 15];
		}
	}
	out[*o] = '\0';
	return 0;
}

int auth_totp_uri(const char *address, const char *secret_b32, char *out,
		  size_t outsz)
{
	size_t o = 0;
	int n = snprintf(out, outsz, "otpauth://totp/petrel:");
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	o = (size_t)n;
	if (uri_escape(address, out, outsz, &o) < 0)
		return -1;
	n = snprintf(out + o, outsz - o, "?secret=%s&issuer=petrel", secret_b32);
	return n < 0 || (size_t)n >= outsz - o ? -1 : 0;
}

int auth_totp_enable(struct store *st, const char *address, char *out,
		     size_t outsz, struct err *err)
{
	unsigned char key[AUTH_TOTP_SECRET_LEN];
	randombytes_buf(key, sizeof key);
	int ret = auth_base32_encode(key, sizeof key, out, outsz);
	sodium_memzero(key, sizeof key);
	if (ret < 0)
		return err_set(err, ERR_LIMIT, 0, "", "secret buffer too small");
	return store_totp_set(st, address, out, err);
}

int auth_totp_verify(struct store *st, const char *address, const char *code,
		     int64_t now, struct err *err)
{
	char secret[STORE_TOTP_SECRET_MAX + 1];
	unsigned char key[STORE_TOTP_SECRET_MAX];
	size_t keylen = 0;
	int64_t last = 0;
	if (store_totp_get(st, address, secret, sizeof secret, &last, err) < 0)
		return -1;
	if (secret[0] == '\0')
		return err_set(err, ERR_NOTFOUND, 0, "",
			       "%s has no TOTP enabled", address);
	int ret = -1;
	if (auth_base32_decode(secret, strlen(secret), key, sizeof key,
			       &keylen) < 0) {
		err_set(err, ERR_ENV, 0, "", "stored TOTP secret is not base32");
	} else {
		int64_t step = auth_totp_match(key, keylen, now, code,
					       strlen(code), last);
		/* the store takes the step only if no one took it (or a later
		 * one) meanwhile: two logins racing with one code, one wins */
		ret = step < 0 ? 0 : store_totp_use(st, address, step, err);
	}
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(key, sizeof key);
	if (ret < 0)
		return -1;
	if (store_audit_add(st, ret ? "totp.ok" : "totp.fail", address, "", "",
			    err) < 0)
		return -1;
	return ret;
}
