/* fuzz_lookalike.c - libFuzzer target for src/filter/lookalike*.c: any
 * bytes as a candidate domain against a fixed protected set, and, split
 * at the first NUL, as a From display name and address against a fixed
 * user set. Checks lookalike.h's contracts: the return value matches the
 * result, a protected match is named, reasons are printable ASCII, the
 * candidate is never called a lookalike of itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/lookalike.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lookalike_set *dom_set;
static struct imperson_set *user_set;

static void init(void)
{
	static const char *const prot[] = { "example.com", "paypal.com",
					    "petrel.test", "northwindtraders.com",
					    "xn--bcher-kva.example" };
	static const char *const allow[] = { "examp1e.com" };
	static const struct imperson_user users[] = {
		{ "Jane Smith", "ceo@example.com" },
		{ NULL, "john.doe@example.com" },
		{ "王小明", "wang@example.com" },
	};
	static const char *const hosted[] = { "example.org" };

	if (lookalike_set_new(prot, 5, allow, 1, &dom_set, NULL) < 0 ||
	    imperson_set_new(users, 3, hosted, 1, &user_set, NULL) < 0)
		abort();
}

static void check_text(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	CHECK(n < max);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] >= 0x20 && s[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lookalike_result r;
	struct imperson_result ir;
	const char *p = (const char *)data;

	if (dom_set == NULL)
		init();
	int rc = lookalike_check(dom_set, p, size, &r);
	CHECK(rc >= -1 && rc <= 1);
	check_text(r.reason, sizeof r.reason);
	if (rc == -1)
		CHECK(r.reason[0] != '\0' && r.why == 0);
	if (rc == 0)
		CHECK(r.why == 0);
	if (rc == 1) {
		CHECK(r.why != 0 && r.reason[0] != '\0');
		CHECK(strlen(r.domain) > 0 && strlen(r.domain) <= LOOKALIKE_DOMAIN_MAX);
		if (r.why & (LOOKALIKE_EDIT | LOOKALIKE_HOMOGLYPH))
			CHECK(r.match[0] != '\0' && strcmp(r.match, r.domain) != 0);
		if (r.why & LOOKALIKE_EDIT)
			CHECK(r.distance >= 1 && r.distance <= 2);
		/* The A-label form is stable: checking it again agrees. */
		struct lookalike_result r2;
		char d[LOOKALIKE_DOMAIN_MAX + 1];
		memcpy(d, r.domain, sizeof d);
		CHECK(lookalike_check(dom_set, d, strlen(d), &r2) == 1);
		CHECK(r2.why == r.why && strcmp(r2.match, r.match) == 0);
	}

	const char *nul = memchr(p, '\0', size);
	size_t nlen = nul ? (size_t)(nul - p) : size;
	const char *addr = nul ? nul + 1 : "x@evil.test";
	size_t alen = nul ? size - nlen - 1 : strlen(addr);
	rc = imperson_check(user_set, p, nlen, addr, alen, &ir);
	CHECK(rc == 0 || rc == 1);
	check_text(ir.reason, sizeof ir.reason);
	if (rc == 1)
		CHECK(ir.via != IMPERSON_NONE && strchr(ir.user, '@') != NULL &&
		      ir.reason[0] != '\0');
	else
		CHECK(ir.via == IMPERSON_NONE && ir.reason[0] == '\0');
	return 0;
}
