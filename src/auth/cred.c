/* cred.c - app passwords: made from libsodium's random generator, shown
 * once, kept as a keyed BLAKE2b (decision 0021). */
#include "auth/auth.h"

#include <sodium.h>
#include <string.h>

#include "store/store.h"

void auth_app_password_random(char out[AUTH_APP_PASSWORD_TEXT])
{
	size_t o = 0;
	for (size_t i = 0; i < AUTH_APP_PASSWORD_LETTERS; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = (char)('a' + randombytes_uniform(26));
	}
	out[o] = '\0';
}

int auth_app_password_hash(const unsigned char key[32], const char *password,
			   size_t len, unsigned char out[AUTH_APP_PASSWORD_HASH_LEN])
{
	unsigned char letters[AUTH_APP_PASSWORD_LETTERS];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)password[i];
		if (ch == '-' || ch == ' ')
			continue;
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch + 32);
		if (ch < 'a' || ch > 'z' || n == sizeof letters) {
			sodium_memzero(letters, sizeof letters);
			return -1;
		}
		letters[n++] = ch;
	}
	int ret = -1;
	if (n == sizeof letters)
		ret = crypto_generichash(out, AUTH_APP_PASSWORD_HASH_LEN, letters,
					 n, key, 32);
	sodium_memzero(letters, sizeof letters);
	return ret == 0 ? 0 : -1;
}

int auth_app_password_create(struct store *st, const char *address,
			     const char *name, char out[AUTH_APP_PASSWORD_TEXT],
			     int64_t *id_out, struct err *err)
{
	unsigned char key[32], hash[AUTH_APP_PASSWORD_HASH_LEN];
	if (store_app_password_key(st, key, err) < 0)
		return -1;
	auth_app_password_random(out);
	int ret = auth_app_password_hash(key, out, strlen(out), hash);
	sodium_memzero(key, sizeof key);
	if (ret == 0)
		ret = store_app_password_add(st, address, name, hash, id_out, err);
	if (ret != 0)
		sodium_memzero(out, AUTH_APP_PASSWORD_TEXT);
	return ret;
}
