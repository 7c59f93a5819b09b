/* rules_auth.c - SPF, DKIM and DMARC results (facts.h) as symbols.
 * Passes count a little against spam, never much: spammers' own domains
 * pass too. A result that is unknown (NULL) or temporary adds nothing. */
#include "filter/rules_private.h"

#include <string.h>

static bool is(const char *v, const char *word)
{
	return v != NULL && strcmp(v, word) == 0;
}

static void spf(struct rules_ctx *c)
{
	const char *r = c->facts->spf;
	const char *d = c->facts->spf_domain ? c->facts->spf_domain : "";

	if (is(r, "fail"))
		RULES_ADD(c, "SPF_FAIL", "%s", d);
	else if (is(r, "softfail"))
		RULES_ADD(c, "SPF_SOFTFAIL", "%s", d);
	else if (is(r, "none"))
		RULES_ADD(c, "SPF_NONE", "%s", d);
	else if (is(r, "permerror"))
		RULES_ADD(c, "SPF_PERMERROR", "%s", d);
	else if (is(r, "pass"))
		RULES_ADD(c, "SPF_PASS", "%s", d);
}

static void dkim(struct rules_ctx *c)
{
	const char *r = c->facts->dkim;

	if (c->facts->n_dkim_pass > 0 && c->facts->dkim_pass_domains != NULL)
		RULES_ADD(c, "DKIM_PASS", "d=%s",
			  c->facts->dkim_pass_domains[0]);
	else if (is(r, "pass"))
		RULES_ADD(c, "DKIM_PASS", NULL);
	else if (is(r, "fail"))
		RULES_ADD(c, "DKIM_FAIL", NULL);
	else if (is(r, "permerror"))
		filter_sym_add(c->out, c->w, "DKIM_FAIL", 0.5, "permerror");
	else if (is(r, "none"))
		RULES_ADD(c, "DKIM_NONE", NULL);
}

static void dmarc(struct rules_ctx *c)
{
	const char *r = c->facts->dmarc, *p = c->facts->dmarc_policy;
	const char *d = c->facts->from_domain ? c->facts->from_domain :
						c->from_domain;

	if (is(r, "pass"))
		RULES_ADD(c, "DMARC_PASS", "%s", d);
	else if (is(r, "fail") && is(p, "reject"))
		RULES_ADD(c, "DMARC_REJECT", "%s p=reject", d);
	else if (is(r, "fail") && is(p, "quarantine"))
		RULES_ADD(c, "DMARC_QUARANTINE", "%s p=quarantine", d);
	else if (is(r, "fail"))
		RULES_ADD(c, "DMARC_FAIL", "%s p=%s", d, p ? p : "none");
}

void rules_auth(struct rules_ctx *c)
{
	spf(c);
	dkim(c);
	dmarc(c);
}
