/* fuzz_dkim_key.c - libFuzzer target for DKIM key records (dkim_key.c)
 * and turning their p= into an EVP_PKEY (dkim_crypto.c): no crash, no
 * leak, and no RSA key under the minimum size gets through. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "msgauth/dkim_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_key *k = malloc(sizeof *k);
	const char *why = NULL;

	if (dkim_key_parse((const char *)data, size, k, &why) == 0) {
		if (k->p_len > DKIM_MAX_KEY_BYTES || k->revoked != (k->p_len == 0))
			abort();
		EVP_PKEY *pk = dkim_key_pkey(k, &why);
		if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
		    EVP_PKEY_get_bits(pk) < DKIM_MIN_RSA_BITS)
			abort();
		EVP_PKEY_free(pk);
	} else if (why == NULL) {
		abort();
	}
	free(k);
	return 0;
}
