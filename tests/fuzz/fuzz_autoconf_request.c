/* fuzz_autoconf_request.c - libFuzzer target for the Autodiscover
 * request parser (src/autoconf/autoconf_request.c) and what the server
 * does with its result: any bytes as a request body; an accepted one
 * has a bounded, NUL-free address; a refused one says why and leaves
 * nothing behind. The same bytes as an address and a Host header; an
 * accepted address goes through every document, and each must still
 * be well-formed XML (escaping holds for whatever the address has). */
#include <expat.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autoconf/autoconf.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void well_formed(const char *x, size_t len)
{
	XML_Parser p = XML_ParserCreate(NULL);
	CHECK(p != NULL);
	CHECK(XML_Parse(p, x, (int)len, XML_TRUE) == XML_STATUS_OK);
	XML_ParserFree(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct autoconf_ad_request rq;
	const char *why = NULL;
	enum autoconf_ad_status s = autoconf_ad_parse(span_make(data, size), &rq,
						      &why);
	if (s == AUTOCONF_AD_OK) {
		CHECK(strlen(rq.email) < sizeof rq.email);
		CHECK(rq.schema[0] == '\0' ||
		      !strcmp(rq.schema, AUTOCONF_AD_OUTLOOK_SCHEMA));
	} else {
		CHECK(why != NULL && why[0] != '\0');
		CHECK(s == AUTOCONF_AD_INVALID || s == AUTOCONF_AD_SCHEMA);
	}

	char text[512];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	struct autoconf_who w;
	(void)autoconf_host_parse(span_make(data, size), &w);
	if (autoconf_email_parse(s == AUTOCONF_AD_OK ? rq.email : text, &w) != 0)
		return 0;
	CHECK(strchr(w.email, '@') != NULL && w.domain[0] != '\0');
	struct config cfg;
	cfg_defaults(&cfg);
	struct cfg_client_services svc;
	cfg_client_services(&cfg, &svc);
	size_t len;
	char *x = autoconf_mozilla(&svc, &w, &len);
	well_formed(x, len);
	free(x);
	x = autoconf_ad_response(&svc, &w, &len);
	well_formed(x, len);
	free(x);
	x = autoconf_mobileconfig(&svc, &w, &len);
	/* the plist names Apple's DTD, which expat does not fetch */
	well_formed(x, len);
	free(x);
	x = autoconf_ad_error(600, w.email, 0, &len);
	well_formed(x, len);
	free(x);
	return 0;
}
