/* fuzz_dmarc_record.c - libFuzzer target for the DMARC record parser
 * (src/msgauth/dmarc_record.c) and the From-domain helper: any bytes as a
 * TXT record and as a header block. Checks dmarc.h's contracts: a parsed
 * record has a policy and values within range, lists within their limits,
 * complaints printable; a refused one has a reason. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "msgauth/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record rec;
	const char *why = NULL;
	char dom[DMARC_DOMAIN_MAX + 1];

	if (dmarc_record_parse((const char *)data, size, &rec, &why) == 0) {
		CHECK(dmarc_record_is_dmarc((const char *)data, size));
		CHECK(rec.p >= DMARC_POLICY_NONE && rec.p <= DMARC_POLICY_REJECT);
		CHECK(rec.pct <= 100);
		CHECK(rec.n_rua <= DMARC_URIS_MAX && rec.n_ruf <= DMARC_URIS_MAX);
		for (size_t i = 0; i < rec.n_rua; i++)
			CHECK(strlen(rec.rua[i].uri) <= DMARC_URI_MAX && rec.rua[i].uri[0]);
		for (const char *c = rec.complaint; *c; c++)
			CHECK(*c >= 0x20 && *c <= 0x7e);
		CHECK(!rec.p_from_rua || rec.n_rua > 0);
	} else {
		CHECK(why != NULL && why[0] != '\0');
	}
	if (dmarc_domain_norm((const char *)data, size, dom) == 0) {
		CHECK(strlen(dom) <= DMARC_DOMAIN_MAX && dom[0] != '.');
		CHECK(dmarc_aligned(dom, dom, DMARC_ALIGN_STRICT));
	}
	enum dmarc_from_rc rc = dmarc_from_domain(span_make(data, size), dom, &why);
	CHECK(why != NULL);
	if (rc == DMARC_FROM_OK)
		CHECK(dom[0] != '\0' && strlen(dom) <= DMARC_DOMAIN_MAX);
	return 0;
}
