/* fuzz_cred.c - libFuzzer target for what reads credentials a client or
 * an administrator types: the app password normaliser (every login's
 * password goes through it, before authentication), base32 secrets and
 * TOTP codes. Results are checked against auth.h's contracts; a breach
 * aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[32] = { 1, 2, 3 };
	const char *s = (const char *)data;
	unsigned char h[AUTH_APP_PASSWORD_HASH_LEN], h2[AUTH_APP_PASSWORD_HASH_LEN];
	if (auth_app_password_hash(key, s, size, h) == 0) {
		/* shaped: 16 letters once dashes and spaces are dropped, and
		 * the same hash as its canonical form */
		char canon[AUTH_APP_PASSWORD_LETTERS + 1];
		size_t n = 0;
		for (size_t i = 0; i < size; i++) {
			char ch = s[i];
			if (ch == '-' || ch == ' ')
				continue;
			CHECK(n < AUTH_APP_PASSWORD_LETTERS);
			canon[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
		CHECK(n == AUTH_APP_PASSWORD_LETTERS);
		CHECK(auth_app_password_hash(key, canon, n, h2) == 0);
		CHECK(memcmp(h, h2, sizeof h) == 0);
	}

	unsigned char raw[64];
	size_t len = 0;
	if (auth_base32_decode(s, size, raw, sizeof raw, &len) == 0) {
		CHECK(len <= sizeof raw);
		char back[160];
		CHECK(auth_base32_encode(raw, len, back, sizeof back) == 0);
		CHECK(strlen(back) == (len * 8 + 4) / 5);
		int64_t step = auth_totp_match(raw, len, 1111111111, s,
					       size < 8 ? size : 8, 0);
		CHECK(step == -1 || (step >= 1111111111 / 30 - 1 &&
				     step <= 1111111111 / 30 + 1));
	}
	return 0;
}
