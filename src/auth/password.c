/* password.c - Argon2id password hashes through libsodium.
 * Interactive limits are libsodium's INTERACTIVE preset (64 MiB, 2 passes)
 * which keeps a login under ~100 ms on small machines. */
#include "auth/auth.h"

#include <sodium.h>
#include <string.h>

int auth_init(struct err *err)
{
	if (sodium_init() < 0)
		return err_set(err, ERR_ENV, 0, NULL, "libsodium failed to initialise");
	return 0;
}

int auth_password_hash_cost(const char *password, size_t len, char *out,
			    size_t outsz, unsigned long long opslimit,
			    size_t memlimit, struct err *err)
{
	if (outsz < crypto_pwhash_STRBYTES)
		return err_set(err, ERR_ENV, 0, NULL, "hash buffer too small");
	if (crypto_pwhash_str(out, password, len, opslimit, memlimit) != 0)
		return err_set(err, ERR_ENV, 0, NULL, "out of memory hashing a password");
	return 0;
}

int auth_password_hash(const char *password, size_t len, char *out,
		       size_t outsz, struct err *err)
{
	return auth_password_hash_cost(password, len, out, outsz,
				       crypto_pwhash_OPSLIMIT_INTERACTIVE,
				       crypto_pwhash_MEMLIMIT_INTERACTIVE, err);
}

bool auth_password_check(const char *hash, const char *password, size_t len)
{
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

void auth_password_random(char *out, size_t n)
{
	static const char alphabet[] =
		"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
	out[n] = '\0';
}
