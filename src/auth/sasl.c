/* sasl.c - the SASL PLAIN response (RFC 4616) that IMAP AUTHENTICATE,
 * POP3 AUTH and SMTP AUTH all receive: base64 of
 * [authzid] NUL authcid NUL passwd. Decoding only; the login is checked
 * by auth_login_submit(). */
#include "auth/auth.h"

#include <sodium.h>
#include <string.h>

enum auth_sasl_result auth_sasl_decode(struct span b64, unsigned char *out,
				       size_t outsz, size_t *len_out)
{
	const char *end;
	*len_out = 0;
	if (b64.len == 1 && b64.p[0] == '=')
		return AUTH_SASL_OK;	/* an empty response (RFC 4954 4) */
	if (b64.len > 4 * (outsz / 3) ||
	    sodium_base642bin(out, outsz, (const char *)b64.p, b64.len, NULL,
			      len_out, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != (const char *)b64.p + b64.len) {
		*len_out = 0;
		return AUTH_SASL_BAD_BASE64;
	}
	return AUTH_SASL_OK;
}

enum auth_sasl_result auth_sasl_plain(struct span b64, char *user, size_t usersz,
				      char *password, size_t pwsz,
				      size_t *pwlen_out)
{
	unsigned char raw[AUTH_SASL_MAX];
	size_t len = 0;
	enum auth_sasl_result rc = auth_sasl_decode(b64, raw, sizeof raw, &len);
	if (rc != AUTH_SASL_OK)
		return rc;
	const unsigned char *z1 = memchr(raw, 0, len);
	const unsigned char *z2 = z1 ? memchr(z1 + 1, 0, len - (size_t)(z1 + 1 - raw)) : NULL;
	if (z2 == NULL) {
		rc = AUTH_SASL_MALFORMED;
		goto out;
	}
	size_t authz_len = (size_t)(z1 - raw);
	size_t user_len = (size_t)(z2 - z1 - 1);
	size_t pw_len = len - (size_t)(z2 + 1 - raw);
	if (user_len == 0 || user_len >= usersz || pw_len >= pwsz ||
	    memchr(z2 + 1, 0, pw_len) != NULL) {
		rc = AUTH_SASL_MALFORMED;
		goto out;
	}
	/* Acting as another user (authzid) needs a role we do not offer. */
	if (authz_len > 0 && (authz_len != user_len || memcmp(raw, z1 + 1, user_len))) {
		rc = AUTH_SASL_AUTHZ;
		goto out;
	}
	memcpy(user, z1 + 1, user_len);
	user[user_len] = '\0';
	memcpy(password, z2 + 1, pw_len);
	password[pw_len] = '\0';
	*pwlen_out = pw_len;
out:
	sodium_memzero(raw, sizeof raw);
	return rc;
}
