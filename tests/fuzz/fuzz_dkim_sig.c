/* fuzz_dkim_sig.c - libFuzzer target for the DKIM-Signature, ARC-Message-
 * Signature and ARC-Seal value parser (dkim_sig.c) and the b= removal of
 * the canonicaliser: whatever the bytes, parsing stays inside its limits
 * and what it accepts holds together. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dkim_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_sig *sig = malloc(sizeof *sig);
	const char *why = NULL;

	/* the kind (DKIM, ARC-Message-Signature, ARC-Seal) from the size */
	enum dkim_sig_kind kind = (enum dkim_sig_kind)(size % 3);
	if (dkim_sig_parse((const char *)data, size, kind, sig, &why) == 0) {
		if ((kind == DKIM_SIG_DKIM && sig->nh == 0) || (kind == DKIM_SIG_AS && sig->nh) ||
		    (kind != DKIM_SIG_DKIM && (sig->instance < 1 || sig->instance > ARC_MAX_SETS)) ||
		    sig->nh > DKIM_MAX_SIGNED_HEADERS ||
		    sig->b_len == 0 || sig->b_len > DKIM_MAX_SIG_BYTES ||
		    sig->d[0] == '\0' || strlen(sig->b8) > 8)
			abort();
		for (size_t k = 0; k < sig->nh; k++)
			if (sig->h[k].p < data || sig->h[k].p + sig->h[k].len > data + size)
				abort();
	} else if (why == NULL) {
		abort();
	}
	free(sig);

	char *out = malloc(size ? size : 1);
	if (dkim_strip_b((const char *)data, size, out) > size)
		abort();
	free(out);
	return 0;
}
