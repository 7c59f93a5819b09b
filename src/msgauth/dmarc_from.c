/* dmarc_from.c - the RFC5322.From domain DMARC evaluates (RFC 7489 3.1,
 * 6.6.1), through the MIME layer's header iterator and address parser. */
#include "msgauth/dmarc.h"

#include <string.h>

#include "mime/mime.h"

static enum dmarc_from_rc from_addrs(struct span value, char *out, const char **why)
{
	struct mime_addr_list list;
	char dom[DMARC_DOMAIN_MAX + 1];
	size_t n = 0;
	enum dmarc_from_rc rc = DMARC_FROM_OK;

	mime_addr_parse(value, &list);
	for (size_t i = 0; i < list.n && rc == DMARC_FROM_OK; i++) {
		const struct mime_addr *a = &list.addrs[i];
		if (a->kind != MIME_ADDR_MAILBOX)
			continue;
		if (a->domain.len == 0 || a->invalid ||
		    dmarc_domain_norm((const char *)a->domain.p, a->domain.len, dom) < 0) {
			rc = DMARC_FROM_INVALID;
			*why = "a From address without a usable domain";
		} else if (n++ == 0) {
			memcpy(out, dom, strlen(dom) + 1);
		} else {
			/* 6.6.1 would evaluate each author's domain and apply
			 * the strictest failing policy, and notes such
			 * messages are "typically rejected"; we hand the
			 * caller one answer: reject (decision 0028). */
			rc = DMARC_FROM_MULTIPLE;
			*why = "From has several addresses";
		}
	}
	mime_addr_list_free(&list);
	if (rc == DMARC_FROM_OK && n == 0) {
		rc = DMARC_FROM_INVALID;
		*why = "From has no address";
	}
	return rc;
}

enum dmarc_from_rc dmarc_from_domain(struct span header, char *out,
				     const char **why)
{
	struct span name, value, from = { NULL, 0 };
	size_t pos = 0, n = 0;

	out[0] = '\0';
	while (mime_header_next(header, &pos, &name, &value) == 1)
		if (span_eq_ci(name, "from") && n++ == 0)
			from = value;
	if (n == 0) {
		*why = "no From field (RFC 5322 3.6 requires one)";
		return DMARC_FROM_MISSING;
	}
	if (n > 1) {
		*why = "several From fields (RFC 5322 3.6 allows one)";
		return DMARC_FROM_MULTIPLE;
	}
	enum dmarc_from_rc rc = from_addrs(from, out, why);
	if (rc == DMARC_FROM_OK)
		*why = "one From domain";
	else
		out[0] = '\0';
	return rc;
}
