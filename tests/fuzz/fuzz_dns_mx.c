/* fuzz_dns_mx.c - libFuzzer target for the DNS answer data petrel reads
 * itself: MX rdata, A/AAAA rdata, and the name and literal parsers on
 * the same bytes as text. A decoded name must be valid text that
 * dns_name_valid accepts back unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DNS_NAME_MAX + 1], again[DNS_NAME_MAX + 1];
	unsigned pref;
	if (dns_mx_decode(data, size, &pref, name, sizeof name) == 0) {
		size_t n = strlen(name);
		if (pref > 65535 || n > DNS_NAME_MAX)
			abort();
		if (n > 0 && (!dns_name_valid(name, again) || strcmp(name, again) != 0))
			abort();
	}
	struct dns_addr a;
	(void)dns_addr_decode(AF_INET, data, size, &a);
	(void)dns_addr_decode(AF_INET6, data, size, &a);

	/* the same bytes as a NUL-terminated name or literal */
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (dns_name_valid(text, name) && strlen(name) > DNS_NAME_MAX)
		abort();
	int l = dns_literal_parse(text, true, &a);
	if (l == 1 && a.family != AF_INET && a.family != AF_INET6)
		abort();
	(void)dns_literal_parse(text, false, &a);
	free(text);
	return 0;
}
