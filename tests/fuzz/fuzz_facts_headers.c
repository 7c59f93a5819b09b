/* fuzz_facts_headers.c - libFuzzer target for reading filter facts from
 * a message's trace fields (src/filter/facts_headers.c): any bytes give
 * facts whose strings are NUL-terminated within their storage, and a
 * client address only from a public IP. */
#include <stdint.h>
#include <string.h>

#include "filter/facts_headers.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_facts f = { 0 };
	struct filter_facts_hdr fh;

	filter_facts_from_headers(span_make(data, size), &fh, &f);
	CHECK(memchr(fh.helo, '\0', sizeof(fh.helo)) != NULL);
	CHECK(memchr(fh.mail_from, '\0', sizeof(fh.mail_from)) != NULL);
	CHECK(memchr(fh.spf_domain, '\0', sizeof(fh.spf_domain)) != NULL);
	CHECK(f.n_dkim_pass <= FILTER_FACTS_DKIM_MAX);
	for (size_t i = 0; i < f.n_dkim_pass; i++)
		CHECK(strlen(f.dkim_pass_domains[i]) < sizeof(fh.dkim_d[0]));
	if (f.have_ip)
		CHECK(!(f.ip[0] == 0 && f.ip[10] == 0xff && f.ip[12] == 127));
	return 0;
}
